"""The video recipe end to end on the bundled sample, in quick mode, and prediction in a fresh process."""

import dataclasses
import json
import subprocess
import sys

import imageio.v3 as iio
import keras
import numpy as np
import pytest
import quick_runs
from conftest import REPO

from recipes import video as recipe
from rnn_apps import errors
from rnn_apps.harness import compare, training
from rnn_apps.layers import encoders
from rnn_apps.tasks import video_inference, video_models

FRAME_MODELS = {"simple_rnn", "lstm", "gru", "convlstm", "cnn3d", "frame_cnn"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """The shared ``python -m recipes.video --quick`` run (`quick_runs`), made once per test session."""
    return quick_runs.quick_run("video", tmp_path_factory)


def test_metrics_json_follows_the_contract(quick_run):
    output, report = quick_run
    on_disk = json.loads((output / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["recipe"] == "video" and on_disk["primary_metric"] == "accuracy"
    assert on_disk["dataset"] == "circling_digits.npz" and on_disk["grouped_split"] is True
    assert set(on_disk["models"]) == FRAME_MODELS | {"majority"}
    for name, entry in on_disk["models"].items():
        assert {"accuracy", "f1"} <= set(entry["metrics"]), name
        assert isinstance(entry["params"], int)
        assert isinstance(entry["train_seconds"], float) and isinstance(entry["predict_ms_per_sample"], float)
    kernels = {name: entry["fast_kernel"] for name, entry in on_disk["models"].items()}
    assert kernels == {
        "simple_rnn": False,
        "lstm": True,
        "gru": True,
        "convlstm": False,
        "cnn3d": None,
        "frame_cnn": None,
        "majority": None,
    }


def test_only_models_that_see_frame_order_beat_chance(quick_run):
    """Seeded quick run: the order-blind CNN is at chance (0.25), the CNN-RNN and the 3-D CNN are not."""
    _, report = quick_run
    accuracy = {name: entry["metrics"]["accuracy"] for name, entry in report["models"].items()}
    assert accuracy["frame_cnn"] < 0.40, accuracy
    assert max(accuracy[name] for name in ("simple_rnn", "lstm", "gru")) > 0.75, accuracy
    assert accuracy["cnn3d"] > 0.75, accuracy


def test_artifacts_are_written(quick_run):
    output, report = quick_run
    for name in FRAME_MODELS:
        assert (output / "models" / f"{name}.keras").is_file()
        assert json.loads((output / "models" / f"{name}.json").read_text())["frames"] == 9
        assert (output / "logs" / f"{name}.csv").read_text().startswith("epoch,")
    for image in ("learning_curves.png", "confusion_matrices.png", "sample_predictions.png"):
        assert (output / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (output / "comparison.md").read_text()
    assert compare.markdown_table(report) in table and "python -m recipes.video --quick" in table
    assert not list(output.rglob(".*.tmp*"))


def test_test_metrics_are_those_of_the_saved_model(quick_run):
    output, report = quick_run
    cfg = recipe.checked(recipe.RECIPE.parse(["--quick"]))
    clips, labels = recipe.RECIPE.load_data(cfg).test
    model = keras.models.load_model(output / "models" / "cnn3d.keras")
    predicted = video_inference.predict_probabilities(model, clips).argmax(axis=-1)
    assert np.mean(predicted == labels) == pytest.approx(report["models"]["cnn3d"]["metrics"]["accuracy"])


def test_rnn_apps_predict_labels_a_clip_in_a_fresh_process(quick_run, tmp_path):
    output, _ = quick_run
    model_path = output / "models" / "gru.keras"
    with np.load(REPO / "data" / "video" / "circling_digits.npz") as archive:
        clips, names = archive["frames"][:3], list(archive["class_names"])
    files = []
    for index, clip in enumerate(clips):
        files.append(tmp_path / f"clip{index}.gif")  # GIF keeps 8-bit grey exactly
        iio.imwrite(files[-1], clip[..., 0], duration=100, loop=0)
    iio.imwrite(tmp_path / "clip.mp4", np.repeat(clips[0], 3, axis=-1), plugin="FFMPEG", fps=9)
    files.append(tmp_path / "clip.mp4")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_apps.harness.cli",
            "predict",
            "video",
            "--model",
            str(model_path),
            "--format",
            "json",
        ]
        + [str(f) for f in files],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [row["input"] for row in rows] == [str(f) for f in files]
    in_process = video_inference.predict_probabilities(keras.models.load_model(model_path), clips).argmax(axis=-1)
    assert [row["label"] for row in rows[:3]] == [names[i] for i in in_process]
    assert rows[3]["label"] in names and 0.25 <= rows[3]["probability"] <= 1.0


def test_saved_model_reloads_without_rnn_apps(quick_run):
    output, _ = quick_run
    script = (
        "import sys, keras, numpy as np;"
        "m = keras.models.load_model(sys.argv[1]);"
        "print(m.predict(np.zeros((1, 9, 48, 40, 1), 'uint8'), verbose=0).shape);"
        "print(any(name.startswith('rnn_apps') for name in sys.modules))"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script, str(output / "models" / "convlstm.keras")],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    assert fresh.stdout.split() == ["(1,", "4)", "False"]


def toy_tracks(path):
    """60 two-channel tracks of 12 steps, moving up or down (the label), as a .ts file."""
    rng = np.random.default_rng(0)
    header = "@problemName toy\n@timeStamps false\n@univariate false\n@dimensions 2\n@classLabel true up down\n@data\n"
    rows = []
    for i in range(60):
        direction = 1 if i % 2 == 0 else -1
        x = np.linspace(0, 1, 12) * direction + rng.normal(0, 0.1, 12)
        y = rng.normal(0, 0.1, 12)
        label = "up" if direction == 1 else "down"
        rows.append(",".join(f"{v:.3f}" for v in x) + ":" + ",".join(f"{v:.3f}" for v in y) + f":{label}\n")
    path.write_text(header + "".join(rows))
    return path


def test_joints_input_and_predict_on_a_ts_file(tmp_path, capsys):
    """Joint tracks from .ts files: recurrent model and Conv1D baseline, then predict per series."""
    path = toy_tracks(tmp_path / "toy.ts")
    output = tmp_path / "out"
    report = recipe.main(
        ["--input", "joints", "--data", str(path), "--model", "gru,cnn", "--epochs", "6", "--learning-rate", "0.01"]
        + ["--min-updates", "0", "--output-dir", str(output), "--verbose", "0"]
    )
    assert set(report["models"]) == {"gru", "cnn", "majority"}
    assert report["models"]["gru"]["metrics"]["accuracy"] > 0.8
    assert (output / "sample_predictions.png").is_file()
    predictions = recipe.RECIPE.predict(output / "models" / "gru.keras", [path])
    assert len(predictions) == 60 and predictions[0]["input"] == f"{path}#0"
    assert np.mean([p["label"] == ("up" if i % 2 == 0 else "down") for i, p in enumerate(predictions)]) > 0.8


def test_a_small_training_set_gets_epochs_for_the_minimum_updates(tmp_path, monkeypatch, capsys):
    """40 tracks in batches of 32 are 2 updates an epoch: --epochs 3 --patience 2 --min-updates 10 fit 5 and 4.

    Epochs and patience grow by the same factor; a --tune trial keeps its --tune-epochs;
    --max-updates 20 raises only the ceiling (10 epochs, the patience of --min-updates 10); and
    --min-updates 0 keeps --epochs as given.
    """
    fits, fit = [], training.fit

    def recorded_fit(*args, **kwargs):
        fits.append((kwargs["epochs"], kwargs["patience"]))
        return fit(*args, **kwargs)

    monkeypatch.setattr(training, "fit", recorded_fit)
    argv = ["--input", "joints", "--data", str(toy_tracks(tmp_path / "toy.ts")), "--model", "gru", "--epochs", "3"]
    argv += ["--patience", "2", "--units", "4", "--verbose", "0", "--output-dir", str(tmp_path / "out")]
    report = recipe.main([*argv, "--min-updates", "10", "--tune", "1", "--tune-epochs", "1"])
    assert fits == [(1, 2), (5, 4)] and report["config"]["min_updates"] == 10
    assert "gru: 2 training batches per epoch, so up to 5 epochs (patience 4)" in capsys.readouterr().out
    assert report["sizes"]["train"] == 40
    report = recipe.main([*argv, "--min-updates", "10", "--max-updates", "20", "--overwrite"])
    assert fits[-1] == (10, 4) and report["config"]["max_updates"] == 20
    assert "up to 10 epochs (patience 4) for at least 10 updates (--min-updates), up to 20 while" in (
        capsys.readouterr().out
    )
    recipe.main([*argv, "--min-updates", "0", "--max-updates", "20", "--overwrite"])
    assert fits[-1] == (3, 2)


def test_a_run_whose_last_epoch_was_its_best_says_so(tmp_path, monkeypatch, capsys):
    """The final training notes a best epoch at the ceiling (still improving) and names the flag that goes on."""
    fit = training.fit
    best_at = {}

    def fit_with_best(*args, **kwargs):
        result = fit(*args, **kwargs)
        return dataclasses.replace(result, best_epoch=best_at.get("epoch", result.best_epoch))

    monkeypatch.setattr(training, "fit", fit_with_best)
    argv = ["--input", "joints", "--data", str(toy_tracks(tmp_path / "toy.ts")), "--model", "gru", "--epochs", "3"]
    argv += ["--patience", "5", "--units", "4", "--verbose", "0", "--output-dir", str(tmp_path / "out")]
    best_at["epoch"] = 5
    recipe.main([*argv, "--min-updates", "10"])
    assert "gru: validation was still improving at the last epoch (5); more --max-updates may help" in (
        capsys.readouterr().out
    )
    best_at["epoch"] = 3
    recipe.main([*argv, "--min-updates", "0", "--overwrite"])
    assert "still improving at the last epoch (3); more --epochs may help" in capsys.readouterr().out
    best_at["epoch"] = 2
    recipe.main([*argv, "--min-updates", "0", "--overwrite"])
    assert "still improving" not in capsys.readouterr().out


def test_predict_refuses_a_short_clip(quick_run, tmp_path):
    output, _ = quick_run
    iio.imwrite(tmp_path / "short.gif", np.zeros((4, 32, 32), np.uint8), duration=100, loop=0)
    with pytest.raises(errors.InputError, match="clips of at least 9 frames"):
        recipe.RECIPE.predict(output / "models" / "gru.keras", [tmp_path / "short.gif"])


@pytest.mark.parametrize(
    "layers, bidirectional, conv3d, num_classes", [(1, False, "conv3d", 4), (2, True, "2plus1d", 2)]
)
def test_the_recipes_plain_keras_models_are_the_factorys(layers, bidirectional, conv3d, num_classes):
    """Every model the recipe writes out in plain Keras equals what `video_models` builds from an EncoderConfig."""
    flags = [
        "--units",
        "4",
        "--filters",
        "4,4",
        "--dense-units",
        "6",
        "--convlstm-filters",
        "3",
        "--layers",
        str(layers),
    ]
    cfg = recipe.RECIPE.parse(flags + ["--conv3d", conv3d] + (["--bidirectional"] if bidirectional else []))
    rng = np.random.default_rng(0)
    clips, tracks = rng.integers(0, 255, (2, 3, 8, 8, 1)).astype("uint8"), rng.normal(size=(5, 7, 3)).astype("float32")
    kinds = {"convlstm": "convlstm", "frame_cnn": "frame_average", "cnn3d": conv3d, "cnn": "fcn"}
    cases = [("frames", name) for name in video_models.FRAME_MODELS]
    for kind, name in cases + [("joints", name) for name in video_models.SEQUENCE_MODELS]:
        encoder = encoders.EncoderConfig(
            model=name if name in encoders.MODEL_NAMES else "cnn",
            units=cfg.convlstm_filters if name == "convlstm" else cfg.units,
            num_layers=layers,
            bidirectional=bidirectional,
            cnn_kind=kinds.get(name, "conv3d"),
            filters=cfg.fcn_filters if kind == "joints" else cfg.filters,
            kernel_sizes=recipe.fcn_kernel_sizes(cfg),
        )
        if kind == "joints":
            plain, inputs = recipe.build_joints_model(name, cfg, tracks, num_classes), tracks
            normalizer = keras.layers.Normalization(axis=-1, name="normalize")
            normalizer.adapt(tracks.reshape(-1, 3))
            factory = video_models.sequence_model(encoder, num_classes, 3, normalizer=normalizer)
        else:
            plain, inputs = recipe.build_frames_model(name, cfg, clips.shape[1:], num_classes), clips
            factory = video_models.frames_classifier(
                encoder, num_classes, *clips.shape[1:], frame_filters=cfg.filters, dense_units=cfg.dense_units
            )
        assert plain.name == factory.name == name
        assert plain.count_params() == factory.count_params(), name
        layers_of = lambda model: sorted((type(layer).__name__, layer.name) for layer in model.layers)  # noqa: E731
        assert layers_of(plain) == layers_of(factory), name
        assert [w.shape for w in plain.weights] == [w.shape for w in factory.weights], name
        factory.set_weights(plain.get_weights())
        np.testing.assert_allclose(plain.predict_on_batch(inputs), factory.predict_on_batch(inputs), atol=1e-5)
