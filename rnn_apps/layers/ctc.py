"""Connectionist temporal classification (CTC): loss, decoding and error rates.

A CTC model labels every frame with one of the output symbols or a *blank*
(index 0 here); the transcript is read by merging repeated symbols and
dropping blanks, so the model never needs to know where one word ends and
the next begins. Training sums over every frame labelling that reads as the
target (`keras.ops.ctc_loss`), and each clip counts only its own frames: the
targets carry the number of frames that hold audio, so padding frames are
left out.

Targets are packed into one int array per clip, ``[frames, length,
symbol_1 + 1, ..., symbol_length + 1, 0, ...]`` (`pack_targets`), so they
batch like any label. Decoding is greedy (best symbol per frame) or beam
search (`decode`); word and character error rates come from jiwer.

Examples:
    >>> targets = pack_targets([[3, 1], [4]], frames=[9, 7], max_length=3)
    >>> targets.tolist()
    [[9, 2, 4, 2, 0], [7, 1, 5, 0, 0]]
"""

from __future__ import annotations

import keras
import numpy as np

from rnn_apps import errors

EPSILON = 1e-7


def pack_targets(transcripts, frames, max_length: int | None = None) -> np.ndarray:
    """Pack symbol sequences and frame counts into CTC training targets.

    Args:
        transcripts: one list of symbol ids (0-based, blank excluded) per clip.
        frames: frames holding audio, one count per clip.
        max_length: width of the symbol part; defaults to the longest.

    Returns:
        int32 ``(clips, 2 + max_length)``.
    """
    if not len(transcripts) or len(transcripts) != len(frames):
        raise errors.expected("one frame count per transcript, and at least one", (len(transcripts), len(frames)))
    max_length = max_length or max(len(t) for t in transcripts)
    packed = np.zeros((len(transcripts), 2 + max_length), dtype="int32")
    for row, (symbols, count) in enumerate(zip(transcripts, frames)):
        if len(symbols) > max_length:
            raise errors.expected(f"at most {max_length} symbols per transcript", len(symbols))
        if len(symbols) > count:
            raise errors.expected(f"at least as many frames as symbols ({len(symbols)})", int(count), name="frames")
        packed[row, 0] = count
        packed[row, 1] = len(symbols)
        packed[row, 2 : 2 + len(symbols)] = np.asarray(symbols) + 1
    return packed


@keras.saving.register_keras_serializable(package="rnn_apps")
class CTCLoss(keras.losses.Loss):
    """CTC loss for per-frame probabilities and `pack_targets` targets.

    The model's output carries the mask of its padded frames, which Keras
    would otherwise apply to a per-clip loss of a different shape; the frame
    counts in the targets already leave the padding out, so that mask is
    ignored here. Only training uses this loss: the recipe saves its models
    without it, while training checkpoints (which keep the compiled loss)
    load after ``import rnn_apps.layers.ctc``.

    Examples:
        >>> probabilities = keras.ops.softmax(keras.ops.zeros((1, 4, 3)))
        >>> loss = CTCLoss()(pack_targets([[0]], [4]), probabilities)
        >>> round(float(loss), 3)  # -log(10 / 81): ten of the 81 labellings read as the target
        2.092
    """

    def __init__(self, name: str = "ctc", reduction: str = "sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred):
        y_true = keras.ops.cast(y_true, "int32")
        log_probabilities = keras.ops.log(keras.ops.maximum(y_pred, EPSILON))
        return keras.ops.ctc_loss(y_true[:, 2:], log_probabilities, y_true[:, 1], y_true[:, 0], mask_index=0)

    def __call__(self, y_true, y_pred, sample_weight=None):
        losses = self.call(y_true, y_pred)
        if sample_weight is not None:
            losses = losses * keras.ops.cast(keras.ops.reshape(sample_weight, (-1,)), losses.dtype)
        if self.reduction == "sum":
            return keras.ops.sum(losses)
        if self.reduction in (None, "none"):
            return losses
        return keras.ops.mean(losses)


def decode(probabilities, frames, strategy: str = "greedy", beam_width: int = 16) -> list[list[int]]:
    """Read transcripts from per-frame probabilities.

    Args:
        probabilities: ``(clips, time, symbols + 1)``, blank at index 0.
        frames: frames holding audio, one count per clip (later frames are
            padding and are not read).
        strategy: ``"greedy"`` or ``"beam_search"``.
        beam_width: hypotheses kept by beam search.

    Returns:
        One list of 0-based symbol ids per clip.

    Examples:
        >>> p = np.full((1, 5, 3), 0.01); p[0, [0, 1, 3], [2, 2, 1]] = 0.98; p[0, [2, 4], 0] = 0.98
        >>> decode(p, [5]), decode(p, [5], "beam_search")
        ([[1, 0]], [[1, 0]])
    """
    errors.check_choice(strategy, ("greedy", "beam_search"), "strategy")
    probabilities = np.asarray(probabilities, dtype="float32")
    if probabilities.ndim != 3 or len(frames) != len(probabilities):
        raise errors.expected(
            "(clips, time, symbols + 1) probabilities and one frame count per clip",
            f"shape {probabilities.shape} and {len(frames)} frame counts",
        )
    frames = np.minimum(np.asarray(frames, dtype="int32"), probabilities.shape[1])
    log_probabilities = np.log(np.maximum(probabilities, EPSILON))
    decoded, _ = keras.ops.ctc_decode(
        log_probabilities, frames, strategy=strategy, beam_width=beam_width, top_paths=1, mask_index=0
    )
    decoded = keras.ops.convert_to_numpy(decoded)[0]
    return [[int(s) - 1 for s in row if s > 0] for row in decoded]


def error_rates(references: list[str], hypotheses: list[str]) -> dict[str, float]:
    """Word and character error rates of transcripts (jiwer), and exact-match rate.

    Examples:
        >>> error_rates(["3 1 4", "1 5"], ["3 1 4", "1 6"])
        {'wer': 0.2, 'cer': 0.125, 'sequence_accuracy': 0.5}
    """
    import jiwer

    return {
        "wer": float(jiwer.wer(references, hypotheses)),
        "cer": float(jiwer.cer(references, hypotheses)),
        "sequence_accuracy": float(np.mean([r == h for r, h in zip(references, hypotheses)])),
    }
