"""Keras backends: what each can hold inside a saved model, and text ids without TensorFlow.

The cookbook runs on the three Keras 3 backends (``KERAS_BACKEND`` =
``tensorflow``, ``jax`` or ``torch``). Factories, heads and the training
harness are the same everywhere; what differs is what a saved model may
contain. Only TensorFlow has string tensors, so a `TextVectorization` or
`StringLookup` inside a model (the raw-string models the text recipes save
by default) needs the TensorFlow backend. Under JAX or PyTorch the text
recipes save the integer-id model instead, with its vocabulary beside it in
``<model>.vocabulary.json``; `WordVectorizer` turns raw text into the same
ids in plain Python (`TaggerModel` does the lookups of a tagger,
`rnn_apps.tasks.seq2seq.IdTranslator` those of a translator's source sentence and
target prefix), so predicting needs neither TensorFlow nor string tensors.
Every recipe runs on every backend (`ON_OTHER_BACKENDS`; `NEEDS_TENSORFLOW`
is empty).

`export_text_arrays` and `train_text_arrays` are the "preprocess once,
train anywhere" route of the sentiment recipe: the first (on a machine with
TensorFlow) reads and splits the data and writes ids, labels and vocabulary
to one ``.npz``; the second trains from that file on any backend without
importing TensorFlow::

    python -m rnn_apps.backend export-text --data imdb_reviews --output imdb.npz
    KERAS_BACKEND=jax python -m rnn_apps.backend train-text imdb.npz --model lstm --output-dir runs/imdb-jax

Examples:
    >>> words = WordVectorizer(["film", "good"], sequence_length=4)
    >>> words(["A good, GOOD film!", "bad"]).tolist()
    [[1, 3, 3, 2], [1, 0, 0, 0]]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import sys

import keras
import numpy as np

from rnn_apps import errors

STRING_BACKENDS = ("tensorflow",)
"""Backends whose models can take raw strings (string tensors)."""

NEEDS_TENSORFLOW: dict[str, str] = {}
"""Recipes that run on the TensorFlow backend only, and why."""

ON_OTHER_BACKENDS = {
    "sentiment": "saves the integer-id model and its vocabulary (`<model>.vocabulary.json`); predict takes raw text",
    "text_analysis": "saves the integer-id tagger and its vocabularies (`<model>.vocabulary.json`); predict takes text",
    "speech": "unchanged",
    "stocks": "unchanged",
    "video": "unchanged",
    "translation": "saves the integer-id inference model and both vocabularies (`<model>.vocabulary.json`); "
    "decoding and predict take raw text",
}
"""Recipes that run on JAX and PyTorch too, and what differs there."""

# The punctuation `TextVectorization(standardize="lower_and_strip_punctuation")`
# removes, and the ASCII whitespace `tf.strings.split` splits on.
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def name() -> str:
    """The running Keras backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


def strings_in_models(backend: str | None = None) -> bool:
    """Whether a model can take raw strings on ``backend`` (default: the running one).

    Examples:
        >>> strings_in_models("jax"), strings_in_models("tensorflow")
        (False, True)
    """
    return (backend or name()) in STRING_BACKENDS


def vocabulary_path(model_path: str | os.PathLike) -> pathlib.Path:
    """Where the vocabulary of an integer-id text model lies: ``<model>.vocabulary.json``."""
    return pathlib.Path(model_path).with_suffix(".vocabulary.json")


class WordVectorizer:
    """Text to word ids in plain Python, as `TextVectorization` does it.

    Standardization lower-cases ASCII letters and strips ASCII punctuation
    (``"lower_and_strip_punctuation"``), words are split on whitespace, id 0
    is padding and id 1 any word outside the vocabulary; texts are cut or
    right-padded to ``sequence_length``.

    Args:
        vocabulary: the words, most frequent first, without ``""`` and
            ``"[UNK]"``.
        sequence_length: ids per text.
        standardize: ``"lower_and_strip_punctuation"``, ``"lower"``,
            ``"strip_punctuation"`` or `None`.
    """

    def __init__(self, vocabulary, sequence_length: int, standardize: str | None = "lower_and_strip_punctuation"):
        errors.check_positive(sequence_length, "sequence_length")
        choices = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
        if standardize not in choices:
            raise errors.expected(f"one of {list(choices)}", standardize, name="standardize")
        self.vocabulary = [str(word) for word in vocabulary]
        self.sequence_length = int(sequence_length)
        self.standardize = standardize
        self._ids = {word: index + 2 for index, word in enumerate(self.vocabulary)}

    @classmethod
    def from_layer(cls, layer, sequence_length: int) -> WordVectorizer:
        """The same vectorization as an adapted `keras.layers.TextVectorization`."""
        config = layer.get_config()
        if config.get("split") != "whitespace" or config.get("ngrams"):
            raise errors.expected("a whitespace-split TextVectorization without ngrams", config.get("split"))
        return cls(layer.get_vocabulary(include_special_tokens=False), sequence_length, config["standardize"])

    def vocabulary_size(self) -> int:
        """Ids in use, padding and out-of-vocabulary included."""
        return len(self.vocabulary) + 2

    def words(self, text: str) -> list[str]:
        """The standardized words of one text."""
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.translate(_ASCII_LOWER)
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = _PUNCTUATION.sub("", text)
        return [word for word in _WHITESPACE.split(text) if word]

    def __call__(self, texts) -> np.ndarray:
        """``(len(texts), sequence_length)`` int32 ids, right-padded with 0."""
        ids = np.zeros((len(texts), self.sequence_length), dtype="int32")
        for row, text in enumerate(texts):
            found = [self._ids.get(word, 1) for word in self.words(str(text))][: self.sequence_length]
            ids[row, : len(found)] = found
        return ids

    def to_config(self) -> dict:
        return {
            "vocabulary": self.vocabulary,
            "sequence_length": self.sequence_length,
            "standardize": self.standardize,
        }

    def save(self, path: str | os.PathLike) -> pathlib.Path:
        """Write the vocabulary and settings as JSON (atomically)."""
        from rnn_apps import io

        return io.write_json(path, self.to_config())

    @classmethod
    def load(cls, path: str | os.PathLike) -> WordVectorizer:
        config = json.loads(pathlib.Path(path).read_text())
        return cls(config["vocabulary"], config["sequence_length"], config.get("standardize"))


class TextModel:
    """An integer-id model and its `WordVectorizer`, called on raw texts.

    Stands in for a raw-string model where the backend has no string
    tensors: ``predict_on_batch(texts)`` vectorizes in Python, then runs
    the model.
    """

    def __init__(self, model: keras.Model, vectorizer: WordVectorizer):
        self.model = model
        self.vectorizer = vectorizer
        self.name = model.name
        # What a caller feeds: one raw text per row, as to a string model.
        self.inputs = [keras.KerasTensor((None,), dtype="string", name="text")]

    def predict_on_batch(self, texts):
        return keras.ops.convert_to_numpy(self.model.predict_on_batch(self.vectorizer(list(texts))))


def takes_strings(model: keras.Model) -> bool:
    """Whether a model's (first) input is a string tensor."""
    inputs = model.inputs if isinstance(model.inputs, list) else [model.inputs]
    return "string" in str(inputs[0].dtype)


def load_text_model(model_path: str | os.PathLike):
    """Load a text model saved by a recipe: the raw-string model or `TextModel`.

    A model with a ``.vocabulary.json`` beside it (saved under JAX or
    PyTorch) is wrapped with its `WordVectorizer`; a raw-string model is
    returned as it is (it needs the TensorFlow backend).
    """
    model = keras.models.load_model(model_path)
    sidecar = vocabulary_path(model_path)
    if not takes_strings(model) and sidecar.exists():
        return TextModel(model, WordVectorizer.load(sidecar))
    return model


def save_text_model(core: keras.Model, vectorizer, sequence_length: int, path, string_model=None):
    """Save a text classifier the way the running backend allows.

    On TensorFlow ``string_model()`` (the raw-string model) is saved. On
    other backends the integer-id ``core`` is saved and its vocabulary is
    written to ``<path>.vocabulary.json``.

    Args:
        core: the trained integer-id model.
        vectorizer: the adapted `TextVectorization` (or a `WordVectorizer`).
        sequence_length: ids per text the saved model reads.
        path: the ``.keras`` file.
        string_model: callable returning the raw-string model (TensorFlow).

    Returns:
        ``(model, path)``: what to predict with (a Keras model or a
        `TextModel`) and the saved file.
    """
    from rnn_apps import io

    if string_model is not None and strings_in_models():
        model = string_model()
        return model, io.save_model(model, path)
    words = vectorizer
    if not isinstance(words, WordVectorizer):
        words = WordVectorizer.from_layer(vectorizer, sequence_length)
    saved = io.save_model(core, path)
    words.save(vocabulary_path(saved))
    return TextModel(core, words), saved


class TaggerModel:
    """An integer-id tagger and its vocabularies, called on token strings.

    Takes what a raw-string tagger takes (`rnn_apps.data.tagging.model_inputs`:
    ``tokens`` and, with character features, ``characters``, padded with
    ``""``) and looks the strings up in Python as `StringLookup` would:
    ``""`` is 0, an unknown item 1, vocabulary item ``i`` is ``i + 2``.
    """

    def __init__(self, model: keras.Model, words, chars=None, lowercase: bool = False):
        self.model, self.lowercase, self.name = model, lowercase, model.name
        self.words = {word: index + 2 for index, word in enumerate(words)} | {"": 0}
        self.chars = {char: index + 2 for index, char in enumerate(chars or [])} | {"": 0}
        self.output_shape = model.output_shape
        # What a caller feeds, as to the raw-string tagger.
        self.inputs = [keras.KerasTensor((None, None), dtype="string", name="tokens")]
        if chars:
            char_length = model.inputs[1].shape[-1] if len(model.inputs) > 1 else None
            self.inputs.append(keras.KerasTensor((None, None, char_length), dtype="string", name="characters"))

    def _lookup(self, strings, index, lower=False):
        strings = np.asarray(strings, dtype=object)
        found = [index.get(s.translate(_ASCII_LOWER) if lower and s else s, 1) for s in strings.ravel().tolist()]
        return np.asarray(found, dtype="int32").reshape(strings.shape)

    def predict_on_batch(self, inputs: dict):
        feed = {"token_ids": self._lookup(inputs["tokens"], self.words, self.lowercase)}
        if "characters" in inputs:
            feed["char_ids"] = self._lookup(inputs["characters"], self.chars)
        # A direct call, not predict_on_batch: a CRF tagger's decoder shares the CRF's
        # variables, and JAX's compiled predict step refuses a variable passed twice.
        return keras.ops.convert_to_numpy(self.model(feed, training=False))

    def save_vocabularies(self, path: str | os.PathLike) -> pathlib.Path:
        from rnn_apps import io

        by_id = lambda index: [item for item, _ in sorted(index.items(), key=lambda pair: pair[1]) if item]  # noqa: E731
        chars = by_id(self.chars) or None
        return io.write_json(path, {"words": by_id(self.words), "chars": chars, "lowercase": self.lowercase})


def load_tagger(model_path: str | os.PathLike):
    """Load a tagger saved by the text-analysis recipe: the raw-string model or a `TaggerModel`."""
    model = keras.models.load_model(model_path)
    sidecar = vocabulary_path(model_path)
    if not takes_strings(model) and sidecar.exists():
        saved = json.loads(sidecar.read_text())
        return TaggerModel(model, saved["words"], saved.get("chars"), saved.get("lowercase", False))
    return model


# --------------------------------------------------------------------------
# Preprocess once (with TensorFlow), train from arrays anywhere


def export_text_arrays(data, vectorizer, sequence_length: int, path: str | os.PathLike) -> pathlib.Path:
    """Write a split text-classification set as ids, labels and vocabulary to ``.npz``.

    Args:
        data: a `rnn_apps.data.text.TextClassificationData`.
        vectorizer: the `TextVectorization` adapted on its training texts.
        sequence_length: ids kept per text.
        path: the ``.npz`` file to write.
    """
    from rnn_apps import io

    words = WordVectorizer.from_layer(vectorizer, sequence_length)
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
        texts)``, ``class_names``, ``vectorizer`` (a `WordVectorizer`) and
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
    result["vectorizer"] = WordVectorizer(config["vocabulary"], config["sequence_length"], config["standardize"])
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
    model, model_path = save_text_model(core, words, words.sequence_length, f"{output_dir}/models/{model_name}.keras")
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
        config={"backend": name(), "preprocessed": str(path), "epochs": epochs, "units": units},
    )
    compare.publish(output_dir, report, {model_name: fitted.history})
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rnn_apps.backend", description=__doc__.splitlines()[0])
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
                f"{args.model} on {name()}: accuracy {entry['metrics']['accuracy']:.4f}, "
                f"train {entry['train_seconds']:.1f} s"
            )
    except errors.InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
