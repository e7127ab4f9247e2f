"""Whole-model builders: an input front end, an encoder, and a task head.

Every builder takes an `EncoderConfig`, so the same recipe code builds a
SimpleRNN, LSTM, GRU or CNN model by changing one field. Models are
Functional and every layer has a name: ``embedding``, ``encoder_*`` (or
``cnn_*``), ``head_*``.

Examples:
    >>> config = EncoderConfig(model="gru", units=8)
    >>> model = sequence_classifier(config, num_classes=3, vocabulary_size=50, embedding_dim=4)
    >>> tuple(model(keras.ops.ones((2, 7), dtype="int32")).shape)
    (2, 3)
"""

from __future__ import annotations

import dataclasses

import keras

from rnn_apps import convolutional, errors, heads, recurrent

MODEL_NAMES = recurrent.CELLS + ("cnn",)
"""Trainable model names shared by every recipe's ``--model`` flag."""


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Hyperparameters of one encoder, recurrent or convolutional.

    Attributes:
        model: one of ``"simple_rnn"``, ``"lstm"``, ``"gru"``, ``"cnn"``.
        units: recurrent hidden size (per direction).
        num_layers: stacked layers (recurrent, or single-width CNN kinds).
        bidirectional: read sequences both ways (recurrent only).
        dropout: input dropout of each recurrent layer; dropout after each
            convolution for the CNN.
        recurrent_dropout: state dropout (recurrent only; rules out cuDNN).
        use_cudnn: ``"auto"``, `True` or `False` (LSTM and GRU).
        cnn_kind: one of `rnn_apps.convolutional.CONV1D_KINDS`.
        filters: CNN filters per layer (per branch for ``multi_width``).
        kernel_size: CNN kernel width for the single-width kinds.
        kernel_sizes: CNN branch widths for ``multi_width``.
    """

    model: str = "lstm"
    units: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    use_cudnn: str | bool = "auto"
    cnn_kind: str = "multi_width"
    filters: int = 100
    kernel_size: int = 3
    kernel_sizes: tuple[int, ...] = (3, 4, 5)

    def __post_init__(self):
        errors.check_choice(self.model, MODEL_NAMES, "model")
        errors.check_positive(self.units, "units")
        errors.check_positive(self.num_layers, "num_layers")
        errors.check_fraction(self.dropout, "dropout")
        errors.check_fraction(self.recurrent_dropout, "recurrent_dropout")
        errors.check_choice(self.cnn_kind, convolutional.CONV1D_KINDS, "cnn_kind")
        errors.check_positive(self.filters, "filters")

    @property
    def is_recurrent(self) -> bool:
        return self.model in recurrent.CELLS

    def __call__(self, inputs, return_sequences: bool = False):
        """Apply the configured encoder to ``inputs`` ``(batch, time, features)``."""
        if self.is_recurrent:
            return recurrent.encoder(
                inputs,
                cell=self.model,
                units=self.units,
                num_layers=self.num_layers,
                bidirectional=self.bidirectional,
                dropout=self.dropout,
                recurrent_dropout=self.recurrent_dropout,
                return_sequences=return_sequences,
                use_cudnn=self.use_cudnn,
                name="encoder",
            )
        return convolutional.encoder(
            inputs,
            kind=self.cnn_kind,
            filters=self.filters,
            kernel_size=self.kernel_size,
            kernel_sizes=self.kernel_sizes,
            num_layers=self.num_layers,
            dropout=self.dropout,
            return_sequences=return_sequences,
            name="cnn",
        )


def sequence_classifier(
    config: EncoderConfig,
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
    config: EncoderConfig,
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
        >>> m = feature_sequence_classifier(EncoderConfig("cnn", cnn_kind="stack", filters=4), 2, 3)
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
