"""Text data: loaders for labelled texts, vectorization, and tf.data pipelines.

Sources a text-classification recipe can read, all returning the same
`TextClassificationData`:

- a CSV or TSV file with a text column and a label column;
- a file of ``label text`` lines (TREC's ``.all``; ``.train``, ``.dev``,
  ``.test``); a line with a label and no text is left out with a notice;
- the sentence-polarity layout: ``rt-polarity.pos`` and ``rt-polarity.neg``
  (Latin-1 as shipped, unless ``--encoding`` names another codec), given as
  their folder or as either file;
- a folder of train, dev (``valid``, ``validation``) and test files of those
  kinds, found by the words in their names (``stsa.binary.train`` /
  ``.dev`` / ``.test``, ``train.csv`` / ``dev.csv`` / ``test.csv``,
  ``TREC.train.all`` / ``TREC.test.all``); dev and test are optional;
- a folder in the aclImdb layout: ``train/<class>/*.txt`` and optionally
  ``test/<class>/*.txt`` (an ``unsup`` folder is ignored), or just
  ``<class>/*.txt``, in the order of `keras.utils.text_dataset_from_directory`;
- a tensorflow-datasets name with supervised ``(text, label)`` keys, such as
  ``imdb_reviews``.

Files are decoded with one codec (``encoding``, see
`rnn_apps.data.text_files`): a byte that does not decode is an error naming
its file and line. A validation or test part of the user's own
(``--validation-data``, ``--test-data``) is read by `read_labelled_texts`
and replaces the part that would be held out.

Vectorization uses `keras.layers.TextVectorization`; training batches are
padded per batch and bucketed by length, and the exported model takes raw
strings. This module is TensorFlow-only (tf.data, string ops), as the
design keeps such code in the data modules.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import pathlib
import re

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from rnn_apps import errors
from rnn_apps.data import splits, text_files

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
POLARITY_FILES = ("rt-polarity.neg", "rt-polarity.pos")
IGNORED_CLASS_FOLDERS = ("unsup",)
LABELLED_LINE_SUFFIXES = (".all", ".train", ".dev", ".valid", ".validation", ".test")
"""Suffixes of files with one ``label text`` per line (TREC's ``.all``, the ``stsa.binary.train`` family)."""
PART_NAMES = {"train": ("train",), "validation": ("dev", "valid", "validation", "val"), "test": ("test",)}
"""Words in a file's name that say which part it holds."""
LAYOUTS = (
    "a .csv or .tsv file with text and label columns",
    "a file of 'label text' lines (.all, .train, .dev, .test)",
    "rt-polarity.pos and rt-polarity.neg, or their folder",
    "a folder of train, dev (or valid, validation) and test files of those kinds "
    "(stsa.binary.train/.dev/.test, train.csv/dev.csv/test.csv, TREC.train.all/TREC.test.all; dev and test optional)",
    "a folder with one sub-folder of .txt files per class, optionally under train/ and test/ (aclImdb)",
    "a tensorflow-datasets name such as imdb_reviews",
)
"""Every source layout the loader reads, for the message that refuses another."""
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


def _read_table(path: pathlib.Path, text_column: str, label_column: str, encoding: str):
    content = text_files.read_text(path, encoding)
    try:
        frame = pd.read_csv(io.StringIO(content), sep=TABLE_SUFFIXES[path.suffix.lower()])
    except pd.errors.EmptyDataError:
        raise errors.expected(f"a {path.suffix} file with a header row and data", "an empty file") from None
    except pd.errors.ParserError as error:
        raise errors.expected(f"a well-formed {path.suffix} file", f"{path} ({error})") from None
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
    return frame[text_column].astype(str).to_numpy(object), list(frame[label_column])


def _read_polarity(folder: pathlib.Path, encoding: str):
    texts, labels = [], []
    for label, filename in zip(("neg", "pos"), POLARITY_FILES):
        raw = text_files.read_bytes(folder / filename)
        try:
            content = text_files.decode(raw, encoding, filename)
        except errors.InputError:
            # The files are shipped in Latin-1; only another --encoding than the default says otherwise.
            if encoding != text_files.DEFAULT_ENCODING:
                raise
            content = text_files.decode(raw, "latin-1", filename)
        kept = [line.strip() for line in text_files.split_lines(content) if line.strip()]
        texts.extend(kept)
        labels.extend([label] * len(kept))
    return np.array(texts, dtype=object), labels


def _read_labelled_lines(path: pathlib.Path, encoding: str):
    """Read the ``label text`` per line format (``TREC.train.all``, ``stsa.binary.dev``).

    A line holding a label and no text is left out, with one notice counting
    them; a file with no labelled text left is an `InputError`.
    """
    labels, texts, bare = [], [], []
    for number, line in enumerate(text_files.read_lines(path, encoding), start=1):
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        if not text.strip():
            bare.append(number)
            continue
        labels.append(label)
        texts.append(text.strip())
    if not texts:
        found = f"only labels, on {len(bare)} line(s)" if bare else "an empty file"
        raise errors.expected(f"labelled lines ('label text') in {path.name}", found)
    if bare:
        lines = ", ".join(str(number) for number in bare[:5]) + (", ..." if len(bare) > 5 else "")
        text_files.notice(f"left out {len(bare)} line(s) of {path.name} with a label and no text (line {lines})")
    return np.array(texts, dtype=object), labels


def _part_of(filename: str) -> str | None:
    """The part a file's name says it holds (``stsa.binary.dev``, ``train.csv``), or `None`."""
    words = set(re.split(r"[^a-z]+", filename.lower()))
    return next((part for part, names in PART_NAMES.items() if words & set(names)), None)


def _is_labelled_file(path: pathlib.Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in TABLE_SUFFIXES or suffix in LABELLED_LINE_SUFFIXES


def _split_files(folder: pathlib.Path) -> dict[str, pathlib.Path] | None:
    """Train (and validation, test) files of one folder, found by name, or `None` if there is no train file.

    Raises:
        rnn_apps.errors.InputError: two files claim the same part.
    """
    found: dict[str, list[pathlib.Path]] = {}
    for child in sorted(folder.iterdir()):
        part = _part_of(child.name)
        if child.is_file() and not child.name.startswith(".") and _is_labelled_file(child) and part:
            found.setdefault(part, []).append(child)
    if "train" not in found:
        return None
    doubled = {part: [file.name for file in files] for part, files in found.items() if len(files) > 1}
    if doubled:
        raise errors.expected(f"one file per part in {folder}", f"several for {doubled}")
    return {part: files[0] for part, files in found.items()}


def _class_folders(folder: pathlib.Path) -> list[str]:
    return sorted(
        child.name
        for child in folder.iterdir()
        if child.is_dir() and child.name not in IGNORED_CLASS_FOLDERS and any(child.glob("*.txt"))
    )


def _read_class_folders(folder: pathlib.Path, class_names: list[str], encoding: str):
    """Every ``.txt`` file under ``folder/<class>/``, in the order of `keras.utils.text_dataset_from_directory`.

    The files are read here rather than by that function so that a byte that
    does not decode is reported with its file and line.
    """
    texts, labels = [], []
    for name in class_names:
        for path in sorted((folder / name).rglob("*.txt")):
            if path.is_file():
                texts.append(text_files.decode(text_files.read_bytes(path), encoding, str(path)))
                labels.append(name)
    return np.array(texts, dtype=object), labels


def _refuse_layout(path, found) -> errors.InputError:
    return errors.expected(f"one of these layouts: {'; '.join(LAYOUTS)}", f"{path} ({found})", name="--data")


def read_labelled_texts(
    path: str | pathlib.Path, text_column: str = "text", label_column: str = "label", encoding: str = "utf-8"
) -> tuple[np.ndarray, list]:
    """All labelled texts of one file or folder, unsplit: ``(texts, raw labels)``.

    This reads one part, as ``--validation-data`` and ``--test-data`` give
    it: a CSV/TSV file, a ``label text`` file, the polarity files, or a
    folder of class sub-folders.

    Raises:
        rnn_apps.errors.InputError: a missing or malformed file, or a layout
            no reader takes (the message lists the ones there are).
    """
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if path.is_file() and (path.name in POLARITY_FILES or suffix in (".pos", ".neg")):
        return _read_polarity(path.parent, encoding)
    if path.is_file() and suffix in TABLE_SUFFIXES:
        return _read_table(path, text_column, label_column, encoding)
    if path.is_file() and suffix in LABELLED_LINE_SUFFIXES:
        return _read_labelled_lines(path, encoding)
    if path.is_file():
        raise _refuse_layout(path, f"a {suffix or 'suffix-less'} file")
    if path.is_dir() and all((path / filename).is_file() for filename in POLARITY_FILES):
        return _read_polarity(path, encoding)
    if path.is_dir():
        class_names = _class_folders(path)
        if len(class_names) < 2:
            raise _refuse_layout(path, f"class folders {class_names}")
        return _read_class_folders(path, class_names, encoding)
    raise errors.expected("an existing file or folder", str(path))


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


def _read_own_parts(path: pathlib.Path, text_column: str, label_column: str, encoding: str) -> dict:
    """``{part: (texts, raw labels)}`` of a file or folder; a folder may hold its own validation and test parts."""
    read = functools.partial(read_labelled_texts, text_column=text_column, label_column=label_column, encoding=encoding)
    if not path.is_dir() or all((path / filename).is_file() for filename in POLARITY_FILES):
        return {"train": read(path)}
    files = _split_files(path)
    if files:
        return {part: read(file) for part, file in files.items()}
    if (path / "train").is_dir():
        parts = {"train": read(path / "train")}
        if (path / "test").is_dir():
            parts["test"] = read(path / "test")
        return parts
    return {"train": read(path)}


def _encode_parts(parts: dict, name: str, known_classes: list[str] | None = None) -> tuple[dict, list[str]]:
    """Label ids of every part from one set of class names; refuse classes that training lacks.

    The names are sorted, unless the source lists its own (``known_classes``,
    tensorflow-datasets), whose order is kept.
    """
    order = list(parts)
    raw = [label for part in order for label in parts[part][1]]
    if known_classes is None:
        ids, class_names = _encode_labels(raw, "label")
    else:
        index = {str(i): i for i in range(len(known_classes))}
        index.update({str(label): i for i, label in enumerate(known_classes)})
        unknown = sorted({str(label) for label in raw} - set(index))
        if unknown:
            raise errors.expected(f"class names or ids of {name}, one of {known_classes}", unknown[:10])
        ids, class_names = np.array([index[str(label)] for label in raw], dtype="int64"), list(known_classes)
    encoded, start = {}, 0
    for part in order:
        texts = parts[part][0]
        encoded[part] = (np.asarray(texts, dtype=object), ids[start : start + len(texts)])
        start += len(texts)
    seen = {class_names[i] for i in encoded["train"][1].tolist()}
    for part in order:
        unseen = sorted({class_names[i] for i in encoded[part][1].tolist()} - seen)
        if unseen:
            raise errors.expected(f"only classes of the training data in the {part} part of {name}", unseen[:10])
    return encoded, class_names


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
    encoding: str = text_files.DEFAULT_ENCODING,
    validation_source: str | pathlib.Path | None = None,
    test_source: str | pathlib.Path | None = None,
) -> TextClassificationData:
    """Load labelled texts from a file, a folder or tensorflow-datasets.

    When the source has its own test or validation part (aclImdb ``test/``
    folder, a ``*.dev`` / ``*.test`` file beside the train file, a tfds
    ``test`` split, ``validation_source`` / ``test_source``) it is used as
    is; the parts it lacks are held out of the training rows, stratified.

    Args:
        source: a path (CSV/TSV file, ``label text`` file, polarity files or
            folder, a folder of train/dev/test files, an aclImdb-style
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
        encoding: the codec of the files (byte-order marks are ignored).
        validation_source: a file or folder holding the validation part,
            read like a file ``source``; it replaces the held-out part.
        test_source: the same for the test part.

    Returns:
        A `TextClassificationData`.

    Raises:
        rnn_apps.errors.InputError: a missing, empty or malformed source
            (bytes that do not decode name their line), a missing column,
            classes in a given part that training lacks, or not two classes
            where ``binary`` is set.
    """
    text_files.check_encoding(encoding)
    path = pathlib.Path(source)
    known_classes = None
    if path.exists():
        parts = _read_own_parts(path, text_column, label_column, encoding)
        name = path.name
    elif str(source).endswith((".csv", ".tsv", ".pos", ".neg")) or not TFDS_NAME.fullmatch(str(source)):
        raise errors.expected("an existing file or folder", str(source), name="--data")
    else:
        (texts, labels), own_test, known_classes = _load_tfds(str(source), tfds_data_dir)
        parts = {"train": (texts, [known_classes[i] for i in labels])}
        if own_test is not None:
            parts["test"] = (own_test[0], [known_classes[i] for i in own_test[1]])
        name = str(source)
    read = functools.partial(read_labelled_texts, text_column=text_column, label_column=label_column, encoding=encoding)
    for part, given in (("validation", validation_source), ("test", test_source)):
        if given is not None:
            parts[part] = read(given)
            name += f", {part} from {pathlib.Path(given).name}"

    if len(parts["train"][1]) == 0:
        raise errors.expected(f"labelled texts in {name}", "none")
    parts, class_names = _encode_parts(parts, name, known_classes)
    if binary and len(class_names) != 2:
        raise errors.expected(
            "binary labels (exactly 2 classes; use --task multiclass for more)",
            f"{len(class_names)} classes {class_names[:10]}",
        )
    texts, labels = parts["train"]
    if folds is not None:
        if len(parts) > 1:
            raise errors.expected("a source without its own validation or test part for --folds", name)
        split = splits.cross_validation_split(labels, folds, fold, validation_fraction, seed)
        parts["validation"] = (texts[split.validation], labels[split.validation])
        parts["test"] = (texts[split.test], labels[split.test])
    elif "test" not in parts:
        # The test part is held out of all rows; without an own validation part, the validation part after it.
        fractions = (validation_fraction, test_fraction) if "validation" not in parts else (test_fraction, 0.0)
        split = splits.stratified_split(labels, *fractions, seed=seed)
        held = split.test if "validation" not in parts else split.validation
        parts.setdefault("validation", (texts[split.validation], labels[split.validation]))
        parts["test"] = (texts[held], labels[held])
    elif "validation" not in parts:
        split = splits.stratified_split(labels, validation_fraction, 0.0, seed=seed)
        parts["validation"] = (texts[split.validation], labels[split.validation])
    else:
        split = splits.SplitIndices(np.arange(len(labels)), np.array([], "int64"), np.array([], "int64"))
    return TextClassificationData(
        name=name,
        class_names=class_names,
        train=(texts[split.train], labels[split.train]),
        validation=parts["validation"],
        test=parts["test"],
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
