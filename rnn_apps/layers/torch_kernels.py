"""Fused LSTM and GRU steps for the PyTorch backend, on any device and with right-padded masks.

Keras 3.15 on PyTorch runs an LSTM or GRU through PyTorch's fused kernel
(`torch._VF.lstm`, `torch._VF.gru`) only on a CUDA device and only without
a mask. Everywhere else it falls back to a Python loop over the time steps,
and on a CPU that loop is slow twice over: each step's backward pass fills a
gradient buffer the size of the whole sequence (indexing one step of the
precomputed input projection), and a mask sends the layer to the even
slower generic `keras.ops.rnn` loop. Measured on 2 CPU cores, an IMDB-sized
LSTM (batch 64, 200 steps, 128 units) trained at 4 samples per second
there, against 220 on the TensorFlow backend.

PyTorch's own kernel has neither limit: its CPU implementation is a C++
loop, and right-padded rows run through it whole, with one extra input
feature that holds the state through the padding (see
`_with_padding_switch`). `install` points Keras's ``backend.lstm`` and
``backend.gru`` (the hooks `keras.layers.LSTM` and `keras.layers.GRU` call
before their generic loop) at functions that take that kernel whenever the
layer fits it:

- ``tanh`` activation, ``sigmoid`` gates, biases on, no unrolling, and for
  the GRU ``reset_after=True`` (PyTorch's formulation);
- no mask, or a mask that is right-padded with at least one step per row
  (a left-padded or holed mask goes to Keras's own loop, unchanged);
- not inside a TorchScript or ``torch.compile`` trace.

Anything else is handed to the function it replaced, so results never
depend on whether it is installed, only speed does: outputs at unmasked
steps, last outputs and final states equal Keras's loop within float
rounding (``tests/test_torch_kernels.py`` checks values and gradients).
One difference is visible: with ``return_sequences=True`` and a mask, the
outputs at padded steps are zeros, as on TensorFlow's cuDNN path, where
Keras's generic loop repeats the last valid output (downstream layers see
the mask and ignore those steps either way).

Importing this module patches nothing: `install` does, and the command
line calls it (through `rnn_apps.harness.runtime.configure`) when the
backend is PyTorch; ``RNN_APPS_TORCH_FUSED=0`` in the environment leaves
Keras as it is. The
saved models are ordinary Keras models: nothing of this module is stored in
them, and a model loaded without it computes the same function.

Examples:
    >>> import keras
    >>> install() == (keras.backend.backend() == "torch" and enabled())
    True
    >>> installed() == install()
    True
"""

from __future__ import annotations

import os

from rnn_apps.layers import backend_hooks

ENVIRONMENT = "RNN_APPS_TORCH_FUSED"
"""Set to ``0`` to keep Keras's own recurrent loops on the PyTorch backend."""

_HOOKS = backend_hooks.BackendHooks("torch", lambda kind, *args, **kwargs: _routed(kind, *args, **kwargs))


def enabled() -> bool:
    """Whether the environment allows `install` (``RNN_APPS_TORCH_FUSED`` is not ``0``)."""
    return os.environ.get(ENVIRONMENT, "1").strip() not in ("0", "false", "no")


def installed() -> bool:
    """Whether Keras's LSTM and GRU hooks currently point here."""
    return _HOOKS.installed()


def install() -> bool:
    """Route eligible LSTM and GRU layers to PyTorch's fused kernel; `True` if installed.

    Does nothing (and returns `False`) unless the Keras backend is PyTorch and
    `enabled` holds. Calling it again is harmless.
    """
    return _HOOKS.install(enabled())


def uninstall() -> None:
    """Give Keras its own LSTM and GRU hooks back."""
    _HOOKS.uninstall()


def on_fused_call(callback) -> None:
    """Call ``callback(kind, masked)`` each time a layer takes the fused kernel (for probes)."""
    _HOOKS.listen(callback)


def remove_callback(callback) -> None:
    """Stop calling a callback given to `on_fused_call`."""
    _HOOKS.stop_listening(callback)


def _standard(activation, recurrent_activation, unroll, bias) -> bool:
    """PyTorch's kernel is tanh/sigmoid with biases, looped, not unrolled."""
    import torch
    from keras.src import activations, ops

    return (
        activation in (activations.tanh, ops.tanh, torch.tanh)
        and recurrent_activation in (activations.sigmoid, ops.sigmoid, torch.sigmoid)
        and not unroll
        and bias is not None
    )


def _tracing() -> bool:
    import torch

    compiling = getattr(torch.compiler, "is_compiling", lambda: False)
    return torch.jit.is_tracing() or compiling()


def _right_padded(mask, steps: int):
    """``(lengths, valid)`` of a right-padded mask, or `None` for any other mask (or an empty row).

    ``valid`` is the ``(batch, steps)`` boolean mask itself; it marks the real
    steps before and after `_reverse_within`, which keeps padding at the end.
    """
    import torch

    mask = mask.to(torch.bool)
    if mask.dim() == 3:
        mask = mask[..., 0]
    lengths = mask.sum(dim=1)
    positions = torch.arange(steps, device=mask.device)
    if not torch.equal(positions[None, :] < lengths[:, None], mask) or bool((lengths == 0).any()):
        return None
    return lengths, mask


def _reverse_within(x, lengths):
    """Reverse each row's first ``lengths[row]`` steps, leaving its padding in place."""
    import torch

    steps = x.shape[1]
    positions = torch.arange(steps, device=x.device)[None, :]
    index = torch.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)
    return torch.gather(x, 1, index[:, :, None].expand(-1, -1, x.shape[2]))


def _run(kind, inputs, states, mask, kernel, recurrent_kernel, bias, return_sequences, go_backwards):
    """One fused pass; `None` when the mask rules it out (the caller then falls back)."""
    import importlib

    import torch
    from keras.src.backend.torch.core import convert_to_tensor

    # The module, not the `rnn` function the backend package exports under the same name.
    rnn = importlib.import_module("keras.src.backend.torch.rnn")

    kernel = convert_to_tensor(kernel)
    recurrent_kernel = convert_to_tensor(recurrent_kernel)
    bias = convert_to_tensor(bias)
    inputs = convert_to_tensor(inputs).to(kernel.dtype)
    steps = inputs.shape[1]
    lengths = valid = None
    if mask is not None:
        padded = _right_padded(convert_to_tensor(mask), steps)
        if padded is None:
            return None
        lengths, valid = padded
    states = [convert_to_tensor(s).to(kernel.dtype).unsqueeze(0) for s in states]
    prepare = rnn.prepare_lstm_params if kind == "lstm" else rnn.prepare_gru_params
    params = prepare(kernel, recurrent_kernel, bias, inputs.device)
    kernel_fn = torch._VF.lstm if kind == "lstm" else torch._VF.gru
    hx = tuple(states) if kind == "lstm" else states[0]
    training = torch.is_grad_enabled()
    if go_backwards:
        # Within each row's real steps, so padding stays at the end.
        inputs = torch.flip(inputs, dims=[1]) if lengths is None else _reverse_within(inputs, lengths)
    _HOOKS.tell(kind, mask is not None)
    if lengths is not None:
        inputs, params = _with_padding_switch(kind, inputs, params, valid)
    outputs, *final = kernel_fn(inputs, hx, params, True, 1, 0.0, training, False, True)
    final = [h.squeeze(0) for h in final]
    if lengths is not None:
        # The last real step's output; for the LSTM the kernel's final h is past the padding.
        final[0] = torch.gather(outputs, 1, (lengths - 1)[:, None, None].expand(-1, 1, outputs.shape[2]))[:, 0]
        outputs = outputs * valid[:, :, None].to(outputs.dtype)
        if go_backwards:
            # Keras's loop gives the backward pass's outputs in reversed time.
            outputs = torch.flip(_reverse_within(outputs, lengths), dims=[1])
    last = final[0]
    if not return_sequences:
        outputs = last.unsqueeze(1)
    return last, outputs, final


# Gate order of PyTorch's kernels, and the pre-activation a padding step adds
# to each gate: it saturates the gates that carry the state, so the state
# passes padding unchanged.
_SWITCH = {"lstm": (-1.0, 1.0, 0.0, 0.0), "gru": (0.0, 1.0, 0.0)}  # lstm: i f g o; gru: r z n
_SATURATE = 1.0e4


def _with_padding_switch(kind, inputs, params, valid):
    """Add an input feature, 1 on padding steps, whose weights hold the state through them.

    On a padding step the feature adds ``+1e4`` to the forget gate (LSTM)
    or update gate (GRU) and ``-1e4`` to the LSTM's input gate. Sigmoids of
    such inputs are exactly 1 and 0 in floating point, whatever the other
    terms, so the LSTM's cell state and the GRU's state leave the padding
    exactly as they entered it, and no gradient flows through padding (the
    sigmoid's derivative there is exactly 0). The fused kernel then runs on
    the padded batch as it is: on a CPU this is several times faster than
    PyTorch's packed sequences, whose backward pass is slow there. The
    LSTM's output gate is not held, so its last real output is read at each
    row's last real step.
    """
    import torch

    padding = (~valid)[:, :, None].to(inputs.dtype)
    inputs = torch.cat([inputs, padding], dim=2)
    units = params[1].shape[1]
    column = torch.tensor(_SWITCH[kind], dtype=params[0].dtype, device=params[0].device) * _SATURATE
    column = column.repeat_interleave(units)[:, None]
    return inputs, [torch.cat([params[0], column], dim=1), *params[1:]]


def _routed(kind: str, *args, **kwargs):
    """Take the fused kernel when the layer fits it, else call the Keras function replaced."""
    given = _HOOKS.arguments(kind, args, kwargs)
    fits = (
        given.get("batch_first", True)
        and given.get("reset_after", True)
        and _standard(given["activation"], given["recurrent_activation"], given["unroll"], given["bias"])
        and not _tracing()
    )
    if fits:
        names = ("initial_state_h", "initial_state_c") if kind == "lstm" else ("initial_state",)
        done = _run(
            kind,
            given["inputs"],
            [given[name] for name in names],
            given["mask"],
            given["kernel"],
            given["recurrent_kernel"],
            given["bias"],
            given["return_sequences"],
            given["go_backwards"],
        )
        if done is not None:
            return done
    return _HOOKS.keras(kind, *args, **kwargs)
