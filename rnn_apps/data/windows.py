"""Leak-free training windows from price series: windows, scalers fitted on training rows, forecast samples.

Forecasting code goes wrong in a few well-known ways: a scaler fitted on the
whole series (so the training rows "know" the test period's level and
spread), windows cut before the split (so a training window or target reaches
into the test period), and no random-walk baseline. This module keeps the
path from a split price matrix to training windows in one place, in an order
that rules those out:

1. `rnn_apps.data.price_tables.load_prices` reads a table of prices and checks it;
2. `rnn_apps.data.time_splits` cuts the rows into train, validation and test
   parts in time order, with ``gap`` rows left out between parts;
3. `window_origins` builds the windows of each part from that part alone:
   every target of a sample lies in its part, and its inputs lie in the part
   (``history="part"``) or in the rows before the forecast origin
   (``history="past"``: rows known at forecast time, never a later part);
4. `fit_scaler` fits the scalers on training rows only;
5. `prepare_forecast` (here) and `rnn_apps.data.movement.prepare_movement`
   do 3 and 4 for the two tasks and return raw price windows (what a saved
   model takes) plus the scaler statistics the model needs.

Examples:
    >>> prices = np.exp(np.cumsum(np.full((40, 1), 0.01), axis=0))
    >>> split = time_splits.chronological_split(40, validation_fraction=0.2, test_fraction=0.2, gap=1)
    >>> split.train, split.validation, split.test
    (range(0, 22), range(23, 31), range(32, 40))
    >>> data = prepare_forecast(prices, split, window=5, horizon=1)
    >>> data.train.inputs.shape, data.train.targets.shape
    ((17, 5, 1), (17, 1, 1))
    >>> int(data.train.target_rows.max()) < split.validation.start
    True
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn import preprocessing

from rnn_apps import errors
from rnn_apps.data import time_splits

HISTORY = ("part", "past")
TARGETS = ("log_return", "price")
STEPS = ("last", "all")


def window_origins(part: range, window: int, horizon: int, history: str = "past", steps: str = "last") -> np.ndarray:
    """Forecast origins (row of the last input) of the samples of one part.

    A sample with origin ``t`` reads rows ``t - window + 1 .. t`` and
    predicts row ``t + horizon`` (``steps="last"``) or rows
    ``t + 1 .. t + horizon`` (``steps="all"``). Every target row lies in
    ``part``. With ``history="part"`` every input row does too; with
    ``"past"`` inputs may come from any earlier row (known at the forecast
    origin), never from a later one.

    Examples:
        >>> window_origins(range(10, 20), window=3, horizon=2, history="part").tolist()
        [12, 13, 14, 15, 16, 17]
        >>> window_origins(range(10, 20), window=3, horizon=2, history="past").tolist()
        [8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    """
    errors.check_choice(history, HISTORY, "history")
    errors.check_choice(steps, STEPS, "steps")
    for name, value in (("window", window), ("horizon", horizon)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise errors.expected("a positive integer", value, name=name)
    first_target = 1 if steps == "all" else horizon
    if history == "part":
        low = part.start + window - 1
    else:
        low = max(window - 1, part.start - first_target)
    high = part.stop - 1 - horizon
    return np.arange(low, high + 1) if high >= low else np.zeros(0, dtype="int64")


def gather(values: np.ndarray, origins: np.ndarray, offsets) -> np.ndarray:
    """``values[origin + offset]`` for every origin and offset: ``(samples, offsets, ...)``."""
    rows = np.asarray(origins)[:, None] + np.asarray(list(offsets))[None, :]
    return values[rows]


def fit_scaler(values: np.ndarray, rows) -> preprocessing.StandardScaler:
    """Fit a `StandardScaler` on the given (training) rows of ``values`` only.

    NaN entries (a series not yet started) are ignored by the fit.

    Examples:
        >>> scaler = fit_scaler(np.arange(10.0)[:, None], range(0, 4))
        >>> float(scaler.mean_[0])
        1.5
    """
    rows = np.asarray(list(rows) if isinstance(rows, range) else rows)
    subset = np.asarray(values, dtype="float64")[rows]
    return preprocessing.StandardScaler().fit(subset.reshape(len(subset), -1))


def log_returns(prices: np.ndarray) -> np.ndarray:
    """One-step log-returns; row 0 is NaN (no earlier price).

    Examples:
        >>> log_returns(np.array([[1.0], [np.e]])).round(3).tolist()
        [[nan], [1.0]]
    """
    prices = np.asarray(prices, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(prices)
    returns = np.full_like(logs, np.nan)
    returns[1:] = logs[1:] - logs[:-1]
    return returns


@dataclasses.dataclass
class Windows:
    """Samples of one part.

    Attributes:
        inputs: raw price windows ``(samples, window, channels)``.
        targets: raw target prices ``(samples, steps, channels)``
            (forecast) or int labels ``(samples,)`` (movement).
        origins: row of each sample's last input.
        target_rows: row of each sample's (last) target.
        series: index of the series each sample comes from (pooled data).
        features: raw extra inputs (e.g. volume) on the same rows as
            ``inputs``, ``(samples, window, features)``, or `None`.
    """

    inputs: np.ndarray
    targets: np.ndarray
    origins: np.ndarray
    target_rows: np.ndarray
    series: np.ndarray
    features: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.inputs)


@dataclasses.dataclass
class Scaler:
    """Mean and variance of a fitted scaler, in the shape a Keras layer takes."""

    mean: np.ndarray
    variance: np.ndarray

    @classmethod
    def from_sklearn(cls, scaler: preprocessing.StandardScaler, shape) -> Scaler:
        return cls(
            np.asarray(scaler.mean_, "float64").reshape(shape), np.asarray(scaler.var_, "float64").reshape(shape)
        )


@dataclasses.dataclass
class ForecastData:
    """Everything a forecaster trains and is tested on.

    Attributes:
        train: the training `Windows` of raw prices.
        validation: the validation `Windows`.
        test: the test `Windows`.
        input_scaler: statistics of the model inputs (log-returns or
            prices), per channel, fitted on training rows only.
        target_scaler: statistics of the training targets (cumulative
            log-return or price per output step and channel).
        feature_scaler: statistics of ``log1p`` of the extra features on
            training rows, or `None` without features.
        target: ``"log_return"`` or ``"price"``.
        window: input prices per sample, as `prepare_forecast` took it.
        horizon: steps ahead of the last input, as `prepare_forecast` took it.
        steps: ``"last"`` or ``"all"``, as `prepare_forecast` took it.
        history: ``"part"`` or ``"past"``, as `prepare_forecast` took it.
    """

    train: Windows
    validation: Windows
    test: Windows
    input_scaler: Scaler
    target_scaler: Scaler
    target: str
    window: int
    horizon: int
    steps: str
    history: str
    feature_scaler: Scaler | None = None

    def parts(self) -> dict[str, Windows]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def sizes(self) -> dict[str, int]:
        return {name: len(part) for name, part in self.parts().items()}

    def scaled_targets(self, part: Windows) -> np.ndarray:
        """Targets as the model learns them: transformed, then standardized."""
        raw = target_transform(part.inputs, part.targets, self.target)
        return ((raw - self.target_scaler.mean) / np.sqrt(np.maximum(self.target_scaler.variance, 1e-12))).astype(
            "float32"
        )


def target_transform(inputs: np.ndarray, targets: np.ndarray, target: str) -> np.ndarray:
    """Price targets as the model predicts them (before standardizing).

    ``log_return``: cumulative log-return from the last input price to each
    target price; ``price``: the price itself.
    """
    if target == "price":
        return targets.astype("float64")
    return np.log(targets) - np.log(inputs[:, -1:, :])


def part_windows(values, part, window, horizon, history, steps, features=None) -> Windows:
    """`Windows` of one part of one series (or channel group); samples touching NaN are skipped."""
    origins = window_origins(part, window, horizon, history, steps)
    offsets = range(1, horizon + 1) if steps == "all" else [horizon]
    inputs = gather(values, origins, range(-window + 1, 1))
    targets = gather(values, origins, offsets)
    complete = ~(np.isnan(inputs).any(axis=(1, 2)) | np.isnan(targets).any(axis=(1, 2)))
    extra = None
    if features is not None:
        extra = gather(features, origins, range(-window + 1, 1))
        complete &= ~np.isnan(extra).any(axis=(1, 2))
        extra = extra[complete]
    origins = origins[complete]
    return Windows(
        inputs[complete],
        targets[complete],
        origins,
        origins + horizon,
        np.zeros(len(origins), dtype="int64"),
        extra,
    )


def concatenate(parts: list[Windows]) -> Windows:
    """One `Windows` holding the samples of ``parts`` in order (features only if every part has them)."""

    def join(name):
        pieces = [getattr(part, name) for part in parts]
        return None if any(piece is None for piece in pieces) else np.concatenate(pieces)

    return Windows(*(join(field.name) for field in dataclasses.fields(Windows)))


def stacked_rows(part: range, num_series: int, num_rows: int) -> np.ndarray:
    """Rows of ``part`` in every series when the series are stacked end to end."""
    return np.concatenate([np.arange(part.start, part.stop) + i * num_rows for i in range(num_series)])


def check_sizes(parts: dict[str, Windows], window: int, horizon: int, num_rows: int):
    """Raise `InputError` if any part has no samples."""
    empty = [name for name, part in parts.items() if len(part) == 0]
    if empty:
        raise errors.expected(
            f"a series long enough for window {window} + horizon {horizon} in every part",
            f"{num_rows} rows, leaving no samples in {', '.join(empty)} (shorten --window, or use "
            "--history past, or give the parts more rows)",
        )


def prepare_forecast(
    prices,
    split: time_splits.Split,
    window: int,
    horizon: int,
    target: str = "log_return",
    steps: str = "last",
    history: str = "past",
    pooled: bool = False,
    features=None,
) -> ForecastData:
    """Leak-free forecasting samples and scaler statistics from a price matrix.

    Args:
        prices: ``(rows, series)`` prices in time order (NaN where a series
            has no price; windows touching NaN are skipped).
        split: from `chronological_split`, `dated_split` or
            `walk_forward_splits`.
        window: input prices per sample (log-return models see
            ``window - 1`` returns).
        horizon: steps ahead of the last input.
        target: ``"log_return"`` (predict the cumulative log-return, turned
            back into a price by the model) or ``"price"``.
        steps: ``"last"`` (predict step ``horizon`` only) or ``"all"``
            (steps 1 to ``horizon``).
        history: ``"part"`` or ``"past"``; see `window_origins`.
        pooled: treat each series as its own single-channel sample stream
            (one model for all series) instead of one multi-channel series.
        features: optional ``(rows, series)`` extra inputs on the same rows
            (e.g. volume; the model reads ``log1p`` of them, standardized).

    Returns:
        `ForecastData`; the scalers saw training rows only.
    """
    errors.check_choice(target, TARGETS, "target")
    errors.check_positive(window, "window")
    errors.check_positive(horizon, "horizon")
    if target == "log_return" and window < 2:
        raise errors.expected("at least 2 prices per window for log-returns", window, name="window")
    values = np.asarray(prices, dtype="float64")
    if values.ndim == 1:
        values = values[:, None]
    columns = [values[:, [i]] for i in range(values.shape[1])] if pooled else [values]
    extras = [None] * len(columns)
    if features is not None:
        features = np.asarray(features, dtype="float64").reshape(len(values), -1)
        if np.nanmin(features, initial=0.0) < 0:
            raise errors.expected("non-negative features such as volume", float(np.nanmin(features)))
        extras = [features[:, [i]] for i in range(features.shape[1])] if pooled else [features]
    parts = {}
    for name, part in split.parts().items():
        pieces = []
        for index, (column, extra) in enumerate(zip(columns, extras)):
            piece = part_windows(column, part, window, horizon, history, steps, extra)
            piece.series[:] = index
            pieces.append(piece)
        parts[name] = concatenate(pieces)
    check_sizes(parts, window, horizon, len(values))
    channels = 1 if pooled else values.shape[1]
    stacked = np.concatenate(columns, axis=0) if pooled else values
    # Training rows of every series; in pooled mode the series are stacked, so
    # row r of series i sits at i * rows + r.
    train_rows = stacked_rows(split.train, len(columns), len(values))
    if target == "log_return":
        returns = np.concatenate([log_returns(c) for c in columns], axis=0) if pooled else log_returns(values)
        input_scaler = fit_scaler(returns, train_rows)
    else:
        input_scaler = fit_scaler(stacked, train_rows)
    feature_scaler = None
    if features is not None:
        stacked_features = np.log1p(np.concatenate(extras, axis=0) if pooled else features)
        feature_scaler = Scaler.from_sklearn(fit_scaler(stacked_features, train_rows), (stacked_features.shape[1],))
    train = parts["train"]
    train_targets = target_transform(train.inputs, train.targets, target)
    target_scaler = fit_scaler(train_targets, np.arange(len(train_targets)))
    return ForecastData(
        parts["train"],
        parts["validation"],
        parts["test"],
        Scaler.from_sklearn(input_scaler, (channels,)),
        Scaler.from_sklearn(target_scaler, train_targets.shape[1:]),
        target,
        window,
        horizon,
        steps,
        history,
        feature_scaler,
    )


def dataset(inputs, targets, batch_size: int, shuffle: bool = False, seed: int = 0):
    """A batched `tf.data.Dataset` of ``(inputs, targets)`` float32 arrays."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((np.asarray(inputs, "float32"), np.asarray(targets, "float32")))
    if shuffle:
        data = data.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)
