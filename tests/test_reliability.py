"""Reproducible runs, resume after a kill, safe loading, bundled-data checksums."""

import hashlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from conftest import REPO

from recipes import sentiment
from rnn_apps.harness import cli

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


def _small_sentiment_run(out, epochs: int) -> list[str]:
    """A sentiment run of two tiny models, long enough to interrupt after an epoch."""
    flags = ["--model", "lstm,gru", "--epochs", str(epochs), "--patience", "10", "--units", "8"]
    return [sys.executable, "-m", "recipes.sentiment", *flags, "--embedding-dim", "8", "--verbose", "0"] + [
        "--output-dir",
        str(out),
    ]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_an_epoch(process, log, seconds: float = 300) -> None:
    """Return once ``log`` records a completed epoch; fail if the run ends first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and len(log.read_text().strip().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"


def test_resume_after_a_kill_finishes_the_planned_epochs(tmp_path):
    out = tmp_path / "run"
    argv = _small_sentiment_run(out, epochs=4)
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill once the first model has finished and the second has completed one epoch.
    log = out / "logs" / "gru.csv"
    _wait_for_an_epoch(process, log)
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


def test_ctrl_c_keeps_the_best_epoch_writes_metrics_and_resume_goes_on(tmp_path):
    out = tmp_path / "run"
    argv = _small_sentiment_run(out, epochs=5)
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        # A shell running this suite in the background (`cmd &`) ignores SIGINT, and a
        # child would inherit that: Python then never raises KeyboardInterrupt.
        preexec_fn=_default_sigint,
    )
    _wait_for_an_epoch(process, out / "logs" / "lstm.csv")
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "--resume" in stderr.strip().splitlines()[-1]
    report = json.loads((out / "metrics.json").read_text())
    assert report["interrupted"] is True
    lstm = report["models"]["lstm"]
    assert lstm["interrupted"] is True and 1 <= lstm["epochs"] < 5
    assert 1 <= lstm["best_epoch"] <= lstm["epochs"]
    assert "gru" not in report["models"] and "majority" in report["models"]
    keras.models.load_model(out / "models" / "lstm.keras", safe_mode=True)
    assert (out / "backups" / "lstm").exists(), "the backup is kept for --resume"

    subprocess.run([*argv, "--resume"], cwd=REPO, check=True, capture_output=True, env=environment)
    report = json.loads((out / "metrics.json").read_text())
    assert report["interrupted"] is False
    assert report["models"]["lstm"]["epochs"] == 5 and report["models"]["gru"]["epochs"] == 5
    assert not report["models"]["lstm"]["interrupted"]


# Each recipe's run loop goes through compare.train_each: a resumed run
# reads back the models that finished instead of training them again, and a
# fresh run with the same seed gives the same numbers again.
RESUMABLE = {
    "translation": ["--model", "cnn", "--epochs", "1"],
    "text_analysis": ["--model", "cnn", "--epochs", "1"],
    "speech": ["--model", "cnn", "--epochs", "1"],
    "video": ["--model", "lstm", "--epochs", "1"],
    "stocks": ["--model", "lstm", "--epochs", "1"],
}


@pytest.mark.parametrize("recipe", sorted(RESUMABLE))
def test_resume_reuses_finished_models_and_the_same_seed_repeats_the_numbers(recipe, tmp_path):
    module = importlib.import_module(f"recipes.{recipe}")
    argv = ["--quick", *RESUMABLE[recipe], "--verbose", "0", "--output-dir", str(tmp_path)]
    first = module.main(argv)
    name = RESUMABLE[recipe][1]
    assert (tmp_path / "partial" / f"{name}.json").exists()
    (tmp_path / "metrics.json").unlink()
    again = module.main([*argv, "--resume"])
    assert again["models"][name]["train_seconds"] == first["models"][name]["train_seconds"]
    assert again["models"][name]["metrics"] == first["models"][name]["metrics"]
    # Without --resume the records are discarded and the model trains again,
    # to the same numbers (op determinism on the CPU).
    fresh = module.main(argv)
    assert fresh["models"][name]["train_seconds"] != first["models"][name]["train_seconds"]
    assert _without_timings(fresh)["models"] == _without_timings(first)["models"]


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


def test_a_full_disk_is_reported_before_training(tmp_path, capsys, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(cli.shutil, "disk_usage", lambda path: usage._replace(free=10 * 2**20))
    with pytest.raises(SystemExit) as exit_info:
        sentiment.main(["--quick", "--output-dir", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Expected at least 50 MB free for --output-dir" in err and "10.0 MB free" in err
    assert not (tmp_path / "run").exists()


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


def test_no_pickle_of_user_files_anywhere():
    # Loading pickles runs code from the file; user data and models never go through it.
    sources = [*(REPO / "rnn_apps").rglob("*.py"), *(REPO / "recipes").rglob("*.py"), *(REPO / "bench").rglob("*.py")]
    offenders = []
    for path in sources:
        text = path.read_text()
        for needle in ("import pickle", "allow_pickle=True", "safe_mode=False", "joblib.load", "torch.load("):
            if needle in text:
                offenders.append(f"{path.relative_to(REPO)}: {needle}")
    assert not offenders


class _Killed(Exception):
    """Stands for the process dying: raised after an epoch's backup was written."""


class _KillAfter(keras.callbacks.Callback):
    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise _Killed


def _seeded_fit(folder, resume=False, callbacks=(), known_length=True):
    """A small shuffled, dropout-regularised LSTM run, built from scratch as a new process would."""
    import numpy as np
    import tensorflow as tf

    from rnn_apps.harness import training

    training.set_seed(7)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(192, 10, 3)).astype("float32")
    y = (x[:, :4, 0].sum(axis=1) > 0).astype("float32")
    train = tf.data.Dataset.from_tensor_slices((x[:128], y[:128])).shuffle(128, seed=3).batch(16)
    if not known_length:  # as bucketed text batches are
        train = train.filter(lambda inputs, labels: True)
    validation = tf.data.Dataset.from_tensor_slices((x[128:], y[128:])).batch(32)
    inputs = keras.Input((10, 3))
    hidden = keras.layers.LSTM(8, dropout=0.3)(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dropout(0.3)(hidden))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    fitted = training.fit(
        model, train, validation, name="lstm", epochs=12, output_dir=folder, patience=2, verbose=0,
        resume=resume, callbacks=callbacks,
    )  # fmt: skip
    return fitted, model.get_weights()


@pytest.mark.parametrize("known_length", [True, False], ids=["known-length", "unknown-length"])
def test_an_interrupted_and_resumed_run_equals_the_uninterrupted_run(known_length, tmp_path):
    # Killed after epoch 3 and resumed in a fresh start: the same epochs, the
    # same early stop, the same best epoch and the same final weights (the
    # data order, the dropout masks and the early-stopping state all go on).
    whole, whole_weights = _seeded_fit(tmp_path / "whole", known_length=known_length)
    assert 4 < whole.epochs_run < 12, "the run must stop early, after the kill point"
    with pytest.raises(_Killed):
        _seeded_fit(tmp_path / "parts", callbacks=[_KillAfter(2)], known_length=known_length)
    resumed, resumed_weights = _seeded_fit(tmp_path / "parts", resume=True, known_length=known_length)
    assert resumed.epochs_run == whole.epochs_run
    assert resumed.best_epoch == whole.best_epoch
    for key, values in whole.history.items():
        np.testing.assert_allclose(resumed.history[key], values, rtol=1e-5, err_msg=key)
    for ours, theirs in zip(resumed_weights, whole_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    saved = keras.models.load_model(tmp_path / "parts" / "checkpoints" / "lstm.keras")
    for ours, theirs in zip(saved.get_weights(), whole_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def _refused(main, argv, capsys) -> str:
    """Run ``main(argv)``, expect exit status 2; its one line of error."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1, lines
    return lines[0]


QUICK_CNN = ["--quick", "--model", "cnn", "--epochs", "1", "--verbose", "0"]


def test_resume_reuses_only_a_run_of_the_same_fingerprint(tmp_path, review_csv, capsys):
    out = tmp_path / "run"
    sentiment.main([*QUICK_CNN, "--output-dir", str(out)])
    fingerprint = json.loads((out / "run.json").read_text())
    assert fingerprint["recipe"] == "sentiment" and fingerprint["config"]["units"] == 32
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    # Other settings, other data, another recipe: refused, naming what differs, nothing touched.
    line = _refused(sentiment.main, [*QUICK_CNN, "--units", "8", "--resume", "--output-dir", str(out)], capsys)
    assert "Expected --resume over a run of the same recipe" in line and "units: 32 -> 8" in line
    line = _refused(
        sentiment.main, [*QUICK_CNN, "--data", str(review_csv), "--resume", "--output-dir", str(out)], capsys
    )
    assert "data: sample -> " in line and "reviews.csv (sha256 " in line
    stocks = importlib.import_module("recipes.stocks")
    line = _refused(stocks.main, ["--quick", "--model", "cnn", "--resume", "--output-dir", str(out)], capsys)
    assert "recipe: sentiment -> stocks" in line
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before
    # The same configuration resumes: the finished model is read back.
    again = sentiment.main([*QUICK_CNN, "--resume", "--output-dir", str(out)])
    assert "cnn: finished in the interrupted run, not trained again" in capsys.readouterr().out
    assert again["models"]["cnn"]["metrics"] == json.loads(before[out / "metrics.json"])["models"]["cnn"]["metrics"]


def test_inline_tuned_from_settings_are_one_run_however_the_json_is_spelled():
    from rnn_apps.harness import config as config_module
    from rnn_apps.harness import runs

    def fingerprint(value):
        config = config_module.parse_config(sentiment.SentimentConfig, ["--quick", "--tuned-from", value], "sentiment")
        return runs.fingerprint("sentiment", config)

    compact = fingerprint('{"cnn":{"cnn_filters":8},"gru":{"units":6,"layers":2}}')
    spaced = fingerprint('{ "gru": {"layers": 2, "units": 6},\n  "cnn": {"cnn_filters": 8} }')
    assert runs.differences(compact, spaced) == []
    other = fingerprint('{"cnn": {"cnn_filters": 8}, "gru": {"units": 7, "layers": 2}}')
    assert [line.split(":")[0] for line in runs.differences(compact, other)] == ["tuned_from"]


def test_resume_over_a_folder_without_a_fingerprint_is_refused(tmp_path, capsys):
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "cnn.json").write_text("{}")
    line = _refused(sentiment.main, [*QUICK_CNN, "--resume", "--output-dir", str(tmp_path)], capsys)
    assert "run.json" in line


def test_a_run_into_another_configurations_folder_is_refused_unless_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    sentiment.main([*QUICK_CNN, "--output-dir", str(out)])
    line = _refused(sentiment.main, ["--quick", "--model", "lstm", "--epochs", "1", "--output-dir", str(out)], capsys)
    assert "--overwrite" in line and 'model: ["cnn"] -> ["lstm"]' in line
    assert (out / "models" / "cnn.keras").exists()
    report = sentiment.main(["--quick", "--model", "lstm", "--epochs", "1", "--verbose", "0", "--overwrite",
                             "--output-dir", str(out)])  # fmt: skip
    assert set(report["models"]) == {"lstm", "majority"}
    assert not (out / "models" / "cnn.keras").exists() and not (out / "logs" / "cnn.csv").exists()
    assert json.loads((out / "run.json").read_text())["config"]["model"] == ["lstm"]
    # The same configuration again needs no flag.
    sentiment.main(["--quick", "--model", "lstm", "--epochs", "1", "--verbose", "0", "--output-dir", str(out)])
