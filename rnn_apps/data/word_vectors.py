"""Pretrained word vectors from a local text file (``--embeddings PATH``).

The three common text formats are read the same way: GloVe's (one word and
its numbers per line), and word2vec's and fastText's ``.vec`` (the same, after
a first line giving the number of words and the width). A ``.gz`` file is
read compressed. Nothing is downloaded: the file is the user's.

Only the words of the model's vocabulary are kept, so a file of millions of
words costs one pass and a matrix the size of the vocabulary. A word missing
from the file keeps a random vector drawn at the scale of the vectors that
were found, so it can still learn when the vectors are fine-tuned; the padding
row stays zero.

Examples:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
    >>> _ = path.write_text("good 0.5 1.0\\nfilm -1.0 0.25\\n")
    >>> vectors = read(path, ["", "[UNK]", "film", "good", "plot"])
    >>> vectors.dim, vectors.found, vectors.matrix.shape, vectors.matrix[2].tolist()
    (2, 2, (5, 2), [-1.0, 0.25])
    >>> vectors.matrix[0].tolist(), round(vectors.coverage, 2)
    ([0.0, 0.0], 0.67)
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import pathlib

import numpy as np

from rnn_apps import errors

PADDING_AND_UNKNOWN = ("", "[UNK]")
"""Vocabulary entries that are not words: padding (id 0, a zero vector) and the unknown word."""


@dataclasses.dataclass
class WordVectors:
    """One row per vocabulary id, from the file where it had the word.

    Attributes:
        path: the file read.
        matrix: ``(vocabulary size, dim)`` float32; row ``i`` is id ``i``'s vector.
        dim: the file's width.
        found: vocabulary words (padding and unknown not counted) with a vector in the file.
        words: vocabulary words counted for ``coverage``.
    """

    path: str
    matrix: np.ndarray
    dim: int
    found: int
    words: int

    @property
    def coverage(self) -> float:
        """Share of the vocabulary's words the file had."""
        return self.found / self.words if self.words else 0.0

    def summary(self) -> dict:
        """What ``metrics.json`` records of the vectors: file, width, words found."""
        return {"path": self.path, "dim": self.dim, "found": self.found, "words": self.words}

    def describe(self) -> str:
        """One line for the run's log."""
        return (
            f"word vectors: {self.dim}-d from {self.path}, {self.found:,} of {self.words:,} "
            f"vocabulary words found ({100 * self.coverage:.1f}%)"
        )


def _open(path: pathlib.Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _is_header(fields: list[str]) -> bool:
    """word2vec and fastText start with ``count width``; no vector line has two integer fields."""
    return len(fields) == 2 and all(field.isdigit() for field in fields)


def read(path: str | os.PathLike, vocabulary, seed: int = 0, lowercase_fallback: bool = True) -> WordVectors:
    """The vectors of ``vocabulary``'s words found in the text file ``path``.

    Args:
        path: a GloVe, word2vec or fastText text file (``.gz`` allowed).
        vocabulary: the model's words by id; ``""`` (padding) and ``"[UNK]"``
            are not looked up.
        seed: seeds the random vectors of words the file lacks.
        lowercase_fallback: a word missing as written takes the vector of its
            lower-case form (most published vectors are lower-cased).

    Returns:
        The vectors, one row per id.

    Raises:
        InputError: the file is missing or empty, a line's width differs from
            the first vector's, or no vocabulary word has a vector.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        expected = "a word-vector text file (GloVe, word2vec or fastText .vec)"
        raise errors.expected(expected, str(path), name="--embeddings")
    vocabulary = [str(word) for word in vocabulary]
    wanted: dict[str, list[int]] = {}
    for index, word in enumerate(vocabulary):
        if word not in PADDING_AND_UNKNOWN:
            wanted.setdefault(word, []).append(index)
            if lowercase_fallback and word.lower() != word:
                wanted.setdefault(word.lower(), [])
    rows: dict[int, np.ndarray] = {}
    by_lower: dict[str, np.ndarray] = {}
    dim = None
    with _open(path) as lines:
        for number, line in enumerate(lines, 1):
            fields = line.rstrip().split(" ")
            if number == 1 and _is_header(fields):
                continue
            if len(fields) < 2:
                continue  # blank lines
            if dim is None:
                dim = len(fields) - 1
            elif len(fields) - 1 != dim:
                found = f"{len(fields) - 1} numbers on line {number}"
                expected = f"{dim} numbers after each word (the first vector's width)"
                raise errors.expected(expected, found, name=str(path))
            word = fields[0]
            if word not in wanted:
                continue
            try:
                vector = np.asarray(fields[1:], dtype="float32")
            except ValueError:
                found = f"line {number}: {line[:60]!r}"
                raise errors.expected("numbers after the word", found, name=str(path)) from None
            for index in wanted[word]:
                rows.setdefault(index, vector)
            by_lower.setdefault(word, vector)
    if dim is None:
        raise errors.expected("at least one word vector", "an empty file", name=str(path))
    if lowercase_fallback:
        for index, word in enumerate(vocabulary):
            if index not in rows and word not in PADDING_AND_UNKNOWN and word.lower() in by_lower:
                rows[index] = by_lower[word.lower()]
    words = sum(word not in PADDING_AND_UNKNOWN for word in vocabulary)
    if not rows:
        raise errors.expected(
            "a file with vectors for some of the training vocabulary's words",
            f"none of {words:,} words found",
            name=str(path),
        )
    found = np.stack(list(rows.values()))
    random = np.random.default_rng(seed)
    matrix = random.normal(0.0, float(found.std()) or 1.0, (len(vocabulary), dim)).astype("float32")
    for index, vector in rows.items():
        matrix[index] = vector
    if vocabulary and vocabulary[0] == "":
        matrix[0] = 0.0
    return WordVectors(str(path), matrix, dim, len(rows), words)


def load_into(layer, vectors: WordVectors) -> None:
    """Set an `Embedding` layer's table to ``vectors`` (the layer must be built at the same shape).

    Raises:
        InputError: the layer's table has another shape.
    """
    (table,) = layer.get_weights()
    if table.shape != vectors.matrix.shape:
        raise errors.expected(f"an embedding of shape {vectors.matrix.shape}", table.shape, name=layer.name)
    layer.set_weights([vectors.matrix])


def for_run(path: str | None, freeze: bool, vocabulary, seed: int = 0) -> WordVectors | None:
    """The vectors ``--embeddings`` names for this vocabulary, or `None` without the flag; prints their coverage.

    Raises:
        InputError: ``--freeze-embeddings`` without ``--embeddings``, or a bad file (see `read`).
    """
    if path is None:
        if freeze:
            raise errors.expected("--embeddings PATH with it", "no --embeddings", name="--freeze-embeddings")
        return None
    vectors = read(path, vocabulary, seed)
    print(vectors.describe())
    return vectors


def build_with(build, config, vectors: WordVectors | None):
    """``build(config)`` at the vectors' width, with its ``embedding`` layer starting from them.

    Without vectors this is ``build(config)``. The vectors go in as the
    layer's weights, not its initializer, so the saved model's configuration
    stays small and the file's words do not appear in it.
    """
    if vectors is None:
        return build(config)
    model = build(dataclasses.replace(config, embedding_dim=vectors.dim))
    load_into(model.get_layer("embedding"), vectors)
    return model


def settings(config, vectors: WordVectors | None) -> dict:
    """What ``metrics.json``'s ``config`` adds for the vectors: the width used and the file's coverage."""
    if vectors is None:
        return {}
    return {"embedding_dim": vectors.dim, "word_vectors": vectors.summary()}
