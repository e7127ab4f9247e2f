"""The PyTorch backend's fused LSTM/GRU route computes what Keras's own loop computes.

Each case builds one layer twice with the same weights: once as the
factories build it (``use_cudnn="auto"``, so `rnn_apps.layers.torch_kernels` may
take PyTorch's fused kernel) and once with ``use_cudnn=False`` (Keras's
generic loop, never fused). Outputs at unmasked steps, last outputs, final
states and weight gradients must agree. These tests run where the backend
is PyTorch (``tests/test_backends.py`` runs this file under it); under any
other backend they check only that nothing is installed. The route is
installed by `rnn_apps.harness.runtime.configure` (the ``configured_runtime``
fixture), as on the command line, never by importing the library.
"""

import keras
import kernel_twins
import numpy as np
import pytest

from rnn_apps.layers import torch_kernels

ON_TORCH = keras.backend.backend() == "torch"
# The route is set up the way the command line sets it up, never by an import.
pytestmark = pytest.mark.usefixtures("configured_runtime")
needs_torch = pytest.mark.skipif(not ON_TORCH, reason="the fused route exists on the PyTorch backend only")

# (padding of the batch, go_backwards, return_sequences, return_state)
CASES = [
    ("none", False, False, False),
    ("none", True, True, False),
    ("right", False, True, True),
    ("right", True, True, False),
    ("right", True, False, True),
    ("left", False, True, False),
]


def test_installed_only_on_torch(configured_runtime):
    assert configured_runtime == torch_kernels.installed() == (ON_TORCH and torch_kernels.enabled())


def _valid(output, mask, go_backwards):
    """Zero the steps a mask hides (in the layer's own time order), so only real steps are compared."""
    if mask is None or output.ndim != 3:
        return output
    order = mask[:, ::-1] if go_backwards else mask
    return output * order[:, :, None]


@needs_torch
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("padding, go_backwards, return_sequences, return_state", CASES)
def test_fused_route_matches_the_keras_loop(cell, padding, go_backwards, return_sequences, return_state):
    import torch

    x, mask = kernel_twins.batch(padding)
    fused, plain = kernel_twins.twin_layers(
        cell, go_backwards=go_backwards, return_sequences=return_sequences, return_state=return_state
    )
    calls = []
    listen = lambda kind, masked: calls.append((kind, masked))  # noqa: E731
    torch_kernels.on_fused_call(listen)
    try:
        feed = dict(mask=None if mask is None else torch.as_tensor(mask))
        got = kernel_twins.as_list(fused(torch.as_tensor(x), **feed))
        want = kernel_twins.as_list(plain(torch.as_tensor(x), **feed))
    finally:
        torch_kernels.remove_callback(listen)
    # A left-padded mask is not the kernel's; it goes to Keras's loop.
    assert bool(calls) == (padding != "left"), calls
    for found, expected in zip(got, want):
        found, expected = _valid(found, mask, go_backwards), _valid(expected, mask, go_backwards)
        np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_initial_states_follow_their_rows(cell):
    """Packing sorts the rows by length; each row must still start from its own state."""
    import torch

    x, mask = kernel_twins.batch("right", seed=3)
    fused, plain = kernel_twins.twin_layers(cell, return_sequences=True, return_state=True)
    rng = np.random.default_rng(4)
    states = [torch.as_tensor(rng.normal(size=(4, 6)).astype("float32")) for _ in range(2 if cell == "lstm" else 1)]
    feed = dict(initial_state=states, mask=torch.as_tensor(mask))
    got, want = (kernel_twins.as_list(layer(torch.as_tensor(x), **feed)) for layer in (fused, plain))
    for found, expected in zip(got, want):
        np.testing.assert_allclose(_valid(found, mask, False), _valid(expected, mask, False), rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_gradients_match_the_keras_loop(cell, go_backwards):
    import torch

    x, mask = kernel_twins.batch("right", seed=2)
    fused, plain = kernel_twins.twin_layers(cell, go_backwards=go_backwards)
    gradients = []
    for layer in (fused, plain):
        out = layer(torch.as_tensor(x), mask=torch.as_tensor(mask))
        loss = (out**2).sum()
        variables = [w.value for w in layer.trainable_weights]
        gradients.append([g.detach().numpy() for g in torch.autograd.grad(loss, variables)])
    for found, expected in zip(*gradients):
        np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-5)


@needs_torch
def test_other_settings_keep_the_keras_loop():
    import torch

    x, _ = kernel_twins.batch("none")
    calls = []
    listen = lambda kind, masked: calls.append(kind)  # noqa: E731
    torch_kernels.on_fused_call(listen)
    try:
        for layer in (
            keras.layers.LSTM(3, activation="relu"),
            keras.layers.GRU(3, reset_after=False),
            keras.layers.LSTM(3, use_bias=False),
            keras.layers.GRU(3, recurrent_activation="hard_sigmoid"),
        ):
            layer(torch.as_tensor(x))
    finally:
        torch_kernels.remove_callback(listen)
    assert calls == []


@needs_torch
def test_uninstall_restores_keras_and_install_is_idempotent():
    from keras.src import backend as keras_backend

    routed = keras_backend.lstm
    torch_kernels.uninstall()
    try:
        assert not torch_kernels.installed() and keras_backend.lstm is not routed
    finally:
        assert torch_kernels.install() and torch_kernels.install()
    assert keras_backend.lstm is routed


@needs_torch
def test_a_model_trains_and_reloads_the_same(tmp_path):
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import classifiers

    config = encoders.EncoderConfig(model="lstm", units=8, bidirectional=True)
    model = classifiers.compile_classifier(classifiers.sequence_classifier(config, 2, 30, embedding_dim=8), 2)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 30, size=(32, 9)).astype("int32")
    ids[::2, 5:] = 0  # right padding on half the rows
    labels = rng.integers(0, 2, size=32)
    model.fit(ids, labels, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    before = keras.ops.convert_to_numpy(model.predict(ids, verbose=0))
    torch_kernels.uninstall()
    try:
        # Keras's own loop on the reloaded model: the same function.
        after = keras.ops.convert_to_numpy(reloaded.predict(ids, verbose=0))
    finally:
        torch_kernels.install()
    np.testing.assert_allclose(before, after, rtol=1e-4, atol=1e-5)
