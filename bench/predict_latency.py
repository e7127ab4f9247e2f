"""Which call to make for one request: ``model.predict`` against ``predict_on_batch`` and calling the model.

    python bench/predict_latency.py                         # trains a quick sentiment LSTM, 300 + 2,000 calls
    python bench/predict_latency.py --model runs/sentiment/models/lstm.keras --calls 100 --memory-calls 500

One raw text per call through the saved sentiment model, three ways:
``model.predict(x, verbose=0)`` (builds a dataset, a progress logger and a
callback list on every call), ``model.predict_on_batch(x)`` (one compiled
step) and ``model(x, training=False)`` (eager). Each way runs in a fresh
process that loads the model, makes 20 untimed warm-up calls, times
``--calls`` calls (median and p95 milliseconds), then reads the resident
memory before and after ``--memory-calls`` more. Writes
``bench/results/predict_latency.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shlex
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

CALLS = {
    "model.predict(x, verbose=0)": lambda model, x: model.predict(x, verbose=0),
    "model.predict_on_batch(x)": lambda model, x: model.predict_on_batch(x),
    "model(x, training=False)": lambda model, x: model(x, training=False),
}
DIRECT = "model(x, training=False)"


def _resident_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def measure(model_path: str, way: str, calls: int, memory_calls: int) -> dict:
    """Time one way of calling the model on one raw text, in this process (a fresh one, see `main`)."""
    import numpy as np

    from bench import latency
    from rnn_apps import backend
    from rnn_apps.harness import runtime

    runtime.configure()
    model = backend.load_text_model(model_path)
    x = np.array([latency.SENTENCE], dtype=object)
    call = CALLS[way]
    timing = latency.percentiles(lambda: call(model, x), calls, warm_up=20)
    before = _resident_mb()
    for _ in range(memory_calls):
        call(model, x)
    return timing | {"rss_before_mb": before, "rss_after_mb": _resident_mb(), "memory_calls": memory_calls}


def markdown(result: dict) -> str:
    from bench import harness

    fastest = min(entry["p50_ms"] for entry in result["ways"].values())
    lines = [
        "# One request at a time: which call",
        "",
        f"One raw text per call through the sentiment `{result['model']}` saved model (`--quick`), after loading "
        f"it once. Each way runs in a fresh process: 20 warm-up calls, then {result['calls']} timed calls "
        "(median, p95), then the resident memory before and after more calls (the eager call, far slower, "
        "fewer).",
        "",
        "| call | timed calls | median ms | p95 ms | x the fastest | memory growth (calls) |",
        "|---|---|---|---|---|---|",
    ]
    for way, entry in result["ways"].items():
        growth = entry["rss_after_mb"] - entry["rss_before_mb"]
        lines.append(
            f"| `{way}` | {entry['calls']} | {entry['p50_ms']:.2f} | {entry['p95_ms']:.2f} | "
            f"{entry['p50_ms'] / fastest:.1f} | {growth:+.1f} MB ({entry['rss_before_mb']:.0f} -> "
            f"{entry['rss_after_mb']:.0f} MB over {entry['memory_calls']:,}) |"
        )
    return "\n".join(lines + harness.footer(result["machine"], result["command"], result.get("note", "")))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python bench/predict_latency.py", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved sentiment .keras model (default: train a quick LSTM)")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per way")
    parser.add_argument("--memory-calls", type=int, default=2000, help="calls between the two memory readings")
    parser.add_argument("--direct-calls", type=int, default=50, help="timed and memory calls of the eager call (slow)")
    parser.add_argument("--results-dir", type=pathlib.Path, default=ROOT / "bench" / "results")
    parser.add_argument("--note", default="", help="a sentence for the results file (load on the machine)")
    parser.add_argument("--one", choices=list(CALLS), help=argparse.SUPPRESS)  # the child process's way
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.model, args.one, args.calls, args.memory_calls)))
        return {}
    from bench import harness, latency

    with tempfile.TemporaryDirectory(prefix="bench-predict-latency-") as scratch:
        model = args.model
        if model is None:
            report = latency._quick_run("sentiment", pathlib.Path(scratch), "--model", "lstm")
            model = str(latency._saved_models(pathlib.Path(scratch), report)["lstm"])
        ways = {}
        for way in CALLS:
            calls, memory_calls = (args.direct_calls,) * 2 if way == DIRECT else (args.calls, args.memory_calls)
            child = [sys.executable, __file__, "--model", model, "--one", way]
            child += ["--calls", str(calls), "--memory-calls", str(memory_calls)]
            output = subprocess.run(child, cwd=ROOT, check=True, capture_output=True, text=True).stdout
            ways[way] = json.loads(output.strip().splitlines()[-1])
    result = {
        "model": pathlib.Path(model).stem,
        "calls": args.calls,
        "memory_calls": args.memory_calls,
        "ways": ways,
        "machine": harness.machine(),
        "command": shlex.join(["python", "bench/predict_latency.py", *(argv if argv is not None else sys.argv[1:])]),
        "note": args.note,
    }
    return harness.publish(args.results_dir, "predict_latency", result, markdown(result))


if __name__ == "__main__":
    main()
