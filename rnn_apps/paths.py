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
