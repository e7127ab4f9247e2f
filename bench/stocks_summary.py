"""Summarize the stocks benchmark runs into Markdown tables (mean and spread over seeds).

Usage: python bench/stocks_summary.py OUT_DIR   (the folder given to bench/stocks_benchmarks.sh)
"""

import json
import pathlib
import statistics
import sys


def load(folder: pathlib.Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*/metrics.json"))]


def spread(values) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def movement_table(reports: list[dict]) -> str:
    names = list(reports[0]["models"])
    seeds = [r["seed"] for r in reports]
    lines = [
        f"Seeds: {', '.join(str(seed) for seed in seeds)} (mean ± sample standard deviation).",
        "",
        "| model | accuracy | MCC | majority rate | predicted up | params | best epoch per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        rows = [r["models"][name] for r in reports]
        metric = {key: [row["metrics"][key] for row in rows] for key in ("accuracy", "mcc", "majority_rate")}
        up = [row["metrics"]["predicted_up"] for row in rows]
        epochs = [row.get("best_epoch") for row in rows]
        shown = ", ".join(str(e) for e in epochs) if epochs[0] is not None else "n/a"
        lines.append(
            f"| {name} | {spread(metric['accuracy'])} | {spread(metric['mcc'])} | {metric['majority_rate'][0]:.4f} "
            f"| {spread(up)} | {rows[0]['params']:,} | {shown} |"
        )
    lines += ["", "Per seed, accuracy / MCC:", "", "| model | " + " | ".join(f"seed {s}" for s in seeds) + " |"]
    lines.append("|---|" + "---|" * len(seeds))
    for name in names:
        cells = [
            f"{r['models'][name]['metrics']['accuracy']:.4f} / {r['models'][name]['metrics']['mcc']:+.4f}"
            for r in reports
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Samples: {reports[0]['sizes']}."]
    return "\n".join(lines)


def forecast_table(reports: list[dict]) -> str:
    horizons = sorted({r["config"]["horizon"] for r in reports})
    by_horizon = {h: [r for r in reports if r["config"]["horizon"] == h] for h in horizons}
    seeds = sorted({r["seed"] for r in reports})
    names = list(reports[0]["models"])
    out = [f"Seeds: {', '.join(map(str, seeds))} (mean ± sample standard deviation where more than one).", ""]
    for metric in ("rse", "corr", "mase", "directional_accuracy"):
        out += [f"**{metric}**", "", "| model | " + " | ".join(f"h={h}" for h in horizons) + " |"]
        out.append("|---|" + "---|" * len(horizons))
        for name in names:
            cells = []
            for h in horizons:
                values = [r["models"][name]["metrics"].get(metric) for r in by_horizon[h]]
                cells.append("n/a" if any(v is None for v in values) else spread(values))
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["Training seconds (mean over seeds) and best epochs:", ""]
    out.append("| model | " + " | ".join(f"h={h}" for h in horizons) + " |")
    out.append("|---|" + "---|" * len(horizons))
    for name in names:
        cells = []
        for h in horizons:
            rows = [r["models"][name] for r in by_horizon[h]]
            seconds = statistics.mean(row["train_seconds"] for row in rows)
            best = ",".join(str(row.get("best_epoch")) for row in rows) if rows[0].get("best_epoch") else "n/a"
            cells.append(f"{seconds:.0f} s / {best}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += ["", f"Samples at h={horizons[0]}: {by_horizon[horizons[0]][0]['sizes']}."]
    return "\n".join(out)


def main(argv=None):
    root = pathlib.Path((argv or sys.argv[1:])[0])
    if (root / "acl18").is_dir():
        print("## ACL18 movement\n\n" + movement_table(load(root / "acl18")) + "\n")
    for folder in ("exchange_rate", "exchange_rate_price"):
        reports = load(root / folder) if (root / folder).is_dir() else []
        if reports:
            print(f"## {folder}\n\n" + forecast_table(reports) + "\n")


if __name__ == "__main__":
    main()
