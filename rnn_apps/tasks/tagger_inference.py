"""Around the models of `rnn_apps.tasks.taggers`: saving, tagging, scoring, showing.

A `rnn_apps.tasks.taggers.tagger` reads ids. `save_tagger` saves it the way
the running backend allows (a model taking token strings on TensorFlow; the
id model and its vocabularies elsewhere), so one file predicts on tokens.
`predict_tags` tags tokenized sentences with a saved tagger;
`tokenized_sentences`, `read_settings` and `predict` check what
``rnn-apps predict`` is given and make what it prints (`prediction_rows`);
`TagStream` tags one token at a time for ``rnn-apps stream``.
`most_frequent_tag` is the naive baseline's result, `per_type_f1` the
scores of the per-type chart, and `render_examples` a few test sentences
with every model's tags as markdown.

Examples:
    >>> prediction_rows(["Anna sang."], [["Anna", "sang", "."]], [["B-PER", "O", "O"]], "iob2")
    [{'text': 'Anna sang.', 'tagged': 'Anna/B-PER sang/O ./O', 'entities': 'PER: Anna'}]
"""

from __future__ import annotations

import pathlib
import time

import keras
import numpy as np

from rnn_apps import backend, errors, io, metrics, streaming
from rnn_apps.data import iob, tokenization
from rnn_apps.harness import compare, training
from rnn_apps.layers import crf as crf_module
from rnn_apps.tasks import taggers


def save_tagger(core, path, vocabulary, settings: dict, name: str | None = None):
    """Save a trained tagger so that it takes token strings, with its settings beside it.

    On TensorFlow the `rnn_apps.tasks.taggers.string_tagger` is saved. JAX
    and PyTorch have no string tensors: the `rnn_apps.tasks.taggers.id_tagger`
    is saved, its vocabularies beside it (``<path>.vocabulary.json``), and a
    `rnn_apps.backend.TaggerModel` looks the strings up in Python. The
    ``.json`` file beside the model holds ``settings`` (the tag names and
    scheme, say), the characters kept per word and the tokenizer, which
    ``rnn-apps predict`` reads back with `read_settings`.

    Args:
        core: the trained id tagger.
        path: the ``.keras`` file.
        vocabulary: a `rnn_apps.data.token_vocabulary.TaggingVocabulary`.
        settings: what to write beside the model (``tag_names`` at least).
        name: model name; defaults to ``core.name``.

    Returns:
        ``(model, path)``: what to predict with and the saved file.
    """
    words, chars, lowercase = vocabulary.words, vocabulary.chars, vocabulary.lowercase
    if backend.strings_in_models():
        model = taggers.string_tagger(core, words, chars, lowercase=lowercase, name=name)
        path = io.save_model(model, path)
    else:
        model = backend.TaggerModel(taggers.id_tagger(core, name=name), words, chars, lowercase)
        path = io.save_model(model.model, path)
        model.save_vocabularies(backend.vocabulary_path(path))
    tokenizer = "rnn_apps.data.tokenization.tokenize"
    io.write_json(path.with_suffix(".json"), settings | {"char_length": vocabulary.char_length, "tokenizer": tokenizer})
    return model, path


def tokenized_sentences(texts) -> tuple[list[str], list[list[str]]]:
    """Raw sentences and their tokens (`rnn_apps.data.tokenization.tokenize`), each with a token.

    Raises:
        rnn_apps.errors.InputError: no sentence, or a sentence without any
            word or symbol.

    Examples:
        >>> tokenized_sentences(["Hi, Anna."])
        (['Hi, Anna.'], [['Hi', ',', 'Anna', '.']])
    """
    texts = [str(text) for text in texts]
    if not texts:
        raise errors.expected("at least one sentence", "none")
    token_lists = [tokenization.tokenize(text) for text in texts]
    for text, tokens in zip(texts, token_lists):
        if not tokens:
            raise errors.expected("a sentence with at least one word or symbol", text)
    return texts, token_lists


def read_settings(model_path) -> dict:
    """The ``.json`` file a recipe saved beside a tagger: ``tag_names``, ``scheme``, ``char_length``, ``crf``.

    Raises:
        rnn_apps.errors.InputError: the file is missing, unreadable or has
            no ``tag_names``.
    """
    sidecar = pathlib.Path(model_path).with_suffix(".json")
    if not sidecar.is_file():
        raise errors.expected(f"the tag list {sidecar.name} saved beside the model", "no such file")
    return errors.read_json(sidecar, keys=("tag_names",))


def predict(model, settings: dict, model_path, texts, token_lists) -> list[dict]:
    """Tag raw sentences with a loaded tagger: one `prediction_rows` dict per sentence.

    Args:
        model: the tagger loaded from ``model_path``.
        settings: its `read_settings`.
        model_path: its file, for messages.
        texts, token_lists: from `tokenized_sentences`.

    Raises:
        rnn_apps.errors.InputError: the model's inputs or tag count do not
            fit the settings saved beside it.
    """
    check_tagger(model, settings, model_path)
    tags = predict_tags(model, token_lists, settings["tag_names"], settings.get("char_length"))
    return prediction_rows(texts, token_lists, tags, settings.get("scheme"))


def check_tagger(model, settings: dict, model_path) -> None:
    """Raise `rnn_apps.errors.InputError` unless ``model``'s inputs and tag count fit its `read_settings`."""
    names = ("tokens", "characters") if settings.get("char_length") else ("tokens",)
    errors.check_model_inputs(model, model_path, ranks=(2, 3)[: len(names)], dtype="string", names=names)
    if model.output_shape[-1] != len(settings["tag_names"]):
        sidecar = pathlib.Path(model_path).with_suffix(".json").name
        raise errors.expected(f"{model.output_shape[-1]} tag names in {sidecar}", settings["tag_names"])


def predict_tags(model, token_lists, tag_names, char_length=None, batch_size: int = 256) -> list[list[str]]:
    """Tags of tokenized sentences from a saved tagger, in order.

    Sentences are batched by length (less padding), then put back in order.

    Args:
        model: a saved tagger (raw-string model or `rnn_apps.backend.TaggerModel`).
        token_lists: one list of tokens per sentence.
        tag_names: tag id ``i`` is ``tag_names[i]``.
        char_length: characters per token, for a tagger with character features.
        batch_size: sentences per call.

    Returns:
        One list of tags per sentence, as long as its tokens.
    """
    order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
    tags = [None] * len(token_lists)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = [token_lists[i] for i in rows]
        scores = np.asarray(model.predict_on_batch(tokenization.model_inputs(batch, char_length)))
        for row, tokens, best in zip(rows, batch, scores.argmax(-1)):
            tags[row] = [tag_names[int(i)] for i in best[: len(tokens)]]
    return tags


def id_core(model) -> keras.Model:
    """The id tagger (a `rnn_apps.tasks.taggers.tagger`) inside a saved tagger.

    Args:
        model: a saved tagger as loaded: the raw-string model (TensorFlow)
            or a `rnn_apps.backend.TaggerModel`.

    Raises:
        rnn_apps.errors.InputError: no Functional model is nested inside.
    """
    outer = model.model if isinstance(model, backend.TaggerModel) else model
    cores = [layer for layer in getattr(outer, "layers", []) if isinstance(layer, keras.Model)]
    if len(cores) != 1:
        raise errors.expected("a tagger saved by the text-analysis recipe (one id tagger inside)", outer.name)
    return cores[0]


def lookup_ids(model, inputs: dict) -> dict[str, np.ndarray]:
    """The word (and character) ids a saved tagger gives its id tagger, from its own lookups.

    The raw-string model's ``word_lookup`` and ``char_lookup`` layers (the
    vocabularies and lower-casing saved in it) are called on the strings;
    a `rnn_apps.backend.TaggerModel` looks them up as its predictions do.

    Args:
        model: a saved tagger as loaded (see `id_core`).
        inputs: `rnn_apps.data.tokenization.model_inputs` of some tokens.

    Returns:
        ``{"token_ids"[, "char_ids"]}`` int32 arrays, shaped as ``inputs``.
    """
    if isinstance(model, backend.TaggerModel):
        feed = model.ids(inputs)
    else:
        feed = {"token_ids": model.get_layer("word_lookup")(inputs["tokens"])}
        if "characters" in inputs:
            feed["char_ids"] = model.get_layer("char_lookup")(inputs["characters"])
    return {name: keras.ops.convert_to_numpy(ids).astype("int32") for name, ids in feed.items()}


def _needs_the_future(core: keras.Model) -> str | None:
    """Why a tagger cannot tag a token before the sentence is complete, or `None`."""
    for layer in core.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            return (
                f"its layer {layer.name!r} is bidirectional: it also reads each sentence backwards, from its "
                "end, so no tag is known before the last token"
            )
        if isinstance(layer, keras.layers.Conv1D) and layer.kernel_size[0] > 1:
            return (
                f"its layer {layer.name!r} is a convolution over the tokens on both sides of each token, so a "
                "tag waits for the tokens after it"
            )
    return None


def filtered_probabilities(alpha, emissions, transitions, start):
    """One step of the CRF forward algorithm: new log scores and p(tag of this token | tokens so far).

    ``alpha`` holds, per tag, the log of the summed exp(score) of every tag
    path over the tokens so far that ends in that tag (`None` before the
    first token). Normalised, it is the probability of each tag for the
    newest token given the tokens up to it: the forward-filtered
    distribution. Its argmax need not be the tag the Viterbi path of the
    whole sentence gives that token, which also weighs the tokens after it.

    Args:
        alpha: ``(num_tags,)`` log scores after the previous token, or `None`.
        emissions: ``(num_tags,)`` emission scores of the new token.
        transitions: ``(num_tags, num_tags)``; ``[i, j]`` scores tag ``i``
            followed by tag ``j``.
        start: ``(num_tags,)`` scores of each tag as the first one.

    Returns:
        ``(alpha, probabilities)`` after the new token.

    Examples:
        >>> zeros = np.zeros(2)
        >>> alpha, p = filtered_probabilities(None, np.array([0.0, np.log(3.0)]), np.zeros((2, 2)), zeros)
        >>> p.round(2).tolist()
        [0.25, 0.75]
        >>> big = np.array([[0.0, -50.0], [-50.0, 0.0]])  # the tag never changes
        >>> filtered_probabilities(alpha, zeros, big, zeros)[1].round(2).tolist()
        [0.25, 0.75]
    """
    emissions = np.asarray(emissions, "float64")
    if alpha is None:
        alpha = np.asarray(start, "float64") + emissions
    else:
        scores = alpha[:, None] + np.asarray(transitions, "float64")
        top = scores.max(axis=0)
        alpha = top + np.log(np.exp(scores - top).sum(axis=0)) + emissions
    probabilities = np.exp(alpha - alpha.max())
    return alpha, probabilities / probabilities.sum()


class TagStream:
    """Tag tokens one at a time, left to right, with a saved unidirectional recurrent tagger.

    The id tagger inside the saved model runs as a `rnn_apps.streaming`
    step model: each token is looked up as the saved model looks it up
    (`lookup_ids`), fed with the states the previous token left, and its tag
    comes out before the next token is read. With a softmax head the tag
    and its probability are exactly those of the whole sentence (within
    float32 rounding). A CRF head decodes the whole sentence with Viterbi,
    which needs the tokens after each one; here its tags are
    forward-filtered instead (`filtered_probabilities`): the most probable
    tag of each token given the tokens up to it, which can differ from the
    Viterbi path of the finished sentence.

    Args:
        model: a saved tagger as loaded (the raw-string model, or a
            `rnn_apps.backend.TaggerModel`).
        tag_names: tag id ``i`` is ``tag_names[i]``.
        char_length: characters per token, for a tagger with character
            features.

    Attributes:
        filtered: the tagger has a CRF head, so its tags are forward-filtered.

    Raises:
        rnn_apps.errors.InputError: a bidirectional or CNN tagger (each tag
            needs the tokens after it), or another layer that reads across
            tokens.
    """

    def __init__(self, model, tag_names, char_length: int | None = None):
        self.model, self.tag_names, self.char_length = model, list(tag_names), char_length
        core = id_core(model)
        reason = _needs_the_future(core)
        if reason:
            raise errors.InputError(
                "Expected a tagger that reads left to right (a recurrent --model trained with --unidirectional) "
                f"to stream. Received: {core.name!r}: {reason}"
            )
        crf = next((layer for layer in core.layers if isinstance(layer, crf_module.CRF)), None)
        self.filtered = crf is not None
        if crf is not None:
            self.crf_scores = [keras.ops.convert_to_numpy(w) for w in (crf.transitions, crf.start)]
            core = keras.Model(core.input, crf.input, name=f"{core.name}_emissions")
        self.stream = streaming.Stream(core)
        self.input_names = [tensor.name for tensor in self.stream.step_model.inputs[: self.stream.num_step_inputs]]

    def tag(self, tokens):
        """Yield ``(tag, probability)`` for each of ``tokens`` (one sentence), each as soon as it is computed."""
        self.stream.reset()
        alpha = None
        for token in tokens:
            ids = lookup_ids(self.model, tokenization.model_inputs([[token]], self.char_length))
            scores = np.asarray(self.stream.step(*(ids[name] for name in self.input_names)))[0, 0]
            if self.filtered:
                alpha, scores = filtered_probabilities(alpha, scores, *self.crf_scores)
            best = int(np.argmax(scores))
            yield self.tag_names[best], float(scores[best])


def prediction_rows(texts, token_lists, tag_lists, scheme: str | None) -> list[dict]:
    """One dict per sentence: ``text``; ``tagged`` (``Paris/B-LOC`` per token); ``entities``.

    ``entities`` holds the spans as ``TYPE: words`` joined by ``"; "``
    (empty for plain tags or when there are none).
    """
    rows = []
    for text, tokens, tags in zip(texts, token_lists, tag_lists):
        spans = iob.entity_spans(tokens, tags) if scheme == "iob2" else []
        rows.append(
            {
                "text": text,
                "tagged": " ".join(f"{token}/{tag}" for token, tag in zip(tokens, tags)),
                "entities": "; ".join(f"{kind}: {words}" for kind, _, _, words in spans),
            }
        )
    return rows


def most_frequent_tag(train, test, scheme: str = "iob2") -> tuple[compare.ModelResult, list[list[str]]]:
    """The naive baseline (`rnn_apps.tasks.taggers.MostFrequentTag`): its result on ``test`` and its tags.

    Args:
        train: the training sentences, ``(tokens, tags)`` each.
        test: the test sentences, ``(tokens, tags)`` each.
        scheme: ``"iob2"`` or ``"plain"`` (see `rnn_apps.metrics.tagging_metrics`).

    Examples:
        >>> sentences = [(["Anna", "sang"], ["B-PER", "O"])]
        >>> result, predicted = most_frequent_tag(sentences, sentences)
        >>> result.name, result.metrics["entity_f1"], predicted
        ('most_frequent_tag', 1.0, [['B-PER', 'O']])
    """
    start = time.perf_counter()
    baseline = taggers.MostFrequentTag(train)
    seconds = time.perf_counter() - start
    tokens = [tokens for tokens, _ in test]
    predicted = baseline.predict(tokens)
    result = compare.ModelResult(
        name="most_frequent_tag",
        metrics=metrics.tagging_metrics([tags for _, tags in test], predicted, scheme),
        params=0,
        train_seconds=round(seconds, 3),
        predict_ms_per_sample=round(training.time_predict(baseline.predict, tokens[:512]), 6),
        fast_kernel=None,
    )
    return result, predicted


def per_type_f1(results: dict, test, predictions: dict, tag_names, scheme: str) -> dict[str, dict[str, float]]:
    """Model name -> {entity type (or tag): F1}, for the per-type bar chart.

    Args:
        results: model name -> its test metrics (`rnn_apps.metrics.tagging_metrics`).
        test: the test sentences, ``(tokens, tags)`` each.
        predictions: model name -> predicted tags per test sentence.
        tag_names: every tag.
        scheme: for ``"iob2"`` the metrics' ``f1_<TYPE>`` entries are used;
            for plain tags the F1 of each tag is computed from ``predictions``.

    Examples:
        >>> per_type_f1({"m": {"entity_f1": 1.0, "f1_PER": 1.0}}, [], {}, ["O", "B-PER"], "iob2")
        {'m': {'PER': 1.0}}
    """
    if scheme == "iob2":
        return {
            name: {key[3:]: value for key, value in values.items() if key.startswith("f1_")}
            for name, values in results.items()
        }
    from sklearn import metrics as sk_metrics

    gold = [tag for _, tags in test for tag in tags]
    scores = {}
    for name, predicted in predictions.items():
        flat = [tag for tags in predicted for tag in tags]
        values = sk_metrics.f1_score(gold, flat, labels=tag_names, average=None, zero_division=0)
        scores[name] = dict(zip(tag_names, map(float, values)))
    return scores


def render_examples(test, predictions: dict, scheme: str, count: int) -> str:
    """Markdown: a few test sentences with gold and predicted tags, one row per model.

    Sentences with entities (or any, for plain tags) come first, in test
    order; a predicted tag that differs from the gold one is starred.

    Args:
        test: the test sentences, ``(tokens, tags)`` each.
        predictions: model name -> predicted tags per test sentence.
        scheme: ``"iob2"`` or ``"plain"``.
        count: sentences shown.

    Examples:
        >>> text = render_examples([(["Anna", "sang"], ["B-PER", "O"])], {"m": [["O", "O"]]}, "iob2", 1)
        >>> print(text.splitlines()[-3])
        | m | O* | O |
    """
    chosen = [i for i, (_, tags) in enumerate(test) if scheme != "iob2" or set(tags) != {"O"}]
    chosen = (chosen + [i for i in range(len(test)) if i not in chosen])[:count]
    lines = ["# Example test sentences", "", "Gold and predicted tags; `*` marks a wrong tag.", ""]
    for number in chosen:
        tokens, gold = test[number]
        lines += [f"## Test sentence {number + 1}", "", "| | " + " | ".join(tokens) + " |"]
        lines.append("|---|" + "---|" * len(tokens))
        lines.append("| gold | " + " | ".join(gold) + " |")
        for name, predicted in predictions.items():
            cells = [tag if tag == want else f"{tag}*" for tag, want in zip(predicted[number], gold)]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if scheme == "iob2":
            spans = iob.entity_spans(tokens, gold)
            lines += ["", "Gold entities: " + ("; ".join(f"{kind} {text}" for kind, _, _, text in spans) or "none")]
        lines.append("")
    return "\n".join(lines)
