"""The encoder specification every task builder takes.

An `EncoderConfig` names one encoder, recurrent (``simple_rnn``, ``lstm``,
``gru``) or convolutional (``cnn``), with its sizes. Calling it on a
``(batch, time, features)`` tensor applies that encoder, so a task builder
that takes a config turns an RNN into a CNN by changing one field:

Examples:
    >>> import keras
    >>> inputs = keras.ops.ones((2, 7, 3))
    >>> tuple(EncoderConfig(model="gru", units=8)(inputs).shape)
    (2, 8)
    >>> tuple(EncoderConfig(model="cnn", cnn_kind="stack", filters=4)(inputs, return_sequences=True).shape)
    (2, 7, 4)
"""

from __future__ import annotations

import dataclasses

from rnn_apps import errors
from rnn_apps.layers import convolutional, recurrent

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
        cnn_kind: one of `rnn_apps.layers.convolutional.CONV1D_KINDS`.
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
