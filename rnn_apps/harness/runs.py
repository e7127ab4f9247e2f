"""Which run a folder holds: the run fingerprint behind ``--resume`` and ``--overwrite``.

A run folder (``--output-dir``) holds ``run.json``: the fingerprint of the
run that made it, that is the recipe, the identity of its data (the
``--data``, ``--validation-data`` and ``--test-data`` values with a checksum of
each file or folder they name), every setting that changes results, and the
library versions. `claim` compares it with the run about to start:

- ``--resume`` goes on only over a run with the same fingerprint; any other is
  refused (exit 2) with the settings that differ, so finished models of
  another configuration or other data are never passed off as this run's;
- a fresh run into a folder that holds another recipe's or another
  configuration's run is refused too, unless ``--overwrite`` is given: the
  old run's files are then deleted before the new run writes its first file;
- a fresh run of the same configuration replaces the old one, as before.

Nothing is written until the run's data has been read (`begin`, called
when the first model starts), so a run refused for its input leaves the
folder as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil

from rnn_apps import errors, io
from rnn_apps.harness import tuning

RUN_FILE = "run.json"

DATA_FIELDS = ("data", "validation_data", "test_data")

RUN_FOLDERS = ("models", "checkpoints", "logs", "backups", "partial", "tuning")
RUN_SUFFIXES = (".json", ".md", ".png", ".gif", ".csv", ".keras", ".txt")
"""What `clear` deletes: the harness's folders, and files of these kinds at the top of a run folder."""

CONTENT_LIMIT = 256 * 2**20
"""Bytes of file content hashed per data source; past it, files count by size and modification time."""

_pending: dict[pathlib.Path, tuple[dict, bool]] = {}


def data_identity(value: str | None, limit: int = CONTENT_LIMIT) -> dict | None:
    """The source a data flag names, with a SHA-256 checksum when it is a file or folder.

    The checksum covers file names and contents (up to ``limit`` bytes in all;
    later files count by size and modification time, so a large dataset is
    not read through at each start). A tensorflow-datasets name or the
    bundled sample has no checksum: the versions in the fingerprint pin it.

    Examples:
        >>> data_identity("sample")
        {'source': 'sample'}
    """
    if value is None:
        return None
    path = pathlib.Path(value)
    if not path.exists():
        return {"source": value}
    files = [path] if path.is_file() else sorted(item for item in path.rglob("*") if item.is_file())
    digest, budget = hashlib.sha256(), limit
    for item in files:
        stat = item.stat()
        digest.update(f"{item.relative_to(path) if item != path else item.name}\0{stat.st_size}\0".encode())
        if stat.st_size <= budget:
            with open(item, "rb") as handle:
                for block in iter(lambda: handle.read(2**20), b""):
                    digest.update(block)
            budget -= stat.st_size
        else:
            digest.update(str(stat.st_mtime_ns).encode())
    return {"source": str(path.resolve()), "files": len(files), "sha256": digest.hexdigest()}


def fingerprint(recipe: str, config) -> dict:
    """What identifies a run: recipe, data identity, settings that change results, versions."""
    import keras

    # RunConfig.settings leaves out what does not change results (folder, console, how flags were spelled).
    settings = json.loads(json.dumps(config.settings(), default=str))
    settings = {key: value for key, value in settings.items() if key not in DATA_FIELDS}
    given = {key: getattr(config, key, None) for key in DATA_FIELDS}
    data = {key: data_identity(str(value)) for key, value in given.items() if value is not None}
    tuned_from = getattr(config, "tuned_from", None)
    if tuned_from and tuning.settings_file(tuned_from):
        data["tuned_from"] = data_identity(tuned_from)  # the file's content, not only its name
    elif tuned_from:  # inline JSON: the settings it gives, however it was spaced or ordered
        settings["tuned_from"] = json.dumps(tuning.given_settings(tuned_from)[0], sort_keys=True)
    return {
        "recipe": recipe,
        "data": data,
        "config": settings,
        "versions": versions(keras.config.backend()),
    }


def versions(backend: str) -> dict[str, str]:
    """Installed versions of Python, this package, Keras, the backend's package, NumPy and scikit-learn."""
    import platform
    from importlib import metadata

    found = {"python": platform.python_version(), "backend": backend}
    packages = {"jax": "jax", "torch": "torch"}.get(backend, "tensorflow")
    for package in ("rnn_apps", "keras", packages, "numpy", "scikit-learn"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def differences(stored: dict, current: dict) -> list[str]:
    """What differs between two fingerprints, one ``name: in the folder -> now`` entry each.

    Examples:
        >>> old = {"recipe": "sentiment", "data": {}, "config": {"units": 64}, "versions": {}}
        >>> differences(old, {**old, "config": {"units": 8}})
        ['units: 64 -> 8']
    """
    if stored.get("recipe") != current.get("recipe"):
        return [f"recipe: {stored.get('recipe')} -> {current.get('recipe')}"]
    found = []
    for part in ("data", "config", "versions"):
        old, new = stored.get(part, {}), current.get(part, {})
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                found.append(f"{key}: {_short(old.get(key))} -> {_short(new.get(key))}")
    return found


def _short(value) -> str:
    if isinstance(value, dict) and "source" in value:
        checksum = value.get("sha256")
        return f"{value['source']}" + (f" (sha256 {checksum[:12]})" if checksum else "")
    return json.dumps(value) if not isinstance(value, str) else value


def stored_fingerprint(folder: str | os.PathLike) -> dict | None:
    """The fingerprint in ``folder/run.json``, or `None` if there is none (or it cannot be read)."""
    path = pathlib.Path(folder) / RUN_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _recipe_of_report(folder: pathlib.Path) -> str | None:
    try:
        return json.loads((folder / "metrics.json").read_text(encoding="utf-8")).get("recipe")
    except (OSError, ValueError, AttributeError):
        return None


def _has_run_files(folder: pathlib.Path) -> bool:
    return any((folder / name).exists() for name in (RUN_FILE, "metrics.json", *RUN_FOLDERS))


def claim(recipe: str, config) -> None:
    """Check that ``config.output_dir`` may take this run; remember what `begin` writes.

    Raises:
        rnn_apps.errors.InputError: ``--resume`` over a run of another
            fingerprint (or of none), or a fresh run into a folder holding
            another recipe's or configuration's run without ``--overwrite``.
    """
    folder = pathlib.Path(config.output_dir)
    overwrite = bool(getattr(config, "overwrite", False))
    if config.resume and overwrite:
        raise errors.expected("--resume or --overwrite, not both", "both", name="flags")
    current = fingerprint(recipe, config)
    stored = stored_fingerprint(folder)
    found = differences(stored, current) if stored is not None else []
    if config.resume:
        if stored is None and _has_run_files(folder):
            raise errors.expected(
                f"a run folder with {RUN_FILE} to resume (it names the configuration the run was made with)",
                f"{folder} without one; run without --resume to start afresh",
            )
        if found:
            raise errors.expected(
                "--resume over a run of the same recipe, data, settings and versions",
                f"{folder} holding a run that differs in {'; '.join(found)}",
            )
    elif not overwrite:
        other_recipe = _recipe_of_report(folder)
        if stored is None and other_recipe not in (None, recipe):
            found = [f"recipe: {other_recipe} -> {recipe}"]
        if found:
            raise errors.expected(
                "an --output-dir that is empty or holds a run of this configuration "
                "(--overwrite deletes the old run first)",
                f"{folder} holding a run that differs in {'; '.join(found)}",
            )
    _pending[folder.resolve()] = (current, overwrite and _has_run_files(folder))


def begin(output_dir: str | os.PathLike) -> None:
    """Write the run's fingerprint to ``run.json`` (clearing an old run first if `claim` said so).

    Called when the first model is about to train, after the data has been
    read; does nothing for a folder `claim` was not asked about.
    """
    folder = pathlib.Path(output_dir)
    pending = _pending.pop(folder.resolve(), None)
    if pending is None:
        return
    current, clear_first = pending
    if clear_first:
        clear(folder, keep=[item["source"] for item in current["data"].values() if item])
        print(f"--overwrite: deleted the earlier run in {folder}")
    io.write_json(folder / RUN_FILE, current)


def clear(folder: str | os.PathLike, keep=()) -> None:
    """Delete a run's files from ``folder``: its harness folders and the files a run writes at the top.

    Args:
        folder: the run folder.
        keep: paths never deleted (the new run's own data files, should they lie there).
    """
    folder = pathlib.Path(folder)
    kept = {str(pathlib.Path(path).resolve()) for path in keep}
    for name in RUN_FOLDERS:
        if str((folder / name).resolve()) not in kept:
            shutil.rmtree(folder / name, ignore_errors=True)
    for item in folder.iterdir() if folder.is_dir() else ():
        if item.is_file() and item.suffix.lower() in RUN_SUFFIXES and str(item.resolve()) not in kept:
            item.unlink()
