"""Tagged sentences: loaders, IOB checks, tokenization, vocabularies and tf.data pipelines.

Sequence labelling gives one tag per token: named entities in IOB2
(``B-PER I-PER O B-LOC``), parts of speech (``PROPN VERB``), or chunks.
Sources, all returning the same `TaggingData`:

- CoNLL-style column files: one token per line, whitespace-separated
  columns with the token first, a blank line between sentences,
  ``-DOCSTART-`` lines skipped; the tag column is selectable (default: the
  last);
- the WikiANN layout (``en:Paris<TAB>B-LOC``): a language prefix that every
  token of a file carries (``en:``, ``fr:``, ...) is stripped;
- CoNLL-U files (``.conllu``): universal parts of speech by default
  (``--tag-column upos``; ``xpos`` or a column number also work); comment
  lines, multi-word token ranges (``1-2``) and empty nodes (``1.1``) are
  skipped;
- a tensorflow-datasets name with a ``tokens`` sequence and tag sequences,
  such as ``conll2003`` (``--tag-column ner``, ``pos`` or ``chunks``).

A file gives one split; a folder gives up to three, found by name
(``train``, ``dev``/``valid``, ``test``; CoNLL-2003's ``eng.testa`` is the
validation part and ``eng.testb`` the test part). Missing parts are held out of the
training sentences at random with the given seed.

Bad input and what happens:

- a line with fewer columns than the tag column, or a tensorflow-datasets
  example with more or fewer tags than tokens: `InputError` naming where;
- an unknown tag column name: `InputError` listing the ones there are;
- no sentences at all: `InputError`;
- empty sentences (no tokens, possible in tensorflow-datasets): dropped,
  with one notice on stderr;
- invalid IOB transitions (``I-X`` after ``O`` or after a tag of another
  type, as in IOB1 files such as the original CoNLL-2003): repaired to
  IOB2 by turning the ``I-X`` into ``B-X``, with one notice on stderr
  giving the count; with ``strict_iob=True`` they are refused instead.

Tokenization of raw text happens in one place, `tokenize`, and the saved
models take its output through `model_inputs`, so training data (already
tokenized) and prediction meet at the same token format.

This module is TensorFlow-only (tf.data, tensorflow-datasets).
"""

from __future__ import annotations

import collections
import dataclasses
import pathlib
import re
import sys

import numpy as np
import tensorflow as tf

from rnn_apps import errors

DOCSTART = "-DOCSTART-"
OUTSIDE = "O"
CONLLU_COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
TFDS_TAG_PREFERENCE = ("ner", "tags", "ner_tags", "upos", "pos", "chunks")
SPLIT_NAMES = {"train": ("train",), "validation": ("dev", "valid", "validation", "testa"), "test": ("test", "testb")}
LANGUAGE_PREFIX = re.compile(r"^([a-z]{2,3}):(?=.)")
IOB_TAG = re.compile(r"^(?:O|[BI]-.+)$")

Sentence = tuple[list[str], list[str]]

# --------------------------------------------------------------------------
# Tokenization: the one function that turns raw text into tokens

_TOKEN = re.compile(
    r"""
    (?:\b[A-Z]\.)+(?=\s|$)                # initials and abbreviations: "J.", "U.S."
    | \d+(?:[.,:]\d+)*                     # numbers: 1968, 3.5, 12:30, 20,000
    | \w+(?:[-'’]\w+)*                     # words, with inner hyphens or apostrophes
    | [^\w\s]                              # any other single character: punctuation
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[str]:
    """Split raw text into tokens the way the tagging corpora do.

    Words (with inner hyphens and apostrophes: ``well-known``, ``O'Neil``)
    and numbers (``3.5``, ``20,000``) are tokens; every other non-space
    character is a token of its own, so punctuation is split off as in
    CoNLL and WikiANN. A single capital followed by a dot is kept whole
    (``J.``), as initials are in the corpora. Used by ``rnn-apps predict``
    and by the bundled-sample generator.

    Args:
        text: a raw sentence.

    Returns:
        The tokens, in order; an empty list for blank text.

    Examples:
        >>> tokenize("Angela Merkel visited Paris.")
        ['Angela', 'Merkel', 'visited', 'Paris', '.']
        >>> tokenize("J. K. Rowling's well-known book (1997) sold 20,000 copies in the U.S. too!")[:10]
        ['J.', 'K.', "Rowling's", 'well-known', 'book', '(', '1997', ')', 'sold', '20,000']
        >>> tokenize("in the U.S. too!")
        ['in', 'the', 'U.S.', 'too', '!']
    """
    return _TOKEN.findall(str(text))


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def lower_ascii(token: str) -> str:
    """Lower-case A-Z only, exactly as `keras.layers.TextVectorization(standardize="lower")` does.

    Examples:
        >>> lower_ascii("ÉCOLE Paris")
        'École paris'
    """
    return token.translate(_ASCII_LOWER)


def characters(token: str, char_length: int) -> list[str]:
    """A token's first ``char_length`` characters, padded with empty strings.

    Examples:
        >>> characters("Paris", 7)
        ['P', 'a', 'r', 'i', 's', '', '']
    """
    chars = list(token[:char_length])
    return chars + [""] * (char_length - len(chars))


def model_inputs(token_lists, char_length: int | None = None) -> dict[str, np.ndarray]:
    """The raw-string inputs of a saved tagger for a batch of tokenized sentences.

    Sentences are right-padded with empty strings to the longest one;
    with ``char_length`` each token is also split into characters (see
    `characters`).

    Args:
        token_lists: one list of tokens per sentence.
        char_length: characters kept per token, or `None` for a model without
            character features.

    Returns:
        ``{"tokens": (batch, time)}`` string array, plus ``"characters"``
        ``(batch, time, char_length)`` when ``char_length`` is given.

    Examples:
        >>> inputs = model_inputs([["Hi", "!"], ["Bye"]], char_length=2)
        >>> inputs["tokens"].tolist(), inputs["characters"].shape
        ([['Hi', '!'], ['Bye', '']], (2, 2, 2))
    """
    token_lists = [list(tokens) for tokens in token_lists]
    longest = max((len(tokens) for tokens in token_lists), default=0)
    tokens = np.full((len(token_lists), max(longest, 1)), "", dtype=object)
    for row, sentence in enumerate(token_lists):
        tokens[row, : len(sentence)] = sentence
    inputs = {"tokens": tokens}
    if char_length:
        chars = np.full(tokens.shape + (char_length,), "", dtype=object)
        for row, sentence in enumerate(token_lists):
            for column, token in enumerate(sentence):
                chars[row, column] = characters(token, char_length)
        inputs["characters"] = chars
    return inputs


# --------------------------------------------------------------------------
# IOB tags


def is_iob(tag_names) -> bool:
    """Whether every tag is ``O``, ``B-TYPE`` or ``I-TYPE`` (an entity tag set).

    Examples:
        >>> is_iob(["O", "B-PER", "I-PER"]), is_iob(["NOUN", "VERB"])
        (True, False)
    """
    tag_names = list(tag_names)
    return bool(tag_names) and all(IOB_TAG.match(tag) for tag in tag_names)


def repair_iob(tags) -> tuple[list[str], int]:
    """Turn invalid IOB transitions into valid IOB2; count the changes.

    An ``I-X`` that follows ``O``, the sentence start, or a tag of another
    type starts a new entity, so it becomes ``B-X`` (this also converts
    IOB1 to IOB2).

    Examples:
        >>> repair_iob(["O", "I-PER", "I-PER", "I-LOC", "B-LOC", "I-LOC"])
        (['O', 'B-PER', 'I-PER', 'B-LOC', 'B-LOC', 'I-LOC'], 2)
    """
    repaired, count, previous = [], 0, OUTSIDE
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
            count += 1
        repaired.append(tag)
        previous = tag
    return repaired, count


def entity_spans(tokens, tags) -> list[tuple[str, int, int, str]]:
    """Entities of an IOB2 tag sequence: ``(type, start, end, text)``, end exclusive.

    Read with seqeval, so spans match what the entity metrics count (an
    ``I-X`` without a ``B-X`` before it still starts an entity).

    Examples:
        >>> entity_spans(["Angela", "Merkel", "visited", "Paris"], ["B-PER", "I-PER", "O", "B-LOC"])
        [('PER', 0, 2, 'Angela Merkel'), ('LOC', 3, 4, 'Paris')]
    """
    from seqeval.metrics.sequence_labeling import get_entities

    return [(kind, start, end + 1, " ".join(tokens[start : end + 1])) for kind, start, end in get_entities(list(tags))]


def check_sentence(tokens, tags, where: str) -> None:
    """Raise `InputError` unless there is exactly one tag per token.

    Examples:
        >>> check_sentence(["a", "b"], ["O"], "sentence 3")
        Traceback (most recent call last):
        ...
        rnn_apps.errors.InputError: Expected one tag per token in sentence 3. Received: '2 tokens and 1 tags'
    """
    if len(tokens) != len(tags):
        raise errors.expected(f"one tag per token in {where}", f"{len(tokens)} tokens and {len(tags)} tags")


def notice(message: str) -> None:
    """Print a one-line notice about the data on stderr."""
    print(f"notice: {message}", file=sys.stderr)


# --------------------------------------------------------------------------
# Reading files


def _column_index(tag_column, columns: tuple[str, ...] | None, default: int) -> int:
    """The 0-based index named by ``tag_column`` (None, a number, or a column name)."""
    if tag_column is None or tag_column == "":
        return default
    text = str(tag_column)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if columns and text.lower() in columns:
        return columns.index(text.lower())
    known = f"a column number or one of {list(columns)}" if columns else "a column number (0 is the token, -1 the last)"
    raise errors.expected(known, text, name="--tag-column")


def _strip_language_prefix(sentences: list[Sentence]) -> list[Sentence]:
    """Remove a prefix such as ``en:`` when every token carries the same one."""
    prefixes = {
        match.group(1) if (match := LANGUAGE_PREFIX.match(token)) else None for s in sentences for token in s[0]
    }
    if len(prefixes) != 1 or None in prefixes:
        return sentences
    cut = len(prefixes.pop()) + 1
    return [([token[cut:] for token in tokens], tags) for tokens, tags in sentences]


def read_column_file(path, tag_column=None) -> list[Sentence]:
    """Read a CoNLL-style column file (or the WikiANN layout).

    Args:
        path: the file.
        tag_column: 0-based column of the tag (negative counts from the
            end); default the last column.

    Returns:
        ``(tokens, tags)`` per sentence.
    """
    path = pathlib.Path(path)
    index = _column_index(tag_column, None, -1)
    sentences, tokens, tags = [], [], []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            fields = line.split()
            if not fields:
                if tokens:
                    sentences.append((tokens, tags))
                tokens, tags = [], []
                continue
            if fields[0] == DOCSTART:
                continue
            if len(fields) < 2 or not (-len(fields) <= index < len(fields)) or index in (0, -len(fields)):
                raise errors.expected(
                    f"a token and a tag in column {index} on line {number} of {path.name} "
                    "(whitespace-separated; choose the column with --tag-column)",
                    line.rstrip("\n"),
                )
            tokens.append(fields[0])
            tags.append(fields[index])
    if tokens:
        sentences.append((tokens, tags))
    return _strip_language_prefix(sentences)


def read_conllu(path, tag_column=None) -> list[Sentence]:
    """Read a CoNLL-U file: the word forms and, by default, their universal POS tags.

    Args:
        path: a ``.conllu`` file.
        tag_column: ``"upos"`` (default), ``"xpos"``, another CoNLL-U column
            name, or a 0-based column number.

    Returns:
        ``(tokens, tags)`` per sentence.
    """
    path = pathlib.Path(path)
    index = _column_index(tag_column, CONLLU_COLUMNS, CONLLU_COLUMNS.index("upos"))
    if not -len(CONLLU_COLUMNS) <= index < len(CONLLU_COLUMNS):
        raise errors.expected(
            f"a column number in [-{len(CONLLU_COLUMNS)}, {len(CONLLU_COLUMNS)}) or one of {list(CONLLU_COLUMNS)}",
            tag_column,
            name="--tag-column",
        )
    sentences, tokens, tags = [], [], []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip():
                if tokens:
                    sentences.append((tokens, tags))
                tokens, tags = [], []
                continue
            if line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != len(CONLLU_COLUMNS):
                raise errors.expected(
                    f"10 tab-separated CoNLL-U columns on line {number} of {path.name}", f"{len(fields)} columns"
                )
            if not fields[0].isdigit():  # multi-word ranges (1-2) and empty nodes (1.1)
                continue
            tokens.append(fields[1])
            tags.append(fields[index])
    if tokens:
        sentences.append((tokens, tags))
    return sentences


def read_tagged_file(path, tag_column=None) -> list[Sentence]:
    """Read a column file or, for ``.conllu``, a CoNLL-U file."""
    path = pathlib.Path(path)
    if path.suffix.lower() == ".conllu":
        return read_conllu(path, tag_column)
    return read_column_file(path, tag_column)


def _split_files(folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """Find train / validation / test files in a folder by their names."""
    found = {}
    files = sorted(child for child in folder.iterdir() if child.is_file() and not child.name.startswith("."))
    for part, keys in SPLIT_NAMES.items():
        for child in files:
            words = set(re.split(r"[^a-z]+", child.name.lower()))
            if words & set(keys):
                found[part] = child
                break
    return found


# --------------------------------------------------------------------------
# tensorflow-datasets


def _load_tfds(name: str, tag_column, data_dir: str | None) -> tuple[dict[str, list[Sentence]], list[str]]:
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # tfds raises several types for unknown names
        raise errors.expected(
            "'sample', an existing file or folder, or a tensorflow-datasets name",
            f"{name!r} ({type(error).__name__})",
            name="--data",
        ) from None
    features = builder.info.features
    sequences = [key for key in features.keys() if isinstance(features[key], tfds.features.Sequence)]
    if "tokens" not in sequences:
        raise errors.expected(f"a 'tokens' sequence feature in {name}", f"features {list(features.keys())}")
    labelled = [key for key in sequences if isinstance(features[key].feature, tfds.features.ClassLabel)]
    if tag_column:
        if str(tag_column) not in labelled:
            raise errors.expected(f"one of {labelled}", str(tag_column), name="--tag-column")
        key = str(tag_column)
    else:
        preferred = [key for key in TFDS_TAG_PREFERENCE if key in labelled]
        if not preferred and not labelled:
            raise errors.expected(f"a tag sequence feature in {name}", f"features {list(features.keys())}")
        key = (preferred or labelled)[0]
    tag_names = list(features[key].feature.names)
    available = list(builder.info.splits.keys()) or ["train", "validation", "test"]
    parts = {}
    for part, candidates in (("train", ("train",)), ("validation", ("validation", "dev")), ("test", ("test",))):
        split = next((c for c in candidates if c in available), None)
        if split is None:
            continue
        sentences = []
        dataset = tfds.load(name, split=split, data_dir=data_dir)
        for number, example in enumerate(tfds.as_numpy(dataset), 1):
            tokens = [token.decode("utf-8", errors="replace") for token in example["tokens"]]
            tags = [tag_names[int(tag)] for tag in example[key]]
            check_sentence(tokens, tags, f"{name} {split} example {number}")
            sentences.append((tokens, tags))
        parts[part] = sentences
    return parts, tag_names


# --------------------------------------------------------------------------
# The dataset


@dataclasses.dataclass
class TaggingData:
    """Tagged sentences split into train, validation and test parts.

    Attributes:
        name: a short description of the source, for reports.
        tag_names: the tags; tag id ``i`` is ``tag_names[i]``. For entity
            tags ``O`` comes first.
        scheme: ``"iob2"`` (entity tags, entity-level metrics apply) or
            ``"plain"`` (one label per token, e.g. parts of speech).
        train, validation, test: lists of ``(tokens, tags)``.
    """

    name: str
    tag_names: list[str]
    scheme: str
    train: list[Sentence]
    validation: list[Sentence]
    test: list[Sentence]

    @property
    def num_tags(self) -> int:
        return len(self.tag_names)

    def sizes(self) -> dict[str, int]:
        return {part: len(getattr(self, part)) for part in ("train", "validation", "test")}

    def tag_ids(self, part: str) -> list[np.ndarray]:
        """Tag ids per sentence of one part."""
        index = {tag: i for i, tag in enumerate(self.tag_names)}
        return [np.array([index[tag] for tag in tags], dtype="int32") for _, tags in getattr(self, part)]


def _hold_out(sentences: list[Sentence], fraction: float, seed: int) -> tuple[list[Sentence], list[Sentence]]:
    order = np.random.default_rng(seed).permutation(len(sentences))
    count = int(round(fraction * len(sentences)))
    if fraction > 0 and len(sentences) >= 2:
        count = min(max(count, 1), len(sentences) - 1)
    held = sorted(order[:count])
    kept = sorted(order[count:])
    return [sentences[i] for i in kept], [sentences[i] for i in held]


def load_tagging(
    source,
    *,
    tag_column=None,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    strict_iob: bool = False,
    tfds_data_dir: str | None = None,
) -> TaggingData:
    """Load tagged sentences from a file, a folder or tensorflow-datasets.

    Args:
        source: a column file, a ``.conllu`` file, a folder of
            train/dev/test files, or a tensorflow-datasets name.
        tag_column: which tags to read (see the module docstring).
        validation_fraction: of the training sentences, when the source has
            no validation part.
        test_fraction: of all sentences, when the source has no test part.
        seed: seed of those random hold-outs.
        strict_iob: refuse invalid IOB transitions instead of repairing them.
        tfds_data_dir: tensorflow-datasets data folder (default: its own).

    Returns:
        A `TaggingData`.

    Raises:
        rnn_apps.errors.InputError: see the module docstring.
    """
    path = pathlib.Path(source)
    tag_names = None
    if path.is_file():
        parts = {"train": read_tagged_file(path, tag_column)}
        name = path.name
    elif path.is_dir():
        files = _split_files(path)
        if "train" not in files:
            raise errors.expected(
                f"a file whose name contains 'train' in {path} (and optionally 'dev' and 'test')",
                sorted(child.name for child in path.iterdir())[:10],
            )
        parts = {part: read_tagged_file(file, tag_column) for part, file in files.items()}
        name = path.name
    elif "/" in str(source) or pathlib.Path(str(source)).suffix:
        raise errors.expected("an existing file or folder", str(source), name="--data")
    else:
        parts, tag_names = _load_tfds(str(source), tag_column, tfds_data_dir)
        name = str(source)

    empty = 0
    for part in list(parts):
        kept = [(tokens, tags) for tokens, tags in parts[part] if tokens]
        empty += len(parts[part]) - len(kept)
        parts[part] = kept
    if empty:
        notice(f"dropped {empty} empty sentence(s) of {name}")
    if not parts.get("train"):
        raise errors.expected(f"tagged sentences in {name}", "none")

    if "test" not in parts or not parts["test"]:
        parts["train"], parts["test"] = _hold_out(parts["train"], test_fraction, seed)
    if "validation" not in parts or not parts["validation"]:
        parts["train"], parts["validation"] = _hold_out(parts["train"], validation_fraction, seed + 1)
    if not parts["train"] or not parts["validation"] or not parts["test"]:
        raise errors.expected(f"enough sentences in {name} for train, validation and test parts", parts["train"][:1])

    seen = {tag for sentences in parts.values() for _, tags in sentences for tag in tags}
    scheme = "iob2" if is_iob(seen) else "plain"
    if scheme == "iob2":
        repaired = 0
        for part, sentences in parts.items():
            fixed = []
            for tokens, tags in sentences:
                tags, count = repair_iob(tags)
                repaired += count
                fixed.append((tokens, tags))
            parts[part] = fixed
        if repaired and strict_iob:
            raise errors.expected(
                f"valid IOB2 tags in {name} (leave out --strict-iob to repair them)",
                f"{repaired} I- tags that do not continue an entity of their type",
            )
        if repaired:
            notice(f"repaired {repaired} invalid IOB transition(s) in {name} (I-X after O or another type -> B-X)")
        seen = {tag for sentences in parts.values() for _, tags in sentences for tag in tags}
        names = set(tag_names or []) | seen if tag_names and is_iob(tag_names) else seen
        tag_names = [OUTSIDE] + sorted(names - {OUTSIDE}, key=lambda tag: (tag[2:], tag[0]))
    else:
        tag_names = sorted(seen)
    return TaggingData(
        name=name,
        tag_names=tag_names,
        scheme=scheme,
        train=parts["train"],
        validation=parts["validation"],
        test=parts["test"],
    )


# --------------------------------------------------------------------------
# Vocabularies and pipelines


def build_vocabulary(token_lists, min_count: int = 1, max_size: int | None = None) -> list[str]:
    """Items seen at least ``min_count`` times, most frequent first (ties: first seen).

    Ids follow `keras.layers.StringLookup` with ``mask_token=""``: 0 is
    padding, 1 out-of-vocabulary, then this list from 2.

    Examples:
        >>> build_vocabulary([["a", "b", "a"], ["c", "a", "b"]], min_count=2)
        ['a', 'b']
    """
    counts = collections.Counter(item for items in token_lists for item in items)
    ranked = [item for item, count in counts.most_common() if count >= min_count and item != ""]
    return ranked[:max_size] if max_size else ranked


def encode(token_lists, vocabulary, char_length: int | None = None) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Word ids (and character ids) per sentence, as `StringLookup` would give them.

    Args:
        token_lists: one list of tokens per sentence.
        vocabulary: ``(words, chars)``; ``chars`` may be `None`.
        char_length: characters per token (with ``chars``).

    Returns:
        ``(word_ids, char_ids)``: lists of ``(time,)`` and
        ``(time, char_length)`` int32 arrays (``char_ids`` is `None` without
        characters).

    Examples:
        >>> words, chars = encode([["the", "cat"]], (["the"], ["t", "h"]), char_length=2)
        >>> words[0].tolist(), chars[0].tolist()
        ([2, 1], [[2, 3], [1, 1]])
    """
    words, chars = vocabulary
    word_index = {word: i + 2 for i, word in enumerate(words)}
    word_ids = [np.array([word_index.get(token, 1) for token in tokens], dtype="int32") for tokens in token_lists]
    if not chars or not char_length:
        return word_ids, None
    char_index = {char: i + 2 for i, char in enumerate(chars)}
    char_index[""] = 0
    char_ids = [
        np.array([[char_index.get(c, 1) for c in characters(token, char_length)] for token in tokens], dtype="int32")
        for tokens in token_lists
    ]
    return word_ids, char_ids


def tagging_dataset(
    word_ids,
    tag_ids,
    batch_size: int,
    char_ids=None,
    shuffle: bool = False,
    seed: int = 0,
    label_padding: int = 0,
    weights: bool = True,
) -> tf.data.Dataset:
    """Batches of tagged sentences, bucketed by length and right-padded per batch.

    Each element is ``(inputs, tags, weights)``: ``inputs`` is
    ``{"token_ids"}`` (plus ``"char_ids"``), ``weights`` is 1 on real tokens
    and 0 on padding, so padding never counts in the loss or in weighted
    metrics. Tags are padded with ``label_padding``: a CRF loss, which is
    per sentence, takes no weights and reads ``-1`` as padding instead.

    Args:
        word_ids: ``(time,)`` int arrays, one per sentence.
        tag_ids: ``(time,)`` int arrays, one per sentence.
        batch_size: sentences per batch.
        char_ids: ``(time, char_length)`` int arrays, or `None`.
        shuffle: reshuffle every epoch (training).
        seed: shuffle seed.
        label_padding: value of tags at padded steps.
        weights: add the padding weights (leave out for a CRF).

    Returns:
        A prefetched `tf.data.Dataset`.
    """
    lengths = np.array([len(ids) for ids in word_ids])
    words = tf.ragged.constant(word_ids, dtype=tf.int32)
    tags = tf.ragged.constant(tag_ids, dtype=tf.int32)
    if char_ids is not None:
        char_length = char_ids[0].shape[-1]
        chars = tf.RaggedTensor.from_row_lengths(np.concatenate(char_ids), lengths)
        dataset = tf.data.Dataset.from_tensor_slices((words, chars, tags))
        dataset = dataset.map(lambda w, c, t: ({"token_ids": w, "char_ids": c}, t))
        padded_shapes = ({"token_ids": [None], "char_ids": [None, char_length]}, [None])
        padding_values = ({"token_ids": 0, "char_ids": 0}, label_padding)
    else:
        dataset = tf.data.Dataset.from_tensor_slices((words, tags)).map(lambda w, t: ({"token_ids": w}, t))
        padded_shapes = ({"token_ids": [None]}, [None])
        padding_values = ({"token_ids": 0}, label_padding)
    if shuffle:
        dataset = dataset.shuffle(len(lengths), seed=seed, reshuffle_each_iteration=True)
        quantiles = np.quantile(lengths, np.linspace(0, 1, 7)[1:-1])
        boundaries = sorted({int(q) + 1 for q in quantiles})
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda inputs, tags: tf.shape(tags)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padded_shapes=padded_shapes,
            padding_values=padding_values,
        )
    else:
        dataset = dataset.padded_batch(batch_size, padded_shapes=padded_shapes, padding_values=padding_values)
    if weights:
        dataset = dataset.map(
            lambda inputs, tags: (inputs, tags, tf.cast(tf.not_equal(inputs["token_ids"], 0), tf.float32))
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
