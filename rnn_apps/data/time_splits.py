"""Chronological train / validation / test splits of time-ordered rows, with gaps between parts.

A time series is split in time order, never at random, and ``gap`` rows are
left out between parts (use ``gap >= horizon``) so that no target of one part
sits right next to the inputs of the next:

- `chronological_split` cuts by fractions of the rows;
- `dated_split` cuts at given dates;
- `walk_forward_splits` gives rolling-origin folds for walk-forward
  evaluation.
- `from_settings` picks one of them from a recipe's flags.

Each returns `Split` row ranges, from which `rnn_apps.data.windows` cuts the
windows of each part alone. Random and stratified splits of independent rows
are in `rnn_apps.data.splits`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rnn_apps import errors


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


def from_settings(index, horizon: int, settings) -> list[Split]:
    """The split a recipe's flags ask for: by fractions, by dates, or walk-forward folds.

    Args:
        index: the rows' time index (dates for ``split_dates``); its length
            is the number of rows.
        horizon: steps ahead; the default ``gap`` and its least value.
        settings: any object with these attributes (a recipe's
            configuration): ``validation_fraction`` and ``test_fraction``
            (of all rows); ``gap``, rows left out between parts, `None` for
            ``horizon`` (0 with ``split_dates``, whose dates already separate
            the parts); ``split_dates``,
            ``"TRAIN_START,VALIDATION_START,TEST_START[,TEST_END]"`` or
            `None`; ``walk_forward``, rolling-origin folds over the test
            fraction, 0 for one split.

    Returns:
        One `Split`, or one per walk-forward fold.

    Raises:
        rnn_apps.errors.InputError: a gap below the horizon, or settings
            the rows cannot satisfy.

    Examples:
        >>> import types
        >>> flags = types.SimpleNamespace(validation_fraction=0.15, test_fraction=0.15, gap=None, split_dates=None)
        >>> from_settings(range(100), 2, flags)
        [Split(train=range(0, 66), validation=range(68, 83), test=range(85, 100))]
    """
    gap, dates = settings.gap, settings.split_dates
    if dates:
        return [dated_split(index, [value.strip() for value in dates.split(",")], gap=0 if gap is None else gap)]
    gap = horizon if gap is None else gap
    if gap < horizon:
        raise errors.expected(f"at least the horizon ({horizon})", gap, name="--gap")
    fractions = settings.validation_fraction, settings.test_fraction
    if getattr(settings, "walk_forward", 0):
        return walk_forward_splits(len(index), settings.walk_forward, fractions[1], fractions[0], gap)
    return [chronological_split(len(index), *fractions, gap)]
