"""
Title: How recurrent networks remember
Description: The hidden-state update, one set of weights for every step, backpropagation through time, vanishing and
exploding gradients, clipping, and a long-range task for three cells and a CNN.
Run: python -m recipes.memory --output-dir runs/memory
"""

r"""
## The hidden state, written out

A simple recurrent layer keeps one vector, the hidden state $h_t$, and
updates it once per step from the input $x_t$:

$$
h_t = \tanh\left(x_t W + h_{t-1} U + b\right), \qquad h_0 = 0
$$

Here $x_t$ is a row of $d$ features, $h_t$ a row of $n$ units, $W$ the
$d \times n$ input weights (`kernel` in Keras), $U$ the $n \times n$
recurrent weights (`recurrent_kernel`) and $b$ the bias. `simple_rnn_states`
below computes exactly this with `keras.ops`, one step at a time, and
`check_simple_rnn` runs it beside `keras.layers.SimpleRNN` with the same
weights: the outputs agree to float precision. Everything a recurrent
network knows about the past has to fit through this one update, applied
again and again.
"""

import dataclasses
import math
import pathlib

from rnn_apps.harness import runtime

runtime.configure()  # before Keras loads: TensorFlow starts quietly, plots need no display

import keras
import numpy as np

from rnn_apps import errors, io
from rnn_apps.harness import config, training
from rnn_apps.layers import encoders


def simple_rnn_states(inputs, kernel, recurrent_kernel, bias):
    """All hidden states of a SimpleRNN, computed step by step with `keras.ops`.

    Args:
        inputs: ``(batch, time, features)`` array.
        kernel: ``(features, units)`` input weights ``W``.
        recurrent_kernel: ``(units, units)`` recurrent weights ``U``.
        bias: ``(units,)`` bias ``b``.

    Returns:
        ``(batch, time, units)`` hidden states.

    Examples:
        >>> h = simple_rnn_states(np.ones((1, 3, 2)), np.zeros((2, 4)), np.eye(4), np.zeros(4))
        >>> tuple(keras.ops.shape(h))
        (1, 3, 4)
    """
    inputs = keras.ops.convert_to_tensor(inputs, dtype="float32")
    state = keras.ops.zeros((keras.ops.shape(inputs)[0], keras.ops.shape(kernel)[1]))
    states = []
    for step in range(inputs.shape[1]):
        state = keras.ops.tanh(
            keras.ops.matmul(inputs[:, step, :], kernel) + keras.ops.matmul(state, recurrent_kernel) + bias
        )
        states.append(state)
    return keras.ops.stack(states, axis=1)


def check_simple_rnn(units: int = 8, features: int = 3, steps: int = 12, seed: int = 0) -> float:
    """Largest absolute difference between `simple_rnn_states` and `keras.layers.SimpleRNN`.

    Examples:
        >>> check_simple_rnn() < 1e-5
        True
    """
    keras.utils.set_random_seed(seed)
    layer = keras.layers.SimpleRNN(units, return_sequences=True)
    inputs = np.random.default_rng(seed).normal(size=(4, steps, features)).astype("float32")
    expected = keras.ops.convert_to_numpy(layer(inputs))
    kernel, recurrent_kernel, bias = layer.get_weights()
    ours = keras.ops.convert_to_numpy(simple_rnn_states(inputs, kernel, recurrent_kernel, bias))
    return float(np.abs(ours - expected).max())


r"""
## One set of weights, every step

Drawn out over time ("unrolled"), a recurrent layer looks like a deep
network with one layer per step. It is not an ordinary deep network,
though: every step uses **the same** $W$, $U$ and $b$. Only the hidden state
changes from step to step; it is the one thing carried forward.

![A SimpleRNN unrolled over four steps: each copy of the cell reads one
input and the previous state, and every copy uses the same weights W, U and
b](img/unrolled.svg)

Two consequences follow. The layer accepts sequences of any length with the
same parameters (`parameter_counts` shows that a `SimpleRNN` has as many
weights for 5 steps as for 500), and what the layer learns at one position
applies at every other position, as a convolution's filter does across its
input.
"""


def parameter_counts(lengths=(5, 50, 500), features: int = 3, units: int = 8) -> dict[int, int]:
    """Trainable parameters of a `keras.layers.SimpleRNN` built for each sequence length.

    Examples:
        >>> counts = parameter_counts((5, 500), features=3, units=8)
        >>> counts[5] == counts[500] == 3 * 8 + 8 * 8 + 8
        True
    """
    counts = {}
    for steps in lengths:
        layer = keras.layers.SimpleRNN(units)
        layer.build((None, steps, features))
        counts[steps] = int(layer.count_params())
    return counts


r"""
## Backpropagation through time

Training needs the gradient of a loss $L$ with respect to $W$, $U$ and $b$.
Backpropagation through time (BPTT) is ordinary backpropagation applied to
the unrolled network; the only new rule is that a weight shared by every
step receives the **sum** of its gradients from all steps. Write
$a_t = x_t W + h_{t-1} U + b$ for the pre-activation, so that
$h_t = \tanh(a_t)$, and $\delta_t = \partial L / \partial a_t$ (a row, like
$h_t$). For a loss on the last state $h_T$, the backward pass starts at the
end and walks back one step at a time:

$$
\delta_T = \frac{\partial L}{\partial h_T} \odot \left(1 - h_T^2\right), \qquad
\delta_{t} = \left(\delta_{t+1} U^\top\right) \odot \left(1 - h_{t}^2\right)
\quad (t = T-1, \dots, 1)
$$

$$
\frac{\partial L}{\partial W} = \sum_{t=1}^{T} x_t^\top \delta_t, \qquad
\frac{\partial L}{\partial U} = \sum_{t=1}^{T} h_{t-1}^\top \delta_t, \qquad
\frac{\partial L}{\partial b} = \sum_{t=1}^{T} \delta_t, \qquad
\frac{\partial L}{\partial x_t} = \delta_t W^\top
$$

($1 - h_t^2$ is the slope of $\tanh$; when the loss also reads the earlier
states, as a tagger's does, each $\delta_t$ gains the term
$\partial L / \partial h_t \odot (1 - h_t^2)$ from its own step.) The cost is
one backward step per forward step, and the forward states $h_t$ must be
kept in memory until the backward pass has used them; *truncated* BPTT cuts
long sequences into chunks to bound that memory, at the price of gradients
that reach back only one chunk. `bptt_gradients` is this recursion in NumPy;
`check_bptt` compares its input gradients with the automatic
differentiation of the backend through `keras.layers.SimpleRNN`.

Unrolling the recursion shows where the trouble lies: the gradient reaching
step $k$ from step $T$ has been multiplied $T - k$ times by $U^\top$ and by
slopes of at most 1, so its size is bounded by
$\left(\lVert U \rVert \cdot \max \tanh'\right)^{T-k}$. When that factor stays
below 1 the gradient **vanishes** geometrically; when the largest singular
value of $U$ is well above 1 and the units are not saturated, it can
**explode** instead. Both are measured below.
"""


def bptt_gradients(inputs, kernel, recurrent_kernel, bias, direction):
    """Gradients of ``L = sum(h_T * direction)`` for a SimpleRNN, by backpropagation through time.

    Args:
        inputs: ``(batch, time, features)`` array.
        kernel: ``(features, units)`` input weights ``W``.
        recurrent_kernel: ``(units, units)`` recurrent weights ``U``.
        bias: ``(units,)`` bias ``b``.
        direction: ``(units,)`` weights of the last state in the loss.

    Returns:
        ``{"inputs", "kernel", "recurrent_kernel", "bias"}``: ``dL/dx``
        with the shape of ``inputs``, and the summed weight gradients.

    Examples:
        >>> grads = bptt_gradients(np.ones((2, 4, 3)), np.ones((3, 5)), np.eye(5), np.zeros(5), np.ones(5))
        >>> grads["inputs"].shape, grads["recurrent_kernel"].shape
        ((2, 4, 3), (5, 5))
    """
    inputs = np.asarray(inputs, dtype="float64")
    kernel, recurrent_kernel, bias = (np.asarray(value, dtype="float64") for value in (kernel, recurrent_kernel, bias))
    batch, steps, _ = inputs.shape
    states = [np.zeros((batch, kernel.shape[1]))]
    for step in range(steps):
        states.append(np.tanh(inputs[:, step] @ kernel + states[-1] @ recurrent_kernel + bias))
    grads = {
        "inputs": np.zeros_like(inputs),
        "kernel": np.zeros_like(kernel),
        "recurrent_kernel": np.zeros_like(recurrent_kernel),
        "bias": np.zeros_like(bias),
    }
    carried = np.broadcast_to(np.asarray(direction, dtype="float64"), states[-1].shape)  # dL/dh_t
    for step in reversed(range(steps)):
        delta = carried * (1.0 - states[step + 1] ** 2)
        grads["inputs"][:, step] = delta @ kernel.T
        grads["kernel"] += inputs[:, step].T @ delta
        grads["recurrent_kernel"] += states[step].T @ delta
        grads["bias"] += delta.sum(axis=0)
        carried = delta @ recurrent_kernel.T
    return grads


def check_bptt(units: int = 8, features: int = 3, steps: int = 12, seed: int = 0) -> float:
    """Largest absolute difference between `bptt_gradients` and autodiff through `keras.layers.SimpleRNN`.

    Examples:
        >>> check_bptt() < 1e-5
        True
    """
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(steps, features))
    layer = keras.layers.SimpleRNN(units)
    model = keras.Model(inputs, layer(inputs))
    rng = np.random.default_rng(seed)
    sequence = rng.normal(size=(4, steps, features)).astype("float32")
    direction = rng.normal(size=(units,)).astype("float32")
    expected = _input_gradients(model, sequence, direction)
    ours = bptt_gradients(sequence, *layer.get_weights(), direction)["inputs"]
    return float(np.abs(ours - expected).max())


"""
## The vanishing gradient

To learn from an input `k` steps back, the error signal has to flow back
through `k` of those updates. In a SimpleRNN each one multiplies it by `U`
and by the slope of `tanh` (at most 1), so it usually shrinks geometrically
with `k`. LSTM and GRU add gates: a sum path (the LSTM cell state, the GRU's
interpolation between old and new state) scaled by a gate that can learn to
stay near 1, so a signal can cross many steps almost unchanged.

Gates are not open from the start, though. A fresh GRU's update gate sits
near 0.5 and a fresh LSTM's forget gate near 0.73 (Keras adds 1 to its
bias), so at initialisation every cell loses the signal geometrically. What
gates give is the ability to *learn* to keep it. `gradient_by_distance`
measures the norm of the gradient of a model's output with respect to each
input step, averaged over a batch: the results below show it for fresh
layers and again after training on the adding problem.
"""


def _input_gradients(model, inputs, direction):
    """Gradient of ``sum(model(inputs) * direction)`` with respect to ``inputs``.

    Gradients are the one thing `keras.ops` does not offer, so each backend's
    own autodiff is used here.
    """
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = tf.reduce_sum(model(x) * direction)
        return tape.gradient(value, x).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda x: (model(x) * direction).sum())(inputs))
    if backend == "torch":
        import torch

        x = torch.tensor(inputs, requires_grad=True)
        (model(x) * torch.as_tensor(direction)).sum().backward()
        return x.grad.numpy()
    raise errors.expected("the tensorflow, jax or torch backend", backend, name="backend")


def gradient_by_distance(model, inputs, seed: int = 0):
    """Mean gradient norm of a model's output with respect to each input step.

    Args:
        model: a Keras model from ``(batch, time, features)`` to
            ``(batch, width)``.
        inputs: ``(batch, time, features)`` float32 array.
        seed: seed of the random output direction.

    Returns:
        Array of length ``time``: entry ``k`` is for the input ``k`` steps
        before the end (``k = 0`` is the last input).
    """
    direction = np.random.default_rng(seed).normal(size=model.output.shape[1:]).astype("float32")
    gradients = _input_gradients(model, inputs, direction)
    return np.linalg.norm(gradients, axis=-1).mean(axis=0)[::-1]


def fresh_encoder(cell: str, steps: int, features: int, units: int = 32, seed: int = 0) -> keras.Model:
    """A freshly initialised recurrent encoder returning its last state."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(steps, features))
    return keras.Model(inputs, encoders.EncoderConfig(model=cell, units=units)(inputs), name=f"fresh_{cell}")


r"""
## The exploding gradient, and clipping

The same product of Jacobians can grow instead of shrink. `scaled_simple_rnn`
makes a fresh `SimpleRNN` whose recurrent weights are an orthogonal matrix
times a gain (`keras.initializers.Orthogonal(gain=...)`; the Keras default
is gain 1). `exploding_gradients` measures the gradient norm of the last
state with respect to the **first** input, for sequences of growing length:
at gain 1 it shrinks with length (the vanishing gradient again), and at
gains of 2 and 3 it grows geometrically, by orders of magnitude over a few
dozen steps.

A gradient of $10^5$ times a learning rate that was sensible a moment ago
moves the weights far out of the region where the loss was measured: the
loss jumps, and the run may never recover, or overflow to `nan`. Gradient
clipping rescales a gradient whose norm exceeds a threshold $c$ before the
optimizer uses it, keeping its direction:

$$
g \leftarrow g \cdot \frac{c}{\max\left(\lVert g \rVert, c\right)}
$$

In Keras it is an argument of every optimizer. `clipnorm=c` clips the
gradient of **each weight tensor** separately to norm $c$;
`global_clipnorm=c` clips all of them together, as one vector, to norm $c$
(which keeps their relative sizes); `clipvalue` clips each element. With
plain SGD at learning rate $\eta$, `clipnorm` bounds the step of every
weight tensor by $\eta c$. `train_with_clipping` trains the same
exploding-regime regressor (gain 2, the adding problem of length 30) on the
same batches with and without `clipnorm=1.0`: without clipping the loss
spikes and then diverges by many orders of magnitude; with it, every step
stays bounded and the loss descends.
"""


GAINS = (1.0, 2.0, 3.0)
EXPLODE_LENGTHS = (10, 20, 40, 80)
CLIPNORM = 1.0


def scaled_simple_rnn(gain: float, units: int = 32, head: bool = False, seed: int = 0) -> keras.Model:
    """A fresh `keras.layers.SimpleRNN` on two-feature sequences of any length, recurrent weights ``gain`` x orthogonal.

    Args:
        gain: multiplies the orthogonal recurrent kernel (1 is the Keras default).
        units: hidden units.
        head: add a one-unit ``Dense`` regressor (for the adding problem);
            otherwise the model returns the last state.
        seed: weight seed.
    """
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(None, 2), name="sequence")
    recurrent_initializer = keras.initializers.Orthogonal(gain=gain, seed=seed)
    outputs = keras.layers.SimpleRNN(units, recurrent_initializer=recurrent_initializer, name="simple_rnn")(inputs)
    if head:
        outputs = keras.layers.Dense(1, name="sum")(outputs)
    return keras.Model(inputs, outputs, name=f"simple_rnn_gain_{gain:g}")


def exploding_gradients(gains=GAINS, lengths=EXPLODE_LENGTHS, seed: int = 0) -> dict[float, list[float]]:
    """Mean gradient norm of the last state with respect to the first input, per gain and sequence length.

    Returns:
        ``{gain: [norm for each length]}``.
    """
    curves = {}
    for gain in gains:
        model = scaled_simple_rnn(gain, seed=seed)
        curves[gain] = []
        for steps in lengths:
            probe, _ = adding_problem(64, steps, seed=seed + 3)
            curves[gain].append(float(gradient_by_distance(model, probe, seed=seed)[-1]))
    return curves


def train_with_clipping(
    clipnorm: float | None,
    gain: float = 2.0,
    steps: int = 30,
    batches: int = 40,
    learning_rate: float = 0.05,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Train the gain-``gain`` SimpleRNN regressor with SGD, one batch at a time, optionally with ``clipnorm``.

    Returns:
        ``{"loss": [...], "step_norm": [...]}`` per batch: the training loss
        and the largest norm of one weight tensor's update divided by the
        learning rate (the gradient norm the optimizer applied).
    """
    x, y = adding_problem(64 * batches, steps, seed=seed)
    model = scaled_simple_rnn(gain, head=True, seed=seed)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, clipnorm=clipnorm), loss="mse")
    history = {"loss": [], "step_norm": []}
    for batch in range(batches):
        before = model.get_weights()
        chunk = slice(64 * batch, 64 * (batch + 1))
        loss = model.train_on_batch(x[chunk], y[chunk])
        moves = [np.linalg.norm(after - old) for after, old in zip(model.get_weights(), before)]
        history["loss"].append(float(np.asarray(loss)))
        history["step_norm"].append(float(max(moves) / learning_rate))
    return history


"""
## A long-range task: the adding problem

Each sequence has two channels: random numbers in [0, 1], and a marker that
is 1 at exactly two steps, one in each half of the sequence. The target is
the sum of the two marked numbers. Predicting the mean (1.0) gives a mean
squared error of about 0.17; to do better a model must find the first
marked number and keep it until the end. A prediction counts as correct
when it is within 0.1 of the target.

The CNN is a dilated convolution stack whose receptive field just covers
the sequence: the best case for a convolution, which sees both markers at
once and has nothing to carry from step to step. With a window shorter than
the distance between the markers it could not solve the task at all; a
recurrent layer has no such limit, but must learn to hold the value, which
gets harder as the sequence grows.
"""


def adding_problem(count: int, steps: int, seed: int = 0):
    """``count`` adding-problem sequences of length ``steps``.

    Returns:
        ``(inputs (count, steps, 2) float32, targets (count,) float32)``.

    Examples:
        >>> x, y = adding_problem(5, 10)
        >>> x.shape, y.shape, bool(((x[..., 1].sum(axis=1)) == 2).all())
        ((5, 10, 2), (5,), True)
    """
    if steps < 2:
        raise errors.expected("at least 2 steps", steps, name="steps")
    rng = np.random.default_rng(seed)
    values = rng.uniform(size=(count, steps)).astype("float32")
    markers = np.zeros((count, steps), dtype="float32")
    half = steps // 2
    first = rng.integers(0, half, size=count)
    second = rng.integers(half, steps, size=count)
    markers[np.arange(count), first] = 1.0
    markers[np.arange(count), second] = 1.0
    targets = (values * markers).sum(axis=1)
    return np.stack([values, markers], axis=-1), targets


def adding_model(name: str, steps: int, units: int = 32) -> keras.Model:
    """A regressor for the adding problem with the named encoder."""
    if name == "cnn":
        layers = max(1, math.ceil(math.log2((steps - 1) / 2 + 1)))
        encoder = encoders.EncoderConfig(model="cnn", cnn_kind="dilated", filters=units, num_layers=layers)
    else:
        encoder = encoders.EncoderConfig(model=name, units=units)
    inputs = keras.Input(shape=(steps, 2), name="sequence")
    output = keras.layers.Dense(1, name="sum")(encoder(inputs))
    return keras.Model(inputs, output, name=name)


def train_adding(name: str, steps: int, train_count: int = 4000, epochs: int = 15, seed: int = 0):
    """Train on the adding problem; return the model and its test accuracy (|error| < 0.1)."""
    training.set_seed(seed)
    x, y = adding_problem(train_count, steps, seed=seed)
    x_test, y_test = adding_problem(1000, steps, seed=seed + 1)
    model = adding_model(name, steps)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(x, y, batch_size=64, epochs=epochs, validation_split=0.1, verbose=0)
    predictions = model.predict(x_test, batch_size=256, verbose=0).reshape(-1)
    return model, float(np.mean(np.abs(predictions - y_test) < 0.1))


"""
## Run it

`main` makes every number and plot on the page: the checks against
`keras.layers.SimpleRNN` and the backend's autodiff, the parameter counts,
the vanishing and exploding gradients, the runs with and without clipping,
and the adding-problem accuracy against sequence length. The docs build runs it with the default
seed.
"""

CELLS = ("simple_rnn", "lstm", "gru")
LENGTHS = (10, 25, 50, 100)
PROBES = (0, 10, 25, 50, 99)


@dataclasses.dataclass(frozen=True)
class MemoryConfig:
    """The study's settings; ``--quick`` (two short lengths, two epochs) is for tests.

    A plain configuration rather than a `rnn_apps.harness.config.RunConfig`:
    the study trains fixed toy models, so data, model and size flags would
    mean nothing here.
    """

    PRESETS = {"quick": {"lengths": (10, 25), "epochs": 2}}

    lengths: tuple[int, ...] = config.option(
        LENGTHS, "adding-problem sequence lengths, comma-separated", parse=config.int_list
    )
    epochs: int = config.option(15, "training epochs per adding-problem model", parse=config.positive_int)
    seed: int = config.option(0, "random seed (data, weights)", parse=config.non_negative_int)
    output_dir: str | None = config.option(None, "where results.json, results.md and the plots go")
    quick: bool = config.option(False, "two short lengths, two epochs (the 'quick' preset)")


def _axes(title: str, xlabel: str, ylabel: str):
    # The object API: a figure of its own, whatever matplotlib backend the caller chose.
    from matplotlib import figure as matplotlib_figure

    figure = matplotlib_figure.Figure(figsize=(6, 4))
    axis = figure.subplots()
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    return figure, axis


def _gradient_plot(curves: dict, title: str, path):
    figure, axis = _axes(title, "steps back from the last input", "gradient norm")
    for name, norms in curves.items():
        axis.semilogy(range(len(norms)), np.maximum(norms, 1e-30), label=name)
    axis.legend()
    figure.tight_layout()
    io.save_figure(figure, path)


def _clipping_plot(runs: dict, path):
    figure, axis = _axes("SGD on the adding problem, gain 2, length 30", "batch", "training loss (MSE)")
    for name, history in runs.items():
        axis.semilogy(range(1, len(history["loss"]) + 1), history["loss"], label=name)
    axis.legend()
    figure.tight_layout()
    io.save_figure(figure, path)


def _accuracy_plot(lengths, accuracy: dict, path):
    figure, axis = _axes("Adding problem", "sequence length", "test accuracy (|error| < 0.1)")
    for name, values in accuracy.items():
        axis.plot(lengths, values, marker="o", label=name)
    axis.set_ylim(0, 1.02)
    axis.legend()
    figure.tight_layout()
    io.save_figure(figure, path)


def main(argv=None) -> dict:
    """Run the three studies and write ``results.json``, ``results.md`` and PNGs."""
    settings = config.parse_config(MemoryConfig, argv, recipe="memory", description="How recurrent networks remember.")
    output = pathlib.Path(settings.output_dir)
    lengths, epochs, seed = settings.lengths, settings.epochs, settings.seed
    longest = lengths[-1]

    difference = check_simple_rnn(seed=seed)
    bptt_difference = check_bptt(seed=seed)
    counts = parameter_counts()
    exploding = exploding_gradients(seed=seed)
    clipping = {
        "no clipping": train_with_clipping(None, seed=seed),
        f"clipnorm={CLIPNORM:g}": train_with_clipping(CLIPNORM, seed=seed),
    }
    probe, _ = adding_problem(64, longest, seed=seed + 2)
    fresh = {cell: gradient_by_distance(fresh_encoder(cell, longest, 2, seed=seed), probe) for cell in CELLS}
    accuracy, trained = {}, {}
    for name in (*CELLS, "cnn"):
        accuracy[name] = []
        for steps in lengths:
            model, score = train_adding(name, steps, epochs=epochs, seed=seed)
            accuracy[name].append(score)
        if name in CELLS:
            trained[name] = gradient_by_distance(model, probe)

    _gradient_plot(fresh, f"Fresh layers, {longest} steps", output / "gradient_fresh.png")
    _gradient_plot(trained, f"After training on the adding problem, {longest} steps", output / "gradient_trained.png")
    _accuracy_plot(lengths, accuracy, output / "adding_problem.png")
    _clipping_plot(clipping, output / "clipping.png")

    def probes(curves):
        return {name: {str(k): float(norms[k]) for k in PROBES if k < len(norms)} for name, norms in curves.items()}

    results = {
        "seed": seed,
        "simple_rnn_max_abs_difference": difference,
        "bptt_max_abs_difference": bptt_difference,
        "parameters_by_length": {str(steps): count for steps, count in counts.items()},
        "exploding": {
            "lengths": list(EXPLODE_LENGTHS),
            "norms": {f"{gain:g}": norms for gain, norms in exploding.items()},
        },
        "clipping": clipping,
        "gradient_fresh": probes(fresh),
        "gradient_trained": probes(trained),
        "adding_problem": {"lengths": list(lengths), "epochs": epochs, "accuracy": accuracy},
    }
    io.write_json(output / "results.json", results)
    io.write_text(output / "results.md", _results_markdown(results))
    print(_results_markdown(results))
    return results


def _gradient_table(values: dict) -> list[str]:
    steps = list(next(iter(values.values())))
    lines = ["| cell | " + " | ".join(f"{k} back" for k in steps) + " |", "|---|" + "---|" * len(steps)]
    for cell, row in values.items():
        lines.append(f"| {cell} | " + " | ".join(f"{value:.1e}" for value in row.values()) + " |")
    return lines


def _exploding_lines(exploding: dict) -> list[str]:
    lengths = exploding["lengths"]
    lines = [
        "Gradient norm of the last state with respect to the first input, fresh `SimpleRNN(32)` with recurrent "
        "weights gain x orthogonal:",
        "",
        "| gain | " + " | ".join(f"{n} steps" for n in lengths) + " |",
        "|---|" + "---|" * len(lengths),
    ]
    for gain, norms in exploding["norms"].items():
        lines.append(f"| {gain} | " + " | ".join(f"{value:.1e}" for value in norms) + " |")
    return [*lines, ""]


def _clipping_lines(clipping: dict) -> list[str]:
    lines = [
        "SGD (learning rate 0.05) on 40 batches of the adding problem of length 30, gain 2; "
        "step norm is the largest update of one weight tensor divided by the learning rate:",
        "",
        "| run | first loss | largest loss | mean loss, last 10 batches | largest step norm |",
        "|---|---|---|---|---|",
    ]
    for name, history in clipping.items():
        loss, largest_step = history["loss"], max(history["step_norm"])
        lines.append(f"| {name} | {loss[0]:.3g} | {max(loss):.3g} | {np.mean(loss[-10:]):.3g} | {largest_step:.3g} |")
    return [*lines, "", "![training loss with and without clipping](clipping.png)", ""]


def _results_markdown(results: dict) -> str:
    adding = results["adding_problem"]
    lines = [
        "## Results",
        "",
        f"Seeded run (seed {results['seed']}) made by the docs build: "
        "`python -m recipes.memory --output-dir docs/_run/memory`.",
        "",
        f"Step-by-step update against `keras.layers.SimpleRNN`: largest absolute difference "
        f"{results['simple_rnn_max_abs_difference']:.2e}.",
        "",
        "Backpropagation through time in NumPy against the backend's autodiff (input gradients): "
        f"largest absolute difference {results['bptt_max_abs_difference']:.2e}.",
        "",
        "Trainable parameters of a `SimpleRNN(8)` on 3 features, by sequence length: "
        + ", ".join(f"{steps} steps: {count}" for steps, count in results["parameters_by_length"].items())
        + ".",
        "",
        "Gradient norm with respect to the input k steps back, fresh layers:",
        "",
        *_gradient_table(results["gradient_fresh"]),
        "",
        "![gradient, fresh layers](gradient_fresh.png)",
        "",
        f"The same after training on the adding problem of length {adding['lengths'][-1]}:",
        "",
        *_gradient_table(results["gradient_trained"]),
        "",
        "![gradient, trained layers](gradient_trained.png)",
        "",
        *_exploding_lines(results["exploding"]),
        *_clipping_lines(results["clipping"]),
        f"Adding problem, test accuracy after {adding['epochs']} epochs on 4,000 sequences:",
        "",
        "| model | " + " | ".join(f"length {n}" for n in adding["lengths"]) + " |",
        "|---|" + "---|" * len(adding["lengths"]),
    ]
    for name, values in adding["accuracy"].items():
        lines.append(f"| {name} | " + " | ".join(f"{value:.3f}" for value in values) + " |")
    lines += ["", "![adding problem](adding_problem.png)", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
