"""Whole-model builders: an input front end, an encoder, and a task head.

Every builder takes an `rnn_apps.layers.encoders.EncoderConfig`, so the same recipe code builds a
SimpleRNN, LSTM, GRU or CNN model by changing one field. Models are
Functional and every layer has a name: ``embedding``, ``encoder_*`` (or
``cnn_*``), ``head_*``.

Examples:
    >>> config = encoders.EncoderConfig(model="gru", units=8)
    >>> model = sequence_classifier(config, num_classes=3, vocabulary_size=50, embedding_dim=4)
    >>> tuple(model(keras.ops.ones((2, 7), dtype="int32")).shape)
    (2, 3)
"""

from __future__ import annotations

import keras

from rnn_apps import errors
from rnn_apps.layers import encoders, heads


def sequence_classifier(
    config: encoders.EncoderConfig,
    num_classes: int,
    vocabulary_size: int,
    embedding_dim: int = 128,
    embedding_dropout: float = 0.0,
    head_dropout: float = 0.5,
    hidden_units: int = 0,
    name: str | None = None,
) -> keras.Model:
    """Classify token-id sequences: embedding -> encoder -> head.

    Inputs are int token ids ``(batch, time)`` with 0 as padding. For
    recurrent encoders the embedding masks padding (``mask_zero=True``), so
    padded steps are skipped; padding is on the right, which keeps the cuDNN
    path open. Convolutions cannot use a mask, so the CNN sees padding as a
    learned padding vector (id 0), as sentence CNNs usually do.

    Args:
        config: the encoder to use.
        num_classes: int >= 2.
        vocabulary_size: size of the token vocabulary, padding and
            out-of-vocabulary ids included.
        embedding_dim: width of the learned word vectors.
        embedding_dropout: rate of `SpatialDropout1D` on the word vectors
            (drops whole vector channels), the main guard against
            overfitting small text sets.
        head_dropout: dropout on the encoder features before the head.
        hidden_units: optional hidden layer in the head.
        name: model name; defaults to ``config.model``.

    Returns:
        An uncompiled `keras.Model` from ``(batch, time)`` int ids to the
            head's probabilities.
    """
    errors.check_positive(vocabulary_size, "vocabulary_size")
    errors.check_positive(embedding_dim, "embedding_dim")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=config.is_recurrent, name="embedding")(
        token_ids
    )
    if embedding_dropout:
        errors.check_fraction(embedding_dropout, "embedding_dropout")
        x = keras.layers.SpatialDropout1D(embedding_dropout, name="embedding_dropout")(x)
    features = config(x)
    outputs = heads.classification_head(features, num_classes, hidden_units=hidden_units, dropout=head_dropout)
    return keras.Model(token_ids, outputs, name=name or config.model)


def feature_sequence_classifier(
    config: encoders.EncoderConfig,
    num_classes: int,
    feature_dim: int,
    mask_value: float | None = 0.0,
    head_dropout: float = 0.3,
    hidden_units: int = 0,
    name: str | None = None,
) -> keras.Model:
    """Classify sequences of feature vectors (audio frames, joints, prices).

    Args:
        config: the encoder to use.
        num_classes: int >= 2.
        feature_dim: features per step.
        mask_value: steps whose features all equal this value are padding and
            are masked for recurrent encoders; `None` turns masking off.
            (Convolutions cannot use a mask and see the padding values.)
        head_dropout: dropout on the encoder features before the head.
        hidden_units: optional hidden layer in the head.
        name: model name; defaults to ``config.model``.

    Returns:
        An uncompiled `keras.Model` from ``(batch, time, feature_dim)``.

    Examples:
        >>> m = feature_sequence_classifier(encoders.EncoderConfig("cnn", cnn_kind="stack", filters=4), 2, 3)
        >>> tuple(m(keras.ops.ones((2, 9, 3))).shape)
        (2, 1)
    """
    errors.check_positive(feature_dim, "feature_dim")
    inputs = keras.Input(shape=(None, feature_dim), name="features")
    x = inputs
    if mask_value is not None and config.is_recurrent:
        x = keras.layers.Masking(mask_value=mask_value, name="masking")(x)
    features = config(x)
    outputs = heads.classification_head(features, num_classes, hidden_units=hidden_units, dropout=head_dropout)
    return keras.Model(inputs, outputs, name=name or config.model)


def compile_classifier(model: keras.Model, num_classes: int, learning_rate: float = 1e-3):
    """Compile a classifier with Adam and the loss that matches its head.

    Returns:
        The same model, compiled.
    """
    errors.check_positive(learning_rate, "learning_rate")
    loss, metrics = heads.loss_and_metrics(num_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=loss,
        metrics=metrics,
    )
    return model
