"""Speed tables, each a ratio measured in one run on one machine.

1. Training throughput of the sentiment recipe's pipeline (per-batch
   padding, length buckets, prefetch, masked recurrent layers) against two
   peers of the same architecture, trained on the same data for the same
   epochs with the same optimiser: a plain Keras peer written the way the
   best-known Keras examples do it (every text padded to the longest with
   ``pad_sequences``, no mask, no buckets, ``fit`` on NumPy arrays), and a
   raw PyTorch peer (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``, ``nn.Conv1d``; a
   hand-written loop over exactly our batches, in a process of its own so
   that PyTorch's threads never share a process with TensorFlow's); test
   accuracy of all three after the same number of epochs.
2. Achieved recurrent GFLOP/s in training (LSTM ``8·H·(E+H)``, GRU
   ``6·H·(E+H)``, SimpleRNN ``2·H·(E+H)`` per step per layer per direction,
   training counted as 3x the forward pass, over the steps actually computed)
   as a fraction of this machine's single-precision matrix-multiply rate,
   measured here with NumPy.
3. Single-example prediction latency (p50, p95) of saved models through the
   documented path (``model.predict_on_batch`` on one raw input).
4. The CNN's training throughput against the recurrent models'.

Each figure is the median of ``--repeats`` repetitions.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

FLOPS_PER_STEP = {"lstm": 8, "gru": 6, "simple_rnn": 2}


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Single-precision matrix-multiply rate of this machine, GFLOP/s (NumPy, median)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        timings.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(timings) / 1e9


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    return EpochTimer()


def _accuracy(model, inputs, labels) -> float:
    probabilities = np.concatenate([model.predict_on_batch(batch) for batch in inputs]).reshape(-1)
    return float(np.mean((probabilities >= 0.5) == labels))


def mr_token_ids(data_dir: pathlib.Path, quick: bool):
    """MR's training and test parts as ragged token ids, with the vectorizer fitted on the training texts.

    Returns:
        ``(vectorizer, (train_ids, train_labels), (test_ids, test_labels))``;
            with ``quick``, the first 256 training and 64 test texts.
    """
    from rnn_apps.data import text

    data = text.load_text_classification(data_dir / "sentiment" / "mr", binary=True, seed=42)
    train_texts, train_labels = data.train
    test_texts, test_labels = data.test
    if quick:
        train_texts, train_labels = train_texts[:256], train_labels[:256]
        test_texts, test_labels = test_texts[:64], test_labels[:64]
    vectorizer = text.make_vectorizer(train_texts, vocabulary_size=20000)
    train_ids = text.vectorize(vectorizer, train_texts, 300)
    test_ids = text.vectorize(vectorizer, test_texts, 300)
    return vectorizer, (train_ids, train_labels), (test_ids, test_labels)


def ours_model(name: str, vocabulary_size: int, units: int = 128, embedding_dim: int = 128):
    """The sentiment classifier as the recipes build it (no head dropout), compiled with Adam at 1e-3."""
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import classifiers

    config = encoders.EncoderConfig(model=name, units=units)
    model = classifiers.sequence_classifier(config, 2, vocabulary_size, embedding_dim, head_dropout=0.0)
    return classifiers.compile_classifier(model, 2)


def text_throughput(data_dir: pathlib.Path, repeats: int, quick: bool) -> dict:
    """Ours vs the plain peer on MR (sentence polarity), per model."""
    import keras

    from rnn_apps.data import text
    from rnn_apps.harness import training
    from rnn_apps.layers import encoders

    vectorizer, (train_ids, train_labels), (test_ids, test_labels) = mr_token_ids(data_dir, quick)
    longest = int(train_ids.row_lengths().numpy().max())
    batch_size, units, embedding_dim = 128, 128, 128
    epochs = 2 if quick else 3
    # The peer pads every text to the longest at the front, as pad_sequences does.
    peer_train = keras.utils.pad_sequences(train_ids.to_list(), maxlen=longest)
    peer_test = keras.utils.pad_sequences(test_ids.to_list(), maxlen=longest)
    results = {"dataset": "MR", "rows": len(train_labels), "epochs": epochs, "batch_size": batch_size, "models": {}}
    torch_threads = _torch_threads()
    results["torch_threads"] = torch_threads
    for name in ("lstm", "gru", "simple_rnn", "cnn"):
        config = encoders.EncoderConfig(model=name, units=units)
        ours_rates, peer_rates, ours_acc, peer_acc, ours_steps = [], [], [], [], []
        torch_rates, torch_acc = [], []
        for repeat in range(repeats):
            training.set_seed(repeat)
            ours = ours_model(name, vectorizer.vocabulary_size(), units, embedding_dim)
            pad_to = None if config.is_recurrent else longest
            train = text.token_dataset(
                train_ids, train_labels, batch_size, shuffle=True, seed=repeat, bucket=pad_to is None, pad_to=pad_to
            ).cache()
            timer = _epoch_timer()
            ours.fit(train, epochs=epochs, callbacks=[timer], verbose=0, shuffle=False)
            ours_rates.append(len(train_labels) / statistics.median(timer.times[1:]))
            steps = sum(int(np.prod(batch[0].shape)) for batch in train.as_numpy_iterator())
            ours_steps.append(steps)
            ours_acc.append(
                _accuracy(
                    ours,
                    text.token_dataset(test_ids, test_labels, 256, pad_to=pad_to).map(lambda ids, label: ids),
                    test_labels,
                )
            )

            training.set_seed(repeat)
            peer = _peer_model(name, vectorizer.vocabulary_size(), embedding_dim, units, longest)
            timer = _epoch_timer()
            peer.fit(peer_train, train_labels, batch_size=batch_size, epochs=epochs, callbacks=[timer], verbose=0)
            peer_rates.append(len(train_labels) / statistics.median(timer.times[1:]))
            peer_acc.append(_accuracy(peer, [peer_test], test_labels))

            if torch_threads:
                test = text.token_dataset(test_ids, test_labels, 256, pad_to=pad_to)
                seconds, accuracy = torch_peer_apart(
                    name, vectorizer.vocabulary_size(), embedding_dim, units, train, test, epochs, torch_threads, repeat
                )
                torch_rates.append(len(train_labels) / statistics.median(seconds[1:]))
                torch_acc.append(accuracy)
        entry = {
            "ours_samples_per_second": statistics.median(ours_rates),
            "peer_samples_per_second": statistics.median(peer_rates),
            "speedup": statistics.median(ours_rates) / statistics.median(peer_rates),
            "ours_test_accuracy": statistics.fmean(ours_acc),
            "peer_test_accuracy": statistics.fmean(peer_acc),
            "ours_steps_per_epoch": ours_steps[0],
            "peer_steps_per_epoch": len(train_labels) * longest,
        }
        if torch_rates:
            entry["torch_samples_per_second"] = statistics.median(torch_rates)
            entry["speedup_over_torch"] = statistics.median(ours_rates) / statistics.median(torch_rates)
            entry["torch_test_accuracy"] = statistics.fmean(torch_acc)
        if name in FLOPS_PER_STEP:
            flops_per_step = 3 * FLOPS_PER_STEP[name] * units * (embedding_dim + units)
            entry["ours_gflops"] = (
                flops_per_step * ours_steps[0] * entry["ours_samples_per_second"] / len(train_labels) / 1e9
            )
            entry["peer_gflops"] = flops_per_step * longest * entry["peer_samples_per_second"] / 1e9
            if torch_rates:
                # The PyTorch peer runs over our batches, padding within a batch included.
                entry["torch_gflops"] = (
                    flops_per_step * ours_steps[0] * entry["torch_samples_per_second"] / len(train_labels) / 1e9
                )
        results["models"][name] = entry
    results["longest_text_tokens"] = longest
    results["mean_text_tokens"] = float(train_ids.row_lengths().numpy().mean())
    return results


def _peer_model(name, vocabulary_size, embedding_dim, units, length):
    """The architecture as a plain Keras example writes it: no mask, fixed length."""
    import keras

    inputs = keras.Input(shape=(length,), dtype="int32")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim)(inputs)
    if name == "cnn":
        branches = [
            keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(100, k, activation="relu")(x)) for k in (3, 4, 5)
        ]
        x = keras.layers.Concatenate()(branches)
    else:
        layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}[name]
        x = layer(units)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _torch_threads() -> int | None:
    """The PyTorch peer's threads: as many as this process may use, as TensorFlow uses; `None` without PyTorch.

    PyTorch is not imported here: the peer trains in a process of its own
    (`torch_peer_apart`).
    """
    if importlib.util.find_spec("torch") is None:
        return None
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _torch_model(name, vocabulary_size, embedding_dim, units):
    """The architecture in plain PyTorch, initialised as Keras initialises it; returns logits.

    The recurrent layer runs over the right-padded batch and the classifier
    reads its output at each row's last real step. Padding comes after that
    step and a one-way layer never looks ahead, so this is exactly the
    masked Keras layer's result (values and gradients), without the cost of
    packed sequences.
    """
    import torch
    from torch import nn

    class Peer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary_size, embedding_dim)
            if name == "cnn":
                self.convolutions = nn.ModuleList(nn.Conv1d(embedding_dim, 100, width) for width in (3, 4, 5))
                width = 300
            else:
                layer = {"lstm": nn.LSTM, "gru": nn.GRU, "simple_rnn": nn.RNN}[name]
                self.recurrent = layer(embedding_dim, units, batch_first=True)
                width = units
            self.output = nn.Linear(width, 1)

        def forward(self, ids, lengths):
            x = self.embedding(ids)
            if name == "cnn":
                x = x.transpose(1, 2)
                x = torch.cat([torch.relu(conv(x)).amax(dim=2) for conv in self.convolutions], dim=1)
            else:
                outputs, _ = self.recurrent(x)
                last = outputs[torch.arange(len(lengths)), (lengths - 1).clamp(min=0)]
                # An empty text keeps the initial (zero) state, as under a Keras mask.
                x = last * (lengths > 0)[:, None].to(last.dtype)
            return self.output(x)[:, 0]

    model = Peer()
    for module in model.modules():
        if isinstance(module, nn.Embedding):
            nn.init.uniform_(module.weight, -0.05, 0.05)
        elif isinstance(module, (nn.Linear, nn.Conv1d)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.RNNBase):
            nn.init.xavier_uniform_(module.weight_ih_l0)
            nn.init.orthogonal_(module.weight_hh_l0)
            nn.init.zeros_(module.bias_ih_l0)
            nn.init.zeros_(module.bias_hh_l0)
            if name == "lstm":
                # Keras's unit_forget_bias; PyTorch's gate order is i, f, g, o.
                nn.init.ones_(module.bias_ih_l0[units : 2 * units])
    return model


def _torch_batches(dataset):
    """``(ids, labels, lengths)`` tensors of every batch of a ``(ids, label)`` dataset, in its order.

    ``dataset`` is a `tf.data.Dataset` or any iterable of ``(ids, labels)``
    NumPy pairs.
    """
    import torch

    batches = []
    pairs = dataset.as_numpy_iterator() if hasattr(dataset, "as_numpy_iterator") else dataset
    for ids, labels in pairs:
        ids = torch.from_numpy(ids.astype(np.int64))
        batches.append((ids, torch.from_numpy(labels.astype(np.float32)), (ids != 0).sum(dim=1)))
    return batches


def torch_peer(name, vocabulary_size, embedding_dim, units, train, test, epochs, seed=0, learning_rate=1e-3):
    """Train the raw PyTorch peer on the batches of ``train``; seconds per epoch and test accuracy.

    Args:
        name: ``lstm``, ``gru``, ``simple_rnn`` or ``cnn``.
        vocabulary_size, embedding_dim, units: the architecture's sizes.
        train, test: ``(ids, label)`` datasets of right-padded batches; the
            peer trains on ``train``'s batches in its order, every epoch the
            same, as our cached pipeline replays them.
        epochs: training epochs.
        seed: PyTorch's seed for the initial weights.
        learning_rate: Adam's (with Keras's epsilon, 1e-7).

    Returns:
        The seconds of each epoch (training steps only; the batches are
            tensors before the clock starts) and the test accuracy.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = _torch_model(name, vocabulary_size, embedding_dim, units)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss()
    batches = _torch_batches(train)
    seconds = []
    model.train()
    for _ in range(epochs):
        start = time.perf_counter()
        for ids, labels, lengths in batches:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(ids, lengths), labels).backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    model.eval()
    right = total = 0
    with torch.no_grad():
        for ids, labels, lengths in _torch_batches(test):
            right += int(((model(ids, lengths) >= 0) == (labels >= 0.5)).sum())
            total += len(labels)
    return seconds, right / total


def _save_batches(dataset, path: pathlib.Path) -> None:
    """Every ``(ids, labels)`` batch of a dataset, in order, as one ``.npz`` file."""
    arrays = {}
    for index, (ids, labels) in enumerate(dataset.as_numpy_iterator()):
        arrays[f"ids_{index}"], arrays[f"labels_{index}"] = ids, labels
    np.savez(path, **arrays)


def _load_batches(path: pathlib.Path) -> list:
    with np.load(path) as arrays:
        return [(arrays[f"ids_{index}"], arrays[f"labels_{index}"]) for index in range(len(arrays.files) // 2)]


def torch_peer_apart(name, vocabulary_size, embedding_dim, units, train, test, epochs, threads, seed=0):
    """`torch_peer` in a fresh Python process with ``threads`` PyTorch threads; the same answer.

    The batches travel as ``.npz`` files, so the peer trains on exactly
    ours. TensorFlow's thread pools in this process and PyTorch's OpenMP
    threads would otherwise share it, and whichever ran second could pay
    for the other's threads.
    """
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        _save_batches(train, folder / "train.npz")
        _save_batches(test, folder / "test.npz")
        spec = {
            "name": name,
            "vocabulary_size": vocabulary_size,
            "embedding_dim": embedding_dim,
            "units": units,
            "epochs": epochs,
            "seed": seed,
            "threads": threads,
        }
        (folder / "spec.json").write_text(json.dumps(spec))
        root = pathlib.Path(__file__).resolve().parent.parent
        paths = [str(root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        subprocess.run(
            [sys.executable, "-m", "bench.speed", "--torch-peer", str(folder)], check=True, env=environment, cwd=root
        )
        answer = json.loads((folder / "answer.json").read_text())
    return answer["seconds"], answer["accuracy"]


def _torch_peer_worker(folder: pathlib.Path) -> None:
    """The child's side of `torch_peer_apart`: read the spec and batches, train, write ``answer.json``."""
    import torch

    spec = json.loads((folder / "spec.json").read_text())
    torch.set_num_threads(spec["threads"])
    seconds, accuracy = torch_peer(
        spec["name"],
        spec["vocabulary_size"],
        spec["embedding_dim"],
        spec["units"],
        _load_batches(folder / "train.npz"),
        _load_batches(folder / "test.npz"),
        spec["epochs"],
        seed=spec["seed"],
    )
    (folder / "answer.json").write_text(json.dumps({"seconds": seconds, "accuracy": accuracy}))


def sentiment_latency(quick: bool) -> dict:
    """p50/p95 of one-example ``predict_on_batch`` calls on the sentiment recipe's quick-run models."""
    import tempfile

    from bench import latency

    batch = np.array([latency.SENTENCE], dtype=object)
    with tempfile.TemporaryDirectory() as folder:
        return latency.saved_model_latency(
            "sentiment",
            pathlib.Path(folder),
            20 if quick else 200,
            lambda model, path: lambda: model.predict_on_batch(batch),
        )


def markdown(result: dict) -> str:
    text = result["text_throughput"]
    lines = [
        "# speed",
        "",
        f"Training throughput on {text['dataset']} ({text['rows']:,} training sentences, mean "
        f"{text['mean_text_tokens']:.1f} tokens, longest {text['longest_text_tokens']}), batch "
        f"{text['batch_size']}, 128 units, embedding 128, {text['epochs']} epochs per repetition "
        "(the first, which traces the graph, is not timed), median of "
        f"{result['repeats']} repetitions. *Ours*: the recipe's pipeline (per-batch padding, length "
        "buckets, cached and prefetched tf.data, masked recurrent layers). *Keras peer*: the same architecture "
        "written as the well-known Keras examples do (`pad_sequences` to the longest text, no mask, "
        "`fit` on NumPy arrays). *PyTorch peer*: the same architecture in plain PyTorch (`nn.Embedding`, "
        "`nn.LSTM` / `nn.GRU` / `nn.RNN` (tanh) / three `nn.Conv1d` widths, `nn.Linear`; Keras's initialisers, "
        "Adam at 1e-3 with epsilon 1e-7, binary cross-entropy on the logit), trained by a hand-written loop "
        "on exactly our batches in our order (right-padded per batch, length buckets; the CNN's padded to "
        "the longest text): the recurrent layer runs over each batch's padding and the head reads the output "
        "at each row's last real step, which equals the masked layer (no `pack_padded_sequence`). "
        f"PyTorch threads: {text.get('torch_threads')} (`OMP_WAIT_POLICY={result.get('omp_wait_policy')}`); "
        "its epochs time the training steps only (the batches "
        "are tensors before the clock starts). Ratios are ours / peer; each repetition trains ours and the Keras "
        "peer one after another in one process, then the PyTorch peer in a process of its own.",
        "",
        "| model | ours samples/s | Keras peer samples/s | PyTorch peer samples/s | ours / Keras peer | "
        "ours / PyTorch peer | ours test acc | Keras peer test acc | PyTorch peer test acc | ours GFLOP/s | "
        "Keras peer GFLOP/s | PyTorch peer GFLOP/s | ours % of matmul peak | PyTorch peer % of matmul peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    peak = result["matmul_gflops"]

    def number(value, form, suffix=""):
        return "n/a" if value is None else f"{value:{form}}{suffix}"

    for name, entry in text["models"].items():
        gflops, torch_gflops = entry.get("ours_gflops"), entry.get("torch_gflops")
        lines.append(
            "| "
            + " | ".join(
                [
                    name,
                    number(entry["ours_samples_per_second"], ",.0f"),
                    number(entry["peer_samples_per_second"], ",.0f"),
                    number(entry.get("torch_samples_per_second"), ",.0f"),
                    number(entry["speedup"], ".2f", "x"),
                    number(entry.get("speedup_over_torch"), ".2f", "x"),
                    number(entry["ours_test_accuracy"], ".4f"),
                    number(entry["peer_test_accuracy"], ".4f"),
                    number(entry.get("torch_test_accuracy"), ".4f"),
                    number(gflops, ".2f"),
                    number(entry.get("peer_gflops"), ".2f"),
                    number(torch_gflops, ".2f"),
                    number(gflops and 100 * gflops / peak, ".1f", "%"),
                    number(torch_gflops and 100 * torch_gflops / peak, ".1f", "%"),
                ]
            )
            + " |"
        )
    models = text["models"]
    best_rnn = max(("lstm", "gru", "simple_rnn"), key=lambda n: models[n]["ours_samples_per_second"])
    lines += [
        "",
        f"NumPy single-precision matrix multiply on this machine: {peak:.1f} GFLOP/s (2048 x 2048, median of 5). "
        "Recurrent FLOPs count every step computed, padding included, so a padded peer is credited with work "
        "that a masked, bucketed pipeline skips.",
        "",
        f"CNN against the recurrent models (ours, training samples/s): CNN / LSTM "
        f"{models['cnn']['ours_samples_per_second'] / models['lstm']['ours_samples_per_second']:.2f}x, "
        f"CNN / GRU {models['cnn']['ours_samples_per_second'] / models['gru']['ours_samples_per_second']:.2f}x, "
        f"CNN / fastest recurrent ({best_rnn}) "
        f"{models['cnn']['ours_samples_per_second'] / models[best_rnn]['ours_samples_per_second']:.2f}x.",
        "",
        "Single-example prediction latency through the saved model (`predict_on_batch` on one raw input):",
        "",
        "| recipe | model | p50 ms | p95 ms |",
        "|---|---|---|---|",
    ]
    for recipe, table in result["latency"].items():
        for name, entry in table.items():
            lines.append(f"| {recipe} | {name} | {entry['p50_ms']:.2f} | {entry['p95_ms']:.2f} |")
    info = result["machine"]
    from bench import harness

    return "\n".join(lines + harness.footer(info, result["command"]))


def main(args) -> dict:
    from bench import harness

    # PyTorch's OpenMP threads spin while they wait; on cores shared with other work
    # that spinning slowed its training steps tenfold here. Read when PyTorch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    result = {
        "repeats": args.repeats,
        "matmul_gflops": matmul_gflops(size=512 if args.quick else 2048),
        "text_throughput": text_throughput(pathlib.Path(args.data_dir), args.repeats, args.quick),
        "latency": {"sentiment": sentiment_latency(args.quick)},
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "machine": harness.machine(),
        "command": harness.command_line(),
    }
    return harness.publish(args.results_dir, "speed", result, markdown(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description="the PyTorch peer's own process")
    parser.add_argument("--torch-peer", type=pathlib.Path, required=True, help="the folder torch_peer_apart wrote")
    _torch_peer_worker(parser.parse_args().torch_peer)
