"""Sequence-to-sequence models with attention, and decoding (greedy and beam search).

`seq2seq` builds one of two encoder-decoders from an
`rnn_apps.layers.encoders.EncoderConfig`, so a recipe swaps one for the other
by changing the config's ``model``:

- recurrent (``simple_rnn`` / ``lstm`` / ``gru``): a recurrent encoder
  (optionally bidirectional and stacked) and a decoder of the same
  cell whose first state is set from the mean encoder state; every decoder
  step attends over the encoder states (``"additive"``: Bahdanau-style
  `keras.layers.AdditiveAttention`; ``"dot"``: Luong-style
  `keras.layers.Attention`), with learned projections of the decoder state
  and of the keys, and the context joins the decoder state before the output
  layer (Luong et al. 2015's attentional hidden state); word vectors start
  at unit scale, so the decoder reads its input word from the first step;
- ``cnn``: a ConvS2S-style model (Gehring et al. 2017):
  word plus position embeddings, gated convolutions (a linear convolution
  times a sigmoid gate) with residual connections, causal convolutions in
  the decoder, and dot-product attention from every decoder block to the
  encoder output.

Both map ``{"source": (batch, source_length) ids, "target": (batch,
target_length) ids}`` to ``{"logits": (batch, target_length, vocabulary),
"attention": (batch, target_length, source_length)}``. Id 0 is padding.
Training uses teacher forcing: the decoder reads the reference shifted by
one (``[start] w1 w2 ...``) and learns to predict ``w1 w2 ... [end]``
(`training_model`).

`inference_model` wraps a trained model with its text vectorizers into a
model that takes raw strings: a source sentence and the target prefix
decoded so far, and returns the log-probabilities of the next word. It uses
only built-in layers, so `keras.models.load_model` reads it in a fresh
process without this package. Raw strings need TensorFlow's string
tensors; on JAX and PyTorch `id_inference_model` takes word ids instead,
and `IdTranslator` pairs it with its vocabularies (saved beside it as
``<model>.vocabulary.json``) so it is called on strings all the same.
`load_translator` reads either. `translate` runs greedy or beam-search
decoding with either, incrementally: `step_decoder` derives an encoder and a
one-step decoder from the model's own layers
(`rnn_apps.tasks.seq2seq_decoding`), so the source is encoded once per batch
and a recurrent decoder carries its state from word to word instead of
re-reading the prefix.

Examples:
    >>> import dataclasses
    >>> import numpy as np
    >>> config = encoders.EncoderConfig(model="gru", units=8, filters=8)
    >>> core = seq2seq(config, 20, 30, 6, 5, embedding_dim=8)
    >>> out = core({"source": np.ones((2, 6), "int32"), "target": np.ones((2, 5), "int32")})
    >>> tuple(out["logits"].shape), tuple(out["attention"].shape)
    ((2, 5, 30), (2, 5, 6))
    >>> cnn = seq2seq(dataclasses.replace(config, model="cnn"), 20, 30, 6, 5, embedding_dim=8)
    >>> cnn.name, tuple(cnn({"source": np.ones((2, 6), "int32"), "target": np.ones((2, 5), "int32")})["logits"].shape)
    ('cnn_seq2seq', (2, 5, 30))
"""

from __future__ import annotations

import math
import weakref

import keras
import numpy as np
from keras import layers, ops

from rnn_apps import backend, errors, io
from rnn_apps.layers import encoders, recurrent
from rnn_apps.tasks import seq2seq_decoding

ATTENTIONS = ("additive", "dot")
START = "[start]"
END = "[end]"


def _inputs(source_length: int, target_length: int):
    errors.check_positive(source_length, "source_length")
    errors.check_positive(target_length, "target_length")
    # Lengths stay open so training batches can be cut to their longest sentence;
    # the two lengths bound the position embeddings and what the vectorizers pad to.
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target = keras.Input(shape=(None,), dtype="int32", name="target")
    return source, target


def _attention_layer(kind: str, name: str):
    errors.check_choice(kind, ATTENTIONS, "attention")
    if kind == "additive":
        return layers.AdditiveAttention(name=name)
    return layers.Attention(use_scale=True, name=name)


def seq2seq(
    config: encoders.EncoderConfig,
    source_vocabulary_size: int,
    target_vocabulary_size: int,
    source_length: int,
    target_length: int,
    *,
    embedding_dim: int = 64,
    attention: str = "additive",
    dropout: float = 0.0,
    name: str | None = None,
) -> keras.Model:
    """An encoder-decoder with attention: recurrent, or ConvS2S for ``config.model == "cnn"``.

    Args:
        config: the encoder. Recurrent: ``model`` is the cell of encoder and
            decoder, with ``units``, ``num_layers``, ``bidirectional`` (and
            the encoder's ``dropout``, ``recurrent_dropout``). CNN: ConvS2S's
            gated convolutions (whatever ``cnn_kind`` says) with ``filters``
            (an int) channels, ``num_layers`` blocks on each side and
            ``kernel_size``.
        source_vocabulary_size, target_vocabulary_size: vocabulary sizes,
            padding (id 0) included.
        source_length, target_length: longest inputs (the CNN's position
            embeddings cover these; the recurrent model takes any length).
        embedding_dim: word-vector width (and position vectors for the CNN).
        attention: ``"additive"`` or ``"dot"`` (recurrent; ConvS2S always
            uses dot-product attention).
        dropout: on embeddings and before the output layer, and before
            every convolution of the CNN.
        name: model name (default ``f"{config.model}_seq2seq"``).

    Returns:
        A Functional model ``{"source", "target"} -> {"logits", "attention"}``.
    """
    _attention_layer(attention, "check")
    errors.check_fraction(dropout, "dropout")
    name = name or f"{config.model}_seq2seq"
    sizes = (source_vocabulary_size, target_vocabulary_size, source_length, target_length)
    if config.is_recurrent:
        return _recurrent_seq2seq(
            config, *sizes, embedding_dim=embedding_dim, attention=attention, dropout=dropout, name=name
        )
    return _convolutional_seq2seq(config, *sizes, embedding_dim=embedding_dim, dropout=dropout, name=name)


def _recurrent_seq2seq(
    config: encoders.EncoderConfig,
    source_vocabulary_size: int,
    target_vocabulary_size: int,
    source_length: int,
    target_length: int,
    *,
    embedding_dim: int,
    attention: str,
    dropout: float,
    name: str,
) -> keras.Model:
    """The recurrent encoder-decoder of `seq2seq`.

    The decoder has ``units * (2 if bidirectional else 1)`` units, so
    dot-product attention can compare its states with the encoder's.
    """
    cell, num_layers = config.model, config.num_layers
    source, target = _inputs(source_length, target_length)
    width = config.units * (2 if config.bidirectional else 1)

    # Word vectors start at unit scale (N(0, 1), PyTorch's default), not at Keras's default of
    # uniform(-0.05, 0.05). With the small default, changing the word a fresh decoder reads moves
    # its state by about 0.01 (0.28 at unit scale, 32 units): the output hardly depends on the
    # input, and on Multi30k the loss sat at the unigram entropy (5.4) for two epochs while
    # greedy decoding wrote "a a a ...". A test guards this.
    words = keras.initializers.RandomNormal(stddev=1.0)
    x = layers.Embedding(
        source_vocabulary_size, embedding_dim, mask_zero=True, embeddings_initializer=words, name="source_embedding"
    )(source)
    x = layers.Dropout(dropout, name="source_dropout")(x)
    encoded = config(x, return_sequences=True)
    # The decoder starts from a summary of the whole source (padding excluded).
    summary = layers.GlobalAveragePooling1D(name="encoder_summary")(encoded)
    states = [layers.Dense(width, activation="tanh", name="decoder_state_h")(summary)]
    if cell == "lstm":
        states.append(layers.Dense(width, activation="tanh", name="decoder_state_c")(summary))

    y = layers.Embedding(
        target_vocabulary_size, embedding_dim, mask_zero=True, embeddings_initializer=words, name="target_embedding"
    )(target)
    y = layers.Dropout(dropout, name="target_dropout")(y)
    for index in range(1, num_layers + 1):
        layer = recurrent.recurrent_layer(cell, width, return_sequences=True, name=f"decoder_{cell}_{index}")
        y = layer(y, initial_state=states) if index == 1 else layer(y)
    # Bahdanau's score is v . tanh(W s + U h) and Luong's "general" one s . W h; Keras's attention
    # layers compare query and keys as given, so both get a learned projection first (on Multi30k
    # this lowered the training loss after 160 steps from 3.76 to 3.48).
    query = layers.Dense(width, use_bias=False, name="attention_query")(y)
    keys = layers.Dense(width, use_bias=False, name="attention_keys")(encoded)
    context, scores = _attention_layer(attention, "attention")([query, encoded, keys], return_attention_scores=True)
    joined = layers.Concatenate(name="decoder_with_context")([y, context])
    hidden = layers.Dense(width, activation="tanh", name="attentional_state")(joined)
    hidden = layers.Dropout(dropout, name="output_dropout")(hidden)
    logits = layers.Dense(target_vocabulary_size, name="logits")(hidden)
    return keras.Model({"source": source, "target": target}, {"logits": logits, "attention": scores}, name=name)


def _positions(ids):
    """0, 1, 2, ... per row, built from the ids so the length may vary."""
    return ops.cumsum(ops.ones_like(ids), axis=1) - 1


def _gated_convolution(x, filters: int, kernel_size: int, padding: str, dropout: float, name: str):
    """One ConvS2S block: dropout, linear conv times sigmoid-gate conv, residual, scaled by sqrt(1/2)."""
    inputs = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    linear = layers.Conv1D(filters, kernel_size, padding=padding, name=f"{name}_linear")(inputs)
    gate = layers.Conv1D(filters, kernel_size, padding=padding, activation="sigmoid", name=f"{name}_gate")(inputs)
    gated = layers.Multiply(name=f"{name}_glu")([linear, gate])
    added = layers.Add(name=f"{name}_residual")([x, gated])
    return layers.Rescaling(math.sqrt(0.5), name=f"{name}_scale")(added)


def _convolutional_seq2seq(
    config: encoders.EncoderConfig,
    source_vocabulary_size: int,
    target_vocabulary_size: int,
    source_length: int,
    target_length: int,
    *,
    embedding_dim: int,
    dropout: float,
    name: str,
) -> keras.Model:
    """The ConvS2S-style convolutional encoder-decoder of `seq2seq`.

    The encoder stacks ``config.num_layers`` gated convolutions over word
    plus position embeddings; the decoder stacks as many causal gated
    convolutions (a position sees only earlier target words), each followed
    by dot-product attention over the encoder output whose keys are the
    encoder states and whose values add the source embeddings back
    (Gehring et al. 2017, section 3.3). The attention output is that of
    the last decoder block.

    Examples:
        >>> config = encoders.EncoderConfig(model="cnn", filters=8, num_layers=1)
        >>> sorted(seq2seq(config, 20, 30, 6, 5, embedding_dim=4).output)
        ['attention', 'logits']
    """
    if isinstance(config.filters, tuple):
        raise errors.expected("one filter count (an int) for the ConvS2S blocks", config.filters, name="filters")
    filters, num_layers, kernel_size = config.filters, config.num_layers, config.kernel_size
    source, target = _inputs(source_length, target_length)
    scale = math.sqrt(0.5)

    source_mask = ops.not_equal(source, 0)
    source_words = layers.Embedding(source_vocabulary_size, embedding_dim, name="source_embedding")(source)
    source_places = layers.Embedding(source_length, embedding_dim, name="source_positions")(_positions(source))
    source_embedded = layers.Add(name="source_embedded")([source_words, source_places])
    source_embedded = layers.Dropout(dropout, name="source_dropout")(source_embedded)
    x = layers.Dense(filters, name="encoder_in")(source_embedded)
    for index in range(1, num_layers + 1):
        x = _gated_convolution(x, filters, kernel_size, "same", dropout, f"encoder_conv_{index}")
    keys = layers.Dense(embedding_dim, name="encoder_out")(x)
    values = layers.Rescaling(scale, name="encoder_values_scale")(
        layers.Add(name="encoder_values")([keys, source_embedded])
    )

    target_words = layers.Embedding(target_vocabulary_size, embedding_dim, name="target_embedding")(target)
    target_places = layers.Embedding(target_length, embedding_dim, name="target_positions")(_positions(target))
    target_embedded = layers.Add(name="target_embedded")([target_words, target_places])
    target_embedded = layers.Dropout(dropout, name="target_dropout")(target_embedded)
    y = layers.Dense(filters, name="decoder_in")(target_embedded)
    scores = None
    for index in range(1, num_layers + 1):
        block = f"decoder_conv_{index}"
        h = _gated_convolution(y, filters, kernel_size, "causal", dropout, block)
        query = layers.Rescaling(scale, name=f"{block}_query_scale")(
            layers.Add(name=f"{block}_query")(
                [layers.Dense(embedding_dim, name=f"{block}_to_query")(h), target_embedded]
            )
        )
        context, scores = layers.Attention(use_scale=True, name=f"{block}_attention")(
            [query, values, keys], mask=[None, source_mask], return_attention_scores=True
        )
        context = layers.Dense(filters, name=f"{block}_from_context")(context)
        y = layers.Rescaling(scale, name=f"{block}_with_context")(layers.Add(name=f"{block}_add_context")([h, context]))
    hidden = layers.Dense(embedding_dim, name="decoder_out")(y)
    hidden = layers.Dropout(dropout, name="output_dropout")(hidden)
    logits = layers.Dense(target_vocabulary_size, name="logits")(hidden)
    return keras.Model({"source": source, "target": target}, {"logits": logits, "attention": scores}, name=name)


def training_model(core: keras.Model) -> keras.Model:
    """The teacher-forcing model: ``core`` with the logits as its only output (layers shared)."""
    return keras.Model(core.input, core.output["logits"], name=f"{core.name}_training")


def compile_seq2seq(model: keras.Model, learning_rate: float = 1e-3, clipnorm: float = 1.0) -> keras.Model:
    """Adam and a cross-entropy that ignores padding (id 0) in the targets."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    return model


def inference_model(core: keras.Model, source_vectorizer, target_vectorizer, name: str | None = None) -> keras.Model:
    """Wrap a trained model so it takes raw strings and scores the next target word.

    Inputs: ``source`` (raw sentences) and ``prefix`` (the target words
    decoded so far, space-separated, starting with ``[start]``). Outputs:
    ``log_probs`` ``(batch, vocabulary)``, the log-probabilities of the next
    word after the prefix, and ``attention`` ``(batch, target_length,
    source_length)``. The target vocabulary is the layer named
    ``"target_vectorizer"``; `translate` reads it from there.

    Args:
        core: a model from `seq2seq`.
        source_vectorizer: `TextVectorization` for raw source text, padding
            to the core's source length.
        target_vectorizer: `TextVectorization` for target words, padding to
            at most the core's target length, named ``"target_vectorizer"``.
        name: model name (default ``core.name``).
    """
    if target_vectorizer.name != "target_vectorizer":
        raise errors.expected("a target vectorizer named 'target_vectorizer'", target_vectorizer.name)
    target_length = target_vectorizer.get_config()["output_sequence_length"]
    source = keras.Input(shape=(), dtype="string", name="source")
    prefix = keras.Input(shape=(), dtype="string", name="prefix")
    outputs = _next_word(core, source_vectorizer(source), target_vectorizer(prefix), target_length)
    return keras.Model({"source": source, "prefix": prefix}, outputs, name=name or core.name)


def id_inference_model(core: keras.Model, target_length: int, name: str | None = None) -> keras.Model:
    """`inference_model` without the vectorizers: it takes word ids, so it runs on every backend.

    Inputs: ``source_ids`` ``(batch, source_length)`` and ``prefix_ids``
    ``(batch, target_length)``, right-padded with 0 (the prefix starts
    with the id of ``[start]``). Outputs: ``log_probs`` and ``attention``,
    as `inference_model`'s. `IdTranslator` pairs it with a source and a target
    `rnn_apps.backend.WordVectorizer`, so it is called on raw strings like
    the string model.

    Args:
        core: a model from `seq2seq`.
        target_length: ids per prefix (what the target vectorizer pads to).
        name: model name (default ``core.name``).

    Examples:
        >>> core = seq2seq(encoders.EncoderConfig(model="gru", units=4), 9, 8, 4, 3, embedding_dim=4)
        >>> model = id_inference_model(core, 3)
        >>> out = model.predict_on_batch({"source_ids": np.array([[2, 3, 0, 0]]), "prefix_ids": np.array([[2, 5, 0]])})
        >>> tuple(out["log_probs"].shape), tuple(out["attention"].shape)
        ((1, 8), (1, 3, 4))
    """
    errors.check_positive(target_length, "target_length")
    source = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    prefix = keras.Input(shape=(target_length,), dtype="int32", name="prefix_ids")
    outputs = _next_word(core, source, prefix, target_length)
    return keras.Model({"source_ids": source, "prefix_ids": prefix}, outputs, name=name or core.name)


def _next_word(core: keras.Model, source_ids, prefix_ids, target_length: int) -> dict:
    """``log_probs`` of the word after each prefix, and the core's ``attention``."""
    out = core({"source": source_ids, "target": prefix_ids})
    # The next word is predicted at the prefix's last position.
    lengths = ops.sum(ops.cast(ops.not_equal(prefix_ids, 0), "int32"), axis=1)
    last = ops.expand_dims(ops.one_hot(ops.maximum(lengths - 1, 0), target_length), -1)
    next_logits = ops.sum(out["logits"] * last, axis=1)
    log_probs = layers.Activation("log_softmax", name="log_probs")(next_logits)
    attention = layers.Identity(name="attention")(out["attention"])
    return {"log_probs": log_probs, "attention": attention}


class IdTranslator:
    """An `id_inference_model` and its vocabularies, called on raw strings like `inference_model`'s model.

    Stands in for the raw-string inference model on backends without string
    tensors (JAX, PyTorch): ``predict_on_batch({"source": sentences,
    "prefix": prefixes})`` turns both into ids in plain Python, as the
    model's `TextVectorization` layers would, and runs the id model.
    `translate`, `model_limits` and `target_vocabulary` take either.

    Args:
        model: an `id_inference_model`.
        source: `WordVectorizer` of raw source text
            (``"lower_and_strip_punctuation"``, the source length).
        target: `WordVectorizer` of tokenized target words (``standardize=None``,
            the prefix length), whose vocabulary holds ``[start]`` and ``[end]``.

    Examples:
        >>> core = seq2seq(encoders.EncoderConfig(model="gru", units=4), 5, 6, 4, 3, embedding_dim=4)
        >>> model = IdTranslator.build(core, ["the", "car"], [START, END, "la", "voiture"], 4, 3)
        >>> model_limits(model), target_vocabulary(model)[:4]
        ((4, 2), ['', '[UNK]', '[start]', '[end]'])
        >>> out = model.predict_on_batch({"source": ["The car."], "prefix": ["[start] la"]})
        >>> out["log_probs"].shape
        (1, 6)
    """

    def __init__(self, model: keras.Model, source, target):
        self.model, self.source, self.target, self.name = model, source, target, model.name
        # What a caller feeds, as to the raw-string model.
        self.inputs = [
            keras.KerasTensor((None,), dtype="string", name="source"),
            keras.KerasTensor((None,), dtype="string", name="prefix"),
        ]

    @classmethod
    def build(
        cls,
        core: keras.Model,
        source_vocabulary,
        target_vocabulary,
        source_length: int,
        target_length: int,
        name: str | None = None,
    ) -> IdTranslator:
        """Wrap a trained ``core`` with vocabularies as `rnn_apps.data.parallel` builds them.

        Args:
            core: a model from `seq2seq`.
            source_vocabulary, target_vocabulary: words without ``""`` and
                ``"[UNK]"``; the target one with ``[start]`` and ``[end]``.
            source_length: source ids the model reads.
            target_length: prefix ids (the longest translation plus one).
            name: model name (default ``core.name``).
        """
        source = backend.WordVectorizer(source_vocabulary, source_length, standardize="lower_and_strip_punctuation")
        target = backend.WordVectorizer(target_vocabulary, target_length, standardize=None)
        return cls(id_inference_model(core, target_length, name=name), source, target)

    def predict_on_batch(self, inputs: dict) -> dict:
        feed = {"source_ids": self.source(list(inputs["source"])), "prefix_ids": self.target(list(inputs["prefix"]))}
        out = self.model.predict_on_batch(feed)
        return {key: keras.ops.convert_to_numpy(value) for key, value in out.items()}

    def save(self, path):
        """Save the id model to ``path`` and both vocabularies to ``<path>.vocabulary.json``; return ``path``."""
        saved = io.save_model(self.model, path)
        io.write_json(
            backend.vocabulary_path(saved), {"source": self.source.to_config(), "target": self.target.to_config()}
        )
        return saved


def load_translator(path):
    """Load an inference model this package saved: the raw-string model, or an `IdTranslator`.

    A model that takes strings (saved on TensorFlow) is returned as it is;
    an id model (saved on JAX or PyTorch) is wrapped with the vocabularies
    in ``<path>.vocabulary.json`` beside it (see `as_translator`).

    Raises:
        InputError: a model that is not a translator, or an id model without
            its vocabulary file.
    """
    return as_translator(keras.models.load_model(path), path)


def as_translator(model: keras.Model, path):
    """A loaded model as a translator: the raw-string model, or the id model with its vocabularies.

    Args:
        model: a model loaded from ``path``.
        path: where it was saved; an id model's vocabularies lie beside it
            in ``<path>.vocabulary.json``.

    Raises:
        InputError: a string model without the source and target vectorizers,
            an id model that is not a translator, or one without its
            vocabulary file.
    """
    if backend.takes_strings(model):
        names = {layer.name for layer in model.layers}
        if not {"source_vectorizer", "target_vectorizer"} <= names:
            raise errors.expected(
                "a .keras model saved by this recipe", f"{path} (no source_vectorizer and target_vectorizer layers)"
            )
        return model
    inputs = sorted(tensor.name for tensor in model.inputs)
    if inputs != ["prefix_ids", "source_ids"]:
        raise errors.expected("a translation model with inputs prefix_ids and source_ids", inputs)
    sidecar = backend.vocabulary_path(path)
    if not sidecar.is_file():
        raise errors.expected(f"the vocabularies {sidecar.name} saved beside the model", "no such file")
    saved = errors.read_json(sidecar, keys=("source", "target"), what="the vocabularies saved beside the model")
    source, target = (backend.WordVectorizer(**saved[side]) for side in ("source", "target"))
    prefix_length = next(tensor.shape[-1] for tensor in model.inputs if tensor.name == "prefix_ids")
    if target.sequence_length != prefix_length:
        raise errors.expected(f"a target length of {prefix_length} in {sidecar.name}", target.sequence_length)
    return IdTranslator(model, source, target)


def model_limits(model) -> tuple[int, int]:
    """``(source_length, longest translation)`` a saved inference model (or `IdTranslator`) allows."""
    if isinstance(model, IdTranslator):
        return model.source.sequence_length, model.target.sequence_length - 1
    source_length = model.get_layer("source_vectorizer").get_config()["output_sequence_length"]
    prefix_length = model.get_layer("target_vectorizer").get_config()["output_sequence_length"]
    return source_length, prefix_length - 1


def target_vocabulary(model) -> list[str]:
    """The target words by id (``""`` and ``"[UNK]"`` first) of an inference model or `IdTranslator`."""
    if isinstance(model, IdTranslator):
        return ["", "[UNK]", *model.target.vocabulary]
    return model.get_layer("target_vectorizer").get_vocabulary()


def _source_ids(model, sentences) -> np.ndarray:
    """Source word ids as the model's own source vectorizer makes them."""
    if isinstance(model, IdTranslator):
        return model.source(sentences)
    ids = model.get_layer("source_vectorizer")(np.asarray(sentences, dtype=object))
    return np.asarray(ops.convert_to_numpy(ids), dtype="int32")


class _PrefixDecoder:
    """The saved model itself: the source and the whole prefix are read again for every word.

    The slow path, kept for models of another structure and to check the
    incremental decoders against (``translate(..., incremental=False)``).
    Same methods as the decoders of `rnn_apps.tasks.seq2seq_decoding`; the
    cache holds the raw sentences.
    """

    def __init__(self, model, vocabulary):
        self.model, self.vocabulary = model, vocabulary

    def start(self, sentences, repeats: int = 1) -> dict:
        return {"sources": np.repeat(np.asarray(sentences, dtype=object), repeats)}

    def step(self, cache: dict, histories) -> tuple[np.ndarray, dict]:
        prefixes = [" ".join([START, *(self.vocabulary[token] for token in history)]) for history in histories]
        out = self.model.predict_on_batch({"source": cache["sources"], "prefix": np.asarray(prefixes, dtype=object)})
        return np.asarray(out["log_probs"]), cache

    reorder = staticmethod(seq2seq_decoding.RecurrentDecoder.reorder)


# Decoders built for a loaded model, kept while the model lives.
_DECODERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def step_decoder(model):
    """The incremental decoder derived from a translator's own layers, or `None` for another structure.

    Built once per model from the encoder-decoder inside it (see
    `rnn_apps.tasks.seq2seq_decoding`) and kept for later calls.

    Args:
        model: a translator (`load_translator`): the raw-string model or an
            `IdTranslator`.

    Returns:
        A `rnn_apps.tasks.seq2seq_decoding.RecurrentDecoder` (recurrent
            models), `rnn_apps.tasks.seq2seq_decoding.ConvolutionalDecoder`
            (ConvS2S), or `None`.

    Examples:
        >>> core = seq2seq(encoders.EncoderConfig(model="gru", units=4), 5, 6, 4, 3, embedding_dim=4)
        >>> model = IdTranslator.build(core, ["the", "car"], [START, END, "la", "voiture"], 4, 3)
        >>> type(step_decoder(model)).__name__
        'RecurrentDecoder'
    """
    keras_model = model.model if isinstance(model, IdTranslator) else model
    if keras_model not in _DECODERS:
        core = seq2seq_decoding.find_core(keras_model)
        start_id = target_vocabulary(model).index(START)
        prefix_length = model_limits(model)[1] + 1
        _DECODERS[keras_model] = core and seq2seq_decoding.for_core(core, start_id, prefix_length)
    return _DECODERS[keras_model]


def _next_log_probs(log_probs, banned, end) -> np.ndarray:
    log_probs = np.array(log_probs, dtype="float64")
    log_probs[:, banned] = -np.inf
    # Scores that are not numbers (attention over an all-padding source, which
    # `translate` does not send) end the row at once with an empty translation.
    log_probs[np.isnan(log_probs)] = -np.inf
    log_probs[~np.isfinite(log_probs).any(axis=1), end] = 0.0
    return log_probs


def translate(
    model: keras.Model,
    sentences,
    beam_size: int = 1,
    max_length: int | None = None,
    length_penalty: float = 0.6,
    batch_size: int = 128,
    incremental: bool = True,
) -> list[dict]:
    """Translate raw sentences with a saved inference model (see `inference_model`).

    Decoding starts from ``[start]`` and adds one word at a time until
    ``[end]`` or ``max_length`` words. ``beam_size=1`` is greedy decoding:
    the most likely next word every time. A larger beam keeps the
    ``beam_size`` best partial translations by total log-probability;
    finished ones stay in the beam unchanged, and the best final candidate
    is chosen by log-probability divided by ``((5 + length) / 6) **
    length_penalty`` (Wu et al. 2016), so longer translations are not
    penalised for their extra words; finished candidates beat ones the
    length limit cut off. With one beam the output is the greedy output.
    A sentence with no word once lower-cased and stripped of punctuation
    (``"@@"``, ``"..."``) is not decoded: its translation is empty.

    The encoder runs once per batch of sentences (`step_decoder`): a
    recurrent decoder then carries its state from word to word, one step
    per word, attending over the cached encoder states; the ConvS2S decoder
    re-reads the prefix but not the source. Both give the translations of
    the model's own next-word scores, which re-read everything.

    Args:
        model: a model loaded from a ``.keras`` file this package saved
            (``keras.models.load_model(path)``; importing `rnn_apps` is not
            needed to load it), or an `IdTranslator` (`load_translator`).
        sentences: raw source strings.
        beam_size: positive int; 1 is greedy.
        max_length: most words per translation (default: what the model
            was trained for, which is also the upper limit).
        length_penalty: the exponent above (beam search only).
        batch_size: sentences decoded together.
        incremental: `False` re-reads the source and the whole prefix for
            every word through the saved model (slower; the same output up
            to float rounding).

    Returns:
        One dict per sentence: ``translation`` (words joined by spaces),
            ``score`` (sum of log-probabilities), ``finished`` (`False` when the
            length limit cut it).
    """
    errors.check_positive(beam_size, "beam_size")
    sentences = [str(s) for s in sentences]
    _, limit = model_limits(model)
    if max_length is not None:
        errors.check_positive(max_length, "max_length")
        limit = min(limit, max_length)
    vocabulary = target_vocabulary(model)
    end = vocabulary.index(END)
    banned = [0, vocabulary.index(START)]  # padding and the start token are never predicted
    # A source with no word left once lower-cased and stripped of punctuation (the
    # source layer's standardization) is all padding: nothing to attend to, nothing to say.
    reader = backend.WordVectorizer([], 1)
    has_words = [bool(reader.words(s)) for s in sentences]
    worded = [s for s, kept in zip(sentences, has_words) if kept]
    decoded = []
    for begin in range(0, len(worded), batch_size):
        chunk = worded[begin : begin + batch_size]
        if beam_size == 1:
            decoded += _greedy(model, chunk, vocabulary, end, banned, limit, incremental)
        else:
            decoded += _beam(model, chunk, vocabulary, end, banned, limit, beam_size, length_penalty, incremental)
    decoded.reverse()
    empty = {"translation": "", "score": 0.0, "finished": True}
    return [decoded.pop() if kept else dict(empty) for kept in has_words]


def stream_words(model, sentence: str):
    """Greedy decoding of one sentence, word by word, as a recurrent decoder carries its state.

    The encoder reads the whole source once; then every output word costs
    one step of the decoder from the state the previous word left, and is
    yielded as soon as it is chosen. Joined, the words are
    ``translate(model, [sentence])``'s greedy translation.

    Args:
        model: a translator with a recurrent decoder (`load_translator`).
        sentence: one raw source sentence with at least one word.

    Yields:
        One pair per output word, the word and its log-probability, until
            ``[end]`` or the model's length limit.

    Raises:
        rnn_apps.errors.InputError: a convolutional (or unknown) decoder,
            which has no recurrent state to carry.

    Examples:
        >>> core = seq2seq(encoders.EncoderConfig(model="gru", units=4), 5, 6, 4, 3, embedding_dim=4)
        >>> model = IdTranslator.build(core, ["the", "car"], [START, END, "la", "voiture"], 4, 3)
        >>> words = [word for word, _ in stream_words(model, "the car")]
        >>> " ".join(words) == translate(model, ["the car"])[0]["translation"]
        True
    """
    decoder = step_decoder(model)
    if not isinstance(decoder, seq2seq_decoding.RecurrentDecoder):
        raise errors.expected(
            "a translator with a recurrent decoder (it carries a state from word to word; the CNN's "
            "decoder re-reads its prefix, so rnn-apps predict translates with it)",
            getattr(model, "name", type(model).__name__),
            name="--model",
        )
    vocabulary = target_vocabulary(model)
    end = vocabulary.index(END)
    banned = [0, vocabulary.index(START)]
    cache = decoder.start(_source_ids(model, [sentence]))
    tokens: list[int] = []
    for _ in range(model_limits(model)[1]):
        log_probs, cache = decoder.step(cache, [tokens])
        log_probs = _next_log_probs(log_probs, banned, end)[0]
        token = int(log_probs.argmax())
        if token == end:
            return
        tokens.append(token)
        yield vocabulary[token], float(log_probs[token])


def _start(model, sentences, vocabulary, repeats: int, incremental: bool):
    """The decoder for ``model`` and its cache after encoding ``sentences`` (each ``repeats`` times)."""
    decoder = step_decoder(model) if incremental else None
    if decoder is None:
        decoder = _PrefixDecoder(model, vocabulary)
        return decoder, decoder.start(sentences, repeats)
    return decoder, decoder.start(_source_ids(model, sentences), repeats)


def _greedy(model, sentences, vocabulary, end, banned, limit, incremental=True):
    count = len(sentences)
    decoder, cache = _start(model, sentences, vocabulary, 1, incremental)
    tokens = [[] for _ in range(count)]
    scores = np.zeros(count)
    finished = np.zeros(count, bool)
    for _ in range(limit):
        if finished.all():
            break
        # Finished rows are decoded too: one batch shape for every step means one traced graph.
        log_probs, cache = decoder.step(cache, tokens)
        log_probs = _next_log_probs(log_probs, banned, end)
        best = log_probs.argmax(axis=1)
        for row, token in enumerate(best):
            if finished[row]:
                continue
            scores[row] += log_probs[row, token]
            if token == end:
                finished[row] = True
            else:
                tokens[row].append(int(token))
    return [
        {"translation": " ".join(vocabulary[token] for token in t), "score": float(s), "finished": bool(f)}
        for t, s, f in zip(tokens, scores, finished)
    ]


def _beam(model, sentences, vocabulary, end, banned, limit, beam_size, length_penalty, incremental=True):
    count, size = len(sentences), len(vocabulary)
    decoder, cache = _start(model, sentences, vocabulary, beam_size, incremental)
    tokens = [[[] for _ in range(beam_size)] for _ in range(count)]
    scores = np.full((count, beam_size), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis at first, so the beam holds no duplicates
    finished = np.zeros((count, beam_size), bool)
    for _ in range(limit):
        if finished[np.isfinite(scores)].all():
            break
        histories = [tokens[i][b] for i in range(count) for b in range(beam_size)]
        log_probs, cache = decoder.step(cache, histories)
        log_probs = _next_log_probs(log_probs, banned, end).reshape(count, beam_size, size)
        # A finished hypothesis can only be continued by [end], at no cost.
        log_probs[finished] = -np.inf
        log_probs[finished, end] = 0.0
        total = (scores[:, :, None] + log_probs).reshape(count, -1)
        chosen = np.argsort(-total, axis=1, kind="stable")[:, :beam_size]
        parents, chosen_tokens = np.divmod(chosen, size)
        new_tokens, new_finished = [], np.zeros_like(finished)
        for i in range(count):
            row = []
            for b in range(beam_size):
                parent, token = int(parents[i, b]), int(chosen_tokens[i, b])
                done = finished[i, parent] or token == end
                row.append(tokens[i][parent] if done else [*tokens[i][parent], token])
                new_finished[i, b] = done
            new_tokens.append(row)
        # Each surviving hypothesis carries on from its parent's decoder state.
        cache = decoder.reorder(cache, (parents + beam_size * np.arange(count)[:, None]).reshape(-1))
        scores = np.take_along_axis(total, chosen, axis=1)
        tokens, finished = new_tokens, new_finished
    results = []
    for i in range(count):
        lengths = np.array([len(t) + 1 for t in tokens[i]], dtype="float64")
        normalized = np.where(np.isfinite(scores[i]), scores[i] / ((5.0 + lengths) / 6.0) ** length_penalty, -np.inf)
        if finished[i].any():
            # A translation that reached [end] beats one the length limit cut off.
            normalized = np.where(finished[i], normalized, -np.inf)
        best = int(np.argmax(normalized))
        results.append(
            {
                "translation": " ".join(vocabulary[token] for token in tokens[i][best]),
                "score": float(scores[i, best]),
                "finished": bool(finished[i, best]),
            }
        )
    return results
