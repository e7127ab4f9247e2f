"""The stocks recipe's settings: every field of `StocksConfig` is a flag of ``python -m recipes.stocks``.

This module imports nothing heavier than the standard library, so the command line reads it,
checks the flags and refuses a bad one before Keras and TensorFlow start.
"""

import dataclasses

from rnn_apps.harness import config

STOCKNET_DEAD_ZONE = (-0.005, 0.0055)

FORECAST_MONITORS = ("auto", "val_loss", "val_mase")
"""The values of ``--monitor`` a forecast takes; the others score up/down moves."""

MOVEMENT_MONITORS = ("auto", "val_loss", "val_mcc", "val_balanced_accuracy", "val_accuracy")
"""The values of ``--monitor`` that ``--task movement`` takes."""


@dataclasses.dataclass(frozen=True)
class StocksConfig(config.RunConfig):
    """The stocks recipe's settings; every field is a flag (``--split-dates``)."""

    PRESETS = {"quick": dict(epochs=3, units=16, filters=16)}

    epochs: int = config.option(30, "most epochs (early stopping may end sooner)", parse=config.positive_int)
    units: int = config.option(32, "recurrent units per layer", parse=config.positive_int)
    patience: int = config.option(5, "early-stopping patience in epochs", parse=config.positive_int)
    task: str = config.option("forecast", "what to predict", choices=("forecast", "movement"))
    window: int = config.option(24, "input prices per sample", parse=config.positive_int)
    horizon: int = config.option(1, "steps ahead (forecast)", parse=config.positive_int)
    steps: str = config.option("last", "forecast step HORIZON only, or every step up to it", choices=("last", "all"))
    target: str = config.option(
        "log_return",
        "what the network learns; forecasts are always turned back into prices",
        choices=("log_return", "price"),
    )
    quantiles: str = config.option("", "comma-separated quantile levels, e.g. 0.1,0.5,0.9 (pinball loss)")
    series: str = config.option(
        "pooled",
        "pooled: one model over every series' windows; joint: all series as channels of one window",
        choices=("pooled", "joint"),
    )
    volume: bool = config.option(False, "also feed log traded volume (Yahoo-style files; forecast task)")
    price_column: str | None = config.option(None, "price column (default: Adj Close, Close or price)")
    symbols: str | None = config.option(None, "comma-separated series to keep")
    fill_gaps: bool = config.option(False, "carry the last price over missing prices")
    validation_fraction: float = config.option(0.15, "of all rows", parse=config.fraction)
    test_fraction: float = config.option(0.15, "of all rows", parse=config.fraction)
    gap: int | None = config.option(
        None, "rows left out between parts (default: the horizon; 0 with --split-dates)", parse=int
    )
    split_dates: str | None = config.option(
        None, "TRAIN_START,VALIDATION_START,TEST_START[,TEST_END]: split by target date instead of fractions"
    )
    history: str = config.option(
        "past",
        "past: windows may read rows before their part; part: windows lie wholly inside it",
        choices=("past", "part"),
    )
    walk_forward: int = config.option(0, "rolling-origin folds over the test fraction (0: one split)", parse=int)
    season: int | None = config.option(None, "season length for the seasonal-naive forecast", parse=config.positive_int)
    up: float = config.option(STOCKNET_DEAD_ZONE[1], "up move above this return", parse=config.finite_float)
    down: float = config.option(STOCKNET_DEAD_ZONE[0], "down move below this return", parse=config.finite_float)
    dropout: float = config.option(0.0, "encoder input dropout", parse=config.fraction)
    filters: int = config.option(32, "causal CNN filters per layer", parse=config.positive_int)
    kernel_size: int = config.option(3, "causal CNN kernel width", parse=config.positive_int)
    monitor: str = config.option(
        "auto",
        "validation quantity that early stopping, the kept epoch and --tune follow; auto: val_mase for forecasts "
        "(the validation forecasts as prices, MAE over the random walk's, after every epoch), val_mcc (Matthews "
        "correlation) for --task movement; val_mase is for forecasts, val_mcc, val_balanced_accuracy and "
        "val_accuracy for --task movement",
        choices=tuple(dict.fromkeys(FORECAST_MONITORS + MOVEMENT_MONITORS)),
    )
