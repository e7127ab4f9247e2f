"""Streaming inference: run a trained recurrent model one step at a time, carrying its state.

A recurrent layer reads a sequence step by step and keeps what it has read in
its hidden state (``h``; an LSTM also keeps its cell state ``c``). Training
runs the whole sequence at once and throws the state away at the end, yet the
weights define the step itself, so the same weights can run *statefully*:
give the layer one new step and the state it left behind, and it returns its
output and the next state. That is what `step_model` builds from a trained
Functional model, without retraining:

- its inputs are the model's inputs with a time axis of one step, followed by
  one input per state of every recurrent layer (``{layer}_state_h``, and
  ``{layer}_state_c`` for an LSTM);
- its outputs are the model's outputs for that step, followed by the new
  states in the same order.

The states are ordinary inputs and outputs, so the step model is a plain
Keras model: it runs on TensorFlow, JAX and PyTorch, saves as ``.keras`` and
exports like any other. `Stream` holds the states between calls.

Only models whose layers treat every step on its own, apart from the
recurrent layers, can run this way: embeddings, dense heads, masking,
dropout (inactive at inference), per-channel normalisation, per-step
(`TimeDistributed`) frame encoders, convolutions and poolings whose window
along time is one step (a character CNN per word, with a ``(1, width)``
kernel over ``(time, characters)``) and reshapes within a step. After a
recurrent layer that returns only its last output the time axis is gone,
so any layer may follow it (a forecast head's reshape, the pooling of a
ConvLSTM's state map): it reads a summary of every step so far. A
bidirectional layer reads the sequence from its end as well, and a
convolution or pooling over time reads several steps at once; `step_model`
refuses both with an `rnn_apps.errors.InputError` that names the layer and
says why.

Feeding a sequence one step at a time gives, at step ``t``, what the whole
model gives on the first ``t`` steps: the same arithmetic in the same
order, so the two agree within float32 rounding (the tests check 1e-5).

Examples:
    >>> x = keras.Input(shape=(None, 3))
    >>> y = keras.layers.Dense(2)(keras.layers.GRU(4, name="gru")(x))
    >>> step = step_model(keras.Model(x, y))
    >>> [tuple(t.shape) for t in step.inputs]
    [(None, 1, 3), (None, 4)]
    >>> stream = Stream(step)
    >>> tuple(stream.step(np.ones((1, 1, 3), "float32")).shape)
    (1, 2)
"""

from __future__ import annotations

import keras
import numpy as np

from rnn_apps import errors

RECURRENT_LAYERS = (
    keras.layers.SimpleRNN,
    keras.layers.LSTM,
    keras.layers.GRU,
    keras.layers.ConvLSTM1D,
    keras.layers.ConvLSTM2D,
    keras.layers.ConvLSTM3D,
)
"""Layers that carry a state from step to step; `step_model` turns each into a one-step layer."""

PER_STEP_LAYERS = (
    keras.layers.InputLayer,
    keras.layers.Embedding,
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D,
    keras.layers.SpatialDropout3D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.Masking,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.Softmax,
    keras.layers.LayerNormalization,
    keras.layers.BatchNormalization,
    keras.layers.Rescaling,
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Multiply,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Minimum,
    keras.layers.TimeDistributed,
    keras.layers.Identity,
)
"""Layers that treat every step on its own (at inference); `step_model` reuses them as they are."""

_AXIS_LAYERS = (
    keras.layers.Concatenate,
    keras.layers.Normalization,
    keras.layers.Softmax,
    keras.layers.LayerNormalization,
    keras.layers.BatchNormalization,
)


ELEMENTWISE_OPERATIONS = frozenset(
    {
        "Abs",
        "Add",
        "Cast",
        "Divide",
        "Equal",
        "Exp",
        "Expm1",
        "Log",
        "Log1p",
        "LogicalAnd",
        "LogicalNot",
        "LogicalOr",
        "Maximum",
        "Minimum",
        "Multiply",
        "Negative",
        "NotEqual",
        "OnesLike",
        "Power",
        "Sigmoid",
        "Sqrt",
        "Square",
        "Subtract",
        "Tanh",
        "TrueDivide",
        "Where",
        "ZerosLike",
    }
)
"""`keras.ops` operations (by class name) that act on each value alone, such as the comparisons that make masks."""

_REDUCTIONS = frozenset({"All", "Any", "Max", "Mean", "Min", "Sum"})
# Along a feature axis these keep steps apart, as the mask a Concatenate layer computes does.
_ALONG_AN_AXIS = _REDUCTIONS | {"Concatenate", "ExpandDims"}


def _operation_reads_across_time(op) -> str | None:
    """Why a `keras.ops` operation recorded in a Functional graph cannot run one step at a time."""
    kind = type(op).__name__
    if kind in ELEMENTWISE_OPERATIONS:
        return None
    if kind in _ALONG_AN_AXIS:
        axes = np.atleast_1d(getattr(op, "axis", None)).tolist()
        if None not in axes and all(axis == -1 or axis >= 2 for axis in axes):
            return None  # over features only, as Masking's any(x != value, axis=-1)
    return "it may combine several steps"


_WINDOW_LAYERS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.MaxPooling3D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.AveragePooling3D,
)


def _one_step_window(layer) -> bool:
    """A convolution or pooling whose window and stride along time (axis 1, channels last) are 1.

    Such a layer works inside each step, as a character CNN per word with a
    ``(1, width)`` kernel over ``(time, characters)`` does.
    """
    window = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    return layer.data_format == "channels_last" and window[0] == 1 and layer.strides[0] == 1


def _keeps_steps_apart(layer) -> bool:
    """A `Reshape` to ``(-1, *shape)`` of inputs ``(batch, time, *rest)`` with as many values per step."""
    if not layer.target_shape or layer.target_shape[0] != -1 or -1 in layer.target_shape[1:]:
        return False
    per_step = int(np.prod(layer.target_shape[1:]))
    shapes = [tuple(node.input_tensors[0].shape) for node in layer._inbound_nodes if node.input_tensors]
    return bool(shapes) and all(None not in shape[2:] and int(np.prod(shape[2:])) == per_step for shape in shapes)


def _reads_across_time(layer) -> str | None:
    """Why ``layer`` cannot run on one step at a time, or `None` if it can."""
    if isinstance(layer, keras.layers.Bidirectional):
        return "a bidirectional layer also reads the sequence backwards, from its end, so it needs the future"
    if isinstance(layer, _AXIS_LAYERS):
        axes = np.atleast_1d(getattr(layer, "axis", -1)).tolist()
        if None in axes or not all(axis == -1 or axis >= 2 for axis in axes):
            return f"it may work along the time axis (axis={getattr(layer, 'axis', None)}; needs -1 or >= 2)"
        return None
    if isinstance(layer, PER_STEP_LAYERS):
        return None
    if isinstance(layer, _WINDOW_LAYERS) and _one_step_window(layer):
        return None
    if isinstance(layer, keras.layers.Reshape) and _keeps_steps_apart(layer):
        return None
    return (
        "it is not known to treat every step on its own "
        "(a convolution, pooling or attention over time needs other steps)"
    )


def _one_step_layer(layer) -> keras.layers.Layer:
    """A copy of a recurrent ``layer`` that returns its states and unrolls its single step."""
    config = layer.get_config() | {"return_state": True, "stateful": False}
    if "unroll" in config:
        config["unroll"] = True  # one step: a plain call of the cell instead of a loop
    return type(layer).from_config(config)


class _Rewriter:
    """Walks a Functional graph on one-step inputs, replacing each recurrent layer by its one-step twin."""

    def __init__(self):
        self.state_inputs: list = []
        self.state_outputs: list = []
        # Tensors with no time axis left (after a last-output recurrent layer), by id; kept alive so ids stay unique.
        self.timeless: dict[int, object] = {}

    def run(self, model, inputs):
        if not isinstance(model, keras.Model) or not hasattr(model, "_run_through_graph"):
            raise errors.expected("a Functional Keras model (keras.Model(inputs, outputs))", type(model).__name__)
        return model._run_through_graph(inputs, operation_fn=self.operation)

    def operation(self, op):
        if isinstance(op, keras.Model) and hasattr(op, "_run_through_graph"):
            return lambda *args, **kwargs: _single(
                self.run(op, list(args[0]) if isinstance(args[0], (list, tuple)) else [args[0]])
            )
        if isinstance(op, RECURRENT_LAYERS):
            return lambda *args, **kwargs: self.recurrent(op, *args, **kwargs)
        return lambda *args, **kwargs: self.other(op, *args, **kwargs)

    def other(self, op, *args, **kwargs):
        tensors = [value for value in keras.tree.flatten((args, kwargs)) if keras.backend.is_keras_tensor(value)]
        if not tensors or not all(id(tensor) in self.timeless for tensor in tensors):
            reason = _reads_across_time(op) if isinstance(op, keras.layers.Layer) else _operation_reads_across_time(op)
            if reason:
                raise errors.InputError(
                    f"Expected a model whose steps can run one at a time. Received: {op.name!r} "
                    f"({type(op).__name__}): {reason}"
                )
            return op(*args, **kwargs)
        outputs = op(*args, **kwargs)
        self.timeless.update((id(tensor), tensor) for tensor in keras.tree.flatten(outputs))
        return outputs

    def recurrent(self, layer, sequences, *args, **kwargs):
        if args or kwargs.get("initial_state") is not None:
            raise errors.InputError(
                f"Expected recurrent layers that start from zero states. Received: layer {layer.name!r} "
                "is given its initial state by another part of the model"
            )
        twin = _one_step_layer(layer)
        # A first call gives the shapes of the states; the second reads them from inputs.
        _, *shapes = twin(sequences)
        twin.set_weights(layer.get_weights())
        suffixes = ("h", "c") if len(shapes) == 2 else tuple("h" if i == 0 else str(i) for i in range(len(shapes)))
        states = [
            keras.Input(shape=tuple(state.shape[1:]), dtype=state.dtype, name=f"{layer.name}{STATE_MARK}{suffix}")
            for state, suffix in zip(shapes, suffixes)
        ]
        # Keras fills in a layer's mask only when the call has one tensor argument; the states are more.
        mask = getattr(sequences, "_keras_mask", None)
        output, *new_states = twin(sequences, initial_state=states, mask=mask)
        if mask is not None:
            # A masked step keeps the state, and the whole sequence repeats the last output there: the state h.
            output = new_states[0] if not layer.return_sequences else keras.ops.expand_dims(new_states[0], 1)
        self.state_inputs += states
        self.state_outputs += new_states
        if not layer.return_sequences:
            self.timeless[id(output)] = output
        return output


def _single(values):
    return values[0] if isinstance(values, (list, tuple)) and len(values) == 1 else values


def step_model(model: keras.Model, name: str | None = None) -> keras.Model:
    """Derive the one-step model of a trained Functional recurrent model.

    Every recurrent layer is copied with its weights into a layer that takes
    the previous states as inputs and returns the new ones; every other layer
    is reused as it is (its weights shared). Nested Functional models (a
    trained core inside a wrapper) are walked too.

    Args:
        model: a Functional model whose inputs all have time on axis 1 and
            whose layers other than the recurrent ones treat each step on
            its own.
        name: name of the new model; defaults to ``{model.name}_step``.

    Returns:
        A `keras.Model` from ``[*step_inputs, *states]`` to
            ``[*outputs, *new_states]``: each step input is the model's input
            with a time axis of 1; the states come in the order the
            recurrent layers are reached (an LSTM's ``h`` before its ``c``).

    Raises:
        rnn_apps.errors.InputError: a bidirectional layer, a layer that reads
            across time, a recurrent layer started from another part's state,
            or a model with no recurrent layer at all.

    Examples:
        >>> tokens = keras.Input(shape=(None,), dtype="int32")
        >>> x = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
        >>> model = keras.Model(tokens, keras.layers.LSTM(3, name="lstm")(x))
        >>> [t.name for t in step_model(model).inputs]
        ['step_input_0', 'lstm_state_h', 'lstm_state_c']
        >>> x = keras.Input(shape=(None, 2))
        >>> step_model(keras.Model(x, keras.layers.Bidirectional(keras.layers.GRU(2))(x)))
        Traceback (most recent call last):
        ...
        rnn_apps.errors.InputError: Expected a model whose steps can run one at a time. Received: ...
    """
    step_inputs = [
        keras.Input(shape=(1, *tensor.shape[2:]), dtype=tensor.dtype, name=_input_name(tensor, index))
        for index, tensor in enumerate(model.inputs)
    ]
    rewriter = _Rewriter()
    outputs = rewriter.run(model, step_inputs)
    if not rewriter.state_inputs:
        raise errors.expected("a model with at least one recurrent layer", model.name, name="model")
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    return keras.Model(
        [*step_inputs, *rewriter.state_inputs],
        [*outputs, *rewriter.state_outputs],
        name=name or f"{model.name}_step",
    )


def _input_name(tensor, index: int) -> str:
    name = getattr(tensor, "name", "") or ""
    return name if name and not name.startswith("keras_tensor") else f"step_input_{index}"


STATE_MARK = "_state_"
"""State inputs and outputs of a step model are named ``{layer}_state_h`` (and ``{layer}_state_c``)."""


def state_count(step: keras.Model) -> int:
    """How many of a step model's inputs are states (they follow the step inputs).

    Examples:
        >>> x = keras.Input(shape=(None, 2))
        >>> state_count(step_model(keras.Model(x, keras.layers.LSTM(3)(x))))
        2
    """
    return sum(1 for tensor in step.inputs if STATE_MARK in tensor.name)


class Stream:
    """Run a step model one step at a time, keeping the states between calls.

    Args:
        model: a step model from `step_model`, or a Functional recurrent
            model to derive one from.
        batch_size: how many sequences run side by side (1 for one stream).

    Attributes:
        step_model: the Keras step model being run.
        states: the current states (NumPy arrays), zeros after `reset`.

    Examples:
        >>> x = keras.Input(shape=(None, 1))
        >>> model = keras.Model(x, keras.layers.SimpleRNN(2, name="rnn")(x))
        >>> stream = Stream(model)
        >>> steps = np.arange(3, dtype="float32").reshape(1, 3, 1)
        >>> outputs = [stream.step(steps[:, t : t + 1]) for t in range(3)]
        >>> bool(np.allclose(outputs[-1], model.predict_on_batch(steps), atol=1e-6))
        True
    """

    def __init__(self, model: keras.Model, batch_size: int = 1):
        if not state_count(model):
            model = step_model(model)
        self.step_model = model
        self.num_states = state_count(model)
        self.batch_size = 1
        self.reset(batch_size)

    @property
    def num_step_inputs(self) -> int:
        return len(self.step_model.inputs) - self.num_states

    def reset(self, batch_size: int | None = None) -> None:
        """Start again from zero states, for ``batch_size`` sequences (default: as many as before)."""
        if batch_size is not None:
            if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
                raise errors.expected("a whole number of sequences >= 1", batch_size, name="batch_size")
            self.batch_size = int(batch_size)
        state_inputs = self.step_model.inputs[self.num_step_inputs :]
        self.states = [np.zeros((self.batch_size, *tensor.shape[1:]), dtype=tensor.dtype) for tensor in state_inputs]

    def step(self, *inputs):
        """Feed one step (each input with a time axis of 1); return the model's output(s) for it."""
        if len(inputs) != self.num_step_inputs:
            raise errors.expected(f"{self.num_step_inputs} step input(s)", len(inputs), name="inputs")
        for index, value in enumerate(inputs):
            rows = np.shape(value)[0] if np.ndim(value) else None
            if rows != self.batch_size:
                raise errors.expected(
                    f"an array of {self.batch_size} sequence(s) on axis 0, the stream's batch size "
                    "(reset(batch_size) changes it); its shape is",
                    tuple(np.shape(value)),
                    name=f"inputs[{index}]",
                )
        values = self.step_model.predict_on_batch([*inputs, *self.states])
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        outputs, self.states = values[: len(values) - self.num_states], values[len(values) - self.num_states :]
        return outputs[0] if len(outputs) == 1 else outputs

    def run(self, *sequences) -> list:
        """Feed whole sequences step by step (time on axis 1); return the output of every step."""
        length = sequences[0].shape[1]
        return [self.step(*(sequence[:, t : t + 1] for sequence in sequences)) for t in range(length)]
