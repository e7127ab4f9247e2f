"""Recurrent encoders: every recurrent choice of the cookbook in one place.

A recurrent encoder reads a sequence of feature vectors step by step and
returns either its last hidden state (one vector per sequence) or its state at
every step (one vector per step). The three cells differ in how they carry
memory:

- ``simple_rnn``: one tanh state, cheap, forgets quickly (vanishing gradients);
- ``lstm``: a cell state guarded by input, forget and output gates;
- ``gru``: two gates (update, reset) and no separate cell state; fewer
  parameters than an LSTM of the same width.

`encoder` stacks layers of one cell, optionally bidirectional, and names
every layer so inference code can find them. `fast_kernel_eligibility` and
`kernel_report` say whether a configuration can reach the fused cuDNN kernel
on a GPU and, when it cannot, why.

The functions here only use `keras.layers` and work on every Keras backend.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from rnn_apps import errors
from rnn_apps.layers import torch_kernels

CELLS = ("simple_rnn", "lstm", "gru")
"""Recurrent cell names accepted by every factory and by ``--model``."""

_LAYER_CLASSES = {
    "simple_rnn": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}

MASK_PADDING = ("right", "left", "none")

BACKENDS = ("tensorflow", "jax", "torch")
"""Keras backends whose fused-kernel rules `fast_kernel_eligibility` knows."""


def recurrent_layer(
    cell: str,
    units: int,
    *,
    return_sequences: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    use_cudnn: str | bool = "auto",
    name: str | None = None,
) -> keras.layers.Layer:
    """Create one recurrent layer of the named cell.

    Args:
        cell: one of ``"simple_rnn"``, ``"lstm"``, ``"gru"``.
        units: positive int, size of the hidden state.
        return_sequences: bool, return the state at every step instead of the
            last one. Defaults to `False`.
        dropout: float in [0, 1), dropout on the inputs of each step.
        recurrent_dropout: float in [0, 1), dropout on the recurrent state.
            Any value above 0 rules out the fused cuDNN kernel.
        use_cudnn: ``"auto"``, `True` or `False`; passed to LSTM and GRU
            (SimpleRNN has no fused kernel and ignores it).
        name: layer name.

    Returns:
        A `keras.layers.SimpleRNN`, `LSTM` or `GRU`.

    Examples:
        >>> layer = recurrent_layer("gru", 8, return_sequences=True, name="g")
        >>> tuple(layer(keras.ops.zeros((2, 5, 3))).shape)
        (2, 5, 8)
    """
    errors.check_choice(cell, CELLS, "cell")
    errors.check_positive(units, "units")
    errors.check_fraction(dropout, "dropout")
    errors.check_fraction(recurrent_dropout, "recurrent_dropout")
    if use_cudnn not in ("auto", True, False):
        raise errors.expected("one of ['auto', True, False]", use_cudnn, name="use_cudnn")
    options = dict(
        units=units,
        return_sequences=return_sequences,
        dropout=dropout,
        recurrent_dropout=recurrent_dropout,
        name=name,
    )
    if cell != "simple_rnn":
        options["use_cudnn"] = use_cudnn
    return _LAYER_CLASSES[cell](**options)


def encoder(
    inputs,
    cell: str = "lstm",
    units: int = 64,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    return_sequences: bool = False,
    use_cudnn: str | bool = "auto",
    name: str = "encoder",
):
    """Apply a stack of recurrent layers to a ``(batch, time, features)`` tensor.

    Every layer but the last returns sequences so the next one can read them;
    the last follows ``return_sequences``. A mask carried by ``inputs`` (from
    ``Embedding(mask_zero=True)`` or ``Masking``) is respected by every layer.
    With ``bidirectional=True`` each layer reads the sequence both ways and
    concatenates the two states, so the output width doubles.

    Args:
        inputs: a Keras tensor of shape ``(batch, time, features)``.
        cell: one of ``"simple_rnn"``, ``"lstm"``, ``"gru"``. Defaults to
            ``"lstm"``.
        units: positive int, hidden size of each layer (per direction).
        num_layers: positive int, number of stacked layers. Defaults to 1.
        bidirectional: bool, wrap each layer in `keras.layers.Bidirectional`.
        dropout: float in [0, 1), input dropout of every layer.
        recurrent_dropout: float in [0, 1), state dropout of every layer.
        return_sequences: bool, return ``(batch, time, width)`` instead of
            ``(batch, width)``.
        use_cudnn: ``"auto"``, `True` or `False` (LSTM and GRU only).
        name: prefix of the layer names: ``{name}_{cell}_{i}`` and, when
            bidirectional, ``{name}_bidirectional_{i}``.

    Returns:
        The output tensor: ``(batch, width)`` or ``(batch, time, width)`` with
            ``width = units * (2 if bidirectional else 1)``.

    Examples:
        >>> x = keras.Input(shape=(None, 4))
        >>> encoder(x, cell="lstm", units=6, num_layers=2, bidirectional=True).shape
        (None, 12)
        >>> encoder(x, cell="simple_rnn", units=3, return_sequences=True).shape
        (None, None, 3)
    """
    errors.check_choice(cell, CELLS, "cell")
    errors.check_positive(num_layers, "num_layers")
    if not isinstance(num_layers, int):
        raise errors.expected("a positive integer", num_layers, name="num_layers")
    x = inputs
    for index in range(1, num_layers + 1):
        last = index == num_layers
        layer = recurrent_layer(
            cell,
            units,
            return_sequences=return_sequences or not last,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            use_cudnn=use_cudnn,
            name=f"{name}_{cell}_{index}",
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"{name}_bidirectional_{index}")
        x = layer(x)
    return x


@dataclasses.dataclass(frozen=True)
class KernelReport:
    """Whether a recurrent configuration can run on the fused cuDNN kernel.

    Attributes:
        eligible: `True` or `False`; `None` when there is no recurrent layer
            (a CNN or a naive baseline), so the question does not apply.
        reasons: why not, one short phrase per broken condition.
    """

    eligible: bool | None
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"fast_kernel": self.eligible, "fast_kernel_reasons": list(self.reasons)}


def _activation_name(activation) -> str:
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", str(activation))


def fast_kernel_eligibility(
    cell: str,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    recurrent_dropout: float = 0.0,
    unroll: bool = False,
    use_bias: bool = True,
    reset_after: bool = True,
    use_cudnn: str | bool = "auto",
    mask_padding: str = "right",
    backend: str | None = None,
    masked: bool = False,
) -> KernelReport:
    """Tell whether a layer configuration is eligible for the fused GPU kernel.

    LSTM and GRU run on cuDNN only with ``tanh``/``sigmoid`` activations, no
    recurrent dropout, no unrolling, biases on, (GRU) ``reset_after=True``,
    ``use_cudnn`` not `False`, and masks that are strictly right-padded (a
    TensorFlow requirement). Outside these the backend silently falls back
    to a generic loop that is several times slower on a GPU. SimpleRNN has
    no fused kernel on any backend. The answer is about the configuration;
    whether a GPU is present is a separate matter.

    The rules differ by backend (Keras 3.15): TensorFlow runs cuDNN with a
    strictly right-padded mask, while JAX takes the fused path only when no
    mask reaches the layer at all, and has a fused LSTM but no fused GRU
    (its GRU is a `lax.scan` loop). On PyTorch Keras alone would fuse only
    unmasked layers on a CUDA device; with `rnn_apps.layers.torch_kernels`
    installed (the command line installs it, through
    `rnn_apps.harness.runtime.configure`) the rules are TensorFlow's, and the
    fused kernel runs on the CPU too.

    Args:
        cell: one of ``"simple_rnn"``, ``"lstm"``, ``"gru"``.
        activation: the cell activation (name or function).
        recurrent_activation: the gate activation (name or function).
        recurrent_dropout: float, dropout on the recurrent state.
        unroll: bool, whether the loop is unrolled.
        use_bias: bool.
        reset_after: bool, GRU only.
        use_cudnn: the layer's ``use_cudnn`` setting.
        mask_padding: how padded inputs are masked: ``"right"`` (or no
            padding), ``"left"``, or ``"none"`` (no mask at all).
        backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``; defaults to
            the running Keras backend.
        masked: whether a Keras mask reaches the layer (``Embedding(
            mask_zero=True)``, ``Masking``); matters on JAX and PyTorch.

    Returns:
        A `KernelReport`.

    Examples:
        >>> fast_kernel_eligibility("lstm").eligible
        True
        >>> fast_kernel_eligibility("gru", recurrent_dropout=0.2, reset_after=False).reasons
        ('recurrent_dropout=0.2 (needs 0)', 'reset_after=False (GRU needs True)')
        >>> fast_kernel_eligibility("simple_rnn").reasons
        ('SimpleRNN has no fused kernel',)
        >>> fast_kernel_eligibility("lstm", backend="jax", masked=True).reasons
        ('masked inputs (the jax fused path takes no mask)',)
        >>> fast_kernel_eligibility("lstm", backend="torch", masked=True, mask_padding="left").reasons
        ('left-padded mask (needs right padding)',)
        >>> fast_kernel_eligibility("gru", backend="jax").reasons
        ('JAX has no fused GRU kernel',)
    """
    errors.check_choice(cell, CELLS, "cell")
    errors.check_choice(mask_padding, MASK_PADDING, "mask_padding")
    backend = backend or keras.backend.backend()
    errors.check_choice(backend, BACKENDS, "backend")
    if cell == "simple_rnn":
        return KernelReport(False, ("SimpleRNN has no fused kernel",))
    reasons = []
    if _activation_name(activation) != "tanh":
        reasons.append(f"activation={_activation_name(activation)} (needs tanh)")
    if _activation_name(recurrent_activation) != "sigmoid":
        name = _activation_name(recurrent_activation)
        reasons.append(f"recurrent_activation={name} (needs sigmoid)")
    if recurrent_dropout:
        reasons.append(f"recurrent_dropout={recurrent_dropout} (needs 0)")
    if unroll:
        reasons.append("unroll=True (needs False)")
    if not use_bias:
        reasons.append("use_bias=False (needs True)")
    if cell == "gru" and not reset_after:
        reasons.append("reset_after=False (GRU needs True)")
    if use_cudnn is False:
        reasons.append("use_cudnn=False")
    # TensorFlow's cuDNN path, and PyTorch's with `torch_kernels`, take right-padded masks.
    if backend == "tensorflow" or (backend == "torch" and torch_kernels.enabled()):
        if mask_padding == "left":
            reasons.append("left-padded mask (needs right padding)")
    elif masked and mask_padding != "none":
        reasons.append(f"masked inputs (the {backend} fused path takes no mask)")
    if backend == "jax" and cell == "gru":
        reasons.append("JAX has no fused GRU kernel")
    return KernelReport(not reasons, tuple(reasons))


def _cell_name(layer) -> str | None:
    for cell, cls in _LAYER_CLASSES.items():
        if type(layer) is cls:
            return cell
    return None


CONVOLUTIONAL_RECURRENT = (keras.layers.ConvLSTM1D, keras.layers.ConvLSTM2D, keras.layers.ConvLSTM3D)
"""Recurrent layers whose gates are convolutions: they run step by step, with no fused kernel anywhere."""


def _recurrent_layers(model):
    """Yield ``(name, layer)`` for each recurrent layer, looking inside wrappers.

    Both directions of a `Bidirectional` wrapper share one configuration, so
    the wrapper is reported once, under its own name.
    """
    for layer in model.layers if hasattr(model, "layers") else [model]:
        if isinstance(layer, keras.layers.Bidirectional):
            yield layer.name, layer.forward_layer
        elif _cell_name(layer) is not None or isinstance(layer, CONVOLUTIONAL_RECURRENT):
            yield layer.name, layer
        elif hasattr(layer, "layers"):
            yield from _recurrent_layers(layer)


def _makes_mask(layer) -> bool:
    """Whether ``layer`` starts a Keras mask (the layers the factories use)."""
    if isinstance(layer, keras.layers.Embedding):
        return bool(layer.mask_zero)
    return isinstance(layer, keras.layers.Masking)


def has_mask(model) -> bool:
    """Whether a model (nested models searched) contains a layer that makes a mask.

    Examples:
        >>> x = keras.Input(shape=(None,), dtype="int32")
        >>> has_mask(keras.Model(x, keras.layers.Embedding(5, 2, mask_zero=True)(x)))
        True
    """
    for layer in model.layers if hasattr(model, "layers") else [model]:
        if _makes_mask(layer) or (hasattr(layer, "layers") and has_mask(layer)):
            return True
    return False


def kernel_report(model, mask_padding: str = "right", backend: str | None = None) -> KernelReport:
    """Report fused-kernel eligibility for every recurrent layer of a model.

    On JAX (and on PyTorch without `rnn_apps.layers.torch_kernels`) a mask anywhere
    in the model (``Embedding(mask_zero=True)`` or ``Masking``) counts
    against every recurrent layer, since the mask travels with the sequence
    through the model.

    Args:
        model: a Keras model (nested models and `Bidirectional` wrappers are
            searched) or a single recurrent layer.
        mask_padding: how the model's inputs are padded; see
            `fast_kernel_eligibility`.
        backend: the backend to judge for; defaults to the running one.

    A ConvLSTM layer (`CONVOLUTIONAL_RECURRENT`) counts as a recurrent layer
    that is never eligible.

    Returns:
        A `KernelReport` whose ``eligible`` is `True` only if every recurrent
            layer is eligible, and `None` if the model has no recurrent layer.

    Examples:
        >>> x = keras.Input(shape=(None, 2))
        >>> m = keras.Model(x, encoder(x, cell="gru", units=3, recurrent_dropout=0.1))
        >>> kernel_report(m).to_dict()
        {'fast_kernel': False, 'fast_kernel_reasons': ['encoder_gru_1: recurrent_dropout=0.1 (needs 0)']}
    """
    reasons = []
    found = False
    masked = has_mask(model)
    for layer_name, layer in _recurrent_layers(model):
        found = True
        if isinstance(layer, CONVOLUTIONAL_RECURRENT):
            reasons.append(f"{layer_name}: {type(layer).__name__} has no fused cuDNN kernel")
            continue
        cell = _cell_name(layer)
        options = dict(
            activation=layer.cell.activation,
            recurrent_dropout=layer.cell.recurrent_dropout,
            unroll=layer.unroll,
            use_bias=layer.cell.use_bias,
            mask_padding=mask_padding,
            backend=backend,
            masked=masked,
        )
        if cell != "simple_rnn":
            options["recurrent_activation"] = layer.cell.recurrent_activation
            options["use_cudnn"] = layer.use_cudnn
        if cell == "gru":
            options["reset_after"] = layer.cell.reset_after
        report = fast_kernel_eligibility(cell, **options)
        reasons.extend(f"{layer_name}: {reason}" for reason in report.reasons)
    if not found:
        return KernelReport(None, ())
    return KernelReport(not reasons, tuple(reasons))


@dataclasses.dataclass(frozen=True)
class MaskLayout:
    """Where the masked steps of a ``(batch, time)`` mask sit.

    Attributes:
        lengths: unmasked steps per row.
        padding: ``"right"`` (every row's steps come first: what the fused
            kernels take), ``"left"`` (padding first, then the steps) or
            ``"gapped"`` (masked steps between unmasked ones).
        empty_rows: indices of the rows with no unmasked step at all.
    """

    lengths: tuple[int, ...]
    padding: str
    empty_rows: tuple[int, ...]


def mask_layout(mask) -> MaskLayout:
    """Measure a boolean ``(batch, time)`` mask instead of assuming it is right-padded.

    A fully masked row counts against no padding side; it is listed in
    ``empty_rows`` (cuDNN refuses such a row outright).

    Examples:
        >>> mask_layout([[True, True, False], [True, False, False]])
        MaskLayout(lengths=(2, 1), padding='right', empty_rows=())
        >>> mask_layout([[False, True, True], [False, False, False]])
        MaskLayout(lengths=(2, 0), padding='left', empty_rows=(1,))
        >>> mask_layout([[True, False, True]]).padding
        'gapped'
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise errors.expected("a (batch, time) mask", f"shape {mask.shape}", name="mask")
    lengths = mask.sum(axis=1)
    steps = np.arange(mask.shape[1])
    right = steps[None, :] < lengths[:, None]
    left = steps[None, :] >= mask.shape[1] - lengths[:, None]
    if np.array_equal(mask, right):
        padding = "right"
    elif np.array_equal(mask, left):
        padding = "left"
    else:
        padding = "gapped"
    return MaskLayout(tuple(int(n) for n in lengths), padding, tuple(int(i) for i in np.flatnonzero(lengths == 0)))


def padding_mask(model, inputs):
    """The ``(batch, time)`` mask a model's first mask-making layer computes for ``inputs``, or `None`.

    The layers before it (a text vectorizer, a log-mel front end) run on
    ``inputs``; nested models are searched. This is the mask the model's
    recurrent layers receive, so it can be checked before they run.

    Examples:
        >>> x = keras.Input(shape=(None, 1))
        >>> m = keras.Model(x, keras.layers.Masking()(x))
        >>> padding_mask(m, np.array([[[0.0], [2.0], [3.0]]])).tolist()
        [[False, True, True]]
    """
    for layer in model.layers if hasattr(model, "layers") else []:
        if not (_makes_mask(layer) or (hasattr(layer, "layers") and has_mask(layer))):
            continue
        # `Operation.input`: the tensor this layer reads in `model`'s graph (a nested model's own
        # `input` property names its inner input instead).
        feed = keras.Operation.input.fget(layer)
        if any(feed is tensor for tensor in model.inputs):
            values = inputs
        else:
            # A model saved with its input in a list wants the batch in a list too.
            single = isinstance(model.input, list) and len(model.input) == 1 and not isinstance(inputs, list)
            values = keras.Model(model.input, feed)([inputs] if single else inputs)
        if _makes_mask(layer):
            return keras.ops.convert_to_numpy(layer.compute_mask(values)).astype(bool)
        return padding_mask(layer, values)
    return None


def use_generic_loop(model) -> int:
    """Turn off the fused kernel (``use_cudnn=False``) in every LSTM and GRU of ``model``; return how many.

    Call it before the model's first prediction: a compiled predict
    function keeps the path it was traced with.
    """
    count = 0
    for layer in model.layers if hasattr(model, "layers") else [model]:
        if isinstance(layer, keras.layers.Bidirectional):
            inner = [layer.forward_layer, layer.backward_layer]
        elif hasattr(layer, "layers"):
            count += use_generic_loop(layer)
            continue
        else:
            inner = [layer]
        for rnn in inner:
            if _cell_name(rnn) in ("lstm", "gru"):
                rnn.use_cudnn = False
                count += 1
    return count


def guard_fused_kernel(model, inputs, sources, what: str = "an input the model does not mask whole") -> str:
    """Check the mask ``inputs`` make in ``model`` before any recurrent layer runs on them.

    A fully masked row is refused (the cuDNN kernel fails on it with an
    `InvalidArgumentError`, and any other path answers from the initial
    state alone, which says nothing about the input). A left-padded or
    gapped mask is not assumed away: the model's LSTM and GRU layers are
    sent to the generic loop, which skips masked steps wherever they sit,
    so the answer is the one a right-padded batch would get.

    Args:
        model: a loaded Keras model (models without a mask pass unchecked).
        inputs: the batch the model is about to predict on.
        sources: one name per row (texts, file names), for the message.
        what: what a row must be, for the message.

    Returns:
        The padding found: ``"right"``, ``"left"``, ``"gapped"``, or
            ``"none"`` when the model makes no mask.

    Raises:
        rnn_apps.errors.InputError: a row with no unmasked step.
    """
    mask = padding_mask(model, inputs)
    if mask is None:
        return "none"
    layout = mask_layout(mask)
    if layout.empty_rows:
        empty = [str(sources[i]) for i in layout.empty_rows]
        raise errors.expected(what, empty[0] if len(empty) == 1 else empty)
    if layout.padding != "right":
        use_generic_loop(model)
    return layout.padding
