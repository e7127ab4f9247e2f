"""The text-analysis recipe's settings: every field of `TextAnalysisConfig` is a flag of the recipe.

This module imports nothing heavier than the standard library, so the command line reads it,
checks the flags and refuses a bad one before Keras and TensorFlow start.
"""

import dataclasses

from rnn_apps.harness import config

MONITORS = ("auto", "val_entity_f1", "val_token_accuracy", "val_loss", "val_accuracy")
"""Values of ``--monitor``: the task's metric on the validation part, or one that Keras computes."""


@dataclasses.dataclass(frozen=True)
class TextAnalysisConfig(config.RunConfig):
    """The text-analysis recipe's settings; every field is a flag (``--char-features``)."""

    PRESETS = {
        "quick": dict(epochs=3, units=32, embedding_dim=32, filters=64, embedding_dropout=0.25, learning_rate=0.005),
        # bench/results/text_analysis-wikiann_en.md: the settings chosen on WikiANN's dev set.
        "wikiann": dict(char_features=True, lowercase=True, crf=True),
    }

    epochs: int = config.option(15, "most epochs (early stopping may end sooner)", parse=config.positive_int)
    batch_size: int = config.option(32, "samples per batch", parse=config.positive_int)
    units: int = config.option(100, "recurrent units per layer", parse=config.positive_int)
    tag_column: str | None = config.option(
        None,
        "which tags to read: a column number of a CoNLL file (0 is the token; default the last), "
        "a CoNLL-U column name (default upos) or a tensorflow-datasets feature (default ner)",
    )
    unidirectional: bool = config.option(
        False, "recurrent taggers read left to right only (they are bidirectional by default)"
    )
    char_features: bool = config.option(False, "add a character CNN per word")
    lowercase: bool = config.option(
        False, "one word vector for all casings of a word (the character CNN still sees case)"
    )
    char_length: int = config.option(16, "characters kept per word", parse=config.positive_int)
    crf: bool = config.option(False, "a CRF output layer instead of a per-token softmax")
    embedding_dim: int = config.option(100, "word-vector width", parse=config.positive_int)
    embedding_dropout: float = config.option(0.5, "dropout on word features", parse=config.fraction)
    embeddings: str | None = config.embeddings_option()
    freeze_embeddings: bool = config.freeze_embeddings_option()
    dropout: float = config.option(0.0, "input dropout inside the encoder", parse=config.fraction)
    recurrent_dropout: float = config.option(
        0.0, "state dropout; above 0 rules out the fused cuDNN kernel", parse=config.fraction
    )
    filters: int = config.option(256, "CNN filters per layer", parse=config.positive_int)
    cnn_layers: int = config.option(3, "dilated CNN layers", parse=config.positive_int)
    min_count: int = config.option(
        2,
        "words seen fewer times in training share the unknown-word vector, which so learns to stand for rare words",
        parse=config.positive_int,
    )
    vocabulary_size: int | None = config.option(None, "most frequent words kept", parse=config.positive_int)
    strict_iob: bool = config.option(False, "refuse invalid IOB transitions instead of repairing them")
    monitor: str = config.option(
        "auto",
        "validation quantity that early stopping, the kept epoch and --tune follow; auto: val_entity_f1 for "
        "entity tags, val_token_accuracy for plain tags (val_accuracy is token accuracy, for a CRF too)",
        choices=MONITORS,
    )
    class_weight: str = config.option(
        "none",
        "weigh each training token by its tag: balanced (inverse tag frequency), sqrt (its square root), "
        "none; softmax taggers only (a CRF's loss is per sentence)",
        choices=config.CLASS_WEIGHTS,
    )
    examples: int = config.option(5, "test sentences rendered", parse=config.non_negative_int)
    validation_fraction: float = config.option(0.1, "of the training sentences", parse=config.fraction)
    test_fraction: float = config.option(0.1, "of all sentences, when the data has no test set", parse=config.fraction)
