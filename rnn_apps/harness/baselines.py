"""Naive baselines every comparison includes: the score a model must beat.

A baseline is an entry in ``metrics.json`` like any trained model, with
``params`` 0 and ``fast_kernel`` `None`.
"""

from __future__ import annotations

import numpy as np

from rnn_apps import metrics
from rnn_apps.harness import compare, training


def majority_class(train_labels, test_labels, num_classes: int, test_inputs=None):
    """Always predict the most frequent training class.

    Args:
        train_labels: int labels of the training rows (the majority is
            taken from these only).
        test_labels: int labels of the test rows.
        num_classes: number of classes.
        test_inputs: raw test inputs, for timing (defaults to the labels).

    Returns:
        ``(ModelResult, confusion_matrix)``.

    Examples:
        >>> result, matrix = majority_class([0, 1, 1], [1, 0, 1, 1], 2)
        >>> result.metrics["accuracy"], matrix.tolist()
        (0.75, [[0, 1], [0, 3]])
    """
    counts = np.bincount(np.asarray(train_labels), minlength=num_classes)
    majority = int(counts.argmax())
    test_labels = np.asarray(test_labels)
    predicted = np.full(len(test_labels), majority)
    inputs = test_labels if test_inputs is None else test_inputs
    milliseconds = training.time_predict(lambda batch: np.full(len(batch), majority), inputs[:512])
    result = compare.ModelResult(
        name="majority",
        metrics=metrics.classification_metrics(test_labels, predicted, num_classes),
        params=0,
        train_seconds=0.0,
        predict_ms_per_sample=round(milliseconds, 6),
        fast_kernel=None,
    )
    return result, metrics.confusion_matrix(test_labels, predicted, num_classes)
