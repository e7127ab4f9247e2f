"""Reading tagged sentences from CoNLL-style column files and CoNLL-U files.

- CoNLL-style column files: one token per line, whitespace-separated
  columns with the token first, a blank line between sentences,
  ``-DOCSTART-`` lines skipped; the tag column is selectable (default: the
  last);
- the WikiANN layout (``en:Paris<TAB>B-LOC``): a language prefix that every
  token of a file carries (``en:``, ``fr:``, ...) is stripped;
- CoNLL-U files (``.conllu``): universal parts of speech by default
  (``--tag-column upos``; ``xpos`` or a column number also work); comment
  lines, multi-word token ranges (``1-2``) and empty nodes (``1.1``) are
  skipped.

Files are decoded with one codec (``--encoding``, default UTF-8; see
`rnn_apps.data.text_files`), byte-order marks ignored, lines split at
``"\n"`` only. A byte that does not decode, a line with fewer columns than
the tag column, a token line whose column count differs from the file's
first token line (``General I-ORG EXTRA`` in a two-column file), or an
unknown tag column name, is an `InputError` naming where. Every reader
returns a list of `Sentence`: ``(tokens, tags)``.
"""

from __future__ import annotations

import pathlib
import re

from rnn_apps import errors
from rnn_apps.data import text_files

DOCSTART = "-DOCSTART-"
CONLLU_COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
LANGUAGE_PREFIX = re.compile(r"^([a-z]{2,3}):(?=.)")

Sentence = tuple[list[str], list[str]]


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


def read_column_file(path, tag_column=None, encoding: str = text_files.DEFAULT_ENCODING) -> list[Sentence]:
    """Read a CoNLL-style column file (or the WikiANN layout).

    Args:
        path: the file.
        tag_column: 0-based column of the tag (negative counts from the
            end); default the last column.
        encoding: the file's codec.

    Returns:
        ``(tokens, tags)`` per sentence.

    Raises:
        rnn_apps.errors.InputError: bytes that do not decode, or a token
            line without the tag column or with another column count than
            the file's first token line (naming the line).
    """
    path = pathlib.Path(path)
    index = _column_index(tag_column, None, -1)
    sentences, tokens, tags = [], [], []
    columns = None
    for number, line in enumerate(text_files.read_lines(path, encoding), 1):
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
                line,
            )
        columns = columns or (len(fields), number)
        if len(fields) != columns[0]:
            # An extra or missing column would shift the tag column and make words into tags.
            raise errors.expected(
                f"{columns[0]} columns on every token line of {path.name}, as on line {columns[1]}",
                f"{len(fields)} on line {number}: {line[:80]!r}",
            )
        tokens.append(fields[0])
        tags.append(fields[index])
    if tokens:
        sentences.append((tokens, tags))
    return _strip_language_prefix(sentences)


def read_conllu(path, tag_column=None, encoding: str = text_files.DEFAULT_ENCODING) -> list[Sentence]:
    """Read a CoNLL-U file: the word forms and, by default, their universal POS tags.

    Args:
        path: a ``.conllu`` file.
        tag_column: ``"upos"`` (default), ``"xpos"``, another CoNLL-U column
            name, or a 0-based column number.
        encoding: the file's codec.

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
    for number, line in enumerate(text_files.read_lines(path, encoding), 1):
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


def read_tagged_file(path, tag_column=None, encoding: str = text_files.DEFAULT_ENCODING) -> list[Sentence]:
    """Read a column file or, for ``.conllu``, a CoNLL-U file, decoded with ``encoding``."""
    path = pathlib.Path(path)
    if path.suffix.lower() == ".conllu":
        return read_conllu(path, tag_column, encoding)
    return read_column_file(path, tag_column, encoding)
