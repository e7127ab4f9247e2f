"""Distributed training: mirrored on two logical CPUs, two JAX workers on localhost, flag checks.

JAX runs on several devices of one machine with
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (two CPU devices).
"""

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


def _two_jax_workers(arguments, folder, timeout: int = 420) -> list[str]:
    """Run ``python ARGUMENTS`` as workers 0 and 1 of a JAX cluster on localhost; their standard outputs.

    Their output goes to files in ``folder``: a worker blocked on a full pipe
    that nobody reads would stall the other in its next collective.
    """
    pytest.importorskip("jax")
    environment = _environment(
        KERAS_BACKEND="jax",
        KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{_free_port()}",
        KERAS_DISTRIBUTION_NUM_PROCESSES="2",
    )
    logs = [(folder / f"worker{index}.out", folder / f"worker{index}.err") for index in range(2)]
    workers = []
    for index, (out, err) in enumerate(logs):
        with out.open("w") as stdout, err.open("w") as stderr:
            environment_i = dict(environment, KERAS_DISTRIBUTION_PROCESS_ID=str(index))
            command = [sys.executable, *arguments]
            workers.append(subprocess.Popen(command, cwd=REPO, env=environment_i, stdout=stdout, stderr=stderr))
    try:
        for worker in workers:
            worker.wait(timeout=timeout)
    finally:
        for worker in workers:
            worker.kill()
    for worker, (_, err) in zip(workers, logs):
        assert worker.returncode == 0, err.read_text()[-3000:]
    return [out.read_text() for out, _ in logs]


@pytest.mark.slow  # trains in subprocesses for a minute or more on two cores
def test_two_jax_workers_on_localhost_complete_a_quick_recipe(tmp_path):
    arguments = ["-m", "recipes.stocks", "--quick", "--model", "lstm,cnn", "--verbose", "0"]
    _two_jax_workers(arguments + ["--distribute", "multi-worker", "--output-dir", str(tmp_path / "run")], tmp_path)
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


BUCKETED_SCRIPT = """
import json, sys
import numpy as np, keras, tensorflow as tf
from rnn_apps.data import text
from rnn_apps.harness import distribute, training

# 203 texts of 4, 8 or 12 words (few shapes, few compilations): bucketed by
# length, the last batch of some buckets (and of the validation part) has
# an odd number of rows.
rng = np.random.default_rng(0)
lengths = rng.choice([4, 8, 12], size=203)
ids = tf.ragged.constant([rng.integers(1, 50, size=n).tolist() for n in lengths], dtype=tf.int32)
labels = (lengths > 15).astype("int32")
training.set_seed(1)
with distribute.scope(sys.argv[2]) as plan:
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(50, 8),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    train = text.token_dataset(ids, labels, 16 * plan.replicas, shuffle=True, seed=1, bucket=True)
    validation = text.token_dataset(ids[:51], labels[:51], 16 * plan.replicas)
    # Each worker writes its own folder, as a recipe's workers do.
    folder = distribute.worker_output_dir(sys.argv[1], plan)
    fitted = training.fit(model, train, validation, epochs=2, output_dir=folder, name="tiny", patience=5, verbose=0)
print(json.dumps({
    "replicas": plan.replicas,
    "workers": plan.workers,
    "epochs": fitted.epochs_run,
    "val_loss": fitted.history["val_loss"],
    "partial_batches": getattr(plan, "partial_batches", None),
    "predictions": model.predict(ids[:4].to_tensor(), verbose=0).ravel().tolist(),
}))
"""


def test_jax_mirrored_training_goes_on_when_a_batch_does_not_split_over_the_devices(tmp_path):
    # Before: IndivisibleError (a batch of 73 rows on 2 devices); now each
    # batch keeps a multiple of 2 rows, and the report says so.
    pytest.importorskip("jax")
    environment = _environment(KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    done = _python(["-c", BUCKETED_SCRIPT, str(tmp_path), "mirrored"], environment)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert (out["replicas"], out["epochs"]) == (2, 2)
    assert out["partial_batches"].startswith("last rows dropped: every batch keeps a multiple of 2 rows")


@pytest.mark.slow  # two processes train for a minute or more on two cores
def test_two_jax_workers_train_on_a_bucketed_text_dataset(tmp_path):
    # Before: "The batch size of the input dataset is unknown" (bucketing
    # hides it from Keras's sharding); now each worker takes its half of
    # every batch, and both end with the same model.
    outputs = _two_jax_workers(["-c", BUCKETED_SCRIPT, str(tmp_path / "run"), "multi-worker"], tmp_path, timeout=300)
    chief, other = (json.loads(stdout.strip().splitlines()[-1]) for stdout in outputs)
    assert (chief["replicas"], chief["workers"], chief["epochs"]) == (2, 2, 2)
    np.testing.assert_allclose(chief["val_loss"], other["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(chief["predictions"], other["predictions"], atol=1e-6)


@pytest.mark.slow  # trains a recipe in a subprocess for a minute or more on two cores
def test_jax_mirrored_recipe_run_with_an_uneven_last_batch_reports_what_was_dropped(tmp_path):
    pytest.importorskip("jax")
    environment = _environment(KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    flags = ["--quick", "--model", "lstm", "--verbose", "0", "--distribute", "mirrored"]
    done = _python(["-m", "recipes.sentiment", *flags, "--output-dir", str(tmp_path / "run")], environment)
    assert done.returncode == 0, done.stderr[-3000:]
    config = json.loads((tmp_path / "run" / "metrics.json").read_text())["config"]
    assert config["replicas"] == 2 and config["partial_batches"].startswith("last rows dropped")


def test_even_batches_keep_a_multiple_of_the_replicas_and_share_it_among_processes():
    import tensorflow as tf

    from rnn_apps.data import replica_batches, text

    lengths = np.random.default_rng(0).integers(1, 20, size=101)
    ids = tf.ragged.constant([[1] * n for n in lengths], dtype=tf.int32)
    batches = text.token_dataset(ids, np.arange(101), 8, bucket=True)
    whole = [labels.numpy() for _, labels in replica_batches.even_batches(batches, replicas=4)]
    shares = [
        [labels.numpy() for _, labels in replica_batches.even_batches(batches, replicas=4, processes=2, process=p)]
        for p in range(2)
    ]
    assert all(len(labels) % 4 == 0 and len(labels) for labels in whole)
    # The two processes step through as many batches as there are, and together hold each kept row once.
    assert len(shares[0]) == len(shares[1]) == len(whole)
    for labels, first, second in zip(whole, *shares):
        np.testing.assert_array_equal(np.concatenate([first, second]), labels)
    # At most replicas - 1 rows are left out of the last batch of each length bucket.
    buckets = len(text.bucket_boundaries(lengths)) + 1
    assert 101 - sum(len(labels) for labels in whole) <= buckets * 3
    with pytest.raises(errors.InputError, match="replicas"):
        replica_batches.even_batches(batches, replicas=3, processes=2)


def test_one_device_leaves_the_batches_alone():
    # Only a distributed JAX plan cuts batches: on one device fit sees the recipe's own datasets.
    with distribute.scope("none") as plan:
        assert plan.partial_batches is None and keras.distribution.distribution() is None


def test_pytorch_backend_refuses_distribution_before_writing_anything(tmp_path):
    # Keras 3 has no distribution for PyTorch (``mirrored`` is refused in the test above).
    pytest.importorskip("torch")
    folder = tmp_path / "run"
    flags = ["--quick", "--distribute", "multi-worker", "--output-dir", str(folder)]
    done = _python(
        ["-m", "rnn_apps.harness.cli", "run", "sentiment", *flags],
        _environment(KERAS_BACKEND="torch"),
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Expected --distribute none on the PyTorch backend" in done.stderr.strip().splitlines()[-1]
    assert not folder.exists()


HIDDEN_PACKAGE_SCRIPT = """
import runpy, sys

hidden, entry, arguments = sys.argv[1], sys.argv[2], sys.argv[3:]

class Missing:
    # Python asks this finder first; it answers as if the package were not installed.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == hidden:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
if entry == "run":
    from rnn_apps.harness import cli
    sys.argv = ["rnn-apps", entry, *arguments]
    sys.exit(cli.main(sys.argv[1:]))
sys.argv = [entry, *arguments]
runpy.run_module(entry, run_name="__main__", alter_sys=True)
"""


# Each backend through one of the two entry points: ``python -m recipes.NAME`` and ``rnn-apps run NAME``.
@pytest.mark.parametrize(("backend", "entry"), [("jax", "recipes.stocks"), ("torch", "run")])
def test_a_backend_package_that_is_not_installed_is_one_line_and_exit_2(backend, entry, tmp_path):
    folder = tmp_path / "run"
    arguments = ["-c", HIDDEN_PACKAGE_SCRIPT, backend, *([entry, "stocks"] if entry == "run" else [entry])]
    done = _python([*arguments, "--quick", "--output-dir", str(folder)], _environment(KERAS_BACKEND=backend))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert f"Expected the {backend} package for KERAS_BACKEND='{backend}'" in lines[-1]
    assert f"No module named '{backend}'" in lines[-1]
    assert not folder.exists()


def test_an_unknown_backend_is_refused_before_keras_starts(monkeypatch):
    from rnn_apps.harness import runtime

    monkeypatch.setenv("KERAS_BACKEND", "jaxx")
    with pytest.raises(errors.InputError, match=r"Expected KERAS_BACKEND to be one of \['tensorflow', 'jax'"):
        runtime.check_backend()
