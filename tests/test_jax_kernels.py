"""The JAX backend's LSTM/GRU scan computes what Keras's own loop computes.

Each case builds one layer twice with the same weights: once as the
factories build it (``use_cudnn="auto"``, so `rnn_apps.layers.jax_kernels`
may take it) and once with ``use_cudnn=False`` (Keras's generic loop, never
routed). Every output, final state and gradient must agree, padded steps
included. The checks need the JAX backend: under it they run here; under any
other backend one test runs this file again in a JAX process (skipped when
JAX is not installed), and another checks that `runtime.configure` installs
nothing.
"""

import importlib.util
import os
import subprocess
import sys

import keras
import kernel_twins
import numpy as np
import pytest
from conftest import REPO

from rnn_apps.layers import jax_kernels

ON_JAX = keras.backend.backend() == "jax"
needs_jax = pytest.mark.skipif(not ON_JAX, reason="the scan route exists on the JAX backend only")

# (padding of the batch, go_backwards, return_sequences, return_state)
CASES = [
    ("none", False, True, True),
    ("right", False, False, False),
    ("right", True, True, True),
    ("left", False, True, False),
    ("holes", True, False, True),
]


@pytest.fixture
def route(monkeypatch):
    """The route installed for one test (whatever the environment says), and removed after it."""
    monkeypatch.setenv(jax_kernels.ENVIRONMENT, "1")
    was_installed = jax_kernels.installed()
    assert jax_kernels.install() == ON_JAX
    calls = []
    listen = lambda kind, masked: calls.append((kind, masked))  # noqa: E731
    jax_kernels.on_scan_call(listen)
    yield calls
    jax_kernels.remove_callback(listen)
    if was_installed:
        jax_kernels.install()
    else:
        jax_kernels.uninstall()


def test_configure_installs_only_on_jax(configured_runtime):
    assert jax_kernels.installed() == (ON_JAX and jax_kernels.enabled())


# In the default run, a share of the checks that still covers each path (masks, both cells, gradients,
# a trained and reloaded model); RNN_APPS_SLOW=1 runs them all.
DEFAULT_SHARE = "gradients or reloads or (matches_the_keras_loop and right) or (initial_states and left)"


@pytest.mark.skipif(ON_JAX or importlib.util.find_spec("jax") is None, reason="runs the checks in a JAX process")
@pytest.mark.parametrize("share", [pytest.param(DEFAULT_SHARE, id="share"), pytest.param("", marks=pytest.mark.slow)])
def test_checks_pass_on_the_jax_backend(share):
    environment = os.environ | {"KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-W", "ignore"]
    command += ["-k", share] if share else []
    done = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout[-1000:]


@needs_jax
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("padding, go_backwards, return_sequences, return_state", CASES)
def test_scan_matches_the_keras_loop(route, cell, padding, go_backwards, return_sequences, return_state):
    x, mask = kernel_twins.batch(padding)
    routed, plain = kernel_twins.twin_layers(
        cell, go_backwards=go_backwards, return_sequences=return_sequences, return_state=return_state
    )
    got, want = (kernel_twins.as_list(layer(x, mask=mask)) for layer in (routed, plain))
    # Keras's own JAX code already handles an unmasked GRU; everything else comes here.
    assert route == ([] if cell == "gru" and mask is None else [(cell, mask is not None)])
    assert len(got) == len(want)
    for found, expected in zip(got, want):
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6)


@needs_jax
@pytest.mark.parametrize(
    "cell, options",
    [
        ("lstm", dict(use_bias=False)),
        ("lstm", dict(activation="relu", recurrent_activation="hard_sigmoid")),
        ("gru", dict(reset_after=False)),
        ("gru", dict(use_bias=False, reset_after=False)),
        ("gru", dict(use_bias=False)),
    ],
)
def test_other_settings_match_too(route, cell, options):
    x, mask = kernel_twins.batch("right", seed=5)
    routed, plain = kernel_twins.twin_layers(cell, return_sequences=True, **options)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(routed(x, mask=mask)),
        keras.ops.convert_to_numpy(plain(x, mask=mask)),
        rtol=1e-5,
        atol=1e-6,
    )
    assert route == [(cell, True)]


@needs_jax
@pytest.mark.parametrize("cell, go_backwards", [("lstm", False), ("gru", True)])
def test_gradients_match_the_keras_loop(route, cell, go_backwards):
    import jax

    x, mask = kernel_twins.batch("holes", seed=2)
    gradients = []
    for layer in kernel_twins.twin_layers(cell, go_backwards=go_backwards, return_sequences=True):
        fixed = [v.value for v in layer.non_trainable_variables]  # the dropout seed's state

        def loss(trainable, inputs, layer=layer, fixed=fixed):
            out, _ = layer.stateless_call(trainable, fixed, inputs, mask=mask)
            return (out**2).sum()

        trainable = [w.value for w in layer.trainable_weights]
        weights, inputs = jax.grad(loss, argnums=(0, 1))(trainable, x)
        gradients.append([*weights, inputs])
    assert route, "the routed layer took Keras's loop"
    for found, expected in zip(*gradients):
        np.testing.assert_allclose(np.asarray(found), np.asarray(expected), rtol=1e-4, atol=1e-5)


@needs_jax
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("padding, go_backwards", [("left", False), ("right", True), ("holes", False)])
def test_given_initial_states_match_too(route, cell, padding, go_backwards):
    # Keras's JAX loop gives the initial state as the output of a row's steps before its first real one (its
    # TensorFlow loop gives zeros there).
    x, mask = kernel_twins.batch(padding, seed=4)
    states = kernel_twins.initial_states(cell)
    twins = kernel_twins.twin_layers(cell, go_backwards=go_backwards, return_sequences=True, return_state=True)
    got, want = (kernel_twins.as_list(layer(x, mask=mask, initial_state=states)) for layer in twins)
    for found, expected in zip(got, want):
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6)
    assert route == [(cell, True)]


@needs_jax
def test_unrolled_layers_keep_the_keras_loop(route):
    x, mask = kernel_twins.batch("right")
    routed, plain = kernel_twins.twin_layers("lstm", unroll=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(routed(x, mask=mask)), keras.ops.convert_to_numpy(plain(x, mask=mask)), rtol=1e-6
    )
    assert route == []


@needs_jax
def test_uninstall_restores_keras_and_install_is_idempotent(route):
    from keras.src import backend as keras_backend

    routed = keras_backend.lstm
    jax_kernels.uninstall()
    try:
        assert not jax_kernels.installed() and keras_backend.lstm is not routed
    finally:
        assert jax_kernels.install() and jax_kernels.install()
    assert keras_backend.lstm is routed


@needs_jax
def test_off_unless_the_environment_asks(monkeypatch):
    if jax_kernels.installed():
        pytest.skip("installed by an earlier configure in this process")
    for value in (None, "0", "no"):
        if value is None:
            monkeypatch.delenv(jax_kernels.ENVIRONMENT, raising=False)
        else:
            monkeypatch.setenv(jax_kernels.ENVIRONMENT, value)
        assert not jax_kernels.enabled() and not jax_kernels.install() and not jax_kernels.installed()
    monkeypatch.setenv(jax_kernels.ENVIRONMENT, "1")
    assert jax_kernels.enabled()


@needs_jax
def test_a_model_trains_and_reloads_the_same(route, tmp_path):
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import classifiers

    config = encoders.EncoderConfig(model="gru", units=8, bidirectional=True)
    model = classifiers.compile_classifier(classifiers.sequence_classifier(config, 2, 30, embedding_dim=8), 2)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 30, size=(32, 9)).astype("int32")
    ids[::2, 5:] = 0  # right padding on half the rows
    labels = rng.integers(0, 2, size=32)
    model.fit(ids, labels, epochs=1, batch_size=8, verbose=0)
    assert ("gru", True) in route
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    before = keras.ops.convert_to_numpy(model.predict(ids, verbose=0))
    jax_kernels.uninstall()
    # Keras's own loop on the reloaded model: the same function.
    after = keras.ops.convert_to_numpy(reloaded.predict(ids, verbose=0))
    np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-6)
