"""Reproducible runs, resume after a kill, safe loading, bundled-data checksums."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import keras
import pytest
from conftest import REPO

from recipes import sentiment
from rnn_apps import cli

TIMING_KEYS = ("train_seconds", "predict_ms_per_sample")


def _without_timings(report):
    report = json.loads(json.dumps(report))
    for entry in report["models"].values():
        for key in TIMING_KEYS:
            entry.pop(key)
    report.pop("command")
    report.pop("config")
    return report


def test_same_seed_same_numbers(tmp_path):
    argv = ["--quick", "--model", "lstm,cnn", "--verbose", "0"]
    first = sentiment.main([*argv, "--output-dir", str(tmp_path / "a")])
    second = sentiment.main([*argv, "--output-dir", str(tmp_path / "b")])
    assert _without_timings(first) == _without_timings(second)
    assert first["seed"] == 42 and first["versions"]["tensorflow"]


def test_resume_after_a_kill_finishes_the_planned_epochs(tmp_path):
    out = tmp_path / "run"
    argv = [
        sys.executable,
        "-m",
        "recipes.sentiment",
        "--model",
        "lstm,gru",
        "--epochs",
        "4",
        "--patience",
        "10",
        "--units",
        "8",
        "--embedding-dim",
        "8",
        "--verbose",
        "0",
        "--output-dir",
        str(out),
    ]
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = out / "logs" / "gru.csv"
    deadline = time.monotonic() + 300
    # Kill once the first model has finished and the second has completed one epoch.
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and len(log.read_text().strip().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "metrics.json").exists()
    finished = json.loads((out / "partial" / "lstm.json").read_text())

    subprocess.run([*argv, "--resume"], cwd=REPO, check=True, capture_output=True)
    report = json.loads((out / "metrics.json").read_text())
    assert set(report["models"]) == {"lstm", "gru", "majority"}
    assert report["models"]["gru"]["epochs"] == 4
    epochs = [int(line.split(",")[0]) for line in log.read_text().strip().splitlines()[1:]]
    assert epochs == [0, 1, 2, 3]
    # The model finished before the kill was kept, not trained again.
    assert report["models"]["lstm"]["train_seconds"] == finished["result"]["train_seconds"]
    for name in ("lstm", "gru"):
        keras.models.load_model(out / "models" / f"{name}.keras", safe_mode=True)
    assert not (out / "backups" / "gru").exists()


def test_predict_refuses_a_file_that_is_not_a_keras_model(tmp_path, capsys):
    fake = tmp_path / "model.keras"
    fake.write_text("not a model")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", "sentiment", "--model", str(fake), "some text"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1
    assert "Expected a .keras model saved by this recipe" in lines[0]


def test_output_dir_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(SystemExit) as exit_info:
        sentiment.main(["--quick", "--output-dir", str(blocker / "run")])
    assert exit_info.value.code == 2
    assert "Expected --output-dir to be a folder that can be created and written" in capsys.readouterr().err


def _data_files():
    data = REPO / "data"
    return sorted(
        path.relative_to(data).as_posix()
        for path in data.rglob("*")
        if path.is_file()
        and path.suffix != ".py"
        and path.name not in ("README.md", "MANIFEST.sha256")
        and "__pycache__" not in path.parts
    )


def test_bundled_data_matches_the_manifest():
    manifest = {}
    for line in (REPO / "data" / "MANIFEST.sha256").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        manifest[name] = digest
    assert sorted(manifest) == _data_files(), "data/MANIFEST.sha256 does not list exactly the bundled files"
    for name, digest in manifest.items():
        assert hashlib.sha256((REPO / "data" / name).read_bytes()).hexdigest() == digest, name
