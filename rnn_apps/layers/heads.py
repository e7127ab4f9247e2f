"""Task heads: the layers that turn encoder features into predictions.

A head is the part of a model that changes with the task while the encoder
stays the same. Each head function takes a Keras tensor of features and
returns the output tensor; `loss_and_metrics` gives the matching loss.
"""

from __future__ import annotations

import keras

from rnn_apps import errors


def classification_head(
    features,
    num_classes: int,
    hidden_units: int = 0,
    dropout: float = 0.0,
    name: str = "head",
):
    """Map ``(batch, width)`` features to class probabilities.

    Two classes give one sigmoid unit (the probability of class 1); more
    give a softmax over ``num_classes``.

    Args:
        features: a Keras tensor ``(batch, width)``.
        num_classes: int >= 2.
        hidden_units: int >= 0, width of an optional ReLU layer before the
            output. Defaults to 0 (none).
        dropout: float in [0, 1), dropout applied to the features first.
        name: prefix of the layer names; the output layer is ``{name}_output``.

    Returns:
        ``(batch, 1)`` for two classes, ``(batch, num_classes)`` otherwise.

    Examples:
        >>> x = keras.Input(shape=(16,))
        >>> classification_head(x, 2).shape
        (None, 1)
        >>> classification_head(x, 6, hidden_units=8, dropout=0.5).shape
        (None, 6)
    """
    check_num_classes(num_classes)
    errors.check_fraction(dropout, "dropout")
    x = features
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    if hidden_units:
        errors.check_positive(hidden_units, "hidden_units")
        x = keras.layers.Dense(hidden_units, activation="relu", name=f"{name}_hidden")(x)
    if num_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", name=f"{name}_output")(x)
    return keras.layers.Dense(num_classes, activation="softmax", name=f"{name}_output")(x)


def check_num_classes(num_classes) -> int:
    """Return ``num_classes`` if it is an int >= 2.

    Examples:
        >>> check_num_classes(3)
        3
    """
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise errors.expected("an integer >= 2", num_classes, name="num_classes")
    return num_classes


def loss_and_metrics(num_classes: int) -> tuple[str, list[str]]:
    """Loss and Keras metrics for integer labels and a `classification_head`.

    Examples:
        >>> loss_and_metrics(2)
        ('binary_crossentropy', ['accuracy'])
        >>> loss_and_metrics(5)[0]
        'sparse_categorical_crossentropy'
    """
    check_num_classes(num_classes)
    if num_classes == 2:
        return "binary_crossentropy", ["accuracy"]
    return "sparse_categorical_crossentropy", ["accuracy"]


def probabilities_to_labels(probabilities, num_classes: int):
    """Turn head outputs into integer class predictions (NumPy in, NumPy out).

    Examples:
        >>> import numpy as np
        >>> probabilities_to_labels(np.array([[0.2], [0.9]]), 2).tolist()
        [0, 1]
    """
    import numpy as np

    probabilities = np.asarray(probabilities)
    if num_classes == 2:
        return (probabilities.reshape(-1) >= 0.5).astype("int64")
    return probabilities.argmax(axis=-1).astype("int64")
