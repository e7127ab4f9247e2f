"""A linear-chain conditional random field (CRF) written with `keras.ops`.

A softmax tagger picks each token's tag on its own, so nothing stops it from
predicting ``I-PER`` right after ``O``. A CRF output layer adds a learned
score for every pair of neighbouring tags (and for the first and last tag),
trains on the log-likelihood of the whole gold tag sequence, and decodes the
best-scoring sequence with the Viterbi algorithm. No maintained CRF layer
exists for Keras 3 (the TensorFlow Addons one is retired), so it is written
here with `keras.ops` and runs on every backend.

Pieces:

- `sequence_score`: the score of given tag paths;
- `log_partition`: log of the sum of exp(score) over all paths (forward
  algorithm);
- `log_likelihood`: their difference, what training maximizes;
- `viterbi_decode`: the best path;
- `CRF`: a layer that owns the transition scores; in a training model it
  passes the emission scores through unchanged and `CRF.loss` is the loss;
- `CRFDecode`: a layer for the saved model that turns emission scores into
  the one-hot Viterbi path, so ``argmax`` reads off the tags as it does for
  a softmax head.

Both layers are registered with `keras.saving.register_keras_serializable`,
so a saved model that holds them loads after ``import rnn_apps.layers.crf`` (or
``import rnn_apps``).

Masks are ``(batch, time)`` booleans, true on real tokens, right-padded and
with at least one real token per row.

Examples:
    >>> import numpy as np
    >>> potentials = np.array([[[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]], "float32")
    >>> mask = np.array([[True, True, False]])
    >>> transitions = np.zeros((2, 2), "float32")
    >>> boundary = np.zeros((2,), "float32")
    >>> keras.ops.convert_to_numpy(viterbi_decode(potentials, mask, transitions, boundary, boundary))[0, :2].tolist()
    [0, 1]
"""

from __future__ import annotations

import keras
from keras import ops

PACKAGE = "rnn_apps"


def _time_major(x):
    return ops.moveaxis(x, 1, 0)


def _steps_after_first(potentials, mask):
    """Steps 1.. as one time-major tensor: emission scores with the mask as a last channel.

    One tensor rather than two, because the TensorFlow backend's `scan`
    (Keras 3.15) fails on several inputs of unknown length.
    """
    keep = ops.expand_dims(ops.cast(mask, potentials.dtype), -1)
    return _time_major(ops.concatenate([potentials, keep], axis=-1)[:, 1:])


def _tensors(*values):
    """Backend tensors of the arguments (PyTorch will not multiply a NumPy array by a tensor)."""
    return [ops.convert_to_tensor(value) for value in values]


def _split_step(inputs):
    return inputs[:, :-1], ops.greater(inputs[:, -1], 0.5)


def sequence_score(potentials, tags, mask, transitions, start, end):
    """Score of the tag path ``tags`` under the CRF, per sequence.

    Args:
        potentials: ``(batch, time, num_tags)`` emission scores.
        tags: ``(batch, time)`` int tags (values at padded steps are ignored,
            and may be negative).
        mask: ``(batch, time)`` bool, true on real tokens (right-padded).
        transitions: ``(num_tags, num_tags)`` score of tag ``i`` followed by
            tag ``j`` at ``[i, j]``.
        start: ``(num_tags,)`` score of each tag first.
        end: ``(num_tags,)`` score of each tag last.

    Returns:
        ``(batch,)`` float scores.
    """
    potentials, tags, mask, transitions, start, end = _tensors(potentials, tags, mask, transitions, start, end)
    num_tags = ops.shape(potentials)[-1]
    mask_f = ops.cast(mask, potentials.dtype)
    tags = ops.where(mask, ops.cast(tags, "int32"), 0)
    emitted = ops.sum(ops.sum(potentials * ops.one_hot(tags, num_tags, dtype=potentials.dtype), -1) * mask_f, -1)
    first = ops.take(start, tags[:, 0])
    pair_index = tags[:, :-1] * num_tags + tags[:, 1:]
    pairs = ops.take(ops.reshape(transitions, (-1,)), pair_index)
    moved = ops.sum(pairs * mask_f[:, 1:], -1)
    lengths = ops.cast(ops.sum(mask_f, -1), "int32")
    last_tags = ops.take_along_axis(tags, ops.expand_dims(lengths - 1, -1), axis=1)[:, 0]
    return emitted + first + moved + ops.take(end, last_tags)


def log_partition(potentials, mask, transitions, start, end):
    """Log of the summed exp(score) of every tag path (the forward algorithm).

    Args: as `sequence_score`, without ``tags``.

    Returns:
        ``(batch,)`` float log partition values.
    """
    potentials, mask, transitions, start, end = _tensors(potentials, mask, transitions, start, end)
    alpha = start[None, :] + potentials[:, 0]

    def step(alpha, inputs):
        emission, keep = _split_step(inputs)
        scores = ops.expand_dims(alpha, 2) + transitions[None]
        new = ops.logsumexp(scores, axis=1) + emission
        alpha = ops.where(ops.expand_dims(keep, -1), new, alpha)
        return alpha, alpha

    alpha, _ = ops.scan(step, alpha, _steps_after_first(potentials, mask))
    return ops.logsumexp(alpha + end[None, :], axis=-1)


def log_likelihood(potentials, tags, mask, transitions, start, end):
    """Log-probability of the tag paths ``tags``, per sequence (what training maximizes).

    Examples:
        >>> import numpy as np
        >>> p = np.zeros((1, 2, 2), "float32"); z = np.zeros((2,), "float32")
        >>> value = log_likelihood(p, np.array([[0, 1]]), np.ones((1, 2), bool), np.zeros((2, 2), "float32"), z, z)
        >>> round(float(keras.ops.convert_to_numpy(value)[0]), 4)  # four equally likely paths
        -1.3863
    """
    return sequence_score(potentials, tags, mask, transitions, start, end) - log_partition(
        potentials, mask, transitions, start, end
    )


def viterbi_decode(potentials, mask, transitions, start, end):
    """The best-scoring tag path of each sequence.

    Padded steps repeat the last real tag (they are masked out anyway).

    Args: as `log_partition`.

    Returns:
        ``(batch, time)`` int32 tags.
    """
    potentials, mask, transitions, start, end = _tensors(potentials, mask, transitions, start, end)
    num_tags = ops.shape(potentials)[-1]
    score = start[None, :] + potentials[:, 0]
    identity = ops.expand_dims(ops.arange(num_tags, dtype="int32"), 0)

    # The step's outputs must match its carry in the TensorFlow backend's
    # scan, so the back-pointers ride along in the carry.
    def forward(carry, inputs):
        score, _ = carry
        emission, keep = _split_step(inputs)
        candidates = ops.expand_dims(score, 2) + transitions[None]
        best = ops.max(candidates, axis=1) + emission
        pointers = ops.cast(ops.argmax(candidates, axis=1), "int32")
        keep = ops.expand_dims(keep, -1)
        carry = (ops.where(keep, best, score), ops.where(keep, pointers, identity))
        return carry, carry

    initial = (score, ops.zeros_like(score, dtype="int32") + identity)
    (score, _), (_, pointers) = ops.scan(forward, initial, _steps_after_first(potentials, mask))
    last = ops.cast(ops.argmax(score + end[None, :], axis=-1), "int32")

    def backward(tag, step_pointers):
        previous = ops.take_along_axis(step_pointers, ops.expand_dims(tag, -1), axis=1)[:, 0]
        return previous, tag

    first, later = ops.scan(backward, last, pointers, reverse=True)
    return ops.concatenate([ops.expand_dims(first, 1), _time_major(later)], axis=1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class CRF(keras.layers.Layer):
    """Holds a CRF's transition scores; passes emission scores through.

    Put it after the layer that gives ``(batch, time, num_tags)`` emission
    scores (a linear `Dense`), and compile with ``loss=crf.loss``: the loss
    reads this layer's weights. Label batches mark padding with negative
    tags (``-1``), which is how the loss finds the mask.

    Args:
        num_tags: int, number of tags.

    Examples:
        >>> layer = CRF(3)
        >>> tuple(layer(keras.ops.zeros((2, 4, 3))).shape)
        (2, 4, 3)
    """

    def __init__(self, num_tags: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tags = int(num_tags)

    def build(self, input_shape):
        uniform = keras.initializers.RandomUniform(-0.1, 0.1)
        self.transitions = self.add_weight(
            shape=(self.num_tags, self.num_tags), initializer=uniform, name="transitions"
        )
        self.start = self.add_weight(shape=(self.num_tags,), initializer="zeros", name="start")
        self.end = self.add_weight(shape=(self.num_tags,), initializer="zeros", name="end")

    def call(self, potentials):
        # A new tensor, without the input's per-token mask: the loss is per
        # sentence and finds padding in the labels, and a mask on the output
        # would make Keras weight it per token.
        return ops.copy(potentials)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return input_shape

    def loss(self, y_true, y_pred):
        """Negative log-likelihood per sequence; ``y_true`` < 0 marks padding."""
        y_true = ops.cast(y_true, "int32")
        mask = ops.greater_equal(y_true, 0)
        y_pred = ops.cast(y_pred, "float32")
        return -log_likelihood(y_pred, y_true, mask, self.transitions, self.start, self.end)

    def decode(self, potentials, mask):
        """Viterbi tags ``(batch, time)`` for emission scores and a bool mask."""
        return viterbi_decode(ops.cast(potentials, "float32"), mask, self.transitions, self.start, self.end)

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CRFDecode(keras.layers.Layer):
    """Viterbi decoding for a saved model: emission scores and token ids in, one-hot tags out.

    Copies its transition scores from a trained `CRF` (see `from_crf`).
    Padding is where ``token_ids == 0``.

    Args:
        num_tags: int, number of tags.

    Examples:
        >>> layer = CRFDecode(3)
        >>> out = layer(keras.ops.zeros((2, 4, 3)), keras.ops.ones((2, 4), "int32"))
        >>> tuple(out.shape)
        (2, 4, 3)
    """

    def __init__(self, num_tags: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tags = int(num_tags)

    def build(self, potentials_shape, token_ids_shape=None):
        self.transitions = self.add_weight(
            shape=(self.num_tags, self.num_tags), initializer="zeros", name="transitions", trainable=False
        )
        self.start = self.add_weight(shape=(self.num_tags,), initializer="zeros", name="start", trainable=False)
        self.end = self.add_weight(shape=(self.num_tags,), initializer="zeros", name="end", trainable=False)

    @classmethod
    def from_crf(cls, crf: CRF, name: str = "crf_decode") -> CRFDecode:
        """A decoder holding a copy of ``crf``'s trained scores."""
        layer = cls(crf.num_tags, name=name)
        layer.build((None, None, crf.num_tags))
        for target, source in ((layer.transitions, crf.transitions), (layer.start, crf.start), (layer.end, crf.end)):
            target.assign(source)
        return layer

    def call(self, potentials, token_ids):
        mask = ops.not_equal(token_ids, 0)
        tags = viterbi_decode(ops.cast(potentials, "float32"), mask, self.transitions, self.start, self.end)
        return ops.one_hot(tags, self.num_tags)

    def compute_output_shape(self, potentials_shape, token_ids_shape=None):
        return tuple(potentials_shape)

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}
