"""Reproducible train / validation / test splits (pure NumPy + scikit-learn)."""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn import model_selection

from rnn_apps import errors


@dataclasses.dataclass(frozen=True)
class SplitIndices:
    """Row indices of each part; disjoint, and together all rows."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def _split(indices, labels, fraction, seed, stratify, part):
    strata = labels[indices] if stratify else None
    try:
        return model_selection.train_test_split(indices, test_size=fraction, random_state=seed, stratify=strata)
    except ValueError as error:
        raise errors.InputError(
            f"Expected enough rows of every class to hold out a {part} part "
            f"of {fraction:.0%}. Received: {len(indices)} rows ({error})"
        ) from None


def stratified_split(
    labels,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    stratify: bool = True,
) -> SplitIndices:
    """Split rows into train, validation and test parts with class balance kept.

    The test part is taken first from all rows, then the validation part
    from what is left, so ``validation_fraction`` is a fraction of the
    non-test rows. With ``test_fraction=0`` (the data has its own test set)
    only a validation part is held out.

    Args:
        labels: 1-D array of class labels, one per row.
        validation_fraction: float in (0, 1).
        test_fraction: float in [0, 1).
        seed: random seed; the same seed gives the same split.
        stratify: keep class proportions in every part.

    Returns:
        `SplitIndices`, each array sorted.

    Examples:
        >>> parts = stratified_split([0, 1] * 10, 0.25, 0.2, seed=1)
        >>> [len(parts.train), len(parts.validation), len(parts.test)]
        [12, 4, 4]
    """
    labels = np.asarray(labels)
    errors.check_fraction(validation_fraction, "validation_fraction", low_inclusive=False)
    errors.check_fraction(test_fraction, "test_fraction")
    indices = np.arange(len(labels))
    test = np.array([], dtype=indices.dtype)
    if test_fraction:
        indices, test = _split(indices, labels, test_fraction, seed, stratify, "test")
    train, validation = _split(indices, labels, validation_fraction, seed, stratify, "validation")
    return SplitIndices(np.sort(train), np.sort(validation), np.sort(test))
