"""Sequence taggers: one tag per token from a recurrent or dilated-CNN encoder.

A tagger reads token ids ``(batch, time)`` (and optionally character ids
``(batch, time, char_length)``) and gives tag scores ``(batch, time,
num_tags)``. The pieces:

- front end: a word embedding, optionally concatenated with a small
  character CNN per word (Ma & Hovy 2016), which sees capitals, suffixes
  and digits of words the vocabulary does not know;
- encoder: any recurrent `rnn_apps.layers.encoders.EncoderConfig` (bidirectional for
  tagging: each tag depends on the words after it too), or `dilated_cnn`, an
  ID-CNN-style stack (Strubell et al. 2017) whose dilation doubles per
  layer, so a few layers see the whole sentence while every position is
  computed in parallel;
- head: a softmax per token, or a linear layer plus `rnn_apps.layers.crf.CRF`.

Padding (id 0) never counts: recurrent encoders receive the embedding's
mask, and the CNN zeroes padded positions after every layer so a sentence
gets the same tags whatever it is batched with.

`string_tagger` wraps a trained tagger with `keras.layers.StringLookup`
layers holding the vocabularies, so the saved model takes token strings
(from `rnn_apps.data.tokenization.model_inputs`). `MostFrequentTag` is the naive
baseline.

Examples:
    >>> from rnn_apps.layers import encoders
    >>> m = tagger(encoders.EncoderConfig("gru", units=4, bidirectional=True), num_tags=5, vocabulary_size=20,
    ...            embedding_dim=3, char_vocabulary_size=10, char_length=6)
    >>> out = m({"token_ids": keras.ops.ones((2, 7), "int32"), "char_ids": keras.ops.ones((2, 7, 6), "int32")})
    >>> tuple(out.shape)
    (2, 7, 5)
"""

from __future__ import annotations

import collections

import keras

from rnn_apps import errors
from rnn_apps.layers import crf as crf_module
from rnn_apps.layers import encoders


def character_features(char_ids, char_vocabulary_size: int, embedding_dim: int = 25, filters: int = 50, width: int = 3):
    """A character CNN per word: ``(batch, time, chars)`` ids to ``(batch, time, filters)``.

    Each word's characters are embedded, convolved with ``filters``
    windows of ``width`` characters and max-pooled over the word. The
    convolution is a `Conv2D` with a ``(1, width)`` kernel over ``(time,
    chars)``, so it never mixes words; ``chars`` must be a fixed size.

    Examples:
        >>> ids = keras.Input((None, 8), dtype="int32")
        >>> character_features(ids, 30, embedding_dim=4, filters=6).shape
        (None, None, 6)
    """
    errors.check_positive(char_vocabulary_size, "char_vocabulary_size")
    char_length = char_ids.shape[-1]
    if char_length is None:
        raise errors.expected("a fixed number of characters per word", char_ids.shape, name="char_ids.shape")
    x = keras.layers.Embedding(char_vocabulary_size, embedding_dim, name="char_embedding")(char_ids)
    x = keras.layers.Conv2D(filters, (1, width), padding="same", activation="relu", name="char_conv")(x)
    x = keras.layers.MaxPooling2D(pool_size=(1, char_length), name="char_pool")(x)
    return keras.layers.Reshape((-1, filters), name="char_features")(x)


def dilated_cnn(inputs, token_ids, filters: int = 256, kernel_size: int = 3, num_layers: int = 3, dropout: float = 0.0):
    """An ID-CNN-style tagging encoder: dilation 1, 2, 4, ... and ``same`` padding.

    Positions where ``token_ids`` is 0 (padding) are zeroed before each
    layer, so they look like the convolution's own zero padding.

    Args:
        inputs: ``(batch, time, features)`` Keras tensor.
        token_ids: ``(batch, time)`` int Keras tensor, 0 at padding.
        filters: filters per layer.
        kernel_size: kernel width.
        num_layers: layers; the receptive field is
            ``1 + (kernel_size - 1) * (2 ** num_layers - 1)`` tokens.
        dropout: dropout after each layer.

    Returns:
        ``(batch, time, filters)``.

    Examples:
        >>> ids = keras.Input((None,), dtype="int32")
        >>> dilated_cnn(keras.Input((None, 4)), ids, filters=5).shape
        (None, None, 5)
    """
    errors.check_positive(filters, "filters")
    errors.check_positive(num_layers, "num_layers")
    keep = keras.ops.expand_dims(keras.ops.cast(keras.ops.not_equal(token_ids, 0), inputs.dtype), -1)
    x = inputs * keep
    for index in range(1, num_layers + 1):
        x = keras.layers.Conv1D(
            filters,
            kernel_size,
            padding="same",
            dilation_rate=2 ** (index - 1),
            activation="relu",
            name=f"cnn_conv_{index}",
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"cnn_dropout_{index}")(x)
        x = x * keep
    return x


def tagger(
    config: encoders.EncoderConfig,
    num_tags: int,
    vocabulary_size: int,
    embedding_dim: int = 100,
    char_vocabulary_size: int | None = None,
    char_length: int | None = None,
    char_embedding_dim: int = 25,
    char_filters: int = 50,
    embedding_dropout: float = 0.5,
    head_dropout: float = 0.5,
    crf: bool = False,
    name: str | None = None,
) -> keras.Model:
    """Build a tagger: embeddings (+ characters) -> encoder -> per-token head.

    Args:
        config: the encoder; recurrent models use it as is (set
            ``bidirectional``), ``model="cnn"`` builds `dilated_cnn` with
            ``filters``, ``kernel_size``, ``num_layers`` and ``dropout``.
        num_tags: number of tags (>= 2).
        vocabulary_size: word ids, padding (0) and out-of-vocabulary (1)
            included.
        embedding_dim: word-vector width.
        char_vocabulary_size: character ids (padding and unknown included);
            `None` leaves character features out.
        char_length: characters per token (with character features).
        char_embedding_dim: character-vector width.
        char_filters: character CNN filters (the per-word feature width).
        embedding_dropout: dropout on the word (+ character) features.
        head_dropout: dropout before the output layer.
        crf: end in a linear layer and a `rnn_apps.layers.crf.CRF` (compile with
            its ``loss``) instead of a softmax.
        name: model name; defaults to ``config.model``.

    Returns:
        An uncompiled `keras.Model` taking ``{"token_ids"[, "char_ids"]}``
            and giving ``(batch, time, num_tags)`` probabilities (softmax) or
            emission scores (CRF).
    """
    if num_tags < 2:
        raise errors.expected("at least 2 tags", num_tags, name="num_tags")
    errors.check_positive(vocabulary_size, "vocabulary_size")
    errors.check_fraction(embedding_dropout, "embedding_dropout")
    errors.check_fraction(head_dropout, "head_dropout")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    inputs = {"token_ids": token_ids}
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=config.is_recurrent, name="embedding")(
        token_ids
    )
    if char_vocabulary_size:
        errors.check_positive(char_length, "char_length")
        char_ids = keras.Input(shape=(None, char_length), dtype="int32", name="char_ids")
        inputs["char_ids"] = char_ids
        chars = character_features(char_ids, char_vocabulary_size, char_embedding_dim, char_filters)
        x = keras.layers.Concatenate(name="word_and_chars")([x, chars])
    if embedding_dropout:
        x = keras.layers.Dropout(embedding_dropout, name="embedding_dropout")(x)
    if config.is_recurrent:
        x = config(x, return_sequences=True)
    else:
        x = dilated_cnn(x, token_ids, config.filters, config.kernel_size, config.num_layers, config.dropout)
    if head_dropout:
        x = keras.layers.Dropout(head_dropout, name="head_dropout")(x)
    if crf:
        x = keras.layers.Dense(num_tags, name="head_output")(x)
        outputs = crf_module.CRF(num_tags, name="crf")(x)
    else:
        outputs = keras.layers.Dense(num_tags, activation="softmax", name="head_output")(x)
    return keras.Model(inputs, outputs, name=name or config.model)


def compile_tagger(model: keras.Model, learning_rate: float = 1e-3, clipnorm: float | None = 5.0) -> keras.Model:
    """Compile a `tagger` with Adam and the loss of its head.

    A softmax head gets sparse cross-entropy averaged over real tokens and
    a token accuracy weighted by the batches' padding weights; a CRF head gets the CRF's negative
    log-likelihood (its label batches mark padding with -1).
    """
    errors.check_positive(learning_rate, "learning_rate")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm)
    if uses_crf(model):
        model.compile(optimizer=optimizer, loss=model.get_layer("crf").loss)
    else:
        # Divide by the real tokens of the batch (the weights' sum), not by
        # every position, so the loss does not shrink with padding.
        loss = keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight")
        model.compile(optimizer=optimizer, loss=loss, weighted_metrics=["accuracy"])
    return model


def uses_crf(model: keras.Model) -> bool:
    """Whether ``model`` ends in a `rnn_apps.layers.crf.CRF`."""
    return any(isinstance(layer, crf_module.CRF) for layer in model.layers)


def id_tagger(core: keras.Model, name: str | None = None) -> keras.Model:
    """A trained `tagger` ready to save without string layers (for JAX and PyTorch).

    Takes the ids `string_tagger` would compute (``token_ids`` and, with
    character features, ``char_ids``); a CRF tagger gets its
    `rnn_apps.layers.crf.CRFDecode`, so the output is what `string_tagger`'s is.
    `rnn_apps.backend.TaggerModel` looks the strings up in Python.
    """
    core = keras.Model(core.input, core.output, name=core.name)
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    inputs = {"token_ids": token_ids}
    if "char_ids" in core.input:
        inputs["char_ids"] = keras.Input(shape=core.input["char_ids"].shape[1:], dtype="int32", name="char_ids")
    outputs = core(inputs)
    if uses_crf(core):
        outputs = crf_module.CRFDecode.from_crf(core.get_layer("crf"))(outputs, token_ids)
    return keras.Model(inputs, outputs, name=name or core.name)


def string_tagger(
    core: keras.Model, words, chars=None, lowercase: bool = False, name: str | None = None
) -> keras.Model:
    """Wrap a trained `tagger` so it takes token strings.

    The returned model holds `StringLookup` layers with the word (and
    character) vocabularies: ``""`` is padding (id 0) and unknown items get
    id 1, exactly as `rnn_apps.data.token_vocabulary.encode` numbered them for
    training. A CRF tagger gets a `rnn_apps.layers.crf.CRFDecode` layer, and its
    output is the one-hot Viterbi path; loading such a model needs
    ``import rnn_apps.layers.crf`` first. Other taggers load with Keras alone.

    Args:
        core: a trained `tagger`.
        words: the word vocabulary (without padding and unknown).
        chars: the character vocabulary, for a tagger with character
            features.
        lowercase: the word vocabulary is lower-cased; tokens are
            lower-cased before the word lookup (a `TextVectorization` with
            ``standardize="lower"`` and no splitting), while the characters
            keep their case.
        name: model name; defaults to ``core.name``.

    Returns:
        A `keras.Model` from ``{"tokens": (batch, time)[, "characters":
            (batch, time, char_length)]}`` strings to ``(batch, time,
            num_tags)`` tag probabilities (or one-hot CRF paths).
    """
    # A fresh, uncompiled model over the same layers and weights: a saved
    # nested model would otherwise carry the training compile settings,
    # and a CRF's loss (a bound method) cannot be saved.
    core = keras.Model(core.input, core.output, name=core.name)
    tokens = keras.Input(shape=(None,), dtype="string", name="tokens")
    inputs = {"tokens": tokens}
    if lowercase:
        lookup = keras.layers.TextVectorization(
            standardize="lower", split=None, vocabulary=list(words), name="word_lookup"
        )
    else:
        lookup = keras.layers.StringLookup(vocabulary=list(words), mask_token="", name="word_lookup")
    token_ids = lookup(tokens)
    core_inputs = {"token_ids": token_ids}
    if "char_ids" in core.input:
        char_length = core.input["char_ids"].shape[-1]
        characters = keras.Input(shape=(None, char_length), dtype="string", name="characters")
        inputs["characters"] = characters
        core_inputs["char_ids"] = keras.layers.StringLookup(vocabulary=list(chars), mask_token="", name="char_lookup")(
            characters
        )
    outputs = core(core_inputs)
    if uses_crf(core):
        outputs = crf_module.CRFDecode.from_crf(core.get_layer("crf"))(outputs, token_ids)
    return keras.Model(inputs, outputs, name=name or core.name)


class MostFrequentTag:
    """The naive baseline: each known word gets its most frequent training tag.

    Unknown words get the most frequent tag overall (``O`` for entities).

    Examples:
        >>> baseline = MostFrequentTag([(["Paris", "is", "big"], ["B-LOC", "O", "O"])])
        >>> baseline.predict([["Paris", "Rome"]])
        [['B-LOC', 'O']]
    """

    def __init__(self, sentences):
        counts = collections.defaultdict(collections.Counter)
        overall = collections.Counter()
        for tokens, tags in sentences:
            for token, tag in zip(tokens, tags):
                counts[token][tag] += 1
                overall[tag] += 1
        self.default = overall.most_common(1)[0][0]
        self.table = {token: tag_counts.most_common(1)[0][0] for token, tag_counts in counts.items()}

    def predict(self, token_lists) -> list[list[str]]:
        """Tags for each sentence of tokens."""
        return [[self.table.get(token, self.default) for token in tokens] for tokens in token_lists]
