"""Summarize NATOPS benchmark runs of the video recipe: mean and spread over seeds.

Each run folder holds the ``metrics.json`` of one
``python -m recipes.video --input joints --data .../natops --seed N`` run.

    python bench/video_natops_summary.py /tmp/natops_bench/seed1 /tmp/natops_bench/seed2 /tmp/natops_bench/seed3
"""

import json
import pathlib
import statistics
import sys


def summarize(folders) -> str:
    reports = [json.loads((pathlib.Path(folder) / "metrics.json").read_text()) for folder in folders]
    names = list(reports[0]["models"])
    rows = []
    for name in names:
        entries = [report["models"][name] for report in reports]
        accuracy = [entry["metrics"]["accuracy"] for entry in entries]
        f1 = [entry["metrics"]["f1"] for entry in entries]
        seconds = statistics.median(entry["train_seconds"] for entry in entries)
        milliseconds = statistics.median(entry["predict_ms_per_sample"] for entry in entries)
        spread = statistics.stdev(accuracy) if len(accuracy) > 1 else 0.0
        rows.append(
            (
                statistics.mean(accuracy),
                f"| {name} | {statistics.mean(accuracy):.4f} ± {spread:.4f} | "
                + " / ".join(f"{value:.4f}" for value in accuracy)
                + f" | {statistics.mean(f1):.4f} | {entries[0]['params']:,} | {seconds:.1f} | {milliseconds:.3f} | "
                + {True: "yes", False: "no", None: "n/a"}[entries[0]["fast_kernel"]]
                + " |",
            )
        )
    header = [
        "| model | accuracy, mean ± sd | per seed | macro F1, mean | params | train s (median) "
        "| ms/sample (median) | fast kernel |",
        "|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + [row for _, row in sorted(rows, key=lambda pair: -pair[0])])


if __name__ == "__main__":
    print(summarize(sys.argv[1:]))
