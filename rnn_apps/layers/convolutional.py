"""Convolutional baselines with the same call shape as the recurrent encoders.

Every recipe compares its recurrent models with a CNN trained on the same
data. The encoders here take the same ``(batch, time, features)`` tensor as
`rnn_apps.layers.recurrent.encoder` and return ``(batch, width)`` or, with
``return_sequences=True``, ``(batch, time, width)``, so a recipe swaps one for
the other in one line.

A convolution sees a fixed window of neighbouring steps; stacking layers or
dilating the kernel widens that window (the receptive field) without any
state carried from step to step, so all steps are computed in parallel.

Kinds of 1-D encoder:

- ``stack``: plain Conv1D layers, ``same`` padding;
- ``multi_width``: parallel Conv1D branches of several kernel widths, each
  max-pooled over time and concatenated (Kim 2014's sentence CNN);
- ``dilated``: dilation doubling per layer (1, 2, 4, ...), as in ID-CNN
  taggers and WaveNet-like encoders;
- ``causal``: dilated and causal: step ``t`` sees only steps ``<= t``, for
  forecasting where nothing may look ahead (TCN style).

Only `keras.layers` is used, so the encoders work on every backend.
"""

from __future__ import annotations

import keras

from rnn_apps import errors

CONV1D_KINDS = ("stack", "multi_width", "dilated", "causal")
"""1-D encoder kinds accepted by `encoder`."""

POOLING = ("max", "average")


def _pool(x, pooling: str, name: str):
    errors.check_choice(pooling, POOLING, "pooling")
    if pooling == "max":
        return keras.layers.GlobalMaxPooling1D(name=name)(x)
    return keras.layers.GlobalAveragePooling1D(name=name)(x)


def receptive_field(kind: str, kernel_size: int, num_layers: int) -> int:
    """Number of input steps one output step can see.

    Args:
        kind: one of `CONV1D_KINDS` except ``multi_width``.
        kernel_size: kernel width.
        num_layers: number of stacked layers.

    Returns:
        The receptive field in steps.

    Examples:
        >>> receptive_field("stack", 3, 2)
        5
        >>> receptive_field("dilated", 3, 4)
        31
    """
    errors.check_choice(kind, ("stack", "dilated", "causal"), "kind")
    if kind == "stack":
        return 1 + num_layers * (kernel_size - 1)
    return 1 + (kernel_size - 1) * (2**num_layers - 1)


def layers_to_cover(kind: str, kernel_size: int, steps: int) -> int:
    """The fewest layers of ``kind`` whose receptive field covers ``steps`` inputs.

    Examples:
        >>> layers_to_cover("causal", 3, 24)
        4
    """
    layers = 1
    while receptive_field(kind, kernel_size, layers) < steps:
        layers += 1
    return layers


def encoder(
    inputs,
    kind: str = "multi_width",
    filters: int = 128,
    kernel_size: int = 3,
    kernel_sizes: tuple[int, ...] = (3, 4, 5),
    num_layers: int = 2,
    dropout: float = 0.0,
    return_sequences: bool = False,
    pooling: str = "max",
    activation: str = "relu",
    name: str = "cnn",
):
    """Apply a 1-D convolutional encoder to a ``(batch, time, features)`` tensor.

    Args:
        inputs: a Keras tensor of shape ``(batch, time, features)``.
        kind: one of ``"stack"``, ``"multi_width"``, ``"dilated"``,
            ``"causal"``. Defaults to ``"multi_width"``.
        filters: positive int, filters per layer (per branch for
            ``multi_width``).
        kernel_size: positive int, kernel width for the single-width kinds.
        kernel_sizes: tuple of positive ints, branch widths for
            ``multi_width``.
        num_layers: positive int, stacked layers for the single-width kinds
            (dilation doubles per layer for ``dilated`` and ``causal``).
        dropout: float in [0, 1), dropout after each convolution layer (and
            after pooling).
        return_sequences: bool, return every step ``(batch, time, filters)``
            instead of pooling over time. Not available for ``multi_width``,
            which is a pooled encoder by design.
        pooling: ``"max"`` or ``"average"`` pooling over time.
        activation: activation of each convolution.
        name: prefix of the layer names.

    Returns:
        ``(batch, width)`` or ``(batch, time, filters)``; ``width`` is
            ``filters * len(kernel_sizes)`` for ``multi_width`` and ``filters``
            otherwise.

    Examples:
        >>> x = keras.Input(shape=(None, 8))
        >>> encoder(x, kind="multi_width", filters=4).shape
        (None, 12)
        >>> encoder(x, kind="causal", filters=5, return_sequences=True).shape
        (None, None, 5)
    """
    errors.check_choice(kind, CONV1D_KINDS, "kind")
    errors.check_positive(filters, "filters")
    errors.check_positive(num_layers, "num_layers")
    errors.check_fraction(dropout, "dropout")
    if kind == "multi_width":
        if return_sequences:
            raise errors.expected(
                "False for kind='multi_width' (a pooled encoder)",
                return_sequences,
                name="return_sequences",
            )
        branches = []
        for width in kernel_sizes:
            errors.check_positive(width, "kernel_sizes")
            branch = keras.layers.Conv1D(filters, width, activation=activation, name=f"{name}_conv{width}")(inputs)
            branches.append(_pool(branch, pooling, name=f"{name}_pool{width}"))
        x = branches[0] if len(branches) == 1 else keras.layers.Concatenate(name=f"{name}_concat")(branches)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
        return x

    errors.check_positive(kernel_size, "kernel_size")
    x = inputs
    for index in range(1, num_layers + 1):
        dilation = 1 if kind == "stack" else 2 ** (index - 1)
        x = keras.layers.Conv1D(
            filters,
            kernel_size,
            padding="causal" if kind == "causal" else "same",
            dilation_rate=dilation,
            activation=activation,
            name=f"{name}_conv_{index}",
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{name}_dropout_{index}")(x)
    if return_sequences:
        return x
    if kind == "causal":
        # The last step of a causal stack has seen the whole window and
        # nothing after it: the natural summary for forecasting.
        return x[:, -1, :]
    return _pool(x, pooling, name=f"{name}_pool")


def encoder_2d(
    inputs,
    filters: tuple[int, ...] = (32, 64, 128),
    kernel_size: int = 3,
    dropout: float = 0.0,
    return_sequences: bool = False,
    pooling: str = "max",
    activation: str = "relu",
    name: str = "cnn2d",
):
    """Apply a 2-D convolutional encoder to a ``(batch, time, features)`` tensor.

    The time-by-feature plane (a spectrogram: frames by mel bins) is read as
    a one-channel image, the way most keyword-spotting CNNs read it. Each
    block is ``Conv2D`` (``same`` padding) -> ``BatchNormalization`` -> ReLU
    -> ``MaxPooling2D`` -> optional dropout. Blocks halve both axes, or only
    the feature axis with ``return_sequences=True``, so that every input
    step keeps one output step (as CTC needs).

    Args:
        inputs: a Keras tensor ``(batch, time, features)``; ``features`` must
            be known.
        filters: tuple of positive ints, filters of each block (one block
            per entry). Defaults to ``(32, 64, 128)``.
        kernel_size: positive int, square kernel size.
        dropout: float in [0, 1), dropout after each block.
        return_sequences: bool, return ``(batch, time, width)`` (the feature
            axis and channels flattened per step) instead of pooling over
            the whole plane.
        pooling: ``"max"`` or ``"average"`` pooling over the plane.
        activation: activation after each batch normalization.
        name: prefix of the layer names.

    Returns:
        ``(batch, filters[-1])``, or ``(batch, time, width)`` with ``width =
            filters[-1] * ceil(features / 2 ** len(filters))``.

    Examples:
        >>> x = keras.Input(shape=(None, 40))
        >>> encoder_2d(x, filters=(4, 8)).shape
        (None, 8)
        >>> encoder_2d(x, filters=(4, 8), return_sequences=True).shape
        (None, None, 80)
    """
    errors.check_choice(pooling, POOLING, "pooling")
    errors.check_positive(kernel_size, "kernel_size")
    errors.check_fraction(dropout, "dropout")
    if not filters:
        raise errors.expected("at least one block of filters", filters, name="filters")
    features = inputs.shape[-1]
    if features is None:
        raise errors.expected("a known feature size (last axis)", inputs.shape, name="inputs")
    x = keras.layers.Reshape((-1, features, 1), name=f"{name}_image")(inputs)
    for index, count in enumerate(filters, start=1):
        errors.check_positive(count, "filters")
        x = keras.layers.Conv2D(count, kernel_size, padding="same", use_bias=False, name=f"{name}_conv_{index}")(x)
        # A faster-moving average than Keras's 0.99: small data sets give few
        # steps, and the inference statistics must settle within them.
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_norm_{index}")(x)
        x = keras.layers.Activation(activation, name=f"{name}_activation_{index}")(x)
        pool = (1, 2) if return_sequences else (2, 2)
        x = keras.layers.MaxPooling2D(pool, padding="same", name=f"{name}_pool_{index}")(x)
        features = -(-features // 2)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{name}_dropout_{index}")(x)
    if return_sequences:
        return keras.layers.Reshape((-1, features * filters[-1]), name=f"{name}_frames")(x)
    if pooling == "max":
        return keras.layers.GlobalMaxPooling2D(name=f"{name}_global_pool")(x)
    return keras.layers.GlobalAveragePooling2D(name=f"{name}_global_pool")(x)


def fcn_encoder(
    inputs,
    filters: tuple[int, ...] = (128, 256, 128),
    kernel_sizes: tuple[int, ...] = (8, 5, 3),
    return_sequences: bool = False,
    name: str = "cnn",
):
    """Fully convolutional time-series encoder (Wang et al. 2017, "FCN").

    Conv1D blocks (three in the paper), each convolution (``same`` padding)
    -> batch normalization (momentum 0.9) -> ReLU, then global average
    pooling over time.

    Args:
        inputs: ``(batch, time, channels)``.
        filters: filters per block.
        kernel_sizes: kernel width per block.
        return_sequences: return ``(batch, time, filters[-1])``, before the
            pooling.
        name: prefix of the layer names.

    Returns:
        ``(batch, filters[-1])`` or ``(batch, time, filters[-1])``.

    Examples:
        >>> fcn_encoder(keras.Input(shape=(None, 3)), filters=(4, 5), kernel_sizes=(3, 3)).shape
        (None, 5)
    """
    if len(filters) != len(kernel_sizes):
        raise errors.expected(f"{len(filters)} kernel sizes, one per block", kernel_sizes, name="kernel_sizes")
    x = inputs
    for index, (width, kernel) in enumerate(zip(filters, kernel_sizes), start=1):
        x = keras.layers.Conv1D(width, kernel, padding="same", name=f"{name}_conv_{index}")(x)
        # Momentum 0.9, not Keras's 0.99: on small series sets the moving statistics must settle in a few
        # hundred updates (see recipes/video.py).
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_norm_{index}")(x)
        x = keras.layers.Activation("relu", name=f"{name}_relu_{index}")(x)
    if return_sequences:
        return x
    return keras.layers.GlobalAveragePooling1D(name=f"{name}_pool")(x)
