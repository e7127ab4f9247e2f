import keras
import numpy as np
import pytest
from helpers import check_model, wrap

from rnn_apps import errors
from rnn_apps.layers import recurrent


@pytest.mark.parametrize("cell", recurrent.CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_encoder_last_state_trains_and_round_trips(cell, bidirectional, tmp_path):
    def body(x):
        features = recurrent.encoder(x, cell=cell, units=4, num_layers=2, bidirectional=bidirectional)
        return keras.layers.Dense(1, activation="sigmoid", name="out")(features)

    model = wrap(body, (None, 3), name=f"{cell}_{bidirectional}")
    x = np.random.default_rng(0).normal(size=(6, 5, 3)).astype("float32")
    y = np.array([0, 1, 0, 1, 1, 0], dtype="float32")
    check_model(model, x, y, (6, 1), tmp_path)
    width = 8 if bidirectional else 4
    assert model.get_layer("out").input.shape[-1] == width


@pytest.mark.parametrize("cell", recurrent.CELLS)
def test_encoder_return_sequences_shape(cell):
    x = keras.Input(shape=(7, 2))
    assert tuple(recurrent.encoder(x, cell=cell, units=5, return_sequences=True).shape) == (None, 7, 5)


def test_encoder_names_every_layer():
    x = keras.Input(shape=(None, 2))
    model = keras.Model(x, recurrent.encoder(x, cell="gru", units=3, num_layers=2, bidirectional=True))
    names = [layer.name for layer in model.layers[1:]]
    assert names == ["encoder_bidirectional_1", "encoder_bidirectional_2"]


def test_encoder_respects_right_padding_mask():
    # Padded steps must not change the final state: a masked LSTM gives the
    # same output for a sequence with and without extra padding.
    tokens = keras.Input(shape=(None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    model = keras.Model(tokens, recurrent.encoder(embedded, cell="lstm", units=3))
    short = np.array([[3, 4, 5]])
    padded = np.array([[3, 4, 5, 0, 0, 0]])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(short)), keras.ops.convert_to_numpy(model(padded)), atol=1e-6
    )


def test_unknown_cell_message_names_expected_and_received():
    with pytest.raises(
        errors.InputError,
        match=r"Expected cell to be one of \['simple_rnn', 'lstm', 'gru'\]. "
        r"Received: cell='lsmt'",
    ):
        recurrent.encoder(keras.Input(shape=(None, 2)), cell="lsmt")


@pytest.mark.parametrize("kwargs", [dict(units=0), dict(dropout=1.5), dict(recurrent_dropout=-0.1)])
def test_bad_numbers_are_rejected(kwargs):
    with pytest.raises(ValueError, match="Expected"):
        recurrent.recurrent_layer("lstm", **{"units": 4, **kwargs})


def test_layer_rejects_bad_use_cudnn():
    with pytest.raises(ValueError, match="use_cudnn"):
        recurrent.recurrent_layer("gru", 4, use_cudnn="yes")


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (dict(activation="relu"), "activation=relu"),
        (dict(recurrent_activation="hard_sigmoid"), "recurrent_activation=hard_sigmoid"),
        (dict(recurrent_dropout=0.1), "recurrent_dropout=0.1"),
        (dict(unroll=True), "unroll=True"),
        (dict(use_bias=False), "use_bias=False"),
        (dict(use_cudnn=False), "use_cudnn=False"),
        (dict(mask_padding="left"), "left-padded mask"),
    ],
)
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_each_broken_condition_is_named(cell, kwargs, reason):
    report = recurrent.fast_kernel_eligibility(cell, **kwargs)
    assert report.eligible is False
    assert len(report.reasons) == 1 and report.reasons[0].startswith(reason)


def test_gru_reset_after_matters_only_for_gru():
    assert recurrent.fast_kernel_eligibility("gru", reset_after=False).eligible is False
    assert recurrent.fast_kernel_eligibility("lstm", reset_after=False).eligible is True


def test_defaults_are_eligible_and_simple_rnn_never_is():
    assert recurrent.fast_kernel_eligibility("lstm").eligible is True
    assert recurrent.fast_kernel_eligibility("gru").eligible is True
    assert recurrent.fast_kernel_eligibility("simple_rnn").eligible is False


def test_kernel_report_reads_real_layer_settings():
    x = keras.Input(shape=(None, 2))
    y = keras.layers.GRU(3, reset_after=False, unroll=False, name="g")(x)
    y2 = keras.layers.Bidirectional(keras.layers.LSTM(3, activation="relu"), name="bi")(x)
    model = keras.Model(x, [y, y2])
    report = recurrent.kernel_report(model)
    assert report.eligible is False
    assert report.reasons == ("g: reset_after=False (GRU needs True)", "bi: activation=relu (needs tanh)")


def test_kernel_report_is_none_without_recurrent_layers():
    x = keras.Input(shape=(4,))
    assert recurrent.kernel_report(keras.Model(x, keras.layers.Dense(1)(x))).eligible is None


def test_kernel_report_counts_a_convlstm_as_never_fused():
    x = keras.Input(shape=(3, 4, 4, 1))
    model = keras.Model(x, keras.layers.ConvLSTM2D(2, 3, padding="same", name="convlstm_layer")(x))
    report = recurrent.kernel_report(model)
    assert report.eligible is False and report.reasons == ("convlstm_layer: ConvLSTM2D has no fused cuDNN kernel",)


def test_kernel_report_left_padding():
    x = keras.Input(shape=(None, 2))
    model = keras.Model(x, recurrent.encoder(x, cell="lstm", units=2))
    assert recurrent.kernel_report(model).eligible is True
    assert recurrent.kernel_report(model, mask_padding="left").eligible is False
