"""Price tables: reading CSV files of prices into a `PriceTable` and checking them.

`load_prices` reads a table of prices (one column per series) from a CSV, a
directory of CSVs or a headerless numeric matrix, checks it, and returns a
`PriceTable`; `read` does the same from a recipe's flags (``yfinance:TICKER``
downloads, ``--symbols`` text); `check_positive` refuses prices that
log-returns cannot take, and `volume_of` picks the volume of chosen rows.
The leak-free path from a table to training windows continues in
`rnn_apps.data.time_splits` and `rnn_apps.data.windows`.
"""

from __future__ import annotations

import dataclasses
import io
import pathlib

import numpy as np
import pandas as pd

from rnn_apps import errors
from rnn_apps.data import text_files

PRICE_COLUMNS = ("adj close", "adj_close", "adjclose", "close", "price", "value")
"""Price column names, in order of preference (case-insensitive)."""

DATE_COLUMNS = ("date", "datetime", "timestamp", "time", "day")
SYMBOL_COLUMNS = ("symbol", "ticker")
VOLUME_COLUMNS = ("volume",)


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


def _read_file(path: pathlib.Path, price_column: str | None, encoding: str):
    # Decoded here, whole, so a byte that does not decode is named with its line wherever it is.
    content = text_files.read_text(path, encoding)
    try:
        first_line = pd.read_csv(io.StringIO(content), header=None, nrows=1, dtype=str).iloc[0].tolist()
    except (pd.errors.EmptyDataError, IndexError):
        raise errors.expected("a CSV file with rows", f"{path} (empty)") from None
    except pd.errors.ParserError as error:
        raise errors.expected("a readable CSV file", f"{path} ({error})") from None
    stem = path.name.split(".")[0]
    try:
        if all(_is_number(str(value)) for value in first_line):
            # A headerless numeric matrix: one column per series, no dates.
            if price_column is not None:
                raise errors.expected(
                    "no --price-column for a headerless matrix (its columns have no names)", price_column
                )
            matrix = _numeric(pd.read_csv(io.StringIO(content), header=None, dtype=str), str(path))
            matrix.columns = [f"{stem}_{index}" for index in range(matrix.shape[1])]
            return matrix, None, []
        frame = pd.read_csv(io.StringIO(content), dtype=str, skipinitialspace=True)
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
    encoding: str = text_files.DEFAULT_ENCODING,
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
        encoding: the codec of the files (a byte that does not decode is
            an error naming its line; byte-order marks are ignored).

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
            frame, volume, found = _read_file(file, price_column, encoding)
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
        prices, volume, notices = _read_file(path, price_column, encoding)
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


def read(
    source: str | pathlib.Path,
    *,
    price_column: str | None = None,
    symbols: str | None = None,
    fill_gaps: bool = False,
    encoding: str = text_files.DEFAULT_ENCODING,
) -> PriceTable:
    """`load_prices` from a recipe's flags: ``yfinance:TICKER`` downloads, ``symbols`` is comma-separated text.

    Args:
        source: a file or directory, or ``yfinance:TICKER``.
        price_column: as in `load_prices`.
        symbols: ``"AAPL,MSFT"``: the series to keep, in this order.
        fill_gaps: as in `load_prices`.
        encoding: as in `load_prices`.

    Raises:
        rnn_apps.errors.InputError: no series name in ``symbols``, or
            anything `load_prices` refuses.
    """
    names = [name.strip() for name in symbols.split(",") if name.strip()] if symbols is not None else None
    if names == []:
        raise errors.expected("comma-separated series names", symbols, name="--symbols")
    if str(source).startswith("yfinance:"):
        source = download_yfinance(str(source).split(":", 1)[1])
    return load_prices(source, price_column=price_column, symbols=names, fill_gaps=fill_gaps, encoding=encoding)


def download_yfinance(ticker: str) -> pathlib.Path:
    """Daily prices of ``ticker`` from Yahoo Finance via the optional yfinance package, as a temporary CSV."""
    import tempfile

    from rnn_apps import io

    try:
        import yfinance
    except ImportError:
        raise errors.expected("the optional package yfinance for --data yfinance:TICKER", "not installed") from None
    frame = yfinance.download(ticker, period="max", auto_adjust=False, progress=False)
    if frame is None or frame.empty:
        raise errors.expected("a ticker that Yahoo Finance knows", ticker, name="--data")
    frame.columns = [column[0] if isinstance(column, tuple) else column for column in frame.columns]
    return io.write_text(pathlib.Path(tempfile.mkdtemp(prefix="stocks-")) / f"{ticker}.csv", frame.to_csv())


def volume_of(table: PriceTable, prices: pd.DataFrame) -> np.ndarray:
    """The traded volume on the rows and columns of ``prices`` (a selection of ``table.prices``).

    Raises:
        rnn_apps.errors.InputError: the table has no volume (only
            Yahoo-style files do).
    """
    if table.volume is None:
        raise errors.expected("Yahoo-style files with a Volume column for --volume", table.name, name="--data")
    return table.volume.loc[prices.index, prices.columns].to_numpy()
