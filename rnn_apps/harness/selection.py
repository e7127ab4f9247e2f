"""Model selection on the task's own metric, and class weights for rare labels.

Early stopping on the validation loss picks the epoch whose probabilities
fit best, which is not always the epoch that tags or classifies best: a
tagger whose tokens are mostly ``O`` can lower its loss for several epochs
while it still predicts almost nothing else, and an up/down classifier can
settle on one class. `ValidationScore` scores the model on the validation
part at the end of every epoch with the task's own metric (entity F1 with
seqeval, token accuracy, the Matthews correlation) and writes it into the
epoch's logs, as ``val_entity_f1`` say, before early stopping, the
checkpoint, the CSV log and the history read them
(`rnn_apps.harness.training.fit` runs such callbacks first), so
``--monitor val_entity_f1`` selects on it like on any Keras metric.

`class_weights` gives per-class weights for a loss in which rare labels
would otherwise count for little: ``balanced`` weighs each class inversely
to its frequency, ``sqrt`` by the square root of that, so rare classes gain
without the rarest dominating.

Examples:
    >>> import numpy as np
    >>> class_weights(np.array([0, 0, 0, 1]), 3, "balanced").astype(float).round(3).tolist()
    [0.667, 2.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from rnn_apps import errors, metrics
from rnn_apps.harness import config

CLASS_WEIGHTS = config.CLASS_WEIGHTS
"""Values of ``--class-weight``."""


class ValidationScore(keras.callbacks.Callback):
    """Writes scores of the model on validation data into every epoch's logs.

    Each key of what ``score(model)`` returns goes into the logs with
    ``prefix`` before it. Keras hands the same logs to every callback in
    turn, so a callback placed before `keras.callbacks.EarlyStopping` (and
    before `keras.callbacks.History`, which Keras adds last) lets them follow
    the score like a compiled metric.

    Args:
        score: callable ``model -> {name: float}``, run after every epoch.
        prefix: put before each name (``"val_"``).

    Examples:
        >>> callback = ValidationScore(lambda model: {"answer": 42.0})
        >>> logs = {"val_loss": 0.5}
        >>> callback.on_epoch_end(0, logs)
        >>> logs
        {'val_loss': 0.5, 'val_answer': 42.0}
    """

    def __init__(self, score: Callable[[keras.Model], dict], prefix: str = "val_"):
        super().__init__()
        self.score = score
        self.prefix = prefix

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for name, value in self.score(self.model).items():
            logs[f"{self.prefix}{name}"] = float(value)


TAGGING_SCORES = {
    "iob2": ("entity_f1", "entity_precision", "entity_recall", "token_accuracy"),
    "plain": ("token_accuracy", "macro_f1"),
}
"""The metrics `tagging_score` reports per tag scheme (plain: parts of speech and other tags without entities)."""


def predicted_tag_ids(model: keras.Model, inputs: dict) -> np.ndarray:
    """Tag ids ``(batch, time)`` a tagger predicts for one batch of id inputs.

    A softmax head gives the most probable tag per token; a CRF head
    (a `rnn_apps.layers.crf.CRF` layer named ``crf``) the Viterbi path of
    its scores, with padding where ``token_ids`` is 0, as the saved model's
    decoder does.
    """
    scores = model.predict_on_batch(inputs)
    crf_layer = next((layer for layer in model.layers if layer.name == "crf"), None)
    if crf_layer is None or not hasattr(crf_layer, "decode"):
        return np.asarray(scores).argmax(-1)
    mask = keras.ops.not_equal(keras.ops.convert_to_tensor(inputs["token_ids"]), 0)
    return keras.ops.convert_to_numpy(crf_layer.decode(keras.ops.convert_to_tensor(scores), mask))


def tagging_score(batches, tag_names, scheme: str) -> Callable[[keras.Model], dict]:
    """A `ValidationScore` score for taggers: the test metrics of `rnn_apps.metrics.tagging_metrics`.

    Args:
        batches: an iterable (a `tf.data.Dataset` is one), read again every
            epoch, of ``(inputs, tag_ids)`` or ``(inputs, tag_ids, weights)``
            where ``inputs["token_ids"]`` is 0 at padding; the tags of real
            tokens are the gold tags.
        tag_names: tag id ``i`` is ``tag_names[i]``.
        scheme: ``"iob2"`` (entities, scored by seqeval) or anything else
            (plain tags).

    Returns:
        ``model -> {name: value}`` with the names of `TAGGING_SCORES`.
    """
    names = TAGGING_SCORES["iob2" if scheme == "iob2" else "plain"]

    def score(model: keras.Model) -> dict:
        gold, predicted = [], []
        for batch in batches:
            inputs, tags = batch[0], np.asarray(batch[1])
            lengths = (np.asarray(inputs["token_ids"]) != 0).sum(axis=1)
            for row, (truth, guess) in enumerate(zip(tags, predicted_tag_ids(model, inputs))):
                gold.append([tag_names[int(i)] for i in truth[: lengths[row]]])
                predicted.append([tag_names[int(i)] for i in guess[: lengths[row]]])
        found = metrics.tagging_metrics(gold, predicted, scheme, per_type=False)
        return {name: found[name] for name in names}

    return score


def movement_score(inputs, targets, batch_size: int = 4096) -> Callable[[keras.Model], dict]:
    """A `ValidationScore` score for a one-unit sigmoid classifier: MCC and balanced accuracy.

    Args:
        inputs: the validation inputs, as the model takes them.
        targets: 0/1 labels.
        batch_size: samples per prediction call.

    Returns:
        ``model -> {"mcc": ..., "balanced_accuracy": ...}`` at the 0.5 threshold.
    """
    from sklearn import metrics as sk_metrics

    targets = np.asarray(targets).reshape(-1).astype("int64")

    def score(model: keras.Model) -> dict:
        probabilities = np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0)).reshape(-1)
        predicted = (probabilities >= 0.5).astype("int64")
        return {
            "mcc": float(sk_metrics.matthews_corrcoef(targets, predicted)),
            "balanced_accuracy": float(sk_metrics.balanced_accuracy_score(targets, predicted)),
        }

    return score


def class_weights(labels, num_classes: int, kind: str) -> np.ndarray:
    """One weight per class, from the training labels, for a loss where rare classes count for more.

    ``balanced`` is scikit-learn's: ``n / (k * n_c)`` for a class seen
    ``n_c`` times among ``n`` labels of ``k`` classes seen, so every seen
    class carries the same total weight. ``sqrt`` is the square root of
    that, rescaled so the mean weight over the training labels is 1, as it
    is for ``balanced``; a loss averaged over tokens keeps its scale.
    ``none`` is 1 for every class. Classes never seen in training get 1
    (they are never a training target).

    Args:
        labels: int array of training labels (any shape; padding left out).
        num_classes: how many classes the model predicts.
        kind: one of `CLASS_WEIGHTS`.

    Returns:
        A float32 array ``(num_classes,)``.

    Raises:
        rnn_apps.errors.InputError: ``kind`` is not one of `CLASS_WEIGHTS`.

    Examples:
        >>> labels = np.array([0] * 8 + [1] * 2)
        >>> class_weights(labels, 2, "sqrt").astype(float).round(3).tolist()
        [0.833, 1.667]
        >>> class_weights(labels, 2, "none").tolist()
        [1.0, 1.0]
    """
    if kind not in CLASS_WEIGHTS:
        raise errors.expected(f"one of {list(CLASS_WEIGHTS)}", kind, name="class_weight")
    weights = np.ones(num_classes, dtype="float64")
    labels = np.asarray(labels).reshape(-1).astype("int64")
    if kind == "none" or labels.size == 0:
        return weights.astype("float32")
    from sklearn.utils import class_weight

    seen = np.unique(labels)
    weights[seen] = class_weight.compute_class_weight("balanced", classes=seen, y=labels)
    if kind == "sqrt":
        weights[seen] = np.sqrt(weights[seen])
        weights[seen] /= weights[labels].mean()
    return weights.astype("float32")
