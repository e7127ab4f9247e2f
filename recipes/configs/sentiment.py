"""The sentiment recipe's settings: every field of `SentimentConfig` is a flag of ``python -m recipes.sentiment``.

This module imports nothing heavier than the standard library, so the command line reads it,
checks the flags and refuses a bad one before Keras and TensorFlow start.
"""

import dataclasses

from rnn_apps.harness import config


@dataclasses.dataclass(frozen=True)
class SentimentConfig(config.RunConfig):
    """The sentiment recipe's settings; every field is a flag (``--embedding-dim``)."""

    PRESETS = {"quick": dict(epochs=2, units=32, embedding_dim=32, embedding_dropout=0.0)}

    task: str = config.option(
        "binary", "binary requires exactly two classes; multiclass takes two or more", choices=("binary", "multiclass")
    )
    text_column: str = config.option("text", "text column of a CSV/TSV file")
    label_column: str = config.option("label", "label column of a CSV/TSV file")
    vocabulary_size: int = config.option(20000, "most frequent words kept", parse=config.positive_int)
    sequence_length: int = config.option(300, "tokens kept per text", parse=config.positive_int)
    embedding_dim: int = config.option(128, "word-vector width", parse=config.positive_int)
    embedding_dropout: float = config.option(0.5, "dropout on word vectors", parse=config.fraction)
    embeddings: str | None = config.embeddings_option()
    freeze_embeddings: bool = config.freeze_embeddings_option()
    dropout: float = config.option(0.2, "input dropout of the encoder", parse=config.fraction)
    cnn_filters: int = config.option(100, "CNN filters of each width", parse=config.positive_int)
    cnn_widths: tuple[int, ...] = config.option(
        (3, 4, 5), "comma-separated widths of the CNN's filters (words per window)", parse=config.int_list
    )
    recurrent_dropout: float = config.option(
        0.0, "state dropout; above 0 rules out the fused cuDNN kernel", parse=config.fraction
    )
    monitor: str = config.option(
        "val_loss",
        "validation quantity that early stopping and the checkpoint follow",
        choices=("val_loss", "val_accuracy"),
    )
    validation_fraction: float = config.option(0.1, "of the training rows", parse=config.fraction)
    test_fraction: float = config.option(0.1, "of all rows, when the data has no test set", parse=config.fraction)
    folds: int | None = config.option(
        None, "test on one fold of a stratified K-fold cross-validation (MR's protocol)", parse=config.positive_int
    )
    fold: int = config.option(0, "which fold to test on, 0 to folds-1", parse=int)
