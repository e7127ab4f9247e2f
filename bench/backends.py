"""Training speed of the same models on the three Keras backends, and a plain PyTorch peer.

    python -m bench.backends cpu                       # sentiment LSTM on tensorflow, jax, torch; median of 3
    python -m bench.backends worker --backend jax ...  # one backend in this process (used by the above and bench/gpu)

Every measurement runs in its own process, because Keras reads
``KERAS_BACKEND`` once, at import. Data is synthetic and already in memory
(token ids right-padded with 0 to lengths drawn uniformly between a tenth
of the steps and all of them, or log-mel-sized frames), so what is timed is the model's
training step, not a data pipeline. A measurement is one ``fit`` epoch of
``steps`` batches after a warm-up epoch (which compiles); samples per second
is ``steps * batch_size / seconds``; the reported figure is the median of
``repeats`` epochs.

The models are the recipes' own: `rnn_apps.tasks.classifiers.sequence_classifier`
(sentiment: embedding with ``mask_zero`` for recurrent encoders, so padding
is skipped) and `rnn_apps.tasks.acoustic.waveform_classifier` on frames (speech:
``Masking`` for recurrent encoders). The ``_nomask`` variants build the same
layers without the mask: JAX and PyTorch take their fused cuDNN path only
then (`rnn_apps.layers.recurrent.kernel_report`); the price is that padding steps
are read as input, so inputs should be left-padded or of equal length.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
REPO = pathlib.Path(__file__).resolve().parent.parent

SIZES = {
    # The IMDB-sized LSTM: batch 256, 200 steps, 128 units, embedding 128.
    "full": dict(batch_size=256, steps=200, units=128, embedding_dim=128, vocabulary=20000, frames=98, mel_bins=40),
    # One CPU-sized setting: the same shapes, a smaller batch.
    "cpu": dict(batch_size=64, steps=200, units=128, embedding_dim=128, vocabulary=20000, frames=98, mel_bins=40),
    "tiny": dict(batch_size=8, steps=12, units=8, embedding_dim=8, vocabulary=50, frames=10, mel_bins=5),
}
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def recurrent_flops(cell: str, input_dim: int, units: int, steps: int) -> float:
    """Floating-point operations of one training sample through one recurrent layer.

    The forward pass multiplies ``[x_t, h_t]`` by the gate matrices at every
    step (``2 * gates * units * (input_dim + units)`` per step); the backward
    pass costs about twice that. Elementwise work is ignored.

    Examples:
        >>> recurrent_flops("lstm", 128, 128, 200) / 1e6
        157.2864
    """
    return 3 * steps * 2 * GATES[cell] * units * (input_dim + units)


def _synthetic(task: str, size: dict, count: int, seed: int = 0):
    import numpy as np

    random = np.random.default_rng(seed)
    if task == "sentiment":
        x = random.integers(1, size["vocabulary"], size=(count, size["steps"])).astype("int32")
        # Right padding, as a recipe's batches have: lengths from a tenth of the steps to all of them.
        lengths = random.integers(max(1, size["steps"] // 10), size["steps"] + 1, size=count)
        x[np.arange(size["steps"])[None, :] >= lengths[:, None]] = 0
        y = random.integers(0, 2, size=(count,)).astype("int32")
    else:
        x = random.normal(size=(count, size["frames"], size["mel_bins"])).astype("float32")
        y = random.integers(0, 10, size=(count,)).astype("int32")
    return x, y


def build_keras(task: str, model: str, size: dict):
    """The recipe's model for ``task`` (``sentiment`` or ``speech``); ``*_nomask`` drops the mask."""
    import keras

    from rnn_apps.layers import encoders, heads
    from rnn_apps.tasks import acoustic, classifiers

    cell = model.removesuffix("_nomask")
    masked = not model.endswith("_nomask")
    units = size["units"]
    if task == "sentiment":
        if cell == "cnn":
            config = encoders.EncoderConfig(model="cnn", cnn_kind="multi_width", filters=100, kernel_sizes=(3, 4, 5))
        else:
            config = encoders.EncoderConfig(model=cell, units=units)
        if masked or cell == "cnn":
            built = classifiers.sequence_classifier(config, 2, size["vocabulary"], embedding_dim=size["embedding_dim"])
        else:
            ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
            x = keras.layers.Embedding(size["vocabulary"], size["embedding_dim"], name="embedding")(ids)
            built = keras.Model(ids, heads.classification_head(config(x), 2), name=model)
        classifiers.compile_classifier(built, 2)
        return built, (size["embedding_dim"], units, size["steps"])
    # The CNN twin: three stacked Conv1D layers of 64 filters.
    config = encoders.EncoderConfig(
        model=cell, units=units, num_layers=3 if cell == "cnn" else 1, cnn_kind="stack", filters=64
    )
    built = acoustic.waveform_classifier(
        config, 10, None, mask=masked and cell != "cnn", feature_dim=size["mel_bins"], name=model
    )
    loss, metrics = heads.loss_and_metrics(10)
    built.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=metrics)
    return built, (size["mel_bins"], units, size["frames"])


class _EpochTimes:
    def __init__(self):
        import keras

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(inner, epoch, logs=None):
                inner.start = time.perf_counter()

            def on_epoch_end(inner, epoch, logs=None):
                self.seconds.append(time.perf_counter() - inner.start)

        self.seconds = []
        self.callback = Timer()


def _fused_calls():
    """Count calls that reach a fused cuDNN kernel (JAX: traced calls; PyTorch: executed calls)."""
    import keras

    name = keras.backend.backend()
    counts = {"calls": 0 if name in ("jax", "torch") else None}  # TensorFlow: not counted
    try:
        if name == "jax":
            import jax.experimental.rnn as jax_rnn

            original = jax_rnn.lstm

            def counted(*args, **kwargs):
                counts["calls"] += 1
                return original(*args, **kwargs)

            jax_rnn.lstm = counted
        elif name == "torch":
            import importlib

            from rnn_apps.layers import torch_kernels

            def routed(kind, masked):
                counts["calls"] += 1

            # Layers reach the fused kernel through rnn_apps.layers.torch_kernels when it is
            # installed (the default), otherwise through Keras's own CUDA-only path.
            torch_kernels.on_fused_call(routed)
            rnn = importlib.import_module("keras.src.backend.torch.rnn")
            for kernel in ("_cudnn_lstm", "_cudnn_gru"):
                original = getattr(rnn, kernel)

                def counted(*args, _original=original, **kwargs):
                    counts["calls"] += 1
                    return _original(*args, **kwargs)

                setattr(rnn, kernel, counted)
    except (ImportError, AttributeError):
        counts["calls"] = None
    return counts


def measure_keras(
    task: str, model: str, size: dict, repeats: int, batches: int, steps_per_execution: int = 1, jit_compile=False
):
    """Median training samples/s of one Keras model on the running backend.

    ``jit_compile=True`` compiles the training step (XLA on TensorFlow and
    JAX, ``torch.compile`` on PyTorch); the warm-up epoch absorbs the
    compilation.
    """
    import keras

    from rnn_apps.layers import jax_kernels, recurrent, torch_kernels

    counts = _fused_calls()
    keras.utils.set_random_seed(0)
    built, (input_dim, units, steps) = build_keras(task, model, size)
    if steps_per_execution > 1 or jit_compile:
        built.compile(
            optimizer=built.optimizer,
            loss=built.loss,
            metrics=["accuracy"],
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile or "auto",
        )
    batch_size = size["batch_size"]
    x, y = _synthetic(task, size, batch_size * batches)
    timer = _EpochTimes()
    built.fit(x, y, batch_size=batch_size, epochs=1 + repeats, verbose=0, shuffle=False, callbacks=[timer.callback])
    seconds = timer.seconds[1:]
    rate = batch_size * batches / statistics.median(seconds)
    cell = model.removesuffix("_nomask")
    report = recurrent.kernel_report(built)
    result = {
        "task": task,
        "model": model,
        "framework": f"keras-{keras.backend.backend()}"
        + ("+keras-loop" if keras.backend.backend() == "torch" and not torch_kernels.installed() else "")
        + ("+jax-scan" if keras.backend.backend() == "jax" and jax_kernels.installed() else "")
        + ("+jit_compile" if jit_compile else ""),
        "samples_per_second": round(rate, 2),
        "epoch_seconds": [round(s, 4) for s in seconds],
        "fast_kernel": report.eligible,
        "fast_kernel_reasons": list(report.reasons),
        "fused_kernel_calls": counts["calls"],
        "steps_per_execution": steps_per_execution,
        "batches_per_epoch": batches,
        "params": int(built.count_params()),
    }
    if cell in GATES:
        result["recurrent_tflops"] = round(rate * recurrent_flops(cell, input_dim, units, steps) / 1e12, 4)
    return result


def measure_torch_peer(task: str, cell: str, size: dict, repeats: int, batches: int, device: str):
    """Median training samples/s of the same network written in plain PyTorch (``nn.LSTM`` / ``nn.GRU``)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    units = size["units"]
    recurrent_class = {"lstm": nn.LSTM, "gru": nn.GRU, "simple_rnn": nn.RNN}[cell]

    class Peer(nn.Module):
        def __init__(self):
            super().__init__()
            if task == "sentiment":
                self.front = nn.Embedding(size["vocabulary"], size["embedding_dim"])
                width = size["embedding_dim"]
            else:
                self.front = nn.Identity()
                width = size["mel_bins"]
            self.rnn = recurrent_class(width, units, batch_first=True)
            self.head = nn.Linear(units, 1 if task == "sentiment" else 10)

        def forward(self, x):
            output, _ = self.rnn(self.front(x))
            return self.head(output[:, -1])

    model = Peer().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss() if task == "sentiment" else nn.CrossEntropyLoss()
    batch_size = size["batch_size"]
    x, y = _synthetic(task, size, batch_size * batches)
    x = torch.as_tensor(x, dtype=torch.long if task == "sentiment" else torch.float32)
    y = torch.as_tensor(y, dtype=torch.float32 if task == "sentiment" else torch.long)

    def epoch():
        start = time.perf_counter()
        for i in range(batches):
            xb = x[i * batch_size : (i + 1) * batch_size].to(device, non_blocking=True)
            yb = y[i * batch_size : (i + 1) * batch_size].to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out[:, 0] if task == "sentiment" else out, yb)
            loss.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    epoch()  # warm-up (cuDNN plans, allocator)
    seconds = [epoch() for _ in range(repeats)]
    rate = batch_size * batches / statistics.median(seconds)
    input_dim = size["embedding_dim"] if task == "sentiment" else size["mel_bins"]
    steps = size["steps"] if task == "sentiment" else size["frames"]
    return {
        "task": task,
        "model": cell,
        "framework": "pytorch",
        "samples_per_second": round(rate, 2),
        "epoch_seconds": [round(s, 4) for s in seconds],
        "fast_kernel": device == "cuda" and torch.backends.cudnn.is_available() and cell != "simple_rnn",
        "params": sum(p.numel() for p in model.parameters()),
        "recurrent_tflops": round(rate * recurrent_flops(cell, input_dim, units, steps) / 1e12, 4),
    }


def device_info() -> dict:
    """What the measurements ran on (the backend's view of the device, plus the host)."""
    info = {"host": platform.node(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def worker(argv=None) -> list[dict]:
    """Measure the asked-for models on this process's backend; print one JSON line per result."""
    parser = argparse.ArgumentParser(prog="python -m bench.backends worker")
    parser.add_argument("--backend", required=True, help="keras-jax style name, or 'pytorch' for the peer")
    parser.add_argument("--tasks", default="sentiment")
    parser.add_argument("--models", default="lstm")
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--jit-compile", action="store_true", help="compile the training step")
    parser.add_argument("--device", default="cpu", help="for the PyTorch peer: cpu or cuda")
    parser.add_argument("--deadline", type=float, default=0.0, help="time.time() after which to stop starting models")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    results = []
    for task in args.tasks.split(","):
        for model in args.models.split(","):
            if args.deadline and time.time() > args.deadline:
                results.append({"task": task, "model": model, "framework": args.backend, "skipped": "time budget"})
            elif args.backend == "pytorch":
                if model.removesuffix("_nomask") not in GATES or model.endswith("_nomask"):
                    continue
                results.append(measure_torch_peer(task, model, size, args.repeats, args.batches, args.device))
            else:
                try:
                    results.append(
                        measure_keras(
                            task, model, size, args.repeats, args.batches, args.steps_per_execution, args.jit_compile
                        )
                    )
                except Exception as error:  # one failing model must not lose the others' numbers
                    results.append({"task": task, "model": model, "framework": args.backend, "error": repr(error)})
            print(json.dumps(results[-1]), flush=True)
    return results


def run_worker(backend: str, worker_args: list[str], timeout: float, env=None) -> list[dict]:
    """Run `worker` in a fresh process on one backend; return its results (or one error entry)."""
    environment = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"} | (env or {})
    framework = "pytorch"
    if backend != "pytorch":
        environment["KERAS_BACKEND"] = backend
        framework = f"keras-{backend}"
    command = [sys.executable, "-m", "bench.backends", "worker", "--backend", framework, *worker_args]
    try:
        done = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        output, code = (error.stdout or b"").decode() if isinstance(error.stdout, bytes) else (error.stdout or ""), -9
        tail = "timed out"
    else:
        output, code, tail = done.stdout, done.returncode, done.stderr[-1500:]
    results = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    if code != 0:
        results.append({"framework": framework, "error": f"exit {code}: {tail}"})
    return results


def cpu_comparison(argv=None) -> dict:
    """The three backends on CPU: sentiment LSTM (masked, as the recipe trains it, and unmasked)."""
    parser = argparse.ArgumentParser(prog="python -m bench.backends cpu")
    parser.add_argument("--models", default="lstm,lstm_nomask")
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--jit-compile", action="store_true", help="compile the training step on each backend")
    parser.add_argument(
        "--keras-loop",
        action="store_true",
        help="PyTorch: keep Keras's own recurrent loop (RNN_APPS_TORCH_FUSED=0), for comparison",
    )
    parser.add_argument(
        "--jax-scan",
        action="store_true",
        help="JAX: route LSTM and GRU layers to rnn_apps.layers.jax_kernels (RNN_APPS_JAX_SCAN=1)",
    )
    parser.add_argument("--append", action="store_true", help="add these rows to the existing output file")
    parser.add_argument("--output", default=str(RESULTS / "backends-cpu.json"))
    args = parser.parse_args(argv)
    rows, commands = [], [" ".join(["python -m bench.backends cpu", *(argv or [])])]
    settings = {"batches_per_epoch": args.batches, "repeats": args.repeats}
    if args.append and pathlib.Path(args.output).exists():
        earlier = json.loads(pathlib.Path(args.output).read_text())
        rows, commands = earlier["results"], earlier["command"].split(" && ") + commands
        # The header describes the first command's rows; each row has its own epoch times.
        settings = {key: earlier[key] for key in settings}
    for backend in args.backends.split(","):
        worker_args = ["--tasks", "sentiment", "--models", args.models, "--size", args.size]
        worker_args += ["--batches", str(args.batches), "--repeats", str(args.repeats)]
        worker_args += ["--steps-per-execution", str(args.steps_per_execution)]
        worker_args += ["--jit-compile"] if args.jit_compile else []
        env = {"RNN_APPS_TORCH_FUSED": "0"} if args.keras_loop else {}
        env |= {"RNN_APPS_JAX_SCAN": "1"} if args.jax_scan else {}
        rows += run_worker(backend, worker_args, timeout=3000, env=env)
    report = {
        "benchmark": "backends-cpu",
        "baseline": "keras-tensorflow",
        "command": " && ".join(commands),
        "size": SIZES[args.size],
        **settings,
        "device": device_info(),
        "results": rows,
    }
    write_results(report, pathlib.Path(args.output))
    return report


def _versions() -> dict:
    found = {"python": platform.python_version()}
    for module in ("keras", "jax", "torch", "tensorflow"):
        try:
            found[module] = __import__(module).__version__
        except ImportError:
            pass
    return found


def markdown(report: dict) -> str:
    """A table of one report's results, with the ratio to the report's ``baseline`` framework."""
    rows = [r for r in report["results"] if "samples_per_second" in r]
    baseline = report.get("baseline", "keras-tensorflow")
    lines = [
        f"| task | model | framework | samples/s | ratio to {baseline} | fused kernel | recurrent TFLOP/s |",
        "| --- | --- | --- | ---: | ---: | --- | ---: |",
    ]
    for row in rows:
        base = _baseline(rows, row, baseline)
        ratio = f"{row['samples_per_second'] / base:.2f}" if base else ""
        fused = {True: "yes", False: "no", None: "n/a"}[row.get("fast_kernel")]
        flops = row.get("recurrent_tflops", "")
        lines.append(
            f"| {row['task']} | {row['model']} | {row['framework']} | {row['samples_per_second']:.1f} | {ratio} "
            f"| {fused} | {flops} |"
        )
    for row in report["results"]:
        if "samples_per_second" not in row:
            lines.append(f"\nNot measured: {row}")
    return "\n".join(lines) + "\n"


def _baseline(rows, row, framework):
    """Samples/s of the row this one is compared with: same task, same model (the peer: same cell)."""
    want = row["model"].removesuffix("_nomask") if framework == "pytorch" else row["model"]
    for other in rows:
        if other["framework"] == framework and other["task"] == row["task"] and other["model"] == want:
            return other["samples_per_second"]
    return None


def write_results(report: dict, path: pathlib.Path) -> None:
    report["versions"] = _versions()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    path.with_suffix(".md").write_text(
        f"# {report['benchmark']}\n\nCommand: `{report['command']}`\n\nDevice: {report['device']}\n\n"
        + NOTE.format(**report)
        + markdown(report)
    )


NOTE = (
    "Synthetic data (seed 0), {batches_per_epoch} batches per epoch, median of {repeats} timed epochs after a\n"
    "warm-up epoch, each framework in its own process. Timings depend on what else the machine runs,\n"
    "so compare rows of one table rather than absolute numbers. `fused kernel` is whether the\n"
    "configuration would run on cuDNN on this backend (`kernel_report`); on a CPU no cuDNN kernel runs.\n\n"
)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("cpu", "worker"):
        print(__doc__)
        return 2
    if argv[0] == "worker":
        from rnn_apps.harness import runtime

        runtime.configure()  # the PyTorch fused route, as the recipes' command line has it
        worker(argv[1:])
    else:
        report = cpu_comparison(argv[1:])
        print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --------------------------------------------------------------------------
# The docs page "Choosing a backend" (docs/build.py calls `docs_page`)

KERNEL_RULES = [
    ("LSTM, no mask", "cuDNN", "cuDNN", "fused (cuDNN; CPU kernel on a CPU)"),
    ("LSTM, right-padded mask", "cuDNN", "generic loop", "fused*"),
    ("LSTM, left-padded mask", "generic loop", "generic loop", "generic loop"),
    ("GRU (`reset_after=True`), no mask", "cuDNN", "`lax.scan` loop (no fused GRU)", "fused (as LSTM)"),
    ("GRU, right-padded mask", "cuDNN", "generic loop", "fused*"),
    ("SimpleRNN", "generic loop", "generic loop", "generic loop"),
]


def _rate(rows, framework, model, task="sentiment"):
    for row in rows:
        if (row.get("framework"), row.get("task"), row.get("model")) == (framework, task, model):
            return row.get("samples_per_second")
    return None


def _cpu_verdict(report: dict) -> list[str]:
    rows = report["results"]
    lines, missed = [], False
    for model, what in (("lstm", "as the recipe trains it (masked)"), ("lstm_nomask", "without the mask")):
        tf_rate, torch_rate, jax_rate = (_rate(rows, f"keras-{b}", model) for b in ("tensorflow", "torch", "jax"))
        if tf_rate and torch_rate:
            ratio = torch_rate / tf_rate
            missed = missed or ratio < 0.5
            verdict = "meets" if ratio >= 0.5 else "misses"
            jax_part = f"; JAX backend {jax_rate / tf_rate:.2f}x" if jax_rate else ""
            lines.append(
                f"- Sentiment LSTM {what}: PyTorch backend {ratio:.2f}x the TensorFlow backend's samples/s"
                f"{jax_part}. This {verdict} the goal (PyTorch no slower than half the TensorFlow speed)."
            )
    loop, routed = _rate(rows, "keras-torch+keras-loop", "lstm"), _rate(rows, "keras-torch", "lstm")
    if loop:
        row = next(r for r in rows if r.get("framework") == "keras-torch+keras-loop")
        epochs = f"{len(row.get('epoch_seconds', []))} epochs of {row.get('batches_per_epoch', '?')} batches"
        lines += [
            "",
            f"Row `keras-torch+keras-loop` is Keras 3.15's own CPU loop on PyTorch ({loop:.1f} samples/s, "
            + epochs
            + (f"; the routed layer is {routed / loop:.1f} times as fast)." if routed else ")."),
            "Without `rnn_apps.layers.torch_kernels` Keras runs an LSTM on a CPU as a Python loop over the steps, and",
            "a masked one through the generic `keras.ops.rnn` loop; the route (the default on this backend)",
            "gives eligible layers to PyTorch's fused kernel instead.",
        ]
    if missed:
        lines += [
            "",
            "A ratio under 0.5 here is a miss; the rows were measured on shared cores, so rerun the command",
            "on a quiet machine before reading much into one row.",
        ]
    return lines


def _tensorflow_loop_note(results: pathlib.Path) -> list[str]:
    """What ``bench/tf_loops.py`` measured for a TensorFlow route on a CPU, from ``tf_loops.json``."""
    path = results / "tf_loops.json"
    if not path.exists():
        return []
    report = json.loads(path.read_text())
    names = {"keras, XLA": "the step compiled by XLA", "projection first": "the input projection before the loop"}
    routes = {}
    for entry in report["kinds"]:
        for route, row in entry["routes"].items():
            if route != "keras":
                routes.setdefault(route, []).append(
                    f"{entry['kind'].upper()} {row['speed_vs_keras']:.2f}x" + ("" if row["equal"] else " (not equal)")
                )
    timed = "; ".join(f"{names.get(route, route)}: {', '.join(cells)}" for route, cells in routes.items())
    lines = [
        "TensorFlow on a CPU keeps Keras's own loop. `bench/tf_loops.py` timed the candidate routes for one",
        f"masked layer's training step against it ({report['size']['batch']} rows, {report['size']['steps']} "
        f"steps, {report['size']['units']} units): {timed}.",
    ]
    model = report.get("whole_model")
    if model:
        loop = {row["kind"]: row["samples_per_second"] for row in model["models"] if not row["jit_compile"]}
        ratios = ", ".join(
            f"{row['kind'].upper()} {row['samples_per_second'] / loop[row['kind']]:.2f}x"
            for row in model["models"]
            if row["jit_compile"]
        )
        lines.append(f"For the whole sentiment model on {model['dataset']}, `jit_compile=True` gave {ratios}.")
    lines += ["Figures and command: `bench/results/tf_loops.md`.", ""]
    return lines


def docs_page(results: pathlib.Path = RESULTS) -> str:
    """Markdown of the "Choosing a backend" page, from ``backends-*.json`` and ``gpu-*.json`` in ``results``."""
    from rnn_apps import backend

    parts = [
        "# Choosing a backend",
        "",
        "Keras 3 runs every model of this cookbook on TensorFlow, JAX or PyTorch; pick one with",
        "`KERAS_BACKEND=jax` (or `torch`, `tensorflow`) before Python starts. TensorFlow is the default and",
        "the only backend with string tensors, so models that take raw text need it. Install the other two",
        "with `pip install -e .[backends]` (JAX for CPU and the CPU build of PyTorch).",
        "",
        "## What runs where",
        "",
        "| recipe | TensorFlow | JAX and PyTorch |",
        "| --- | --- | --- |",
    ]
    for recipe, note in backend.ON_OTHER_BACKENDS.items():
        parts.append(f"| {recipe} | yes | yes: {note} |")
    for recipe, reason in backend.NEEDS_TENSORFLOW.items():
        parts.append(f"| {recipe} | yes | no: {reason} |")
    parts += [
        "",
        "Data loading may still use TensorFlow (tf.data, tensorflow-datasets) when it is installed: Keras",
        "trains from a `tf.data.Dataset` on every backend. On a machine without TensorFlow, preprocess once",
        "where it is installed and train from arrays:",
        "",
        "```bash",
        "python -m bench.text_arrays export-text --data imdb_reviews --output imdb.npz          # needs TensorFlow",
        "KERAS_BACKEND=jax python -m bench.text_arrays train-text imdb.npz --model lstm --output-dir runs/imdb-jax",
        "```",
        "",
        "The second command imports no TensorFlow; it writes `metrics.json`, the model and its vocabulary as",
        "a recipe run does, and `rnn-apps predict sentiment --model runs/imdb-jax/models/lstm.keras TEXT`",
        "reads raw text with the vocabulary saved beside the model.",
        "",
        "## The fused cuDNN kernel on each backend",
        "",
        "On a GPU, LSTM and GRU are several times faster on the fused kernel. All three backends need",
        "`tanh`/`sigmoid`, no recurrent dropout, no unrolling and biases (GRU: `reset_after=True`); the mask",
        "rules differ (Keras 3.15, read from its backend code and checked by `tests/test_backends.py`):",
        "",
        "| layer | TensorFlow | JAX | PyTorch |",
        "| --- | --- | --- | --- |",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in KERNEL_RULES],
        "",
        "\\* PyTorch column: with `rnn_apps.layers.torch_kernels`, which the command line installs under",
        "the PyTorch backend (`rnn_apps.harness.runtime.configure`). Keras 3.15 alone fuses on PyTorch only",
        "without a mask and only on a CUDA device; everywhere else it loops in Python. The route hands",
        "eligible layers to PyTorch's",
        "`torch._VF.lstm`/`gru` (cuDNN on a GPU, PyTorch's C++ loop on a CPU) and leaves every other case",
        "to Keras. A right-padded batch runs whole, with one extra input feature that saturates the",
        "forget (LSTM) or update (GRU) gate on padding steps, so the state leaves the padding exactly as it",
        "entered. Results equal Keras's loop (values and gradients, `tests/test_torch_kernels.py`);",
        "`RNN_APPS_TORCH_FUSED=0` turns it off.",
        "",
        "The text and speech recipes mask padding, so on JAX they train on the generic loop; `fast_kernel`",
        "in `metrics.json` says so per backend (`rnn_apps.layers.recurrent.kernel_report`).",
        "",
        "## Speed on CPU",
        "",
    ]
    cpu = sorted(results.glob("backends-*.json"))
    if not cpu:
        parts += ["No CPU measurement yet: run `python -m bench.backends cpu`.", ""]
    for path in cpu:
        report = json.loads(path.read_text())
        size = report["size"]
        parts += [
            f"`{report['command']}` (one process per backend; {report['batches_per_epoch']} batches of",
            f"{size['batch_size']} sequences of {size['steps']} token ids, {size['units']} units, embedding",
            f"{size['embedding_dim']}; median of {report['repeats']} epochs after a warm-up epoch), on",
            f"{report['device'].get('processor')} with {report['device'].get('cpus')} cores:",
            "",
            markdown(report).rstrip(),
            "",
            *_cpu_verdict(report),
            "",
        ]
    parts += _tensorflow_loop_note(results)
    parts += ["## Speed on a GPU", ""]
    gpu = sorted(p for p in results.glob("gpu-*.json") if not p.name.startswith("gpu-cpu"))
    if not gpu:
        parts += [
            "No GPU result exists yet: no GPU was available when this was written. `bench/gpu/` holds the",
            "script that measures Keras on JAX and on PyTorch against plain PyTorch cuDNN in under 10 minutes,",
            "and how to run it; its result will appear here.",
        ]
    for path in gpu:
        report = json.loads(path.read_text())
        parts += [
            f"`{report['command']}` on {report['device'].get('gpu')}; ratios are to the plain PyTorch peer:",
            "",
            markdown(report).rstrip(),
            "",
        ]
        ratio = report.get("ratios", {}).get("sentiment/lstm_nomask/keras-jax")
        if ratio is not None:
            verdict = "meets" if ratio >= 0.8 else "misses"
            parts.append(
                f"Keras on JAX, sentiment LSTM without mask: {ratio:.2f}x the peer; this {verdict} the 0.8x goal."
            )
    return "\n".join(parts).rstrip() + "\n"
