"""Video models: per-frame CNN + recurrent layer, ConvLSTM, 3-D CNN, frame-averaging CNN.

A clip is a tensor ``(batch, frames, height, width, channels)`` of raw pixel
values (0 to 255). The models here differ in where they look at time:

- ``simple_rnn`` / ``lstm`` / ``gru``: a small 2-D CNN encodes every frame
  on its own (a `TimeDistributed` 2-D CNN), and a recurrent encoder from
  `rnn_apps.layers.recurrent` reads the frame vectors in order (the "CNN-RNN" or
  LRCN design);
- ``convlstm``: `keras.layers.ConvLSTM2D` carries a spatial state map from
  frame to frame, so its gates are convolutions;
- ``cnn3d``: 3-D convolutions over (time, height, width): short-range motion
  in a fixed window, no state (C3D style), or the factorized ``(2+1)-D``
  form (a spatial then a temporal convolution, R(2+1)D style);
- ``frame_cnn``: the same per-frame CNN as the CNN-RNN, with its frame
  vectors averaged over time: it ignores frame order entirely, the baseline
  that shows how much order matters.

The frame encoder keeps where things are in the frame (it flattens a small
feature map instead of pooling it away), since motion direction is a change
of position. Every layer is a built-in Keras layer with a name, so saved
models reload without importing `rnn_apps`. `raw_frames_model` wraps a
trained model so it takes clips of any frame size (resized inside).

Both builders take an `rnn_apps.layers.encoders.EncoderConfig`: a recurrent
``model`` is the CNN-RNN, and ``model="cnn"`` with a ``cnn_kind`` from
`rnn_apps.layers.encoders.CLIP_CNN_KINDS` (``conv3d``, ``2plus1d``,
``frame_average``, ``convlstm``) is one of the others, so swapping the RNN for
the CNN is one field.

`sequence_model` builds the joints-side models: body-joint coordinates
``(batch, time, channels)`` normalized by a `keras.layers.Normalization`
layer adapted on the training data, then the configured encoder: recurrent,
or the fully convolutional network of Wang et al. (2017), FCN
(``cnn_kind="fcn"``), as the CNN baseline.

Examples:
    >>> config = encoders.EncoderConfig(model="gru", units=8, cnn_kind="conv3d", filters=(4,))
    >>> model = frames_classifier(config, num_classes=4, frames=5, height=16, width=16, channels=1)
    >>> tuple(model(keras.ops.zeros((2, 5, 16, 16, 1))).shape)
    (2, 4)
    >>> import dataclasses
    >>> model = frames_classifier(dataclasses.replace(config, model="cnn"), 4, 5, 16, 16, 1)
    >>> model.name, tuple(model(keras.ops.zeros((2, 5, 16, 16, 1))).shape)
    ('cnn3d', (2, 4))
"""

from __future__ import annotations

import math
import os

import keras

from rnn_apps import errors
from rnn_apps.layers import encoders, heads
from rnn_apps.options import BACKBONES, CONV3D_KINDS

FRAME_MODELS = ("simple_rnn", "lstm", "gru", "convlstm", "cnn3d", "frame_cnn")
"""Model names for clips of frames."""

FRAME_MODEL_NAMES = {"conv3d": "cnn3d", "2plus1d": "cnn3d", "frame_average": "frame_cnn", "convlstm": "convlstm"}
"""The `FRAME_MODELS` name of each clip CNN kind (the default model name)."""

SEQUENCE_MODELS = ("simple_rnn", "lstm", "gru", "cnn")
"""Model names for sequences of joint coordinates."""


def frame_encoder(
    inputs,
    filters: tuple[int, ...] = (16, 32, 32),
    dense_units: int = 64,
    dropout: float = 0.0,
    time_distributed: bool = False,
    normalize: bool = True,
    name: str = "frame_encoder",
):
    """Encode every frame of a clip with the same small 2-D CNN.

    Each block is a 3x3 convolution (ReLU) followed by 2x2 max pooling,
    applied to each frame on its own. The last feature map is flattened, not
    pooled, so the frame vector still says where things are in the frame.

    By default the per-frame convolutions are written as `Conv3D` with a
    ``1x3x3`` kernel and ``1x2x2`` pooling: the very same computation as
    ``TimeDistributed(Conv2D)`` (a kernel one frame deep never mixes
    frames), but one fused op instead of a reshape per layer, several times
    faster on a CPU. ``time_distributed=True`` builds the literal
    `TimeDistributed` form (the tests check the two agree).

    Args:
        inputs: a Keras tensor ``(batch, frames, height, width, channels)``
            of values already scaled to [0, 1].
        filters: filters of each convolution block.
        dense_units: width of the frame vector.
        dropout: dropout on the frame vectors.
        time_distributed: use ``TimeDistributed(Conv2D)`` layers.
        normalize: layer-normalize every frame vector. Without it, LSTM
            and SimpleRNN on top of this encoder often sit at chance for
            many epochs on the bundled sample (unscaled ReLU features);
            with it they learn in a few epochs, like the GRU.
        name: prefix of the layer names.

    Returns:
        ``(batch, frames, dense_units)``.

    Examples:
        >>> x = keras.Input(shape=(4, 16, 16, 3))
        >>> frame_encoder(x, filters=(4, 8), dense_units=6).shape
        (None, 4, 6)
        >>> frame_encoder(x, filters=(4,), dense_units=6, time_distributed=True, name="td").shape
        (None, 4, 6)
    """
    errors.check_positive(dense_units, "dense_units")
    errors.check_fraction(dropout, "dropout")
    x = inputs
    for index, width in enumerate(filters, start=1):
        errors.check_positive(width, "filters")
        if time_distributed:
            conv = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_conv_{index}")
            x = keras.layers.TimeDistributed(conv, name=f"{name}_conv_{index}_frames")(x)
            pool = keras.layers.MaxPooling2D(2, name=f"{name}_pool_{index}")
            x = keras.layers.TimeDistributed(pool, name=f"{name}_pool_{index}_frames")(x)
        else:
            x = keras.layers.Conv3D(width, (1, 3, 3), padding="same", activation="relu", name=f"{name}_conv_{index}")(x)
            x = keras.layers.MaxPooling3D((1, 2, 2), name=f"{name}_pool_{index}")(x)
    # (-1, values per frame) rather than (frames, -1): the same numbers, and the reshape visibly keeps frames
    # apart, so `rnn_apps.streaming` can run it one frame at a time.
    x = keras.layers.Reshape((-1, math.prod(x.shape[2:])), name=f"{name}_flatten")(x)
    # Dense acts on the last axis, so it is applied to every frame alike.
    x = keras.layers.Dense(dense_units, activation="relu", name=f"{name}_dense")(x)
    if normalize:
        x = keras.layers.LayerNormalization(name=f"{name}_norm")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def check_frame_size(height: int, width: int, filters: tuple[int, ...], convlstm: bool = False) -> None:
    """Refuse frames too small for the pooling of the frame models (each CNN block halves them).

    The ConvLSTM pools once more after its stem of up to two blocks.

    Raises:
        InputError: naming the smallest frame size that works.

    Examples:
        >>> check_frame_size(8, 8, filters=(4, 4), convlstm=True)
    """
    pools = len(filters)
    if convlstm:
        pools = max(pools, min(pools, 2) + 1)
    if min(height, width) < 2**pools:
        raise errors.expected(
            f"frames of at least {2**pools}x{2**pools} for {pools} pooling steps (--size, --filters)",
            f"{height}x{width}",
            name="frames",
        )


def check_backbone(backbone: str | None, weights_path: str | os.PathLike | None) -> None:
    """Refuse a backbone without an existing local weights file, before any data is read.

    Examples:
        >>> check_backbone(None, None)
    """
    if backbone and not weights_path:
        raise errors.expected("a local weights file with --backbone", None, name="--backbone-weights")
    if weights_path and not os.path.isfile(weights_path):
        raise errors.expected("an existing local weights file", str(weights_path), name="--backbone-weights")


def backbone_encoder(inputs, backbone: str, weights_path: str | os.PathLike, name: str = "backbone"):
    """Encode every frame with an ImageNet CNN from `keras.applications`, frozen.

    The weights are read from a local file only (this function never
    downloads): pass the ``*_notop.h5`` file Keras caches in
    ``~/.keras/models`` after a download made elsewhere, or any weights
    file saved from the same architecture without its top.

    Args:
        inputs: ``(batch, frames, height, width, 3)`` raw pixel values 0..255
            (each backbone applies its own preprocessing).
        backbone: one of `BACKBONES`.
        weights_path: local weights file.
        name: name of the wrapped backbone layer.

    Returns:
        ``(batch, frames, features)`` pooled frame vectors.
    """
    errors.check_choice(backbone, tuple(BACKBONES), "backbone")
    if inputs.shape[-1] != 3:
        raise errors.expected("RGB frames (3 channels) for an ImageNet backbone", inputs.shape[-1], name="channels")
    if not os.path.isfile(weights_path):
        raise errors.expected(
            "an existing local weights file (nothing is downloaded)", str(weights_path), name="weights"
        )
    factory = getattr(keras.applications, BACKBONES[backbone])
    network = factory(include_top=False, weights=None, input_shape=tuple(inputs.shape[2:]), pooling="avg")
    try:
        network.load_weights(weights_path)
    except Exception as error:  # h5py and Keras raise several types for a mismatched file
        raise errors.expected(
            f"weights of {BACKBONES[backbone]} without its top", f"{weights_path} ({error})"
        ) from None
    network.trainable = False
    return keras.layers.TimeDistributed(network, name=name)(inputs)


def _scaled(inputs):
    return keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)


def frames_classifier(
    config: encoders.EncoderConfig,
    num_classes: int,
    frames: int,
    height: int,
    width: int,
    channels: int,
    frame_filters: tuple[int, ...] = (16, 32, 32),
    dense_units: int = 64,
    head_dropout: float = 0.3,
    backbone: str | None = None,
    backbone_weights: str | os.PathLike | None = None,
    name: str | None = None,
) -> keras.Model:
    """A clip classifier of one of the `FRAME_MODELS` kinds.

    A recurrent ``config`` reads the frame vectors of the per-frame CNN
    (`frame_encoder`, or a frozen ``backbone``); ``model="cnn"`` builds the
    clip CNN of ``config.cnn_kind``:

    - ``conv3d`` / ``2plus1d``: `conv3d_encoder` with ``config.filters``
      blocks (``cnn3d``);
    - ``frame_average``: the per-frame CNN's vectors averaged over time
      (``frame_cnn``);
    - ``convlstm``: `convlstm_encoder` with ``config.units`` state channels
      and the first two of ``config.filters`` as its stem (``convlstm``).

    Args:
        config: the encoder; ``cnn_kind`` one of
            `rnn_apps.layers.encoders.CLIP_CNN_KINDS` for ``model="cnn"``.
        num_classes: int >= 2.
        frames, height, width, channels: clip shape (``height`` and
            ``width`` are the size the clips were resized to).
        frame_filters: filters of the per-frame CNN's blocks.
        dense_units: width of the frame vectors and of the 3-D CNN's output.
        head_dropout: dropout before the output layer.
        backbone: optional name from `BACKBONES` to encode frames with a
            frozen ImageNet CNN instead of the from-scratch frame encoder.
        backbone_weights: local weights file of that backbone.
        name: model name; defaults to ``config.model`` for the CNN-RNN and
            the `FRAME_MODELS` name of the kind (`FRAME_MODEL_NAMES`) for a CNN.

    Returns:
        An uncompiled model from raw pixel values ``(batch, frames, height,
            width, channels)`` to class probabilities.

    Examples:
        >>> cnn3d = encoders.EncoderConfig(model="cnn", cnn_kind="conv3d", filters=(4,))
        >>> m = frames_classifier(cnn3d, 3, frames=4, height=8, width=8, channels=1)
        >>> tuple(m(keras.ops.zeros((1, 4, 8, 8, 1))).shape)
        (1, 3)
    """
    if not config.is_recurrent:
        errors.check_choice(config.cnn_kind, encoders.CLIP_CNN_KINDS, "cnn_kind")
    for value, label in ((frames, "frames"), (height, "height"), (width, "width"), (channels, "channels")):
        errors.check_positive(value, label)
    inputs = keras.Input(shape=(frames, height, width, channels), name="frames")

    def encode_frames():
        if backbone:
            return backbone_encoder(inputs, backbone, backbone_weights)
        return frame_encoder(_scaled(inputs), filters=frame_filters, dense_units=dense_units)

    if config.is_recurrent:
        features = config(encode_frames())
    elif config.cnn_kind == "frame_average":
        features = keras.layers.GlobalAveragePooling1D(name="frame_average")(encode_frames())
    elif config.cnn_kind == "convlstm":
        features = convlstm_encoder(_scaled(inputs), filters=config.units, stem_filters=config.filters[:2])
    else:
        features = conv3d_encoder(
            _scaled(inputs), kind=config.cnn_kind, filters=config.filters, dense_units=dense_units
        )
    outputs = heads.classification_head(features, num_classes, dropout=head_dropout)
    default = config.model if config.is_recurrent else FRAME_MODEL_NAMES[config.cnn_kind]
    return keras.Model(inputs, outputs, name=name or default)


def convlstm_encoder(inputs, filters: int = 16, stem_filters: tuple[int, ...] = (16,), name: str = "convlstm"):
    """A convolution stem per frame, then a `ConvLSTM2D` over the frames.

    Each stem block (3x3 convolution one frame deep, 2x2 pooling) halves the
    frame size, so the recurrent convolutions, which cannot be fused and run
    step by step, work on a small map; the last state map is pooled once
    more and flattened, keeping position.

    Args:
        inputs: ``(batch, frames, height, width, channels)`` scaled to [0, 1].
        filters: ConvLSTM filters (its state channels).
        stem_filters: filters of each per-frame stem block.
        name: prefix of the layer names.

    Returns:
        ``(batch, features)``.

    Examples:
        >>> x = keras.Input(shape=(3, 8, 8, 1))
        >>> convlstm_encoder(x, filters=2, stem_filters=(2,)).shape
        (None, 8)
    """
    errors.check_positive(filters, "filters")
    x = inputs
    for index, width in enumerate(stem_filters, start=1):
        errors.check_positive(width, "stem_filters")
        x = keras.layers.Conv3D(width, (1, 3, 3), padding="same", activation="relu", name=f"{name}_stem_{index}")(x)
        x = keras.layers.MaxPooling3D((1, 2, 2), name=f"{name}_stem_pool_{index}")(x)
    x = keras.layers.ConvLSTM2D(filters, 3, padding="same", name=f"{name}_layer")(x)
    x = keras.layers.MaxPooling2D(2, name=f"{name}_state_pool")(x)
    return keras.layers.Flatten(name=f"{name}_flatten")(x)


def conv3d_encoder(
    inputs,
    kind: str = "conv3d",
    filters: tuple[int, ...] = (16, 32, 32),
    dense_units: int = 64,
    name: str = "cnn3d",
):
    """3-D convolutions over time and space, then a dense layer.

    ``conv3d`` uses 3x3x3 kernels; ``2plus1d`` factorizes each into a 1x3x3
    spatial and a 3x1x1 temporal convolution with a ReLU between (fewer
    parameters, one more non-linearity). Pooling halves height and width per
    block but keeps every frame, so the temporal windows stay short and the
    flattened map keeps both when and where.

    Args:
        inputs: ``(batch, frames, height, width, channels)`` scaled to [0, 1].
        kind: one of ``"conv3d"``, ``"2plus1d"``.
        filters: filters per block.
        dense_units: width of the output features.
        name: prefix of the layer names.

    Returns:
        ``(batch, dense_units)``.

    Examples:
        >>> x = keras.Input(shape=(4, 8, 8, 1))
        >>> conv3d_encoder(x, kind="2plus1d", filters=(2, 3), dense_units=5).shape
        (None, 5)
    """
    errors.check_choice(kind, CONV3D_KINDS, "conv3d_kind")
    x = inputs
    for index, width in enumerate(filters, start=1):
        errors.check_positive(width, "filters")
        if kind == "conv3d":
            x = keras.layers.Conv3D(width, 3, padding="same", activation="relu", name=f"{name}_conv_{index}")(x)
        else:
            x = keras.layers.Conv3D(
                width, (1, 3, 3), padding="same", activation="relu", name=f"{name}_spatial_{index}"
            )(x)
            x = keras.layers.Conv3D(
                width, (3, 1, 1), padding="same", activation="relu", name=f"{name}_temporal_{index}"
            )(x)
        x = keras.layers.MaxPooling3D((1, 2, 2), name=f"{name}_pool_{index}")(x)
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    return keras.layers.Dense(dense_units, activation="relu", name=f"{name}_dense")(x)


def raw_frames_model(core: keras.Model, name: str | None = None) -> keras.Model:
    """Wrap a clip classifier so it takes clips of any frame size.

    The wrapper resizes every frame (bilinear) to the size ``core`` was
    trained on, then calls it. The number of frames and channels stay
    fixed.

    Examples:
        >>> frame_average = encoders.EncoderConfig(model="cnn", cnn_kind="frame_average")
        >>> core = frames_classifier(frame_average, 2, frames=3, height=8, width=8, channels=1, frame_filters=(2,))
        >>> tuple(raw_frames_model(core)(keras.ops.zeros((1, 3, 20, 12, 1))).shape)
        (1, 1)
    """
    frames, height, width, channels = core.input_shape[1:]
    inputs = keras.Input(shape=(frames, None, None, channels), name="raw_frames")
    resize = keras.layers.Resizing(height, width, name="resize")
    x = keras.layers.TimeDistributed(resize, name="resize_frames")(inputs)
    return keras.Model(inputs, core(x), name=name or core.name)


def sequence_model(
    config: encoders.EncoderConfig,
    num_classes: int,
    feature_dim: int,
    normalizer: keras.layers.Normalization | None = None,
    head_dropout: float = 0.3,
    name: str | None = None,
) -> keras.Model:
    """Classify joint-coordinate sequences with a recurrent encoder or the FCN.

    Args:
        config: the encoder; the CNN baseline is the FCN
            (``cnn_kind="fcn"``, ``filters=(128, 256, 128)``,
            ``kernel_sizes=(8, 5, 3)`` as in Wang et al. 2017).
        num_classes: int >= 2.
        feature_dim: coordinates per step.
        normalizer: an adapted `keras.layers.Normalization` (per channel);
            it becomes part of the model, so the saved model takes raw
            coordinates. `None` leaves the inputs as they are.
        head_dropout: dropout before the output layer.
        name: model name; defaults to ``config.model``.

    Returns:
        An uncompiled model from ``(batch, time, feature_dim)``.

    Examples:
        >>> m = sequence_model(encoders.EncoderConfig(model="lstm", units=3), 6, feature_dim=4)
        >>> tuple(m(keras.ops.zeros((2, 7, 4))).shape)
        (2, 6)
        >>> fcn = encoders.EncoderConfig(model="cnn", cnn_kind="fcn", filters=(4, 4), kernel_sizes=(3, 3))
        >>> tuple(sequence_model(fcn, 6, feature_dim=4)(keras.ops.zeros((2, 7, 4))).shape)
        (2, 6)
    """
    errors.check_positive(feature_dim, "feature_dim")
    inputs = keras.Input(shape=(None, feature_dim), name="joints")
    x = normalizer(inputs) if normalizer is not None else inputs
    features = config(x)
    outputs = heads.classification_head(features, num_classes, dropout=head_dropout)
    return keras.Model(inputs, outputs, name=name or config.model)
