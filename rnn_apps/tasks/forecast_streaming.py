"""Stream prices through a saved price or movement model: a forecast after every new price.

A saved price model (`rnn_apps.tasks.forecasting.price_model`) reads a
window of ``W`` prices, turns it into ``W - 1`` standardized log-returns
(``log(price[t] / price[t-1])``: two prices per step), runs the core
forecaster, undoes the scaling and multiplies by the last price. The
log-return reads across time, so the whole model cannot run one step at a
time; `PriceStream` does its steps itself, with the saved model's own
layers:

- it keeps the previous price, and for each new price computes the
  log-return with `keras.ops.log` and scales it with the saved model's
  ``scale_inputs`` `keras.layers.Normalization` (its training statistics);
- the core runs one step through `rnn_apps.streaming.Stream`, carrying its
  recurrent state;
- the saved ``unscale_targets`` layer undoes the target scaling and the
  last price turns the predicted log-return back into a price.

After the ``W`` prices of a window the forecast equals the saved model's on
that window (the tests check 1e-5); after more, the stream has read more
history than the windowed model ever does, which is the point of a stream.
With ``--target price`` the first price is already a step; with log-returns
the first forecast comes with the second price. A movement model
(`rnn_apps.tasks.forecasting.movement_model`) streams the same way and
gives the probability of an up move.

Examples:
    >>> from rnn_apps.layers import encoders
    >>> core = forecasting.forecaster(encoders.EncoderConfig("gru", units=4), 1, output_steps=1, channels=1)
    >>> model = forecasting.price_model(core, 3, 1, "log_return", [0.0], [1.0], [[0.0]], [[1.0]])
    >>> stream = PriceStream(model)
    >>> stream.step(np.array([100.0])) is None  # one price, no return yet
    True
    >>> stream.step(np.array([101.0])).shape
    (1, 1)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import keras
import numpy as np

from rnn_apps import errors, streaming
from rnn_apps.tasks import forecasting


class PriceStream:
    """A saved price (or movement) model fed one price at a time.

    Args:
        model: a loaded model from `rnn_apps.tasks.forecasting.price_model`
            or `rnn_apps.tasks.forecasting.movement_model`.
        model_path: its file, for messages.

    Attributes:
        channels: series per step (1, or the series of a joint model).
        target: ``"log_return"`` or ``"price"``: what the core reads.
        task: ``"forecast"`` or ``"movement"``.
        steps: prices read since the last `reset`.

    Raises:
        rnn_apps.errors.InputError: a model that takes volume too, a model
            not saved by the stocks recipe, or a core that cannot run one
            step at a time (the causal CNN, a bidirectional layer).
    """

    def __init__(self, model: keras.Model, model_path: str | os.PathLike = ""):
        if len(model.inputs) > 1:
            raise errors.expected(
                "a model that reads prices only (a --volume model needs the volume of every step too)",
                str(model_path or model.name),
            )
        errors.check_model_inputs(model, model_path, ranks=(3,), dtype="float")
        names = {layer.name for layer in model.layers}
        cores = [layer for layer in model.layers if isinstance(layer, keras.Model)]
        if "scale_inputs" not in names or len(cores) != 1:
            raise errors.expected("a price or movement model saved by the stocks recipe", str(model_path or model.name))
        self.scale = model.get_layer("scale_inputs")
        self.unscale = model.get_layer("unscale_targets") if "unscale_targets" in names else None
        self.task = "forecast" if self.unscale is not None else "movement"
        # The saved model takes the log of its prices only when it reads log-returns.
        self.target = "log_return" if any(type(op).__name__ == "Log" for op in model.operations) else "price"
        self.channels = int(model.input_shape[-1])
        try:
            self.stream = streaming.Stream(cores[0])
        except errors.InputError as error:
            raise errors.InputError(
                f"{error}. rnn-apps stream stocks runs the recurrent models (simple_rnn, lstm, gru) without "
                "--bidirectional: each new price is one more step of their state"
            ) from None
        self.reset()

    def reset(self) -> None:
        """Forget every price read: the next price starts a new series."""
        self.stream.reset()
        self.previous = None
        self.steps = 0

    def step(self, prices) -> np.ndarray | None:
        """Read one price per series; return the forecast, or `None` before the first return.

        Args:
            prices: ``(channels,)`` prices of the new step.

        Returns:
            Prices ``(steps, channels)`` (``(steps, channels, quantiles)``
                for a quantile model), or ``(1,)``, the probability of an up
                move, for a movement model; `None` for the first price of a
                log-return model.
        """
        prices = np.asarray(prices, "float32").reshape(1, 1, self.channels)
        if self.target == "log_return" and np.any(prices <= 0):
            raise errors.expected("positive prices (the model reads log-returns)", float(prices[prices <= 0][0]))
        previous, self.previous = self.previous, prices
        self.steps += 1
        if self.target == "log_return":
            if previous is None:
                return None
            x = keras.ops.log(prices) - keras.ops.log(previous)
        else:
            x = prices
        scaled = self.stream.step(keras.ops.convert_to_numpy(self.scale(x)))
        if self.unscale is None:
            return np.asarray(scaled, "float32")[0]
        outputs = self.unscale(keras.ops.convert_to_tensor(scaled))
        if self.target == "log_return":
            last = prices if len(outputs.shape) == 3 else prices[..., None]
            outputs = keras.ops.multiply(last, keras.ops.exp(outputs))
        return keras.ops.convert_to_numpy(outputs)[0]


def forecast_names(shape, horizon: int = 1, series=None, quantiles=()) -> list[str]:
    """Column names of a flattened forecast of ``shape`` ``(steps, channels[, quantiles])``.

    One value is ``forecast``; otherwise the name says the step ahead
    (``t+h``), the series and the quantile level of each value.

    Examples:
        >>> forecast_names((1, 1))
        ['forecast']
        >>> forecast_names((2, 1), horizon=2)
        ['forecast_t+1', 'forecast_t+2']
        >>> forecast_names((1, 2, 2), horizon=3, series=["A", "B"], quantiles=(0.1, 0.9))
        ['forecast_t+3_A_q0.1', 'forecast_t+3_A_q0.9', 'forecast_t+3_B_q0.1', 'forecast_t+3_B_q0.9']
    """
    steps, channels = shape[0], shape[1]
    levels = (list(quantiles) or list(range(1, shape[2] + 1))) if len(shape) == 3 else [None]
    names = series_names(channels, series)
    ahead = [horizon] if steps == 1 else list(range(1, steps + 1))
    columns = []
    for h in ahead:
        for name in names:
            for level in levels:
                parts = [f"t+{h}" if steps > 1 or horizon > 1 else None, name if channels > 1 else None]
                parts.append(None if level is None else f"q{level:g}")
                columns.append("_".join(["forecast", *(part for part in parts if part)]))
    return columns


def series_names(channels: int, series=None) -> list[str]:
    """The names of a model's series: those of its card, or their numbers from 1.

    Examples:
        >>> series_names(2), series_names(1, ["AAPL"])
        (['1', '2'], ['AAPL'])
    """
    return (
        [str(name) for name in series] if series and len(series) == channels else [str(c + 1) for c in range(channels)]
    )


def price_steps(value: str, channels: int, series=None) -> np.ndarray:
    """The prices one INPUT of ``rnn-apps stream stocks`` holds, one row per step ``(steps, channels)``.

    An INPUT is a price (``101.2``; ``101.2:55.0`` for a joint model's
    series), several in order (``101.2,102.0``), or the path of a price
    file that `rnn_apps.data.price_tables.read` reads (a Yahoo-style CSV:
    ``Adj Close``, else ``Close``; a long or wide table; ``PATH#NAME``
    chooses series ``NAME``). A joint model takes the series it was trained
    on, by name; rows where a series has no price are left out.

    Raises:
        rnn_apps.errors.InputError: a value that is neither prices nor a
            readable price file, or a file with another number of series
            than the model's.

    Examples:
        >>> price_steps("100,101.5", channels=1).tolist()
        [[100.0], [101.5]]
    """
    from rnn_apps.data import price_tables

    path, _, names = value.partition("#")
    if not os.path.isfile(path):
        if any(character.isalpha() and character not in "eE" for character in value) or "/" in value:
            raise errors.expected("prices such as 101.2 (or the path of an existing price file)", value)
        return forecasting.parse_window(value, channels=channels)
    symbols = names or (",".join(series) if series and channels > 1 else None)
    table = price_tables.read(path, symbols=symbols)
    if table.prices.shape[1] != channels:
        raise errors.expected(
            f"{channels} series in the file (the model's; choose them with {path}#NAME[,NAME])",
            f"{table.prices.shape[1]}: {table.series_names}",
        )
    return table.prices.dropna().to_numpy("float32")


def stream_rows(model: keras.Model, inputs: Iterable[str], card: dict | None = None, model_path="") -> Iterator[dict]:
    """One row per price read, with the forecast made after it (the command ``rnn-apps stream stocks``).

    Every input continues the same series (a file of past prices, then
    standard input, reads as one history).

    Args:
        model: a loaded price or movement model.
        inputs: INPUT values, read lazily (see `price_steps`).
        card: the ``.json`` saved beside the model (series names, horizon,
            quantile levels); empty when there is none.
        model_path: the model's file, for messages.

    Yields:
        ``step`` (prices read), ``price`` (``price_NAME`` per series), then
            ``forecast`` (or one column per step ahead, series and quantile:
            `forecast_names`), rounded to 6 decimals; for a movement model
            ``label`` and its ``probability``. Before the first return the
            forecast columns are empty strings.
    """
    card = card or {}
    stream = PriceStream(model, model_path)
    series = card.get("series")
    price_names = (
        ["price"] if stream.channels == 1 else [f"price_{name}" for name in series_names(stream.channels, series)]
    )
    if stream.task == "movement":
        columns = ["label", "probability"]
    else:
        shape = tuple(model.output_shape[1:])
        columns = forecast_names(shape, card.get("horizon") or 1, series, tuple(card.get("quantiles") or ()))
    for value in inputs:
        for prices in price_steps(value, stream.channels, series):
            output = stream.step(prices)
            row = {"step": stream.steps}
            # str() of a float32 is its shortest form: the price as it was given, not 99.619598 for 99.6196.
            row |= {name: float(str(price)) for name, price in zip(price_names, prices)}
            if output is None:
                row |= {name: "" for name in columns}
            elif stream.task == "movement":
                up = float(output.reshape(-1)[0])
                row |= {"label": "up" if up >= 0.5 else "down", "probability": round(max(up, 1 - up), 4)}
            else:
                row |= {name: round(float(v), 6) for name, v in zip(columns, output.reshape(-1))}
            yield row
