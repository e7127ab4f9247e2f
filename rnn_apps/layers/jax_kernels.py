"""A faster LSTM and GRU loop for the JAX backend, masks included.

Keras 3.15 on JAX has its own LSTM path only for cuDNN (a GPU, no mask)
and its own GRU path only without a mask. Every other layer, so every
masked one and every LSTM on a CPU, runs the generic `keras.ops.rnn`
loop: a `jax.lax.scan` whose step calls the cell, which multiplies that
step's input by the input kernel before the recurrent product. The input
side does not depend on the state, so it need not wait for the loop.

`install` points Keras's ``backend.lstm`` and ``backend.gru`` (the hooks
`keras.layers.LSTM` and `keras.layers.GRU` try before their generic loop)
at functions that first give Keras's own function its chance (cuDNN on a
GPU), and otherwise run one `lax.scan` of their own:

- the input projection of every step (kernel and input bias) is one
  matrix multiply over the whole batch, done before the loop;
- each step adds the recurrent product and applies the gates, the layer's
  own activation functions;
- a mask is folded into the loop as Keras's loop folds it: where a row's
  step is masked, the state (and the output) carried from the step
  before is kept.

Any mask works (right-padded, left-padded or with holes), with
``go_backwards`` and ``return_sequences`` in any combination, biases on or
off, and for the GRU both ``reset_after`` settings. Unrolled layers keep
Keras's loop. Outputs, final states and gradients equal those of Keras's
generic loop within float rounding (``tests/test_jax_kernels.py`` checks
values and gradients); as there, a masked step's output repeats the last
real one. Layers built with ``zero_output_for_mask=True`` (inside
`keras.layers.Bidirectional` with ``return_sequences=True``) get that
repeated output at masked steps rather than zeros; the layers after them
see the mask and skip those steps either way.

The route is off unless ``RNN_APPS_JAX_SCAN=1`` is in the environment. On
the shared 2-core CPU machine this was written on, XLA ran the precomputed
projection and the shorter loop slower than Keras's loop, which multiplies
each step's input inside the loop: training the sentiment model of
``bench/backends.py`` (masked, batch 64, 200 steps, 128 units), epochs of
the two alternating in one process, the routed LSTM ran at 0.68x and
0.85x (two runs) and the routed GRU at 0.87x and 0.88x Keras's loop. It is kept for machines where one large
matrix multiply pays (``python -m bench.backends cpu --backends
tensorflow,jax --jax-scan`` compares); measure before turning it on.

Importing this module patches nothing: `install` does, and the command
line calls it (through `rnn_apps.harness.runtime.configure`) when the
backend is JAX, which with the environment variable unset leaves Keras as
it is. Nothing of this module is stored in a saved model, and a model
loaded without it computes the same function.

Examples:
    >>> import keras
    >>> install() == (keras.backend.backend() == "jax" and enabled())
    True
    >>> installed() == install()
    True
"""

from __future__ import annotations

import os

from rnn_apps.layers import backend_hooks

ENVIRONMENT = "RNN_APPS_JAX_SCAN"
"""Set to ``1`` to route LSTM and GRU layers on the JAX backend here; unset or ``0`` keeps Keras's loops."""

_HOOKS = backend_hooks.BackendHooks("jax", lambda kind, *args, **kwargs: _routed(kind, *args, **kwargs))


def enabled() -> bool:
    """Whether the environment asks for `install` (``RNN_APPS_JAX_SCAN=1``)."""
    return os.environ.get(ENVIRONMENT, "0").strip().lower() in ("1", "true", "yes")


def installed() -> bool:
    """Whether Keras's LSTM and GRU hooks currently point here."""
    return _HOOKS.installed()


def install() -> bool:
    """Route LSTM and GRU layers that Keras would loop generically to this module's scan; `True` if installed.

    Does nothing (and returns `False`) unless the Keras backend is JAX and
    `enabled` holds. Calling it again is harmless.
    """
    return _HOOKS.install(enabled())


def uninstall() -> None:
    """Give Keras its own LSTM and GRU hooks back."""
    _HOOKS.uninstall()


def on_scan_call(callback) -> None:
    """Call ``callback(kind, masked)`` each time a layer is traced through this module's scan (for probes)."""
    _HOOKS.listen(callback)


def remove_callback(callback) -> None:
    """Stop calling a callback given to `on_scan_call`."""
    _HOOKS.stop_listening(callback)


def _step_function(kind, recurrent_kernel, recurrent_bias, activation, recurrent_activation, reset_after):
    """One cell step, ``(state tuple, projected input) -> new state tuple``, as Keras's cells compute it."""
    import jax.numpy as jnp

    if kind == "lstm":

        def lstm_step(state, projected):
            h, c = state
            z_i, z_f, z_c, z_o = jnp.split(projected + h @ recurrent_kernel, 4, axis=-1)
            c = recurrent_activation(z_f) * c + recurrent_activation(z_i) * activation(z_c)
            return recurrent_activation(z_o) * activation(c), c

        return lstm_step

    units = recurrent_kernel.shape[0]

    def gru_step(state, projected):
        (h,) = state
        x_z, x_r, x_h = jnp.split(projected, 3, axis=-1)
        if reset_after:
            inner = h @ recurrent_kernel
            if recurrent_bias is not None:
                inner = inner + recurrent_bias
            r_z, r_r, r_h = jnp.split(inner, 3, axis=-1)
            z = recurrent_activation(x_z + r_z)
            r = recurrent_activation(x_r + r_r)
            candidate = activation(x_h + r * r_h)
        else:
            r_z, r_r = jnp.split(h @ recurrent_kernel[:, : 2 * units], 2, axis=-1)
            z = recurrent_activation(x_z + r_z)
            r = recurrent_activation(x_r + r_r)
            candidate = activation(x_h + (r * h) @ recurrent_kernel[:, 2 * units :])
        return (z * h + (1 - z) * candidate,)

    return gru_step


def scan(
    kind,
    inputs,
    states,
    mask,
    kernel,
    recurrent_kernel,
    bias,
    activation,
    recurrent_activation,
    return_sequences=False,
    go_backwards=False,
    reset_after=True,
):
    """Run an LSTM or GRU layer's loop with the input projection taken out of it.

    Args:
        kind: ``"lstm"`` or ``"gru"``.
        inputs: ``(batch, steps, features)`` array.
        states: the initial states, ``[h, c]`` for an LSTM, ``[h]`` for a GRU.
        mask: `None`, or a ``(batch, steps)`` boolean array (``True`` on real steps).
        kernel, recurrent_kernel, bias: the cell's weights, in Keras's layout
            (gate order ``i f c o`` for the LSTM, ``z r h`` for the GRU; a
            ``reset_after`` GRU's bias is ``(2, 3 * units)``, input row
            first). ``bias`` may be `None`.
        activation, recurrent_activation: the cell's activation functions.
        return_sequences: whether ``outputs`` holds every step or only the last.
        go_backwards: process the steps in reverse (outputs in reversed time, as Keras gives them).
        reset_after: the GRU's formulation (ignored for the LSTM).

    Returns:
        The last output, the outputs and the final states, as Keras's backend
            hooks return them; the outputs are ``(batch, steps, units)``, or
            ``(batch, 1, units)`` without ``return_sequences``.

    Examples:
        >>> import jax
        >>> import numpy as np
        >>> x = np.ones((2, 5, 3), "float32")
        >>> states = [np.zeros((2, 4), "float32")] * 2
        >>> weights = [np.full((3, 16), 0.1, "float32"), np.full((4, 16), 0.1, "float32"), None]
        >>> last, outputs, final = scan("lstm", x, states, None, *weights, jax.numpy.tanh, jax.nn.sigmoid)
        >>> tuple(last.shape), tuple(outputs.shape), len(final)
        ((2, 4), (2, 1, 4), 2)
    """
    import jax.numpy as jnp
    from jax import lax

    kernel = jnp.asarray(kernel)
    recurrent_kernel = jnp.asarray(recurrent_kernel)
    dtype = kernel.dtype
    input_bias = recurrent_bias = None
    if bias is not None:
        bias = jnp.asarray(bias, dtype=dtype)
        if kind == "gru" and reset_after:
            input_bias, recurrent_bias = bias[0], bias[1]
        else:
            input_bias = bias
    # Every step's input projection in one matrix multiply, time-major for the scan.
    projected = jnp.swapaxes(jnp.asarray(inputs, dtype=dtype), 0, 1) @ kernel
    if input_bias is not None:
        projected = projected + input_bias
    cell = _step_function(kind, recurrent_kernel, recurrent_bias, activation, recurrent_activation, reset_after)
    initial = tuple(jnp.asarray(state, dtype=dtype) for state in states)

    if mask is None:

        def step(state, projected_t):
            state = cell(state, projected_t)
            return state, state[0] if return_sequences else None

        sequence = projected
    else:
        valid = jnp.asarray(mask).astype(bool)
        if valid.ndim == 3:
            # Keras masks a step when every feature of it is masked.
            valid = jnp.any(valid, axis=-1)
        sequence = (projected, jnp.swapaxes(valid, 0, 1)[:, :, None])

        def step(state, item):
            projected_t, valid_t = item
            new = cell(state, projected_t)
            state = tuple(jnp.where(valid_t, fresh, kept) for fresh, kept in zip(new, state))
            return state, state[0] if return_sequences else None

    final, outputs = lax.scan(step, initial, sequence, reverse=go_backwards)
    last = final[0]
    if return_sequences:
        outputs = jnp.swapaxes(jnp.flip(outputs, axis=0) if go_backwards else outputs, 0, 1)
    else:
        outputs = last[:, None, :]
    return last, outputs, list(final)


def _routed(kind: str, *args, **kwargs):
    """Keras's own function first (cuDNN, or its unmasked GRU scan); where it declines, this module's scan."""
    try:
        return _HOOKS.keras(kind, *args, **kwargs)
    except NotImplementedError:
        pass
    given = _HOOKS.arguments(kind, args, kwargs)
    if given["unroll"] or given.get("time_major", False):
        raise NotImplementedError  # the layer then runs Keras's generic loop
    from keras.src.backend.jax.core import convert_to_tensor

    names = ("initial_state_h", "initial_state_c") if kind == "lstm" else ("initial_state",)
    mask = given["mask"]
    _HOOKS.tell(kind, mask is not None)
    return scan(
        kind,
        convert_to_tensor(given["inputs"]),
        [convert_to_tensor(given[name]) for name in names],
        None if mask is None else convert_to_tensor(mask),
        convert_to_tensor(given["kernel"]),
        convert_to_tensor(given["recurrent_kernel"]),
        None if given["bias"] is None else convert_to_tensor(given["bias"]),
        given["activation"],
        given["recurrent_activation"],
        return_sequences=given["return_sequences"],
        go_backwards=given["go_backwards"],
        reset_after=given.get("reset_after", True),
    )
