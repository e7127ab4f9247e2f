"""Text data: loaders for labelled texts, vectorization, and tf.data pipelines.

Sources a text-classification recipe can read, all returning the same
`TextClassificationData`:

- a CSV or TSV file with a text column and a label column;
- the sentence-polarity layout: ``rt-polarity.pos`` and ``rt-polarity.neg``
  (Latin-1), given as their folder or as either file;
- a folder in the aclImdb layout: ``train/<class>/*.txt`` and optionally
  ``test/<class>/*.txt`` (an ``unsup`` folder is ignored), or just
  ``<class>/*.txt``, read with `keras.utils.text_dataset_from_directory`;
- a tensorflow-datasets name with supervised ``(text, label)`` keys, such as
  ``imdb_reviews``.

Vectorization uses `keras.layers.TextVectorization`; training batches are
padded per batch and bucketed by length, and the exported model takes raw
strings. This module is TensorFlow-only (tf.data, string ops), as the
design keeps such code in the data modules.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from rnn_apps import errors
from rnn_apps.data import splits

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
POLARITY_FILES = ("rt-polarity.neg", "rt-polarity.pos")
IGNORED_CLASS_FOLDERS = ("unsup",)
TFDS_NAME = re.compile(r"[a-z][a-z0-9_]*(/[a-z0-9_.\-]+)?(:[0-9.*]+)?")
"""A tensorflow-datasets name, with an optional config and version (``glue/sst2``, ``imdb_reviews:1.0.0``)."""


@dataclasses.dataclass
class TextClassificationData:
    """Labelled texts split into train, validation and test parts.

    Attributes:
        name: a short description of the source, for reports.
        class_names: label names; label ``i`` is ``class_names[i]``.
        train: the training part, a ``(texts, labels)`` pair of NumPy arrays
            (texts as Python strings, labels as int64).
        validation: the validation part, as ``train``.
        test: the test part, as ``train``.
    """

    name: str
    class_names: list[str]
    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sizes(self) -> dict[str, int]:
        return {part: len(getattr(self, part)[1]) for part in ("train", "validation", "test")}


# --------------------------------------------------------------------------
# Loading


def _encode_labels(values, column: str) -> tuple[np.ndarray, list[str]]:
    """Map raw label values to 0..k-1 in sorted order; return ids and names."""
    values = pd.Series(values)
    if pd.api.types.is_numeric_dtype(values):
        if not np.all(np.equal(np.mod(values, 1), 0)):
            sample = sorted(set(values))[:5]
            raise errors.expected(f"whole-number class labels in column {column!r}", f"values such as {sample}")
        values = values.astype("int64")
    classes = sorted(set(values))
    index = {value: i for i, value in enumerate(classes)}
    return values.map(index).to_numpy("int64"), [str(value) for value in classes]


def _read_table(path: pathlib.Path, text_column: str, label_column: str):
    try:
        frame = pd.read_csv(path, sep=TABLE_SUFFIXES[path.suffix.lower()])
    except pd.errors.EmptyDataError:
        raise errors.expected(f"a {path.suffix} file with a header row and data", "an empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise errors.expected(f"a well-formed UTF-8 {path.suffix} file", f"{path} ({error})") from None
    missing = [c for c in (text_column, label_column) if c not in frame.columns]
    if missing:
        raise errors.expected(
            f"columns {text_column!r} and {label_column!r} in {path.name} "
            "(choose others with --text-column / --label-column)",
            f"columns {list(frame.columns)}",
        )
    frame = frame.dropna(subset=[text_column, label_column])
    if frame.empty:
        raise errors.expected(f"at least one labelled row in {path.name}", "none")
    labels, class_names = _encode_labels(frame[label_column], label_column)
    return frame[text_column].astype(str).to_numpy(object), labels, class_names


def _read_polarity(folder: pathlib.Path):
    texts, labels = [], []
    for label, filename in enumerate(POLARITY_FILES):
        lines = (folder / filename).read_text(encoding="latin-1").splitlines()
        kept = [line.strip() for line in lines if line.strip()]
        texts.extend(kept)
        labels.extend([label] * len(kept))
    return np.array(texts, dtype=object), np.array(labels, dtype="int64"), ["neg", "pos"]


def _read_labelled_lines(path: pathlib.Path):
    """Read the ``label text`` per line format (``rt-polarity.all``, ``TREC.train.all``)."""
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        content = raw.decode("latin-1")
    labels, texts = [], []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        if not text.strip():
            raise errors.expected(f"'label text' on every line of {path.name}", f"line {number}: {line[:60]!r}")
        labels.append(label)
        texts.append(text.strip())
    if not texts:
        raise errors.expected(f"labelled lines in {path.name}", "an empty file")
    return np.array(texts, dtype=object), labels


def _labelled_line_sets(folder: pathlib.Path):
    """A folder holding one ``*train.all`` and one ``*test.all`` file, as TREC is shipped."""
    train = sorted(folder.glob("*train.all"))
    test = sorted(folder.glob("*test.all"))
    if len(train) == 1 and len(test) == 1:
        return train[0], test[0]
    return None


def _class_folders(folder: pathlib.Path) -> list[str]:
    return sorted(
        child.name
        for child in folder.iterdir()
        if child.is_dir() and child.name not in IGNORED_CLASS_FOLDERS and any(child.glob("*.txt"))
    )


def _read_class_folders(folder: pathlib.Path, class_names: list[str]):
    dataset = keras.utils.text_dataset_from_directory(
        folder, class_names=class_names, batch_size=None, shuffle=False, verbose=False
    )
    texts, labels = [], []
    for text, label in dataset.as_numpy_iterator():
        texts.append(text.decode("utf-8", errors="replace"))
        labels.append(int(label))
    return np.array(texts, dtype=object), np.array(labels, dtype="int64")


def _load_tfds(name: str, data_dir: str | None):
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # tfds raises several types for unknown names
        raise errors.expected(
            "'sample', an existing file or folder, or a tensorflow-datasets name",
            f"{name!r} ({type(error).__name__})",
            name="--data",
        ) from None
    keys = builder.info.supervised_keys
    if not keys or len(keys) != 2:
        raise errors.expected(f"a dataset with supervised (text, label) keys; {name} has", keys)
    text_feature = builder.info.features[keys[0]]
    if getattr(text_feature, "tf_dtype", None) != tf.string:
        raise errors.expected(
            f"a dataset whose supervised input is text; {name}'s {keys[0]!r} is", type(text_feature).__name__
        )
    class_names = list(getattr(builder.info.features[keys[1]], "names", None) or [])
    # Split names are known once the dataset is prepared; before that, try
    # the usual ones and let tfds say which exist.
    available = list(builder.info.splits.keys()) or ["train", "test", "validation"]
    if "train" not in available:
        raise errors.expected(f"a 'train' split in {name}", f"splits {available}")

    def read(split):
        dataset = tfds.load(name, split=split, as_supervised=True, data_dir=data_dir)
        texts, labels = [], []
        for text, label in tfds.as_numpy(dataset):
            texts.append(text.decode("utf-8", errors="replace"))
            labels.append(int(label))
        return np.array(texts, dtype=object), np.array(labels, dtype="int64")

    train = read("train")
    test = None
    # Some sets (GLUE) hide their test labels as -1; fall back to validation.
    for split in ("test", "validation"):
        if split in available:
            candidate = read(split)
            if len(candidate[1]) and candidate[1].min() >= 0:
                test = candidate
                break
    if not class_names:
        class_names = [str(i) for i in range(int(train[1].max()) + 1)]
    return train, test, class_names


def load_text_classification(
    source: str | pathlib.Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    binary: bool = False,
    tfds_data_dir: str | None = None,
    folds: int | None = None,
    fold: int = 0,
) -> TextClassificationData:
    """Load labelled texts from a file, a folder or tensorflow-datasets.

    When the source has its own test set (aclImdb ``test/`` folder, a tfds
    ``test`` split) it is used as is and only a validation part is held out
    of the training rows; otherwise a stratified test part is held out too.

    Args:
        source: a path (CSV/TSV file, polarity files or folder, aclImdb-style
            folder) or a tensorflow-datasets name.
        text_column: text column of a CSV/TSV file.
        label_column: label column of a CSV/TSV file.
        validation_fraction: fraction of the training rows held out for
            early stopping and model selection.
        test_fraction: fraction of all rows held out for testing, when the
            source has no test set of its own.
        seed: seed of the split.
        binary: require exactly two classes.
        tfds_data_dir: tensorflow-datasets data folder (default: its own).
        folds: when set, test on fold ``fold`` of a stratified ``folds``-fold
            cross-validation instead of a random test part (for sources
            without a test set of their own, such as MR).
        fold: which fold to test on, in ``[0, folds)``.

    Returns:
        A `TextClassificationData`.

    Raises:
        rnn_apps.errors.InputError: a missing, empty or malformed source, a
            missing column, or not two classes where ``binary`` is set.
    """
    path = pathlib.Path(source)
    own_test = None
    if path.is_file():
        suffix = path.suffix.lower()
        if path.name in POLARITY_FILES or suffix in (".pos", ".neg"):
            texts, labels, class_names = _read_polarity(path.parent)
        elif suffix in TABLE_SUFFIXES:
            texts, labels, class_names = _read_table(path, text_column, label_column)
        elif suffix == ".all":
            texts, raw_labels = _read_labelled_lines(path)
            labels, class_names = _encode_labels(raw_labels, "label")
        else:
            raise errors.expected("a .csv or .tsv file, rt-polarity.pos/.neg, or a folder", path.name, name="--data")
        name = path.name
    elif path.is_dir():
        name = path.name
        if all((path / filename).is_file() for filename in POLARITY_FILES):
            texts, labels, class_names = _read_polarity(path)
        elif _labelled_line_sets(path):
            train_file, test_file = _labelled_line_sets(path)
            texts, train_labels = _read_labelled_lines(train_file)
            test_texts, test_labels = _read_labelled_lines(test_file)
            labels, class_names = _encode_labels(train_labels + test_labels, "label")
            own_test = (test_texts, labels[len(train_labels) :])
            labels = labels[: len(train_labels)]
        else:
            root = path / "train" if (path / "train").is_dir() else path
            class_names = _class_folders(root)
            if len(class_names) < 2:
                raise errors.expected(
                    "rt-polarity.pos/.neg, or one sub-folder of .txt files per class "
                    f"(optionally under train/ and test/) in {path}",
                    f"class folders {class_names}",
                )
            texts, labels = _read_class_folders(root, class_names)
            if root != path and (path / "test").is_dir():
                own_test = _read_class_folders(path / "test", class_names)
    elif str(source).endswith((".csv", ".tsv", ".pos", ".neg")) or not TFDS_NAME.fullmatch(str(source)):
        raise errors.expected("an existing file or folder", str(source), name="--data")
    else:
        (texts, labels), own_test, class_names = _load_tfds(str(source), tfds_data_dir)
        name = str(source)

    if len(labels) == 0:
        raise errors.expected(f"labelled texts in {name}", "none")
    if binary and len(class_names) != 2:
        raise errors.expected(
            "binary labels (exactly 2 classes; use --task multiclass for more)",
            f"{len(class_names)} classes {class_names[:10]}",
        )
    if folds is not None:
        if own_test is not None:
            raise errors.expected("a source without its own test set for --folds", name)
        parts = splits.cross_validation_split(labels, folds, fold, validation_fraction, seed)
    else:
        parts = splits.stratified_split(
            labels,
            validation_fraction=validation_fraction,
            test_fraction=0.0 if own_test is not None else test_fraction,
            seed=seed,
        )
    test = own_test if own_test is not None else (texts[parts.test], labels[parts.test])
    return TextClassificationData(
        name=name,
        class_names=class_names,
        train=(texts[parts.train], labels[parts.train]),
        validation=(texts[parts.validation], labels[parts.validation]),
        test=test,
    )


# --------------------------------------------------------------------------
# Vectorization and pipelines


def make_vectorizer(
    texts,
    vocabulary_size: int = 20000,
    standardize: str = "lower_and_strip_punctuation",
    name: str = "vectorizer",
) -> keras.layers.TextVectorization:
    """A word-level `TextVectorization` adapted on ``texts`` (training texts only).

    Id 0 is padding and id 1 stands for out-of-vocabulary words. The layer
    returns ragged ids, so each batch can be padded to its own longest text.

    Examples:
        >>> v = make_vectorizer(["a good film", "a bad film"], vocabulary_size=10)
        >>> [str(word) for word in v.get_vocabulary()[:3]]
        ['', '[UNK]', 'film']
    """
    errors.check_positive(vocabulary_size, "vocabulary_size")
    # Ragged output exists on the TensorFlow backend only; `vectorize`
    # makes the dense ids of the other backends ragged again.
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocabulary_size, standardize=standardize, ragged=keras.backend.backend() == "tensorflow", name=name
    )
    vectorizer.adapt(tf.constant(list(texts), dtype=tf.string))
    return vectorizer


def vectorize(vectorizer, texts, sequence_length: int) -> tf.RaggedTensor:
    """Token ids of ``texts`` as a ragged tensor, each cut to ``sequence_length``."""
    ids = vectorizer(tf.constant(list(texts), dtype=tf.string))
    if not isinstance(ids, tf.RaggedTensor):
        # JAX / PyTorch backends: dense ids right-padded with 0 (no real word has id 0).
        ids = tf.RaggedTensor.from_tensor(keras.ops.convert_to_numpy(ids), padding=0)
    return ids[:, :sequence_length]


def bucket_boundaries(lengths, num_buckets: int = 6) -> list[int]:
    """Length boundaries that split ``lengths`` into roughly equal buckets.

    Examples:
        >>> bucket_boundaries([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], num_buckets=2)
        [6]
    """
    if not len(lengths):
        raise errors.expected("at least one length to bucket", "none")
    quantiles = np.quantile(np.asarray(lengths), np.linspace(0, 1, num_buckets + 1)[1:-1])
    return sorted({int(q) + 1 for q in quantiles})


@tf.autograph.experimental.do_not_convert
def _as_dense_row(ids, label):
    return ids, label


def token_dataset(
    token_ids: tf.RaggedTensor,
    labels,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    bucket: bool = False,
    pad_to: int | None = None,
) -> tf.data.Dataset:
    """A batched ``(ids, label)`` dataset, right-padded with 0 per batch.

    Args:
        token_ids: ragged ``(rows, None)`` ids.
        labels: int labels, one per row.
        batch_size: rows per batch.
        shuffle: reshuffle every epoch (training).
        seed: shuffle seed.
        bucket: group texts of similar length into the same batch, so less
            padding is computed (training; order is not kept).
        pad_to: pad every batch to this fixed length instead (for models
            that cannot mask padding, such as CNNs); rows must not be longer.

    Returns:
        A prefetched `tf.data.Dataset`.
    """
    labels = np.asarray(labels, dtype="int32")
    # Slicing a ragged tensor yields ragged-typed rows; passing them through a
    # map turns them into plain tensors, which padded batching requires.
    dataset = tf.data.Dataset.from_tensor_slices((token_ids, labels)).map(_as_dense_row)
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    if pad_to is not None:
        dataset = dataset.padded_batch(batch_size, padded_shapes=([pad_to], []))
    elif bucket:
        lengths = token_ids.row_lengths().numpy()
        boundaries = bucket_boundaries(lengths)
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda ids, label: tf.shape(ids)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        )
    else:
        dataset = dataset.padded_batch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE)


def string_model(
    vectorizer: keras.layers.TextVectorization,
    model: keras.Model,
    sequence_length: int,
    name: str | None = None,
) -> keras.Model:
    """Wrap a token-id model so it takes raw strings.

    The returned model holds its own `TextVectorization` with the same
    vocabulary and standardization, cutting or padding to
    ``sequence_length``; it saves to ``.keras`` and reloads with
    `keras.models.load_model` in a fresh process.

    Args:
        vectorizer: the adapted training vectorizer.
        model: a model from ``(batch, time)`` ids to outputs.
        sequence_length: tokens kept per text.
        name: model name; defaults to ``model.name``.

    Returns:
        A `keras.Model` from ``(batch,)`` strings to ``model``'s outputs.
    """
    config = vectorizer.get_config()
    export_vectorizer = keras.layers.TextVectorization(
        max_tokens=config["max_tokens"],
        standardize=config["standardize"],
        split=config["split"],
        output_sequence_length=sequence_length,
        vocabulary=vectorizer.get_vocabulary(include_special_tokens=False),
        name="vectorizer",
    )
    text = keras.Input(shape=(), dtype="string", name="text")
    outputs = model(export_vectorizer(text))
    return keras.Model(text, outputs, name=name or model.name)
