"""TensorFlow on a CPU: Keras's recurrent loop against the faster routes TensorFlow appears to offer.

    python bench/tf_loops.py                                   # batch 128, 128 inputs and units, 40 steps
    python bench/tf_loops.py --steps 12 --repeats 2 --calls 3  # a quick look

On the TensorFlow backend Keras 3 runs an LSTM or GRU on a CPU as its
generic loop, a `tf.while_loop` whose body calls the cell (its cuDNN path
needs a GPU). The PyTorch backend has a fused route
(`rnn_apps.layers.torch_kernels`); this benchmark measures whether the
TensorFlow backend has one worth taking, on the shape of ``bench speed``'s
sentiment models (a masked, right-padded batch of word vectors). Each route
trains one step, forward and backward, inside a `tf.function`:

- ``keras``: `keras.layers.LSTM` / `keras.layers.GRU` as the recipes build
  them, Keras's own loop;
- ``keras, XLA``: the same step compiled with ``jit_compile=True``;
- ``projection first``: the input projection of every step as one matrix
  multiply before the loop, then Keras's TensorFlow loop
  (``keras.src.backend.tensorflow.rnn.rnn``) for the recurrent products
  and gates only, with the same mask;
- ``BlockLSTMV2`` (LSTM only): TensorFlow's fused LSTM op, a C++ loop over
  the steps, run on the padded batch with the padding switch of
  `rnn_apps.layers.torch_kernels` (an extra input, 1 on padding steps,
  whose weights saturate the forget and input gates so the cell state
  passes the padding unchanged) and each row's last real output gathered.

Routes alternate within each repetition; the table gives the median
milliseconds per training step, Keras's time over the route's (above 1 is
faster), and the largest deviation of the last outputs and of the weight
gradients from Keras's own, relative to the largest gradient. A route is
worth adding to the library only where it is both faster and equal to
Keras's loop within float rounding.

A layer's step is not a model's epoch. With ``--data-dir`` (the folder
holding ``sentiment/mr``), the whole sentiment model of ``bench speed``
(the recipes' pipeline: per-batch padding, length buckets) also trains on
MR with Keras's ``jit_compile`` off and on, each repetition both ways, and
the second table gives training samples per second (median of the epochs
after the first) and test accuracy. Writes ``bench/results/tf_loops.md``
and ``.json``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shlex
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

EQUAL_WITHIN = 1e-4
"""Largest deviation (outputs absolute, gradients relative) still counted as float rounding in float32."""

FASTER_FROM = 1.05
"""Smallest speed ratio over Keras's loop counted as faster rather than as timing noise."""


def _batch(size: dict, seed: int):
    """Inputs ``(batch, steps, features)`` and a right-padded mask with lengths from half the steps to all."""
    import numpy as np

    rng = np.random.default_rng(seed)
    batch, steps = size["batch"], size["steps"]
    inputs = rng.normal(size=(batch, steps, size["features"])).astype("float32")
    lengths = rng.integers(max(1, steps // 2), steps + 1, size=batch)
    mask = np.arange(steps)[None, :] < lengths[:, None]
    return inputs, mask, lengths


def _projection_first(kind: str, layer, inputs, mask):
    """The layer's last outputs with the input projection of all steps done before Keras's loop."""
    import tensorflow as tf
    from keras.src.backend.tensorflow.rnn import rnn

    cell = layer.cell
    kernel, recurrent_kernel, bias = cell.kernel.value, cell.recurrent_kernel.value, cell.bias.value
    batch = tf.shape(inputs)[0]
    units = cell.units
    if kind == "lstm":
        projected = tf.einsum("btd,dg->btg", inputs, kernel) + bias

        def step(x, states):
            h, c = states
            gate_i, gate_f, gate_c, gate_o = tf.split(x + tf.matmul(h, recurrent_kernel), 4, axis=-1)
            c = tf.sigmoid(gate_f) * c + tf.sigmoid(gate_i) * tf.tanh(gate_c)
            h = tf.sigmoid(gate_o) * tf.tanh(c)
            return h, [h, c]

        initial = [tf.zeros((batch, units)), tf.zeros((batch, units))]
    else:  # Keras's default GRU: reset_after=True, input and recurrent biases apart
        projected = tf.einsum("btd,dg->btg", inputs, kernel) + bias[0]

        def step(x, states):
            (h,) = states
            x_z, x_r, x_h = tf.split(x, 3, axis=-1)
            r_z, r_r, r_h = tf.split(tf.matmul(h, recurrent_kernel) + bias[1], 3, axis=-1)
            z = tf.sigmoid(x_z + r_z)
            candidate = tf.tanh(x_h + tf.sigmoid(x_r + r_r) * r_h)
            h = z * h + (1.0 - z) * candidate
            return h, [h]

        initial = [tf.zeros((batch, units))]
    last, _, _ = rnn(step, projected, initial, mask=mask)
    return last


def _block_lstm(layer, inputs, mask, lengths):
    """The LSTM's last real outputs through ``tf.raw_ops.BlockLSTMV2`` (same gate order as Keras's)."""
    import tensorflow as tf

    from rnn_apps.layers import torch_kernels

    cell = layer.cell
    units = cell.units
    padding = tf.cast(tf.logical_not(mask), inputs.dtype)[:, :, None]
    # torch_kernels' switch for the LSTM: PyTorch's gate order (i, f, g, o) is Keras's (i, f, c, o).
    gates = [value * torch_kernels._SATURATE for value in torch_kernels._SWITCH["lstm"]]
    switch = tf.repeat(tf.constant(gates, inputs.dtype), units)[None, :]
    weights = tf.concat([cell.kernel.value, switch, cell.recurrent_kernel.value], axis=0)
    batch = tf.shape(inputs)[0]
    zeros = tf.zeros((batch, units), inputs.dtype)
    no_peephole = tf.zeros((units,), inputs.dtype)
    outputs = tf.raw_ops.BlockLSTMV2(
        seq_len_max=tf.cast(tf.shape(inputs)[1], tf.int64),
        x=tf.transpose(tf.concat([inputs, padding], axis=2), [1, 0, 2]),
        cs_prev=zeros,
        h_prev=zeros,
        w=weights,
        wci=no_peephole,
        wcf=no_peephole,
        wco=no_peephole,
        b=cell.bias.value,
        cell_clip=0.0,
        use_peephole=False,
    )
    h = tf.transpose(outputs[6], [1, 0, 2])
    return tf.gather(h, lengths - 1, axis=1, batch_dims=1)


def routes(kind: str) -> list[str]:
    """The routes measured for one kind of layer."""
    return ["keras", "keras, XLA", "projection first"] + (["BlockLSTMV2"] if kind == "lstm" else [])


def measure(kind: str, size: dict, repeats: int, calls: int, seed: int = 0) -> dict:
    """Per-step milliseconds and deviations from Keras's loop for every route of one kind."""
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    inputs, mask, lengths = _batch(size, seed)
    inputs, mask, lengths = tf.constant(inputs), tf.constant(mask), tf.constant(lengths)
    layer = (keras.layers.LSTM if kind == "lstm" else keras.layers.GRU)(size["units"])
    layer.build(tuple(inputs.shape))
    variables = layer.trainable_variables
    forward = {
        "keras": lambda: layer(inputs, mask=mask),
        "keras, XLA": lambda: layer(inputs, mask=mask),
        "projection first": lambda: _projection_first(kind, layer, inputs, mask),
        "BlockLSTMV2": lambda: _block_lstm(layer, inputs, mask, lengths),
    }

    def training_step(route):
        def step():
            with tf.GradientTape() as tape:
                last = forward[route]()
                loss = tf.reduce_sum(last * last)
            return last, tape.gradient(loss, variables)

        return tf.function(step, jit_compile=route == "keras, XLA")

    steps = {route: training_step(route) for route in routes(kind)}
    answers = {route: step() for route, step in steps.items()}  # traces each (not timed)
    reference_last, reference_grads = answers["keras"]
    scale = max(float(np.max(np.abs(g))) for g in reference_grads)
    rows = {}
    for route, (last, grads) in answers.items():
        rows[route] = {
            "last_output_deviation": float(np.max(np.abs(last - reference_last))),
            "gradient_deviation": max(
                float(np.max(np.abs(g - r))) / scale for g, r in zip(grads, reference_grads, strict=True)
            ),
            "ms": [],
        }
    for _ in range(repeats):
        for route, step in steps.items():
            started = time.perf_counter()
            for _ in range(calls):
                step()
            rows[route]["ms"].append((time.perf_counter() - started) / calls * 1000)
    keras_ms = statistics.median(rows["keras"]["ms"])
    for route, row in rows.items():
        row["median_ms"] = statistics.median(row["ms"])
        row["speed_vs_keras"] = keras_ms / row["median_ms"]
        row["equal"] = row["last_output_deviation"] <= EQUAL_WITHIN and row["gradient_deviation"] <= EQUAL_WITHIN
        print(
            f"{kind} {route}: {row['median_ms']:.1f} ms ({row['speed_vs_keras']:.2f}x Keras), deviation "
            f"{row['last_output_deviation']:.1e} / {row['gradient_deviation']:.1e}",
            flush=True,
        )
    return {"kind": kind, "routes": rows}


def whole_model(data_dir: pathlib.Path, kinds: list[str], repeats: int, epochs: int, quick: bool = False) -> dict:
    """Training samples/s and test accuracy of ``bench speed``'s sentiment model on MR, XLA off and on."""
    from bench import speed
    from rnn_apps.data import text
    from rnn_apps.harness import training

    vectorizer, (train_ids, train_labels), (test_ids, test_labels) = speed.mr_token_ids(data_dir, quick)
    test = text.token_dataset(test_ids, test_labels, 256).map(lambda ids, label: ids)
    rows = []
    for kind in kinds:
        rates = {False: [], True: []}
        accuracies = {False: [], True: []}
        for repeat in range(repeats):
            for jit in (False, True):
                training.set_seed(repeat)
                model = speed.ours_model(kind, vectorizer.vocabulary_size())
                model.jit_compile = jit  # read when fit makes its training function
                train = text.token_dataset(train_ids, train_labels, 128, shuffle=True, seed=repeat, bucket=True)
                timer = speed._epoch_timer()
                model.fit(train.cache(), epochs=epochs, callbacks=[timer], verbose=0, shuffle=False)
                rates[jit].append(len(train_labels) / statistics.median(timer.times[1:]))
                accuracies[jit].append(speed._accuracy(model, test, test_labels))
        for jit in (False, True):
            rows.append(
                {
                    "kind": kind,
                    "jit_compile": jit,
                    "samples_per_second": statistics.median(rates[jit]),
                    "test_accuracy": statistics.fmean(accuracies[jit]),
                }
            )
        print(
            f"{kind} whole model: {rows[-2]['samples_per_second']:.0f} samples/s without XLA, "
            f"{rows[-1]['samples_per_second']:.0f} with",
            flush=True,
        )
    return {"dataset": "MR", "rows": len(train_labels), "epochs": epochs, "repeats": repeats, "models": rows}


def markdown(result: dict) -> str:
    from bench import harness

    size = result["size"]
    lines = [
        "# TensorFlow on a CPU: routes for the recurrent loop",
        "",
        f"One training step (forward and backward through the layer, in a `tf.function`) of a masked, right-padded "
        f"batch of {size['batch']} rows, {size['steps']} steps of {size['features']} inputs, {size['units']} units; "
        f"row lengths from {max(1, size['steps'] // 2)} to {size['steps']}. Median of {result['repeats']} "
        f"repetitions of {result['calls']} calls, the routes alternating. *× Keras*: Keras's time over the route's "
        "(above 1 is faster). Deviations: the largest absolute difference from Keras's loop of the last outputs, and "
        f"of the weight gradients relative to the largest gradient; *equal* means both are at most {EQUAL_WITHIN:g}.",
        "",
        "| layer | route | ms per step | × Keras | last-output deviation | gradient deviation | equal |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in result["kinds"]:
        for route, row in entry["routes"].items():
            lines.append(
                f"| {entry['kind']} | {route} | {row['median_ms']:.1f} | {row['speed_vs_keras']:.2f}x | "
                f"{row['last_output_deviation']:.1e} | {row['gradient_deviation']:.1e} | "
                f"{'yes' if row['equal'] else 'no'} |"
            )
    worth = [
        f"{entry['kind']} {route}"
        for entry in result["kinds"]
        for route, row in entry["routes"].items()
        if route != "keras" and row["equal"] and row["speed_vs_keras"] >= FASTER_FROM
    ]
    lines += [
        "",
        f"Faster than Keras's loop (at least {FASTER_FROM:.2f}x) and equal to it: "
        + (", ".join(worth) if worth else "none")
        + ".",
    ]
    model = result.get("whole_model")
    if model:
        lines += [
            "",
            f"The whole sentiment model of `bench speed` on {model['dataset']} ({model['rows']:,} training texts, "
            f"batch 128, the recipes' per-batch padding and length buckets), {model['epochs']} epochs per repetition, "
            f"{model['repeats']} repetitions each way; samples/s is the median of the epochs after the first (which "
            "compiles), *× loop* the XLA rate over the loop's.",
            "",
            "| layer | jit_compile | training samples/s | × loop | test accuracy |",
            "|---|---|---|---|---|",
        ]
        loop = {row["kind"]: row["samples_per_second"] for row in model["models"] if not row["jit_compile"]}
        lines += [
            f"| {row['kind']} | {'on' if row['jit_compile'] else 'off'} | {row['samples_per_second']:,.0f} | "
            f"{row['samples_per_second'] / loop[row['kind']]:.2f}x | {row['test_accuracy']:.4f} |"
            for row in model["models"]
        ]
    return "\n".join(lines + harness.footer(result["machine"], result["command"], result.get("note", "")))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python bench/tf_loops.py", description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", type=lambda text: text.split(","), default=["lstm", "gru"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5, help="repetitions; each times every route once")
    parser.add_argument("--calls", type=int, default=20, help="training steps timed per route and repetition")
    parser.add_argument(
        "--data-dir", type=pathlib.Path, help="the folder holding sentiment/mr: also time the whole model"
    )
    parser.add_argument("--model-repeats", type=int, default=2, help="whole-model repetitions, each way")
    parser.add_argument("--model-epochs", type=int, default=3, help="whole-model epochs per repetition")
    parser.add_argument("--quick", action="store_true", help="whole model on 256 training texts (a smoke test)")
    parser.add_argument("--results-dir", type=pathlib.Path, default=ROOT / "bench" / "results")
    parser.add_argument("--note", default="", help="a sentence for the results file (load on the machine)")
    args = parser.parse_args(argv)
    if os.environ.setdefault("KERAS_BACKEND", "tensorflow") != "tensorflow":
        parser.error(f"measures the TensorFlow backend; KERAS_BACKEND is {os.environ['KERAS_BACKEND']!r}")
    from rnn_apps.harness import runtime

    runtime.configure()
    from bench import harness

    size = {"batch": args.batch, "steps": args.steps, "features": args.features, "units": args.units}
    result = {
        "size": size,
        "repeats": args.repeats,
        "calls": args.calls,
        "equal_within": EQUAL_WITHIN,
        "kinds": [measure(kind, size, args.repeats, args.calls) for kind in args.kinds],
    }
    if args.data_dir:
        result["whole_model"] = whole_model(
            args.data_dir, args.kinds, args.model_repeats, args.model_epochs, quick=args.quick
        )
    result |= {
        "machine": harness.machine(),
        "command": shlex.join(["python", "bench/tf_loops.py", *(argv if argv is not None else sys.argv[1:])]),
        "note": args.note,
    }
    return harness.publish(args.results_dir, "tf_loops", result, markdown(result))


if __name__ == "__main__":
    main()
