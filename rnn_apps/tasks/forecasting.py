"""Forecasters and movement classifiers that take raw price windows, and their metrics.

A forecaster has two parts:

- a *core* model that maps standardized inputs ``(batch, time, channels)``
  to standardized targets ``(batch, steps, channels)`` (or
  ``(batch, steps, channels, quantiles)``); it is built from any
  `rnn_apps.layers.encoders.EncoderConfig` (SimpleRNN, LSTM, GRU, causal CNN) plus a
  dense head, and is what training sees;
- a *price model* around it that does the preprocessing and its inverse
  with built-in layers and `keras.ops`: raw prices in, log-returns,
  scaling with statistics fitted on training rows, the core, unscaling,
  and back to prices. That is the model saved to ``.keras``: it takes a raw
  price window and returns price forecasts, and reloads without this
  package.

Only `keras.layers` and `keras.ops` are used, so every backend works.

Examples:
    >>> from rnn_apps.layers import encoders
    >>> core = forecaster(encoders.EncoderConfig("gru", units=4), feature_dim=1, output_steps=2, channels=1)
    >>> model = price_model(core, window=6, channels=1, target="log_return",
    ...                     input_mean=[0.0], input_variance=[1.0],
    ...                     target_mean=[[0.0], [0.0]], target_variance=[[1.0], [1.0]])
    >>> tuple(model(np.ones((3, 6, 1), dtype="float32")).shape)
    (3, 2, 1)
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from sklearn import metrics as sk_metrics

from rnn_apps import errors

TARGETS = ("log_return", "price")


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


def forecaster(
    config,
    feature_dim: int,
    output_steps: int,
    channels: int,
    quantiles: tuple[float, ...] = (),
    head_dropout: float = 0.0,
    name: str | None = None,
) -> keras.Model:
    """Core forecaster: encoder over a window, dense head to every step and channel.

    Args:
        config: an `rnn_apps.layers.encoders.EncoderConfig` (``cnn`` should use
            ``cnn_kind="causal"`` so nothing looks past the window's end).
        feature_dim: input channels per step.
        output_steps: forecast steps per sample.
        channels: series forecast per step.
        quantiles: quantile levels to forecast; empty for point forecasts.
        head_dropout: dropout on the encoder features.
        name: model name; defaults to ``config.model``.

    Returns:
        An uncompiled model from ``(batch, time, feature_dim)`` to
            ``(batch, output_steps, channels)`` or, with quantiles,
            ``(batch, output_steps, channels, len(quantiles))``.

    Examples:
        >>> from rnn_apps.layers import encoders
        >>> cnn = encoders.EncoderConfig("cnn", cnn_kind="causal", filters=4, num_layers=2)
        >>> tuple(forecaster(cnn, 2, 3, 2, quantiles=(0.1, 0.9))(np.ones((1, 5, 2))).shape)
        (1, 3, 2, 2)
    """
    errors.check_positive(feature_dim, "feature_dim")
    errors.check_positive(output_steps, "output_steps")
    errors.check_positive(channels, "channels")
    check_quantiles(quantiles)
    inputs = keras.Input(shape=(None, feature_dim), name="scaled_inputs")
    features = config(inputs)
    if head_dropout:
        features = keras.layers.Dropout(head_dropout, name="head_dropout")(features)
    shape = (output_steps, channels) + ((len(quantiles),) if quantiles else ())
    outputs = keras.layers.Dense(int(np.prod(shape)), name="head_output")(features)
    outputs = keras.layers.Reshape(shape, name="head_reshape")(outputs)
    return keras.Model(inputs, outputs, name=name or config.model)


def check_quantiles(quantiles) -> tuple[float, ...]:
    """Return ``quantiles`` if they are increasing levels in (0, 1).

    Examples:
        >>> check_quantiles((0.1, 0.5, 0.9))
        (0.1, 0.5, 0.9)
    """
    quantiles = tuple(float(q) for q in quantiles)
    if any(not 0 < q < 1 for q in quantiles) or list(quantiles) != sorted(set(quantiles)):
        raise errors.expected("increasing quantile levels in (0, 1)", quantiles, name="quantiles")
    return quantiles


def _scaled_features(prices, target: str, mean, variance, name: str):
    """Raw price windows -> standardized log-returns (or prices), one step per return."""
    x = prices
    if target == "log_return":
        logs = keras.ops.log(x)
        x = logs[:, 1:, :] - logs[:, :-1, :]
    return keras.layers.Normalization(axis=-1, mean=mean, variance=variance, name=name)(x)


def _inputs(window, channels, target, input_mean, input_variance, feature_dim, feature_mean, feature_variance):
    """The model inputs and the standardized tensor the core reads.

    Extra features (volume) enter as ``log1p``, standardized, trimmed to the
    steps of the returns and concatenated to them channel-wise.
    """
    prices = keras.Input(shape=(window, channels), name="prices")
    x = _scaled_features(prices, target, input_mean, input_variance, "scale_inputs")
    if not feature_dim:
        return prices, x
    features = keras.Input(shape=(window, feature_dim), name="volume")
    f = keras.layers.Normalization(axis=-1, mean=feature_mean, variance=feature_variance, name="scale_volume")(
        keras.ops.log1p(features)
    )
    if target == "log_return":
        f = f[:, 1:, :]
    return [prices, features], keras.layers.Concatenate(axis=-1, name="inputs_and_volume")([x, f])


def price_model(
    core: keras.Model,
    window: int,
    channels: int,
    target: str,
    input_mean,
    input_variance,
    target_mean,
    target_variance,
    quantiles: tuple[float, ...] = (),
    name: str | None = None,
    feature_dim: int = 0,
    feature_mean=None,
    feature_variance=None,
) -> keras.Model:
    """Wrap a trained core forecaster into a model from raw prices to prices.

    Args:
        core: from `forecaster`, trained on standardized data.
        window: input prices per sample.
        channels: series per sample.
        target: ``"log_return"`` (the core predicts cumulative log-returns
            from the last input price) or ``"price"``.
        input_mean, input_variance: per-channel statistics of the inputs
            (log-returns or prices) on training rows.
        target_mean, target_variance: ``(steps, channels)`` statistics of
            the training targets.
        quantiles: the core's quantile levels (empty for point forecasts).
        name: model name; defaults to the core's.
        feature_dim: extra raw inputs per step (volume), 0 for none; the
            model then takes ``[prices, volume]``.
        feature_mean, feature_variance: statistics of ``log1p(volume)`` on
            training rows.

    Returns:
        A model from ``(batch, window, channels)`` raw prices to
            ``(batch, steps, channels)`` prices (with quantiles, a last axis of
            one forecast per level).
    """
    errors.check_choice(target, TARGETS, "target")
    inputs, x = _inputs(
        window, channels, target, input_mean, input_variance, feature_dim, feature_mean, feature_variance
    )
    prices = inputs[0] if feature_dim else inputs
    scaled = core(x)
    target_mean = np.asarray(target_mean, "float64")
    unscale = keras.layers.Normalization(
        axis=(1, 2),
        mean=target_mean,
        variance=np.asarray(target_variance, "float64"),
        invert=True,
        name="unscale_targets",
    )
    outputs = unscale(scaled)
    if target == "log_return":
        last = keras.ops.expand_dims(prices[:, -1, :], 1)
        if quantiles:
            last = keras.ops.expand_dims(last, -1)
        outputs = last * keras.ops.exp(outputs)
    return keras.Model(inputs, outputs, name=name or core.name)


def input_model(
    window: int,
    channels: int,
    target: str,
    input_mean,
    input_variance,
    feature_dim: int = 0,
    feature_mean=None,
    feature_variance=None,
) -> keras.Model:
    """The price model's preprocessing alone: raw windows -> what the core reads.

    Training inputs are made with this model, so training and the saved
    price model use the very same computation.

    Examples:
        >>> m = input_model(4, 1, "log_return", [0.0], [1.0])
        >>> tuple(m(np.ones((2, 4, 1), dtype="float32")).shape)
        (2, 3, 1)
    """
    inputs, x = _inputs(
        window, channels, target, input_mean, input_variance, feature_dim, feature_mean, feature_variance
    )
    return keras.Model(inputs, x)


def movement_model(core: keras.Model, window: int, input_mean, input_variance, name: str | None = None):
    """Wrap a trained up/down classifier into a model that reads raw prices.

    Args:
        core: a classifier over standardized log-returns ``(batch, time, 1)``
            (e.g. `rnn_apps.tasks.classifiers.feature_sequence_classifier`).
        window: input prices per sample.
        input_mean, input_variance: log-return statistics of training rows.

    Returns:
        A model from ``(batch, window, 1)`` prices to the probability of an
            up move ``(batch, 1)``.
    """
    prices = keras.Input(shape=(window, 1), name="prices")
    outputs = core(_scaled_features(prices, "log_return", input_mean, input_variance, "scale_inputs"))
    return keras.Model(prices, outputs, name=name or core.name)


@keras.saving.register_keras_serializable(package="rnn_apps")
class PinballLoss(keras.losses.Loss):
    """Pinball (quantile) loss, averaged over quantile levels.

    For level ``q`` and error ``e = y - f``, the loss is ``q * e`` when
    ``e >= 0`` and ``(q - 1) * e`` otherwise; its minimizer is the
    ``q``-quantile. Targets ``(batch, ...)`` are compared with predictions
    ``(batch, ..., len(quantiles))``.

    Examples:
        >>> loss = PinballLoss((0.1, 0.9))
        >>> round(float(loss(np.zeros((1, 1)), np.ones((1, 1, 2)))), 3)
        0.5
    """

    def __init__(self, quantiles=(0.1, 0.5, 0.9), name="pinball", **kwargs):
        super().__init__(name=name, **kwargs)
        self.quantiles = check_quantiles(quantiles)

    def call(self, y_true, y_pred):
        levels = keras.ops.convert_to_tensor(self.quantiles, dtype=y_pred.dtype)
        error = keras.ops.expand_dims(keras.ops.cast(y_true, y_pred.dtype), -1) - y_pred
        loss = keras.ops.maximum(levels * error, (levels - 1.0) * error)
        return keras.ops.mean(loss, axis=-1)

    def get_config(self):
        return {**super().get_config(), "quantiles": list(self.quantiles)}


# ---------------------------------------------------------------------------
# Settings, inference and plot data
# ---------------------------------------------------------------------------


def parse_quantiles(text: str) -> tuple[float, ...]:
    """``--quantiles`` as a tuple of levels (empty for point forecasts).

    Examples:
        >>> parse_quantiles("0.1,0.5,0.9"), parse_quantiles("")
        ((0.1, 0.5, 0.9), ())
    """
    if not text:
        return ()
    try:
        levels = tuple(float(value) for value in text.split(","))
    except ValueError:
        raise errors.expected("comma-separated numbers such as 0.1,0.5,0.9", text, name="--quantiles") from None
    return check_quantiles(levels)


def point_forecast(predictions: np.ndarray, quantiles=()) -> np.ndarray:
    """The point forecast of a quantile forecast: the median if present, else the middle level.

    Examples:
        >>> point_forecast(np.arange(6.0).reshape(1, 1, 2, 3), (0.1, 0.5, 0.9)).tolist()
        [[[1.0, 4.0]]]
    """
    if not quantiles:
        return predictions
    index = quantiles.index(0.5) if 0.5 in quantiles else len(quantiles) // 2
    return predictions[..., index]


def scaling(samples) -> dict:
    """The training-row statistics a model's preprocessing holds, as `input_model` and `price_model` take them.

    Args:
        samples: `rnn_apps.data.windows.ForecastData` or
            `rnn_apps.data.movement.MovementData`.

    Returns:
        A dict with ``input_mean`` and ``input_variance``; with extra
            features (volume) also ``feature_dim``, ``feature_mean`` and
            ``feature_variance``.
    """
    scale = dict(input_mean=samples.input_scaler.mean, input_variance=samples.input_scaler.variance)
    extra = getattr(samples, "feature_scaler", None)
    if extra is not None:
        scale |= dict(feature_dim=len(extra.mean), feature_mean=extra.mean, feature_variance=extra.variance)
    return scale


def raw_inputs(part):
    """What a saved model takes for the windows of one part: prices, or ``[prices, volume]``."""
    prices = np.asarray(part.inputs, "float32")
    return prices if part.features is None else [prices, np.asarray(part.features, "float32")]


def model_card(samples, quantiles=(), series=None, volume: bool = False, dead_zone=None) -> dict:
    """What a saved model's input and output mean: the ``.json`` saved beside it, read by `predict_windows`.

    Args:
        samples: the `ForecastData` or `MovementData` the model trained on.
        quantiles: forecast quantile levels.
        series: the series names of a joint model (one channel each), else `None`.
        volume: the model also takes volume.
        dead_zone: ``(down, up)`` thresholds of a movement model.
    """
    card = {
        "task": "forecast" if hasattr(samples, "horizon") else "movement",
        "window": samples.window,
        "channels": int(samples.test.inputs.shape[2]),
        "inputs": ["prices", "volume"] if volume else ["prices"],
    }
    if card["task"] == "movement":
        return card | {"series": None, "class_names": ["down", "up"], "dead_zone": list(dead_zone)}
    steps = dict(horizon=samples.horizon, steps=samples.steps, target=samples.target, quantiles=list(quantiles))
    return card | {"series": series} | steps


def parse_window(text, window: int | None = None, channels: int | None = None) -> np.ndarray:
    """One raw window ``(steps, series)`` from ``"p1,p2,..."`` (``"a:b,..."`` for several series) or a sequence.

    Raises:
        rnn_apps.errors.InputError: a value that is not a finite price, or a
            window of another length or series count than the model's.

    Examples:
        >>> parse_window("1,2,3").tolist()
        [[1.0], [2.0], [3.0]]
        >>> parse_window("1:10,2:20", window=2, channels=2).shape
        (2, 2)
    """
    if isinstance(text, str):
        try:
            rows = [[float(value) for value in step.split(":")] for step in text.replace(" ", "").split(",") if step]
        except ValueError:
            raise errors.expected("comma-separated prices such as 101.2,102.0,100.7", text) from None
        values = np.asarray(rows, "float32") if len({len(r) for r in rows}) == 1 else None
    else:
        try:
            values = np.asarray(text, "float32")
        except (TypeError, ValueError):
            raise errors.expected("a window of prices: steps by series", text) from None
    if values is None or values.ndim == 1:
        values = None if values is None else values[:, None]
    if values is None or values.ndim != 2 or values.size == 0:
        raise errors.expected("a window of prices: steps by series", text)
    if not np.all(np.isfinite(values)):
        raise errors.expected("finite prices (no nan or inf)", text)
    if window is not None and values.shape[0] != window:
        raise errors.expected(f"{window} prices per window (the model's window)", values.shape[0])
    if channels is not None and values.shape[1] != channels:
        raise errors.expected(f"{channels} series per step", values.shape[1])
    return values


def predict_windows(model: keras.Model, inputs, card: dict, model_path="") -> list[dict]:
    """Forecast (or classify the next move) from raw price windows with a saved price model.

    Args:
        model: a loaded price or movement model (`price_model`, `movement_model`).
        inputs: windows, as strings or arrays (see `parse_window`).
        card: the ``.json`` saved beside the model (``task``, ``target``,
            ``horizon``, ``steps``); empty when there is none.
        model_path: the model's file, for messages.

    Returns:
        One dict per window: ``forecast`` (prices per step; per quantile
            with quantiles), ``last_price``, ``horizon`` and ``steps``, or
            ``label`` and ``probability`` for movement models.
    """
    if len(model.inputs) > 1:
        raise errors.expected(
            "a model that reads prices only (a --volume model takes [prices, volume]: call it with Keras)",
            str(model_path),
        )
    errors.check_model_inputs(model, model_path, ranks=(3,), dtype="float")
    window, channels = model.input_shape[1], model.input_shape[2]
    batch = np.stack([parse_window(item, window, channels) for item in inputs])
    if np.any(batch <= 0) and card.get("target", "log_return") == "log_return":
        raise errors.expected("positive prices (the model reads log-returns)", float(batch[batch <= 0][0]))
    outputs = np.asarray(model.predict_on_batch(batch))  # one call, no per-call dataset set-up
    rows = []
    for window_values, output in zip(batch, outputs):
        if card.get("task") == "movement":
            up = float(output.reshape(-1)[0])
            rows.append({"label": "up" if up >= 0.5 else "down", "probability": round(max(up, 1 - up), 4)})
        else:
            rows.append(
                {
                    "forecast": np.round(output, 6).tolist(),
                    "last_price": window_values[-1].tolist(),
                    "horizon": card.get("horizon"),
                    "steps": card.get("steps"),
                }
            )
    return rows


def in_batches(model, inputs, batch_size: int = 1024) -> np.ndarray:
    """``model`` on ``inputs`` (an array, or a list or dict of arrays), ``batch_size`` rows per call.

    `keras.Model.predict` would wrap the arrays in a `tf.data` pipeline and
    trace its step again for every new input size: under the op determinism
    the harness turns on, TensorFlow then logs a ``use_unbounded_threadpool``
    error per pipeline and warns about retracing. `predict_on_batch` needs
    neither and gives the same numbers.

    Examples:
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
        >>> in_batches(m, np.ones((5, 2), "float32"), batch_size=2).ravel().tolist()
        [2.0, 2.0, 2.0, 2.0, 2.0]
    """
    if isinstance(inputs, dict):
        rows = len(next(iter(inputs.values())))
    else:
        rows = len(inputs[0]) if isinstance(inputs, (list, tuple)) else len(inputs)

    def part(start):
        rows_of = slice(start, start + batch_size)
        if isinstance(inputs, dict):
            return {key: value[rows_of] for key, value in inputs.items()}
        if isinstance(inputs, (list, tuple)):
            return [value[rows_of] for value in inputs]
        return inputs[rows_of]

    outputs = [keras.ops.convert_to_numpy(model.predict_on_batch(part(start))) for start in range(0, rows, batch_size)]
    return np.concatenate(outputs)


def evaluate_price_model(model: keras.Model, test, quantiles=()) -> tuple[dict, np.ndarray]:
    """Test metrics of a saved price model on the raw windows of the test part.

    Args:
        model: from `price_model`.
        test: the test `rnn_apps.data.windows.Windows` (raw prices and targets).
        quantiles: the model's quantile levels; the point forecast is their median.

    Returns:
        ``(metrics, point forecasts)``: `forecast_metrics` of the point
            forecast, plus `quantile_metrics` for a quantile model.
    """
    predictions = in_batches(model, raw_inputs(test))
    point = point_forecast(predictions, quantiles)
    scores = forecast_metrics(test.targets, point, test.inputs[:, -1:, :])
    if quantiles:
        scores |= quantile_metrics(test.targets, predictions, quantiles)
    return scores, point


def timing_call(model: keras.Model, part, limit: int = 512):
    """``(predict_batch, inputs)`` to time a price model on raw windows, as a user calls it.

    Timing batches are slices of one array, so a volume model's price and
    volume windows travel side by side and are split again for each call.
    """
    channels = part.inputs.shape[2]
    if part.features is None:
        return model.predict_on_batch, np.asarray(part.inputs[:limit], "float32")
    joined = np.concatenate([part.inputs[:limit], part.features[:limit]], axis=-1).astype("float32")
    return lambda batch: model.predict_on_batch([batch[..., :channels], batch[..., channels:]]), joined


def forecast_panels(index, test, horizon: int, predictions: dict, names: list[str], limit: int = 3) -> dict:
    """Plot data of the test period: per series (at most ``limit``), target dates, actual and forecast prices.

    Args:
        index: the time index of the price rows (dates or step numbers).
        test: the test `rnn_apps.data.windows.Windows`.
        horizon: steps ahead; the last forecast step is drawn.
        predictions: model name -> forecasts ``(samples, steps, channels)``.
        names: series names.

    Returns:
        Panel title -> ``(dates, actual, {model: forecast})``, as
            `rnn_apps.harness.plots.forecasts` takes it.
    """
    panels = {}
    for series in np.unique(test.series)[:limit]:
        rows = np.flatnonzero(test.series == series)
        order = rows[np.argsort(test.target_rows[rows])]
        title = names[series] if len(names) > 1 and test.inputs.shape[2] == 1 else names[0]
        lines = {name: values[order, -1, 0] for name, values in predictions.items()}
        panels[f"{title}: forecast {horizon} step(s) ahead"] = (
            index[test.target_rows[order]],
            test.targets[order, -1, 0],
            lines,
        )
    return panels


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def forecast_metrics(actual, predicted, last_price) -> dict[str, float | None]:
    """Point-forecast metrics on the price scale.

    Args:
        actual: true prices ``(samples, steps, channels)``.
        predicted: forecasts of the same shape.
        last_price: the last input price of each sample ``(samples, 1,
            channels)``: the random walk's forecast.

    Returns:
        A dict with ``mae`` and ``rmse``; ``mase``, the MAE divided by the
            random walk's MAE on the same test targets (below 1 means better
            than the random walk out of sample); ``rse`` and ``corr`` as
            defined by Lai et al. (2018); and ``directional_accuracy``, the
            share of samples whose predicted direction (up or down from the
            last price) matches the actual one, over samples that moved
            (`None` for a forecast that never moves).

    Examples:
        >>> actual = np.array([[[2.0]], [[0.0]]]); last = np.ones((2, 1, 1))
        >>> m = forecast_metrics(actual, np.array([[[1.5]], [[0.5]]]), last)
        >>> m["mae"], m["mase"], m["directional_accuracy"]
        (0.5, 0.5, 1.0)
    """
    actual = np.asarray(actual, "float64")
    predicted = np.asarray(predicted, "float64")
    last = np.broadcast_to(np.asarray(last_price, "float64"), actual.shape)
    error = predicted - actual
    mae = float(np.mean(np.abs(error)))
    naive_mae = float(np.mean(np.abs(actual - last)))
    flat_actual = actual.reshape(-1, actual.shape[-1])
    flat_predicted = predicted.reshape(-1, actual.shape[-1])
    spread = np.sqrt(np.sum((flat_actual - flat_actual.mean()) ** 2))
    rse = float(np.sqrt(np.sum((flat_predicted - flat_actual) ** 2)) / spread) if spread > 0 else None
    corrs = []
    for column in range(flat_actual.shape[1]):
        a, p = flat_actual[:, column], flat_predicted[:, column]
        if a.std() > 0 and p.std() > 0:
            corrs.append(float(np.corrcoef(a, p)[0, 1]))
    moved = actual != last
    predicted_move = np.sign(predicted - last)
    directional = None
    if moved.any() and np.any(predicted_move[moved] != 0):
        directional = float(np.mean(predicted_move[moved] == np.sign(actual - last)[moved]))
    return {
        "mase": mae / naive_mae if naive_mae > 0 else None,
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(error**2))),
        "rse": rse,
        "corr": float(np.mean(corrs)) if corrs else None,
        "directional_accuracy": directional,
    }


def quantile_metrics(actual, predicted_quantiles, quantiles) -> dict[str, float]:
    """Pinball loss (price scale, mean over levels) and coverage of the outer levels.

    Examples:
        >>> bounds = np.stack([-np.ones((2, 1, 1)), np.ones((2, 1, 1))], -1)
        >>> q = quantile_metrics(np.zeros((2, 1, 1)), bounds, (0.1, 0.9))
        >>> round(q["pinball"], 6), q["coverage"]
        (0.1, 1.0)
    """
    actual = np.asarray(actual, "float64")[..., None]
    predicted = np.asarray(predicted_quantiles, "float64")
    levels = np.asarray(quantiles, "float64")
    error = actual - predicted
    pinball = float(np.mean(np.maximum(levels * error, (levels - 1) * error)))
    inside = (actual[..., 0] >= predicted[..., 0]) & (actual[..., 0] <= predicted[..., -1])
    return {"pinball": pinball, "coverage": float(np.mean(inside)), "nominal_coverage": float(levels[-1] - levels[0])}


def movement_metrics(labels, predicted) -> dict[str, float]:
    """Accuracy, Matthews correlation and the majority-class rate of up/down labels.

    ``majority_rate`` is the accuracy of always predicting the test set's
    more frequent class: a model's accuracy means little unless it beats it.

    Examples:
        >>> m = movement_metrics([1, 1, 0, 1], [1, 0, 0, 1])
        >>> m["accuracy"], m["majority_rate"], round(m["mcc"], 3)
        (0.75, 0.75, 0.577)
    """
    labels = np.asarray(labels, "int64")
    predicted = np.asarray(predicted, "int64")
    up_share = float(np.mean(labels == 1)) if len(labels) else 0.0
    return {
        "accuracy": float(sk_metrics.accuracy_score(labels, predicted)),
        "mcc": float(sk_metrics.matthews_corrcoef(labels, predicted)),
        "majority_rate": max(up_share, 1.0 - up_share),
        "predicted_up": float(np.mean(predicted == 1)),
    }


@dataclasses.dataclass
class PriceFolds:
    """The price table, its splits and their samples; the hooks read split number ``fold``."""

    table: object  # a `rnn_apps.data.price_tables.PriceTable`
    index: object  # time index of the rows the samples come from
    splits: list  # `rnn_apps.data.time_splits.Split` per fold
    folds: list  # samples per split: `windows.ForecastData` (`movement.MovementData` for movement)
    quantiles: tuple[float, ...] = ()
    fold: int = -1
    prepared: dict = dataclasses.field(default_factory=dict)  # (fold, channels, target) -> (train, validation)

    @property
    def samples(self):
        return self.folds[self.fold]

    def model_inputs(self, channels: int, target: str):
        """The training and validation windows of this fold through the saved models' preprocessing.

        Made once per fold and shared by every model. The preprocessing
        model is called directly, not through ``predict``: it is a few
        element-wise operations, and a traced prediction function per fold
        would only add to TensorFlow's retracing count.
        """
        key = (self.fold, channels, target)
        if key not in self.prepared:
            d = self.samples
            prepare = input_model(d.window, channels, target, **scaling(d))
            parts = (raw_inputs(d.train), raw_inputs(d.validation))
            self.prepared[key] = tuple(keras.ops.convert_to_numpy(prepare(part)) for part in parts)
        return self.prepared[key]

    def at(self, fold: int) -> PriceFolds:
        return dataclasses.replace(self, fold=fold)
