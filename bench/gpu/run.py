"""GPU benchmark of the backends: Keras on JAX and on PyTorch against plain PyTorch cuDNN, within a time budget.

    python -m bench.gpu.run                      # on a machine with one NVIDIA GPU (see bench/gpu/README.md)
    python -m bench.gpu.run --size tiny --budget-seconds 120 --output-dir /tmp/gpu   # CPU smoke test

For the sentiment model (IMDB-sized: batch 256, 200 steps, 128 units,
embedding 128) and the speech keyword model (98 log-mel frames of 40 bins,
128 units), each on synthetic in-memory arrays, it measures training
samples/s of SimpleRNN, LSTM, GRU and the CNN on Keras's JAX and PyTorch
backends, each recurrent model also without its padding mask (``_nomask``:
the only way JAX reaches cuDNN; PyTorch reaches it either way through
`rnn_apps.layers.torch_kernels`), a plain PyTorch ``nn.LSTM`` / ``nn.GRU`` of the
same sizes as the peer, whether the fused kernel ran
(``fused_kernel_calls``: traced calls of ``jax.experimental.rnn.lstm`` on
JAX, executed fused calls on PyTorch), and the recurrent TFLOP/s achieved
against the card's peak. It needs no TensorFlow and no network; models
that do not start before the budget runs out are listed as skipped.

Results: ``bench/results/gpu-<card>.json`` and ``.md`` (and a copy under
``$OUT`` when that is set, so a remote run's files come back).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import sys
import time

from bench import backends

# Dense peak TFLOP/s from NVIDIA's data sheets (no sparsity): FP32 on CUDA
# cores, TF32 on tensor cores (what cuDNN and XLA use for float32 matrix work
# by default on these cards).
PEAKS = {
    "H100 PCIe": {"fp32": 51.2, "tf32": 378.0},
    "H100": {"fp32": 66.9, "tf32": 494.7},  # SXM
    "H200": {"fp32": 66.9, "tf32": 494.7},
    "A100": {"fp32": 19.5, "tf32": 156.0},
}
KERAS_MODELS = "lstm,lstm_nomask,gru,gru_nomask,simple_rnn,cnn"


def peak_of(card: str | None) -> dict | None:
    """Peak TFLOP/s of a card by its name, most specific match first.

    Examples:
        >>> peak_of("NVIDIA H100 80GB HBM3")["tf32"]
        494.7
        >>> peak_of("NVIDIA H100 PCIe")["fp32"]
        51.2
    """
    for name, peak in PEAKS.items():
        if card and all(word in card for word in name.split()):
            return peak
    return None


def gpu_name() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        return None


def plan(
    size: str, batches: int, repeats: int, models: str = KERAS_MODELS, tasks=("sentiment", "speech")
) -> list[tuple[str, list[str]]]:
    """The worker runs, most important first (the budget may end the list early)."""
    common = ["--size", size, "--batches", str(batches), "--repeats", str(repeats)]
    cuda = ["--device", "cuda"] if gpu_name() else []
    runs = [("pytorch", ["--tasks", ",".join(tasks), "--models", "lstm,gru", *common, *cuda])]
    for task in tasks:
        runs += [(backend, ["--tasks", task, "--models", models, *common]) for backend in ("jax", "torch")]
    # Speed work: several steps per compiled call (fewer host round trips).
    runs.append(("jax", ["--tasks", tasks[0], "--models", "lstm_nomask", "--steps-per-execution", "8", *common]))
    return runs


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu.run", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(backends.SIZES), default="full")
    parser.add_argument("--batches", type=int, default=20, help="batches per timed epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs; the median is reported")
    parser.add_argument("--budget-seconds", type=float, default=540.0, help="no model starts after this")
    parser.add_argument("--models", default=KERAS_MODELS, help="Keras models to time (the peer: lstm, gru)")
    parser.add_argument("--tasks", default="sentiment,speech", help="sentiment, speech or both")
    parser.add_argument("--output-dir", default=str(backends.RESULTS))
    args = parser.parse_args(argv)
    start = time.time()
    deadline = start + args.budget_seconds
    results = []
    for backend, worker_args in plan(args.size, args.batches, args.repeats, args.models, args.tasks.split(",")):
        left = deadline - time.time()
        if left <= 0:
            results.append({"framework": backend, "worker": worker_args, "skipped": "time budget"})
            continue
        print(f"[{time.time() - start:5.0f} s] {backend} {' '.join(worker_args)}", flush=True)
        # A worker may finish the model it started after the deadline; the grace covers that.
        results += backends.run_worker(backend, [*worker_args, "--deadline", str(deadline)], timeout=left + 120)
    card = gpu_name()
    peak = peak_of(card)
    for row in results:
        if peak and "recurrent_tflops" in row:
            row["fraction_of_tf32_peak"] = round(row["recurrent_tflops"] / peak["tf32"], 5)
            row["fraction_of_fp32_peak"] = round(row["recurrent_tflops"] / peak["fp32"], 5)
    report = {
        "benchmark": f"gpu-{slug(card)}",
        "baseline": "pytorch",
        "command": "python -m bench.gpu.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "size": backends.SIZES[args.size],
        "batches_per_epoch": args.batches,
        "repeats": args.repeats,
        "device": backends.device_info() | {"gpu": card, "peak_tflops": peak},
        "seconds": round(time.time() - start, 1),
        "results": results,
        "ratios": ratios(results),
    }
    path = pathlib.Path(args.output_dir) / f"{report['benchmark']}.json"
    backends.write_results(report, path)
    if os.environ.get("OUT"):
        for suffix in (".json", ".md"):
            shutil.copy(path.with_suffix(suffix), pathlib.Path(os.environ["OUT"]) / path.with_suffix(suffix).name)
    print(backends.markdown(report))
    print(json.dumps(report["ratios"], indent=2))
    return report


def slug(card: str | None) -> str:
    """File-name form of a card's name (``cpu`` without one).

    Examples:
        >>> slug("NVIDIA H100 80GB HBM3")
        'h100-80gb-hbm3'
    """
    if not card:
        return "cpu"
    return re.sub(r"[^a-z0-9]+", "-", card.lower().replace("nvidia", "")).strip("-")


def ratios(results: list[dict]) -> dict:
    """Keras-on-JAX / Keras-on-PyTorch samples/s over the PyTorch peer's, per task and cell (the issue's goal)."""
    rate = {}
    for r in results:
        if "samples_per_second" in r:
            every = r.get("steps_per_execution", 1)
            rate[(r["framework"], r["task"], r["model"], every)] = r["samples_per_second"]
    found = {}
    for (framework, task, model, every), value in rate.items():
        peer = rate.get(("pytorch", task, model.removesuffix("_nomask"), 1))
        if framework != "pytorch" and peer:
            found[f"{task}/{model}/{framework}" + (f"/steps_per_execution={every}" if every > 1 else "")] = round(
                value / peer, 3
            )
    return found


if __name__ == "__main__":
    main()
