"""Price series: loading, checks, and a leak-free path from prices to training windows.

Forecasting code goes wrong in a few well-known ways: a scaler fitted on the
whole series (so the training rows "know" the test period's level and
spread), windows cut before the split (so a training window or target reaches
into the test period), and no random-walk baseline. This module keeps the
path from a price table to training windows in one place, in an order that
rules those out:

1. `load_prices` reads a table of prices (one column per series) from a CSV,
   a directory of CSVs or a headerless numeric matrix, and checks it;
2. `chronological_split` / `dated_split` cut the rows into train, validation
   and test parts in time order, with ``gap`` rows left out between parts;
3. `window_origins` builds the windows of each part from that part alone:
   every target of a sample lies in its part, and its inputs lie in the part
   (``history="part"``) or in the rows before the forecast origin
   (``history="past"``: rows known at forecast time, never a later part);
4. `fit_scaler` fits the scalers on training rows only;
5. `prepare_forecast` and `prepare_movement` do 3 and 4 for the two tasks and
   return raw price windows (what a saved model takes) plus the scaler
   statistics the model needs.

`walk_forward_splits` gives rolling-origin folds for walk-forward evaluation.

Examples:
    >>> prices = np.exp(np.cumsum(np.full((40, 1), 0.01), axis=0))
    >>> split = chronological_split(40, validation_fraction=0.2, test_fraction=0.2, gap=1)
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
import pathlib

import numpy as np
import pandas as pd
from sklearn import preprocessing

from rnn_apps import errors

PRICE_COLUMNS = ("adj close", "adj_close", "adjclose", "close", "price", "value")
"""Price column names, in order of preference (case-insensitive)."""

DATE_COLUMNS = ("date", "datetime", "timestamp", "time", "day")
SYMBOL_COLUMNS = ("symbol", "ticker")
VOLUME_COLUMNS = ("volume",)
HISTORY = ("part", "past")
TARGETS = ("log_return", "price")
STEPS = ("last", "all")


# ---------------------------------------------------------------------------
# Loading and checks
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class PriceTable:
    """Prices of one or several series on a shared time index.

    Attributes:
        prices: one float column per series, indexed by date (a
            `pandas.DatetimeIndex`) or by step number for undated data;
            NaN where a series has no price (before it starts, after it ends).
        name: description of the source, for reports.
        notices: what was changed or found on the way in (sorted rows,
            filled gaps, calendar gaps), for the user to read.
        volume: traded volume on the same rows and columns, when every
            series came from a Yahoo-style file with a ``Volume`` column.
    """

    prices: pd.DataFrame
    name: str
    notices: list[str] = dataclasses.field(default_factory=list)
    volume: pd.DataFrame | None = None

    @property
    def dated(self) -> bool:
        return isinstance(self.prices.index, pd.DatetimeIndex)

    @property
    def series_names(self) -> list[str]:
        return [str(name) for name in self.prices.columns]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _find(columns, candidates) -> str | None:
    lowered = {str(column).strip().lower(): column for column in columns}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None


def _parse_dates(values: pd.Series, source: str) -> pd.DatetimeIndex:
    text = values.astype(str).str.strip()
    try:
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    except (ValueError, TypeError):
        parsed = pd.to_datetime(text, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        position = int(np.argmax(bad))
        raise errors.expected(
            "dates that pandas can parse (e.g. 2015-10-01)",
            f"{text.iloc[position]!r} in data row {position + 1} of {source} ({int(bad.sum())} unparseable)",
        )
    return pd.DatetimeIndex(parsed)


def _numeric(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    converted = frame.apply(pd.to_numeric, errors="coerce")
    bad = converted.isna() & frame.notna() & (frame.astype(str).apply(lambda c: c.str.strip()) != "")
    if bad.to_numpy().any():
        row, column = np.argwhere(bad.to_numpy())[0]
        raise errors.expected(
            "numeric prices",
            f"{frame.iat[row, column]!r} in column {frame.columns[column]!r}, data row {row + 1} of {source}",
        )
    infinite = np.isinf(converted.to_numpy(dtype="float64"))
    if infinite.any():
        row, column = np.argwhere(infinite)[0]
        raise errors.expected(
            "finite prices",
            f"{frame.iat[row, column]!r} in column {frame.columns[column]!r}, data row {row + 1} of {source}",
        )
    return converted.astype("float64")


def _unknown_column(what: str, name: str, columns, source: str) -> errors.InputError:
    return errors.expected(f"one of the columns {[str(c) for c in columns]} of {source}", name, name=what)


def _parse_frame(frame: pd.DataFrame, source: str, default_name: str, price_column: str | None):
    """Turn one CSV's rows into ``(prices, notices)`` with one column per series."""
    notices = []
    frame = frame.rename(columns=lambda column: str(column).strip())
    date_column = _find(frame.columns, DATE_COLUMNS)
    if date_column is None:
        first = frame.columns[0]
        if frame[first].dtype == object and not frame[first].astype(str).map(_is_number).all():
            date_column = first
    if date_column is None:
        raise errors.expected(
            f"a date column (named one of {list(DATE_COLUMNS)}, or a first column of dates) in {source}",
            list(frame.columns),
        )
    dates = _parse_dates(frame[date_column], source)
    symbol_column = _find(frame.columns, SYMBOL_COLUMNS)
    others = [column for column in frame.columns if column not in (date_column, symbol_column)]
    if price_column is not None and price_column not in others:
        raise _unknown_column("--price-column", price_column, others, source)

    if symbol_column is not None:
        # A long table: one row per (symbol, date).
        value_column = price_column or _find(others, PRICE_COLUMNS) or (others[0] if len(others) == 1 else None)
        if value_column is None:
            raise errors.expected(
                f"a price column (one of {list(PRICE_COLUMNS)}, or pass --price-column) in {source}", others
            )
        long = pd.DataFrame(
            {
                "date": dates,
                "symbol": frame[symbol_column].astype(str).str.strip(),
                "price": _numeric(frame[[value_column]], source)[value_column].to_numpy(),
            }
        )
        repeated = long.duplicated(["symbol", "date"])
        if repeated.any():
            row = long[repeated].iloc[0]
            raise errors.expected(
                "one row per symbol and date",
                f"{int(repeated.sum())} repeated; first {row['symbol']} on {row['date'].date()} in {source}",
            )
        if not long.groupby("symbol")["date"].apply(lambda d: d.is_monotonic_increasing).all():
            notices.append(f"{source}: dates were not in order within each symbol; sorted them")
        prices = long.pivot(index="date", columns="symbol", values="price").sort_index()
        prices.columns = [str(c) for c in prices.columns]
        return prices, None, notices

    # A Yahoo-style file (open/high/low/close...) holds one series, named after the file.
    yahoo = _find(others, ("open", "high", "low")) is not None
    if price_column is not None:
        value_columns = [price_column]
    elif yahoo:
        chosen = _find(others, PRICE_COLUMNS)
        if chosen is None:
            raise errors.expected(f"a price column (one of {list(PRICE_COLUMNS)}, or pass --price-column)", others)
        value_columns = [chosen]
    else:
        value_columns = others
    prices = _numeric(frame[value_columns], source)
    prices.index = dates
    volume = None
    if yahoo:
        prices.columns = [default_name]
        volume_column = _find(others, VOLUME_COLUMNS)
        if volume_column is not None:
            volume = _numeric(frame[[volume_column]], source)
            volume.index, volume.columns = dates, [default_name]
    repeated = prices.index.duplicated()
    if repeated.any():
        raise errors.expected(
            "one row per date",
            f"{int(repeated.sum())} repeated dates; first {prices.index[repeated][0].date()} in {source}",
        )
    if not prices.index.is_monotonic_increasing:
        notices.append(f"{source}: dates were not in order; sorted them")
        prices = prices.sort_index()
        volume = None if volume is None else volume.sort_index()
    return prices, volume, notices


def _read_file(path: pathlib.Path, price_column: str | None):
    try:
        first_line = pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist()
    except (pd.errors.EmptyDataError, IndexError):
        raise errors.expected("a CSV file with rows", f"{path} (empty)") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise errors.expected("a readable CSV file", f"{path} ({error})") from None
    stem = path.name.split(".")[0]
    if all(_is_number(str(value)) for value in first_line):
        # A headerless numeric matrix: one column per series, no dates.
        if price_column is not None:
            raise errors.expected("no --price-column for a headerless matrix (its columns have no names)", price_column)
        matrix = _numeric(pd.read_csv(path, header=None, dtype=str), str(path))
        matrix.columns = [f"{stem}_{index}" for index in range(matrix.shape[1])]
        return matrix, None, []
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except pd.errors.ParserError as error:
        raise errors.expected("a readable CSV file", f"{path} ({error})") from None
    return _parse_frame(frame, str(path), stem, price_column)


def _calendar_gaps(index: pd.DatetimeIndex) -> str | None:
    if len(index) < 3:
        return None
    spacing = np.diff(index.asi8)
    usual = np.median(spacing)
    long = spacing > 7 * usual
    if not long.any():
        return None
    worst = int(np.argmax(spacing))
    return (
        f"{int(long.sum())} calendar gaps longer than 7 times the usual spacing (largest "
        f"{index[worst].date()} to {index[worst + 1].date()}); consecutive rows are treated as consecutive steps"
    )


def load_prices(
    source: str | pathlib.Path,
    *,
    price_column: str | None = None,
    symbols: list[str] | None = None,
    fill_gaps: bool = False,
) -> PriceTable:
    """Read a price table from a file or a directory of files and check it.

    Accepted layouts:

    - a Yahoo-style CSV (``Date,Open,High,Low,Close,Adj Close,Volume``): one
      series named after the file, ``Adj Close`` if present, else ``Close``;
    - a long CSV with a ``symbol`` (or ``ticker``) column, a date column and
      a price column: one series per symbol;
    - a wide CSV with a date column and one numeric column per series;
    - a directory of such CSVs: their series side by side on the union of
      their dates;
    - a headerless numeric matrix (``.txt``/``.csv``, optionally gzipped):
      one series per column, indexed by step.

    Rows out of date order are sorted (with a notice); repeated dates,
    unparseable dates and non-numeric prices are errors. A missing price
    inside a series (NaN after the series started and before it ended) is an
    error unless ``fill_gaps``, which carries the last price forward.

    Args:
        source: a file or a directory.
        price_column: use this column as the price (all layouts but the
            headerless matrix).
        symbols: keep only these series, in this order.
        fill_gaps: forward-fill missing prices inside a series.

    Returns:
        A `PriceTable`.

    Raises:
        InputError: for a missing source or any of the problems above.
    """
    path = pathlib.Path(source)
    if not path.exists():
        raise errors.expected("an existing CSV file or directory of CSV files", str(path), name="--data")
    notices = []
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith((".csv", ".csv.gz")))
        if not files:
            raise errors.expected("a directory holding .csv files", str(path), name="--data")
        frames, volumes = [], []
        for file in files:
            frame, volume, found = _read_file(file, price_column)
            frames.append(frame)
            volumes.append(volume)
            notices += found
        if len({isinstance(frame.index, pd.DatetimeIndex) for frame in frames}) > 1:
            raise errors.expected("files that are all dated or all undated", str(path), name="--data")
        prices = pd.concat(frames, axis=1, join="outer").sort_index()
        if prices.columns.duplicated().any():
            raise errors.expected("each series in only one file", list(prices.columns[prices.columns.duplicated()]))
        volume = None
        if all(v is not None for v in volumes):
            volume = pd.concat(volumes, axis=1, join="outer").reindex(prices.index)
    else:
        prices, volume, notices = _read_file(path, price_column)
    if prices.shape[1] == 0:
        raise errors.expected("at least one price column", str(path), name="--data")
    if symbols:
        missing = [symbol for symbol in symbols if symbol not in prices.columns]
        if missing:
            raise errors.expected(
                f"series among {[str(c) for c in prices.columns]}", ",".join(missing), name="--symbols"
            )
        prices = prices[list(symbols)]
        volume = None if volume is None else volume[list(symbols)]
    for column in prices.columns:
        values = prices[column]
        inside = values.loc[values.first_valid_index() : values.last_valid_index()]
        holes = inside.isna()
        if holes.any():
            first = inside.index[holes.to_numpy()][0]
            where = first.date() if isinstance(first, pd.Timestamp) else f"step {first}"
            if not fill_gaps:
                raise errors.expected(
                    "no missing prices inside a series (pass --fill-gaps to carry the last price forward)",
                    f"{int(holes.sum())} missing in {column!r}, first at {where}",
                )
            prices.loc[inside.index, column] = inside.ffill()
            if volume is not None:
                volume.loc[inside.index[holes.to_numpy()], column] = 0.0
            notices.append(f"{column}: carried the last price over {int(holes.sum())} missing rows (first at {where})")
    if volume is not None:
        volume = volume.where(prices.notna())
    table = PriceTable(prices, name=path.name, notices=notices, volume=volume)
    if table.dated:
        gaps = _calendar_gaps(table.prices.index)
        if gaps:
            table.notices.append(gaps)
    return table


def check_positive(values: np.ndarray, names, index=None) -> None:
    """Raise `InputError` if any (non-NaN) price is zero or negative.

    Log-returns need strictly positive prices.

    Examples:
        >>> check_positive(np.array([[1.0], [2.0]]), ["a"])
    """
    values = np.asarray(values, dtype="float64")
    bad = np.nan_to_num(values, nan=1.0) <= 0
    if bad.any():
        row, column = np.argwhere(bad)[0]
        where = index[row].date() if index is not None and hasattr(index[row], "date") else f"row {row}"
        raise errors.expected(
            "positive prices for log-returns (use --target price for series that can be zero or negative)",
            f"{values[row, column]} in {names[column]!r} at {where} ({int(bad.sum())} non-positive)",
        )


# ---------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Split:
    """Row ranges of the three parts, in time order, with rows left out between.

    Rows before ``train.start`` are history: usable as inputs of the first
    training windows with ``history="past"``, never as targets.
    """

    train: range
    validation: range
    test: range

    def parts(self) -> dict[str, range]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


def chronological_split(
    num_rows: int, validation_fraction: float = 0.15, test_fraction: float = 0.15, gap: int = 1
) -> Split:
    """Cut ``num_rows`` time-ordered rows into train, validation and test.

    Both fractions are of all rows; the training part is the rest, minus
    ``gap`` rows left out before each later part (use ``gap >= horizon``).

    Examples:
        >>> chronological_split(100, 0.2, 0.1, gap=3)
        Split(train=range(0, 64), validation=range(67, 87), test=range(90, 100))
    """
    errors.check_fraction(validation_fraction, "validation_fraction", low_inclusive=False)
    errors.check_fraction(test_fraction, "test_fraction", low_inclusive=False)
    if not isinstance(num_rows, (int, np.integer)) or num_rows < 1:
        raise errors.expected("a positive integer", num_rows, name="num_rows")
    if not isinstance(gap, int) or gap < 0:
        raise errors.expected("a non-negative integer", gap, name="gap")
    num_test = max(1, round(test_fraction * num_rows))
    num_validation = max(1, round(validation_fraction * num_rows))
    train_stop = num_rows - num_test - num_validation - 2 * gap
    if train_stop < 1:
        raise errors.expected(
            "enough rows for train, validation and test parts and the gaps between them",
            f"{num_rows} rows (test {num_test}, validation {num_validation}, gap {gap})",
        )
    validation = range(train_stop + gap, train_stop + gap + num_validation)
    return Split(range(0, train_stop), validation, range(validation.stop + gap, num_rows))


def dated_split(index, boundaries, gap: int = 0) -> Split:
    """Split dated rows at given dates.

    Args:
        index: the rows' dates (sorted).
        boundaries: ``[train_start, validation_start, test_start]`` or with
            a fourth date, ``test_end`` (inclusive). Rows before
            ``train_start`` are history; rows after ``test_end`` are unused.
        gap: rows left out at the start of the validation and test parts.

    Examples:
        >>> days = pd.date_range("2020-01-01", periods=10)
        >>> dated_split(days, ["2020-01-02", "2020-01-06", "2020-01-08", "2020-01-09"])
        Split(train=range(1, 5), validation=range(5, 7), test=range(7, 9))
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise errors.expected("dated rows for split dates", "an undated table (use fractions)", name="--split-dates")
    if len(boundaries) not in (3, 4):
        raise errors.expected("3 or 4 dates: TRAIN_START,VALIDATION_START,TEST_START[,TEST_END]", boundaries)
    try:
        dates = [pd.Timestamp(value) for value in boundaries]
    except (ValueError, TypeError):
        raise errors.expected("dates such as 2015-10-01", boundaries, name="--split-dates") from None
    if any(later <= earlier for earlier, later in zip(dates, dates[1:])):
        raise errors.expected("increasing dates", boundaries, name="--split-dates")
    positions = [int(index.searchsorted(date, side="left")) for date in dates[:3]]
    end = int(index.searchsorted(dates[3], side="right")) if len(dates) == 4 else len(index)
    train = range(positions[0], positions[1])
    validation = range(min(positions[1] + gap, positions[2]), positions[2])
    test = range(min(positions[2] + gap, end), end)
    return Split(train, validation, test)


def walk_forward_splits(num_rows: int, folds: int, test_fraction: float, validation_fraction: float, gap: int):
    """Rolling-origin folds: the training part grows, the test block moves forward.

    Fold ``k`` (of ``folds``) tests on the ``k``-th of ``folds`` equal blocks
    that together make the last ``test_fraction`` of the rows; everything
    before it (minus validation and gaps) trains.

    Examples:
        >>> [(s.train.stop, s.test.start, s.test.stop) for s in walk_forward_splits(100, 2, 0.2, 0.1, 1)]
        [(68, 80, 90), (78, 90, 100)]
    """
    if not isinstance(folds, int) or folds < 1:
        raise errors.expected("a positive integer", folds, name="folds")
    block = max(1, round(test_fraction * num_rows / folds))
    num_validation = max(1, round(validation_fraction * num_rows))
    splits = []
    for fold in range(folds):
        stop = num_rows - (folds - 1 - fold) * block
        test = range(stop - block, stop)
        validation = range(test.start - gap - num_validation, test.start - gap)
        train = range(0, validation.start - gap)
        if len(train) < 1:
            raise errors.expected("enough rows for every walk-forward fold", f"{num_rows} rows, {folds} folds")
        splits.append(Split(train, validation, test))
    return splits


# ---------------------------------------------------------------------------
# Windows and scalers
# ---------------------------------------------------------------------------


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
        train, validation, test: `Windows` of raw prices.
        input_scaler: statistics of the model inputs (log-returns or
            prices), per channel, fitted on training rows only.
        target_scaler: statistics of the training targets (cumulative
            log-return or price per output step and channel).
        feature_scaler: statistics of ``log1p`` of the extra features on
            training rows, or `None` without features.
        target: ``"log_return"`` or ``"price"``.
        window, horizon, steps, history: the settings used.
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


def _part_windows(values, part, window, horizon, history, steps, features=None) -> Windows:
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


def _concatenate(parts: list[Windows]) -> Windows:
    def join(name):
        pieces = [getattr(part, name) for part in parts]
        return None if any(piece is None for piece in pieces) else np.concatenate(pieces)

    return Windows(*(join(field.name) for field in dataclasses.fields(Windows)))


def _stacked_rows(part: range, num_series: int, num_rows: int) -> np.ndarray:
    """Rows of ``part`` in every series when the series are stacked end to end."""
    return np.concatenate([np.arange(part.start, part.stop) + i * num_rows for i in range(num_series)])


def _check_sizes(parts: dict[str, Windows], window: int, horizon: int, num_rows: int):
    empty = [name for name, part in parts.items() if len(part) == 0]
    if empty:
        raise errors.expected(
            f"a series long enough for window {window} + horizon {horizon} in every part",
            f"{num_rows} rows, leaving no samples in {', '.join(empty)} (shorten --window, or use "
            "--history past, or give the parts more rows)",
        )


def prepare_forecast(
    prices,
    split: Split,
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
            piece = _part_windows(column, part, window, horizon, history, steps, extra)
            piece.series[:] = index
            pieces.append(piece)
        parts[name] = _concatenate(pieces)
    _check_sizes(parts, window, horizon, len(values))
    channels = 1 if pooled else values.shape[1]
    stacked = np.concatenate(columns, axis=0) if pooled else values
    # Training rows of every series; in pooled mode the series are stacked, so
    # row r of series i sits at i * rows + r.
    train_rows = _stacked_rows(split.train, len(columns), len(values))
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


# ---------------------------------------------------------------------------
# Movement (up / down) samples
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class MovementData:
    """Up/down classification samples of every series, pooled.

    Attributes:
        train, validation, test: `Windows` of raw price windows
            ``(samples, window, 1)`` and labels (1 up, 0 down).
        input_scaler: statistics of the one-step log-returns of the
            training rows of all series.
    """

    train: Windows
    validation: Windows
    test: Windows
    input_scaler: Scaler
    window: int

    def parts(self) -> dict[str, Windows]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def sizes(self) -> dict[str, int]:
        return {name: len(part) for name, part in self.parts().items()}


def movement_labels(returns: np.ndarray, up: float = 0.0055, down: float = -0.005) -> np.ndarray:
    """1 for a simple return above ``up``, 0 below ``down``, -1 in the dead zone (dropped).

    Examples:
        >>> movement_labels(np.array([0.01, 0.0, -0.02, 0.0055])).tolist()
        [1, -1, 0, -1]
    """
    returns = np.asarray(returns, dtype="float64")
    labels = np.full(returns.shape, -1, dtype="int64")
    labels[returns > up] = 1
    labels[returns < down] = 0
    return labels


def prepare_movement(
    prices, split: Split, window: int, up: float = 0.0055, down: float = -0.005, history: str = "past"
) -> MovementData:
    """Next-step up/down samples with a dead zone, pooled over series.

    The label of origin ``t`` is the simple return from row ``t`` to row
    ``t + 1`` (up above ``up``, down below ``down``; moves in between are
    dropped, as in the StockNet protocol). Samples belong to the part of
    their target row.

    Returns:
        `MovementData`; the return scaler saw training rows only.
    """
    if not down < up:
        raise errors.expected("down threshold below the up threshold", (down, up), name="dead zone")
    if window < 2:
        raise errors.expected("at least 2 prices per window", window, name="window")
    values = np.asarray(prices, dtype="float64")
    if values.ndim == 1:
        values = values[:, None]
    parts = {}
    for name, part in split.parts().items():
        pieces = []
        for index in range(values.shape[1]):
            column = values[:, [index]]
            piece = _part_windows(column, part, window, 1, history, "last")
            moves = piece.targets[:, 0, 0] / piece.inputs[:, -1, 0] - 1.0
            labels = movement_labels(moves, up, down)
            keep = labels >= 0
            pieces.append(
                Windows(
                    piece.inputs[keep],
                    labels[keep],
                    piece.origins[keep],
                    piece.target_rows[keep],
                    np.full(int(keep.sum()), index, dtype="int64"),
                )
            )
        parts[name] = _concatenate(pieces)
    _check_sizes(parts, window, 1, len(values))
    # One return scaler for all series: stack them as one column.
    returns = np.concatenate([log_returns(values[:, [i]]) for i in range(values.shape[1])], axis=0)
    scaler = fit_scaler(returns, _stacked_rows(split.train, values.shape[1], len(values)))
    return MovementData(parts["train"], parts["validation"], parts["test"], Scaler.from_sklearn(scaler, (1,)), window)


def dataset(inputs, targets, batch_size: int, shuffle: bool = False, seed: int = 0):
    """A batched `tf.data.Dataset` of ``(inputs, targets)`` float32 arrays."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((np.asarray(inputs, "float32"), np.asarray(targets, "float32")))
    if shuffle:
        data = data.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)
