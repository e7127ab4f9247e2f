"""Run a recipe several times on real data and aggregate the runs.

Every run is a separate process (``python -m recipes.<name> ...``), so runs do
not share graph state or memory, and the command of each is exactly what a
user would type. The aggregate holds, per model and metric, the mean, the
sample standard deviation and every run's value.
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def machine() -> dict:
    """CPU model, core and thread counts, and library versions of this machine."""
    model = platform.processor() or "unknown"
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    info = {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for module in ("tensorflow", "keras", "numpy"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    return info


def run_recipe(recipe: str, argv: list[str], output_dir: pathlib.Path, log) -> dict:
    """Run one recipe in a subprocess and return its ``metrics.json``."""
    command = [sys.executable, "-m", f"recipes.{recipe}", *argv, "--output-dir", str(output_dir), "--verbose", "0"]
    print("+", " ".join(command[1:]), flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f"run failed with status {result.returncode}: {' '.join(command)}")
    print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    return json.loads((output_dir / "metrics.json").read_text())


def aggregate(reports: list[dict], labels: list[str]) -> dict:
    """Per model: mean, standard deviation and per-run values of every metric.

    Args:
        reports: the ``metrics.json`` of each run.
        labels: a name for each run (``seed 1``, ``fold 3``).

    Returns:
        ``{model: {"metrics": {name: {"mean", "std", "values"}}, "params", ...}}``.

    Examples:
        >>> runs = [{"models": {"m": {"metrics": {"accuracy": a}, "params": 3, "train_seconds": 2.0,
        ...          "epochs": 2, "predict_ms_per_sample": 0.5, "fast_kernel": True}}} for a in (0.5, 0.7)]
        >>> summary = aggregate(runs, ["seed 1", "seed 2"])["m"]
        >>> summary["metrics"]["accuracy"]["mean"], summary["train_seconds_per_epoch"]["mean"]
        (0.6, 1.0)
    """
    models = {}
    for name in reports[0]["models"]:
        entries = [report["models"][name] for report in reports]
        metrics = {}
        for metric in entries[0]["metrics"]:
            # A metric can be undefined for a model (a naive forecast has no
            # direction to score): such runs are left out of its summary.
            pairs = [
                (label, float(entry["metrics"][metric]))
                for label, entry in zip(labels, entries)
                if entry["metrics"].get(metric) is not None
            ]
            if pairs:
                metrics[metric] = _summary([value for _, value in pairs], [label for label, _ in pairs])
        per_epoch = [entry["train_seconds"] / entry["epochs"] for entry in entries if entry.get("epochs")]
        models[name] = {
            "metrics": metrics,
            "params": entries[0]["params"],
            "train_seconds": _summary([float(entry["train_seconds"]) for entry in entries], labels),
            "train_seconds_per_epoch": _summary(per_epoch, labels) if per_epoch else None,
            "epochs": [entry.get("epochs") for entry in entries],
            "predict_ms_per_sample": _summary([float(entry["predict_ms_per_sample"]) for entry in entries], labels),
            "fast_kernel": entries[0]["fast_kernel"],
        }
    return models


def _summary(values: list[float], labels: list[str]) -> dict:
    return {
        "mean": round(statistics.fmean(values), 6),
        "std": round(statistics.stdev(values), 6) if len(values) > 1 else 0.0,
        "values": dict(zip(labels, [round(v, 6) for v in values])),
    }


def markdown(result: dict) -> str:
    """The results file: protocol, our table, the published numbers, the command."""
    metrics = result["metrics"]
    models = result["models"]
    from rnn_apps.harness import compare

    primary = metrics[0]
    sign = 1 if compare.higher_is_better(primary) else -1

    def rank(name):
        summary = models[name]["metrics"].get(primary)
        return -sign * summary["mean"] if summary else float("inf")

    order = sorted(models, key=rank)
    runs = result["runs"]
    lines = [
        f"# {result['key']}",
        "",
        f"{result['recipe']} recipe on `{result['data']}`, {len(runs)} runs ({', '.join(runs)}).",
        "",
    ]
    if result.get("protocol"):
        lines += [result["protocol"], ""]
    header = ["model", *[f"{m} (mean ± sd)" for m in metrics], "params", "train s/epoch", "ms/sample", "fast kernel"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in order:
        entry = models[name]
        cells = [name]
        for metric in metrics:
            summary = entry["metrics"].get(metric)
            cells.append(f"{summary['mean']:.4f} ± {summary['std']:.4f}" if summary else "n/a")
        per_epoch = entry["train_seconds_per_epoch"]
        cells += [
            f"{entry['params']:,}",
            f"{per_epoch['mean']:.1f}" if per_epoch else "n/a",
            f"{entry['predict_ms_per_sample']['mean']:.3f}",
            {True: "yes", False: "no", None: "n/a"}[entry["fast_kernel"]],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if result.get("published"):
        lines += ["", "Published, for comparison:", "", "| system | result | note |", "|---|---|---|"]
        lines += [f"| {system} | {value} | {note} |" for system, value, note in result["published"]]
    info = result["machine"]
    lines += [
        *footer(info, result["command"], "Timings are wall-clock on this machine."),
    ]
    return "\n".join(lines)


def command_line() -> str:
    """This process's ``python -m bench ...`` command, quoted as a shell would need it."""
    import shlex

    return "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def publish(results_dir: pathlib.Path, key: str, result: dict, text: str) -> dict:
    """Write ``<key>.json`` and the markdown ``<key>.md`` under ``results_dir``, print the markdown."""
    results_dir = pathlib.Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{key}.json").write_text(json.dumps(result, indent=2) + "\n")
    (results_dir / f"{key}.md").write_text(text)
    print(text)
    return result


def footer(info: dict, command: str, note: str = "") -> list[str]:
    """The closing lines of a results file: the machine, then the command that made it."""
    machine = (
        f"Machine: {info['cpu']}, {info['usable_cpus']} usable CPUs; Python {info.get('python', '?')}, "
        f"TensorFlow {info['tensorflow']}, Keras {info['keras']}. {note}"
    )
    return ["", machine.rstrip(), "", "Command:", "", f"    {command}", ""]
