"""Parallel text for translation: loading sentence pairs and word-level tokenization.

`load_parallel` reads pairs of sentences (source, target) from

- a folder of line-aligned files ``{split}.{lang}`` or ``{split}.{lang}.gz``
  (the Multi30k layout: ``train.de.gz`` / ``train.en.gz``, ``val.*``,
  ``test_2016_flickr.*``), choosing the languages with ``source_lang`` /
  ``target_lang``;
- a tab-separated file of pairs, source in the first column and target in
  the second (the Tatoeba / ManyThings ``fra.txt`` layout; a third
  attribution column is ignored), split here on unique source sentences so
  no test sentence is seen in training;
- a tensorflow-datasets translation config such as
  ``ted_hrlr_translate/pt_to_en`` (its own train/validation/test splits).

`tokenize` lower-cases a sentence and splits punctuation into words of
their own; the target side is stored tokenized like this, so a model's
output words can be joined with spaces and read back the same way.
`detokenize` turns such output back into a sentence as people write it
(punctuation attached, first letter capitalised), the form sacreBLEU's
standard protocol scores against the untouched references.

Examples:
    >>> tokenize("Un homme, deux chiens!")
    'un homme , deux chiens !'
    >>> detokenize(tokenize("Un homme, deux chiens!"))
    'Un homme, deux chiens!'
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

import keras
import numpy as np
import tensorflow as tf

from rnn_apps import errors
from rnn_apps.data import text_files

START = "[start]"
END = "[end]"
"""Tokens that open and close every target sentence."""

_WORDS = re.compile(r"[^\W_]+|[^\w\s]", re.UNICODE)


def tokenize(sentence: str) -> str:
    """Lower-case ``sentence`` and put spaces around punctuation.

    Examples:
        >>> tokenize("L'homme  court.")
        "l ' homme court ."
    """
    return " ".join(_WORDS.findall(sentence.lower()))


# Where `detokenize` drops the space that `tokenize` put around a punctuation mark.
_CLOSING = frozenset(".,!?;:%)]}…»")
_OPENING = frozenset("([{$«¿¡")
_JOINING = frozenset("-/")
_APOSTROPHES = frozenset("'’")
_CLITICS = frozenset({"s", "t", "re", "ve", "ll", "d", "m"})
_BETWEEN_DIGITS = frozenset(".,")


def detokenize(tokens: str) -> str:
    """Undo `tokenize`'s spacing: a sentence with its punctuation attached and a capital first letter.

    Marks that close (``. , ! ? ; : ) %``) join the word before them, marks
    that open (``( [ $``) the word after, hyphens and slashes join both
    (``ninety - three`` -> ``ninety-three``), an apostrophe joins both but
    after a plural (``l ' homme`` -> ``l'homme``, ``man ' s`` -> ``man's``,
    ``dogs ' toys`` -> ``dogs' toys``), a point or comma between two numbers
    joins both (``3 . 5`` -> ``3.5``), and straight double quotes open and
    close in turn. Only the first letter's case comes back: a lower-cased model
    cannot know that a word inside the sentence is a name.

    Args:
        tokens: words and punctuation marks separated by spaces.

    Returns:
        The sentence as people write it.

    Examples:
        >>> detokenize("a man ' s dog , 3 . 5 years old , runs ( fast ) .")
        "A man's dog, 3.5 years old, runs (fast)."
        >>> detokenize(tokenize("Quatre-vingt-dix chevaux : l'un d'eux saute !"))
        "Quatre-vingt-dix chevaux: l'un d'eux saute!"
    """
    words = tokens.split()
    out = ""
    glue_next = True  # no space before the first word
    quotes = 0
    for index, word in enumerate(words):
        before = words[index - 1] if index else ""
        after = words[index + 1] if index + 1 < len(words) else ""
        glue = glue_next
        glue_next = False
        if word == '"':
            quotes += 1
            if quotes % 2:
                glue_next = True
            else:
                glue = True
        elif word in _CLOSING:
            glue = True
            glue_next = word in _BETWEEN_DIGITS and before.isdigit() and after.isdigit()
        elif word in _OPENING:
            glue_next = True
        elif word in _JOINING:
            glue = glue_next = True
        elif word in _APOSTROPHES:
            # An elision (l'homme, it's) joins both words; a plural possessive (dogs' toys) only the one before.
            glue = True
            glue_next = after in _CLITICS or not before.endswith("s")
        out += ("" if glue else " ") + word
    return out[:1].upper() + out[1:]


@dataclasses.dataclass
class ParallelData:
    """Sentence pairs split for training, validation and test.

    Attributes:
        name: description of the source (for reports).
        source_lang: the source language code (or column name).
        target_lang: the target language code (or column name).
        train: the training pairs, ``(sources, targets)`` lists of raw strings.
        validation: the validation pairs, as ``train``.
        test: the test pairs, as ``train``.
    """

    name: str
    source_lang: str
    target_lang: str
    train: tuple[list[str], list[str]]
    validation: tuple[list[str], list[str]]
    test: tuple[list[str], list[str]]

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train[0]), "validation": len(self.validation[0]), "test": len(self.test[0])}


def _read_lines(path: pathlib.Path, encoding: str) -> list[str]:
    return text_files.read_lines(path, encoding)


def _check_pairs(sources, targets, where_source: str, where_target: str):
    if len(sources) != len(targets):
        raise errors.expected(
            "line-aligned parallel files with the same number of lines",
            f"{where_source} has {len(sources):,} lines, {where_target} has {len(targets):,}",
        )
    if not sources:
        raise errors.expected("at least one sentence pair", f"an empty file {where_source}")
    for number, (source, target) in enumerate(zip(sources, targets), start=1):
        if not source.strip() or not target.strip():
            side = where_source if not source.strip() else where_target
            raise errors.expected("a sentence on every line of parallel files", f"an empty line {number} in {side}")


def _split_files(folder: pathlib.Path) -> dict[str, dict[str, pathlib.Path]]:
    """``{split: {lang: path}}`` for files named ``split.lang`` or ``split.lang.gz``."""
    found: dict[str, dict[str, pathlib.Path]] = {}
    for path in sorted(folder.iterdir()):
        name = path.name.removesuffix(".gz")
        if not path.is_file() or "." not in name:
            continue
        split, lang = name.rsplit(".", 1)
        found.setdefault(split, {})[lang] = path
    return found


def _choose_split(files, prefix: str) -> str | None:
    if prefix in files:
        return prefix
    candidates = sorted(split for split in files if split.startswith(prefix))
    return candidates[0] if candidates else None


def _read_folder(folder: pathlib.Path, source_lang, target_lang, validation_fraction, seed, encoding, given=()):
    files = _split_files(folder)
    train_split = _choose_split(files, "train")
    if train_split is None:
        raise errors.expected("a folder with train.<lang> files (Multi30k layout)", str(folder))
    languages = sorted(files[train_split])
    if source_lang is None or target_lang is None:
        if len(languages) != 2:
            raise errors.expected(f"--source-lang and --target-lang, two of {languages}", "none given")
        source_lang = source_lang or next(lang for lang in languages if lang != target_lang)
        target_lang = target_lang or next(lang for lang in languages if lang != source_lang)
    if source_lang == target_lang:
        raise errors.expected("two different languages", f"{source_lang} -> {target_lang}")
    parts = {}
    for role, prefix in (("train", "train"), ("validation", "val"), ("test", "test")):
        split = _choose_split(files, prefix)
        if split is None:
            parts[role] = None
            continue
        paths = []
        for option, lang in (("--source-lang", source_lang), ("--target-lang", target_lang)):
            if lang not in files[split]:
                raise errors.expected(
                    f"{option} to be a language with a {split}.<lang> file, one of {sorted(files[split])}",
                    lang,
                )
            paths.append(files[split][lang])
        sources, targets = _read_lines(paths[0], encoding), _read_lines(paths[1], encoding)
        _check_pairs(sources, targets, str(paths[0]), str(paths[1]))
        parts[role] = (sources, targets)
    if parts["test"] is None and "test" not in given:
        raise errors.expected(
            "test.<lang> (or test*.<lang>) files beside train.<lang>, or --test-data", f"none in {folder}"
        )
    if parts["validation"] is None and "validation" not in given:
        parts["train"], parts["validation"] = _split_on_sources(*parts["train"], validation_fraction, seed)
    return source_lang, target_lang, parts


def _split_on_sources(sources, targets, fraction: float, seed: int):
    """Split pairs so every copy of one source sentence lands on the same side."""
    unique = sorted(set(sources))
    rng = np.random.default_rng(seed)
    rng.shuffle(unique)
    held = set(unique[: max(1, int(round(len(unique) * fraction)))])
    if len(held) == len(unique):
        raise errors.expected("at least two different source sentences to split", f"{len(unique)}")
    keep, out = ([], []), ([], [])
    for source, target in zip(sources, targets):
        side = out if source in held else keep
        side[0].append(source)
        side[1].append(target)
    return keep, out


def _tsv_pairs(path: pathlib.Path, encoding: str) -> tuple[list[str], list[str]]:
    """Every ``source<TAB>target`` pair of a file, unsplit."""
    sources, targets = [], []
    for number, line in enumerate(_read_lines(path, encoding), start=1):
        if not line.strip():
            raise errors.expected("a tab-separated sentence pair on every line", f"an empty line {number} in {path}")
        columns = line.split("\t")
        if len(columns) < 2 or not columns[0].strip() or not columns[1].strip():
            raise errors.expected(
                "source<TAB>target[<TAB>attribution] on every line", f"line {number} of {path}: {line[:60]!r}"
            )
        sources.append(columns[0].strip())
        targets.append(columns[1].strip())
    if not sources:
        raise errors.expected("at least one sentence pair", f"an empty file {path}")
    return sources, targets


def _read_tsv(path: pathlib.Path, validation_fraction, test_fraction, seed, encoding, given=()):
    rest, test = _tsv_pairs(path, encoding), None
    if "test" not in given:
        rest, test = _split_on_sources(*rest, test_fraction, seed)
    train, validation = rest, None
    if "validation" not in given:
        train, validation = _split_on_sources(*rest, validation_fraction, seed + 1)
    return {"train": train, "validation": validation, "test": test}


def _read_given(path: pathlib.Path, source_lang, target_lang, encoding: str, flag: str):
    """The pairs of one part given on its own: a TSV file, or line-aligned ``PATH.<lang>[.gz]`` files."""
    if path.is_file():
        return _tsv_pairs(path, encoding)
    found = []
    for lang in (source_lang, target_lang):
        candidates = [path.with_name(f"{path.name}.{lang}{end}") for end in ("", ".gz")] if lang else []
        found.append(next((file for file in candidates if file.is_file()), None))
    if None in found:
        raise errors.expected(
            "a TSV file of source<TAB>target lines, or a path PREFIX with line-aligned PREFIX.<lang> files "
            f"(such as multi30k/val for val.de and val.en) for languages {source_lang} and {target_lang}",
            str(path),
            name=flag,
        )
    sources, targets = (_read_lines(file, encoding) for file in found)
    _check_pairs(sources, targets, str(found[0]), str(found[1]))
    return sources, targets


def _read_tfds(name: str, source_lang, target_lang, validation_fraction, seed, data_dir=None):
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # tfds raises several types for unknown names
        raise errors.expected(
            "'sample', an existing file or folder, or a tensorflow-datasets translation name",
            f"{name!r} ({type(error).__name__})",
            name="--data",
        ) from None
    keys = list(builder.info.supervised_keys or ())
    if len(keys) != 2:
        raise errors.expected(f"a translation dataset with (source, target) keys; {name} has", keys)
    source_lang = source_lang or keys[0]
    target_lang = target_lang or keys[1]
    for option, lang in (("--source-lang", source_lang), ("--target-lang", target_lang)):
        if lang not in keys:
            raise errors.expected(f"{option} to be one of {keys}", lang)

    def read(split):
        sources, targets = [], []
        for example in tfds.as_numpy(tfds.load(name, split=split, data_dir=data_dir)):
            source = example[source_lang].decode("utf-8", errors="replace").strip()
            target = example[target_lang].decode("utf-8", errors="replace").strip()
            if source and target:
                sources.append(source)
                targets.append(target)
        return sources, targets

    available = list(builder.info.splits.keys()) or ["train", "validation", "test"]
    parts = {"train": read("train")}
    parts["test"] = read("test") if "test" in available else None
    parts["validation"] = read("validation") if "validation" in available else None
    if parts["test"] is None:
        parts["train"], parts["test"] = _split_on_sources(*parts["train"], 0.1, seed)
    if parts["validation"] is None:
        parts["train"], parts["validation"] = _split_on_sources(*parts["train"], validation_fraction, seed)
    return source_lang, target_lang, parts


def load_parallel(
    source,
    source_lang: str | None = None,
    target_lang: str | None = None,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 42,
    max_pairs: int | None = None,
    data_dir: str | None = None,
    encoding: str = text_files.DEFAULT_ENCODING,
    validation_source=None,
    test_source=None,
) -> ParallelData:
    """Load sentence pairs from a folder, a TSV file or tensorflow-datasets.

    Args:
        source: a folder of ``{split}.{lang}[.gz]`` files, a ``.tsv``/``.txt``
            file of ``source<TAB>target`` lines, or a tensorflow-datasets name.
        source_lang, target_lang: language codes; needed for a folder with
            more than two languages; for tensorflow-datasets one of the
            supervised keys (the default order otherwise). Labels only for a TSV.
        validation_fraction: of the training pairs, when there is no
            validation split.
        test_fraction: of all pairs of a TSV file.
        seed: split seed.
        max_pairs: keep at most this many training pairs (the first ones).
        data_dir: tensorflow-datasets data folder.
        encoding: the codec of the files (byte-order marks are ignored).
        validation_source: the validation pairs as a part of their own: a
            TSV file, or a path prefix of line-aligned ``PREFIX.<lang>``
            files (``multi30k/val``); it replaces the validation split.
        test_source: the same for the test pairs.

    Returns:
        A `ParallelData`.

    Raises:
        InputError: unequal line counts, empty lines, a language with no
            file, an unknown dataset name, bytes that do not decode.
    """
    text_files.check_encoding(encoding)
    path = pathlib.Path(str(source))
    given = {part for part, value in (("validation", validation_source), ("test", test_source)) if value is not None}
    if path.is_dir():
        source_lang, target_lang, parts = _read_folder(
            path, source_lang, target_lang, validation_fraction, seed, encoding, given
        )
        label = path.resolve()
        # Multi30k keeps its files in raw/ or tok/: name the dataset, not only that folder.
        label = f"{label.parent.name}/{label.name}" if label.name in ("raw", "tok") else label.name
        name = f"{label} {source_lang}->{target_lang}"
    elif path.is_file():
        parts = _read_tsv(path, validation_fraction, test_fraction, seed, encoding, given)
        source_lang, target_lang = source_lang or "source", target_lang or "target"
        name = path.name
    elif "/" in str(source) and not str(source).startswith((".", "/")) and not path.suffix:
        source_lang, target_lang, parts = _read_tfds(
            str(source), source_lang, target_lang, validation_fraction, seed, data_dir
        )
        name = f"{source} {source_lang}->{target_lang}"
    else:
        raise errors.expected(
            "'sample', a folder of parallel files, a TSV file, or a tensorflow-datasets name like "
            "'ted_hrlr_translate/pt_to_en'",
            str(source),
            name="--data",
        )
    for part, value in (("validation", validation_source), ("test", test_source)):
        if value is not None:
            parts[part] = _read_given(pathlib.Path(value), source_lang, target_lang, encoding, f"--{part}-data")
            name += f", {part} from {pathlib.Path(value).name}"
    if max_pairs:
        parts["train"] = (parts["train"][0][:max_pairs], parts["train"][1][:max_pairs])
    for role in ("train", "validation", "test"):
        if not parts[role][0]:
            raise errors.expected(f"at least one {role} sentence pair", f"none in {source}")
    return ParallelData(name, source_lang, target_lang, parts["train"], parts["validation"], parts["test"])


def load_training_pairs(
    source,
    source_lang: str | None = None,
    target_lang: str | None = None,
    *,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 42,
    max_pairs: int | None = None,
    test_limit: int | None = None,
    **sources,
) -> ParallelData:
    """`load_parallel`, then the pairs a translation model trains and is scored on.

    Training and validation pairs whose source has no word (see
    `drop_wordless`) are dropped with a notice on stdout; test pairs are all
    kept (such a source gets an empty translation). Then only the first
    ``max_pairs`` training pairs and the first ``test_limit`` test pairs are
    kept.

    Args:
        source: as for `load_parallel`, like the five arguments after it
            (``source_lang``, ``target_lang``, ``validation_fraction``,
            ``test_fraction``, ``seed``).
        max_pairs: keep at most this many training pairs (after dropping).
        test_limit: score at most this many test pairs.
        **sources: ``encoding``, ``validation_source``, ``test_source``, as
            for `load_parallel`.

    Returns:
        A `ParallelData`.
    """
    data = load_parallel(
        source,
        source_lang,
        target_lang,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        seed=seed,
        **sources,
    )
    for part in ("train", "validation"):
        pairs, dropped = drop_wordless(getattr(data, part))
        if dropped:
            print(f"notice: dropped {dropped} {part} pair(s) whose source has no word (only punctuation)")
        setattr(data, part, pairs)
    if max_pairs:
        data.train = (data.train[0][:max_pairs], data.train[1][:max_pairs])
    if test_limit:
        data.test = (data.test[0][:test_limit], data.test[1][:test_limit])
    return data


def longest(pairs: tuple[list[str], list[str]]) -> tuple[int, int]:
    """Words of the longest source (as the source vectorizer sees it) and of the longest tokenized target.

    Examples:
        >>> longest((["Ein Mann, der läuft.", "Ein Hund"], ["A man who runs.", "A dog"]))
        (4, 5)
    """
    sources, targets = pairs
    return max(source_length_of(s) for s in sources), max(len(tokenize(t).split()) for t in targets)


def make_vocabularies(data: ParallelData, vocabulary_size: int, min_frequency: int) -> tuple[list[str], list[str]]:
    """Source and target word lists from the training pairs, most frequent first.

    Words seen fewer than ``min_frequency`` times become ``[UNK]``. The
    target list starts with ``[start]`` and ``[end]``; neither list holds the
    padding and ``[UNK]`` entries that `TextVectorization` adds itself, so
    each has at most ``vocabulary_size`` entries once those are added.
    """
    errors.check_positive(vocabulary_size, "vocabulary_size")
    errors.check_positive(min_frequency, "min_frequency")
    source = _vocabulary([_source_words(s) for s in data.train[0]], vocabulary_size - 2, min_frequency)
    target = _vocabulary([tokenize(t).split() for t in data.train[1]], vocabulary_size - 4, min_frequency)
    for side, words in (("source", source), ("target", target)):
        if not words:
            raise errors.expected(
                f"{side} training words seen at least {min_frequency} times (--min-frequency) "
                f"and room for them in --vocabulary-size",
                f"none among {len(data.train[0])} training pairs, vocabulary size {vocabulary_size}",
            )
    return source, [START, END, *target]


def source_vectorizer(vocabulary: list[str], sequence_length: int, name: str = "source_vectorizer"):
    """A `TextVectorization` for raw source text: lower-case, strip punctuation, pad or cut.

    Examples:
        >>> v = source_vectorizer(["ein", "mann"], 4)
        >>> v(["Ein Mann!"]).numpy().tolist()
        [[2, 3, 0, 0]]
    """
    return keras.layers.TextVectorization(
        standardize="lower_and_strip_punctuation",
        output_sequence_length=sequence_length,
        vocabulary=vocabulary,
        name=name,
    )


def target_vectorizer(vocabulary: list[str], sequence_length: int, name: str = "target_vectorizer"):
    """A `TextVectorization` for tokenized target text (see `tokenize`): split on spaces only.

    Examples:
        >>> v = target_vectorizer([START, END, "un", "homme"], 5)
        >>> v(["[start] un homme [end]"]).numpy().tolist()
        [[2, 4, 5, 3, 0]]
    """
    return keras.layers.TextVectorization(
        standardize=None, output_sequence_length=sequence_length, vocabulary=vocabulary, name=name
    )


_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')


def _source_words(sentence: str) -> list[str]:
    """The words the source `TextVectorization` sees (its standardization, in Python)."""
    return _PUNCTUATION.sub("", sentence.lower()).split()


def drop_wordless(pairs: tuple[list[str], list[str]]) -> tuple[tuple[list[str], list[str]], int]:
    """Remove pairs whose source has no word left after standardization (Multi30k has two ``@@`` lines).

    Such a source is all padding, and attention over nothing is undefined.

    Examples:
        >>> drop_wordless((["Ein Hund.", "@@"], ["A dog.", "@@"]))
        ((['Ein Hund.'], ['A dog.']), 1)
    """
    kept = [(s, t) for s, t in zip(*pairs) if _source_words(s) and tokenize(t)]
    dropped = len(pairs[0]) - len(kept)
    return ([s for s, _ in kept], [t for _, t in kept]), dropped


def source_length_of(sentence: str) -> int:
    """Number of source words a raw sentence becomes (for truncation notices).

    Examples:
        >>> source_length_of("Ein Mann, der läuft.")
        4
    """
    return len(_source_words(sentence))


def _vocabulary(token_lists, size: int, min_frequency: int) -> list[str]:
    counts: dict[str, int] = {}
    for tokens in token_lists:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    words = sorted((w for w, c in counts.items() if c >= min_frequency), key=lambda w: (-counts[w], w))
    return [w for w in words if w not in (START, END)][: max(0, size)]


def target_texts(targets) -> list[str]:
    """Tokenized targets wrapped in start/end tokens, ready for the target vectorizer."""
    return [f"{START} {tokenize(t)} {END}" for t in targets]


def teacher_forcing_ids(
    pairs: tuple[list[str], list[str]],
    source_vocabulary: list[str],
    target_vocabulary: list[str],
    source_length: int,
    target_length: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Source ids and ``[start] words [end]`` target ids of sentence pairs, for `pair_dataset`.

    Args:
        pairs: ``(sources, targets)`` raw sentences.
        source_vocabulary, target_vocabulary: from `make_vocabularies`.
        source_length: source ids per row (cut or padded with 0).
        target_length: target ids per row, ``[start]`` and ``[end]``
            included: one more than the positions the decoder reads.

    Returns:
        ``(source_ids, target_ids)``, int NumPy arrays.

    Examples:
        >>> source, target = teacher_forcing_ids((["Ein Mann!"], ["A man!"]), ["ein", "mann"], [START, END, "a"], 3, 5)
        >>> source.tolist(), target.tolist()
        ([[2, 3, 0]], [[2, 4, 1, 1, 3]])
    """
    sources, targets = pairs
    source_layer = source_vectorizer(source_vocabulary, source_length)
    target_layer = target_vectorizer(target_vocabulary, target_length, name="train_target")
    # Under JAX and PyTorch the layers return that backend's tensors.
    source_ids = keras.ops.convert_to_numpy(source_layer(sources))
    return source_ids, keras.ops.convert_to_numpy(target_layer(target_texts(targets)))


def pair_dataset(
    source_ids, target_ids, batch_size: int, shuffle: bool = False, seed: int = 0, multiple: int = 1
) -> tf.data.Dataset:
    """``((source, decoder_input), decoder_target)`` batches for teacher forcing.

    ``target_ids`` hold ``[start] words [end]`` padded with 0; the decoder
    reads all but the last position and learns to predict all but the first.
    Each batch is cut to its longest source and target, rounded up to a
    multiple of ``multiple`` (and at most the full width), so no time goes
    on columns of padding only. A ``multiple`` above 1 gives fewer batch
    shapes: a backend that compiles one training step per input shape
    (JAX) then compiles a handful rather than one per length.

    Examples:
        >>> batch = next(iter(pair_dataset([[5, 6, 0, 0, 0]], [[2, 7, 3, 0, 0, 0]], batch_size=1, multiple=3)))
        >>> [batch[0]["source"].shape[1], batch[0]["target"].shape[1], batch[1].shape[1]]
        [3, 3, 3]
    """
    errors.check_positive(multiple, "multiple")
    source_ids = np.asarray(source_ids, dtype="int32")
    target_ids = np.asarray(target_ids, dtype="int32")
    inputs = {"source": source_ids, "target": target_ids[:, :-1]}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, target_ids[:, 1:]))
    if shuffle:
        dataset = dataset.shuffle(len(source_ids), seed=seed, reshuffle_each_iteration=True)

    @tf.autograph.experimental.do_not_convert
    def trim(inputs, targets):
        source_end, target_end = _cut(inputs["source"], multiple), _cut(targets, multiple)
        return (
            {"source": inputs["source"][:, :source_end], "target": inputs["target"][:, :target_end]},
            targets[:, :target_end],
        )

    return dataset.batch(batch_size).map(trim).prefetch(tf.data.AUTOTUNE)


def _cut(ids, multiple: int):
    """Columns to keep of a right-padded batch: its longest row, rounded up to ``multiple``, at most all."""
    longest = tf.maximum(1, tf.reduce_max(tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1)))
    return tf.minimum(tf.shape(ids)[1], -(-longest // multiple) * multiple)
