"""Keras backends: what each can hold inside a saved model, and text ids without TensorFlow.

The cookbook runs on the three Keras 3 backends (``KERAS_BACKEND`` =
``tensorflow``, ``jax`` or ``torch``). Factories, heads and the training
harness are the same everywhere; what differs is what a saved model may
contain. Only TensorFlow has string tensors, so a `TextVectorization` or
`StringLookup` inside a model (the raw-string models the text recipes save
by default) needs the TensorFlow backend. Under JAX or PyTorch the text
recipes save the integer-id model instead, with its vocabulary beside it in
``<model>.vocabulary.json``; `WordVectorizer` turns raw text into the same
ids in plain Python (`TaggerModel` does the lookups of a tagger,
`rnn_apps.tasks.seq2seq.IdTranslator` those of a translator's source sentence and
target prefix), so predicting needs neither TensorFlow nor string tensors.
Every recipe runs on every backend (`ON_OTHER_BACKENDS`; `NEEDS_TENSORFLOW`
is empty).

Preprocessing once with TensorFlow and training from the ids anywhere
(``python -m bench.text_arrays``) builds on these pieces.

Examples:
    >>> words = WordVectorizer(["film", "good"], sequence_length=4)
    >>> words(["A good, GOOD film!", "bad"]).tolist()
    [[1, 3, 3, 2], [1, 0, 0, 0]]
"""

from __future__ import annotations

import json
import os
import pathlib
import re

import keras
import numpy as np

from rnn_apps import errors

STRING_BACKENDS = ("tensorflow",)
"""Backends whose models can take raw strings (string tensors)."""

NEEDS_TENSORFLOW: dict[str, str] = {}
"""Recipes that run on the TensorFlow backend only, and why."""

ON_OTHER_BACKENDS = {
    "sentiment": "saves the integer-id model and its vocabulary (`<model>.vocabulary.json`); predict takes raw text",
    "text_analysis": "saves the integer-id tagger and its vocabularies (`<model>.vocabulary.json`); predict takes text",
    "speech": "unchanged",
    "stocks": "unchanged",
    "video": "unchanged",
    "translation": "saves the integer-id inference model and both vocabularies (`<model>.vocabulary.json`); "
    "decoding and predict take raw text",
}
"""Recipes that run on JAX and PyTorch too, and what differs there."""

# The punctuation `TextVectorization(standardize="lower_and_strip_punctuation")`
# removes, and the ASCII whitespace `tf.strings.split` splits on.
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def name() -> str:
    """The running Keras backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


def strings_in_models(backend: str | None = None) -> bool:
    """Whether a model can take raw strings on ``backend`` (default: the running one).

    Examples:
        >>> strings_in_models("jax"), strings_in_models("tensorflow")
        (False, True)
    """
    return (backend or name()) in STRING_BACKENDS


def vocabulary_path(model_path: str | os.PathLike) -> pathlib.Path:
    """Where the vocabulary of an integer-id text model lies: ``<model>.vocabulary.json``."""
    return pathlib.Path(model_path).with_suffix(".vocabulary.json")


class WordVectorizer:
    """Text to word ids in plain Python, as `TextVectorization` does it.

    Standardization lower-cases ASCII letters and strips ASCII punctuation
    (``"lower_and_strip_punctuation"``), words are split on whitespace, id 0
    is padding and id 1 any word outside the vocabulary; texts are cut or
    right-padded to ``sequence_length``.

    Args:
        vocabulary: the words, most frequent first, without ``""`` and
            ``"[UNK]"``.
        sequence_length: ids per text.
        standardize: ``"lower_and_strip_punctuation"``, ``"lower"``,
            ``"strip_punctuation"`` or `None`.
    """

    def __init__(self, vocabulary, sequence_length: int, standardize: str | None = "lower_and_strip_punctuation"):
        errors.check_positive(sequence_length, "sequence_length")
        choices = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
        if standardize not in choices:
            raise errors.expected(f"one of {list(choices)}", standardize, name="standardize")
        self.vocabulary = [str(word) for word in vocabulary]
        self.sequence_length = int(sequence_length)
        self.standardize = standardize
        self._ids = {word: index + 2 for index, word in enumerate(self.vocabulary)}

    @classmethod
    def from_layer(cls, layer, sequence_length: int) -> WordVectorizer:
        """The same vectorization as an adapted `keras.layers.TextVectorization`."""
        config = layer.get_config()
        if config.get("split") != "whitespace" or config.get("ngrams"):
            raise errors.expected("a whitespace-split TextVectorization without ngrams", config.get("split"))
        return cls(layer.get_vocabulary(include_special_tokens=False), sequence_length, config["standardize"])

    def vocabulary_size(self) -> int:
        """Ids in use, padding and out-of-vocabulary included."""
        return len(self.vocabulary) + 2

    def words(self, text: str) -> list[str]:
        """The standardized words of one text."""
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.translate(_ASCII_LOWER)
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = _PUNCTUATION.sub("", text)
        return [word for word in _WHITESPACE.split(text) if word]

    def __call__(self, texts) -> np.ndarray:
        """``(len(texts), sequence_length)`` int32 ids, right-padded with 0."""
        ids = np.zeros((len(texts), self.sequence_length), dtype="int32")
        for row, text in enumerate(texts):
            found = [self._ids.get(word, 1) for word in self.words(str(text))][: self.sequence_length]
            ids[row, : len(found)] = found
        return ids

    def to_config(self) -> dict:
        return {
            "vocabulary": self.vocabulary,
            "sequence_length": self.sequence_length,
            "standardize": self.standardize,
        }

    def save(self, path: str | os.PathLike) -> pathlib.Path:
        """Write the vocabulary and settings as JSON (atomically)."""
        from rnn_apps import io

        return io.write_json(path, self.to_config())

    @classmethod
    def load(cls, path: str | os.PathLike) -> WordVectorizer:
        config = json.loads(pathlib.Path(path).read_text())
        return cls(config["vocabulary"], config["sequence_length"], config.get("standardize"))


class TextModel:
    """An integer-id model and its `WordVectorizer`, called on raw texts.

    Stands in for a raw-string model where the backend has no string
    tensors: ``predict_on_batch(texts)`` vectorizes in Python, then runs
    the model.
    """

    def __init__(self, model: keras.Model, vectorizer: WordVectorizer):
        self.model = model
        self.vectorizer = vectorizer
        self.name = model.name
        # What a caller feeds: one raw text per row, as to a string model.
        self.inputs = [keras.KerasTensor((None,), dtype="string", name="text")]

    def predict_on_batch(self, texts):
        return keras.ops.convert_to_numpy(self.model.predict_on_batch(self.vectorizer(list(texts))))


def takes_strings(model: keras.Model) -> bool:
    """Whether a model's (first) input is a string tensor."""
    inputs = model.inputs if isinstance(model.inputs, list) else [model.inputs]
    return "string" in str(inputs[0].dtype)


def load_text_model(model_path: str | os.PathLike):
    """Load a text model saved by a recipe: the raw-string model or `TextModel`.

    A model with a ``.vocabulary.json`` beside it (saved under JAX or
    PyTorch) is wrapped with its `WordVectorizer`; a raw-string model is
    returned as it is (it needs the TensorFlow backend).
    """
    model = keras.models.load_model(model_path)
    sidecar = vocabulary_path(model_path)
    if not takes_strings(model) and sidecar.exists():
        return TextModel(model, WordVectorizer.load(sidecar))
    return model


def save_text_model(core: keras.Model, vectorizer, sequence_length: int, path, string_model=None):
    """Save a text classifier the way the running backend allows.

    On TensorFlow ``string_model()`` (the raw-string model) is saved. On
    other backends the integer-id ``core`` is saved and its vocabulary is
    written to ``<path>.vocabulary.json``.

    Args:
        core: the trained integer-id model.
        vectorizer: the adapted `TextVectorization` (or a `WordVectorizer`).
        sequence_length: ids per text the saved model reads.
        path: the ``.keras`` file.
        string_model: callable returning the raw-string model (TensorFlow).

    Returns:
        ``(model, path)``: what to predict with (a Keras model or a
            `TextModel`) and the saved file.
    """
    from rnn_apps import io

    if string_model is not None and strings_in_models():
        model = string_model()
        return model, io.save_model(model, path)
    words = vectorizer
    if not isinstance(words, WordVectorizer):
        words = WordVectorizer.from_layer(vectorizer, sequence_length)
    saved = io.save_model(core, path)
    words.save(vocabulary_path(saved))
    return TextModel(core, words), saved


class TaggerModel:
    """An integer-id tagger and its vocabularies, called on token strings.

    Takes what a raw-string tagger takes (`rnn_apps.data.tokenization.model_inputs`:
    ``tokens`` and, with character features, ``characters``, padded with
    ``""``) and looks the strings up in Python as `StringLookup` would:
    ``""`` is 0, an unknown item 1, vocabulary item ``i`` is ``i + 2``.
    """

    def __init__(self, model: keras.Model, words, chars=None, lowercase: bool = False):
        self.model, self.lowercase, self.name = model, lowercase, model.name
        self.words = {word: index + 2 for index, word in enumerate(words)} | {"": 0}
        self.chars = {char: index + 2 for index, char in enumerate(chars or [])} | {"": 0}
        self.output_shape = model.output_shape
        # What a caller feeds, as to the raw-string tagger.
        self.inputs = [keras.KerasTensor((None, None), dtype="string", name="tokens")]
        if chars:
            char_length = model.inputs[1].shape[-1] if len(model.inputs) > 1 else None
            self.inputs.append(keras.KerasTensor((None, None, char_length), dtype="string", name="characters"))

    def _lookup(self, strings, index, lower=False):
        strings = np.asarray(strings, dtype=object)
        found = [index.get(s.translate(_ASCII_LOWER) if lower and s else s, 1) for s in strings.ravel().tolist()]
        return np.asarray(found, dtype="int32").reshape(strings.shape)

    def ids(self, inputs: dict) -> dict:
        """The id model's inputs (``token_ids``, ``char_ids``) for raw-string inputs."""
        feed = {"token_ids": self._lookup(inputs["tokens"], self.words, self.lowercase)}
        if "characters" in inputs:
            feed["char_ids"] = self._lookup(inputs["characters"], self.chars)
        return feed

    def predict_on_batch(self, inputs: dict):
        feed = self.ids(inputs)
        # A direct call, not predict_on_batch: a CRF tagger's decoder shares the CRF's
        # variables, and JAX's compiled predict step refuses a variable passed twice.
        return keras.ops.convert_to_numpy(self.model(feed, training=False))

    def save_vocabularies(self, path: str | os.PathLike) -> pathlib.Path:
        from rnn_apps import io

        by_id = lambda index: [item for item, _ in sorted(index.items(), key=lambda pair: pair[1]) if item]  # noqa: E731
        chars = by_id(self.chars) or None
        return io.write_json(path, {"words": by_id(self.words), "chars": chars, "lowercase": self.lowercase})


def load_tagger(model_path: str | os.PathLike):
    """Load a tagger saved by the text-analysis recipe: the raw-string model or a `TaggerModel`."""
    model = keras.models.load_model(model_path)
    sidecar = vocabulary_path(model_path)
    if not takes_strings(model) and sidecar.exists():
        saved = json.loads(sidecar.read_text())
        return TaggerModel(model, saved["words"], saved.get("chars"), saved.get("lowercase", False))
    return model
