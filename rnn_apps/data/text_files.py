"""Reading the text files users have: their encoding, byte-order marks and line ends.

Every reader of a user's text file (labelled lines, CSV tables, CoNLL
columns, parallel sentences, price tables) goes through `read_text` or
`read_lines`, so they all behave alike:

- the file is decoded with one codec, ``--encoding`` (default ``utf-8``);
  a byte that does not decode, wherever it is, is an `InputError` naming
  the file and the line, never a traceback and never a silent guess;
- byte-order marks are ignored: at the start of the file (``utf-8-sig``
  semantics) and at the start of any line, where concatenated files leave
  them;
- lines end at ``"\\n"`` only (``"\\r\\n"`` works too). `str.splitlines`
  would also split at ``"\\x85"``, ``"\\x0c"``, ``"\\u2028"`` and others,
  which occur inside real text (byte 0x85 read as Latin-1);
- a ``.gz`` file is read through gzip.

Examples:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "reviews.txt"
    >>> _ = path.write_bytes(b"\\xef\\xbb\\xbfpos fine\\r\\nneg dull \\xe2\\x80\\xa6 \\xc2\\x85 too\\n")
    >>> read_lines(path)
    ['pos fine', 'neg dull … \\x85 too']
    >>> _ = path.write_bytes(b"pos fine\\nneg caf\\xe9\\n")
    >>> try:
    ...     read_lines(path)
    ... except errors.InputError as error:
    ...     print(str(error).split("Received: ")[1])
    'reviews.txt, line 2: byte 0xe9 is not utf-8'
    >>> read_lines(path, encoding="latin-1")
    ['pos fine', 'neg café']
"""

from __future__ import annotations

import codecs
import gzip
import os
import pathlib
import sys

from rnn_apps import errors

DEFAULT_ENCODING = "utf-8"
BYTE_ORDER_MARK = "\ufeff"


def notice(message: str) -> None:
    """Tell the user about something left out of or changed in their file (not an error)."""
    print(f"notice: {message}", file=sys.stderr)


def check_encoding(encoding: str) -> str:
    """Return ``encoding`` if Python has a text codec of that name, else raise `InputError`.

    Examples:
        >>> check_encoding("cp1252")
        'cp1252'
        >>> try:
        ...     check_encoding("klingon")
        ... except errors.InputError as error:
        ...     print(str(error).split("Received: ")[1])
        --encoding='klingon'
    """
    try:
        known = codecs.lookup(str(encoding))
    except LookupError:
        known = None
    # Codecs such as base64 or rot13 turn bytes into bytes, not into text.
    if known is None or not getattr(known, "_is_text_encoding", True):
        raise errors.expected(
            "a text encoding Python knows (utf-8, latin-1, cp1252, utf-16, ...)", encoding, name="--encoding"
        )
    return encoding


def _codec(encoding: str) -> str:
    """The codec to decode with: UTF-8 drops a leading byte-order mark (``utf-8-sig``)."""
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of ``path`` (gunzipped for ``.gz``); an unreadable file is an `InputError`."""
    path = pathlib.Path(path)
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as error:
        raise errors.expected("a readable file", f"{path} ({type(error).__name__}: {error})") from None


def decode(raw: bytes, encoding: str = DEFAULT_ENCODING, source: str = "the file") -> str:
    """Decode ``raw`` with ``encoding``; a byte that does not decode is an `InputError` naming its line.

    Args:
        raw: the file's bytes.
        encoding: a codec name (see `check_encoding`).
        source: the file's name, for the message.

    Returns:
        The text, without a leading byte-order mark.

    Raises:
        rnn_apps.errors.InputError: an unknown codec, or bytes the codec
            cannot decode (the message names the line and suggests
            ``--encoding``).
    """
    check_encoding(encoding)
    try:
        text = raw.decode(_codec(encoding))
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise errors.expected(
            f"text in {encoding} (give the file's encoding with --encoding, e.g. --encoding latin-1 or cp1252)",
            f"{source}, line {line}: byte 0x{raw[error.start]:02x} is not {encoding}",
        ) from None
    return text.removeprefix(BYTE_ORDER_MARK)


def split_lines(text: str) -> list[str]:
    """Split ``text`` at ``"\\n"`` only; drop a ``"\\r"`` before it and a byte-order mark opening a line.

    Examples:
        >>> split_lines("a\\x85b\\r\\n\\ufeffc\\n")
        ['a\\x85b', 'c']
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r").removeprefix(BYTE_ORDER_MARK) for line in lines]


def read_lines(path: str | os.PathLike, encoding: str = DEFAULT_ENCODING) -> list[str]:
    """The lines of a text file, decoded with ``encoding`` (see the module docstring).

    Raises:
        rnn_apps.errors.InputError: an unreadable file, or bytes that do
            not decode (naming the line).
    """
    path = pathlib.Path(path)
    return split_lines(decode(read_bytes(path), encoding, path.name))


def read_text(path: str | os.PathLike, encoding: str = DEFAULT_ENCODING) -> str:
    """A text file as one string with ``"\\n"`` line ends, for parsers such as `pandas.read_csv`.

    Raises:
        rnn_apps.errors.InputError: as `read_lines`.
    """
    return "".join(line + "\n" for line in read_lines(path, encoding))
