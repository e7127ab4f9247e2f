"""Property-based leak tests: no test-period value ever reaches a training window or a scaler.

The check is by intervention: replace every price of a later part with
garbage and rebuild the pipeline. If a training window, a training target or
a scaler statistic changes, a later value leaked into it. The last tests
exercise the failure on purpose: with the scaler fitted on the whole series,
or windows allowed to run past their part, the same checks fail.
"""

from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from rnn_apps import errors
from rnn_apps.data import movement, time_splits, windows

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def forecast_cases(draw):
    rows = draw(st.integers(40, 160))
    channels = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    prices = 50 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.02, (rows, channels)), axis=0))
    if draw(st.booleans()):  # a series that starts late, as GOOG in the sample
        prices[: draw(st.integers(1, rows // 3)), 0] = np.nan
    return dict(
        prices=prices,
        window=draw(st.integers(2, 10)),
        horizon=draw(st.integers(1, 5)),
        validation_fraction=draw(st.sampled_from([0.1, 0.15, 0.2])),
        test_fraction=draw(st.sampled_from([0.1, 0.2, 0.3])),
        target=draw(st.sampled_from(windows.TARGETS)),
        steps=draw(st.sampled_from(windows.STEPS)),
        history=draw(st.sampled_from(windows.HISTORY)),
        pooled=draw(st.booleans()),
        walk_forward=draw(st.sampled_from([0, 0, 2, 3])),
        extra_gap=draw(st.integers(0, 2)),
        volume=np.random.default_rng(seed + 1).uniform(1e3, 1e5, (rows, channels)) if draw(st.booleans()) else None,
    )


def splits_of(case):
    rows, gap = len(case["prices"]), case["horizon"] + case["extra_gap"]
    if case["walk_forward"]:
        return time_splits.walk_forward_splits(
            rows, case["walk_forward"], case["test_fraction"], case["validation_fraction"], gap
        )
    return [time_splits.chronological_split(rows, case["validation_fraction"], case["test_fraction"], gap)]


def corrupt_from(prices, row, seed=1):
    """Replace every value from ``row`` on with wild (but positive) garbage."""
    changed = prices.copy()
    garbage = np.random.default_rng(seed).uniform(1e3, 1e6, changed[row:].shape)
    changed[row:] = np.where(np.isnan(changed[row:]), np.nan, garbage)
    return changed


def same(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def assert_part_unchanged(before, after, label):
    for field in ("inputs", "targets", "origins", "target_rows", "series", "features"):
        old, new = getattr(before, field), getattr(after, field)
        assert (old is None and new is None) or same(old, new), f"{label}.{field} changed"


def prepare(case, split, prices, volume=None):
    return windows.prepare_forecast(
        prices,
        split,
        case["window"],
        case["horizon"],
        target=case["target"],
        steps=case["steps"],
        history=case["history"],
        pooled=case["pooled"],
        features=case["volume"] if volume is None else volume,
    )


def forecast_property(case):
    try:
        splits = splits_of(case)
        prepared = [prepare(case, split, case["prices"]) for split in splits]
    except errors.InputError:
        assume(False)
    for split, data in zip(splits, prepared):
        # Every row a training sample reads or predicts precedes validation and test.
        train = data.train
        reads = train.origins[:, None] + np.arange(-case["window"] + 1, case["horizon"] + 1)[None, :]
        assert reads.max() < split.validation.start and reads.min() >= 0
        assert data.validation.target_rows.max() < split.test.start
        assert data.test.target_rows.min() >= split.test.start

        # Intervention: garbage in the test period changes nothing before it ...
        volume = None if case["volume"] is None else corrupt_from(case["volume"], split.test.start, seed=3)
        after = prepare(case, split, corrupt_from(case["prices"], split.test.start), volume)
        assert_part_unchanged(data.train, after.train, "train")
        assert_part_unchanged(data.validation, after.validation, "validation")
        scalers = ("input_scaler", "target_scaler") + (("feature_scaler",) if case["volume"] is not None else ())
        for name in scalers:
            for stat in ("mean", "variance"):
                assert same(getattr(getattr(data, name), stat), getattr(getattr(after, name), stat)), name
        # ... and garbage from validation on leaves training and the scalers alone.
        after = prepare(case, split, corrupt_from(case["prices"], split.validation.start, seed=2))
        assert_part_unchanged(data.train, after.train, "train")
        assert same(data.input_scaler.mean, after.input_scaler.mean), "input_scaler"
        assert same(data.target_scaler.variance, after.target_scaler.variance), "target_scaler"


@st.composite
def movement_cases(draw):
    rows = draw(st.integers(60, 160))
    seed = draw(st.integers(0, 2**16))
    channels = draw(st.integers(1, 3))
    prices = 20 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.02, (rows, channels)), axis=0))
    return dict(prices=prices, window=draw(st.integers(2, 8)), history=draw(st.sampled_from(windows.HISTORY)))


def movement_property(case):
    prices = case["prices"]
    split = time_splits.chronological_split(len(prices), 0.2, 0.2, gap=1)
    try:
        data = movement.prepare_movement(prices, split, case["window"], history=case["history"])
    except errors.InputError:
        assume(False)
    assert (data.train.target_rows < split.validation.start).all()
    after = movement.prepare_movement(
        corrupt_from(prices, split.validation.start), split, case["window"], history=case["history"]
    )
    assert_part_unchanged(data.train, after.train, "train")
    assert same(data.input_scaler.mean, after.input_scaler.mean), "input_scaler"
    assert same(data.input_scaler.variance, after.input_scaler.variance), "input_scaler"


check_forecast_pipeline = SETTINGS(given(forecast_cases())(forecast_property))
check_movement_pipeline = SETTINGS(given(movement_cases())(movement_property))
# The leak demonstrations only need to see the checks fail, not the smallest failing case.
NO_SHRINK = settings(SETTINGS, phases=[Phase.generate])


def test_forecast_pipeline_is_leak_free():
    check_forecast_pipeline()


def test_movement_pipeline_is_leak_free():
    check_movement_pipeline()


def test_the_leak_tests_catch_a_scaler_fitted_on_the_whole_series():
    original = windows.fit_scaler

    def whole_series(values, rows):
        # The classic mistake: ignore the training rows and fit on every row, test period included.
        return original(values, range(len(values)))

    with mock.patch.object(windows, "fit_scaler", whole_series):
        with pytest.raises(AssertionError, match="scaler"):
            NO_SHRINK(given(forecast_cases())(forecast_property))()
        with pytest.raises(AssertionError, match="input_scaler"):
            NO_SHRINK(given(movement_cases())(movement_property))()


def test_scaler_statistics_are_those_of_the_training_rows():
    prices = np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, (100, 2)), axis=0))
    split = time_splits.chronological_split(100, 0.2, 0.2, gap=1)
    data = windows.prepare_forecast(prices, split, window=5, horizon=1, target="price")
    np.testing.assert_allclose(data.input_scaler.mean, prices[split.train.start : split.train.stop].mean(axis=0))
    np.testing.assert_allclose(data.input_scaler.variance, prices[split.train.start : split.train.stop].var(axis=0))
