"""Atomic file writes: a file is either its old self or complete, never half-written.

Each writer writes to a temporary file in the same folder and renames it over
the target, so a crash or a bad input part-way through a run never leaves a
truncated ``metrics.json`` or model behind. The file then gets the permissions
an ordinary ``open`` would give it under the process's umask (a temporary
file starts private), so CI collectors, serving accounts and shared volumes
can read what a run wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import tempfile


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    Examples:
        >>> import pathlib, tempfile
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text()
        'done'
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
    os.close(handle)
    temporary = pathlib.Path(temporary)
    try:
        yield temporary
        if temporary.is_file():
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return pathlib.Path(path)


def write_json(path: str | os.PathLike, data) -> pathlib.Path:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def save_model(model, path: str | os.PathLike) -> pathlib.Path:
    """Save a Keras model to a ``.keras`` file atomically."""
    with atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)
    return pathlib.Path(path)


def save_figure(figure, path: str | os.PathLike) -> pathlib.Path:
    """Save a matplotlib figure as PNG atomically."""
    with atomic_path(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=110, format="png")
    return pathlib.Path(path)
