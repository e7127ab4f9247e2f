"""Video model factories: shape, weights, a fit step, a save/load round trip."""

import keras
import numpy as np
import pytest
from helpers import check_model

from rnn_apps import errors
from rnn_apps.layers import encoders
from rnn_apps.tasks import video_models

CLIPS = np.random.default_rng(0).integers(0, 256, size=(4, 5, 16, 16, 1)).astype("float32")
LABELS = np.array([0, 1, 2, 0])


def frame_config(name, conv3d_kind="conv3d", **fields):
    """The `EncoderConfig` of the `FRAME_MODELS` model ``name``, as the video recipe builds it."""
    kind = {"convlstm": "convlstm", "frame_cnn": "frame_average"}.get(name, conv3d_kind)
    model = name if name in encoders.MODEL_NAMES else "cnn"
    return encoders.EncoderConfig(model=model, cnn_kind=kind, **fields)


@pytest.mark.parametrize("name", video_models.FRAME_MODELS)
def test_every_frame_model(name, tmp_path):
    config = frame_config(name, units=4, filters=(4, 4))
    model = video_models.frames_classifier(
        config, 3, frames=5, height=16, width=16, channels=1, frame_filters=(4, 4), dense_units=8
    )
    check_model(model, CLIPS, LABELS, (4, 3), tmp_path, loss="sparse_categorical_crossentropy")
    assert model.get_layer("head_output")
    assert model.name == name


def test_bidirectional_stacked_cnn_rnn_and_2plus1d(tmp_path):
    config = encoders.EncoderConfig(model="lstm", units=3, num_layers=2, bidirectional=True)
    model = video_models.frames_classifier(config, 2, 5, 16, 16, 1, frame_filters=(4,), dense_units=4)
    assert model.get_layer("encoder_bidirectional_2")
    check_model(model, CLIPS, np.array([0, 1, 1, 0]), (4, 1), tmp_path)
    factorized = video_models.frames_classifier(frame_config("cnn3d", "2plus1d", filters=(4,)), 3, 5, 16, 16, 1)
    assert factorized.get_layer("cnn3d_temporal_1").kernel.shape[:3] == (3, 1, 1)


def test_frame_encoder_is_a_time_distributed_conv2d():
    """The fast Conv3D(1x3x3) form computes exactly what TimeDistributed(Conv2D) does."""
    inputs = keras.Input(shape=(5, 16, 16, 1))
    fast = keras.Model(inputs, video_models.frame_encoder(inputs, filters=(3, 4), dense_units=6, name="a"))
    literal = keras.Model(
        inputs, video_models.frame_encoder(inputs, filters=(3, 4), dense_units=6, time_distributed=True, name="b")
    )
    for index in (1, 2):
        kernel, bias = fast.get_layer(f"a_conv_{index}").get_weights()
        literal.get_layer(f"b_conv_{index}_frames").set_weights([kernel[0], bias])
    literal.get_layer("b_dense").set_weights(fast.get_layer("a_dense").get_weights())
    np.testing.assert_allclose(fast.predict(CLIPS / 255, verbose=0), literal.predict(CLIPS / 255, verbose=0), atol=1e-5)


def test_frame_average_ignores_order():
    keras.utils.set_random_seed(0)
    model = video_models.frames_classifier(
        frame_config("frame_cnn"), 3, 5, 16, 16, 1, frame_filters=(4,), dense_units=4
    )
    reversed_clips = CLIPS[:, ::-1]
    np.testing.assert_allclose(model.predict(CLIPS, verbose=0), model.predict(reversed_clips, verbose=0), atol=1e-5)
    gru = encoders.EncoderConfig(model="gru", units=4)
    recurrent = video_models.frames_classifier(gru, 3, 5, 16, 16, 1, frame_filters=(4,), dense_units=4)
    # Compared at the recurrent layer's output: after it, the small ReLU head of a fresh
    # model can be dead for every input, which would hide the order.
    encoder = keras.Model(recurrent.inputs, recurrent.get_layer("encoder_gru_1").output)
    assert not np.allclose(encoder.predict(CLIPS, verbose=0), encoder.predict(reversed_clips, verbose=0))


def test_raw_frames_model_resizes_and_reloads(tmp_path):
    gru = encoders.EncoderConfig(model="gru", units=3)
    core = video_models.frames_classifier(gru, 2, 5, 16, 16, 1, frame_filters=(4,), dense_units=4)
    model = video_models.raw_frames_model(core)
    big = np.random.default_rng(1).integers(0, 256, size=(2, 5, 40, 24, 1)).astype("uint8")
    path = tmp_path / "raw.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(model.predict(big, verbose=0), reloaded.predict(big, verbose=0), atol=1e-6)
    assert reloaded.predict(big, verbose=0).shape == (2, 1)


@pytest.mark.parametrize("name", video_models.SEQUENCE_MODELS)
def test_every_sequence_model(name, tmp_path):
    tracks = np.random.default_rng(2).normal(size=(6, 9, 4)).astype("float32") * 10 + 3
    normalizer = keras.layers.Normalization(axis=-1, name="normalize")
    normalizer.adapt(tracks.reshape(-1, 4))
    config = encoders.EncoderConfig(model=name, units=4, cnn_kind="fcn", filters=(4, 4, 4), kernel_sizes=(3, 3, 3))
    model = video_models.sequence_model(config, 3, 4, normalizer=normalizer)
    check_model(model, tracks, np.array([0, 1, 2, 0, 1, 2]), (6, 3), tmp_path, loss="sparse_categorical_crossentropy")


def test_backbone_needs_local_weights(tmp_path):
    inputs = keras.Input(shape=(2, 32, 32, 3))
    with pytest.raises(errors.InputError, match="existing local weights file"):
        video_models.backbone_encoder(inputs, "mobilenet_v3_small", tmp_path / "none.h5")
    with pytest.raises(errors.InputError, match="RGB frames"):
        video_models.backbone_encoder(keras.Input(shape=(2, 32, 32, 1)), "mobilenet_v3_small", tmp_path / "x.h5")


def test_backbone_from_a_local_weights_file(tmp_path):
    """A weights file saved locally (no download) is loaded and frozen."""
    network = keras.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg", minimalistic=False
    )
    path = tmp_path / "backbone.weights.h5"
    network.save_weights(path)
    model = video_models.frames_classifier(
        encoders.EncoderConfig(model="gru", units=3),
        2,
        2,
        32,
        32,
        3,
        backbone="mobilenet_v3_small",
        backbone_weights=path,
    )
    assert model.get_layer("backbone").trainable_weights == []
    clips = np.random.default_rng(3).integers(0, 256, size=(2, 2, 32, 32, 3)).astype("float32")
    assert model.predict(clips, verbose=0).shape == (2, 1)
