"""Load on `rnn-apps serve`: batched requests against one model call per request.

    python bench/serve_load.py                                   # sentiment and stocks, 16 clients, 20 s each
    python bench/serve_load.py --recipes sentiment --clients 8 --seconds 5
    python bench/serve_load.py --model sentiment=runs/sentiment/models/gru.keras

For each recipe the server runs in a subprocess on loopback
(``python -m rnn_apps.harness.cli serve RECIPE --model PATH --port 0``),
twice:

- ``batched``: the default queue and worker, which answers every request
  waiting together with one model call (``--max-batch`` inputs at most,
  ``--max-wait-ms`` after the first);
- ``naive``: ``--max-batch 1 --max-wait-ms 0``, so each request is one
  model call of its own, as a server without batching would make.

``--clients`` clients (httpx, asyncio, one process) each post one input per
request, wait for the answer and post the next, for ``--warmup`` seconds
(discarded) and then ``--seconds`` seconds. The table holds the latency
p50/p99 of the timed requests, requests per second, the errors (any
answer other than 200, or no answer), the server's resident memory
(``VmRSS`` of ``/proc/PID/status``) before the warm-up and after the load,
and the server's mean inputs per model call (from ``GET /health``).

Without ``--model``, each recipe first trains its default GRU for one epoch
on its bundled sample (the architecture and sizes of the recipe's
defaults: what a model costs to call does not depend on how well it was
trained). The inputs are the bundled sample's texts (sentiment) or price
windows (stocks), cycled. Clients and server share this machine's CPUs.
Writes ``bench/results/serve_load.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import os
import pathlib
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

MODES = {"batched": [], "naive": ["--max-batch", "1", "--max-wait-ms", "0"]}


def sample_inputs(recipe: str, report: dict) -> list:
    """Raw inputs from the recipe's bundled sample: texts, or price windows of the model's length."""
    if recipe == "sentiment":
        with open(ROOT / "data" / "sentiment" / "amazon_review_snippets.csv", newline="", encoding="utf-8") as file:
            return [row["text"] for row in csv.DictReader(file) if row["text"].strip()][:512]
    if recipe == "stocks":
        window = report["config"]["window"]
        series: dict[str, list[float]] = {}
        with open(ROOT / "data" / "stocks" / "vega_stocks.csv", newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                series.setdefault(row["symbol"], []).append(float(row["price"]))
        return [
            prices[start : start + window]
            for prices in series.values()
            for start in range(0, len(prices) - window + 1, 3)
        ][:512]
    raise SystemExit(f"serve_load: no sample inputs for recipe {recipe!r} (sentiment, stocks)")


def trained_model(recipe: str, folder: pathlib.Path) -> tuple[pathlib.Path, dict]:
    """The recipe's default GRU trained one epoch on its bundled sample; its path and report."""
    from bench import harness

    output = folder / recipe
    with open(folder / f"{recipe}.log", "w") as log:
        report = harness.run_recipe(recipe, ["--model", "gru", "--epochs", "1", "--seed", "0"], output, log)
    return output / "models" / "gru.keras", report


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB, from ``/proc/PID/status``."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def start_server(recipe: str, model: pathlib.Path, flags: list[str], log) -> tuple[subprocess.Popen, str]:
    """``rnn-apps serve`` in a subprocess on a free loopback port; the process and its base URL once ready."""
    command = [sys.executable, "-m", "rnn_apps.harness.cli", "serve", recipe, "--model", str(model), "--port", "0"]
    process = subprocess.Popen([*command, *flags], cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    for line in process.stdout:  # the server names its address once the model is loaded
        if " on http://" in line:
            return process, line.split(" on ", 1)[1].split()[0]
    process.wait()
    raise RuntimeError(f"the server stopped with status {process.returncode} before listening; see {log.name}")


async def load(url: str, inputs: list, clients: int, warmup: float, seconds: float) -> dict:
    """``clients`` clients posting one input per request; latencies of the timed part, errors, counts."""
    import httpx

    stream = itertools.cycle(inputs)
    latencies: list[float] = []
    errors = {"count": 0}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one_client(until: float, record: bool):
            while time.perf_counter() < until:
                start = time.perf_counter()
                try:
                    response = await client.post("/predict", json={"inputs": [next(stream)]})
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if record and ok:
                    latencies.append(time.perf_counter() - start)
                elif record:
                    errors["count"] += 1

        await asyncio.gather(*(one_client(time.perf_counter() + warmup, False) for _ in range(clients)))
        begin = time.perf_counter()
        await asyncio.gather(*(one_client(begin + seconds, True) for _ in range(clients)))
        elapsed = time.perf_counter() - begin
        health = (await client.get("/health")).json()
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": errors["count"],
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 1) if ordered else None,
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1) if ordered else None,
        "mean_ms": round(1000 * statistics.fmean(ordered), 1) if ordered else None,
        "server_batches": health["batches"],
        "server_requests": health["requests"],
        "inputs_per_call": round(health["inputs"] / max(health["batches"], 1), 2),
    }


def measure(recipe: str, model: pathlib.Path, inputs: list, args, log) -> list[dict]:
    """Both modes of one recipe, each on a fresh server process."""
    rows = []
    for mode, flags in MODES.items():
        if mode == "batched":
            flags = ["--max-batch", str(args.max_batch), "--max-wait-ms", str(args.max_wait_ms)]
        process, url = start_server(recipe, model, flags, log)
        try:
            rss_start = rss_mib(process.pid)
            row = asyncio.run(load(url, inputs, args.clients, args.warmup, args.seconds))
            row |= {"recipe": recipe, "mode": mode, "flags": flags, "rss_start_mib": rss_start}
            row["rss_end_mib"] = rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
        print(
            f"{recipe} {mode}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, {row['requests_per_second']} req/s, "
            f"{row['errors']} errors, RSS {row['rss_start_mib']} -> {row['rss_end_mib']} MiB, "
            f"{row['inputs_per_call']} inputs per call",
            flush=True,
        )
        rows.append(row)
    return rows


def markdown(result: dict) -> str:
    from bench import harness

    lines = [
        "# Serving under load: batched against one model call per request",
        "",
        f"`rnn-apps serve` on loopback, {result['clients']} concurrent clients (httpx, asyncio), each posting one "
        f"input per request and waiting for the answer; {result['warmup']} s of warm-up, then {result['seconds']} s "
        f"timed. **batched**: the server's queue and worker, up to {result['max_batch']} inputs per model call, "
        f"waiting at most {result['max_wait_ms']} ms after a batch's first request. **naive**: `--max-batch 1 "
        "--max-wait-ms 0`, one model call per request. Each mode runs on a fresh server process; RSS is the "
        "server's resident memory before the warm-up and after the load. Errors: answers other than 200, or none. "
        "Models: " + "; ".join(f"{recipe}: {origin}" for recipe, origin in result["models"].items()) + ".",
        "",
        "| recipe | server | p50 ms | p99 ms | requests/s | errors | RSS start / end MiB | inputs per model call |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['recipe']} | {row['mode']} | {row['p50_ms']} | {row['p99_ms']} | {row['requests_per_second']} | "
            f"{row['errors']} | {row['rss_start_mib']} / {row['rss_end_mib']} | {row['inputs_per_call']} |"
        )
    by_key = {(row["recipe"], row["mode"]): row for row in result["rows"]}
    ratios = []
    for recipe in result["recipes"]:
        batched, naive = by_key[(recipe, "batched")], by_key[(recipe, "naive")]
        if naive["requests_per_second"] and naive["p99_ms"]:
            ratios.append(
                f"{recipe}: batched serves {batched['requests_per_second'] / naive['requests_per_second']:.1f}x the "
                f"requests per second of naive, at {batched['p99_ms'] / naive['p99_ms']:.2f}x its p99 latency"
            )
    if ratios:
        lines += ["", "From this one run: " + "; ".join(ratios) + "."]
    return "\n".join(lines + harness.footer(result["machine"], result["command"], result.get("note", "")))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python bench/serve_load.py", description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", type=lambda text: text.split(","), default=["sentiment", "stocks"])
    parser.add_argument("--model", action="append", default=[], metavar="RECIPE=PATH", help="a trained model to use")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="timed load per server")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed load before it")
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--results-dir", type=pathlib.Path, default=ROOT / "bench" / "results")
    parser.add_argument("--note", default="", help="a sentence for the results file (load on the machine)")
    args = parser.parse_args(argv)
    from bench import harness

    given = dict(item.split("=", 1) for item in args.model)
    rows, models = [], {}
    with tempfile.TemporaryDirectory(prefix="serve_load_") as folder:
        folder = pathlib.Path(folder)
        with open(folder / "servers.log", "w") as log:
            for recipe in args.recipes:
                if recipe in given:
                    model = pathlib.Path(given[recipe]).resolve()
                    report = {"config": {"window": _window_of(model)}} if recipe == "stocks" else {}
                    models[recipe] = f"the model given with --model ({model.name})"
                else:
                    print(f"training {recipe}'s default GRU for one epoch on the bundled sample", flush=True)
                    model, report = trained_model(recipe, folder)
                    models[recipe] = f"the recipe's default GRU ({report['models']['gru']['params']:,} parameters), "
                    models[recipe] += "trained one epoch on its bundled sample"
                rows += measure(recipe, model, sample_inputs(recipe, report), args, log)
    result = {
        "recipes": args.recipes,
        "clients": args.clients,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "max_batch": args.max_batch,
        "max_wait_ms": args.max_wait_ms,
        "models": models,
        "rows": rows,
        "machine": harness.machine(),
        "command": shlex.join(["python", "bench/serve_load.py", *(argv if argv is not None else sys.argv[1:])]),
        "note": args.note,
        "load_average": os.getloadavg()[0],
    }
    return harness.publish(args.results_dir, "serve_load", result, markdown(result))


def _window_of(model: pathlib.Path) -> int:
    """The window of a saved stocks model, from its run's ``metrics.json`` two folders up."""
    import json

    return json.loads((model.parent.parent / "metrics.json").read_text())["config"]["window"]


if __name__ == "__main__":
    main()
