import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_apps import errors
from rnn_apps.data import splits


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=10, max_value=60), min_size=2, max_size=4),
    validation=st.floats(min_value=0.1, max_value=0.4),
    test=st.sampled_from([0.0, 0.1, 0.25]),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_parts_are_disjoint_cover_everything_and_keep_classes(counts, validation, test, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    parts = splits.stratified_split(labels, validation, test, seed=seed)
    joined = np.concatenate([parts.train, parts.validation, parts.test])
    assert sorted(joined.tolist()) == list(range(len(labels)))
    assert set(parts.train) & set(parts.validation) == set()
    assert set(parts.train) & set(parts.test) == set()
    # Every class appears in training, and in proportion (within a row or two).
    for cls, count in enumerate(counts):
        share = (labels[parts.train] == cls).mean()
        assert abs(share - count / len(labels)) < 0.1


def test_same_seed_same_split_other_seed_other_split():
    labels = np.arange(100) % 2
    a = splits.stratified_split(labels, 0.2, 0.2, seed=3)
    b = splits.stratified_split(labels, 0.2, 0.2, seed=3)
    c = splits.stratified_split(labels, 0.2, 0.2, seed=4)
    assert np.array_equal(a.test, b.test) and not np.array_equal(a.test, c.test)


def test_too_few_rows_of_a_class():
    with pytest.raises(errors.InputError, match="enough rows of every class"):
        splits.stratified_split([0, 1, 2, 3], 0.2, 0.2)  # no class has two rows
    with pytest.raises(errors.InputError, match="enough rows of every class"):
        splits.stratified_split([0, 0, 1, 1], 0.6, 0.0)  # one row of each class would be left to train on


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_classes_get_one_held_out_row_each_and_single_rows_train(seed, capsys):
    labels = np.array([*range(10)] * 5 + [10])  # five rows of each of 10 classes, one row of an eleventh
    parts = splits.stratified_split(labels, 0.15, 0.0, seed=seed)
    assert sorted(labels[parts.validation].tolist()) == list(range(10))  # 15% would be 8 rows: too few
    assert 10 in labels[parts.train] and sorted([*parts.train, *parts.validation]) == list(range(51))
    notice = capsys.readouterr().out
    assert "10 classes, 10 rows (15% of 51 would be 8)" in notice
    assert "1 class(es) with a single row stay in training" in notice
    again = splits.stratified_split(labels, 0.15, 0.0, seed=seed)
    assert (again.validation == parts.validation).all() and capsys.readouterr().out == notice
    # Enough rows per class: the split is the plain stratified one, no notice.
    splits.stratified_split([*range(4)] * 10, 0.15, 0.0, seed=seed)
    assert capsys.readouterr().out == ""
