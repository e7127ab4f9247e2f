"""Speed tables, each a ratio measured in one process on one machine.

1. Training throughput of the sentiment recipe's pipeline (per-batch
   padding, length buckets, prefetch, masked recurrent layers) against a
   plain peer written the way the best-known Keras examples do it (every
   text padded to the longest with ``pad_sequences``, no mask, no buckets,
   ``fit`` on NumPy arrays), same architecture, same data, same epochs; test
   accuracy of both after the same number of epochs.
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

import pathlib
import statistics
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


def text_throughput(data_dir: pathlib.Path, repeats: int, quick: bool) -> dict:
    """Ours vs the plain peer on MR (sentence polarity), per model."""
    import keras

    from rnn_apps.data import text
    from rnn_apps.harness import training
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import classifiers

    data = text.load_text_classification(data_dir / "sentiment" / "mr", binary=True, seed=42)
    train_texts, train_labels = data.train
    test_texts, test_labels = data.test
    if quick:
        train_texts, train_labels = train_texts[:256], train_labels[:256]
        test_texts, test_labels = test_texts[:64], test_labels[:64]
    vectorizer = text.make_vectorizer(train_texts, vocabulary_size=20000)
    train_ids = text.vectorize(vectorizer, train_texts, 300)
    test_ids = text.vectorize(vectorizer, test_texts, 300)
    longest = int(train_ids.row_lengths().numpy().max())
    batch_size, units, embedding_dim = 128, 128, 128
    epochs = 2 if quick else 3
    # The peer pads every text to the longest at the front, as pad_sequences does.
    peer_train = keras.utils.pad_sequences(train_ids.to_list(), maxlen=longest)
    peer_test = keras.utils.pad_sequences(test_ids.to_list(), maxlen=longest)
    results = {"dataset": "MR", "rows": len(train_labels), "epochs": epochs, "batch_size": batch_size, "models": {}}
    for name in ("lstm", "gru", "simple_rnn", "cnn"):
        config = encoders.EncoderConfig(model=name, units=units)
        ours_rates, peer_rates, ours_acc, peer_acc, ours_steps = [], [], [], [], []
        for repeat in range(repeats):
            training.set_seed(repeat)
            ours = classifiers.compile_classifier(
                classifiers.sequence_classifier(
                    config, 2, vectorizer.vocabulary_size(), embedding_dim, head_dropout=0.0
                ),
                2,
            )
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
        entry = {
            "ours_samples_per_second": statistics.median(ours_rates),
            "peer_samples_per_second": statistics.median(peer_rates),
            "speedup": statistics.median(ours_rates) / statistics.median(peer_rates),
            "ours_test_accuracy": statistics.fmean(ours_acc),
            "peer_test_accuracy": statistics.fmean(peer_acc),
            "ours_steps_per_epoch": ours_steps[0],
            "peer_steps_per_epoch": len(train_labels) * longest,
        }
        if name in FLOPS_PER_STEP:
            flops_per_step = 3 * FLOPS_PER_STEP[name] * units * (embedding_dim + units)
            entry["ours_gflops"] = (
                flops_per_step * ours_steps[0] * entry["ours_samples_per_second"] / len(train_labels) / 1e9
            )
            entry["peer_gflops"] = flops_per_step * longest * entry["peer_samples_per_second"] / 1e9
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
        "buckets, cached and prefetched tf.data, masked recurrent layers). *Peer*: the same architecture "
        "written as the well-known Keras examples do (`pad_sequences` to the longest text, no mask, "
        "`fit` on NumPy arrays).",
        "",
        "| model | ours samples/s | peer samples/s | speed-up | ours test acc | peer test acc | "
        "ours GFLOP/s | peer GFLOP/s | ours % of matmul peak |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    peak = result["matmul_gflops"]
    for name, entry in text["models"].items():
        gflops = entry.get("ours_gflops")
        lines.append(
            f"| {name} | {entry['ours_samples_per_second']:,.0f} | {entry['peer_samples_per_second']:,.0f} | "
            f"{entry['speedup']:.2f}x | {entry['ours_test_accuracy']:.4f} | {entry['peer_test_accuracy']:.4f} | "
            + (
                f"{gflops:.2f} | {entry['peer_gflops']:.2f} | {100 * gflops / peak:.1f}% |"
                if gflops
                else "n/a | n/a | n/a |"
            )
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

    result = {
        "repeats": args.repeats,
        "matmul_gflops": matmul_gflops(size=512 if args.quick else 2048),
        "text_throughput": text_throughput(pathlib.Path(args.data_dir), args.repeats, args.quick),
        "latency": {"sentiment": sentiment_latency(args.quick)},
        "machine": harness.machine(),
        "command": harness.command_line(),
    }
    return harness.publish(args.results_dir, "speed", result, markdown(result))
