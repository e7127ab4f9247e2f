"""Each recipe's quick run, made once per test session and shared by every test module that reads it.

Under pytest-xdist the workers share one folder per recipe: the first worker
to need a run makes it while holding a file lock, and the others wait for it
and read its ``metrics.json``.
"""

import json
import os
import pathlib

import filelock

from rnn_apps.harness import cli, registry

_RUNS: dict[str, tuple[pathlib.Path, dict]] = {}


def quick_run(name: str, tmp_path_factory) -> tuple[pathlib.Path, dict]:
    """``(output folder, report)`` of ``python -m recipes.NAME --quick`` on the bundled sample."""
    if name not in _RUNS:
        root = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            root = root.parent  # each worker's folder sits in the session's folder
        output = root / f"quick_{name}"
        with filelock.FileLock(f"{output}.lock"):
            report_path = output / "metrics.json"
            if not report_path.exists():
                cli.run_recipe(registry.get(name), ["--quick", "--output-dir", str(output), "--verbose", "0"])
            _RUNS[name] = (output, json.loads(report_path.read_text()))
    return _RUNS[name]
