"""Where the bundled samples live.

The samples sit in the top-level ``data/`` folder of a checkout (an editable
install points here too). ``RNN_APPS_DATA`` overrides the location, for
installs that keep the samples elsewhere.
"""

from __future__ import annotations

import os
import pathlib

from rnn_apps import errors


def data_root() -> pathlib.Path:
    """The folder holding the bundled samples."""
    override = os.environ.get("RNN_APPS_DATA")
    if override:
        return pathlib.Path(override)
    return pathlib.Path(__file__).resolve().parent.parent / "data"


def bundled(relative: str) -> pathlib.Path:
    """Path of a bundled sample file, with a clear error if it is missing."""
    path = data_root() / relative
    if not path.exists():
        raise errors.InputError(
            f"Expected the bundled sample at {path} (set RNN_APPS_DATA to the "
            f"folder holding the samples, or pass --data). Received: no such file"
        )
    return path


NAME_MAX = 255
"""Bytes in one file-name part on the file systems users have (ext4, APFS, NTFS)."""

PATH_MAX = 4096


def input_path(value, what: str = "a path to an input file") -> pathlib.Path:
    """``value`` as a path, refusing what cannot be one before the file system is asked.

    An empty or blank value is not taken as the current folder, and a value
    with a part over `NAME_MAX` bytes (a sentence given where a file was
    expected), a NUL byte, or over `PATH_MAX` bytes is refused with one line
    instead of an ``OSError: File name too long``.

    Raises:
        rnn_apps.errors.InputError: ``value`` cannot name a file.

    Examples:
        >>> input_path("clips/a.gif").name
        'a.gif'
        >>> try:
        ...     input_path("  ")
        ... except errors.InputError as error:
        ...     print(error)
        Expected a path to an input file. Received: '  ' (empty)
    """
    text = str(value)
    encoded = os.fsencode(text) if "\0" not in text else b""
    if not text.strip():
        problem = "empty"
    elif "\0" in text or len(encoded) >= PATH_MAX:
        problem = "not a path"
    elif max(len(part) for part in encoded.split(b"/")) > NAME_MAX:
        problem = f"a name part over {NAME_MAX} bytes"
    else:
        return pathlib.Path(text)
    shown = text if len(text) <= 60 else f"{text[:57]}... ({len(text)} characters)"
    raise errors.InputError(f"Expected {what}. Received: {shown!r} ({problem})")
