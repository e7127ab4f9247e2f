"""Bad input at every entry point: the flags every recipe shares, failed runs, and no tracebacks.

The contract (docs/bad-input.md): on the command line a user error prints one
line ``PROG: error: Expected ... Received: ...`` (notices may come before
it), exits with status 2, shows no traceback and writes nothing; library
functions raise `rnn_apps.errors.InputError`, a `ValueError`. The helpers
here are shared by the per-recipe files ``test_bad_input_<recipe>.py``.
Every check runs before any training, so each test takes well under a second.
"""

import importlib
import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import REPO

from rnn_apps import errors
from rnn_apps.harness import cli

RECIPES = ("sentiment", "text_analysis", "speech", "translation", "video", "stocks")
MESSAGE = re.compile(r"(?i)\bexpected\b.*\breceived\b|invalid choice: .+ \(choose from .+\)|invalid \w+ value: '")
"""What an error line must say: what was expected and what came in (argparse words choices and types its way)."""


def recipe(name):
    return importlib.import_module(f"recipes.{name}")


def cli_error(main, argv, capsys) -> str:
    """Run ``main(argv)``; check exit status 2, one error line last, no traceback; return that line."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and ": error: " in lines[-1], lines
    assert all(line.startswith("notice") for line in lines[:-1]), lines
    assert MESSAGE.search(lines[-1]), lines[-1]
    return lines[-1]


def run_error(name, argv, tmp_path, capsys) -> str:
    """`cli_error` for ``python -m recipes.<name> ARGV``; the output folder must not be created."""
    out = tmp_path / "out"
    line = cli_error(recipe(name).main, [*argv, "--output-dir", str(out)], capsys)
    assert not out.exists(), f"a failed run created {out}"
    return line


def predict_error(name, model_path, inputs, capsys) -> str:
    """`cli_error` for ``rnn-apps predict NAME --model MODEL_PATH INPUTS``."""
    return cli_error(cli.main, ["predict", name, "--model", str(model_path), *map(str, inputs)], capsys)


def library_error(function, *args, match: str, **kwargs) -> str:
    """Call a library function; check it raises `InputError` (a `ValueError`) with the message style."""
    with pytest.raises(errors.InputError, match=match) as error_info:
        function(*args, **kwargs)
    assert isinstance(error_info.value, ValueError)
    assert MESSAGE.search(str(error_info.value)), str(error_info.value)
    return str(error_info.value)


# --------------------------------------------------------------------------
# Tiny stand-in models with the input signatures the recipes save (no training)


def _save(model, path, sidecar=None):
    model.save(path)
    if sidecar is not None:
        path.with_suffix(".json").write_text(json.dumps(sidecar))
    return path


def tiny_models(folder, names):
    """Save small untrained models, one per signature in ``names``; return their paths by name.

    text: raw strings to one probability (a sentiment model); tagger: a
    ``tokens`` string matrix to tag scores (a text_analysis model); window:
    ``(5, 1)`` prices to a ``(1, 1)`` forecast (a stocks model); waveform:
    ``(time,)`` audio to two classes (a speech model); series: ``(time, 2)``
    frames to two classes (a speech or video model on ``.ts`` series);
    clip: ``(frames, height, width, 1)`` clips to two classes (a video model);
    digits: audio through a log-mel layer to per-frame symbol scores (a CTC speech model).
    """
    builders = {}

    def text():
        inputs = keras.Input(shape=(), dtype="string", name="text")
        ids = keras.layers.StringLookup(vocabulary=["good", "bad"], name="lookup")(inputs)
        vectors = keras.layers.Embedding(4, 3, name="embed")(ids)
        outputs = keras.layers.Dense(1, activation="sigmoid", name="head")(vectors)
        sidecar = {"class_names": ["neg", "pos"], "task": "binary"}
        return _save(keras.Model(inputs, outputs), folder / "text.keras", sidecar)

    def tagger():
        tokens = keras.Input(shape=(None,), dtype="string", name="tokens")
        ids = keras.layers.StringLookup(vocabulary=["john", "paris"], name="lookup")(tokens)
        vectors = keras.layers.Embedding(4, 3, name="embed")(ids)
        outputs = keras.layers.Dense(3, activation="softmax", name="head")(vectors)
        sidecar = {"tag_names": ["O", "B-PER", "I-PER"], "scheme": "iob2", "char_length": None, "crf": False}
        return _save(keras.Model({"tokens": tokens}, outputs), folder / "tagger.keras", sidecar)

    def window():
        inputs = keras.Input(shape=(5, 1), name="prices")
        flat = keras.layers.Flatten(name="flat")(inputs)
        outputs = keras.layers.Reshape((1, 1), name="forecast")(keras.layers.Dense(1, name="head")(flat))
        sidecar = {"task": "forecast", "horizon": 1, "steps": "last", "target": "log_return"}
        return _save(keras.Model(inputs, outputs), folder / "window.keras", sidecar)

    def waveform():
        inputs = keras.Input(shape=(None,), name="waveform")
        column = keras.layers.Reshape((-1, 1), name="column")(inputs)
        pooled = keras.layers.GlobalAveragePooling1D(name="pool")(column)
        outputs = keras.layers.Dense(2, activation="softmax", name="head")(pooled)
        sidecar = {
            "task": "keywords",
            "class_names": ["yes", "no"],
            "sample_rate": 8000,
            "clip_samples": 800,
            "input": "waveform",
        }
        return _save(keras.Model(inputs, outputs), folder / "waveform.keras", sidecar)

    def series():
        inputs = keras.Input(shape=(None, 2), name="frames")
        pooled = keras.layers.GlobalAveragePooling1D(name="pool")(inputs)
        outputs = keras.layers.Dense(2, activation="softmax", name="head")(pooled)
        sidecar = {"task": "keywords", "class_names": ["a", "b"], "sample_rate": None, "input": "frames"}
        sidecar |= {"clip_samples": 4}
        model = keras.Model(inputs, outputs)
        _save(model, folder / "series_video.keras", {"input": "joints", "class_names": ["a", "b"]})
        return _save(model, folder / "series.keras", sidecar)

    def clip():
        inputs = keras.Input(shape=(None, None, None, 1), name="clip")
        pooled = keras.layers.GlobalAveragePooling3D(name="pool")(inputs)
        outputs = keras.layers.Dense(2, activation="softmax", name="head")(pooled)
        sidecar = {
            "input": "frames",
            "class_names": ["left", "right"],
            "frames": 4,
            "stride": 1,
            "size": 8,
            "channels": 1,
            "short_clips": "refuse",
        }
        return _save(keras.Model(inputs, outputs), folder / "clip.keras", sidecar)

    def digits():
        from rnn_apps.tasks import acoustic

        front_end = acoustic.FrontEnd(8000, num_mel_bins=8)
        inputs = keras.Input(shape=(None,), name="waveform")
        mel = front_end.mel_layer()(inputs)
        frames = keras.layers.Permute((2, 1), name="frames")(mel)
        outputs = keras.layers.Dense(11, activation="softmax", name="head")(frames)
        sidecar = {
            "task": "digits",
            "class_names": [str(d) for d in range(10)],
            "sample_rate": 8000,
            "clip_samples": 800,
            "input": "waveform",
            "front_end": front_end.to_dict(),
        }
        return _save(keras.Model(inputs, outputs), folder / "digits.keras", sidecar)

    builders.update(text=text, tagger=tagger, window=window, waveform=waveform, series=series, clip=clip, digits=digits)
    return {name: builders[name]() for name in names}


def write_ts(path, rows, labels="@classLabel true a b"):
    """A minimal UEA/sktime ``.ts`` file: header lines, then ``rows`` under ``@data``."""
    path.write_text("\n".join(["@problemName toy", "@timeStamps false", labels, "@data", *rows]) + "\n")
    return path


def copy_model(path, folder, sidecar=None, name="model"):
    """A copy of a tiny model under ``folder``, with ``sidecar`` text (or none) beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.keras"
    target.write_bytes(path.read_bytes())
    if sidecar is not None:
        target.with_suffix(".json").write_text(sidecar)
    return target


# --------------------------------------------------------------------------
# Flags every recipe shares


COMMON_FLAGS = [
    (["--model", "transformer"], "argument --model: expected 'all' or a comma-separated list"),
    (["--model", ","], "argument --model: expected 'all' or a comma-separated list"),
    (["--epochs", "0"], "argument --epochs: expected a positive integer, received '0'"),
    (["--epochs", "2.5"], "argument --epochs: expected a positive integer, received '2.5'"),
    (["--units", "-3"], "argument --units: expected a positive integer"),
    (["--layers", "0"], "argument --layers: expected a positive integer"),
    (["--batch-size", "many"], "argument --batch-size: expected a positive integer, received 'many'"),
    (["--patience", "0"], "argument --patience: expected a positive integer"),
    (["--learning-rate", "nan"], "argument --learning-rate: expected a positive number, received 'nan'"),
    (["--learning-rate", "inf"], "argument --learning-rate: expected a positive number"),
    (["--learning-rate", "-0.1"], "argument --learning-rate: expected a positive number"),
    (["--seed", "-1"], "argument --seed: expected a non-negative integer, received '-1'"),
    (["--verbose", "3"], "argument --verbose: invalid choice: 3"),
    (["--dropout", "1.5"], "argument --dropout: expected a number in [0, 1), received '1.5'"),
    (["--validation-fraction", "1"], "argument --validation-fraction: expected a number in [0, 1)"),
    (["--test-fraction", "-0.1"], "argument --test-fraction: expected a number in [0, 1)"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
]


@pytest.mark.parametrize("name", RECIPES)
@pytest.mark.parametrize("argv, message", COMMON_FLAGS, ids=[" ".join(argv) for argv, _ in COMMON_FLAGS])
def test_common_flags_exit_2_with_one_line(name, argv, message, tmp_path, capsys):
    if argv == ["--no-such-flag"]:  # argparse's own wording has no 'expected'
        with pytest.raises(SystemExit) as exit_info:
            recipe(name).main([*argv, "--output-dir", str(tmp_path / "out")])
        lines = capsys.readouterr().err.strip().splitlines()
        assert exit_info.value.code == 2 and len(lines) == 1 and message in lines[0]
        return
    assert message in run_error(name, argv, tmp_path, capsys)


MISSING_DATA = {
    "sentiment": "Expected --data to be an existing file or folder",
    "text_analysis": "Expected --data to be an existing file or folder",
    "speech": "Expected --data to be an existing file or folder",
    "translation": "Expected --data to be 'sample', a folder of parallel files, a TSV file",
    "video": "Expected --data to be an existing file or folder, 'sample', or one of",
    "stocks": "Expected --data to be an existing CSV file or directory of CSV files",
}

UNKNOWN_NAME = {
    "sentiment": "or a tensorflow-datasets name. Received: --data=\"'no_such_dataset_xyz' (DatasetNotFoundError)\"",
    "text_analysis": "or a tensorflow-datasets name. Received: --data=\"'no_such_dataset_xyz' (DatasetNotFoundError)\"",
    "speech": "a tensorflow-datasets name such as speech_commands. Received: --data='no_such_dataset_xyz",
    "translation": "a tensorflow-datasets name like 'ted_hrlr_translate/pt_to_en'. Received: --data='no_such_dataset",
    "video": "'sample', or one of ['ucf101', 'moving_mnist']. Received: --data='no_such_dataset_xyz'",
    "stocks": "Expected --data to be an existing CSV file or directory of CSV files. Received: --data='no_such",
}


@pytest.mark.parametrize("name", RECIPES)
def test_missing_data_path(name, tmp_path, capsys):
    line = run_error(name, ["--data", str(tmp_path / "missing" / "data.csv")], tmp_path, capsys)
    assert MISSING_DATA[name] in line


@pytest.mark.parametrize("name", RECIPES)
def test_unknown_dataset_name(name, tmp_path, capsys):
    assert UNKNOWN_NAME[name] in run_error(name, ["--data", "no_such_dataset_xyz"], tmp_path, capsys)


@pytest.mark.parametrize("name", RECIPES)
def test_output_dir_under_a_file(name, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    argv = ["--output-dir", str(blocker / "run"), "--verbose", "0"]
    line = cli_error(recipe(name).main, argv, capsys)
    assert "Expected --output-dir to be a folder that can be created and written" in line


# The bundled sample with a setting it cannot meet (the sample loader path of each recipe).
SAMPLE_SETTINGS = {
    "sentiment": (["--label-column", "stars"], "Expected columns 'text' and 'stars' in amazon_review_snippets.csv"),
    "text_analysis": (["--tag-column", "5"], "Expected a token and a tag in column 5 on line 1 of train.conll"),
    "speech": (["--test-fraction", "0.99"], "Expected enough rows of every class to hold out a test part of 99%"),
    "translation": (["--source-lang", "fr", "--target-lang", "de"], "Expected --target-lang to be a language with"),
    "video": (["--frames", "10"], "Expected clips of at least 10 frames"),
    "stocks": (["--window", "60", "--history", "part"], "Expected a series long enough for window 60 + horizon 1"),
}


@pytest.mark.parametrize("name", RECIPES)
def test_bundled_sample_with_a_setting_it_cannot_meet(name, tmp_path, capsys):
    argv, message = SAMPLE_SETTINGS[name]
    assert message in run_error(name, argv, tmp_path, capsys)


# Bad data that each recipe refuses after checking the flags and the output folder.
BAD_DATA = {
    "sentiment": ("reviews.csv", "review,stars\ngood,1\n"),
    "text_analysis": ("train.conll", "John\nlives\n"),
    "speech": ("Toy_TRAIN.ts", "@problemName toy\n@classLabel true a b\n@data\n1,x:a\n"),
    "translation": ("pairs.tsv", "only one column\n"),
    "video": ("clips", None),
    "stocks": ("prices.csv", "date,price\n2020-01-01,abc\n"),
}


@pytest.mark.parametrize("name", RECIPES)
def test_a_failed_run_keeps_earlier_results(name, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "models").mkdir(parents=True)
    earlier = {
        out / "metrics.json": '{"earlier": true}',
        out / "comparison.md": "| earlier |",
        out / "models" / "gru.keras": "earlier model bytes",
        out / "models" / "gru.json": '{"class_names": ["a", "b"]}',
    }
    for path, content in earlier.items():
        path.write_text(content)
    filename, content = BAD_DATA[name]
    data = tmp_path / filename
    if content is None:
        (data / "only_label").mkdir(parents=True)
    else:
        data.write_text(content)
    line = cli_error(recipe(name).main, ["--data", str(data), "--output-dir", str(out), "--verbose", "0"], capsys)
    assert line.split(": error: ")[1].startswith("Expected")
    assert {path: path.read_text() for path in earlier} == earlier
    assert sorted(p for p in out.rglob("*")) == sorted([*earlier, out / "models"])


# --------------------------------------------------------------------------
# rnn-apps predict, every recipe


@pytest.fixture(scope="module")
def window_model(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp("models"), ["window"])["window"]


@pytest.mark.parametrize("name", RECIPES)
def test_predict_without_inputs(name, window_model, capsys):
    assert "Expected at least one input to predict. Received: 'none'" in predict_error(name, window_model, [], capsys)


@pytest.mark.parametrize("name", RECIPES)
@pytest.mark.parametrize(
    "content",
    [b"", b"not a model", b"PK\x03\x04 a truncated zip archive"],
    ids=["empty", "text", "broken-zip"],
)
def test_predict_refuses_a_file_that_is_not_a_keras_archive(name, content, tmp_path, capsys):
    fake = tmp_path / "model.keras"
    fake.write_bytes(content)
    (tmp_path / "model.json").write_text('{"input": "joints", "class_names": ["a", "b"], "tag_names": ["O"]}')
    series = tmp_path / "series.ts"
    series.write_text("@problemName toy\n@classLabel false\n@data\n1,2,3:4,5,6\n")
    inputs = {"stocks": ["1,2,3,4,5"], "speech": [series], "video": [series]}
    line = predict_error(name, fake, inputs.get(name, ["some text"]), capsys)
    assert "Expected a .keras model saved by this recipe. Received:" in line


@pytest.mark.parametrize("name", RECIPES)
def test_predict_model_path_that_is_a_folder_or_another_suffix(name, tmp_path, capsys):
    (tmp_path / "model.h5").write_text("x")
    for path in (tmp_path, tmp_path / "model.h5"):
        assert "Expected --model to be an existing .keras model file" in predict_error(name, path, ["x"], capsys)


def test_predict_unknown_recipe(window_model, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", "weather", "--model", str(window_model), "x"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and "invalid choice: 'weather'" in lines[0]


# --------------------------------------------------------------------------
# No traceback from a real process (two subprocesses: the slowest tests here)


def _one_line_failure(*arguments: str) -> str:
    """Run ``python arguments...`` in a fresh process; check exit 2 without a traceback; return stderr's last line."""
    result = subprocess.run([sys.executable, *arguments], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_recipe_process_reports_a_deep_error_as_one_line(tmp_path):
    """Frames too small for the CNN's pooling used to fail inside Keras; now one line, before training."""
    last = _one_line_failure("-m", "recipes.video", "--size", "2", "--output-dir", str(tmp_path / "out"))
    assert last.startswith("python -m recipes.video: error: Expected frames to be frames of at least 8x8")
    assert not (tmp_path / "out").exists()


def test_rnn_apps_predict_process_refuses_a_foreign_model_in_one_line(tmp_path):
    """A model of another recipe (a price-window model given to sentiment) is refused before Keras sees text."""
    model = tiny_models(tmp_path, ["window"])["window"]
    last = _one_line_failure("-m", "rnn_apps.harness.cli", "predict", "sentiment", "--model", str(model), "a fine text")
    assert last.startswith("rnn-apps: error: Expected a .keras model saved by this recipe, taking 1 input(s)")
    assert "Received:" in last


# --------------------------------------------------------------------------
# errors helpers


def test_read_json_refuses_broken_sidecars(tmp_path):
    path = tmp_path / "model.json"
    for content, message in [
        ("{broken", "JSONDecodeError"),
        ("[1, 2]", "a JSON list, not an object"),
        ('{"task": "x"}', "without ['class_names']"),
    ]:
        path.write_text(content)
        library_error(errors.read_json, path, keys=("class_names",), match=re.escape(message))
    path.write_bytes(b"\xff\xfe\x00")
    library_error(errors.read_json, path, match="UnicodeDecodeError")
    library_error(errors.read_json, tmp_path / "missing.json", match="FileNotFoundError")


def test_check_model_inputs_names_what_the_model_takes(tmp_path):
    model = keras.Model(*(lambda x: (x, keras.layers.Dense(1, name="d")(x)))(keras.Input((5, 1), name="prices")))
    errors.check_model_inputs(model, "m.keras", ranks=(3,), dtype="float", last_dims=(1,))
    for kwargs in [dict(ranks=(2,)), dict(ranks=(3,), dtype="string"), dict(ranks=(3,), last_dims=(2,))]:
        library_error(errors.check_model_inputs, model, "m.keras", match="saved by this recipe", **kwargs)
    library_error(errors.check_model_inputs, model, "m.keras", ranks=(3,), names=("tokens",), match="prices")
    assert np.isfinite(model.predict(np.ones((1, 5, 1)), verbose=0)).all()


# --------------------------------------------------------------------------
# Library functions: wrong types, empty inputs, out-of-range numbers


def _library_cases():
    from rnn_apps.data import audio, splits, text, time_splits, uea, video, windows
    from rnn_apps.layers import ctc

    probabilities = np.ones((2, 3, 3)) / 3
    return {
        "stratified_split fraction as text": (lambda: splits.stratified_split([0, 1] * 10, "0.1"), "(0, 1)"),
        "stratified_split fraction as bool": (lambda: splits.stratified_split([0, 1] * 10, True), "(0, 1)"),
        "cross_validation_split float folds": (lambda: splits.cross_validation_split([0, 1] * 10, 2.0, 0), ">= 2"),
        "chronological_split rows as text": (lambda: time_splits.chronological_split("100", 0.2, 0.2), "num_rows"),
        "chronological_split float gap": (lambda: time_splits.chronological_split(100, 0.2, 0.2, gap=1.5), "gap"),
        "walk_forward_splits folds as text": (lambda: time_splits.walk_forward_splits(100, "2", 0.2, 0.1, 1), "folds"),
        "window_origins window 0": (lambda: windows.window_origins(range(10), 0, 1), "window"),
        "window_origins horizon -1": (lambda: windows.window_origins(range(10), 3, -1), "horizon"),
        "window_origins unknown history": (lambda: windows.window_origins(range(10), 3, 1, "future"), "history"),
        "sample_indices frames as text": (lambda: video.sample_indices(10, "4"), "frames"),
        "sample_indices stride 0": (lambda: video.sample_indices(10, 4, 0), "stride"),
        "grouped_split fraction 1.5": (lambda: video.grouped_split([0, 1] * 10, range(20), 1.5, 0.2, 0), "(0, 1)"),
        "make_vectorizer size as text": (lambda: text.make_vectorizer(["a"], vocabulary_size="10"), "vocabulary_size"),
        "bucket_boundaries of nothing": (lambda: text.bucket_boundaries([]), "at least one length"),
        "pad_series of nothing": (lambda: uea.pad_series([]), "at least one series"),
        "pad_clips of nothing": (lambda: audio.pad_clips([]), "at least one clip"),
        "resample to 0 Hz": (lambda: audio.resample(np.ones(10), 8000, 0), "target_rate"),
        "resample from 8000.5 Hz": (lambda: audio.resample(np.ones(10), 8000.5, 8000), "rate"),
        "pack_targets of nothing": (lambda: ctc.pack_targets([], []), "one frame count per transcript"),
        "pack_targets more symbols than frames": (lambda: ctc.pack_targets([[1, 2, 3]], [2]), "at least as many"),
        "decode with too few frame counts": (lambda: ctc.decode(probabilities, [3]), "one frame count per clip"),
        "decode a 2-D array": (lambda: ctc.decode(probabilities[0], [3, 3, 3]), "(clips, time, symbols + 1)"),
    }


@pytest.mark.parametrize("case", list(_library_cases()))
def test_library_functions_refuse_wrong_types_empty_inputs_and_bad_numbers(case):
    """Empty inputs and bad numbers used to end in IndexError, max() of nothing, scipy or TensorFlow errors."""
    function, match = _library_cases()[case]
    library_error(function, match=re.escape(match))


# --------------------------------------------------------------------------
# The table in docs/bad-input.md


def test_every_row_names_a_test():
    """Each row of docs/bad-input.md names ``tests/FILE.py::test_name`` and that test exists."""
    page = (REPO / "docs" / "bad-input.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| ") and not line.startswith("| entry point")]
    assert len(rows) > 100
    for row in rows:
        named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", row)
        assert named, f"a row without a test: {row}"
        for file, name in named:
            assert re.search(rf"^def {name}\(", (REPO / file).read_text(), re.M), f"{file}::{name} does not exist"
        assert not re.search(r"`tests/[\w/]+\.py`", row), f"name the test, not only its file: {row}"
