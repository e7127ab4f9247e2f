import numpy as np
import pytest
from helpers import check_model

from rnn_apps import errors
from rnn_apps.layers import encoders, heads
from rnn_apps.tasks import classifiers


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


def test_heads_reject_one_class():
    with pytest.raises(errors.InputError, match="num_classes"):
        heads.loss_and_metrics(1)
