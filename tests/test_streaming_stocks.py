"""Streaming prices (`rnn_apps.tasks.forecast_streaming`, ``rnn-apps stream stocks``).

Untrained models from the recipe's builders, wrapped as the recipe saves
them: after the prices of a window, the stream's forecast equals the saved
price model's on that window, for every cell, and for every shorter window
too. The factory tests run on every backend through `tests/test_backends.py`.
"""

import io
import json
import sys

import keras
import numpy as np
import pytest

from recipes import stocks, stocks_movement
from rnn_apps import errors
from rnn_apps.harness import cli
from rnn_apps.tasks import forecast_streaming, forecasting

WINDOW = 5
RNG = np.random.default_rng(11)


def settings(*flags):
    return stocks.RECIPE.parse(["--units", "5", *flags])


def statistics(steps: int, channels: int) -> dict:
    """Scaling statistics far from 0 and 1, so a step that skipped them would show."""
    return dict(
        input_mean=RNG.normal(0.0, 0.01, channels),
        input_variance=RNG.uniform(1e-4, 4e-4, channels),
        target_mean=RNG.normal(0.0, 0.01, (steps, channels)),
        target_variance=RNG.uniform(1e-4, 4e-4, (steps, channels)),
    )


def saved_models(cell, lengths=(WINDOW,), target="log_return", steps=1, channels=1, quantiles=(), flags=()):
    """The price model of ``cell`` for each window length of ``lengths``, around one core (shared weights)."""
    input_steps = WINDOW - 1 if target == "log_return" else WINDOW
    shape = (steps, channels) + ((len(quantiles),) if quantiles else ())
    core = stocks.build_forecaster(cell, settings(*flags), input_steps, channels, shape, quantiles)
    scale = statistics(steps, channels)
    return [forecasting.price_model(core, length, channels, target, **scale, quantiles=quantiles) for length in lengths]


def random_walk(length: int, channels: int = 1) -> np.ndarray:
    return (100.0 * np.exp(np.cumsum(RNG.normal(0.0, 0.02, (length, channels)), axis=0))).astype("float32")


def check_stream(models, prices, first: int = 1):
    """The stream after price ``t`` equals the saved model of window ``t``, for the windows of ``models``."""
    stream = forecast_streaming.PriceStream(models[-1])
    outputs = [stream.step(price) for price in prices]
    if first:
        assert outputs[0] is None  # one price, no return yet
    for model in models:
        length = model.input_shape[1]
        want = keras.ops.convert_to_numpy(model.predict_on_batch(prices[None, :length]))[0]
        np.testing.assert_allclose(outputs[length - 1], want, rtol=1e-5, err_msg=f"window of {length}")
    return outputs


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_the_stream_forecasts_what_the_saved_model_does_on_every_window(cell):
    outputs = check_stream(saved_models(cell, lengths=range(2, WINDOW + 1)), random_walk(WINDOW))
    assert not np.allclose(outputs[1], outputs[-1])  # the state is carried: the forecast moves


def test_two_layers_several_steps_series_and_quantiles():
    quantiles = (0.1, 0.5, 0.9)
    models = saved_models("lstm", steps=2, channels=2, quantiles=quantiles, flags=["--layers", "2"])
    outputs = check_stream(models, random_walk(WINDOW, 2))
    assert outputs[-1].shape == (2, 2, 3)


def test_a_price_target_forecasts_from_the_first_price():
    outputs = check_stream(saved_models("gru", target="price"), random_walk(WINDOW), first=0)
    assert outputs[0] is not None


def test_a_movement_model_streams_its_up_probability():
    cfg = settings()
    core = stocks_movement.build_classifier("gru", cfg, WINDOW - 1)
    scale = statistics(1, 1)
    model = forecasting.movement_model(core, WINDOW, scale["input_mean"], scale["input_variance"])
    prices = random_walk(WINDOW)
    outputs = check_stream([model], prices)
    assert outputs[-1].shape == (1,) and 0 < outputs[-1][0] < 1
    rows = list(forecast_streaming.stream_rows(model, [",".join(f"{p:.4f}" for p in prices[:, 0])]))
    assert list(rows[0]) == ["step", "price", "label", "probability"] and rows[0]["label"] == ""
    up = float(outputs[-1][0])
    assert rows[-1]["label"] == ("up" if up >= 0.5 else "down")
    assert rows[-1]["probability"] == pytest.approx(max(up, 1 - up), abs=2e-4)


def test_after_the_window_the_stream_keeps_reading_and_reset_starts_again():
    models = saved_models("gru")
    prices = random_walk(WINDOW + 4)
    stream = forecast_streaming.PriceStream(models[-1])
    longer = [stream.step(price) for price in prices][-1]
    window = keras.ops.convert_to_numpy(models[-1].predict_on_batch(prices[None, -WINDOW:]))[0]
    assert not np.allclose(longer, window)  # it read more than the last window
    stream.reset()
    again = [stream.step(price) for price in prices[-WINDOW:]][-1]
    np.testing.assert_allclose(again, window, rtol=1e-5)


def test_models_that_cannot_stream_are_refused_with_the_reason():
    with pytest.raises(errors.InputError, match="needs the future"):
        forecast_streaming.PriceStream(saved_models("gru", flags=["--bidirectional"])[-1])
    with pytest.raises(errors.InputError, match="Conv1D"):
        forecast_streaming.PriceStream(saved_models("cnn")[-1])
    core = stocks.build_forecaster("gru", settings(), WINDOW - 1, 2, (1, 1))
    volume = dict(feature_dim=1, feature_mean=[0.0], feature_variance=[1.0])
    model = forecasting.price_model(core, WINDOW, 1, "log_return", **statistics(1, 1), **volume)
    with pytest.raises(errors.InputError, match="volume"):
        forecast_streaming.PriceStream(model)


# The command ------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream_stocks")
    models = {}
    for name, flags in (("gru", []), ("bidirectional", ["--bidirectional"])):
        model = saved_models("gru", flags=flags)[-1]
        path = folder / f"{name}.keras"
        model.save(path)
        path.with_suffix(".json").write_text(json.dumps({"task": "forecast", "horizon": 1, "steps": "last"}))
        models[name] = (path, model)
    return models


def test_stream_prints_one_line_per_price_and_ends_on_the_window_forecast(saved, capsys):
    path, model = saved["gru"]
    prices = random_walk(WINDOW)
    values = [f"{price:.4f}" for price in prices[:, 0]]
    assert cli.main(["stream", "stocks", "--model", str(path), values[0], ",".join(values[1:3]), *values[3:]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == WINDOW
    assert lines[0].split("\t") == ["1", str(float(values[0])), ""]  # no forecast before a return
    window = np.asarray(values, "float32")[None, :, None]
    want = float(keras.ops.convert_to_numpy(model.predict_on_batch(window)).reshape(-1)[0])
    assert float(lines[-1].split("\t")[-1]) == pytest.approx(want, rel=1e-5)


def test_stream_reads_standard_input_line_by_line(saved, capsys, monkeypatch):
    path, _ = saved["gru"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"100\n101.5\n\n99.25\n")))
    assert cli.main(["stream", "stocks", "--model", str(path), "--format", "json", "98", "-"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    assert [row["price"] for row in rows] == [98.0, 100.0, 101.5, 99.25]
    assert list(rows[0]) == ["step", "price", "forecast"] and rows[0]["forecast"] == ""
    assert all(isinstance(row["forecast"], float) for row in rows[1:])


def test_stream_reads_a_price_file(saved, capsys, tmp_path):
    path, _ = saved["gru"]
    table = tmp_path / "ACME.csv"
    table.write_text("Date,Close\n2024-01-02,10.0\n2024-01-03,10.5\n2024-01-04,10.25\n")
    assert cli.main(["stream", "stocks", "--model", str(path), str(table), "10.4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["1", "10.0"], ["2", "10.5"], ["3", "10.25"], ["4", "10.4"]]


@pytest.mark.parametrize("inputs, message", [(["abc"], "prices such as 101.2"), (["100", "-5"], "positive prices")])
def test_bad_prices_exit_2_with_one_line(saved, capsys, inputs, message):
    path, _ = saved["gru"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["stream", "stocks", "--model", str(path), *inputs])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error


def test_stream_refuses_a_bidirectional_model(saved, capsys):
    path, _ = saved["bidirectional"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["stream", "stocks", "--model", str(path), "100", "101"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "needs the future" in captured.err
