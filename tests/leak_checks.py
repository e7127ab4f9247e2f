"""Leak checks on a recipe's own wiring: what ``fit`` is given, and what was fitted on which part.

`fit_inputs` runs `rnn_apps.harness.recipe.train_model` as a run would, up
to the call of `keras.Model.fit`, and keeps what that call received: the
training and validation data (one entry per example, padding cut) and the
quantity early stopping follows. No epoch is trained.

The checks raise `AssertionError` with a message naming what leaked, so a
test can both run them on the recipe as it is and show that they fail on a
variant with a leak planted on purpose.
"""

from __future__ import annotations

import collections
import dataclasses
from unittest import mock

import keras
import numpy as np

from rnn_apps.harness import recipe as harness


class _FitReached(Exception):
    """Raised by the `keras.Model.fit` spy once it has seen its arguments."""


@dataclasses.dataclass
class Fit:
    """What one call of `keras.Model.fit` was given.

    Attributes:
        train: the training examples, one nested structure of arrays each
            (inputs, targets, weights), trailing padding cut.
        validation: the validation examples, likewise.
        monitor: the quantity early stopping (and the checkpoint) follows.
    """

    train: list
    validation: list
    monitor: str


def trim(values) -> np.ndarray:
    """One example's array without its trailing all-zero steps (padding), floats rounded to 5 places.

    Examples:
        >>> trim(np.array([3, 1, 0, 0])).tolist()
        [3, 1]
        >>> trim(np.array([[1.0, 0.0], [0.0, 0.0]])).tolist()
        [[1.0, 0.0]]
    """
    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = np.round(values.astype("float64"), 5)
    if values.ndim == 0:
        return values
    filled = np.flatnonzero(values.reshape(len(values), -1).any(axis=1))
    return values[: filled[-1] + 1 if len(filled) else 0]


def examples(dataset) -> list:
    """The examples of a batched `tf.data.Dataset` (one pass), each with its padding cut."""
    import tensorflow as tf

    found = []
    for batch in dataset.as_numpy_iterator():
        leaves = tf.nest.flatten(batch)
        for row in range(len(leaves[0])):
            found.append(tf.nest.pack_sequence_as(batch, [trim(leaf[row]) for leaf in leaves]))
    return found


def key(*arrays) -> tuple:
    """A hashable fingerprint of arrays: dtype kind, shape and content of each.

    Examples:
        >>> key(np.array([1, 2])) == key(np.array([1, 2], dtype="int32"))
        True
    """
    parts = []
    for values in arrays:
        values = np.asarray(values)
        # An empty row (a text of punctuation only) has no dtype worth comparing.
        values = values.astype("float64" if values.dtype.kind == "f" and values.size else "int64")
        parts.append((values.dtype.kind, values.shape, values.tobytes()))
    return tuple(parts)


def example_key(example) -> tuple:
    """`key` of every array of one example (inputs, targets and weights alike)."""
    import tensorflow as tf

    return key(*tf.nest.flatten(example))


def fit_inputs(recipe, name: str, config, data) -> Fit:
    """What `keras.Model.fit` receives when the harness trains model ``name`` of ``recipe`` on ``data``."""
    seen = {}

    def spy(model, x=None, y=None, validation_data=None, callbacks=(), **kwargs):
        seen.update(train=x, validation=validation_data, callbacks=list(callbacks or ()))
        raise _FitReached

    with mock.patch.object(keras.Model, "fit", spy):
        try:
            harness.train_model(recipe, name, config, data)
        except _FitReached:
            pass
    assert seen, f"{recipe.name}: keras.Model.fit was never called"
    assert seen["validation"] is not None, f"{recipe.name}: fit was given no validation data"
    stopping = [c for c in seen["callbacks"] if isinstance(c, keras.callbacks.EarlyStopping)]
    assert stopping, f"{recipe.name}: fit was given no early stopping"
    return Fit(examples(seen["train"]), examples(seen["validation"]), stopping[0].monitor)


def check_same_state(clean: dict, planted: dict) -> None:
    """Everything fitted on the data (vocabularies, scalers, statistics, lengths) is the same in both runs.

    Raises:
        AssertionError: naming the first item that differs.
    """
    assert clean.keys() == planted.keys()
    for name, value in clean.items():
        other = planted[name]
        if isinstance(value, np.ndarray) or isinstance(other, np.ndarray):
            same = np.shape(value) == np.shape(other) and np.array_equal(value, other, equal_nan=True)
        else:
            same = value == other
        assert same, f"{name} changed when only the validation and test parts changed"


def _changed(before, after) -> int:
    """How many examples are in one list and not the other (multisets, either way)."""
    before = collections.Counter(example_key(e) for e in before)
    after = collections.Counter(example_key(e) for e in after)
    return sum((before - after).values()) + sum((after - before).values())


def check_same_training(clean: Fit, planted: Fit) -> None:
    """The training examples fit is given are the same (as a multiset) in both runs.

    Raises:
        AssertionError: the training data changed with the validation or test part.
    """
    changed = _changed(clean.train, planted.train)
    assert changed == 0, f"{changed} training examples came, went or changed with the validation or test part"


def check_same_validation(clean: Fit, planted: Fit) -> None:
    """The validation examples fit is given are the same (as a multiset) in both runs.

    Raises:
        AssertionError: the validation data changed when only the test part changed.
    """
    changed = _changed(clean.validation, planted.validation)
    assert changed == 0, f"{changed} validation examples came, went or changed with the test part"


def check_absent(sentinels, vocabulary, what: str) -> None:
    """No sentinel (a word, tag or character placed only in validation and test) is in ``vocabulary``.

    Raises:
        AssertionError: naming the sentinels found.
    """
    found = sorted(set(sentinels) & set(vocabulary))
    assert not found, f"the {what} holds {found}, seen only in the validation and test parts"


def check_fit_parts(fit: Fit, fit_key, parts: dict, ambiguous_share: float = 0.1) -> None:
    """``fit`` trains on the training part only and validates on the validation part, never on test examples.

    Examples are compared by content: ``fit_key(example)`` for what fit was
    given, and ``parts[part]`` the keys of each part's examples, encoded as
    the recipe encodes them. A key found in more than one part (the same
    text in two parts of the source, or two texts that read the same once
    unknown words share one id) proves nothing either way and is left out;
    there must be few of them, or the check would be empty.

    Args:
        fit: what `fit_inputs` captured.
        fit_key: example -> key of its model inputs.
        parts: ``{"train"|"validation"|"test": [key, ...]}``.
        ambiguous_share: the largest share of a part's examples whose key
            is found in another part too.

    Raises:
        AssertionError: naming the part that reached the wrong place.
    """
    counts = {part: collections.Counter(keys) for part, keys in parts.items()}
    owners = collections.Counter(k for keys in counts.values() for k in keys)
    ambiguous = {k for k, n in owners.items() if n > 1}
    for part, keys in counts.items():
        share = sum(n for k, n in keys.items() if k in ambiguous) / max(1, sum(keys.values()))
        assert share <= ambiguous_share, f"{share:.0%} of the {part} part is found in another part as well"
    assert fit.monitor.startswith("val_"), f"early stopping follows {fit.monitor!r}, not a validation quantity"
    for role, given, own in (("training", fit.train, "train"), ("validation", fit.validation, "validation")):
        found = collections.Counter(fit_key(e) for e in given)
        for part, keys in counts.items():
            if part == own:
                continue
            shared = sum(n for k, n in found.items() if k in keys and k not in ambiguous)
            assert shared == 0, f"fit's {role} data holds {shared} examples of the {part} part"
        expected = collections.Counter({k: n for k, n in counts[own].items() if k not in ambiguous})
        unambiguous = collections.Counter({k: n for k, n in found.items() if k not in ambiguous})
        assert unambiguous == expected, f"fit's {role} data is not the {own} part"
