"""Preprocess text once (with TensorFlow), train from the arrays on any backend.

The "preprocess once, train anywhere" route of the sentiment recipe, for a
machine without TensorFlow. `export_text_arrays` (where TensorFlow is
installed) reads and splits the data and writes ids, labels and vocabulary
to one ``.npz``; `train_text_arrays` trains from that file on any Keras
backend without importing TensorFlow, and saves the integer-id model with
its vocabulary beside it (`rnn_apps.backend.save_text_model`), so predict
still takes raw text::

    python -m bench.text_arrays export-text --data imdb_reviews --output imdb.npz
    KERAS_BACKEND=jax python -m bench.text_arrays train-text imdb.npz --model lstm --output-dir runs/imdb-jax

The library keeps only what lets an id model take raw text
(`rnn_apps.backend.WordVectorizer`, `TextModel`, `save_text_model`); this
pipeline, a second training loop beside the recipe's, lives here with the
backend benchmarks that use it.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

import keras
import numpy as np

from rnn_apps import backend, errors


def export_text_arrays(data, vectorizer, sequence_length: int, path: str | os.PathLike) -> pathlib.Path:
    """Write a split text-classification set as ids, labels and vocabulary to ``.npz``.

    Args:
        data: a `rnn_apps.data.text.TextClassificationData`.
        vectorizer: the `TextVectorization` adapted on its training texts.
        sequence_length: ids kept per text.
        path: the ``.npz`` file to write.
    """
    from rnn_apps import io

    words = backend.WordVectorizer.from_layer(vectorizer, sequence_length)
    arrays = {}
    for part in ("train", "validation", "test"):
        texts, labels = getattr(data, part)
        arrays[f"{part}_ids"] = words(texts)
        arrays[f"{part}_labels"] = np.asarray(labels, dtype="int32")
        arrays[f"{part}_texts"] = np.asarray([str(t) for t in texts])
    arrays["class_names"] = np.asarray([str(c) for c in data.class_names])
    arrays["config"] = np.asarray(json.dumps(words.to_config() | {"name": data.name}))
    path = pathlib.Path(path)
    with io.atomic_path(path, suffix=".npz") as temporary:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return path


def load_text_arrays(path: str | os.PathLike) -> dict:
    """Read a file written by `export_text_arrays` (no TensorFlow needed).

    Returns:
        A dict with ``train``, ``validation``, ``test`` as ``(ids, labels,
        texts)``, ``class_names``, ``vectorizer`` (a `rnn_apps.backend.WordVectorizer`) and
        ``name``.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise errors.expected("an .npz file written by `export-text`", str(path))
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        config = json.loads(str(arrays["config"]))
    except (OSError, ValueError, KeyError) as error:
        raise errors.expected("an .npz file written by `export-text`", f"{path} ({error})") from None
    result = {
        part: (arrays[f"{part}_ids"], arrays[f"{part}_labels"], arrays[f"{part}_texts"].tolist())
        for part in ("train", "validation", "test")
    }
    result["class_names"] = arrays["class_names"].tolist()
    result["vectorizer"] = backend.WordVectorizer(
        config["vocabulary"], config["sequence_length"], config["standardize"]
    )
    result["name"] = config.get("name", path.stem)
    return result


class ArrayBatches(keras.utils.PyDataset):
    """Batches of right-padded ids, each cut to its own longest row (any backend).

    Args:
        ids: ``(rows, sequence_length)`` int ids, 0 as padding on the right.
        labels: ``(rows,)`` labels.
        batch_size: rows per batch.
        shuffle: reshuffle the rows every epoch.
        seed: shuffling seed.
        trim: cut each batch to its longest row (for masked recurrent
            models); `False` keeps the full length (for the CNN).
    """

    def __init__(self, ids, labels, batch_size: int, shuffle: bool = False, seed: int = 0, trim: bool = True):
        super().__init__()
        self.ids, self.labels = np.asarray(ids), np.asarray(labels)
        self.batch_size, self.shuffle, self.trim = batch_size, shuffle, trim
        self.random = np.random.default_rng(seed)
        self.order = self.random.permutation(len(self.ids)) if shuffle else np.arange(len(self.ids))

    def __len__(self):
        return -(-len(self.ids) // self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        ids = self.ids[rows]
        if self.trim:
            longest = max(1, int((ids != 0).sum(axis=1).max()))
            ids = ids[:, :longest]
        return ids, self.labels[rows]

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.random.permutation(len(self.ids))


def train_text_arrays(
    path,
    model_name: str,
    output_dir,
    epochs: int = 2,
    batch_size: int = 64,
    units: int = 32,
    embedding_dim: int = 32,
    seed: int = 0,
    verbose=0,
) -> dict:
    """Train one sentiment-style classifier from an exported ``.npz`` without TensorFlow.

    Writes ``metrics.json`` and ``comparison.md`` (the model and the
    majority baseline), ``models/<name>.keras`` with its
    ``.vocabulary.json``, and the training log, as a recipe run does.

    Returns:
        The report (the ``metrics.json`` content).
    """
    from rnn_apps import io, metrics
    from rnn_apps.harness import baselines, compare, training
    from rnn_apps.layers import encoders, heads
    from rnn_apps.tasks import classifiers

    arrays = load_text_arrays(path)
    class_names, words = arrays["class_names"], arrays["vectorizer"]
    num_classes = len(class_names)
    training.set_seed(seed)
    config = encoders.EncoderConfig(model=model_name, units=units)
    if model_name == "cnn":
        config = encoders.EncoderConfig(model="cnn", cnn_kind="multi_width", filters=100, kernel_sizes=(3, 4, 5))
    core = classifiers.sequence_classifier(config, num_classes, words.vocabulary_size(), embedding_dim=embedding_dim)
    classifiers.compile_classifier(core, num_classes)
    train_ids, train_labels, _ = arrays["train"]
    validation_ids, validation_labels, _ = arrays["validation"]
    test_ids, test_labels, test_texts = arrays["test"]
    trim = config.is_recurrent
    fitted = training.fit(
        core,
        ArrayBatches(train_ids, train_labels, batch_size, shuffle=True, seed=seed, trim=trim),
        ArrayBatches(validation_ids, validation_labels, batch_size, trim=trim),
        epochs=epochs,
        output_dir=output_dir,
        name=model_name,
        verbose=verbose,
    )
    model, model_path = backend.save_text_model(
        core, words, words.sequence_length, f"{output_dir}/models/{model_name}.keras"
    )
    io.write_json(pathlib.Path(model_path).with_suffix(".json"), {"class_names": class_names, "task": "arrays"})
    probabilities = np.concatenate(
        [model.predict_on_batch(test_texts[i : i + 256]) for i in range(0, len(test_texts), 256)]
    )
    predicted = heads.probabilities_to_labels(probabilities, num_classes)
    result = compare.trained_result(
        model_name,
        core,
        fitted,
        metrics.classification_metrics(test_labels, predicted, num_classes),
        predict_batch=model.predict_on_batch,
        timing_inputs=test_texts[:512],
        output_dir=output_dir,
        model_path=model_path,
    )
    baseline, _ = baselines.majority_class(train_labels, test_labels, num_classes, test_texts)
    report = compare.build_report(
        "sentiment",
        arrays["name"],
        "binary" if num_classes == 2 else "multiclass",
        "accuracy",
        [result, baseline],
        class_names=class_names,
        seed=seed,
        config={"backend": backend.name(), "preprocessed": str(path), "epochs": epochs, "units": units},
    )
    compare.publish(output_dir, report, {model_name: fitted.history})
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.text_arrays", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export-text", help="read and split texts (needs TensorFlow); write ids to .npz")
    export.add_argument("--data", default="sample", help="as the sentiment recipe's --data")
    export.add_argument("--output", required=True, help=".npz file to write")
    export.add_argument("--task", choices=("binary", "multiclass"), default="binary")
    export.add_argument("--vocabulary-size", type=int, default=20000)
    export.add_argument("--sequence-length", type=int, default=300)
    export.add_argument("--seed", type=int, default=0)
    train = commands.add_parser("train-text", help="train a classifier from an exported .npz (no TensorFlow)")
    train.add_argument("arrays", help=".npz file written by export-text")
    train.add_argument("--model", choices=("simple_rnn", "lstm", "gru", "cnn"), default="lstm")
    train.add_argument("--output-dir", required=True)
    train.add_argument("--epochs", type=int, default=2)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--units", type=int, default=32)
    train.add_argument("--embedding-dim", type=int, default=32)
    train.add_argument("--seed", type=int, default=0)
    return parser


def main(argv=None) -> int:
    """``export-text`` / ``train-text``; a bad input exits with status 2 and one line."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "export-text":
            from rnn_apps import paths
            from rnn_apps.data import text

            source = paths.bundled("sentiment/amazon_review_snippets.csv") if args.data == "sample" else args.data
            data = text.load_text_classification(source, seed=args.seed, binary=args.task == "binary")
            vectorizer = text.make_vectorizer(data.train[0], vocabulary_size=args.vocabulary_size)
            written = export_text_arrays(data, vectorizer, args.sequence_length, args.output)
            print(f"wrote {written}: rows {data.sizes()}, vocabulary {vectorizer.vocabulary_size()}")
        else:
            report = train_text_arrays(
                args.arrays,
                args.model,
                args.output_dir,
                args.epochs,
                args.batch_size,
                args.units,
                args.embedding_dim,
                args.seed,
            )
            entry = report["models"][args.model]
            print(
                f"{args.model} on {backend.name()}: accuracy {entry['metrics']['accuracy']:.4f}, "
                f"train {entry['train_seconds']:.1f} s"
            )
    except errors.InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
