"""Reproducible train / validation / test splits (pure NumPy + scikit-learn)."""

from __future__ import annotations

import dataclasses
import math

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
    """``(kept, held out)``: ``fraction`` of ``indices`` held out, by class when ``stratify``.

    Where the stratified part would hold fewer rows than there are classes
    (5 series of each of 10 classes, 15% held out: 8 rows), it grows to one
    row of every class; the rows of a class that has only one stay in the
    kept part. Either way a notice says so. A split that is still impossible
    raises `InputError`.
    """
    strata = labels[indices] if stratify else None
    try:
        if strata is None:
            return model_selection.train_test_split(indices, test_size=fraction, random_state=seed)
        classes, counts = np.unique(strata, return_counts=True)
        asked = math.ceil(fraction * len(indices))  # what train_test_split holds out for a fraction
        if counts.min() >= 2 and asked >= len(classes):
            return model_selection.train_test_split(indices, test_size=fraction, random_state=seed, stratify=strata)
        single = np.isin(strata, classes[counts < 2])
        pool, shared = indices[~single], int((counts >= 2).sum())
        if shared == 0:
            raise ValueError("no class has two rows")
        size = max(asked, shared)
        kept, held = model_selection.train_test_split(pool, test_size=size, random_state=seed, stratify=labels[pool])
        print(
            f"{part} part: one row or more of each of {shared} classes, {size} rows "
            f"({fraction:.0%} of {len(indices)} would be {asked})"
            + (f"; {int(single.sum())} class(es) with a single row stay in training" if single.any() else "")
        )
        return np.concatenate([kept, indices[single]]), held
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

        Few rows per class: the validation part grows to one row of each class.

        >>> parts = stratified_split(list(range(10)) * 5, 0.15, 0.0, seed=1)
        validation part: one row or more of each of 10 classes, 10 rows (15% of 50 would be 8)
        >>> sorted(np.asarray(list(range(10)) * 5)[parts.validation].tolist()) == list(range(10))
        True
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


def cross_validation_split(
    labels,
    folds: int,
    fold: int,
    validation_fraction: float = 0.1,
    seed: int = 0,
) -> SplitIndices:
    """Fold ``fold`` of a stratified ``folds``-fold cross-validation.

    The test part is one fold; the validation part is held out of the other
    folds, stratified. Running every ``fold`` from 0 to ``folds - 1`` tests
    each row exactly once (the protocol of MR and similar sets).

    Args:
        labels: 1-D array of class labels.
        folds: int >= 2.
        fold: int in ``[0, folds)``.
        validation_fraction: float in (0, 1), of the non-test rows.
        seed: seed of the fold assignment and of the validation split.

    Returns:
        `SplitIndices`, each array sorted.

    Examples:
        >>> parts = [cross_validation_split([0, 1] * 10, 5, k, 0.25) for k in range(5)]
        >>> sorted(int(i) for p in parts for i in p.test) == list(range(20))
        True
    """
    labels = np.asarray(labels)
    if not isinstance(folds, int) or folds < 2:
        raise errors.expected("an integer >= 2", folds, name="folds")
    if not isinstance(fold, int) or not 0 <= fold < folds:
        raise errors.expected(f"an integer in [0, {folds})", fold, name="fold")
    errors.check_fraction(validation_fraction, "validation_fraction", low_inclusive=False)
    splitter = model_selection.StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    try:
        rest, test = list(splitter.split(np.zeros(len(labels)), labels))[fold]
    except ValueError as error:
        raise errors.InputError(
            f"Expected at least {folds} rows of every class for {folds}-fold cross-validation. Received: {error}"
        ) from None
    train, validation = _split(rest, labels, validation_fraction, seed, True, "validation")
    return SplitIndices(np.sort(train), np.sort(validation), np.sort(test))


def refuse_given_parts(settings, reason: str) -> None:
    """Raise `InputError` if ``--validation-data`` or ``--test-data`` is given to a recipe that cannot take them.

    Args:
        settings: a recipe's configuration (``validation_data`` and
            ``test_data`` attributes).
        reason: how that recipe's parts are made instead, for the message.

    Examples:
        >>> import types
        >>> refuse_given_parts(types.SimpleNamespace(validation_data=None, test_data=None), "split by time")
    """
    for part in ("validation", "test"):
        given = getattr(settings, f"{part}_data", None)
        if given is not None:
            raise errors.expected(f"no --{part}-data for this recipe ({reason})", given, name=f"--{part}-data")


def known_labels(names, class_names: list[str], part: str, where) -> list[int]:
    """Indices of ``names`` in the training data's ``class_names``, for a part given by ``--{part}-data``.

    Args:
        names: the label of each row of the given part.
        class_names: the training data's classes.
        part: ``validation`` or ``test``.
        where: the given file or folder, for the message.

    Raises:
        rnn_apps.errors.InputError: a label the training data lacks.

    Examples:
        >>> known_labels(["b", "a", "b"], ["a", "b"], "test", "dev")
        [1, 0, 1]
    """
    unknown = sorted({str(name) for name in names} - set(class_names))
    if unknown:
        raise errors.expected(
            f"only classes of the training data {class_names} in --{part}-data",
            f"{', '.join(unknown[:10])} (in {where})",
        )
    return [class_names.index(str(name)) for name in names]
