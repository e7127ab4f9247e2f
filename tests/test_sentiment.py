"""The sentiment recipe end to end on the bundled sample, in quick mode."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import quick_runs
from conftest import REPO

from recipes import sentiment
from rnn_apps.harness import compare

MODELS = {"simple_rnn", "lstm", "gru", "cnn", "majority"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    return quick_runs.quick_run("sentiment", tmp_path_factory)


def test_metrics_json_follows_the_contract(quick_run):
    output, report = quick_run
    on_disk = json.loads((output / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["recipe"] == "sentiment" and on_disk["primary_metric"] == "accuracy"
    assert on_disk["task"] == "binary" and on_disk["dataset"] == "amazon_review_snippets.csv"
    assert set(on_disk["models"]) == MODELS
    for name, entry in on_disk["models"].items():
        assert {"accuracy", "f1"} <= set(entry["metrics"]), name
        assert 0.0 <= entry["metrics"]["accuracy"] <= 1.0
        assert isinstance(entry["params"], int)
        assert isinstance(entry["train_seconds"], float) and entry["train_seconds"] >= 0
        assert isinstance(entry["predict_ms_per_sample"], float) and entry["predict_ms_per_sample"] >= 0
        assert "fast_kernel" in entry
    kernels = {name: entry["fast_kernel"] for name, entry in on_disk["models"].items()}
    assert kernels == {"simple_rnn": False, "lstm": True, "gru": True, "cnn": None, "majority": None}
    assert on_disk["models"]["majority"]["params"] == 0
    assert on_disk["seed"] == 42 and on_disk["versions"]["keras"] == keras.__version__


def test_models_learn_something(quick_run):
    _, report = quick_run
    accuracy = {name: entry["metrics"]["accuracy"] for name, entry in report["models"].items()}
    best_trained = max(accuracy[name] for name in MODELS - {"majority"})
    assert best_trained > accuracy["majority"] + 0.05, accuracy


def test_artifacts_are_written(quick_run):
    output, report = quick_run
    for name in MODELS - {"majority"}:
        assert (output / "models" / f"{name}.keras").is_file()
        assert (output / "logs" / f"{name}.csv").read_text().startswith("epoch,")
        assert (output / "checkpoints" / f"{name}.keras").is_file()
    for image in ("learning_curves.png", "confusion_matrices.png"):
        assert (output / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (output / "comparison.md").read_text()
    assert compare.markdown_table(report) in table
    assert "python -m recipes.sentiment --quick" in table
    assert not list(output.rglob(".*.tmp*")), "temporary files left behind"


def test_saved_model_gives_the_same_predictions_in_a_fresh_process(quick_run):
    output, report = quick_run
    model_path = output / "models" / "lstm.keras"
    texts = ["this camera is wonderful and easy to use", "the battery died and support was useless", ""]
    here = keras.models.load_model(model_path).predict_on_batch(np.array(texts, dtype=object)).reshape(-1)
    script = (
        "import sys, json, keras, numpy as np;"
        "m = keras.models.load_model(sys.argv[1]);"
        "print(json.dumps(m.predict_on_batch(np.array(sys.argv[2:], dtype=object)).reshape(-1).tolist()))"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script, str(model_path), *texts], capture_output=True, text=True, check=True
    )
    np.testing.assert_allclose(np.array(json.loads(fresh.stdout.strip().splitlines()[-1])), here, atol=1e-6)


def test_rnn_apps_predict_in_a_fresh_process(quick_run):
    output, _ = quick_run
    model_path = output / "models" / "gru.keras"
    texts = ["great lens, sharp pictures", "awful, it broke"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_apps.harness.cli",
            "predict",
            "sentiment",
            "--model",
            str(model_path),
            "--format",
            "json",
            *texts,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [row["text"] for row in rows] == texts
    expected = sentiment.RECIPE.predict(model_path, texts)
    assert [row["label"] for row in rows] == [row["label"] for row in expected]
    for row, want in zip(rows, expected):
        assert row["label"] in ("neg", "pos") and 0.5 <= row["probability"] <= 1.0
        assert row["probability"] == pytest.approx(want["probability"], abs=1e-4)


def test_test_metrics_are_those_of_the_saved_model(quick_run):
    output, report = quick_run
    data = sentiment.RECIPE.load_data(sentiment.RECIPE.parse(["--quick"])).splits
    texts, labels = data.test
    predicted = [row["label"] for row in sentiment.RECIPE.predict(output / "models" / "cnn.keras", texts)]
    accuracy = np.mean([p == data.class_names[y] for p, y in zip(predicted, labels)])
    assert accuracy == pytest.approx(report["models"]["cnn"]["metrics"]["accuracy"], abs=1e-9)


def test_texts_shorter_than_the_widest_cnn_filter(tmp_path):
    rows = ["text,label"] + ["good day,pos", "bad one,neg", "very nice,pos", "so awful,neg"] * 20
    data = tmp_path / "short.csv"
    data.write_text("\n".join(rows) + "\n")
    report = sentiment.main(
        [
            "--data",
            str(data),
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--verbose",
            "0",
            "--output-dir",
            str(tmp_path / "run"),
        ]
    )
    assert report["config"]["sequence_length"] == 5
    assert "cnn" in report["models"]


@pytest.mark.parametrize("model", ["simple_rnn", "lstm", "gru", "cnn"])
@pytest.mark.parametrize("layers, bidirectional, num_classes", [(1, False, 2), (2, True, 3)])
def test_the_recipes_plain_keras_model_is_the_factorys(model, layers, bidirectional, num_classes):
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import classifiers

    cfg = sentiment.RECIPE.parse(
        ["--units", "8", "--embedding-dim", "6", "--layers", str(layers)]
        + (["--bidirectional"] if bidirectional else [])
    )
    plain = sentiment.build_classifier(model, cfg, vocabulary_size=50, num_classes=num_classes)
    if model == "cnn":
        encoder = encoders.EncoderConfig("cnn", cnn_kind="multi_width", filters=100, kernel_sizes=(3, 4, 5))
    else:
        encoder = encoders.EncoderConfig(
            model, units=8, num_layers=layers, bidirectional=bidirectional, dropout=cfg.dropout
        )
    factory = classifiers.sequence_classifier(
        encoder, num_classes, vocabulary_size=50, embedding_dim=6, embedding_dropout=cfg.embedding_dropout
    )
    assert plain.count_params() == factory.count_params()
    kinds = [type(layer).__name__ for layer in factory.layers]
    assert sorted(type(layer).__name__ for layer in plain.layers) == sorted(kinds)
    ids = np.array([[3, 4, 5, 6, 7, 0, 0]], dtype="int32")
    assert [w.shape for w in plain.weights] == [w.shape for w in factory.weights]
    factory.set_weights(plain.get_weights())
    np.testing.assert_allclose(plain.predict_on_batch(ids), factory.predict_on_batch(ids), atol=1e-6)


@pytest.mark.parametrize("model", ["simple_rnn", "lstm", "gru"])
def test_stream_prints_one_row_per_word_and_ends_on_the_whole_texts_answer(quick_run, model, capsys):
    from rnn_apps.harness import cli

    output, _ = quick_run
    model_path = output / "models" / f"{model}.keras"
    texts = ["Great lens, sharp pictures!", "awful: it broke after a day"]
    assert cli.main(["stream", "sentiment", "--model", str(model_path), "--format", "json", *texts]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["text"], row["position"], row["word"]) for row in rows] == [
        (1, 1, "great"),
        (1, 2, "lens"),
        (1, 3, "sharp"),
        (1, 4, "pictures"),
        (2, 1, "awful"),
        (2, 2, "it"),
        (2, 3, "broke"),
        (2, 4, "after"),
        (2, 5, "a"),
        (2, 6, "day"),
    ]
    whole = sentiment.RECIPE.predict(model_path, texts)
    last = [rows[3], rows[-1]]
    assert [row["label"] for row in last] == [row["label"] for row in whole]
    for row, want in zip(last, whole):
        assert row["probability"] == pytest.approx(want["probability"], abs=2e-4)


def test_stream_refuses_models_that_need_the_future(tmp_path, capsys):
    from rnn_apps.data import text
    from rnn_apps.harness import cli

    cfg = sentiment.RECIPE.parse(["--units", "4", "--embedding-dim", "3", "--bidirectional"])
    words = text.make_vectorizer(["good bad good"], vocabulary_size=10)
    for name in ("gru", "cnn"):
        core = sentiment.build_classifier(name, cfg, words.vocabulary_size(), 2)
        path = tmp_path / f"{name}.keras"
        sentiment.RECIPE.export(name, core, cfg, sentiment.Texts(_Splits(), words, 5), path)
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["stream", "sentiment", "--model", str(path), "good"])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1
        assert ("needs the future" if name == "gru" else "Conv1D") in error


class _Splits:
    class_names = ["neg", "pos"]
