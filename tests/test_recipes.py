"""The recipe contract, checked the same way for every registered recipe.

For each recipe: the quick run on the bundled sample writes ``metrics.json``
with the documented keys, every trained model beats the recipe's naive
baseline (or is named in the report as one the sample is built to defeat),
the saved model reloads in a fresh process and predicts on raw input, and a
bad flag exits with status 2 and one line.
"""

import json
import subprocess
import sys

import pytest
from conftest import REPO
from quick_runs import quick_run

from rnn_apps.harness import compare, config, recipe, registry

NAMES = registry.names()
ENTRY_KEYS = {"metrics", "params", "train_seconds", "predict_ms_per_sample", "fast_kernel"}


def test_every_recipe_is_registered_and_follows_the_contract():
    assert set(NAMES) == {"sentiment", "text_analysis", "speech", "translation", "video", "stocks"}
    for name in NAMES:
        found = registry.get(name)
        assert isinstance(found, recipe.Recipe) and found.name == name
        assert issubclass(found.config_class, config.RunConfig)
        assert found.summary and not found.summary.startswith("Title")
        assert "quick" in found.config_class.PRESETS, name


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_writes_the_metrics_contract(name, tmp_path_factory):
    output, report = quick_run(name, tmp_path_factory)
    on_disk = json.loads((output / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert {"recipe", "dataset", "task", "primary_metric", "models", "seed", "config", "command"} <= set(on_disk)
    assert on_disk["recipe"] == name and on_disk["dataset"]
    for model, entry in on_disk["models"].items():
        assert ENTRY_KEYS <= set(entry), model
        assert on_disk["primary_metric"] in entry["metrics"], model
        assert isinstance(entry["params"], int) and entry["train_seconds"] >= 0
    table = (output / "comparison.md").read_text()
    assert compare.markdown_table(report) in table
    assert (output / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", NAMES)
def test_every_trained_model_beats_the_naive_baseline(name, tmp_path_factory):
    _, report = quick_run(name, tmp_path_factory)
    found = registry.get(name)
    metric = report["primary_metric"]
    models = report["models"]
    baseline = models[found.naive_baseline]["metrics"][metric]
    sign = 1 if compare.higher_is_better(metric) else -1
    defeated = set(report.get("notes", {}))
    assert defeated == set(found.sample_defeats) & set(models)
    trained = [model for model, entry in models.items() if entry["params"] > 0 and model not in defeated]
    assert trained, models
    losing = {
        model: models[model]["metrics"][metric]
        for model in trained
        if not sign * models[model]["metrics"][metric] > sign * baseline
    }
    assert not losing, f"{metric}: baseline {found.naive_baseline} {baseline}, not beaten by {losing}"


@pytest.mark.parametrize("name", NAMES)
def test_saved_model_predicts_on_raw_input_in_a_fresh_process(name, tmp_path_factory):
    output, report = quick_run(name, tmp_path_factory)
    examples = registry.get(name).examples()
    assert examples, f"{name} names no example inputs"
    saved = [entry["model_path"] for entry in report["models"].values() if entry.get("model_path")]
    assert saved
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_apps.harness.cli",
            "predict",
            name,
            "--model",
            str(output / saved[0]),
            "--format",
            "json",
            *examples,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert len(rows) == len(examples) and all(isinstance(row, dict) and row for row in rows)


BAD_FLAGS = [
    (["--epochs", "0"], "expected a positive integer, received '0'"),
    (["--model", "transformer"], "received 'transformer'"),
    (["--no-such-flag"], "unrecognized arguments"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("flags, message", BAD_FLAGS)
def test_bad_flag_exits_2_with_one_line(name, flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        registry.get(name).parse(flags)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith(f"python -m recipes.{name}: error:")


@pytest.mark.parametrize("name", NAMES)
def test_bad_flag_in_a_fresh_process_is_one_line_without_traceback(name, tmp_path):
    output = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", f"recipes.{name}", "--epochs", "0", "--output-dir", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        f"python -m recipes.{name}: error: argument --epochs: expected a positive integer, received '0' (see --help)"
    ]
    assert not output.exists()
