"""Tagged sentences from a file, a folder or tensorflow-datasets, split into train, validation and test.

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

A file gives one split; a folder gives up to three, found by the words in
their names (``train``, ``dev``/``valid``, ``test``: ``eng.train`` /
``eng.dev`` / ``eng.test``, ``en_ewt-ud-train.conllu``; CoNLL-2003's
``eng.testa`` is the validation part and ``eng.testb`` the test part).
``validation_source`` and ``test_source`` (``--validation-data``,
``--test-data``) give a part as a file of its own. Missing parts are held
out of the training sentences at random with the given seed. Files are
decoded with ``encoding`` (``--encoding``), byte-order marks ignored.

Bad input and what happens:

- a line with fewer columns than the tag column, a token line with another
  column count than the file's first, bytes that do not decode, or a
  tensorflow-datasets example with more or fewer tags than tokens:
  `InputError` naming where;
- a folder without a train file: `InputError` listing the accepted layouts;
- an unknown tag column name: `InputError` listing the ones there are;
- no sentences at all: `InputError`;
- empty sentences (no tokens, possible in tensorflow-datasets): dropped,
  with one notice on stderr;
- invalid IOB transitions (``I-X`` after ``O`` or after a tag of another
  type, as in IOB1 files such as the original CoNLL-2003): repaired to
  IOB2 by turning the ``I-X`` into ``B-X``, with one notice on stderr
  giving the count; with ``strict_iob=True`` they are refused instead.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

import numpy as np

from rnn_apps import errors
from rnn_apps.data import conll, iob, text_files

TFDS_TAG_PREFERENCE = ("ner", "tags", "ner_tags", "upos", "pos", "chunks")
SPLIT_NAMES = {"train": ("train",), "validation": ("dev", "valid", "validation", "testa"), "test": ("test", "testb")}
LAYOUTS = (
    "a CoNLL-style column file (token first, tag last or --tag-column, a blank line between sentences)",
    "a .conllu file",
    "a folder of such files whose names hold train, dev (or valid, validation, testa) and test (or testb), "
    "such as eng.train/eng.dev/eng.test or en_ewt-ud-train.conllu; dev and test optional",
    "a tensorflow-datasets name such as conll2003",
)
"""Every source layout `load_tagging` reads, for the message that refuses another."""


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


notice = text_files.notice
"""Print a one-line notice about the data on stderr."""


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


def _load_tfds(name: str, tag_column, data_dir: str | None) -> tuple[dict[str, list[conll.Sentence]], list[str]]:
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
        train: the training sentences, a list of ``(tokens, tags)``.
        validation: the validation sentences, as ``train``.
        test: the test sentences, as ``train``.
    """

    name: str
    tag_names: list[str]
    scheme: str
    train: list[conll.Sentence]
    validation: list[conll.Sentence]
    test: list[conll.Sentence]

    @property
    def num_tags(self) -> int:
        return len(self.tag_names)

    def sizes(self) -> dict[str, int]:
        return {part: len(getattr(self, part)) for part in ("train", "validation", "test")}

    def tag_ids(self, part: str) -> list[np.ndarray]:
        """Tag ids per sentence of one part."""
        index = {tag: i for i, tag in enumerate(self.tag_names)}
        return [np.array([index[tag] for tag in tags], dtype="int32") for _, tags in getattr(self, part)]


def _hold_out(
    sentences: list[conll.Sentence], fraction: float, seed: int
) -> tuple[list[conll.Sentence], list[conll.Sentence]]:
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
    encoding: str = text_files.DEFAULT_ENCODING,
    validation_source=None,
    test_source=None,
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
        encoding: the codec of the files.
        validation_source: a file holding the validation sentences; it
            replaces the part found in a folder or held out.
        test_source: the same for the test sentences.

    Returns:
        A `TaggingData`.

    Raises:
        rnn_apps.errors.InputError: see the module docstring.
    """
    text_files.check_encoding(encoding)
    path = pathlib.Path(source)
    tag_names = None
    if path.is_file():
        parts = {"train": conll.read_tagged_file(path, tag_column, encoding)}
        name = path.name
    elif path.is_dir():
        files = _split_files(path)
        if "train" not in files:
            raise errors.expected(
                f"one of these layouts: {'; '.join(LAYOUTS)}",
                f"{path} holding {sorted(child.name for child in path.iterdir())[:10]}",
                name="--data",
            )
        parts = {part: conll.read_tagged_file(file, tag_column, encoding) for part, file in files.items()}
        name = path.name
    elif "/" in str(source) or pathlib.Path(str(source)).suffix:
        raise errors.expected("an existing file or folder", str(source), name="--data")
    else:
        parts, tag_names = _load_tfds(str(source), tag_column, tfds_data_dir)
        name = str(source)
    for part, given in (("validation", validation_source), ("test", test_source)):
        if given is None:
            continue
        flag = f"--{part}-data"
        if not pathlib.Path(given).is_file():
            raise errors.expected("an existing CoNLL-style or .conllu file", str(given), name=flag)
        parts[part] = conll.read_tagged_file(given, tag_column, encoding)
        if not any(tokens for tokens, _ in parts[part]):
            raise errors.expected(f"tagged sentences in {pathlib.Path(given).name} ({flag})", "none")
        name += f", {part} from {pathlib.Path(given).name}"

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
    scheme = "iob2" if iob.is_iob(seen) else "plain"
    if scheme == "iob2":
        repaired = 0
        for part, sentences in parts.items():
            fixed = []
            for tokens, tags in sentences:
                tags, count = iob.repair_iob(tags)
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
        names = set(tag_names or []) | seen if tag_names and iob.is_iob(tag_names) else seen
        tag_names = [iob.OUTSIDE] + sorted(names - {iob.OUTSIDE}, key=lambda tag: (tag[2:], tag[0]))
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
