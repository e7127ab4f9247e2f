"""The translation recipe's settings: every field of `TranslationConfig` is a flag of ``python -m recipes.translation``.

This module imports nothing heavier than the standard library, so the command line reads it,
checks the flags and refuses a bad one before Keras and TensorFlow start.
"""

import dataclasses

from rnn_apps.harness import config

MONITORS = ("auto", "val_bleu", "val_chrf", "val_loss")
"""Values of ``--monitor``: BLEU or chrF of the validation translations, or the validation loss."""


@dataclasses.dataclass(frozen=True)
class TranslationConfig(config.RunConfig):
    """The translation recipe's settings; every field is a flag (``--beam-size``)."""

    PRESETS = {
        "quick": dict(epochs=8, units=64, embedding_dim=64, filters=64, cnn_layers=2, dropout=0.0,
                      learning_rate=5e-3, max_pairs=1200, test_limit=60),
        # bench/results/translation-multi30k.md, with --data FOLDER --model gru,cnn
        "multi30k": dict(source_lang="de", target_lang="en", bidirectional=True, units=128, embedding_dim=128,
                         filters=128, batch_size=128, learning_rate=2e-3, epochs=4, max_output_length=40),
    }  # fmt: skip

    units: int = config.option(256, "recurrent units per layer", parse=config.positive_int)
    epochs: int = config.option(30, "most epochs (early stopping may end sooner)", parse=config.positive_int)
    source_lang: str | None = config.option(None, "source language code (folder files, tfds keys)")
    target_lang: str | None = config.option(None, "target language code")
    attention: str = config.option(
        "additive",
        "recurrent models: additive (Bahdanau) or dot-product (Luong) attention",
        choices=("additive", "dot"),
    )
    monitor: str = config.option(
        "auto",
        "validation quantity that early stopping, the kept epoch and --tune follow; auto: val_bleu (greedy "
        "translations of the validation pairs scored by sacreBLEU after every epoch), val_chrf likewise, "
        "or val_loss (teacher-forced next-word loss, no decoding)",
        choices=MONITORS,
    )
    beam_size: int = config.option(1, "1 is greedy decoding", parse=config.positive_int)
    max_output_length: int | None = config.option(None, "most words per translation", parse=config.positive_int)
    vocabulary_size: int = config.option(10000, "words kept per language", parse=config.positive_int)
    min_frequency: int = config.option(2, "rarer training words are [UNK]", parse=config.positive_int)
    source_length: int = config.option(40, "most source words a model reads", parse=config.positive_int)
    target_length: int = config.option(40, "most target words it writes", parse=config.positive_int)
    embedding_dim: int = config.option(256, "word-vector width", parse=config.positive_int)
    filters: int = config.option(256, "CNN channels", parse=config.positive_int)
    cnn_layers: int = config.option(4, "CNN blocks in encoder and decoder", parse=config.positive_int)
    dropout: float = config.option(0.3, "dropout on embeddings and outputs", parse=config.fraction)
    max_pairs: int | None = config.option(None, "use only the first N training pairs", parse=config.positive_int)
    test_limit: int | None = config.option(None, "score only the first N test pairs", parse=config.positive_int)
    validation_fraction: float = config.option(0.1, "when there is no val split", parse=config.fraction)
    test_fraction: float = config.option(0.1, "of a TSV file's pairs", parse=config.fraction)
    heatmaps: int = config.option(3, "test sentences in attention.png", parse=config.positive_int)
