"""Distributed training: mirrored on two logical CPUs, two JAX workers on localhost, flag checks."""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import REPO

from rnn_apps import errors
from rnn_apps.harness import cli, distribute, registry


def _environment(**extra):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    environment.update(extra)
    return environment


def _python(arguments, environment) -> subprocess.CompletedProcess:
    """Run ``python ARGUMENTS`` from the repository, output captured as text."""
    return subprocess.run(
        [sys.executable, *arguments], cwd=REPO, env=environment, capture_output=True, text=True, timeout=300
    )


MIRRORED_SCRIPT = """
import json, sys
import numpy as np, keras
from rnn_apps.harness import distribute, training

def run(kind, batch, folder):
    training.set_seed(1)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 40, size=(256, 12)).astype("int32")
    y = (x[:, :3].sum(axis=1) > 60).astype("float32")
    with distribute.scope(kind) as plan:
        inputs = keras.Input((12,), dtype="int32", name="ids")
        h = keras.layers.Embedding(40, 8, name="embedding")(inputs)
        h = keras.layers.LSTM(8, name="lstm")(h)
        outputs = keras.layers.Dense(1, activation="sigmoid", name="head")(h)
        model = keras.Model(inputs, outputs, name="tiny")
        model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
        import tensorflow as tf
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch * plan.replicas)
        fitted = training.fit(model, data, data, epochs=3, output_dir=folder, name=kind, patience=5, verbose=0)
    return plan.replicas, fitted.history["loss"], model.predict(x[:8], verbose=0).ravel().tolist()

none = run("none", 32, sys.argv[1])
mirrored = run("mirrored", 16, sys.argv[1])
print(json.dumps({"none": none, "mirrored": mirrored}))
"""


def test_mirrored_training_on_two_cpu_devices_matches_one_device(tmp_path):
    # The same global batch (32 = 2 x 16) on one device and on two mirrored
    # CPU devices: the losses and the trained model's outputs agree.
    done = _python(
        ["-c", MIRRORED_SCRIPT, str(tmp_path)], _environment(RNN_APPS_CPU_DEVICES="2", KERAS_BACKEND="tensorflow")
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["none"][0] == 1 and out["mirrored"][0] == 2
    np.testing.assert_allclose(out["mirrored"][1], out["none"][1], rtol=1e-3)
    np.testing.assert_allclose(out["mirrored"][2], out["none"][2], atol=1e-3)


@pytest.mark.slow  # trains in subprocesses for a minute or more on two cores
def test_mirrored_recipe_run_records_replicas_and_close_metrics(tmp_path):
    flags = ["--quick", "--model", "lstm", "--epochs", "2", "--dropout", "0", "--verbose", "0"]
    runs = {}
    for kind, batch in (("none", "32"), ("mirrored", "16")):
        folder = tmp_path / kind
        done = _python(
            ["-m", "recipes.sentiment", *flags, "--distribute", kind, "--batch-size", batch]
            + ["--output-dir", str(folder)],
            _environment(RNN_APPS_CPU_DEVICES="2", KERAS_BACKEND="tensorflow"),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        runs[kind] = json.loads((folder / "metrics.json").read_text())
    config = runs["mirrored"]["config"]
    assert (config["replicas"], config["per_replica_batch_size"], config["global_batch_size"]) == (2, 16, 32)
    assert runs["none"]["config"]["replicas"] == 1
    # Summation order differs across replicas, so equal only within tolerance.
    accuracy = {kind: report["models"]["lstm"]["metrics"]["accuracy"] for kind, report in runs.items()}
    assert abs(accuracy["mirrored"] - accuracy["none"]) < 0.05
    # The saved model is an ordinary single-device model.
    keras.models.load_model(tmp_path / "mirrored" / "models" / "lstm.keras", safe_mode=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow  # trains in subprocesses for a minute or more on two cores
def test_two_jax_workers_on_localhost_complete_a_quick_recipe(tmp_path):
    pytest.importorskip("jax")
    environment = _environment(
        KERAS_BACKEND="jax",
        KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{_free_port()}",
        KERAS_DISTRIBUTION_NUM_PROCESSES="2",
    )
    command = [sys.executable, "-m", "recipes.stocks", "--quick", "--model", "lstm,cnn", "--verbose", "0"]
    command += ["--distribute", "multi-worker", "--output-dir", str(tmp_path / "run")]
    workers = [
        subprocess.Popen(
            command,
            cwd=REPO,
            env=dict(environment, KERAS_DISTRIBUTION_PROCESS_ID=str(index)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(2)
    ]
    try:
        outputs = [worker.communicate(timeout=420) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, (_, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr[-3000:]
    chief = json.loads((tmp_path / "run" / "metrics.json").read_text())
    other = json.loads((tmp_path / "run-worker1" / "metrics.json").read_text())
    assert chief["config"]["replicas"] == 2 and chief["config"]["distribute"] == "multi-worker"
    # Both workers trained the same global model, so their test metrics agree.
    for name in ("lstm", "cnn"):
        assert chief["models"][name]["metrics"]["mase"] == pytest.approx(other["models"][name]["metrics"]["mase"])


def test_replicated_outside_a_distributed_scope_is_the_model_itself():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with distribute.scope("none") as plan, distribute.replicated(model) as trained:
        assert trained is model and plan.replicas == 1


def test_bad_distribute_values(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        cli.run_recipe(registry.get("sentiment"), ["--distribute", "ring", "--output-dir", str(tmp_path / "a")])
    assert exit_info.value.code == 2
    assert "--distribute" in capsys.readouterr().err
    # Keras 3's fit fails under TensorFlow's multi-worker strategy, so the
    # flag is refused there with the reason, before anything is written.
    if keras.config.backend() == "tensorflow":
        with pytest.raises(SystemExit) as exit_info:
            cli.run_recipe(
                registry.get("sentiment"), ["--distribute", "multi-worker", "--output-dir", str(tmp_path / "b")]
            )
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "KERAS_BACKEND=jax" in err and "Traceback" not in err
        assert not (tmp_path / "b").exists()
    monkeypatch.setenv("RNN_APPS_CPU_DEVICES", "two")
    with pytest.raises(errors.InputError, match="RNN_APPS_CPU_DEVICES"):
        distribute._cpu_devices()


@pytest.mark.parametrize(
    ("backend", "kind", "message"),
    [
        ("jax", "multi-worker", "Expected KERAS_DISTRIBUTION_JOB_ADDRESSES"),
        ("torch", "mirrored", "Expected --distribute none on the PyTorch backend"),
    ],
)
def test_distribution_the_backend_cannot_do_exits_2(backend, kind, message, tmp_path):
    pytest.importorskip(backend)
    environment = _environment(KERAS_BACKEND=backend)
    environment.pop("KERAS_DISTRIBUTION_JOB_ADDRESSES", None)
    done = _python(
        ["-m", "recipes.stocks", "--quick", "--distribute", kind, "--output-dir", str(tmp_path / "r")], environment
    )
    assert done.returncode == 2
    assert message in done.stderr.strip().splitlines()[-1] and "Traceback" not in done.stderr
