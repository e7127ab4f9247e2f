"""Price loading and bad input: every layout the stocks recipe reads, every error it reports."""

import gzip
import importlib.util
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from recipes import stocks
from rnn_apps import errors
from rnn_apps.data import price_tables, time_splits, windows
from rnn_apps.tasks import forecasting

YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"


def yahoo_csv(path, days=60, start="2020-01-01", seed=0, adjust=0.9):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=days)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, days)))
    rows = [YAHOO_HEADER] + [
        f"{d.date()},{c:.4f},{c * 1.01:.4f},{c * 0.99:.4f},{c:.4f},{c * adjust:.4f},{1000 + i}"
        for i, (d, c) in enumerate(zip(dates, close))
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_yahoo_csv_uses_the_adjusted_close(tmp_path):
    table = price_tables.load_prices(yahoo_csv(tmp_path / "ACME.csv"))
    assert table.series_names == ["ACME"] and table.dated and len(table.prices) == 60
    raw = pd.read_csv(tmp_path / "ACME.csv")
    np.testing.assert_allclose(table.prices["ACME"].to_numpy(), raw["Adj Close"].to_numpy())
    close = price_tables.load_prices(tmp_path / "ACME.csv", price_column="Close")
    np.testing.assert_allclose(close.prices["ACME"].to_numpy(), raw["Close"].to_numpy())


def test_bundled_long_table_pivots_to_one_column_per_symbol():
    table = price_tables.load_prices(REPO / "data" / "stocks" / "vega_stocks.csv")
    assert table.series_names == ["AAPL", "AMZN", "GOOG", "IBM", "MSFT"]
    assert len(table.prices) == 123 and table.prices.index[0] == pd.Timestamp("2000-01-01")
    # GOOG starts in August 2004: NaN before, no hole after.
    assert table.prices["GOOG"].notna().sum() == 68 and table.notices == []


def test_wide_table_and_symbol_selection(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("date,a,b\n2020-01-01,1,10\n2020-01-02,2,11\n2020-01-03,3,12\n")
    table = price_tables.load_prices(path, symbols=["b"])
    assert table.series_names == ["b"] and table.prices["b"].tolist() == [10, 11, 12]
    with pytest.raises(errors.InputError, match="--symbols"):
        price_tables.load_prices(path, symbols=["c"])


def test_directory_of_csvs_aligns_series_on_dates(tmp_path):
    yahoo_csv(tmp_path / "AAA.csv", days=40)
    yahoo_csv(tmp_path / "BBB.csv", days=30, start="2020-01-15", seed=1)
    (tmp_path / "notes.txt").write_text("ignored")
    table = price_tables.load_prices(tmp_path)
    assert table.series_names == ["AAA", "BBB"]
    assert table.prices["BBB"].first_valid_index() == pd.Timestamp("2020-01-15")
    assert table.prices["AAA"].notna().sum() == 40
    assert table.volume.shape == table.prices.shape and table.volume["AAA"].iloc[0] == 1000


def test_headerless_gzipped_matrix(tmp_path):
    path = tmp_path / "rates.txt.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("".join(f"{1 + i * 0.01:.4f},{2 + i * 0.02:.4f}\n" for i in range(20)))
    table = price_tables.load_prices(path)
    assert table.series_names == ["rates_0", "rates_1"] and not table.dated and table.prices.shape == (20, 2)


def test_unsorted_dates_are_sorted_with_a_notice(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("date,a\n2020-01-03,3\n2020-01-01,1\n2020-01-02,2\n")
    table = price_tables.load_prices(path)
    assert table.prices["a"].tolist() == [1, 2, 3]
    assert any("sorted" in notice for notice in table.notices)


@pytest.mark.parametrize(
    "body, match",
    [
        ("date,a\n2020-01-01,1\n2020-01-01,2\n", "one row per date"),
        ("date,a\n2020-01-01,1\nnot a date,2\n", "dates that pandas can parse"),
        ("date,a\n2020-01-01,1\n2020-01-02,abc\n", "numeric prices"),
        ("symbol,date,price\nX,2020-01-01,1\nX,2020-01-01,2\n", "one row per symbol and date"),
        ("date,a\n2020-01-01,1\n2020-01-02,\n2020-01-03,3\n", "no missing prices inside a series"),
        ("a,b\nx,1\n", "a date column"),
        ("", "empty"),
    ],
)
def test_bad_tables_raise_input_errors(tmp_path, body, match):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(errors.InputError, match=match):
        price_tables.load_prices(path)


def test_unknown_price_column(tmp_path):
    with pytest.raises(errors.InputError, match="--price-column.*Adj Close"):
        price_tables.load_prices(yahoo_csv(tmp_path / "A.csv"), price_column="Closing")


def test_missing_prices_can_be_carried_forward(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("date,a\n2020-01-01,1\n2020-01-02,\n2020-01-03,3\n")
    table = price_tables.load_prices(path, fill_gaps=True)
    assert table.prices["a"].tolist() == [1, 1, 3]
    assert any("carried the last price" in notice for notice in table.notices)


def test_long_calendar_gaps_give_a_notice(tmp_path):
    path = tmp_path / "gappy.csv"
    days = list(pd.bdate_range("2020-01-01", periods=30)) + list(pd.bdate_range("2020-06-01", periods=30))
    path.write_text("date,a\n" + "".join(f"{d.date()},{100 + i}\n" for i, d in enumerate(days)))
    table = price_tables.load_prices(path)
    assert any("calendar gaps" in notice and "2020-06-01" in notice for notice in table.notices)


def test_non_positive_prices_are_refused_for_log_returns():
    with pytest.raises(errors.InputError, match="positive prices for log-returns.*-1.0"):
        price_tables.check_positive(np.array([[1.0], [-1.0]]), ["a"])


def test_a_series_too_short_for_window_and_horizon():
    prices = np.linspace(1, 2, 30)[:, None]
    split = time_splits.chronological_split(30, 0.2, 0.2, gap=2)
    with pytest.raises(errors.InputError, match="window 20 \\+ horizon 2"):
        windows.prepare_forecast(prices, split, window=20, horizon=2, history="part")


def run_cli(*flags, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "recipes.stocks", *flags], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,a\n2020-01-01,1\n2020-01-01,2\n")
    output = tmp_path / "run"
    result = run_cli("--data", str(bad), "--output-dir", str(output))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("python -m recipes.stocks: error: Expected one row per")
    assert "Traceback" not in result.stderr and not output.exists()


@pytest.mark.parametrize(
    "flags, match",
    [
        (["--window", "200"], "long enough for window 200"),
        (["--price-column", "close"], "Expected --price-column"),
        (["--symbols", "AAPL,NOPE"], "--symbols"),
        (["--gap", "0", "--horizon", "2"], "at least the horizon"),
        (["--task", "movement", "--horizon", "3"], "--horizon 1"),
        (["--quantiles", "0.9,0.1"], "increasing quantile levels"),
        (["--data", "missing.csv"], "an existing CSV file"),
        (["--split-dates", "2009-01-01,2008-01-01,2010-01-01"], "increasing dates"),
        (["--volume"], "a Volume column for --volume"),
    ],
)
def test_recipe_rejects_bad_settings_before_writing(tmp_path, capsys, flags, match):
    output = tmp_path / "run"
    with pytest.raises(SystemExit) as stopped:
        stocks.main([*flags, "--quick", "--output-dir", str(output), "--verbose", "0"])
    assert stopped.value.code == 2
    assert match in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.skipif(importlib.util.find_spec("yfinance") is not None, reason="would download")
def test_yfinance_source_needs_the_optional_package(tmp_path, capsys):
    with pytest.raises(SystemExit):
        stocks.main(["--data", "yfinance:AAPL", "--quick", "--output-dir", str(tmp_path / "run")])
    assert "optional package yfinance" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_non_positive_prices_exit_2_from_the_recipe(tmp_path, capsys):
    path = tmp_path / "neg.csv"
    values = np.linspace(-1, 1, 80)
    path.write_text(
        "date,a\n" + "".join(f"{d.date()},{v}\n" for d, v in zip(pd.bdate_range("2020-01-01", periods=80), values))
    )
    with pytest.raises(SystemExit):
        stocks.main(["--data", str(path), "--quick", "--window", "5", "--output-dir", str(tmp_path / "run")])
    assert "positive prices for log-returns" in capsys.readouterr().err


def test_prediction_windows_parse_from_strings():
    assert forecasting.parse_window("1,2,3", 3, 1).tolist() == [[1.0], [2.0], [3.0]]
    assert forecasting.parse_window("1:10,2:20", 2, 2).shape == (2, 2)
    for text, match in [("1,2", "3 prices per window"), ("1:2,3", "a window of prices"), ("a,b,c", "comma-separated")]:
        with pytest.raises(errors.InputError, match=match):
            forecasting.parse_window(text, 3, 1)
