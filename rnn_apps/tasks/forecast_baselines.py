"""Naive forecasts and movement baselines: what a price model has to beat.

Forecasts take the same raw price windows ``(samples, window, channels)`` as
the trained models and return ``(samples, steps, channels)`` prices:

- `persistence` (random walk): the last price, for every step;
- `drift`: the last price plus the window's average step change per step;
- `seasonal_naive`: the price one season (``period`` steps) before the
  target, from inside the window.

Movement baselines return 1 (up) or 0 (down): `previous_move` repeats the
sign of the window's last move; `movement_baselines` scores it beside the
majority class of the training labels.

`forecast_result` and `movement_result` turn any of them into a
`rnn_apps.harness.compare.ModelResult`, timed on the raw windows;
`naive_forecasts` scores every naive forecast at once.
"""

from __future__ import annotations

import numpy as np

from rnn_apps import errors
from rnn_apps.harness import compare, training
from rnn_apps.tasks import forecasting


def _steps(horizon: int, steps: str) -> np.ndarray:
    errors.check_choice(steps, ("last", "all"), "steps")
    return np.arange(1, horizon + 1) if steps == "all" else np.array([horizon])


def persistence(windows, horizon: int, steps: str = "last") -> np.ndarray:
    """Random-walk forecast: tomorrow's (and every later) price is today's.

    Examples:
        >>> persistence(np.array([[[1.0], [3.0]]]), horizon=2, steps="all").tolist()
        [[[3.0], [3.0]]]
    """
    windows = np.asarray(windows, "float64")
    return np.repeat(windows[:, -1:, :], len(_steps(horizon, steps)), axis=1)


def drift(windows, horizon: int, steps: str = "last") -> np.ndarray:
    """Random walk with drift: the last price plus ``k`` times the window's mean step change.

    Examples:
        >>> drift(np.array([[[1.0], [2.0], [3.0]]]), horizon=2).tolist()
        [[[5.0]]]
    """
    windows = np.asarray(windows, "float64")
    if windows.shape[1] < 2:
        raise errors.expected("windows of at least 2 prices for the drift forecast", windows.shape[1], name="window")
    slope = (windows[:, -1, :] - windows[:, 0, :]) / (windows.shape[1] - 1)
    ahead = _steps(horizon, steps)[None, :, None]
    return windows[:, -1:, :] + ahead * slope[:, None, :]


def seasonal_naive(windows, horizon: int, period: int, steps: str = "last") -> np.ndarray:
    """The price one season before the target: step ``k`` copies ``t + k - period * ceil(k / period)``.

    Examples:
        >>> seasonal_naive(np.arange(1.0, 9.0).reshape(1, 8, 1), horizon=1, period=4).tolist()
        [[[5.0]]]
    """
    windows = np.asarray(windows, "float64")
    window = windows.shape[1]
    if not isinstance(period, int) or not 1 <= period <= window:
        raise errors.expected(f"a season length between 1 and the window ({window})", period, name="--season")
    ahead = _steps(horizon, steps)
    back = ahead - period * np.ceil(ahead / period).astype(int)
    return windows[:, window - 1 + back, :]


def previous_move(windows) -> np.ndarray:
    """Up (1) if the last price rose from the one before, else down (0).

    Examples:
        >>> previous_move(np.array([[[1.0], [2.0]], [[2.0], [1.0]]])).tolist()
        [1, 0]
    """
    windows = np.asarray(windows, "float64")
    return (windows[:, -1, 0] > windows[:, -2, 0]).astype("int64")


def _result(name: str, metrics: dict, predict, inputs) -> compare.ModelResult:
    milliseconds = training.time_predict(predict, inputs[:512])
    return compare.ModelResult(
        name=name,
        metrics=metrics,
        params=0,
        train_seconds=0.0,
        predict_ms_per_sample=round(milliseconds, 6),
        fast_kernel=None,
    )


def forecast_result(name: str, forecast, windows, actual) -> tuple[compare.ModelResult, np.ndarray]:
    """Score a naive forecast (a function of raw windows) on the test windows.

    Returns:
        ``(ModelResult, predictions)``.

    Examples:
        >>> w = np.array([[[1.0], [2.0]], [[2.0], [2.0]]]); y = np.array([[[3.0]], [[2.0]]])
        >>> result, _ = forecast_result("drift", lambda b: drift(b, 1), w, y)
        >>> result.metrics["mase"], result.params
        (0.0, 0)
    """
    predictions = forecast(windows)
    metrics = forecasting.forecast_metrics(actual, predictions, windows[:, -1:, :])
    return _result(name, metrics, forecast, windows), predictions


def movement_result(name: str, classify, windows, labels) -> tuple[compare.ModelResult, np.ndarray]:
    """Score a movement baseline (a function of raw windows returning 0/1).

    Returns:
        ``(ModelResult, predictions)``.
    """
    predictions = classify(windows)
    return _result(name, forecasting.movement_metrics(labels, predictions), classify, windows), predictions


def naive_forecasts(windows, actual, horizon: int, steps: str = "last", season: int | None = None):
    """Every naive forecast scored on the same test windows.

    Args:
        windows: raw test windows ``(samples, window, channels)``.
        actual: their target prices ``(samples, steps, channels)``.
        horizon: steps ahead.
        steps: ``"last"`` or ``"all"`` (see `persistence`).
        season: season length for `seasonal_naive`; `None` leaves it out.

    Returns:
        ``[(ModelResult, predictions)]``: persistence, drift and, with a
            season, seasonal-naive.

    Examples:
        >>> w = np.array([[[1.0], [2.0]], [[2.0], [3.0]]]); y = np.array([[[3.0]], [[4.0]]])
        >>> [(r.name, r.metrics["mase"]) for r, _ in naive_forecasts(w, y, 1)]
        [('persistence', 1.0), ('drift', 0.0)]
    """
    candidates = {
        "persistence": lambda batch: persistence(batch, horizon, steps),
        "drift": lambda batch: drift(batch, horizon, steps),
    }
    if season:
        candidates["seasonal_naive"] = lambda batch: seasonal_naive(batch, horizon, season, steps)
    return [forecast_result(name, forecast, windows, actual) for name, forecast in candidates.items()]


def movement_baselines(train_labels, windows, labels):
    """The majority class of the training labels and `previous_move`, scored on the test windows.

    Returns:
        ``[(ModelResult, predictions)]``, majority first.

    Examples:
        >>> w = np.array([[[1.0], [2.0]], [[2.0], [1.0]]])
        >>> [(r.name, r.metrics["accuracy"]) for r, _ in movement_baselines([1, 1, 0], w, [1, 0])]
        [('majority', 0.5), ('previous_move', 1.0)]
    """
    majority = int(np.bincount(np.asarray(train_labels, "int64"), minlength=2).argmax())
    return [
        movement_result("majority", lambda batch: np.full(len(batch), majority, "int64"), windows, labels),
        movement_result("previous_move", previous_move, windows, labels),
    ]
