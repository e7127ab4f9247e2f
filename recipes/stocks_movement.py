"""
Title: Stock movement: up/down classifiers against the majority class and the previous move
Description: The `--task movement` half of `recipes.stocks`: its data path and encoders, a sigmoid head.
Data: the same price tables as `recipes.stocks`.
Run: python -m recipes.stocks --task movement [--quick] [--data PATH] [--window 24] [--up 0.0055 --down -0.005]
"""

"""
## Introduction

Up/down classification pools the windows of every series: each sample is
one series' window of prices, labelled by the next move, up above `--up`
(+0.55%) and down below `--down` (-0.5%); the days in between are dropped,
as in the StockNet protocol (`rnn_apps.data.movement`). The classifiers are
the encoders of `recipes.stocks` with a sigmoid head. Beside them stand the
majority class (the most frequent training label) and previous-move
(tomorrow repeats today's direction). Accuracy alone flatters: the Matthews
correlation is 0 for any constant or random guess, and the majority rate of
the test set is in every row.
"""

from rnn_apps.harness import runtime

runtime.configure()  # before Keras loads: TensorFlow starts quietly, plots need no display

import keras
import numpy as np

from recipes import stocks
from recipes.configs.stocks import MOVEMENT_MONITORS
from rnn_apps import errors, metrics
from rnn_apps.data import movement, price_tables, time_splits, windows
from rnn_apps.harness import plots, selection
from rnn_apps.harness import recipe as harness
from rnn_apps.tasks import forecast_baselines, forecasting

"""
## Data and model

The split is the forecast task's, with a horizon of one step; the return
scaler sees training rows only. The model is `stocks.encode` (recurrent
layers or the causal CNN) and one sigmoid unit, the same network that
`rnn_apps.tasks.classifiers.feature_sequence_classifier` builds.
"""


def load_moves(cfg: stocks.StocksConfig) -> forecasting.PriceFolds:
    """Read, check and split the prices; up/down samples of every series, pooled."""
    if cfg.horizon != 1:
        raise errors.expected("--horizon 1 for --task movement (the next move)", cfg.horizon, name="--horizon")
    table = stocks.read_table(cfg)
    if cfg.walk_forward or cfg.volume:
        raise errors.expected("neither --walk-forward nor --volume with --task movement", "one of them")
    values = table.prices.to_numpy()
    price_tables.check_positive(values, table.series_names, table.prices.index)
    splits = time_splits.from_settings(table.prices.index, 1, cfg)
    samples = movement.prepare_movement(values, splits[0], cfg.window, up=cfg.up, down=cfg.down, history=cfg.history)
    return forecasting.PriceFolds(table, table.prices.index, splits, [samples])


def build_classifier(name: str, cfg: stocks.StocksConfig, input_steps: int) -> keras.Model:
    """Scaled log-returns ``(time, 1)`` -> the probability of an up move."""
    inputs = keras.Input(shape=(None, 1), name="features")
    x = stocks.encode(name, cfg, inputs, input_steps)
    if cfg.dropout:
        x = keras.layers.Dropout(cfg.dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="head_output")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss="binary_crossentropy", metrics=["accuracy"])
    return model


"""
## Train and compare

The harness's own loop: one split, every model, then the two baselines.
Early stopping follows the Matthews correlation of the validation moves
(``val_mcc``, written into each epoch's logs by
`rnn_apps.harness.selection.ValidationScore`), not the loss: a classifier
whose loss still falls can be predicting one class only, and its MCC is 0.
`--monitor val_loss` selects on the loss instead. On the StockNet split
(`bench/results/stocks-acl18.md`'s command, seeds 1 to 3, LSTM, GRU and CNN)
the two made no measurable difference on the test part (mean test MCC
-0.012, 0.002, 0.010 on validation MCC against 0.008, 0.005, 0.020 on the
loss; three seeds allow no significant paired test), and the epochs chosen
on the two months of validation moves predicted "up" more often (48% to 86%
of test days, against 38% to 59%).
"""


class MovementRecipe(stocks.StocksRecipe):
    """Up/down moves: the stocks recipe's data path and encoders, a sigmoid head."""

    primary_metric = "mcc"
    curve_metric = "accuracy"
    naive_baseline = "majority"
    run = harness.Recipe.run

    def load_data(self, cfg) -> forecasting.PriceFolds:
        if cfg.monitor not in MOVEMENT_MONITORS:
            wanted = f"{', '.join(MOVEMENT_MONITORS[:-1])} or {MOVEMENT_MONITORS[-1]} for --task movement"
            raise errors.expected(f"{wanted} (val_mase scores price forecasts)", cfg.monitor, name="--monitor")
        return load_moves(cfg)

    def monitor(self, name, cfg, data=None) -> str:
        return "val_mcc" if cfg.monitor == "auto" else cfg.monitor

    def scores(self, name, cfg, data: forecasting.PriceFolds) -> list:
        # The Matthews correlation (and balanced accuracy) of the validation moves after every epoch.
        _, validation = data.model_inputs(1, "log_return")
        return [selection.ValidationScore(selection.movement_score(validation, data.samples.validation.targets))]

    def describe(self, data: forecasting.PriceFolds) -> str:
        return f"{data.table.name}, {len(data.table.series_names)} series, samples per part {data.samples.sizes()}"

    def build_model(self, name, cfg, data: forecasting.PriceFolds) -> keras.Model:
        return build_classifier(name, cfg, data.samples.window - 1)

    def datasets(self, name, cfg, data: forecasting.PriceFolds):
        d = data.samples
        train, validation = data.model_inputs(1, "log_return")
        return (
            windows.dataset(train, d.train.targets, cfg.batch_size, shuffle=True, seed=cfg.seed),
            windows.dataset(validation, d.validation.targets, cfg.batch_size),
        )

    def export(self, name, model, cfg, data: forecasting.PriceFolds, path):
        saved = forecasting.movement_model(model, data.samples.window, **forecasting.scaling(data.samples))
        return saved, self.save(saved, path, cfg, data)

    def evaluate(self, name, model, cfg, data: forecasting.PriceFolds) -> harness.Evaluation:
        test = data.samples.test
        inputs = forecasting.raw_inputs(test)
        predicted = (forecasting.in_batches(model, inputs, 4096).reshape(-1) >= 0.5).astype("int64")
        return harness.Evaluation(
            forecasting.movement_metrics(test.targets, predicted),
            predict_batch=model.predict_on_batch,
            timing_inputs=inputs[:512],
            extras={"confusion_matrix": metrics.confusion_matrix(test.targets, predicted, 2)},
        )

    def baselines(self, cfg, data: forecasting.PriceFolds):
        d = data.samples
        found = forecast_baselines.movement_baselines(d.train.targets, d.test.inputs, d.test.targets)
        return [(r, {"confusion_matrix": metrics.confusion_matrix(d.test.targets, p, 2)}) for r, p in found]

    def report_fields(self, cfg, data: forecasting.PriceFolds) -> dict:
        return dict(class_names=["down", "up"], sizes=data.samples.sizes(), notices=data.table.notices)

    def plot(self, cfg, data: forecasting.PriceFolds, trained) -> None:
        matrices = {item.result.name: np.asarray(item.extras["confusion_matrix"]) for item in trained}
        plots.confusion_matrices(matrices, ["down", "up"], f"{cfg.output_dir}/confusion_matrices.png")


RECIPE = MovementRecipe()

"""
## Streaming

`rnn-apps stream stocks --model runs/stocks/models/gru.keras PRICE...` also
takes a movement model: after each new price (from the second on) it prints
the step, the price, the predicted next move and its probability, with the
recurrent state carried from price to price as for the forecasters (see
`recipes.stocks`).
"""

"""
## Results and conclusion

`comparison.md` ranks the models by MCC; `confusion_matrices.png` shows
where each errs. On the bundled monthly sample, and on the StockNet tweets
period (`bench/results/stocks-acl18.md`), an MCC near 0 is the honest
result: the next move of a liquid price is close to a coin flip.
"""
