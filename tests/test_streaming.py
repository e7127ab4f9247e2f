"""Streaming inference (`rnn_apps.streaming`): one step at a time equals the whole sequence.

These tests build untrained models from the factories (equality holds for
any weights) and run on every backend through `tests/test_backends.py`.
"""

import keras
import numpy as np
import pytest
from helpers import check_streaming

from rnn_apps import errors, streaming
from rnn_apps.layers import encoders, recurrent
from rnn_apps.tasks import classifiers

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("cell", recurrent.CELLS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_token_classifier_streams_like_the_whole_text(cell, num_layers):
    config = encoders.EncoderConfig(model=cell, units=6, num_layers=num_layers)
    model = classifiers.sequence_classifier(config, num_classes=3, vocabulary_size=40, embedding_dim=5)
    streamed = check_streaming(model, RNG.integers(2, 40, size=(3, 9)).astype("int32"))
    # The state is really carried: the prediction moves as words come in.
    assert not np.allclose(streamed[0], streamed[-1])


@pytest.mark.parametrize("cell", recurrent.CELLS)
def test_feature_classifier_streams_like_the_whole_sequence(cell):
    model = classifiers.feature_sequence_classifier(encoders.EncoderConfig(model=cell, units=5), 2, feature_dim=4)
    check_streaming(model, RNG.normal(size=(2, 8, 4)).astype("float32"))


@pytest.mark.parametrize("cell", recurrent.CELLS)
def test_per_step_outputs_stream_like_the_whole_sequence(cell):
    x = keras.Input(shape=(None, 3))
    h = recurrent.encoder(x, cell=cell, units=4, num_layers=2, return_sequences=True)
    model = keras.Model(x, keras.layers.Dense(5, activation="softmax", name="tags")(h))
    check_streaming(model, RNG.normal(size=(2, 7, 3)).astype("float32"), per_step=True)


def test_states_are_named_inputs_and_outputs_in_layer_order():
    model = classifiers.feature_sequence_classifier(
        encoders.EncoderConfig(model="lstm", units=3, num_layers=2), 2, feature_dim=2
    )
    step = streaming.step_model(model)
    names = [tensor.name for tensor in step.inputs]
    assert names == [
        "features",
        "encoder_lstm_1_state_h",
        "encoder_lstm_1_state_c",
        "encoder_lstm_2_state_h",
        "encoder_lstm_2_state_c",
    ]
    assert streaming.state_count(step) == 4
    assert [tuple(t.shape) for t in step.outputs] == [(None, 1)] + [(None, 3)] * 4


def test_stream_reset_starts_from_zero_states():
    model = classifiers.feature_sequence_classifier(encoders.EncoderConfig(model="gru", units=3), 3, feature_dim=2)
    stream = streaming.Stream(model)
    x = RNG.normal(size=(1, 4, 2)).astype("float32")
    first = stream.run(x)
    assert any(np.abs(state).sum() > 0 for state in stream.states)
    stream.reset()
    assert all(not state.any() for state in stream.states)
    np.testing.assert_allclose(stream.run(x)[-1], first[-1], rtol=1e-6)


def test_step_model_saves_and_reloads(tmp_path):
    model = classifiers.sequence_classifier(encoders.EncoderConfig(model="lstm", units=4), 2, 20, 3)
    step = streaming.step_model(model)
    path = tmp_path / "step.keras"
    step.save(path)
    reloaded = keras.models.load_model(path)
    inputs = [np.array([[5]], "int32"), *(RNG.normal(size=(1, 4)).astype("float32") for _ in range(2))]
    for got, want in zip(reloaded.predict_on_batch(inputs), step.predict_on_batch(inputs)):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(want), rtol=1e-6)


def test_bidirectional_models_are_refused_with_the_reason():
    config = encoders.EncoderConfig(model="gru", units=3, bidirectional=True)
    model = classifiers.sequence_classifier(config, 2, 20, 3)
    with pytest.raises(errors.InputError, match="'encoder_bidirectional_1' .*needs the future"):
        streaming.step_model(model)


def test_convolutions_over_time_are_refused():
    model = classifiers.sequence_classifier(encoders.EncoderConfig(model="cnn", filters=4), 2, 20, 3)
    with pytest.raises(errors.InputError, match="Conv1D"):
        streaming.step_model(model)


def test_a_model_without_recurrent_layers_is_refused():
    x = keras.Input(shape=(None, 2))
    with pytest.raises(errors.InputError, match="at least one recurrent layer"):
        streaming.step_model(keras.Model(x, keras.layers.Dense(1)(x)))


def test_stream_reset_keeps_its_batch_size_and_refuses_a_different_one():
    model = classifiers.feature_sequence_classifier(encoders.EncoderConfig(model="lstm", units=3), 2, feature_dim=2)
    x = RNG.normal(size=(4, 5, 2)).astype("float32")
    stream = streaming.Stream(model, batch_size=4)
    first = stream.run(x)[-1]
    stream.reset()  # the four streams start again, still four of them
    assert [state.shape for state in stream.states] == [(4, 3), (4, 3)]
    np.testing.assert_allclose(stream.run(x)[-1], first, rtol=1e-6)
    with pytest.raises(errors.InputError, match=r"4 sequence\(s\) on axis 0.*Received: inputs\[0\]=\(1, 1, 2\)"):
        stream.step(x[:1, :1])
    stream.reset(batch_size=1)
    np.testing.assert_allclose(stream.run(x[:1])[-1], first[:1], rtol=1e-5)
    with pytest.raises(errors.InputError, match="batch_size"):
        stream.reset(batch_size=0)
