"""The stocks recipe end to end on the bundled sample, and its model factories."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import check_model
from quick_runs import quick_run

from recipes import stocks, stocks_movement
from rnn_apps.data import movement, time_splits, windows
from rnn_apps.harness import compare
from rnn_apps.layers import convolutional, encoders
from rnn_apps.tasks import classifiers, forecasting

TRAINED = {"simple_rnn", "lstm", "gru", "cnn"}
NAIVE = {"persistence", "drift"}  # seasonal_naive (with --season) is checked in the walk-forward run


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory):
    output, report = quick_run("stocks", tmp_path_factory)
    return output, report, ["--quick"]


@pytest.fixture(scope="module")
def movement_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("stocks_movement")
    flags = ["--quick", "--task", "movement", "--model", "gru,cnn", "--output-dir", str(output), "--verbose", "0"]
    return output, stocks.main(flags)


def test_forecast_metrics_json_follows_the_contract(forecast_run):
    output, report, _ = forecast_run
    on_disk = json.loads((output / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["recipe"] == "stocks" and on_disk["task"] == "forecast" and on_disk["primary_metric"] == "mase"
    assert set(on_disk["models"]) == TRAINED | NAIVE
    for name, entry in on_disk["models"].items():
        assert {"mase", "mae", "rmse", "rse", "directional_accuracy"} <= set(entry["metrics"]), name
        assert isinstance(entry["params"], int) and isinstance(entry["train_seconds"], float)
        assert isinstance(entry["predict_ms_per_sample"], float) and "fast_kernel" in entry
        assert entry["metrics"]["mase"] > 0
    persistence = on_disk["models"]["persistence"]["metrics"]
    assert persistence["mase"] == pytest.approx(1.0) and persistence["directional_accuracy"] is None
    kernels = {name: on_disk["models"][name]["fast_kernel"] for name in TRAINED}
    assert kernels == {"simple_rnn": False, "lstm": True, "gru": True, "cnn": None}
    mase = {name: entry["metrics"]["mase"] for name, entry in on_disk["models"].items()}
    assert compare.ranked(on_disk)[0] == min(mase, key=mase.get)  # lower MASE ranks first


def test_forecast_artifacts(forecast_run):
    output, report, _ = forecast_run
    for image in ("forecast.png", "learning_curves.png"):
        assert (output / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in TRAINED:
        assert (output / "models" / f"{name}.keras").is_file()
        card = json.loads((output / "models" / f"{name}.json").read_text())
        assert card["window"] == 24 and card["horizon"] == 1 and card["target"] == "log_return"
    table = (output / "comparison.md").read_text()
    assert compare.markdown_table(report) in table and "python -m recipes.stocks --quick" in table


def test_test_metrics_are_those_of_the_saved_model(forecast_run):
    output, report, flags = forecast_run
    args = stocks.RECIPE.parse(flags)
    prices = stocks.load_prices(args)
    table, (split,) = prices.table, prices.splits
    data = windows.prepare_forecast(table.prices.to_numpy(), split, args.window, args.horizon, pooled=True)
    model = keras.models.load_model(output / "models" / "gru.keras")
    predicted = model.predict(data.test.inputs.astype("float32"), verbose=0)
    metrics = forecasting.forecast_metrics(data.test.targets, predicted, data.test.inputs[:, -1:, :])
    assert metrics["mase"] == pytest.approx(report["models"]["gru"]["metrics"]["mase"], rel=1e-6)
    # The scaler inside the saved model holds training-row statistics only.
    scale = model.get_layer("scale_inputs")
    np.testing.assert_allclose(np.ravel(scale.mean), data.input_scaler.mean, rtol=1e-5)
    returns = np.concatenate([windows.log_returns(table.prices.to_numpy()[:, [i]]) for i in range(5)], axis=1)
    training_returns = returns[split.train.start : split.train.stop]
    np.testing.assert_allclose(np.ravel(scale.mean), np.nanmean(training_returns), rtol=1e-5)


def test_saved_model_reloads_in_a_fresh_process_without_rnn_apps(forecast_run):
    output, _, _ = forecast_run
    path = output / "models" / "cnn.keras"
    window = (100 + np.arange(24, dtype="float32")).reshape(1, 24, 1)
    here = keras.models.load_model(path).predict(window, verbose=0)
    script = (
        "import sys, json, keras, numpy as np;"
        "m = keras.models.load_model(sys.argv[1]);"
        "x = (100 + np.arange(24, dtype='float32')).reshape(1, 24, 1);"
        "assert 'rnn_apps' not in sys.modules;"
        "print(json.dumps(m.predict(x, verbose=0).tolist()))"
    )
    fresh = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    np.testing.assert_allclose(np.array(json.loads(fresh.stdout.strip().splitlines()[-1])), here, rtol=1e-6)
    assert here.shape == (1, 1, 1) and 90 < here[0, 0, 0] < 140


def test_rnn_apps_predict_from_raw_windows(forecast_run, capsys):
    output, _, _ = forecast_run
    window = ",".join(f"{100 + i:.1f}" for i in range(24))
    model = str(output / "models" / "lstm.keras")
    assert stocks.cli.main(["predict", "stocks", "--model", model, "--format", "json", window]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert row["last_price"] == [123.0] and row["horizon"] == 1 and len(row["forecast"]) == 1
    with pytest.raises(stocks.errors.InputError, match="24 prices per window"):
        stocks.RECIPE.predict(model, ["1,2,3"])


def test_quantile_multi_step_forecasts_and_walk_forward(tmp_path):
    report = stocks.main(
        [
            "--quick",
            "--model",
            "gru",
            "--epochs",
            "1",
            "--horizon",
            "3",
            "--steps",
            "all",
            "--window",
            "12",
            "--quantiles",
            "0.1,0.5,0.9",
            "--walk-forward",
            "2",
            "--season",
            "12",
            "--output-dir",
            str(tmp_path),
            "--verbose",
            "0",
        ]
    )
    gru = report["models"]["gru"]["metrics"]
    assert {"pinball", "coverage", "nominal_coverage", "mase"} <= set(gru) and gru["nominal_coverage"] == 0.8
    assert len(report["walk_forward"]["gru"]) == 2 and len(report["walk_forward"]["persistence"]) == 2
    assert set(report["models"]) == {"gru", "persistence", "drift", "seasonal_naive"}
    assert len(report["walk_forward"]["seasonal_naive"]) == 2
    model = keras.models.load_model(tmp_path / "models" / "gru.keras")
    assert model.output_shape == (None, 3, 1, 3)


def test_volume_as_an_extra_input(tmp_path):
    from test_stocks_data import yahoo_csv

    folder = tmp_path / "prices"
    folder.mkdir()
    yahoo_csv(folder / "AAA.csv", days=200)
    yahoo_csv(folder / "BBB.csv", days=180, seed=3, start="2020-01-20")
    flags = ["--data", str(folder), "--volume", "--quick", "--model", "cnn", "--epochs", "1", "--window", "8"]
    report = stocks.main([*flags, "--output-dir", str(tmp_path / "run"), "--verbose", "0"])
    assert report["models"]["cnn"]["metrics"]["mase"] > 0 and report["series"] == ["AAA", "BBB"]
    model = keras.models.load_model(tmp_path / "run" / "models" / "cnn.keras")
    assert [tuple(x.shape) for x in model.inputs] == [(None, 8, 1), (None, 8, 1)]
    prices, volume = 100 + np.random.rand(2, 8, 1), 1000 + np.random.rand(2, 8, 1)
    assert model.predict([prices, volume], verbose=0).shape == (2, 1, 1)
    with pytest.raises(stocks.errors.InputError, match="volume"):
        stocks.RECIPE.predict(tmp_path / "run" / "models" / "cnn.keras", ["1,2,3,4,5,6,7,8"])


def test_movement_reports_accuracy_mcc_and_majority_rate(movement_run):
    output, report = movement_run
    assert report["task"] == "movement" and report["primary_metric"] == "mcc"
    assert set(report["models"]) == {"gru", "cnn", "majority", "previous_move"}
    rates = set()
    for name, entry in report["models"].items():
        assert {"accuracy", "mcc", "majority_rate"} <= set(entry["metrics"]), name
        rates.add(entry["metrics"]["majority_rate"])
    assert len(rates) == 1 and 0.5 <= rates.pop() <= 1
    assert report["models"]["majority"]["metrics"]["mcc"] == 0.0
    assert (output / "confusion_matrices.png").is_file()
    (row,) = stocks.RECIPE.predict(output / "models" / "gru.keras", [",".join(str(100 + i) for i in range(24))])
    assert row["label"] in ("up", "down") and 0.5 <= row["probability"] <= 1


def test_movement_labels_follow_the_stocknet_dead_zone():
    prices = np.array([99, 100, 101, 101.2, 100.0, 100.5, 100.7, 101.5, 100.9])[:, None]
    split = time_splits.Split(range(0, 5), range(5, 8), range(8, 9))
    data = movement.prepare_movement(prices, split, window=2)
    # Targets: +1% up, +0.2% dropped, -1.19% down | +0.5% dropped, +0.2% dropped, +0.79% up | -0.59% down
    assert data.train.targets.tolist() == [1, 0]
    assert data.validation.targets.tolist() == [1] and data.test.targets.tolist() == [0]


@pytest.mark.parametrize("name", ["lstm", "cnn"])
def test_forecaster_factory(tmp_path, name):
    config = encoders.EncoderConfig(name, units=4, filters=4, cnn_kind="causal", num_layers=2)
    core = forecasting.forecaster(config, feature_dim=2, output_steps=3, channels=2)
    inputs, targets = np.random.rand(4, 9, 2).astype("float32"), np.random.rand(4, 3, 2).astype("float32")
    check_model(core, inputs, targets, (4, 3, 2), tmp_path, loss="mse")


def test_price_model_factory_with_quantiles(tmp_path):
    quantiles = (0.1, 0.5, 0.9)
    core = forecasting.forecaster(encoders.EncoderConfig("gru", units=4), 1, 2, 1, quantiles=quantiles)
    model = forecasting.price_model(
        core, 6, 1, "log_return", [0.0], [1e-4], np.zeros((2, 1)), np.full((2, 1), 1e-4), quantiles=quantiles
    )
    prices = (100 + np.random.rand(4, 6, 1)).astype("float32")
    check_model(model, prices, prices[:, -2:, :], (4, 2, 1, 3), tmp_path, loss=forecasting.PinballLoss(quantiles))


def test_movement_model_factory(tmp_path):
    core = classifiers.feature_sequence_classifier(encoders.EncoderConfig("lstm", units=4), 2, 1, mask_value=None)
    model = forecasting.movement_model(core, 5, [0.0], [1e-4])
    prices = (50 + np.random.rand(6, 5, 1)).astype("float32")
    check_model(model, prices, np.array([0, 1, 0, 1, 1, 0], "float32"), (6, 1), tmp_path)


def test_causal_cnn_never_looks_past_the_window_end():
    cfg = stocks.RECIPE.parse(["--quick"])
    model = stocks.build_forecaster("cnn", cfg, input_steps=23, feature_dim=1, output_shape=(1, 1))
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert convolutions and {layer.padding for layer in convolutions} == {"causal"}
    assert stocks.convolutional.receptive_field("causal", cfg.kernel_size, len(convolutions)) >= 23
    # Changing the inputs after the window's end changes nothing before it.
    inputs = np.random.default_rng(0).normal(size=(1, 23, 1)).astype("float32")
    later = np.concatenate([inputs, np.full((1, 5, 1), 9.0, "float32")], axis=1)
    encoder = keras.Model(model.input, convolutions[-1].output)
    np.testing.assert_allclose(encoder(inputs), encoder(later)[:, :23], atol=1e-5)


def same_model(plain, factory, inputs):
    """Same parameter count and layer kinds, and the same outputs once the weights are copied."""
    assert plain.count_params() == factory.count_params()
    kinds = sorted(type(layer).__name__ for layer in factory.layers)
    assert sorted(type(layer).__name__ for layer in plain.layers) == kinds
    assert [w.shape for w in plain.weights] == [w.shape for w in factory.weights]
    assert [layer.name for layer in plain.layers][1:] == [layer.name for layer in factory.layers][1:]
    factory.set_weights(plain.get_weights())
    np.testing.assert_allclose(plain.predict_on_batch(inputs), factory.predict_on_batch(inputs), atol=1e-5)


def factory_encoder(model, cfg, input_steps):
    if model == "cnn":
        return encoders.EncoderConfig(
            "cnn",
            cnn_kind="causal",
            filters=cfg.filters,
            kernel_size=cfg.kernel_size,
            num_layers=convolutional.layers_to_cover("causal", cfg.kernel_size, input_steps),
            dropout=cfg.dropout,
        )
    return encoders.EncoderConfig(
        model, units=cfg.units, num_layers=cfg.layers, bidirectional=cfg.bidirectional, dropout=cfg.dropout
    )


@pytest.mark.parametrize("model", ["simple_rnn", "lstm", "gru", "cnn"])
@pytest.mark.parametrize(
    "flags, quantiles", [([], ()), (["--layers", "2", "--bidirectional", "--dropout", "0.1"], (0.1, 0.9))]
)
def test_the_recipes_plain_keras_models_are_the_factorys(model, flags, quantiles):
    cfg = stocks.RECIPE.parse(["--units", "6", "--filters", "5", *flags])
    inputs = np.random.default_rng(1).normal(size=(3, 11, 2)).astype("float32")
    shape = (2, 1) + ((len(quantiles),) if quantiles else ())
    plain = stocks.build_forecaster(model, cfg, 11, feature_dim=2, output_shape=shape, quantiles=quantiles)
    factory = forecasting.forecaster(factory_encoder(model, cfg, 11), 2, 2, 1, quantiles=quantiles)
    same_model(plain, factory, inputs)
    plain = stocks_movement.build_classifier(model, cfg, 11)
    factory = classifiers.feature_sequence_classifier(
        factory_encoder(model, cfg, 11), 2, feature_dim=1, mask_value=None, head_dropout=cfg.dropout
    )
    same_model(plain, factory, inputs[..., :1])
