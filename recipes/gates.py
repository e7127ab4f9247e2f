"""
Title: LSTM and GRU: gates that keep memory
Description: The LSTM and GRU cells as equations, each written out in keras.ops and checked against the Keras layer.
Run: python -m recipes.gates --output-dir runs/gates
"""

r"""
## Why gates

A SimpleRNN rewrites its whole state at every step,
$h_t = \tanh(x_t W + h_{t-1} U + b)$, so a gradient crossing $k$ steps is
multiplied $k$ times by $U$ and by slopes of $\tanh$ (see
[How recurrent networks remember](memory.md)). Gated cells add a second
route from one step to the next: the new state is a *weighted mix* of the
old state and a new candidate, and the weights of that mix are themselves
computed from the input and the state. A **gate** is such a vector of
numbers between 0 and 1, produced by a sigmoid
$\sigma(z) = 1 / (1 + e^{-z})$ and multiplied element by element
($\odot$) with another vector: near 1 it lets a value through, near 0 it
blocks it. When a gate learns to stay near "keep", the old state passes to
the next step almost unchanged, and so does the gradient flowing back.

Notation as on the previous page: $x_t$ is a row of $d$ input features,
$h_t$ a row of $n$ units, each $W_\ast$ is $d \times n$, each $U_\ast$ is
$n \times n$, and every gate has its own weights. Keras stores the weights
of all gates side by side: `kernel` is $[W_i\ W_f\ W_c\ W_o]$ ($d \times 4n$)
for the LSTM, and so on.

## The LSTM cell

An LSTM carries two vectors: the cell state $c_t$ (the memory) and the
hidden state $h_t$ (what the cell shows to the next layer and to itself).
Per step, with $h_0 = c_0 = 0$:

$$
\begin{aligned}
i_t &= \sigma\left(x_t W_i + h_{t-1} U_i + b_i\right) \\
f_t &= \sigma\left(x_t W_f + h_{t-1} U_f + b_f\right) \\
\tilde{c}_t &= \tanh\left(x_t W_c + h_{t-1} U_c + b_c\right) \\
o_t &= \sigma\left(x_t W_o + h_{t-1} U_o + b_o\right) \\
c_t &= f_t \odot c_{t-1} + i_t \odot \tilde{c}_t \\
h_t &= o_t \odot \tanh\left(c_t\right)
\end{aligned}
$$

- The **input gate** $i_t$ decides how much of the new candidate is written
  into the memory.
- The **forget gate** $f_t$ decides how much of the old memory $c_{t-1}$ is
  kept; at 1, with the input gate at 0, the memory is copied forward unchanged.
- The **candidate** $\tilde{c}_t$ is the new content proposed for the memory,
  computed like a SimpleRNN update.
- The **output gate** $o_t$ decides how much of the (squashed) memory is shown
  as the hidden state $h_t$.

The memory update $c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t$ is a sum,
not a squashing: along it, the gradient from $c_t$ to $c_{t-1}$ is multiplied
only by $f_t$, so a forget gate near 1 carries it across many steps. Keras
orders the four blocks $i, f, c, o$ in `kernel`, `recurrent_kernel` and
`bias`, and with `unit_forget_bias=True` (the default) starts $b_f$ at 1 so
that a fresh cell leans towards keeping.
"""

import dataclasses
import pathlib

from rnn_apps.harness import runtime

runtime.configure()  # before Keras loads: TensorFlow starts quietly, plots need no display

import keras
import numpy as np

from rnn_apps import io
from rnn_apps.harness import config


def _split(weights, parts: int):
    """The ``parts`` gate blocks of a Keras weight, split along its last axis."""
    return keras.ops.split(keras.ops.convert_to_tensor(weights, dtype="float32"), parts, axis=-1)


def lstm_states(inputs, kernel, recurrent_kernel, bias):
    """All hidden states of an LSTM, step by step with `keras.ops`, from Keras-layout weights.

    Args:
        inputs: ``(batch, time, features)`` array.
        kernel: ``(features, 4 * units)`` input weights, gate blocks ``i, f, c, o``.
        recurrent_kernel: ``(units, 4 * units)`` recurrent weights, same blocks.
        bias: ``(4 * units,)`` bias, same blocks.

    Returns:
        ``(batch, time, units)`` hidden states ``h_t``.

    Examples:
        >>> h = lstm_states(np.ones((2, 3, 5)), np.zeros((5, 16)), np.zeros((4, 16)), np.zeros(16))
        >>> tuple(keras.ops.shape(h))
        (2, 3, 4)
    """
    inputs = keras.ops.convert_to_tensor(inputs, dtype="float32")
    w_i, w_f, w_c, w_o = _split(kernel, 4)
    u_i, u_f, u_c, u_o = _split(recurrent_kernel, 4)
    b_i, b_f, b_c, b_o = _split(bias, 4)
    units = keras.ops.shape(w_i)[1]
    hidden = memory = keras.ops.zeros((keras.ops.shape(inputs)[0], units))
    states = []
    for step in range(inputs.shape[1]):
        x = inputs[:, step, :]
        input_gate = keras.ops.sigmoid(x @ w_i + hidden @ u_i + b_i)
        forget_gate = keras.ops.sigmoid(x @ w_f + hidden @ u_f + b_f)
        candidate = keras.ops.tanh(x @ w_c + hidden @ u_c + b_c)
        output_gate = keras.ops.sigmoid(x @ w_o + hidden @ u_o + b_o)
        memory = forget_gate * memory + input_gate * candidate
        hidden = output_gate * keras.ops.tanh(memory)
        states.append(hidden)
    return keras.ops.stack(states, axis=1)


r"""
## The GRU cell

A GRU keeps a single state $h_t$ and has two gates. In the form Keras uses
by default (`reset_after=True`), with $h_0 = 0$:

$$
\begin{aligned}
z_t &= \sigma\left(x_t W_z + b_z + h_{t-1} U_z + b'_z\right) \\
r_t &= \sigma\left(x_t W_r + b_r + h_{t-1} U_r + b'_r\right) \\
\tilde{h}_t &= \tanh\left(x_t W_h + b_h + r_t \odot \left(h_{t-1} U_h + b'_h\right)\right) \\
h_t &= z_t \odot h_{t-1} + \left(1 - z_t\right) \odot \tilde{h}_t
\end{aligned}
$$

- The **update gate** $z_t$ decides how much of the old state is kept; the
  rest, $1 - z_t$, is taken from the candidate. It plays the LSTM's forget
  and input gates at once, tied so that they sum to 1.
- The **reset gate** $r_t$ decides how much of the old state is used to
  compute the candidate; near 0 the candidate is made from the input alone.
- The **candidate** $\tilde{h}_t$ is the proposed new state.

Two Keras conventions differ from many textbooks, and a hand-written GRU that
ignores them will not reproduce a trained Keras model:

1. **Which side $z_t$ weighs.** Keras multiplies the *old* state by $z_t$
   ($h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde{h}_t$); some texts
   write the mirror image, with $z_t$ on the candidate. The two describe the
   same family of models, but a given set of weights means different things
   in each: $z_t$ in one is $1 - z_t$ in the other.
2. **Where the reset gate acts.** With `reset_after=True` (the default, and
   the only form the cuDNN kernel runs) the reset gate multiplies
   $h_{t-1} U_h + b'_h$, *after* the recurrent matrix product, and the
   layer has two bias vectors: `bias` has shape $(2, 3n)$, row 0 the input
   biases $b_z, b_r, b_h$ and row 1 the recurrent biases
   $b'_z, b'_r, b'_h$. With `reset_after=False` (the 2014 paper's first
   version) it multiplies the state *before* the product,
   $\tilde{h}_t = \tanh\left(x_t W_h + (r_t \odot h_{t-1}) U_h + b_h\right)$,
   and there is one bias of shape $(3n,)$.

Keras orders the three blocks $z, r, h$ in `kernel`, `recurrent_kernel` and
each bias row. A GRU has $3(dn + n^2 + 2n)$ parameters with
`reset_after=True`, against the LSTM's $4(dn + n^2 + n)$.
"""


def gru_states(inputs, kernel, recurrent_kernel, bias, reset_after: bool = True):
    """All hidden states of a GRU, step by step with `keras.ops`, from Keras-layout weights.

    Args:
        inputs: ``(batch, time, features)`` array.
        kernel: ``(features, 3 * units)`` input weights, gate blocks ``z, r, h``.
        recurrent_kernel: ``(units, 3 * units)`` recurrent weights, same blocks.
        bias: ``(2, 3 * units)`` input and recurrent biases when
            ``reset_after``, else ``(3 * units,)``.
        reset_after: apply the reset gate after the recurrent product
            (the Keras default) or before it.

    Returns:
        ``(batch, time, units)`` hidden states ``h_t``.

    Examples:
        >>> h = gru_states(np.ones((2, 3, 5)), np.zeros((5, 12)), np.zeros((4, 12)), np.zeros((2, 12)))
        >>> tuple(keras.ops.shape(h))
        (2, 3, 4)
    """
    inputs = keras.ops.convert_to_tensor(inputs, dtype="float32")
    w_z, w_r, w_h = _split(kernel, 3)
    u_z, u_r, u_h = _split(recurrent_kernel, 3)
    bias = keras.ops.convert_to_tensor(bias, dtype="float32")
    if reset_after:
        b_z, b_r, b_h = _split(bias[0], 3)
        rb_z, rb_r, rb_h = _split(bias[1], 3)
    else:
        b_z, b_r, b_h = _split(bias, 3)
        rb_z = rb_r = rb_h = 0.0
    hidden = keras.ops.zeros((keras.ops.shape(inputs)[0], keras.ops.shape(w_z)[1]))
    states = []
    for step in range(inputs.shape[1]):
        x = inputs[:, step, :]
        update_gate = keras.ops.sigmoid(x @ w_z + b_z + hidden @ u_z + rb_z)
        reset_gate = keras.ops.sigmoid(x @ w_r + b_r + hidden @ u_r + rb_r)
        if reset_after:
            recurrent = reset_gate * (hidden @ u_h + rb_h)
        else:
            recurrent = (reset_gate * hidden) @ u_h
        candidate = keras.ops.tanh(x @ w_h + b_h + recurrent)
        hidden = update_gate * hidden + (1.0 - update_gate) * candidate
        states.append(hidden)
    return keras.ops.stack(states, axis=1)


r"""
## Checking the equations against Keras

`compare_with_layer` builds a Keras layer, gives it random weights (biases
included, so that a misplaced bias cannot hide behind zeros), copies those
weights into the hand-written cell, runs both over the same random sequence
and returns the largest absolute difference between the two outputs. Agreement
to about $10^{-6}$ (float32 rounding) means the equations above are the ones
Keras computes; a swapped gate block or a mirrored update gate gives
differences of order $10^{-1}$.
"""

CASES = {
    "lstm": (lambda units: keras.layers.LSTM(units, return_sequences=True), lstm_states),
    "gru": (lambda units: keras.layers.GRU(units, return_sequences=True), gru_states),
    "gru_reset_before": (
        lambda units: keras.layers.GRU(units, return_sequences=True, reset_after=False),
        lambda *weights: gru_states(*weights, reset_after=False),
    ),
}
"""Each checked cell: a maker of the Keras layer and the hand-written states function."""

TOLERANCE = 1e-5
"""The largest difference, in float32, at which a hand-written cell counts as the Keras one."""


def compare_with_layer(case: str, states=None, units: int = 6, features: int = 4, steps: int = 15, seed: int = 0):
    """Largest absolute difference between a hand-written cell and the Keras layer.

    Args:
        case: a key of `CASES` (``"lstm"``, ``"gru"``, ``"gru_reset_before"``).
        states: the states function to test; the case's own when `None`.
        units: hidden units.
        features: input features.
        steps: sequence length.
        seed: seed of the weights and the sequence.

    Returns:
        ``(difference, parameter count of the layer)``.

    Examples:
        >>> difference, parameters = compare_with_layer("lstm", units=2, features=3, steps=4)
        >>> difference < TOLERANCE, parameters == 4 * (3 * 2 + 2 * 2 + 2)
        (True, True)
    """
    make_layer, own_states = CASES[case]
    rng = np.random.default_rng(seed)
    layer = make_layer(units)
    layer.build((None, steps, features))
    weights = [rng.normal(scale=0.5, size=weight.shape).astype("float32") for weight in layer.get_weights()]
    layer.set_weights(weights)
    sequence = rng.normal(size=(3, steps, features)).astype("float32")
    expected = keras.ops.convert_to_numpy(layer(sequence))
    ours = keras.ops.convert_to_numpy((states or own_states)(sequence, *weights))
    return float(np.abs(ours - expected).max()), int(layer.count_params())


r"""
## When to pick an RNN or a CNN

Gates make long memory *learnable*; they do not make a recurrent network the
right tool for every sequence. The measured lessons on
[Choosing a model](choosing-a-model.md) come down to this:

- **Order over long spans, no fixed window:** a gated RNN (LSTM or GRU)
  carries information step by step and works for any distance, while a
  CNN needs a receptive field at least as long as the dependency. The adding
  problem on [How recurrent networks remember](memory.md) shows where a
  SimpleRNN gives up and the gated cells do not.
- **Short inputs or local patterns** (sentences, spectrograms, short
  multichannel series): the CNN trains in parallel over time and, in the
  paired tests of [Choosing a model](choosing-a-model.md), differs measurably
  from the best recurrent model only on MR with default settings, where the
  LSTM is ahead, and not once both are tuned alike; so compare the two on
  your data, as every recipe does.
- **LSTM or GRU:** measured differences between them are small; a GRU has
  about three quarters of the parameters and is a little faster per step.
  Keep the defaults (`tanh`, `sigmoid`, `recurrent_dropout=0`, GRU
  `reset_after=True`) so both run on the fused cuDNN kernel on a GPU.
- **Streaming or causal prediction** (one step at a time, the state kept
  between calls): an RNN does this naturally with its state; a CNN must be
  made causal and re-read its window.

## Run it

`main` runs the three checks and writes `results.json` and `results.md`
into the output folder.
"""


@dataclasses.dataclass(frozen=True)
class GatesConfig:
    """The checks' settings: a plain configuration, as in `recipes.memory` (no data, model or size flags)."""

    units: int = config.option(6, "hidden units of the checked layers", parse=config.positive_int)
    steps: int = config.option(15, "length of the random sequence", parse=config.positive_int)
    seed: int = config.option(0, "random seed (weights, sequence)", parse=config.non_negative_int)
    output_dir: str | None = config.option(None, "where results.json and results.md go")


def main(argv=None) -> dict:
    """Check every cell in `CASES` against its Keras layer; write ``results.json`` and ``results.md``."""
    settings = config.parse_config(GatesConfig, argv, recipe="gates", description="LSTM and GRU equations, checked.")
    output = pathlib.Path(settings.output_dir)
    checks = {}
    for case in CASES:
        difference, parameters = compare_with_layer(
            case, units=settings.units, steps=settings.steps, seed=settings.seed
        )
        checks[case] = {"max_abs_difference": difference, "params": parameters, "agrees": difference < TOLERANCE}
    results = {"seed": settings.seed, "units": settings.units, "steps": settings.steps, "checks": checks}
    io.write_json(output / "results.json", results)
    io.write_text(output / "results.md", _results_markdown(results))
    print(_results_markdown(results))
    return results


def _results_markdown(results: dict) -> str:
    lines = [
        "## Results",
        "",
        f"Seeded run (seed {results['seed']}): `python -m recipes.gates --output-dir docs/_run/gates`. "
        f"Hand-written cell against the Keras layer, {results['units']} units, 4 features, "
        f"{results['steps']} steps, random weights:",
        "",
        "| cell | Keras layer | largest absolute difference | agrees (< 1e-5) | parameters |",
        "|---|---|---|---|---|",
    ]
    layers = {"lstm": "`LSTM`", "gru": "`GRU(reset_after=True)`", "gru_reset_before": "`GRU(reset_after=False)`"}
    for case, check in results["checks"].items():
        lines.append(
            f"| {case} | {layers[case]} | {check['max_abs_difference']:.2e} | "
            f"{'yes' if check['agrees'] else 'no'} | {check['params']} |"
        )
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    main()
