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

Block-wise CNN kinds take one filter count per block: the 2-D spectrogram
CNN (``conv2d``), the FCN of time-series classification (``fcn``, one
kernel width per block too), and the clip encoders of
`rnn_apps.tasks.video_models`:

    >>> tuple(EncoderConfig(model="cnn", cnn_kind="conv2d", filters=(4, 8))(inputs).shape)
    (2, 8)
    >>> tuple(EncoderConfig(model="cnn", cnn_kind="fcn", filters=(4, 5), kernel_sizes=(5, 3))(inputs).shape)
    (2, 5)
"""

from __future__ import annotations

import dataclasses

from rnn_apps import errors
from rnn_apps.layers import convolutional, recurrent

MODEL_NAMES = recurrent.CELLS + ("cnn",)
"""Trainable model names shared by every recipe's ``--model`` flag."""

SEQUENCE_CNN_KINDS = convolutional.CONV1D_KINDS + ("conv2d", "fcn")
"""CNN kinds that read ``(batch, time, features)``: what calling an `EncoderConfig` applies."""

CLIP_CNN_KINDS = ("conv3d", "2plus1d", "frame_average", "convlstm")
"""CNN kinds that read clips of frames, applied by `rnn_apps.tasks.video_models.frames_classifier`."""

CNN_KINDS = SEQUENCE_CNN_KINDS + CLIP_CNN_KINDS

BLOCK_KINDS = ("conv2d", "fcn", "conv3d", "2plus1d", "convlstm")
"""Kinds whose ``filters`` is a tuple, one entry per block."""


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Hyperparameters of one encoder, recurrent or convolutional.

    Fields that do not concern the chosen model are ignored (``units`` by a
    CNN, ``cnn_kind`` by an RNN), so two configs that differ only in
    ``model`` build the RNN and the CNN of one task.

    Attributes:
        model: one of ``"simple_rnn"``, ``"lstm"``, ``"gru"``, ``"cnn"``.
        units: recurrent hidden size (per direction); the state channels of
            the ``convlstm`` clip kind.
        num_layers: stacked layers (recurrent, or single-width 1-D CNN kinds).
        bidirectional: read sequences both ways (recurrent only).
        dropout: input dropout of each recurrent layer; dropout after each
            convolution (block) of the 1-D kinds and ``conv2d``. The FCN and
            the clip kinds have none.
        recurrent_dropout: state dropout (recurrent only; rules out cuDNN).
        use_cudnn: ``"auto"``, `True` or `False` (LSTM and GRU).
        cnn_kind: one of `CNN_KINDS`: `rnn_apps.layers.convolutional.CONV1D_KINDS`;
            ``"conv2d"``, the 2-D CNN over the time-by-feature plane
            (`rnn_apps.layers.convolutional.encoder_2d`, for spectrograms);
            ``"fcn"``, Conv1D-BatchNorm-ReLU blocks
            (`rnn_apps.layers.convolutional.fcn_encoder`); or one of
            `CLIP_CNN_KINDS`. Task builders with a CNN of their own (the
            tagger's, ConvS2S) ignore it.
        filters: CNN filters per layer (per branch for ``multi_width``), an
            int; a tuple, one entry per block, for `BLOCK_KINDS`.
        kernel_size: CNN kernel width (single-width 1-D kinds, ``conv2d``
            and its context stack).
        kernel_sizes: CNN branch widths for ``multi_width``; kernel width
            per block for ``fcn``.
        pooling: ``"max"`` or ``"average"`` pooling over time (or over the
            plane for ``conv2d``) when the CNN returns one vector.
        context_filters: filters of the dilated Conv1D stack that follows
            ``conv2d`` when it returns sequences (its 2-D blocks see only a
            few frames each; the stack widens that for per-frame labels).
        context_layers: layers of that stack; 0 for none.
    """

    model: str = "lstm"
    units: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    use_cudnn: str | bool = "auto"
    cnn_kind: str = "multi_width"
    filters: int | tuple[int, ...] = 100
    kernel_size: int = 3
    kernel_sizes: tuple[int, ...] = (3, 4, 5)
    pooling: str = "max"
    context_filters: int = 128
    context_layers: int = 4

    def __post_init__(self):
        errors.check_choice(self.model, MODEL_NAMES, "model")
        errors.check_positive(self.units, "units")
        errors.check_positive(self.num_layers, "num_layers")
        errors.check_fraction(self.dropout, "dropout")
        errors.check_fraction(self.recurrent_dropout, "recurrent_dropout")
        errors.check_choice(self.cnn_kind, CNN_KINDS, "cnn_kind")
        errors.check_positive(self.kernel_size, "kernel_size")
        errors.check_choice(self.pooling, convolutional.POOLING, "pooling")
        errors.check_positive(self.context_filters, "context_filters")
        errors.check_positive(self.context_layers, "context_layers", allow_zero=True)
        # Lists (from flags or JSON) become tuples, so configs stay hashable and compare equal.
        for field in ("filters", "kernel_sizes"):
            if isinstance(getattr(self, field), list):
                object.__setattr__(self, field, tuple(getattr(self, field)))
        for width in self.kernel_sizes:
            errors.check_positive(width, "kernel_sizes")
        if isinstance(self.filters, tuple):
            if self.cnn_kind in convolutional.CONV1D_KINDS:
                raise errors.expected(
                    f"one filter count (an int) for cnn_kind={self.cnn_kind!r}", self.filters, name="filters"
                )
            if not self.filters:
                raise errors.expected("at least one block of filters", self.filters, name="filters")
            for count in self.filters:
                errors.check_positive(count, "filters")
        elif self.cnn_kind in BLOCK_KINDS:
            raise errors.expected(
                f"a tuple of filters, one per block, for cnn_kind={self.cnn_kind!r}", self.filters, name="filters"
            )
        else:
            errors.check_positive(self.filters, "filters")

    @property
    def is_recurrent(self) -> bool:
        return self.model in recurrent.CELLS

    def __call__(self, inputs, return_sequences: bool = False):
        """Apply the configured encoder to ``inputs`` ``(batch, time, features)``.

        Raises:
            InputError: a CNN of one of `CLIP_CNN_KINDS`, which reads clips,
                not ``(batch, time, features)``.
        """
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
        if self.cnn_kind == "conv2d":
            x = convolutional.encoder_2d(
                inputs,
                filters=self.filters,
                kernel_size=self.kernel_size,
                dropout=self.dropout,
                return_sequences=return_sequences,
                pooling=self.pooling,
                name="cnn2d",
            )
            if return_sequences and self.context_layers:
                x = convolutional.encoder(
                    x,
                    kind="dilated",
                    filters=self.context_filters,
                    kernel_size=self.kernel_size,
                    num_layers=self.context_layers,
                    dropout=self.dropout,
                    return_sequences=True,
                    name="cnn_context",
                )
            return x
        if self.cnn_kind == "fcn":
            return convolutional.fcn_encoder(
                inputs, filters=self.filters, kernel_sizes=self.kernel_sizes, return_sequences=return_sequences
            )
        if self.cnn_kind in CLIP_CNN_KINDS:
            raise errors.expected(
                f"a cnn_kind that reads (batch, time, features), one of {list(SEQUENCE_CNN_KINDS)} "
                "(the clip kinds are for rnn_apps.tasks.video_models.frames_classifier)",
                self.cnn_kind,
                name="cnn_kind",
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
            pooling=self.pooling,
            name="cnn",
        )
