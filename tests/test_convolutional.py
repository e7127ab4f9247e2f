import keras
import numpy as np
import pytest
from helpers import check_model, wrap

from rnn_apps import errors
from rnn_apps.layers import convolutional


@pytest.mark.parametrize("kind", convolutional.CONV1D_KINDS)
def test_pooled_encoders_train_and_round_trip(kind, tmp_path):
    def body(x):
        features = convolutional.encoder(x, kind=kind, filters=4, kernel_sizes=(2, 3), num_layers=2, dropout=0.1)
        return keras.layers.Dense(1, activation="sigmoid", name="out")(features)

    model = wrap(body, (9, 3), name=kind)
    x = np.random.default_rng(1).normal(size=(4, 9, 3)).astype("float32")
    check_model(model, x, np.array([0, 1, 1, 0], dtype="float32"), (4, 1), tmp_path)


@pytest.mark.parametrize("kind", ["stack", "dilated", "causal"])
def test_per_step_outputs_keep_length(kind):
    x = keras.Input(shape=(11, 2))
    assert tuple(convolutional.encoder(x, kind=kind, filters=6, return_sequences=True).shape) == (None, 11, 6)


def test_causal_encoder_never_looks_ahead():
    # Seeded: with an unlucky initialisation every ReLU of the later steps
    # could be off, and then changing the future would change nothing at all.
    keras.utils.set_random_seed(0)
    x = keras.Input(shape=(10, 1))
    model = keras.Model(x, convolutional.encoder(x, kind="causal", filters=8, num_layers=3, return_sequences=True))
    base = np.random.default_rng(2).normal(size=(1, 10, 1)).astype("float32")
    changed = base.copy()
    changed[0, 6:] += 5.0  # change the future only
    a, b = keras.ops.convert_to_numpy(model(base)), keras.ops.convert_to_numpy(model(changed))
    np.testing.assert_allclose(a[:, :6], b[:, :6], atol=1e-6)
    assert not np.allclose(a[:, 6:], b[:, 6:])


def test_dilated_receptive_field_matches_formula():
    assert convolutional.receptive_field("dilated", 3, 3) == 15
    assert convolutional.receptive_field("stack", 5, 3) == 13


def test_multi_width_cannot_return_sequences():
    with pytest.raises(errors.InputError, match="return_sequences"):
        convolutional.encoder(keras.Input(shape=(5, 2)), kind="multi_width", return_sequences=True)


def test_unknown_kind():
    with pytest.raises(errors.InputError, match="Received: kind='conv'"):
        convolutional.encoder(keras.Input(shape=(5, 2)), kind="conv")
