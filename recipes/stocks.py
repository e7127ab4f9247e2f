"""
Title: Stock prediction: recurrent networks against a causal CNN and the random walk
Description: Forecast prices (or classify up/down moves) from raw price windows, leak-free, beside naive baselines.
Data: bundled vega_datasets monthly stocks; Yahoo-style, long, wide or headerless CSVs; a directory of CSVs.
Run: python -m recipes.stocks [--quick] [--task forecast|movement] [--data PATH] [--window 24] [--horizon 1]
"""

"""
## Introduction

"Can a neural network predict the stock market?" is the question most often
answered wrongly, and usually not because of the network. The classic
mistakes are in the data path: a scaler fitted on the whole series (so the
training rows know the test period's level and spread), windows cut before
the split (so a training target lies in the test period), and no random-walk
baseline (so a model that copies yesterday's price looks brilliant). This
recipe takes the opposite road:

- the split is chronological (train, then validation, then test) with a gap
  of at least the horizon between the parts, and every sample belongs to the
  part of its target;
- scalers are fitted on training rows only, then frozen into the model;
- the recurrent models (SimpleRNN, LSTM, GRU) are compared with a causal
  dilated CNN (TCN style: no output sees a later input) and with naive
  forecasts: the random walk (persistence), drift, and seasonal-naive;
- the headline metric is MASE against the random walk: the model's mean
  absolute error divided by the random walk's on the same test targets.
  Only a MASE below 1 is skill; on liquid prices it is rare.

This module forecasts the price `--horizon` steps ahead (every step up to
it with `--steps all`, quantiles with `--quantiles 0.1,0.5,0.9`);
`--task movement` classifies the next move as up or down on the same data
path (`recipes/stocks_movement.py`). Every saved model takes a raw price
window, `(1, window, 1)`, and returns prices; the scaling is inside it.
"""

"""
## Setup
"""

import math
import pathlib

from rnn_apps.harness import runtime

runtime.configure()  # before Keras loads: TensorFlow starts quietly, plots need no display

import keras
import numpy as np

from rnn_apps import errors, io, metrics, paths
from rnn_apps.data import price_tables, splits, time_splits, windows
from rnn_apps.harness import cli, plots, selection
from rnn_apps.harness import recipe as harness
from rnn_apps.layers import convolutional
from rnn_apps.tasks import forecast_baselines, forecast_streaming, forecasting

SAMPLE = "stocks/vega_stocks.csv"


"""
## Settings

`StocksConfig`, in `recipes/configs/stocks.py`, declares every setting of the recipe; each
field is one command-line flag. It lives in a module of its own that imports no Keras, so
a bad flag is refused before TensorFlow starts.
"""

from recipes.configs.stocks import FORECAST_MONITORS, StocksConfig

"""
## Data

The bundled sample is the `stocks` table of the MIT-licensed `vega_datasets`
package: monthly prices of AAPL, AMZN, GOOG, IBM and MSFT, 2000-2010, as a
long `symbol,date,price` table (see `data/README.md`). It is small on
purpose: enough to run everything offline in seconds, too short to prove
anything.

`--data` also takes a Yahoo-style CSV (adjusted close), a long or wide
table, a directory of CSVs, a headerless matrix (one series per column) or
`yfinance:TICKER` (optional `yfinance` package); bad input stops with one
message naming what was expected (`rnn_apps.data.price_tables`). The rows are
cut in time order, by `--split-dates` or into `--walk-forward` folds
(`rnn_apps.data.time_splits`), and `rnn_apps.data.windows.prepare_forecast`
builds each part's samples from that part alone, with scalers fitted on its
training rows.
"""


def read_table(cfg: StocksConfig) -> price_tables.PriceTable:
    """The prices of ``--data``; what was fixed on the way in is printed as notices."""
    splits.refuse_given_parts(cfg, "its parts are cut from --data in time order; choose them with --split-dates")
    source = paths.bundled(SAMPLE) if cfg.data == "sample" else cfg.data
    table = price_tables.read(
        source, price_column=cfg.price_column, symbols=cfg.symbols, fill_gaps=cfg.fill_gaps, encoding=cfg.encoding
    )
    for notice in table.notices:
        print(f"notice: {notice}")
    return table


def load_prices(cfg: StocksConfig) -> forecasting.PriceFolds:
    """Read, check and split the prices; leak-free forecast samples of every split."""
    quantiles = forecasting.parse_quantiles(cfg.quantiles)
    table = read_table(cfg)
    prices = table.prices.dropna() if cfg.series == "joint" else table.prices
    if len(prices) < len(table.prices):
        print(f"notice: kept the {len(prices)} rows where every series has a price (of {len(table.prices)})")
    values, volume = prices.to_numpy(), price_tables.volume_of(table, prices) if cfg.volume else None
    if cfg.target == "log_return":
        price_tables.check_positive(values, table.series_names, prices.index)
    if cfg.season and cfg.season > cfg.window:
        raise errors.expected(f"a season no longer than the window ({cfg.window})", cfg.season, name="--season")
    splits = time_splits.from_settings(prices.index, cfg.horizon, cfg)
    pooled = cfg.series == "pooled"
    folds = [
        windows.prepare_forecast(values, s, cfg.window, cfg.horizon, cfg.target, cfg.steps, cfg.history, pooled, volume)
        for s in splits
    ]
    return forecasting.PriceFolds(table, prices.index, splits, folds, quantiles)


"""
## Models

Every model reads standardized log-returns (the `window - 1` changes
between a window's prices) and predicts the standardized cumulative
log-return to the target; `rnn_apps.tasks.forecasting.price_model` wraps it
with that preprocessing and its inverse, so the saved model maps prices to
prices. (`--target price` reads and predicts scaled prices instead, which
breaks once test prices leave the training range; `--volume` adds
standardized `log(1 + volume)` channels.) The recurrent encoder reads the
window oldest first, its last state feeds the head; `--bidirectional` stays
causal, since the window ends at the forecast origin. The CNN twin stacks
causal dilated convolutions (dilation 1, 2, 4, ...) until its receptive field
covers the window, and its last step summarizes it. This is the whole
network in plain Keras; `rnn_apps.tasks.forecasting.forecaster` builds the
same from an `EncoderConfig` (a test checks that they agree).
"""

RECURRENT_LAYERS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def encode(name: str, cfg: StocksConfig, x, input_steps: int):
    """The encoder ``--model name`` names: stacked recurrent layers, or the causal CNN."""
    if name == "cnn":
        for index in range(1, convolutional.layers_to_cover("causal", cfg.kernel_size, input_steps) + 1):
            x = keras.layers.Conv1D(
                cfg.filters,
                cfg.kernel_size,
                padding="causal",
                dilation_rate=2 ** (index - 1),
                activation="relu",
                name=f"cnn_conv_{index}",
            )(x)
            if cfg.dropout:
                x = keras.layers.Dropout(cfg.dropout, name=f"cnn_dropout_{index}")(x)
        return x[:, -1, :]  # the last step has seen the whole window and nothing after it
    for index in range(1, cfg.layers + 1):
        layer = RECURRENT_LAYERS[name](
            cfg.units, dropout=cfg.dropout, return_sequences=index < cfg.layers, name=f"encoder_{name}_{index}"
        )
        if cfg.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"encoder_bidirectional_{index}")
        x = layer(x)
    return x


def build_forecaster(name: str, cfg: StocksConfig, input_steps: int, feature_dim: int, output_shape, quantiles=()):
    """Scaled windows ``(time, feature_dim)`` -> scaled forecasts ``output_shape`` (steps, channels[, quantiles])."""
    inputs = keras.Input(shape=(None, feature_dim), name="scaled_inputs")
    x = encode(name, cfg, inputs, input_steps)
    x = keras.layers.Dense(math.prod(output_shape), name="head_output")(x)
    outputs = keras.layers.Reshape(output_shape, name="head_reshape")(x)
    model = keras.Model(inputs, outputs, name=name)
    loss = forecasting.PinballLoss(quantiles) if quantiles else "mse"
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=loss)
    return model


"""
## Train and compare

Each model trains with the same seed, windows and batches. After every
epoch its validation forecasts are turned back into prices and scored like
the test ones; early stopping, the epoch kept and `--tune` follow that
validation MASE (`--monitor val_loss` follows the loss on standardized
returns instead), so the epoch kept is the one that forecasts prices best
against the random walk. The training inputs are made by the saved model's
own preprocessing, so what is trained is exactly what is saved, and the test metrics are those of the
saved price model on raw test windows. With `--walk-forward K` every model
and baseline runs on each of the K folds; the report holds the means, and
each fold's metrics under `walk_forward`.
"""


class StocksRecipe(harness.Recipe):
    """Price forecasts; ``--task movement`` runs `recipes.stocks_movement`."""

    name = "stocks"
    config_class = StocksConfig
    primary_metric = "mase"
    curve_metric = "loss"
    naive_baseline = "persistence"

    def load_data(self, cfg) -> forecasting.PriceFolds:
        if cfg.monitor not in FORECAST_MONITORS:
            wanted = f"{', '.join(FORECAST_MONITORS)} for forecasts (the others score up/down moves, --task movement)"
            raise errors.expected(wanted, cfg.monitor, name="--monitor")
        return load_prices(cfg)

    def monitor(self, name, cfg, data=None) -> str:
        return "val_mase" if cfg.monitor == "auto" else cfg.monitor

    def scores(self, name, cfg, data: forecasting.PriceFolds) -> list:
        if self.monitor(name, cfg) == "val_loss":
            return []

        # After every epoch, the validation windows' forecasts turned back into prices, scored as the test ones
        # are. The price model is made once per model trained: it shares the trained model's weights.
        wrapped = {}

        def score(model) -> dict:
            if wrapped.get("model") is not model:
                wrapped.update(model=model, priced=self.priced(model, data))
            found, _ = forecasting.evaluate_price_model(wrapped["priced"], data.samples.validation, data.quantiles)
            return {key: found[key] for key in ("mase", "mae", "rmse")}

        return [selection.ValidationScore(score)]

    def priced(self, model, data: forecasting.PriceFolds) -> keras.Model:
        """``model`` (on standardized returns or prices) wrapped to take raw price windows and give prices."""
        d = data.samples
        scale = forecasting.scaling(d)
        target = dict(target_mean=d.target_scaler.mean, target_variance=d.target_scaler.variance)
        return forecasting.price_model(
            model, d.window, d.train.inputs.shape[2], d.target, **target, **scale, quantiles=data.quantiles
        )

    def dataset_name(self, data: forecasting.PriceFolds) -> str:
        return data.table.name

    def describe(self, data: forecasting.PriceFolds) -> str:
        return f"{data.table.name}, series {data.table.series_names}, samples per part {data.samples.sizes()}"

    def build_model(self, name, cfg, data: forecasting.PriceFolds):
        d = data.samples
        steps = d.window - 1 if d.target == "log_return" else d.window
        features = d.train.inputs.shape[2] + forecasting.scaling(d).get("feature_dim", 0)
        shape = d.train.targets.shape[1:] + ((len(data.quantiles),) if data.quantiles else ())
        return build_forecaster(harness.model_of(name), cfg, steps, features, shape, data.quantiles)

    def datasets(self, name, cfg, data: forecasting.PriceFolds):
        d = data.samples
        train, validation = data.model_inputs(d.train.inputs.shape[2], d.target)
        return (
            windows.dataset(train, d.scaled_targets(d.train), cfg.batch_size, shuffle=True, seed=cfg.seed),
            windows.dataset(validation, d.scaled_targets(d.validation), cfg.batch_size),
        )

    def export(self, name, model, cfg, data: forecasting.PriceFolds, path):
        saved = self.priced(model, data)
        return saved, self.save(saved, path.with_name(f"{harness.model_of(name)}.keras"), cfg, data)

    def save(self, model, path, cfg, data: forecasting.PriceFolds) -> pathlib.Path:
        """Save ``model`` with its card beside it: what its input and output mean, for ``predict``."""
        series = data.table.series_names if cfg.series == "joint" else None
        card = forecasting.model_card(data.samples, data.quantiles, series, cfg.volume, dead_zone=(cfg.down, cfg.up))
        io.write_json(path.with_suffix(".json"), card)
        return io.save_model(model, path)

    def evaluate(self, name, model, cfg, data: forecasting.PriceFolds) -> harness.Evaluation:
        test = data.samples.test
        scores, point = forecasting.evaluate_price_model(model, test, data.quantiles)
        predict_batch, timing_inputs = forecasting.timing_call(model, test)
        return harness.Evaluation(scores, predict_batch, timing_inputs, extras={"point": point})

    def baselines(self, cfg, data: forecasting.PriceFolds):
        d = data.samples
        naive = forecast_baselines.naive_forecasts(d.test.inputs, d.test.targets, d.horizon, d.steps, cfg.season)
        return [(result, {"point": point}) for result, point in naive]

    def report_fields(self, cfg, data: forecasting.PriceFolds) -> dict:
        return dict(sizes=data.samples.sizes(), series=data.table.series_names, notices=data.table.notices)

    def settings(self, cfg, data: forecasting.PriceFolds) -> dict:
        return cfg.settings() | {"quantiles": list(data.quantiles)}

    def plot(self, cfg, data: forecasting.PriceFolds, trained) -> None:
        points = {item.result.name: np.asarray(item.extras["point"]) for item in trained}
        d = data.samples
        panels = forecasting.forecast_panels(data.index, d.test, d.horizon, points, data.table.series_names)
        plots.forecasts(panels, f"{cfg.output_dir}/forecast.png")

    def run(self, cfg) -> dict:
        """The harness's loop, once per walk-forward fold, then the mean over folds of each model."""
        if cfg.task == "movement":
            from recipes import stocks_movement

            return stocks_movement.RECIPE.run(cfg)
        data = self.load_data(cfg)
        print(f"data: {self.describe(data)}")
        return harness.run_folds(
            self, cfg, data, len(data.folds), forecasting.PriceFolds.at, metrics.mean_metrics, "walk_forward"
        )

    def predict(self, model_path, inputs) -> list[dict]:
        """Forecast (or classify the next move) from raw price windows: ``"p1,p2,..."`` strings or arrays."""
        inputs = list(inputs)
        if not inputs:  # before the model loads
            raise errors.expected("at least one price window", "none")
        return self.predictor(model_path)(inputs)

    def predictor(self, model_path):
        """Load a saved model once; the returned function forecasts a batch of windows as `predict` does."""
        model_path = pathlib.Path(model_path)
        sidecar = model_path.with_suffix(".json")
        card = errors.read_json(sidecar) if sidecar.exists() else {}
        model = harness.load_saved_model(model_path)

        def forecast(inputs) -> list[dict]:
            inputs = list(inputs)
            if not inputs:
                raise errors.expected("at least one price window", "none")
            return forecasting.predict_windows(model, inputs, card, model_path)

        return forecast

    def stream(self, model_path, inputs):
        """A forecast (or up/down label) after every new price: ``step``, ``price``, ``forecast``, ..."""
        model_path = pathlib.Path(model_path)
        sidecar = model_path.with_suffix(".json")
        card = errors.read_json(sidecar) if sidecar.exists() else {}
        model = harness.load_saved_model(model_path)
        yield from forecast_streaming.stream_rows(model, inputs, card, model_path)

    def examples(self) -> list[str]:
        prices = price_tables.load_prices(paths.bundled(SAMPLE)).prices
        windows_ = [prices[name].dropna().to_numpy()[-StocksConfig.window :] for name in prices.columns[:2]]
        return [",".join(f"{price:.2f}" for price in window) for window in windows_]


RECIPE = StocksRecipe()

"""
## Streaming: a forecast after every new price

A saved model reads a fixed window of prices; in production prices arrive
one at a time. `rnn-apps stream stocks` feeds them one at a time to the
recurrent core, carrying its state, and prints after each price the step,
the price and the forecast of the next one (`--format json` for JSON lines):

```
$ rnn-apps stream stocks --model runs/stocks/models/gru.keras 39.81 36.35 43.22 28.37 25.45 32.54 28.4 28.4
1	39.81
2	36.35	36.682724
3	43.22	44.165707
4	28.37	28.691788
5	25.45	25.529507
6	32.54	33.412971
7	28.4	28.89712
8	28.4	28.825731
$ printf '39.81\n36.35\n43.22\n28.37\n' | rnn-apps stream stocks --model runs/stocks/models/gru.keras --format json -
{"step": 1, "price": 39.81, "forecast": ""}
{"step": 2, "price": 36.35, "forecast": 36.682724}
{"step": 3, "price": 43.22, "forecast": 44.165707}
{"step": 4, "price": 28.37, "forecast": 28.691788}
```

The log-return preprocessing reads two prices at once, so the saved model
as a whole cannot run step by step; `rnn_apps.tasks.forecast_streaming`
does that part itself with the saved model's own layers: the log-return of
each new price against the previous one, scaled by the model's
`Normalization` statistics, one step of the core (`rnn_apps.streaming`),
the model's unscaling layer, and the last price times the exponential.
The first price has no return yet, so its line has an empty forecast.
After the `--window` prices of a window the forecast equals the saved
model's forecast on that window (a test checks every cell to 1e-5). After
more prices the two part: the saved model only ever sees the last window,
while the stream's state has read the whole history since it started,
which is what a stream is for (and a model trained on 24-price windows has
never been trained on longer histories: check its errors before trusting
them).

An INPUT is a price, a comma-separated run of prices, `-` (standard input,
one price per line, printed as each line arrives), or a price file read as
`--data` reads it (`Adj Close`, else `Close`; `FILE#SYMBOL` chooses one
series of a long or wide table), so a history file followed by `-` warms
the state up and then follows live prices. A joint model takes one price
per series, `101.2:55.0`, and prints one forecast column per series; a
`--steps all` or `--quantiles` model prints one column per step and level.
Refused with exit status 2 and the reason: `--volume` models (each step
would need its volume too), the causal CNN (it reads a window of steps at
once) and `--bidirectional` models (they read the window backwards too).
"""

"""
## Results and conclusion

`rnn-apps predict stocks --model runs/stocks/models/lstm.keras "100,101,..."`
forecasts from raw windows (series within a step joined by colons for a
joint model). `comparison.md` ranks the models by MASE, `forecast.png` draws
the test period beside the random walk. On the bundled monthly sample the
models end a little below a MASE of 1; on real daily prices the honest
result is that no model beats the random walk by much (MASE near 1,
directional accuracy near a coin flip). `bench/results/stocks-*.md` has the
full-data numbers beside the published ones, with their commands.
"""


def main(argv=None) -> dict:
    """Run the recipe from the command line (``argv`` as in `sys.argv[1:]`)."""
    return cli.run_recipe(RECIPE, argv)


if __name__ == "__main__":
    main()
