"""Acoustic models: a log-mel front end inside the model, an encoder, and a head.

Speech models here take raw waveforms, so a saved ``.keras`` file can be
handed a WAV file's samples with no feature code beside it. The front end is
two built-in layers: `keras.layers.MelSpectrogram` (short-time Fourier
transform, mel filter bank, decibels) and a `Permute` to ``(batch, frames,
mel_bins)``, the ``(batch, time, features)`` shape every encoder of the
cookbook reads. A `Normalization` layer, set from training statistics,
centres each mel bin.

Padding and masks. Clips in a batch are right-padded with zeros. A frame
that lies wholly in the padding is exact digital silence, so every mel bin
of it sits at the decibel floor (``10 * log10(min_power)``). The features
are shifted so that floor is 0 and a thresholded `ReLU` snaps values within
a thousandth of a decibel of it to exactly 0; a `Masking` layer then marks
all-zero frames, and recurrent encoders skip them. (Comparing with the
floor itself would be fragile: a compiled graph may round it differently.)
The padding is on the right, so LSTM and GRU stay eligible for the fused
cuDNN kernel. The loaders add a dither far below one 16-bit step so that
silence inside a real clip is never read as padding. The decibel scale of
`MelSpectrogram` clips to ``top_db`` below the loudest value of the whole
batch, which would make one clip's features depend on the others in its
batch; `FrontEnd` sets ``top_db`` so high that the clip never happens.

Examples:
    >>> front = FrontEnd(sample_rate=8000, num_mel_bins=16)
    >>> front.frame_length, front.frame_step, front.fft_length
    (200, 80, 256)
    >>> model = waveform_classifier(encoders.EncoderConfig(model="gru", units=4), 3, front)
    >>> tuple(model(keras.ops.ones((2, 4000))).shape)
    (2, 3)
    >>> cnn = encoders.EncoderConfig(model="cnn", cnn_kind="conv2d", filters=(4, 8))
    >>> tuple(waveform_classifier(cnn, 3, front)(keras.ops.ones((2, 4000))).shape)
    (2, 3)
"""

from __future__ import annotations

import dataclasses
import functools
import math

import keras
import numpy as np

from rnn_apps import errors
from rnn_apps.layers import encoders, heads


@dataclasses.dataclass(frozen=True)
class FrontEnd:
    """Log-mel feature settings, in seconds and Hz; sizes in samples follow.

    Attributes:
        sample_rate: rate the model takes, in Hz.
        frame_seconds: analysis window (25 ms, the usual speech setting).
        stride_seconds: hop between frames (10 ms: 100 frames a second).
        num_mel_bins: mel filters, the features per frame.
        min_freq: lowest filter edge, Hz.
        max_freq: highest filter edge, Hz; defaults to half the rate.
        min_power: power floor before the logarithm.
    """

    sample_rate: int
    frame_seconds: float = 0.025
    stride_seconds: float = 0.010
    num_mel_bins: int = 40
    min_freq: float = 20.0
    max_freq: float | None = None
    min_power: float = 1e-10

    def __post_init__(self):
        errors.check_positive(self.sample_rate, "sample_rate")
        errors.check_positive(self.num_mel_bins, "num_mel_bins")
        if self.frame_step < 1 or self.frame_length < self.frame_step:
            raise errors.expected(
                "a frame at least one stride long and a stride of one sample or more",
                (self.frame_seconds, self.stride_seconds),
                name="frame_seconds, stride_seconds",
            )
        # More mel filters than FFT bins leaves filters that cover no bin: constant features.
        bins = self.fft_length // 2 + 1
        if self.num_mel_bins > bins:
            raise errors.expected(
                f"at most {bins} mel bins (the frequency bins of a {self.fft_length}-point FFT "
                f"at {self.sample_rate} Hz)",
                self.num_mel_bins,
                name="num_mel_bins (--mel-bins)",
            )

    @property
    def frame_length(self) -> int:
        return int(round(self.frame_seconds * self.sample_rate))

    @property
    def frame_step(self) -> int:
        return int(round(self.stride_seconds * self.sample_rate))

    @property
    def fft_length(self) -> int:
        return 2 ** math.ceil(math.log2(self.frame_length))

    @functools.cached_property
    def floor_db(self) -> float:
        """Decibel value of every mel bin of a silent frame: the padding marker.

        Measured by running the front end on silence rather than computed
        here, so it matches the backend's float arithmetic bit for bit.
        """
        silence = np.zeros((1, 2 * self.fft_length), dtype="float32")
        return float(keras.ops.convert_to_numpy(self.mel_layer()(silence)).max())

    def mel_layer(self, name: str = "log_mel") -> keras.layers.MelSpectrogram:
        """A `keras.layers.MelSpectrogram` with these settings (output ``(batch, mel_bins, frames)``)."""
        return keras.layers.MelSpectrogram(
            fft_length=self.fft_length,
            sequence_stride=self.frame_step,
            sequence_length=self.frame_length,
            sampling_rate=self.sample_rate,
            num_mel_bins=self.num_mel_bins,
            min_freq=self.min_freq,
            max_freq=self.max_freq or self.sample_rate / 2,
            power_to_db=True,
            # Far above any real dynamic range: no clip is clipped relative to
            # the loudest clip of its batch.
            top_db=1000.0,
            min_power=self.min_power,
            name=name,
        )

    def frames(self, num_samples) -> np.ndarray:
        """Frames that hold some of the first ``num_samples`` samples.

        The STFT is centred: frame ``j`` covers samples ``j * step - length
        / 2`` to ``j * step + length / 2``, so a clip of ``n`` samples gives
        ``1 + n // step`` frames, and a frame holds audio while its start is
        before the clip's end.

        Examples:
            >>> FrontEnd(8000).frames([8000, 1])
            array([101,   1])
        """
        num_samples = np.asarray(num_samples, dtype="int64")
        counted = np.ceil((num_samples + self.frame_length // 2) / self.frame_step).astype("int64")
        return np.minimum(1 + num_samples // self.frame_step, counted)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def log_mel_frames(waveforms, front_end: FrontEnd, name: str = "log_mel"):
    """Turn ``(batch, samples)`` waveforms into ``(batch, frames, mel_bins)`` decibels.

    Args:
        waveforms: a Keras tensor of float waveforms in [-1, 1].
        front_end: the settings.
        name: layer name prefix: ``{name}`` (the spectrogram) and
            ``{name}_frames`` (the transpose).

    Returns:
        A Keras tensor ``(batch, frames, num_mel_bins)``.
    """
    mel = front_end.mel_layer(name)(waveforms)
    return keras.layers.Permute((2, 1), name=f"{name}_frames")(mel)


def feature_model(front_end: FrontEnd) -> keras.Model:
    """The front end alone, waveforms to log-mel frames, for statistics and plots."""
    waveform = keras.Input(shape=(None,), name="waveform")
    return keras.Model(waveform, log_mel_frames(waveform, front_end), name="front_end")


def frame_statistics(frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and variance over all frames of all clips.

    Examples:
        >>> mean, variance = frame_statistics([np.array([[0.0, 1.0], [2.0, 1.0]])])
        >>> mean.tolist(), variance.tolist()
        ([1.0, 1.0], [1.0, 0.0])
    """
    stacked = np.concatenate([np.asarray(f, dtype="float64") for f in frames], axis=0)
    return stacked.mean(axis=0), stacked.var(axis=0)


def _normalize(x, mean, variance, offset: float = 0.0):
    """Centre and scale each feature with training statistics (taken before ``offset`` was subtracted)."""
    if mean is None:
        return x
    mean = np.asarray(mean, dtype="float64") - offset
    variance = np.maximum(np.asarray(variance, dtype="float64"), 1e-6)
    return keras.layers.Normalization(mean=mean.tolist(), variance=variance.tolist(), name="normalize")(x)


def _spoken_frames(x, mask=None):
    """``(batch, time, 1)``: 1 for frames that hold sound (not all exactly 0, the floor or padding), else 0."""
    spoken = keras.ops.cast(keras.ops.any(keras.ops.not_equal(x, 0), axis=-1, keepdims=True), x.dtype)
    if mask is not None:
        spoken = spoken * keras.ops.cast(keras.ops.expand_dims(mask, -1), x.dtype)
    return spoken


@keras.saving.register_keras_serializable(package="rnn_apps")
class UtteranceNormalization(keras.layers.Layer):
    """Centre and scale each feature over the frames of its own clip (per-utterance mean and variance).

    A speaker's voice and microphone shift whole mel bins up or down for the
    length of a clip; subtracting each bin's mean over the clip removes that
    shift, as cepstral mean and variance normalisation does for MFCCs, and a
    gain change (a constant in decibels) with it. Frames that are all zero
    (silence at the floor after `frame_input`, or padding) neither count in
    the statistics nor change: they stay 0, so the mask still finds them.
    The statistics need the whole clip, so a model with this layer does not
    stream.

    Args:
        epsilon: added to the variance before the square root.

    Examples:
        >>> x = np.array([[[1.0, 2.0], [3.0, 6.0], [0.0, 0.0]]], "float32")
        >>> (np.round(keras.ops.convert_to_numpy(UtteranceNormalization(epsilon=0.0)(x)), 3) + 0.0).tolist()
        [[[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]]
    """

    def __init__(self, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.supports_masking = True

    def call(self, inputs, mask=None):
        spoken = _spoken_frames(inputs, mask)
        count = keras.ops.maximum(keras.ops.sum(spoken, axis=1, keepdims=True), 1.0)
        mean = keras.ops.sum(inputs * spoken, axis=1, keepdims=True) / count
        variance = keras.ops.sum(keras.ops.square(inputs - mean) * spoken, axis=1, keepdims=True) / count
        return (inputs - mean) * keras.ops.rsqrt(variance + self.epsilon) * spoken

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return super().get_config() | {"epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="rnn_apps")
class SpectrogramMasking(keras.layers.Layer):
    """SpecAugment's time and frequency masking (Park et al. 2019), in training only.

    Each training clip gets ``time_masks`` spans of up to ``time_width``
    frames, placed within its spoken frames, and ``frequency_masks`` bands of
    up to ``frequency_width`` features set to 0 (the clip's mean after
    `UtteranceNormalization` or the training mean after `Normalization`);
    each width is drawn from 0 to the maximum. Outside training the layer
    passes its input through, so a saved model predicts on whole
    spectrograms. The mask of padded frames passes through unchanged.

    Args:
        time_masks, time_width: spans of frames to hide, and their widest.
        frequency_masks, frequency_width: bands of features to hide, and their widest.
        seed: seed of the layer's random generator.

    Examples:
        >>> layer = SpectrogramMasking(time_masks=1, time_width=2, frequency_masks=1, frequency_width=3, seed=0)
        >>> x = np.ones((4, 10, 8), "float32")
        >>> bool(np.all(keras.ops.convert_to_numpy(layer(x)) == x))  # inference: unchanged
        True
        >>> hidden = keras.ops.convert_to_numpy(layer(x, training=True)) == 0
        >>> bool(hidden.any()), bool(hidden.sum() <= 4 * (2 * 8 + 3 * 10))
        (True, True)
    """

    def __init__(
        self,
        time_masks: int = 2,
        time_width: int = 8,
        frequency_masks: int = 2,
        frequency_width: int = 5,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.time_masks, self.time_width = time_masks, time_width
        self.frequency_masks, self.frequency_width = frequency_masks, frequency_width
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _spans(self, batch, size, count, width, limit):
        """``(batch, size)``: 1 where any of ``count`` random spans of up to ``width`` positions falls."""
        positions = keras.ops.arange(size, dtype="float32")[None, :]
        hidden = keras.ops.zeros((batch, size))
        for _ in range(count):
            span = keras.ops.floor(keras.random.uniform((batch, 1), 0, width + 1, seed=self.generator))
            start = keras.ops.floor(
                keras.random.uniform((batch, 1), seed=self.generator) * keras.ops.maximum(limit - span, 0.0)
            )
            inside = keras.ops.logical_and(positions >= start, positions < start + span)
            hidden = keras.ops.maximum(hidden, keras.ops.cast(inside, "float32"))
        return hidden

    def call(self, inputs, training=None, mask=None):
        if not training:
            return inputs
        shape = keras.ops.shape(inputs)
        batch, frames, features = shape[0], shape[1], shape[2]
        spoken = keras.ops.sum(_spoken_frames(inputs, mask), axis=1)  # (batch, 1): frames before the padding
        times = self._spans(batch, frames, self.time_masks, self.time_width, keras.ops.cast(spoken, "float32"))
        bands = self._spans(batch, features, self.frequency_masks, self.frequency_width, float(features))
        keep = (1.0 - times[:, :, None]) * (1.0 - bands[:, None, :])
        return inputs * keras.ops.cast(keep, inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return super().get_config() | {
            "time_masks": self.time_masks,
            "time_width": self.time_width,
            "frequency_masks": self.frequency_masks,
            "frequency_width": self.frequency_width,
            "seed": self.seed,
        }


FLOOR_MARGIN_DB = 1e-3
"""Values this close to the decibel floor count as the floor (silence)."""


def frame_input(front_end: FrontEnd | None, feature_dim: int | None = None, mask: bool = True, mask_value=0.0):
    """The model input and its frames: waveforms through the front end, or frames as given.

    For waveforms, the log-mel frames are shifted so the decibel floor is 0
    and values within `FLOOR_MARGIN_DB` of it are set to exactly 0 (a
    thresholded ReLU): silent padding frames then are exact zeros, whatever
    rounding the backend's compiled graph does, and `Masking` marks them.

    Returns:
        ``(input, frames, offset)``: ``frames`` carries a mask when ``mask``
            is true; ``offset`` was subtracted from the features (the floor for
            waveforms, 0 for frames).
    """
    offset = 0.0
    if front_end is not None:
        inputs = keras.Input(shape=(None,), name="waveform")
        frames = log_mel_frames(inputs, front_end)
        offset = front_end.floor_db
        bins = [0.0] * front_end.num_mel_bins
        frames = keras.layers.Normalization(
            mean=[offset + b for b in bins], variance=[1.0 + b for b in bins], name="above_floor"
        )(frames)
        frames = keras.layers.ReLU(threshold=FLOOR_MARGIN_DB, name="floor")(frames)
        mask_value = 0.0
    else:
        errors.check_positive(feature_dim, "feature_dim")
        inputs = keras.Input(shape=(None, feature_dim), name="frames")
        frames = inputs
    if mask:
        frames = keras.layers.Masking(mask_value=mask_value, name="padding_mask")(frames)
    return inputs, frames, offset


def waveform_classifier(
    config: encoders.EncoderConfig,
    num_classes: int,
    front_end: FrontEnd | None,
    mean=None,
    variance=None,
    mask: bool | None = None,
    feature_dim: int | None = None,
    mask_value: float = 0.0,
    head_dropout: float = 0.3,
    name: str | None = None,
) -> keras.Model:
    """Classify whole clips: front end -> mask -> normalize -> encoder -> head.

    Args:
        config: the encoder, reading ``(batch, frames, features)``; for a CNN
            on log-mel frames, ``cnn_kind="conv2d"`` reads the spectrogram
            as an image.
        num_classes: int >= 2.
        front_end: log-mel settings; `None` for inputs that already are
            frames of features (``feature_dim`` per frame).
        mean, variance: per-feature statistics of the training frames for
            the `Normalization` layer (skipped when `None`).
        mask: mark padded frames for the encoder; defaults to
            ``config.is_recurrent`` (recurrent encoders skip masked frames,
            convolutions cannot).
        feature_dim: features per frame when ``front_end`` is `None`.
        mask_value: padding value of frame inputs (``front_end`` `None`).
        head_dropout: dropout before the output layer.
        name: model name; defaults to ``config.model``.

    Returns:
        An uncompiled Functional model from waveforms ``(batch, samples)``
            (or frames ``(batch, time, feature_dim)``) to class probabilities.
    """
    mask = config.is_recurrent if mask is None else mask
    inputs, frames, offset = frame_input(front_end, feature_dim, mask, mask_value)
    features = config(_normalize(frames, mean, variance, offset))
    outputs = heads.classification_head(features, num_classes, dropout=head_dropout)
    return keras.Model(inputs, outputs, name=name or config.model)


def blank_first(vocabulary_size: int, share: float = 0.9) -> keras.initializers.Initializer:
    """Bias of a CTC softmax over ``vocabulary_size + 1`` symbols that gives the blank (index 0) ``share`` at first.

    Nearly every frame's answer is the blank; starting there spares the first
    epochs learning it. With every other logit at 0, the blank's probability
    is ``e^b / (e^b + V)``, so ``b = log(share / (1 - share) * V)``.

    Examples:
        >>> bias = keras.ops.convert_to_numpy(blank_first(9)((10,)))
        >>> round(float(keras.ops.softmax(bias)[0]), 3)
        0.9
    """
    errors.check_positive(vocabulary_size, "vocabulary_size")
    blank = float(np.log(share / (1.0 - share) * vocabulary_size))
    return keras.initializers.Constant([blank] + [0.0] * vocabulary_size)


def waveform_transcriber(
    config: encoders.EncoderConfig,
    vocabulary_size: int,
    front_end: FrontEnd,
    mean=None,
    variance=None,
    mask: bool | None = None,
    dropout: float = 0.0,
    name: str | None = None,
) -> keras.Model:
    """Label every frame for CTC: front end -> mask -> normalize -> encoder -> softmax.

    Args:
        config: the encoder, applied with ``return_sequences=True`` (one
            output per frame; ``cnn_kind="conv2d"`` adds its dilated context
            stack).
        vocabulary_size: number of output symbols, not counting the CTC
            blank; the output has ``vocabulary_size + 1`` classes per frame,
            index 0 the blank.
        front_end, mean, variance, mask: as for `waveform_classifier`.
        dropout: dropout before the output layer.
        name: model name; defaults to ``config.model``.

    The output layer starts with the blank at 90% (`blank_first`), as the
    recipe's does.

    Returns:
        An uncompiled model from waveforms to per-frame probabilities
            ``(batch, frames, vocabulary_size + 1)``.

    Examples:
        >>> front = FrontEnd(8000, num_mel_bins=8)
        >>> model = waveform_transcriber(encoders.EncoderConfig(model="gru", units=4), 10, front)
        >>> tuple(model(keras.ops.ones((1, 800))).shape)
        (1, 11, 11)
        >>> cnn = encoders.EncoderConfig(model="cnn", cnn_kind="conv2d", filters=(4,), context_filters=6)
        >>> tuple(waveform_transcriber(cnn, 10, front)(keras.ops.ones((1, 800))).shape)
        (1, 11, 11)
    """
    errors.check_positive(vocabulary_size, "vocabulary_size")
    mask = config.is_recurrent if mask is None else mask
    inputs, frames, offset = frame_input(front_end, mask=mask)
    x = config(_normalize(frames, mean, variance, offset), return_sequences=True)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    head = keras.layers.Dense(
        vocabulary_size + 1, activation="softmax", bias_initializer=blank_first(vocabulary_size), name="head_output"
    )
    return keras.Model(inputs, head(x), name=name or config.model)


@keras.saving.register_keras_serializable(package="rnn_apps")
class ConvolutionalSubsampling(keras.layers.Layer):
    """Strided 1-D convolutions over the frames, the front of a CNN-RNN: fewer, richer frames for the recurrence.

    Each block pads ``kernel_size // 2`` zero frames on both sides, then
    applies a `Conv1D` with ``strides`` (no bias), batch normalization and a
    ReLU, so ``frames`` frames become ``ceil(frames / strides)`` whatever the
    parity of ``frames``; the blocks together divide the frame rate by
    `stride`. Output frame ``j`` of a block is centred on input frame
    ``j * strides``, and it holds audio when that frame does: the layer takes
    its input's padding mask, keeps every ``strides``-th entry per block, and
    returns it, so a recurrent layer after it skips the padded frames. Padded
    frames are set to 0 before each convolution (that is what the explicit
    padding holds), so a clip gives the same outputs for its own frames with
    or without padding after it.

    Args:
        filters: output channels of each block.
        kernel_size: frames each convolution reads (odd).
        strides: subsampling factor of each block.

    Examples:
        >>> layer = ConvolutionalSubsampling(filters=(4, 6), kernel_size=3)
        >>> x = np.ones((2, 9, 5), "float32")
        >>> tuple(layer(x).shape), layer.stride
        ((2, 3, 6), 4)
        >>> keras.ops.convert_to_numpy(layer.compute_mask(x, np.array([[True] * 9, [True] * 5 + [False] * 4])))
        array([[ True,  True,  True],
               [ True,  True, False]])
    """

    def __init__(self, filters=(32, 64), kernel_size: int = 5, strides: int = 2, **kwargs):
        super().__init__(**kwargs)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise errors.expected("an odd kernel_size", kernel_size, name="kernel_size")
        errors.check_positive(strides, "strides")
        self.filters, self.kernel_size, self.strides = tuple(filters), kernel_size, strides
        self.blocks = [
            (
                keras.layers.Conv1D(count, kernel_size, strides=strides, use_bias=False, name=f"conv_{index}"),
                keras.layers.BatchNormalization(momentum=0.9, name=f"norm_{index}"),
            )
            for index, count in enumerate(self.filters, start=1)
        ]
        self.supports_masking = True

    @property
    def stride(self) -> int:
        """Input frames per output frame."""
        return self.strides ** len(self.filters)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for conv, norm in self.blocks:
            frames = None if shape[1] is None else shape[1] + 2 * (self.kernel_size // 2)
            conv.build((shape[0], frames, shape[2]))
            shape = conv.compute_output_shape((shape[0], frames, shape[2]))
            norm.build(shape)

    def _subsample(self, mask):
        return mask[:, :: self.strides]

    def call(self, inputs, training=None, mask=None):
        x, half = inputs, self.kernel_size // 2
        for conv, norm in self.blocks:
            if mask is not None:
                x = x * keras.ops.cast(keras.ops.expand_dims(mask, -1), x.dtype)
            x = keras.ops.pad(x, ((0, 0), (half, half), (0, 0)))
            x = keras.ops.relu(norm(conv(x), training=training))
            if mask is not None:
                mask = self._subsample(mask)
        if mask is not None:
            x = x * keras.ops.cast(keras.ops.expand_dims(mask, -1), x.dtype)
        return x

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        for _ in self.blocks:
            mask = self._subsample(mask)
        return mask

    def compute_output_shape(self, input_shape):
        frames = input_shape[1]
        for _ in self.blocks:
            frames = None if frames is None else -(-frames // self.strides)
        return (input_shape[0], frames, self.filters[-1])

    def get_config(self):
        return super().get_config() | {
            "filters": list(self.filters),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
        }


@keras.saving.register_keras_serializable(package="rnn_apps")
class RepeatFrames(keras.layers.Layer):
    """Bring subsampled frames back to the frame rate of a reference: repeat each ``factor`` times, cut to length.

    A CNN-RNN labelling frames for CTC reads a quarter of the frames (say);
    repeating each output back to the front end's 10 ms frames keeps one
    output per front-end frame, so frame counts, CTC targets and decoders
    work unchanged (CTC merges the repeats). Takes ``[sequence, reference]``
    and returns the reference's mask.

    Args:
        factor: input frames per subsampled frame.

    Examples:
        >>> x = np.array([[[1.0], [2.0]]], "float32")
        >>> keras.ops.convert_to_numpy(RepeatFrames(2)([x, np.zeros((1, 3, 4), "float32")]))[0, :, 0].tolist()
        [1.0, 1.0, 2.0]
    """

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        errors.check_positive(factor, "factor")
        self.factor = factor
        self.supports_masking = True

    def call(self, inputs, mask=None):
        sequence, reference = inputs
        repeated = keras.ops.repeat(sequence, self.factor, axis=1)
        return repeated[:, : keras.ops.shape(reference)[1]]

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[1]

    def compute_output_shape(self, input_shape):
        sequence, reference = input_shape
        return (sequence[0], reference[1], sequence[2])

    def get_config(self):
        return super().get_config() | {"factor": self.factor}
