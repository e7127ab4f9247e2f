"""Running the models of `rnn_apps.tasks.seq2seq`: saving, scoring, predicting, attention maps, the copy baseline.

A trained encoder-decoder is saved by `save_translator` as a model that
translates raw strings (or, on backends without string tensors, as an id
model with its vocabularies beside it; `rnn_apps.tasks.seq2seq.load_translator`
reads either). `score` compares translations with references by BLEU and
chrF (sacreBLEU's standard protocol on detokenised output, and on
lower-cased tokenized text) and exact match, and `validation_score` does so
after every training epoch, so early stopping and ``--tune`` can follow
BLEU; `copy_source` is the baseline every model must beat: the
source sentence, unchanged. `check_sentences` and `predict` are what
``rnn-apps predict translation`` does with raw sentences, and
`attention_panels` what ``attention.png`` draws.

Examples:
    >>> score(["le chat noir ."], ["Le chat noir."])["exact_match"]
    1.0
    >>> result = copy_source(["The red car."], ["La voiture rouge."])
    >>> result.name, result.params, result.metrics["exact_match"]
    ('copy_source', 0, 0.0)
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from rnn_apps import backend, errors, io, metrics
from rnn_apps.data import parallel
from rnn_apps.harness import compare
from rnn_apps.tasks import seq2seq


def save_translator(
    core, source_vocabulary, target_vocabulary, source_length: int, target_length: int, path, name=None
):
    """Save a trained encoder-decoder as a model that translates raw strings.

    On TensorFlow the saved model holds both vectorizers and takes raw
    strings (`rnn_apps.tasks.seq2seq.inference_model`), so
    `keras.models.load_model` reads it in a fresh process without this
    package. JAX and PyTorch have no string tensors: there the id model is
    saved with both vocabularies beside it in ``<model>.vocabulary.json``
    (`rnn_apps.tasks.seq2seq.IdTranslator`).

    Args:
        core: a model from `rnn_apps.tasks.seq2seq.seq2seq` (or one with the
            same inputs and outputs).
        source_vocabulary, target_vocabulary: from
            `rnn_apps.data.parallel.make_vocabularies`.
        source_length: source words the model reads.
        target_length: prefix positions: the longest translation plus one.
        path: the ``.keras`` file.
        name: model name (default ``core.name``).

    Returns:
        ``(translator, path)``: the inference model and where it was saved.
    """
    if backend.strings_in_models():
        translator = seq2seq.inference_model(
            core,
            parallel.source_vectorizer(source_vocabulary, source_length),
            parallel.target_vectorizer(target_vocabulary, target_length),
            name=name,
        )
        return translator, io.save_model(translator, path)
    translator = seq2seq.IdTranslator.build(
        core, source_vocabulary, target_vocabulary, source_length, target_length, name=name
    )
    return translator, translator.save(path)


TOKENIZED = "on text lower-cased with punctuation split off (rnn_apps.data.parallel.tokenize)"
"""What the ``*_lowercase_tokenized`` metrics add to their sacreBLEU signature."""


def score_with_signatures(hypotheses: list[str], references: list[str]) -> tuple[dict[str, float], dict[str, str]]:
    """`score`'s metrics and the sacreBLEU signature of each BLEU and chrF figure.

    Examples:
        >>> scores, signatures = score_with_signatures(["a man rides a horse ."], ["A man rides a horse."])
        >>> scores["bleu"], scores["bleu_lowercase_tokenized"], signatures["bleu"].split("|")[3]
        (100.0, 100.0, 'tok:13a')
    """
    standard, standard_signatures = metrics.translation_metrics(
        [parallel.detokenize(h) for h in hypotheses], references
    )
    tokenized, tokenized_signatures = metrics.translation_metrics(
        hypotheses, [parallel.tokenize(r) for r in references], tokenize="none"
    )
    scores = {
        "bleu": standard["bleu"],
        "chrf": standard["chrf"],
        "exact_match": tokenized["exact_match"],
        "bleu_lowercase_tokenized": tokenized["bleu"],
        "chrf_lowercase_tokenized": tokenized["chrf"],
    }
    signatures = {
        "bleu": standard_signatures["bleu"],
        "chrf": standard_signatures["chrf"],
        "bleu_lowercase_tokenized": f"{tokenized_signatures['bleu']} {TOKENIZED}",
        "chrf_lowercase_tokenized": f"{tokenized_signatures['chrf']} {TOKENIZED}",
    }
    return scores, signatures


def score(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    """Corpus BLEU and chrF by sacreBLEU's standard protocol, and the same on lower-cased tokenized text.

    The models write lower-cased words with punctuation split off
    (`rnn_apps.data.parallel.tokenize`). ``bleu`` and ``chrf`` are the
    headline figures, comparable with other systems': the output is
    detokenised (`rnn_apps.data.parallel.detokenize`) and scored, cased,
    against the raw ``references`` with sacreBLEU's default 13a tokenizer.
    ``bleu_lowercase_tokenized`` and ``chrf_lowercase_tokenized`` score the
    output as written against references tokenized the same way (sacreBLEU
    ``tokenize="none"``), the protocol of the Multi30k tutorials' numbers;
    it forgives case and punctuation spacing, so it reads higher.
    ``exact_match`` is the share of sentences whose words all match, on the
    tokenized text. `score_with_signatures` also gives each figure's
    sacreBLEU signature.

    Examples:
        >>> scores = score(["le chat noir ."], ["Le chat noir."])
        >>> scores["exact_match"], scores["bleu_lowercase_tokenized"]
        (1.0, 100.0)
    """
    return score_with_signatures(hypotheses, references)[0]


def validation_score(core, vocabularies, source_length: int, prefix_length: int, pairs, max_length=None):
    """A `rnn_apps.harness.selection.ValidationScore` score: BLEU and chrF of greedy translations of ``pairs``.

    After each epoch the ``core`` being trained (a `seq2seq.seq2seq`
    model; it shares its weights with the training model) translates the
    validation sources as the saved model will, greedily, and the output is
    scored against the references by `score`'s standard protocol. The loss
    rewards the reference's next word given the reference's own prefix; the
    score rewards what decoding from the model's own words produces.

    Args:
        core: the model being trained.
        vocabularies: ``(source words, target words)``, as `rnn_apps.data.parallel` makes them.
        source_length: source ids the model reads.
        prefix_length: prefix ids (the longest translation plus one).
        pairs: ``(sources, references)``, raw strings.
        max_length: most words per translation (default: the model's limit).

    Returns:
        ``model -> {"bleu": ..., "chrf": ...}`` (the model argument is not
            read: the core holds the same weights).
    """
    sources, references = pairs
    translator = []  # made at the first epoch's end, once the core is built; it shares the core's weights

    def scored(model) -> dict:
        if not translator:
            translator.append(seq2seq.IdTranslator.build(core, *vocabularies, source_length, prefix_length))
        decoded = seq2seq.translate(translator[0], sources, max_length=max_length)
        found = score([row["translation"] for row in decoded], references)
        return {"bleu": found["bleu"], "chrf": found["chrf"]}

    return scored


def signatures() -> dict[str, str]:
    """The sacreBLEU signature of each of `score`'s BLEU and chrF figures.

    A signature names the settings, the number of references and the
    sacreBLEU version, not the text, so any sentence gives it.

    Examples:
        >>> signatures()["bleu"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")
        True
    """
    return score_with_signatures(["a"], ["a"])[1]


def copy_source(sources: list[str], references: list[str]) -> compare.ModelResult:
    """The baseline that outputs the (tokenized) source sentence unchanged: what shared words alone score."""
    start = time.perf_counter()
    hypotheses = [parallel.tokenize(s) for s in sources]
    milliseconds = 1000 * (time.perf_counter() - start) / max(1, len(sources))
    return compare.ModelResult(
        name="copy_source",
        metrics=score(hypotheses, references),
        params=0,
        train_seconds=0.0,
        predict_ms_per_sample=round(milliseconds, 4),
        fast_kernel=None,
    )


def check_sentences(texts) -> list[str]:
    """Raw sentences to translate, as strings; refuse none, or one without a word.

    Raises:
        InputError: no sentence, or one with no word once lower-cased and
            stripped of punctuation (``""``, ``"..."``, ``"@@"``).
    """
    texts = [str(t) for t in texts]
    if not texts:
        raise errors.expected("at least one sentence to translate", "none")
    for text in texts:
        if not parallel.source_length_of(text):
            raise errors.expected("a sentence with at least one word to translate", text)
    return texts


def predict(model, texts: list[str], beam_size: int = 1) -> list[dict]:
    """Translate raw sentences; a sentence longer than the model reads is cut, with a notice on stderr.

    Args:
        model: a translator (`rnn_apps.tasks.seq2seq.load_translator`).
        texts: raw sentences (see `check_sentences`).
        beam_size: beam width; 1 is greedy decoding.

    Returns:
        One dict per sentence: ``translation``, ``text``.
    """
    source_length, _ = seq2seq.model_limits(model)
    for text in texts:
        words = parallel.source_length_of(text)
        if words > source_length:
            print(
                f"notice: the model reads at most {source_length} words; only the first {source_length} "
                f"of {words} are translated: {text[:40]!r}...",
                file=sys.stderr,
            )
    rows = seq2seq.translate(model, texts, beam_size=beam_size)
    return [{"translation": row["translation"], "text": text} for row, text in zip(rows, texts)]


def attention_panels(model, sentences: list[str], beam_size: int = 1) -> list[tuple]:
    """Translate ``sentences`` and return, per sentence, where the model looked while writing each word.

    Returns:
        ``(weights, source words, output words, title)`` per sentence, for
            `rnn_apps.harness.plots.attention_maps`; row ``i`` of ``weights`` is
            the attention while predicting output word ``i`` (the last row
            predicts ``[end]``).
    """
    translations = [row["translation"] for row in seq2seq.translate(model, sentences, beam_size)]
    source_length, _ = seq2seq.model_limits(model)
    panels = []
    for sentence, translation in zip(sentences, translations):
        words = translation.split()
        prefix = " ".join([seq2seq.START, *words])
        out = model.predict_on_batch(
            {"source": np.array([sentence], dtype=object), "prefix": np.array([prefix], dtype=object)}
        )
        source_words = parallel._source_words(sentence)[:source_length]
        weights = np.asarray(out["attention"])[0, : len(words) + 1, : len(source_words)]
        panels.append((weights, source_words, [*words, seq2seq.END], sentence[:60]))
    return panels


def stream(model, texts):
    """Translate sentences word by word with a recurrent decoder: one row per output word, as it is chosen.

    Args:
        model: a translator with a recurrent decoder (`rnn_apps.tasks.seq2seq.load_translator`).
        texts: raw sentences, read lazily (see `check_sentences`).

    Yields:
        ``{"sentence", "position", "word", "probability"}`` per output word:
            the sentence's number (from 1), the word's position (from 1), the
            word, and the probability the decoder gave it.
    """
    for number, text in enumerate(texts, 1):
        (text,) = check_sentences([text])
        for position, (word, log_probability) in enumerate(seq2seq.stream_words(model, text), 1):
            yield {
                "sentence": number,
                "position": position,
                "word": word,
                "probability": round(math.exp(log_probability), 4),
            }
