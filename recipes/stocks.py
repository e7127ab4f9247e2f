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

Two tasks share the pipeline. `--task forecast` predicts the price
`--horizon` steps ahead (or every step up to it with `--steps all`, or
quantiles with `--quantiles 0.1,0.5,0.9`); `--task movement` classifies the
next move as up or down with the StockNet dead zone (up above +0.55%, down
below -0.5%, days in between dropped) and reports accuracy and Matthews
correlation beside the majority-class rate.

Every saved model takes a raw price window and returns prices (or the
probability of an up move); the scaling is inside it:

```python
import keras, numpy as np
model = keras.models.load_model("runs/stocks/models/lstm.keras")
model.predict(np.array([[[101.0], [102.5], ..., [104.2]]]))  # (1, window, 1) -> (1, 1, 1)
```
"""

"""
## Setup
"""

import argparse
import pathlib
import sys

import keras
import numpy as np

from rnn_apps import errors, io, paths
from rnn_apps.data import series
from rnn_apps.harness import baselines, cli, compare, plots, training
from rnn_apps.layers import convolutional, encoders
from rnn_apps.tasks import classifiers, forecast_baselines, forecasting

NAME = "stocks"
SAMPLE = "stocks/vega_stocks.csv"
STOCKNET_DEAD_ZONE = (-0.005, 0.0055)

DEFAULTS = dict(epochs=30, batch_size=64, units=32, filters=32, patience=5, window=24, horizon=1)
QUICK = dict(epochs=3, units=16, filters=16)


def finite_float(text: str) -> float:
    """Parse a finite number (the dead-zone thresholds)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, received {text!r}")
    return value


def add_arguments(parser):
    """Flags of this recipe (the common ones come from `rnn_apps.harness.cli`)."""
    group = parser.add_argument_group("stocks flags")
    group.add_argument("--task", choices=("forecast", "movement"), default="forecast", help="what to predict")
    group.add_argument("--window", type=cli.positive_int, default=None, help="input prices per sample")
    group.add_argument("--horizon", type=cli.positive_int, default=None, help="steps ahead (forecast)")
    group.add_argument(
        "--steps", choices=("last", "all"), default="last", help="forecast step HORIZON only, or every step up to it"
    )
    group.add_argument(
        "--target",
        choices=("log_return", "price"),
        default="log_return",
        help="what the network learns; forecasts are always turned back into prices",
    )
    group.add_argument(
        "--quantiles", default="", help="comma-separated quantile levels, e.g. 0.1,0.5,0.9 (pinball loss)"
    )
    group.add_argument(
        "--series",
        choices=("pooled", "joint"),
        default="pooled",
        help="pooled: one model over every series' windows; joint: all series as channels of one window",
    )
    group.add_argument(
        "--volume", action="store_true", help="also feed log traded volume (Yahoo-style files; forecast task)"
    )
    group.add_argument("--price-column", default=None, help="price column (default: Adj Close, Close or price)")
    group.add_argument("--symbols", default=None, help="comma-separated series to keep")
    group.add_argument("--fill-gaps", action="store_true", help="carry the last price over missing prices")
    group.add_argument("--validation-fraction", type=cli.fraction, default=0.15, help="of all rows")
    group.add_argument("--test-fraction", type=cli.fraction, default=0.15, help="of all rows")
    group.add_argument(
        "--gap", type=int, default=None, help="rows left out between parts (default: the horizon; 0 with --split-dates)"
    )
    group.add_argument(
        "--split-dates",
        default=None,
        help="TRAIN_START,VALIDATION_START,TEST_START[,TEST_END]: split by target date instead of fractions",
    )
    group.add_argument(
        "--history",
        choices=("past", "part"),
        default="past",
        help="past: windows may read rows before their part; part: windows lie wholly inside it",
    )
    group.add_argument(
        "--walk-forward", type=int, default=0, help="rolling-origin folds over the test fraction (0: one split)"
    )
    group.add_argument(
        "--season", type=cli.positive_int, default=None, help="season length for the seasonal-naive forecast"
    )
    group.add_argument("--up", type=finite_float, default=STOCKNET_DEAD_ZONE[1], help="up move above this return")
    group.add_argument("--down", type=finite_float, default=STOCKNET_DEAD_ZONE[0], help="down move below this return")
    group.add_argument("--dropout", type=cli.fraction, default=0.0, help="encoder input dropout")
    group.add_argument("--filters", type=cli.positive_int, default=None, help="causal CNN filters per layer")
    group.add_argument("--kernel-size", type=cli.positive_int, default=3, help="causal CNN kernel width")


"""
## Data

The bundled sample is the `stocks` table of the MIT-licensed `vega_datasets`
package: monthly prices of AAPL, AMZN, GOOG, IBM and MSFT, 2000-2010, as a
long `symbol,date,price` table (see `data/README.md`). It is small on
purpose: enough to run everything offline in seconds, too short to prove
anything.

`--data PATH` takes a Yahoo-style CSV (`Date,Open,High,Low,Close,Adj Close,
Volume`; the adjusted close is used), a long `symbol,date,price` table, a
wide table with one column per series, a directory of such CSVs (one series
per ticker), or a headerless numeric matrix (one series per column, no
dates). Bad input stops with one message naming what was expected:
unparseable or repeated dates, non-numeric or missing prices (unless
`--fill-gaps`), non-positive prices where log-returns are needed, an unknown
column, a series too short for the window and horizon in every part. Rows
out of date order are sorted, and long calendar gaps reported, as notices.
`--data yfinance:TICKER` downloads daily prices with the optional `yfinance`
package (`pip install "rnn-apps[online]"`); nothing else needs the network,
and the tests never use it.
"""


def load_table(args) -> series.PriceTable:
    """Read the prices chosen by ``--data``; print what was fixed on the way in."""
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()] if args.symbols is not None else None
    if symbols == []:
        raise errors.expected("comma-separated series names", args.symbols, name="--symbols")
    if args.data.startswith("yfinance:"):
        source = download_yfinance(args.data.split(":", 1)[1])
    else:
        source = paths.bundled(SAMPLE) if args.data == "sample" else args.data
    table = series.load_prices(source, price_column=args.price_column, symbols=symbols, fill_gaps=args.fill_gaps)
    for notice in table.notices:
        print(f"notice: {notice}")
    return table


def download_yfinance(ticker: str) -> pathlib.Path:
    """Daily prices of ``ticker`` from Yahoo Finance via the optional yfinance package, as a temporary CSV."""
    import tempfile

    try:
        import yfinance
    except ImportError:
        raise errors.expected("the optional package yfinance for --data yfinance:TICKER", "not installed") from None
    frame = yfinance.download(ticker, period="max", auto_adjust=False, progress=False)
    if frame is None or frame.empty:
        raise errors.expected("a ticker that Yahoo Finance knows", ticker, name="--data")
    frame.columns = [column[0] if isinstance(column, tuple) else column for column in frame.columns]
    return io.write_text(pathlib.Path(tempfile.mkdtemp(prefix="stocks-")) / f"{ticker}.csv", frame.to_csv())


def split_rows(args, table: series.PriceTable, num_rows: int) -> list[series.Split]:
    """The split (or walk-forward folds) of ``num_rows`` time-ordered rows."""
    horizon = args.horizon if args.task == "forecast" else 1
    if args.split_dates:
        gap = 0 if args.gap is None else args.gap
        boundaries = [value.strip() for value in args.split_dates.split(",")]
        return [series.dated_split(table.prices.index, boundaries, gap=gap)]
    gap = horizon if args.gap is None else args.gap
    if gap < horizon:
        raise errors.expected(f"at least the horizon ({horizon})", gap, name="--gap")
    if args.walk_forward:
        return series.walk_forward_splits(
            num_rows, args.walk_forward, args.test_fraction, args.validation_fraction, gap
        )
    return [series.chronological_split(num_rows, args.validation_fraction, args.test_fraction, gap)]


"""
## Models

Every trained model reads a window of standardized log-returns (the
`window - 1` changes between its prices) and predicts the standardized
cumulative log-return to the target step; the saved model turns that back
into a price. With `--target price` it reads and predicts standardized
prices instead, which breaks down once test prices leave the training
range: a useful lesson, not a default. `--volume` (Yahoo-style files) adds
the traded volume as extra input channels: `log(1 + volume)`, standardized
with training-row statistics; the saved model then takes `[prices, volume]`.

The recurrent encoders read the window oldest first and the head reads
their last state; `--bidirectional` lets a layer read the window both ways,
which is still causal because the window ends at the forecast origin. The
CNN is a stack of causal dilated convolutions (dilation 1, 2, 4, ...) with
enough layers for its receptive field to cover the window; its last step
summarizes the window.
"""


def encoder_config(name: str, args, input_steps: int) -> encoders.EncoderConfig:
    """The encoder for model ``name`` under the command-line settings."""
    if name == "cnn":
        layers = 1
        while convolutional.receptive_field("causal", args.kernel_size, layers) < input_steps:
            layers += 1
        return encoders.EncoderConfig(
            model="cnn",
            cnn_kind="causal",
            filters=args.filters,
            kernel_size=args.kernel_size,
            num_layers=layers,
            dropout=args.dropout,
        )
    return encoders.EncoderConfig(
        model=name, units=args.units, num_layers=args.layers, bidirectional=args.bidirectional, dropout=args.dropout
    )


def parse_quantiles(text: str) -> tuple[float, ...]:
    """``--quantiles`` as a tuple of levels (empty for point forecasts)."""
    if not text:
        return ()
    try:
        levels = tuple(float(value) for value in text.split(","))
    except ValueError:
        raise errors.expected("comma-separated numbers such as 0.1,0.5,0.9", text, name="--quantiles") from None
    return forecasting.check_quantiles(levels)


def point_index(quantiles) -> int | None:
    """Which quantile serves as the point forecast: the median if present, else the middle one."""
    if not quantiles:
        return None
    return quantiles.index(0.5) if 0.5 in quantiles else len(quantiles) // 2


"""
## Train and compare

Each model trains with the same seed, windows and batches, with early
stopping on the validation loss (the best epoch's weights are kept). The
training inputs are made by the saved model's own preprocessing, so what is
trained is exactly what is saved, and the test metrics are those of the
saved price model on raw test windows.
"""


def train_forecaster(name, data: series.ForecastData, args, quantiles, tag=""):
    """Train one forecaster; return its `ModelResult`, history and test predictions."""
    training.set_seed(args.seed)
    channels = data.train.inputs.shape[2]
    extra = data.train.features.shape[2] if data.feature_scaler is not None else 0
    input_steps = data.window - 1 if data.target == "log_return" else data.window
    core = forecasting.forecaster(
        encoder_config(name, args, input_steps), channels + extra, data.train.targets.shape[1], channels, quantiles
    )
    loss = forecasting.PinballLoss(quantiles) if quantiles else "mse"
    core.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=loss)
    scale = dict(input_mean=data.input_scaler.mean, input_variance=data.input_scaler.variance)
    if extra:
        scale |= dict(
            feature_dim=extra, feature_mean=data.feature_scaler.mean, feature_variance=data.feature_scaler.variance
        )
    prepare = forecasting.input_model(data.window, channels, data.target, **scale)

    def raw(part):
        prices = part.inputs.astype("float32")
        return [prices, part.features.astype("float32")] if extra else prices

    def batches(part, shuffle=False):
        inputs = prepare.predict(raw(part), batch_size=1024, verbose=0)
        return series.dataset(inputs, data.scaled_targets(part), args.batch_size, shuffle=shuffle, seed=args.seed)

    fitted = training.fit_from_args(core, batches(data.train, shuffle=True), batches(data.validation), args, name + tag)
    model = forecasting.price_model(
        core,
        data.window,
        channels,
        data.target,
        target_mean=data.target_scaler.mean,
        target_variance=data.target_scaler.variance,
        quantiles=quantiles,
        **scale,
    )
    model_path = io.save_model(model, f"{args.output_dir}/models/{name}.keras")
    test = data.test
    predictions = model.predict(raw(test), batch_size=1024, verbose=0)
    point = predictions[..., point_index(quantiles)] if quantiles else predictions
    test_metrics = forecasting.forecast_metrics(test.targets, point, test.inputs[:, -1:, :])
    if quantiles:
        test_metrics |= forecasting.quantile_metrics(test.targets, predictions, quantiles)
    # Timing batches are slices of one array; a volume model gets its two inputs back from it.
    timing = np.concatenate([test.inputs, test.features], axis=-1) if extra else test.inputs
    result = compare.trained_result(
        name,
        core,
        fitted,
        test_metrics,
        predict_batch=lambda batch: model.predict_on_batch(
            [batch[..., :channels], batch[..., channels:]] if extra else batch
        ),
        timing_inputs=timing[:512].astype("float32"),
        output_dir=args.output_dir,
        model_path=model_path,
    )
    return result, fitted.history, point


def naive_forecasts(data: series.ForecastData, args):
    """The naive baselines on the test windows: ``[(ModelResult, predictions)]``."""
    test, horizon, steps = data.test, data.horizon, data.steps
    candidates = {
        "persistence": lambda w: forecast_baselines.persistence(w, horizon, steps),
        "drift": lambda w: forecast_baselines.drift(w, horizon, steps),
    }
    if args.season:
        candidates["seasonal_naive"] = lambda w: forecast_baselines.seasonal_naive(w, horizon, args.season, steps)
    return [forecast_baselines.forecast_result(name, f, test.inputs, test.targets) for name, f in candidates.items()]


def forecast_panels(values_index, data: series.ForecastData, predictions: dict, names: list[str], limit=3):
    """Per-series plot data: target dates, actual and forecast prices at the last step."""
    panels = {}
    test = data.test
    for index in np.unique(test.series)[:limit]:
        rows = np.flatnonzero(test.series == index)
        order = rows[np.argsort(test.target_rows[rows])]
        x = values_index[test.target_rows[order]]
        channel = 0
        title = names[index] if len(names) > 1 and test.inputs.shape[2] == 1 else names[0]
        actual = test.targets[order, -1, channel]
        lines = {name: values[order, -1, channel] for name, values in predictions.items()}
        panels[f"{title}: forecast {data.horizon} step(s) ahead"] = (x, actual, lines)
    return panels


def average(metric_dicts: list[dict]) -> dict:
    """Mean of each metric over walk-forward folds (`None` stays `None`)."""
    keys = metric_dicts[0].keys()
    out = {}
    for key in keys:
        values = [m[key] for m in metric_dicts if m.get(key) is not None]
        out[key] = float(np.mean(values)) if len(values) == len(metric_dicts) else None
    return out


def run_forecast(args, table: series.PriceTable) -> dict:
    """Forecast task: every model and baseline on each split; the report."""
    quantiles = parse_quantiles(args.quantiles)
    prices = table.prices
    pooled = args.series == "pooled"
    if not pooled:
        complete = prices.dropna()
        if len(complete) < len(prices):
            print(f"notice: kept the {len(complete)} rows where every series has a price (of {len(prices)})")
        prices = complete
    values = prices.to_numpy()
    features = None
    if args.volume:
        if table.volume is None:
            raise errors.expected("Yahoo-style files with a Volume column for --volume", table.name, name="--data")
        features = table.volume.loc[prices.index, prices.columns].to_numpy()
    if args.target == "log_return":
        series.check_positive(values, table.series_names, prices.index)
    if args.season and args.season > args.window:
        raise errors.expected(f"a season no longer than the window ({args.window})", args.season, name="--season")
    folds = [
        series.prepare_forecast(
            values,
            split,
            args.window,
            args.horizon,
            args.target,
            args.steps,
            args.history,
            pooled=pooled,
            features=features,
        )
        for split in split_rows(args, table, len(values))
    ]
    print(f"data: {table.name}, series {table.series_names}, samples per part {folds[-1].sizes()}")

    def fold_tag(fold):
        return f"_fold{fold + 1}" if len(folds) > 1 else ""

    # One training job per model and fold. Finished jobs are recorded, so
    # --resume skips them; Ctrl-C keeps what finished.
    jobs = {f"{name}{fold_tag(fold)}": (fold, name) for fold in range(len(folds)) for name in args.model}

    def train_one(job):
        fold, name = jobs[job]
        result, history, point = train_forecaster(name, folds[fold], args, quantiles, fold_tag(fold))
        return compare.Trained(result, history, {"point": point})

    trained = compare.train_each(list(jobs), train_one, args.output_dir, resume=args.resume)
    per_model, histories, predictions = {}, {}, {}
    for job, done in zip(jobs, trained):
        fold, name = jobs[job]
        per_model.setdefault(name, []).append(done.result)
        histories[name], predictions[name] = done.history, np.asarray(done.extras["point"])
        print(compare.summary_line(done.result, "mase") + (f" ({fold_tag(fold)[1:]})" if len(folds) > 1 else ""))
    for data in folds:
        for result, point in naive_forecasts(data, args):
            per_model.setdefault(result.name, []).append(result)
            predictions[result.name] = point
    results = []
    for fold_results in per_model.values():
        result = fold_results[-1]
        if len(fold_results) > 1:
            result.metrics = average([r.metrics for r in fold_results])
            result.train_seconds = round(sum(r.train_seconds for r in fold_results), 3)
        results.append(result)

    data = folds[-1]
    report = compare.build_report(
        NAME,
        table.name,
        "forecast",
        "mase",
        results,
        sizes=data.sizes(),
        seed=args.seed,
        series=table.series_names,
        notices=table.notices,
        walk_forward={name: [r.metrics for r in rs] for name, rs in per_model.items()} if len(folds) > 1 else None,
        config=run_config(args) | {"quantiles": list(quantiles)},
        command=args.command,
    )
    panels = forecast_panels(prices.index, data, predictions, table.series_names)
    plots.forecasts(panels, f"{args.output_dir}/forecast.png")
    compare.publish(args.output_dir, report, histories, metric="loss")
    write_model_cards(args, results, data, table, quantiles)
    return report


def write_model_cards(args, results, data, table, quantiles):
    """A JSON file beside each saved model: what its input and output mean."""
    for result in results:
        if result.model_path is None:
            continue
        card = {
            "task": args.task,
            "window": data.window,
            "channels": int(data.test.inputs.shape[2]),
            "inputs": ["prices", "volume"] if getattr(args, "volume", False) else ["prices"],
            "series": table.series_names if args.task == "forecast" and args.series == "joint" else None,
        }
        if args.task == "forecast":
            card |= {"horizon": data.horizon, "steps": data.steps, "target": data.target, "quantiles": list(quantiles)}
        else:
            card |= {"class_names": ["down", "up"], "dead_zone": [args.down, args.up]}
        io.write_json(pathlib.Path(args.output_dir) / pathlib.Path(result.model_path).with_suffix(".json"), card)


def run_config(args) -> dict:
    skip = ("data", "output_dir", "verbose", "command", "model")
    return {key: value for key, value in vars(args).items() if key not in skip} | {"models": list(args.model)}


"""
### Movement

Up/down classification pools the windows of every series: each sample is
one series' window of prices, labelled by the next move. The classifiers are
the same encoders with a sigmoid head. Beside them stand the majority class
(the most frequent training label) and previous-move (tomorrow repeats
today's direction). Accuracy alone flatters: the Matthews correlation is 0
for any constant or random guess, and the majority rate of the test set is
printed in every row.
"""


def train_classifier(name, data: series.MovementData, args):
    """Train one up/down classifier; return its `ModelResult`, history and test predictions."""
    training.set_seed(args.seed)
    config = encoder_config(name, args, data.window - 1)
    core = classifiers.feature_sequence_classifier(config, 2, feature_dim=1, mask_value=None, head_dropout=args.dropout)
    classifiers.compile_classifier(core, 2, args.learning_rate)
    scale = dict(input_mean=data.input_scaler.mean, input_variance=data.input_scaler.variance)
    prepare = forecasting.input_model(data.window, 1, "log_return", **scale)

    def batches(part, shuffle=False):
        inputs = prepare.predict(part.inputs.astype("float32"), batch_size=4096, verbose=0)
        return series.dataset(inputs, part.targets, args.batch_size, shuffle=shuffle, seed=args.seed)

    fitted = training.fit_from_args(core, batches(data.train, shuffle=True), batches(data.validation), args, name)
    model = forecasting.movement_model(core, data.window, **scale)
    model_path = io.save_model(model, f"{args.output_dir}/models/{name}.keras")
    test = data.test
    probabilities = model.predict(test.inputs.astype("float32"), batch_size=4096, verbose=0).reshape(-1)
    predicted = (probabilities >= 0.5).astype("int64")
    result = compare.trained_result(
        name,
        core,
        fitted,
        forecasting.movement_metrics(test.targets, predicted),
        predict_batch=lambda batch: model.predict_on_batch(batch),
        timing_inputs=test.inputs[:512].astype("float32"),
        output_dir=args.output_dir,
        model_path=model_path,
    )
    return result, fitted.history, predicted


def run_movement(args, table: series.PriceTable) -> dict:
    """Movement task: classifiers and baselines on one split; the report."""
    if args.walk_forward or args.volume:
        raise errors.expected("neither --walk-forward nor --volume with --task movement", "one of them")
    values = table.prices.to_numpy()
    series.check_positive(values, table.series_names, table.prices.index)
    (split,) = split_rows(args, table, len(values))
    data = series.prepare_movement(values, split, args.window, up=args.up, down=args.down, history=args.history)
    print(f"data: {table.name}, {len(table.series_names)} series, samples per part {data.sizes()}")

    test_labels = data.test.targets

    def train_one(name):
        result, history, predicted = train_classifier(name, data, args)
        return compare.Trained(result, history, {"predicted": predicted})

    # Finished models are recorded, so --resume skips them; Ctrl-C keeps what finished.
    trained = compare.train_each(args.model, train_one, args.output_dir, resume=args.resume)
    results, histories, matrices = [], {}, {}
    for done in trained:
        name = done.result.name
        results.append(done.result)
        histories[name] = done.history
        matrices[name] = confusion(test_labels, np.asarray(done.extras["predicted"]))
        print(compare.summary_line(done.result, "mcc") + f" | accuracy {done.result.metrics['accuracy']:.4f}")
    majority, _ = baselines.majority_class(data.train.targets, test_labels, 2, data.test.inputs)
    constant = np.full(len(test_labels), int(np.bincount(data.train.targets, minlength=2).argmax()))
    majority.metrics = forecasting.movement_metrics(test_labels, constant)
    matrices["majority"] = confusion(test_labels, constant)
    previous, predicted = forecast_baselines.movement_result(
        "previous_move", forecast_baselines.previous_move, data.test.inputs, test_labels
    )
    matrices["previous_move"] = confusion(test_labels, predicted)
    results += [majority, previous]
    for result in results[-2:]:
        print(compare.summary_line(result, "mcc") + f" | accuracy {result.metrics['accuracy']:.4f}")

    report = compare.build_report(
        NAME,
        table.name,
        "movement",
        "mcc",
        results,
        class_names=["down", "up"],
        sizes=data.sizes(),
        seed=args.seed,
        notices=table.notices,
        config=run_config(args),
        command=args.command,
    )
    plots.confusion_matrices(matrices, ["down", "up"], f"{args.output_dir}/confusion_matrices.png")
    compare.publish(args.output_dir, report, histories)
    write_model_cards(args, results, data, table, ())
    return report


def confusion(labels, predicted) -> np.ndarray:
    from rnn_apps import metrics

    return metrics.confusion_matrix(labels, predicted, 2)


def run(args) -> dict:
    """Load and check the data, then run the chosen task."""
    if args.task == "movement" and args.horizon != 1:
        raise errors.expected("--horizon 1 for --task movement (the next move)", args.horizon, name="--horizon")
    table = load_table(args)
    if args.task == "forecast":
        return run_forecast(args, table)
    return run_movement(args, table)


"""
## Prediction with a saved model

`rnn-apps predict stocks --model runs/stocks/models/lstm.keras "100,101,99.5,..."`
loads a model in a fresh process and forecasts from raw price windows: each
input is one window, steps separated by commas and, for a joint model,
series within a step by colons (`"1.61:0.78,1.62:0.79,..."`). The window
length and the meaning of the output come from the `.json` file beside the
model.
"""


def parse_window(text, window: int | None, channels: int | None) -> np.ndarray:
    """One raw window from a string ``"p1,p2,..."`` (``"a:b,..."`` for several series) or a sequence."""
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


def predict(model_path, inputs) -> list[dict]:
    """Forecast (or classify the next move) from raw price windows with a saved model.

    Args:
        model_path: a ``.keras`` file written by this recipe.
        inputs: windows, as strings (see `parse_window`) or arrays.

    Returns:
        One dict per window: ``forecast`` (prices per step; per quantile
        with quantiles) and ``last_price``, or ``label`` and ``probability``
        for movement models.
    """
    model_path = pathlib.Path(model_path)
    inputs = list(inputs)
    if not inputs:
        raise errors.expected("at least one price window", "none")
    sidecar = model_path.with_suffix(".json")
    card = errors.read_json(sidecar) if sidecar.exists() else {}
    try:
        model = keras.models.load_model(model_path)
    except Exception as error:  # a corrupt or foreign file: Keras raises many types
        raise errors.expected("a .keras model saved by this recipe", f"{model_path} ({error})") from None
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
            label = "up" if up >= 0.5 else "down"
            rows.append({"label": label, "probability": round(up if up >= 0.5 else 1 - up, 4)})
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


"""
## Results and conclusion

`comparison.md` holds the table, best MASE (or MCC) first; `forecast.png`
draws the test period with each model and the random walk dashed, and
`learning_curves.png` shows training. On the bundled monthly sample, and on
most real daily prices, the honest result is that no model beats the random
walk by much: a MASE near 1, directional accuracy near a coin flip, and an
up/down MCC near 0. `bench/results/stocks-*.md` has full-data numbers (the
ACL18/StockNet movement protocol and the exchange-rate forecasting
benchmark) beside the published ones, with the commands behind them.
"""


def main(argv=None) -> dict:
    """Run the recipe from the command line (``argv`` as in `sys.argv[1:]`)."""
    return cli.run_recipe(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
