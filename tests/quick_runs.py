"""Each recipe's quick run, made once per test session and shared by every test module that reads it."""

import pathlib

from rnn_apps.harness import cli, registry

_RUNS: dict[str, tuple[pathlib.Path, dict]] = {}


def quick_run(name: str, tmp_path_factory) -> tuple[pathlib.Path, dict]:
    """``(output folder, report)`` of ``python -m recipes.NAME --quick`` on the bundled sample."""
    if name not in _RUNS:
        output = tmp_path_factory.mktemp(f"quick_{name}")
        report = cli.run_recipe(registry.get(name), ["--quick", "--output-dir", str(output), "--verbose", "0"])
        _RUNS[name] = (output, report)
    return _RUNS[name]
