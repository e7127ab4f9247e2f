import keras
import numpy as np
import pytest
from helpers import check_model

from rnn_apps import errors
from rnn_apps.layers import encoders, heads
from rnn_apps.tasks import acoustic, classifiers, forecasting, seq2seq, taggers, video_models


@pytest.mark.parametrize("name", encoders.MODEL_NAMES)
@pytest.mark.parametrize("num_classes", [2, 4])
def test_sequence_classifier(name, num_classes, tmp_path):
    config = encoders.EncoderConfig(model=name, units=4, filters=4, kernel_sizes=(2, 3))
    model = classifiers.sequence_classifier(config, num_classes, vocabulary_size=30, embedding_dim=4)
    ids = np.random.default_rng(0).integers(1, 30, size=(6, 8)).astype("int32")
    ids[:, 6:] = 0  # right padding
    labels = np.arange(6) % num_classes
    width = 1 if num_classes == 2 else num_classes
    loss, _ = heads.loss_and_metrics(num_classes)
    check_model(model, ids, labels, (6, width), tmp_path, loss=loss)
    assert model.get_layer("embedding").mask_zero is config.is_recurrent
    assert model.get_layer("head_output").units == width


@pytest.mark.parametrize("name", encoders.MODEL_NAMES)
def test_feature_sequence_classifier(name, tmp_path):
    config = encoders.EncoderConfig(model=name, units=3, filters=3, cnn_kind="dilated")
    model = classifiers.feature_sequence_classifier(config, 3, feature_dim=5)
    x = np.random.default_rng(3).normal(size=(6, 7, 5)).astype("float32")
    check_model(model, x, np.arange(6) % 3, (6, 3), tmp_path, loss="sparse_categorical_crossentropy")


def test_compile_classifier_sets_matching_loss():
    model = classifiers.sequence_classifier(encoders.EncoderConfig("gru", units=2), 2, 10, 2)
    classifiers.compile_classifier(model, 2)
    assert model.loss == "binary_crossentropy"


def test_encoder_config_validates():
    with pytest.raises(errors.InputError, match="Received: model='transformer'"):
        encoders.EncoderConfig(model="transformer")
    with pytest.raises(errors.InputError, match="units"):
        encoders.EncoderConfig(units=-1)
    with pytest.raises(errors.InputError, match="a tuple of filters, one per block, for cnn_kind='conv2d'"):
        encoders.EncoderConfig(model="cnn", cnn_kind="conv2d", filters=8)
    with pytest.raises(errors.InputError, match="one filter count"):
        encoders.EncoderConfig(model="cnn", cnn_kind="stack", filters=(8, 8))
    with pytest.raises(errors.InputError, match="filters"):
        encoders.EncoderConfig(model="cnn", cnn_kind="fcn", filters=(8, 0))
    with pytest.raises(errors.InputError, match="pooling"):
        encoders.EncoderConfig(pooling="sum")
    with pytest.raises(errors.InputError, match="cnn_kind"):
        encoders.EncoderConfig(cnn_kind="conv4d")
    # Lists (from flags or JSON) are kept as tuples.
    assert encoders.EncoderConfig(cnn_kind="fcn", filters=[4, 5], kernel_sizes=[3, 3]).filters == (4, 5)


def test_clip_kinds_read_clips_only():
    clip_cnn = encoders.EncoderConfig(model="cnn", cnn_kind="conv3d", filters=(4,))
    with pytest.raises(errors.InputError, match="clip kinds"):
        clip_cnn(keras.Input((None, 3)))
    with pytest.raises(errors.InputError, match="cnn_kind"):
        video_models.frames_classifier(encoders.EncoderConfig(model="cnn", filters=4), 2, 3, 8, 8, 1)


FRONT_END = acoustic.FrontEnd(8000, num_mel_bins=8)
TOKENS = np.ones((2, 7), "int32")
FEATURES = np.ones((2, 7, 5), "float32")
WAVES = np.random.default_rng(0).normal(0, 0.1, (2, 1600)).astype("float32")
PAIRS = {"source": np.ones((2, 6), "int32"), "target": np.ones((2, 5), "int32")}

# Every task builder: (its CNN's settings, the call, inputs, output shape). The RNN and the CNN of a
# task are the same call with configs that differ only in ``model``.
TASKS = {
    "sequence_classifier": (
        dict(filters=4, kernel_sizes=(2, 3)),
        lambda config: classifiers.sequence_classifier(config, 3, vocabulary_size=20, embedding_dim=4),
        TOKENS,
        (2, 3),
    ),
    "feature_sequence_classifier": (
        dict(cnn_kind="dilated", filters=4),
        lambda config: classifiers.feature_sequence_classifier(config, 3, feature_dim=5),
        FEATURES,
        (2, 3),
    ),
    "tagger": (
        dict(filters=4),
        lambda config: taggers.tagger(config, 5, vocabulary_size=20, embedding_dim=4),
        {"token_ids": TOKENS},
        (2, 7, 5),
    ),
    "forecaster": (
        dict(cnn_kind="causal", filters=4, num_layers=2),
        lambda config: forecasting.forecaster(config, feature_dim=5, output_steps=3, channels=2),
        FEATURES,
        (2, 3, 2),
    ),
    "waveform_classifier": (
        dict(cnn_kind="conv2d", filters=(4, 4)),
        lambda config: acoustic.waveform_classifier(config, 3, FRONT_END),
        WAVES,
        (2, 3),
    ),
    "waveform_transcriber": (
        dict(cnn_kind="conv2d", filters=(4,), context_filters=4, context_layers=2),
        lambda config: acoustic.waveform_transcriber(config, 6, FRONT_END),
        WAVES,
        (2, int(FRONT_END.frames([1600])[0]), 7),
    ),
    "sequence_model": (
        dict(cnn_kind="fcn", filters=(4, 4), kernel_sizes=(3, 3)),
        lambda config: video_models.sequence_model(config, 4, feature_dim=5),
        FEATURES,
        (2, 4),
    ),
    "frames_classifier": (
        dict(cnn_kind="conv3d", filters=(4,)),
        lambda config: video_models.frames_classifier(config, 4, 3, 8, 8, 1, frame_filters=(4,), dense_units=4),
        np.ones((2, 3, 8, 8, 1), "float32"),
        (2, 4),
    ),
    "seq2seq": (
        dict(filters=4),
        lambda config: seq2seq.training_model(seq2seq.seq2seq(config, 10, 12, 6, 5, embedding_dim=4)),
        PAIRS,
        (2, 5, 12),
    ),
}


@pytest.mark.parametrize("model", ["gru", "cnn"])
@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_builder_swaps_the_rnn_for_a_cnn_in_one_field(task, model):
    fields, build, inputs, shape = TASKS[task]
    config = encoders.EncoderConfig(model=model, units=4, **fields)
    built = build(config)
    assert tuple(keras.ops.convert_to_numpy(built(inputs)).shape) == shape
    recurrent_layers = [layer for layer in built.layers if isinstance(layer, keras.layers.RNN)]
    # The CNN has no recurrent layer; the RNN has the configured cell.
    assert bool(recurrent_layers) is (model == "gru")


def test_heads_reject_one_class():
    with pytest.raises(errors.InputError, match="num_classes"):
        heads.loss_and_metrics(1)
