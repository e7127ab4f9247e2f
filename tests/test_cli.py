"""Command-line contract: shared parser, exit status 2 with one clear line, no traceback."""

import json
import subprocess
import sys

import pytest
from conftest import REPO

from recipes import sentiment
from rnn_apps.harness import cli, registry


def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        sentiment.main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.err.strip().splitlines()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "transformer"], "expected 'all' or a comma-separated list"),
        (["--epochs", "0"], "argument --epochs: expected a positive integer, received '0'"),
        (["--units", "-3"], "argument --units: expected a positive integer, received '-3'"),
        (["--batch-size", "0"], "argument --batch-size: expected a positive integer, received '0'"),
        (["--dropout", "1.5"], "expected a number in [0, 1), received '1.5'"),
        (["--task", "regression"], "invalid choice: 'regression'"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv, message, capsys):
    code, lines = run_main(argv, capsys)
    assert code == 2
    assert len(lines) == 1 and message in lines[0]


def test_missing_data_file(tmp_path, capsys):
    code, lines = run_main(["--data", str(tmp_path / "missing.csv"), "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and len(lines) == 1
    assert "Expected --data to be an existing file or folder" in lines[0]
    assert not (tmp_path / "out").exists()


def test_empty_data_file(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    code, lines = run_main(["--data", str(tmp_path / "empty.csv")], capsys)
    assert code == 2 and "an empty file" in lines[0]


def test_csv_without_named_columns(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("review,stars\ngood,1\n")
    code, lines = run_main(["--data", str(tmp_path / "d.csv")], capsys)
    assert code == 2 and "columns 'text' and 'label'" in lines[0] and "['review', 'stars']" in lines[0]


def test_non_binary_labels(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("text,label\n" + "".join(f"t{i},{i % 3}\n" for i in range(30)))
    code, lines = run_main(["--data", str(tmp_path / "d.csv")], capsys)
    assert code == 2 and "Expected binary labels" in lines[0] and "3 classes" in lines[0]


def test_a_failed_run_keeps_earlier_results(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text('{"earlier": true}')
    code, _ = run_main(["--data", str(tmp_path / "missing.csv"), "--output-dir", str(out)], capsys)
    assert code == 2
    assert json.loads((out / "metrics.json").read_text()) == {"earlier": True}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "weather"], "Expected recipe to be a recipe, one of ['sentiment'"),
        (["run", "weather"], "Received: recipe='weather'"),
        (["compare"], "Expected a recipe name"),
        (["compare", "sentiment", "--all"], "not both"),
        (["predict", "sentiment", "--model", "nowhere.keras", "hi"], "an existing .keras model file"),
    ],
)
def test_rnn_apps_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and message in lines[0]


def test_list_names_every_recipe(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in registry.names())


def test_recipe_help_shows_common_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        sentiment.main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for flag in (
        "--data",
        "--model",
        "--bidirectional",
        "--layers",
        "--units",
        "--epochs",
        "--batch-size",
        "--seed",
        "--output-dir",
        "--quick",
        "--task",
    ):
        assert flag in out


def test_run_and_module_share_one_parser():
    module_parser = cli.recipe_parser(sentiment.RECIPE)
    run_parser = cli.recipe_parser(sentiment.RECIPE, prog="rnn-apps run sentiment")
    assert [a.dest for a in module_parser._actions] == [a.dest for a in run_parser._actions]


def test_module_entry_point_exits_2_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "recipes.sentiment", "--data", str(tmp_path / "nope.tsv")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("python -m recipes.sentiment: error: Expected --data")


def _imports_and_errors(arguments):
    """Run ``python -X importtime ARGUMENTS``: exit status, modules imported, other stderr lines."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *arguments], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    lines = result.stderr.strip().splitlines()
    imported = {line.rsplit("|", 1)[1].strip() for line in lines if line.startswith("import time:")}
    return result.returncode, imported, [line for line in lines if not line.startswith("import time:")], result.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        ["-m", "rnn_apps.harness.cli", "run", "sentiment", "--epochs", "0"],
        ["-m", "rnn_apps.harness.cli", "run", "speech", "--sample-rate", "5"],
        ["-m", "rnn_apps.harness.cli", "run", "video", "--size", "4096"],
        ["-m", "rnn_apps.harness.cli", "compare", "--all", "--units", "-1"],
        ["-m", "recipes.sentiment", "--epochs", "0"],
        ["-m", "recipes.stocks", "--no-such-flag"],
    ],
    ids=["run", "speech", "video", "compare-all", "module", "module-unknown"],
)
def test_bad_flag_is_refused_before_keras_or_tensorflow_start(arguments):
    # Checked from the recipe's Keras-free configuration: one line, exit 2, and
    # neither Keras nor TensorFlow (nor their start-up notices) ever loaded.
    code, imported, errors_seen, _ = _imports_and_errors(arguments)
    assert code == 2
    assert len(errors_seen) == 1 and ": error: " in errors_seen[0], errors_seen
    assert not imported & {"keras", "tensorflow", "torch", "jax", "sklearn"}


@pytest.mark.parametrize("arguments", [["-m", "rnn_apps.harness.cli", "--help"], ["-m", "recipes.video", "--help"]])
def test_help_answers_before_keras_or_tensorflow_start(arguments):
    code, imported, errors_seen, out = _imports_and_errors(arguments)
    assert code == 0 and "usage:" in out and not errors_seen
    assert not imported & {"keras", "tensorflow"}


def test_every_registered_recipe_has_a_keras_free_configuration():
    # The light configuration is the class the recipe itself parses with.
    for name in registry.names():
        assert registry.config_class(name) is registry.get(name).config_class
        assert registry.summary(name) == registry.get(name).summary
