"""Task metrics computed with scikit-learn on NumPy predictions."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as sk_metrics


def classification_metrics(labels, predictions, num_classes: int) -> dict[str, float]:
    """Accuracy, F1, precision and recall for integer class predictions.

    With two classes, F1, precision and recall are those of class 1 (the
    positive class); with more, they are macro averages over classes, so a
    rare class counts as much as a common one.

    Examples:
        >>> classification_metrics([0, 1, 1, 0], [0, 1, 0, 0], 2)["accuracy"]
        0.75
    """
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    average = "binary" if num_classes == 2 else "macro"
    precision, recall, f1, _ = sk_metrics.precision_recall_fscore_support(
        labels,
        predictions,
        average=average,
        labels=None if num_classes == 2 else list(range(num_classes)),
        zero_division=0,
    )
    return {
        "accuracy": float(sk_metrics.accuracy_score(labels, predictions)),
        "f1": float(f1),
        "precision": float(precision),
        "recall": float(recall),
    }


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]`` over all ``num_classes`` classes."""
    return sk_metrics.confusion_matrix(labels, predictions, labels=list(range(num_classes)))
