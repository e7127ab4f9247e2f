"""Decoding without re-reading: the encoder once per batch, then one decoder step per output word.

The inference models of `rnn_apps.tasks.seq2seq` score the next word from
the source sentence and the whole prefix decoded so far, so a translation of
``n`` words runs the encoder ``n`` times and the decoder over the whole
prefix ``n`` times. The decoders here take the trained encoder-decoder (the
"core", found inside a saved inference model by `find_core`) and split it,
sharing its layers and weights:

- recurrent cores (`RecurrentDecoder`): an encoder model (source ids ->
  encoder states, attention keys, the decoder's first state) and a one-step
  decoder model (the previous word, every decoder layer's recurrent state,
  the cached encoder outputs and source ids -> the next word's
  log-probabilities, the attention over the source, the new states). Both are
  Functional models whose states are explicit inputs and outputs, so they
  run on TensorFlow, JAX and PyTorch. A decoded word costs one recurrent
  step instead of a pass over the whole prefix and the source.
- ConvS2S cores (`ConvolutionalDecoder`): a causal convolution reads the
  whole prefix anyway, so only the encoder output (attention keys and
  values) is cached; the decoder still runs over the prefix for each word.

Every decoder has the same three methods: ``start`` runs the encoder on a
batch of source ids and returns a cache; ``step`` returns the next word's
log-probabilities for every row and the cache moved one word on;
``reorder`` picks cache rows (beam search keeps the rows of the surviving
hypotheses). `rnn_apps.tasks.seq2seq.translate` drives them.

Examples:
    >>> import numpy as np
    >>> from rnn_apps.layers import encoders
    >>> from rnn_apps.tasks import seq2seq
    >>> core = seq2seq.seq2seq(encoders.EncoderConfig(model="gru", units=4), 9, 8, 4, 3, embedding_dim=4)
    >>> decoder = for_core(core, start_id=2, prefix_length=3)
    >>> type(decoder).__name__
    'RecurrentDecoder'
    >>> cache = decoder.start(np.array([[3, 4, 0, 0], [5, 0, 0, 0]]))
    >>> log_probs, cache = decoder.step(cache, [[], []])
    >>> log_probs.shape
    (2, 8)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops


def find_core(model: keras.Model) -> keras.Model | None:
    """The encoder-decoder inside an inference model (or ``model`` itself), or `None`.

    The core is the model from `rnn_apps.tasks.seq2seq.seq2seq` (or one with
    its layer names) that `rnn_apps.tasks.seq2seq.inference_model` and
    `rnn_apps.tasks.seq2seq.id_inference_model` wrap; a saved model keeps
    it as a nested layer.

    Args:
        model: an inference model, or the core itself.

    Returns:
        The core, or `None` when there is no layer with the core's inputs
            (``source``, ``target``) and a ``logits`` layer.

    Examples:
        >>> from rnn_apps.layers import encoders
        >>> from rnn_apps.tasks import seq2seq
        >>> core = seq2seq.seq2seq(encoders.EncoderConfig(model="gru", units=4), 9, 8, 4, 3, embedding_dim=4)
        >>> find_core(seq2seq.id_inference_model(core, 3)) is core
        True
    """
    if not isinstance(model, keras.Model):
        return None  # another kind of translator: it decodes through its own predict_on_batch
    for candidate in [model, *(layer for layer in model.layers if isinstance(layer, keras.Model))]:
        inputs = candidate.input
        names = {layer.name for layer in candidate.layers}
        if isinstance(inputs, dict) and set(inputs) == {"source", "target"} and "logits" in names:
            return candidate
    return None


def for_core(core: keras.Model, start_id: int, prefix_length: int):
    """The decoder for a core: `RecurrentDecoder`, `ConvolutionalDecoder`, or `None` for another structure.

    Args:
        core: a model from `rnn_apps.tasks.seq2seq.seq2seq` (see `find_core`).
        start_id: id of ``[start]``, the decoder's first input word.
        prefix_length: target positions the core reads (the longest
            translation plus one); the convolutional decoder pads prefixes to it.
    """
    names = {layer.name for layer in core.layers}
    if {"decoder_state_h", "attention_keys", "attention", "attentional_state"} <= names:
        return RecurrentDecoder(core, start_id)
    if {"encoder_out", "encoder_values_scale"} <= names:
        return ConvolutionalDecoder(core, start_id, prefix_length)
    return None


def _log_softmax(x):
    """The log-probabilities as the inference model's ``log_probs`` layer computes them."""
    return layers.Activation("log_softmax", name="log_probs")(x)


def _state_count(cell) -> int:
    return len(cell.state_size) if isinstance(cell.state_size, (list, tuple)) else 1


class _CellStep(layers.Layer):
    """One step of a trained recurrent layer's cell (weights shared), its states in and out as a list.

    A layer of its own so each decoder layer's step has a unique name (the
    cells of a core's layers may share one, ``gru_cell``). The input word is
    never padding, so its mask is dropped.
    """

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell

    def call(self, inputs, states, mask=None):
        # The cell is built (trained); calling `call` skips the mask check of `__call__`.
        output, new = self.cell.call(inputs, states, training=False)
        return output, list(new) if isinstance(new, (list, tuple)) else [new]

    def compute_mask(self, inputs, states, mask=None):
        return None


class RecurrentDecoder:
    """Incremental decoding for a recurrent core: one decoder step per word, the encoder once.

    Built from the core's own layers, so it needs no training: the encoder
    model is the core's graph from ``source`` to the attention keys and the
    decoder's first state; the step model calls the cells of the core's
    decoder layers (``decoder_<cell>_<index>``) once, then its attention,
    ``decoder_with_context``, ``attentional_state`` and ``logits`` layers.
    The first decoder layer starts from ``decoder_state_h`` (and
    ``decoder_state_c``), the others from zeros, as in the core. Dropout
    layers are left out: they do nothing at inference.

    Attributes:
        encoder: ``source_ids -> {"encoded", "keys", "state_1_0", ...}``.
        step_model: ``{"word", "source_ids", "encoded", "keys", "state_I_J"...}
            -> {"log_probs", "attention", "state_I_J"...}``; ``state_I_J`` is
            state ``J`` (LSTM: 0 is h, 1 is c) of decoder layer ``I``.
        state_names: the ``state_I_J`` names, in order.

    Args:
        core: a recurrent model from `rnn_apps.tasks.seq2seq.seq2seq`.
        start_id: id of ``[start]``.

    Examples:
        >>> from rnn_apps.layers import encoders
        >>> from rnn_apps.tasks import seq2seq
        >>> config = encoders.EncoderConfig(model="lstm", units=4, num_layers=2)
        >>> decoder = RecurrentDecoder(seq2seq.seq2seq(config, 9, 8, 4, 3, embedding_dim=4), start_id=2)
        >>> decoder.state_names
        ['state_1_0', 'state_1_1', 'state_2_0', 'state_2_1']
    """

    def __init__(self, core: keras.Model, start_id: int):
        self.start_id = start_id
        keys_layer = core.get_layer("attention_keys")
        first_states = [core.get_layer("decoder_state_h").output]
        names = {layer.name for layer in core.layers}
        if "decoder_state_c" in names:
            first_states.append(core.get_layer("decoder_state_c").output)
        decoder_layers = sorted(
            (layer for layer in core.layers if layer.name.startswith("decoder_") and isinstance(layer, layers.RNN)),
            key=lambda layer: int(layer.name.rsplit("_", 1)[-1]),
        )
        counts = [_state_count(layer.cell) for layer in decoder_layers]
        if counts[0] != len(first_states):
            raise ValueError(f"Expected {counts[0]} first decoder states. Received: {len(first_states)}")
        self.state_names = [f"state_{index}_{j}" for index, count in enumerate(counts, 1) for j in range(count)]
        self._widths = {
            f"state_{index}_{j}": layer.cell.units
            for index, (layer, count) in enumerate(zip(decoder_layers, counts), 1)
            for j in range(count)
        }
        source = core.input["source"]
        outputs = {"encoded": keys_layer.input, "keys": keys_layer.output}
        outputs |= {f"state_1_{j}": state for j, state in enumerate(first_states)}
        self.encoder = keras.Model(source, outputs, name=f"{core.name}_encoder")
        self.step_model = self._step_model(core, decoder_layers, counts, keys_layer)

    def _step_model(self, core, decoder_layers, counts, keys_layer) -> keras.Model:
        encoded_width = keys_layer.input.shape[-1]
        inputs = {
            "word": keras.Input(shape=(), dtype="int32", name="word"),
            "source_ids": keras.Input(shape=(None,), dtype="int32", name="source_ids"),
            "encoded": keras.Input(shape=(None, encoded_width), name="encoded"),
            "keys": keras.Input(shape=(None, keys_layer.output.shape[-1]), name="keys"),
        }
        inputs |= {name: keras.Input(shape=(self._widths[name],), name=name) for name in self.state_names}
        outputs = {}
        y = core.get_layer("target_embedding")(inputs["word"])
        for index, (layer, count) in enumerate(zip(decoder_layers, counts), 1):
            names = [f"state_{index}_{j}" for j in range(count)]
            step = _CellStep(layer.cell, name=f"{layer.name}_step")
            y, states = step(y, [inputs[name] for name in names])
            outputs |= dict(zip(names, states))
        y = ops.expand_dims(y, 1)  # one time step, as the attention layers expect
        query = core.get_layer("attention_query")(y)
        # The encoder outputs come in as plain tensors: the padding mask is rebuilt from the ids.
        source_mask = ops.not_equal(inputs["source_ids"], 0)
        context, scores = core.get_layer("attention")(
            [query, inputs["encoded"], inputs["keys"]], mask=[None, source_mask], return_attention_scores=True
        )
        joined = core.get_layer("decoder_with_context")([y, context])
        logits = core.get_layer("logits")(core.get_layer("attentional_state")(joined))
        outputs["log_probs"] = _log_softmax(ops.squeeze(logits, 1))
        outputs["attention"] = ops.squeeze(scores, 1)
        return keras.Model(inputs, outputs, name=f"{core.name}_step")

    def start(self, source_ids, repeats: int = 1) -> dict:
        """Encode ``source_ids`` ``(batch, source_length)``; each row ``repeats`` times (beam search).

        Returns:
            The cache: source ids, encoder outputs and every decoder state.
        """
        source_ids = np.asarray(source_ids, dtype="int32")
        cache = {"source_ids": source_ids}
        cache |= {key: np.asarray(value) for key, value in self.encoder.predict_on_batch(source_ids).items()}
        rows = len(source_ids)
        for name in self.state_names:
            if name not in cache:  # later decoder layers start from zeros, as in the core
                cache[name] = np.zeros((rows, self._widths[name]), dtype="float32")
        return {key: np.repeat(value, repeats, axis=0) for key, value in cache.items()}

    def step(self, cache: dict, histories) -> tuple[np.ndarray, dict]:
        """Feed each row's last word (``[start]`` for an empty history); the next word's log-probabilities.

        Args:
            cache: from `start`, `step` or `reorder`, one row per history.
            histories: per row, the word ids decoded so far (``[start]``
                not included); only the last one is read.

        Returns:
            ``(log_probs, cache)``: ``(rows, vocabulary)`` float32 and the
                cache after that word.
        """
        words = np.array([history[-1] if history else self.start_id for history in histories], dtype="int32")
        out = self.step_model.predict_on_batch({"word": words, **cache})
        new = dict(cache)
        new |= {name: np.asarray(out[name]) for name in self.state_names}
        return np.asarray(out["log_probs"]), new

    @staticmethod
    def reorder(cache: dict, rows) -> dict:
        """The cache of rows ``rows`` (beam search's surviving hypotheses), in that order."""
        rows = np.asarray(rows)
        return {key: value[rows] for key, value in cache.items()}


class ConvolutionalDecoder:
    """ConvS2S decoding with the encoder output cached: the encoder once, the decoder over the prefix per word.

    The encoder model is the core's graph from ``source`` to the attention
    keys (``encoder_out``) and values (``encoder_values_scale``); the prefix
    model calls the core's decoder layers (``target_embedding`` ...
    ``decoder_conv_<index>_*`` ... ``logits``) on those two as inputs. The
    causal decoder still re-reads the prefix for every word.

    Args:
        core: a convolutional model from `rnn_apps.tasks.seq2seq.seq2seq`.
        start_id: id of ``[start]``.
        prefix_length: positions of the prefix (the longest translation plus one).
    """

    def __init__(self, core: keras.Model, start_id: int, prefix_length: int):
        self.start_id, self.prefix_length = start_id, prefix_length
        keys = core.get_layer("encoder_out").output
        values = core.get_layer("encoder_values_scale").output
        self.encoder = keras.Model(core.input["source"], {"keys": keys, "values": values}, name=f"{core.name}_encoder")
        inputs = {
            "source_ids": keras.Input(shape=(None,), dtype="int32", name="source_ids"),
            "prefix_ids": keras.Input(shape=(prefix_length,), dtype="int32", name="prefix_ids"),
            "keys": keras.Input(shape=(None, keys.shape[-1]), name="keys"),
            "values": keras.Input(shape=(None, values.shape[-1]), name="values"),
        }
        logits = self._decoder(core, inputs)
        # The next word is predicted at the prefix's last position.
        lengths = ops.sum(ops.cast(ops.not_equal(inputs["prefix_ids"], 0), "int32"), axis=1)
        last = ops.expand_dims(ops.one_hot(ops.maximum(lengths - 1, 0), prefix_length), -1)
        log_probs = _log_softmax(ops.sum(logits * last, axis=1))
        self.step_model = keras.Model(inputs, {"log_probs": log_probs}, name=f"{core.name}_prefix")

    @staticmethod
    def _decoder(core, inputs):
        """The core's decoder (dropout left out) on the prefix and the cached keys and values: the logits."""
        layer = core.get_layer
        prefix, keys, values = inputs["prefix_ids"], inputs["keys"], inputs["values"]
        source_mask = ops.not_equal(inputs["source_ids"], 0)
        places = ops.cumsum(ops.ones_like(prefix), axis=1) - 1
        embedded = layer("target_embedded")([layer("target_embedding")(prefix), layer("target_positions")(places)])
        y = layer("decoder_in")(embedded)
        names = {candidate.name for candidate in core.layers}
        index = 1
        while f"decoder_conv_{index}_linear" in names:
            block = f"decoder_conv_{index}"
            glu = layer(f"{block}_glu")([layer(f"{block}_linear")(y), layer(f"{block}_gate")(y)])
            h = layer(f"{block}_scale")(layer(f"{block}_residual")([y, glu]))
            query = layer(f"{block}_query")([layer(f"{block}_to_query")(h), embedded])
            context = layer(f"{block}_attention")(
                [layer(f"{block}_query_scale")(query), values, keys], mask=[None, source_mask]
            )
            context = layer(f"{block}_from_context")(context)
            y = layer(f"{block}_with_context")(layer(f"{block}_add_context")([h, context]))
            index += 1
        return layer("logits")(layer("decoder_out")(y))

    def start(self, source_ids, repeats: int = 1) -> dict:
        """Encode ``source_ids`` once; each row ``repeats`` times (beam search)."""
        source_ids = np.asarray(source_ids, dtype="int32")
        cache = {"source_ids": source_ids}
        cache |= {key: np.asarray(value) for key, value in self.encoder.predict_on_batch(source_ids).items()}
        return {key: np.repeat(value, repeats, axis=0) for key, value in cache.items()}

    def step(self, cache: dict, histories) -> tuple[np.ndarray, dict]:
        """The next word's log-probabilities after ``[start]`` and each row's history (word ids)."""
        prefix = np.zeros((len(histories), self.prefix_length), dtype="int32")
        for row, history in enumerate(histories):
            ids = [self.start_id, *history][: self.prefix_length]
            prefix[row, : len(ids)] = ids
        out = self.step_model.predict_on_batch({"prefix_ids": prefix, **cache})
        return np.asarray(out["log_probs"]), cache

    reorder = staticmethod(RecurrentDecoder.reorder)
