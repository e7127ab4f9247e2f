"""
Title: Translation: recurrent encoder-decoders with attention against a convolutional one
Description: Translate sentences with SimpleRNN, LSTM and GRU seq2seq models with attention and a ConvS2S-style CNN.
Data: bundled English->French sample; tensorflow-datasets translation configs; Multi30k-style folders; TSV pairs.
Run: python -m recipes.translation [--quick] [--data SOURCE] [--model all] [--bidirectional] [--beam-size 4]
"""

"""
## Introduction

Translation is the encoder-decoder application of recurrent networks. An
encoder reads the source sentence into one state per word; a decoder writes
the translation one word at a time, and before each word it *attends*: it
weighs every source state by how well it matches its own state and reads
their weighted average. That lets "the small red car" become "la petite
voiture rouge": the decoder looks back at "small" first and at "red" last.

Models are trained with teacher forcing (the decoder reads the reference
translation shifted by one word and learns to predict the next word), but
they are scored the honest way: each one translates held-out sentences on
its own, greedily or with beam search (`--beam-size`), and the output is
compared with the references by sacrebleu's BLEU and chrF, plus the share
of sentences translated exactly. A "copy the source" baseline shows what a
model gets for free from words the two languages share.

The convolutional baseline follows ConvS2S (Gehring et al. 2017): gated
convolutions with position embeddings in the encoder, causal ones in the
decoder (a position sees only earlier words), and attention from every
decoder block to the encoder.

The recipe runs on every Keras backend. On TensorFlow each saved model
holds its vocabularies and takes raw strings, so
`keras.models.load_model` reads it in a fresh process without this
package. JAX and PyTorch have no string tensors: there the saved model
reads word ids, and both vocabularies lie beside it in
`<model>.vocabulary.json`. `seq2seq.load_translator` reads either kind and
returns something that takes raw strings:

```python
from rnn_apps.tasks import seq2seq

model = seq2seq.load_translator("runs/translation/models/gru.keras")
seq2seq.translate(model, ["The small red car sees three dogs."], beam_size=4)
```

or `rnn-apps predict translation --model runs/translation/models/gru.keras "The red car."`.
"""

"""
## Setup
"""

import pathlib
import sys
import time

import keras
import numpy as np
import sacrebleu

from rnn_apps import backend, errors, io, paths
from rnn_apps.data import parallel
from rnn_apps.harness import cli, compare, plots, training
from rnn_apps.layers import encoders
from rnn_apps.tasks import seq2seq

NAME = "translation"
SAMPLE = "translation"
MODEL_CHOICES = ("simple_rnn", "lstm", "gru", "cnn")

DEFAULTS = dict(
    epochs=30,
    batch_size=64,
    units=256,
    embedding_dim=256,
    filters=256,
    cnn_layers=4,
    dropout=0.3,
    vocabulary_size=10000,
    min_frequency=2,
    source_length=40,
    target_length=40,
    learning_rate=1e-3,
    patience=3,
)
QUICK = dict(
    epochs=8,
    units=64,
    embedding_dim=64,
    filters=64,
    cnn_layers=2,
    dropout=0.0,
    learning_rate=5e-3,
    max_pairs=1200,
    test_limit=60,
)


def add_arguments(parser):
    """Flags of this recipe (the common ones come from `rnn_apps.harness.cli`)."""
    group = parser.add_argument_group("translation flags")
    group.add_argument("--source-lang", default=None, help="source language code (folder files, tfds keys)")
    group.add_argument("--target-lang", default=None, help="target language code")
    group.add_argument(
        "--attention",
        choices=seq2seq.ATTENTIONS,
        default="additive",
        help="recurrent models: additive (Bahdanau) or dot-product (Luong) attention",
    )
    group.add_argument("--beam-size", type=cli.positive_int, default=1, help="1 is greedy decoding")
    group.add_argument("--max-output-length", type=cli.positive_int, default=None, help="most words per translation")
    group.add_argument("--vocabulary-size", type=cli.positive_int, default=None, help="words kept per language")
    group.add_argument("--min-frequency", type=cli.positive_int, default=None, help="rarer training words are [UNK]")
    group.add_argument("--source-length", type=cli.positive_int, default=None, help="most source words a model reads")
    group.add_argument("--target-length", type=cli.positive_int, default=None, help="most target words it writes")
    group.add_argument("--embedding-dim", type=cli.positive_int, default=None, help="word-vector width")
    group.add_argument("--filters", type=cli.positive_int, default=None, help="CNN channels")
    group.add_argument("--cnn-layers", type=cli.positive_int, default=None, help="CNN blocks in encoder and decoder")
    group.add_argument("--dropout", type=cli.fraction, default=None, help="dropout on embeddings and outputs")
    group.add_argument("--max-pairs", type=cli.positive_int, default=None, help="use only the first N training pairs")
    group.add_argument("--test-limit", type=cli.positive_int, default=None, help="score only the first N test pairs")
    group.add_argument("--validation-fraction", type=cli.fraction, default=0.1, help="when there is no val split")
    group.add_argument("--test-fraction", type=cli.fraction, default=0.1, help="of a TSV file's pairs")
    group.add_argument("--heatmaps", type=cli.positive_int, default=3, help="test sentences in attention.png")


"""
## Data

The bundled sample is 3,600 English->French pairs written by
`data/translation/make_sample.py` from templates: French puts colour
adjectives after the noun and size adjectives before it, articles and
adjectives agree with the noun's gender and number, numbers are spelled out
by `num2words` ("trente et une maisons"), and "de le" contracts to "du".
Its splits are made on unique English sentences, so no test sentence is
seen in training. Training and validation pairs whose source has no word
at all (Multi30k has two `@@` lines) are dropped with a notice; test pairs
are all kept, and such a source gets an empty translation.

`--data` also takes a folder of line-aligned files in the Multi30k layout
(`train.de.gz`, `train.en.gz`, `val.*`, `test_2016_flickr.*`) with
`--source-lang de --target-lang en`, a tab-separated file of pairs
(Tatoeba/ManyThings `fra.txt`; source first, the attribution column is
ignored), or a tensorflow-datasets translation config such as
`ted_hrlr_translate/pt_to_en`.

Words become ids with two `TextVectorization` layers whose vocabularies
come from the training pairs only (`--vocabulary-size`, `--min-frequency`).
The source layer lower-cases raw text and strips punctuation; targets are
lower-cased with punctuation split into words of its own, and wrapped in
`[start]` ... `[end]`. BLEU and chrF are computed on that lower-cased,
tokenized text, as the published Multi30k tutorial numbers are.
"""


def load_data(args) -> parallel.ParallelData:
    """Load the sentence pairs chosen by ``--data``."""
    if args.data == "sample":
        source = parallel.load_parallel(
            paths.bundled(SAMPLE), args.source_lang or "en", args.target_lang or "fr", args.validation_fraction
        )
    else:
        source = parallel.load_parallel(
            args.data,
            args.source_lang,
            args.target_lang,
            validation_fraction=args.validation_fraction,
            test_fraction=args.test_fraction,
            seed=args.seed,
        )
    for part in ("train", "validation"):
        pairs, dropped = parallel.drop_wordless(getattr(source, part))
        if dropped:
            print(f"notice: dropped {dropped} {part} pair(s) whose source has no word (only punctuation)")
        setattr(source, part, pairs)
    if args.max_pairs:
        source.train = (source.train[0][: args.max_pairs], source.train[1][: args.max_pairs])
    if args.test_limit:
        source.test = (source.test[0][: args.test_limit], source.test[1][: args.test_limit])
    return source


"""
## Models

Recurrent models: an encoder of the chosen cell (`--bidirectional`,
`--layers`), a decoder of the same cell started from the mean encoder
state, attention (`--attention additive` or `dot`) between learned
projections of the decoder state and of the encoder states, and the context
joined to the decoder state before the softmax. The CNN has `--cnn-layers`
gated convolution blocks on each side. Both read padded id sequences and
give next-word logits at every target position plus the attention weights.

One detail decides whether a recurrent decoder learns at all: the scale of
its word vectors. Keras starts embeddings uniformly in [-0.05, 0.05]; then
the word a fresh decoder reads barely moves its state, and on Multi30k
German->English a bi-GRU's training loss stayed at the entropy of the
English word frequencies (about 5.4 nats) for two epochs, writing "a a a
..." for every sentence. The recurrent models here start their word vectors
at unit scale (normal, standard deviation 1, as PyTorch does), and the
loss falls from the first hundred steps (mean training loss over steps
61-80 of batch 128, 128 units, no dropout: 5.54 before, 4.46 after).
"""


def build_core(name: str, source_vocabulary: int, target_vocabulary: int, source_length: int, args):
    """The encoder-decoder for model ``name``; the decoder reads ``target_length + 1`` positions."""
    config = encoders.EncoderConfig(
        model=name,
        units=args.units,
        num_layers=args.cnn_layers if name == "cnn" else args.layers,
        bidirectional=args.bidirectional,
        filters=args.filters,
    )
    return seq2seq.seq2seq(
        config,
        source_vocabulary,
        target_vocabulary,
        source_length,
        args.target_length + 1,
        embedding_dim=args.embedding_dim,
        attention=args.attention,
        dropout=args.dropout,
    )


"""
## Train and compare

Every model trains with the same seed and batches, with early stopping on
the validation loss (best weights kept). It is then wrapped with the
vectorizers into the saved inference model (on JAX and PyTorch: the
id model with its vocabularies, looked up in Python), and that model
decodes the test sentences.
"""


def score(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    """Corpus BLEU and chrF (sacrebleu) and exact-match rate on tokenized, lower-cased text.

    Examples:
        >>> score(["le chat noir ."], ["Le chat noir."])["exact_match"]
        1.0
    """
    references = [parallel.tokenize(r) for r in references]
    # Both sides are tokenized already (as the published Multi30k numbers are).
    bleu = sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none", force=True)
    chrf = sacrebleu.corpus_chrf(hypotheses, [references])
    exact = float(np.mean([h == r for h, r in zip(hypotheses, references)])) if references else 0.0
    return {"bleu": round(bleu.score, 3), "chrf": round(chrf.score, 3), "exact_match": round(exact, 4)}


def train_model(name, data, vocabularies, source_length, args):
    """Train one model; return its `ModelResult`, history, saved model and test translations."""
    training.set_seed(args.seed)
    source_vocabulary, target_vocabulary = vocabularies
    source_layer = parallel.source_vectorizer(source_vocabulary, source_length)
    # Training targets hold [start] words [end]: one position more than the decoder reads.
    train_target_layer = parallel.target_vectorizer(target_vocabulary, args.target_length + 2, name="train_target")

    def ids(part):
        # Under JAX and PyTorch the layers return that backend's tensors.
        sources, targets = getattr(data, part)
        source_ids = keras.ops.convert_to_numpy(source_layer(sources))
        return source_ids, keras.ops.convert_to_numpy(train_target_layer(parallel.target_texts(targets)))

    # JAX compiles the training step once per batch shape: lengths in steps of 8 keep the shapes few.
    multiple = 8 if backend.name() == "jax" else 1
    train = parallel.pair_dataset(*ids("train"), args.batch_size, shuffle=True, seed=args.seed, multiple=multiple)
    validation = parallel.pair_dataset(*ids("validation"), args.batch_size, multiple=multiple)
    core = build_core(name, len(source_vocabulary) + 2, len(target_vocabulary) + 2, source_length, args)
    model = seq2seq.compile_seq2seq(seq2seq.training_model(core), args.learning_rate)
    fitted = training.fit_from_args(model, train, validation, args, name)
    model_path = f"{args.output_dir}/models/{name}.keras"
    if backend.strings_in_models():
        inference = seq2seq.inference_model(
            core,
            parallel.source_vectorizer(source_vocabulary, source_length),
            parallel.target_vectorizer(target_vocabulary, args.target_length + 1),
            name=name,
        )
        model_path = io.save_model(inference, model_path)
    else:
        # JAX and PyTorch have no string tensors: save the id model, its vocabularies beside it.
        inference = seq2seq.IdTranslator.build(
            core, source_vocabulary, target_vocabulary, source_length, args.target_length + 1, name=name
        )
        model_path = inference.save(model_path)
    io.write_json(
        f"{args.output_dir}/models/{name}.json",
        {"beam_size": args.beam_size, "source_lang": data.source_lang, "target_lang": data.target_lang},
    )

    def decode(sentences):
        return seq2seq.translate(inference, sentences, beam_size=args.beam_size, max_length=args.max_output_length)

    sources, references = data.test
    start = time.perf_counter()
    hypotheses = [row["translation"] for row in decode(sources)]
    print(f"{name}: decoded {len(sources)} test sentences in {time.perf_counter() - start:.1f} s")
    result = compare.trained_result(
        name,
        core,
        fitted,
        score(hypotheses, references),
        predict_batch=decode,
        timing_inputs=list(sources[:8]),
        output_dir=args.output_dir,
        model_path=model_path,
    )
    return result, fitted.history, inference, hypotheses


def copy_baseline(data) -> compare.ModelResult:
    """Output the (tokenized) source sentence unchanged: what shared words alone score."""
    sources, references = data.test
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


def attention_panels(model, sentences, translations, source_length: int):
    """``(weights, source words, output words, title)`` per sentence, for `plots.attention_maps`."""
    panels = []
    for sentence, translation in zip(sentences, translations):
        words = translation.split()
        prefix = " ".join([seq2seq.START, *words])
        out = model.predict_on_batch(
            {"source": np.array([sentence], dtype=object), "prefix": np.array([prefix], dtype=object)}
        )
        source_words = parallel._source_words(sentence)[:source_length]
        # Row i is the attention while predicting output word i (the last one predicts [end]).
        weights = np.asarray(out["attention"])[0, : len(words) + 1, : len(source_words)]
        panels.append((weights, source_words, [*words, seq2seq.END], sentence[:60]))
    return panels


def run(args) -> dict:
    """Load the data, train every chosen model and the baseline, write the report."""
    data = load_data(args)
    print(f"data: {data.name}, pairs {data.sizes()}")
    vocabularies = parallel.make_vocabularies(data, args.vocabulary_size, args.min_frequency)
    longest = max(parallel.source_length_of(s) for s in data.train[0])
    source_length = max(1, min(args.source_length, longest))
    # Decoding time grows with the target length, so it is no longer than the longest training target.
    args.target_length = max(1, min(args.target_length, max(len(parallel.tokenize(t).split()) for t in data.train[1])))
    print(f"vocabulary: source {len(vocabularies[0]) + 2:,}, target {len(vocabularies[1]) + 2:,} words")

    saved = {}  # models trained in this run, for the attention maps

    def train_one(name):
        result, history, saved[name], hypotheses = train_model(name, data, vocabularies, source_length, args)
        return compare.Trained(result, history, {"hypotheses": hypotheses})

    # Finished models are recorded, so --resume skips them; Ctrl-C keeps what finished.
    trained = compare.train_each(args.model, train_one, args.output_dir, resume=args.resume, metric="bleu")
    results = [t.result for t in trained]
    histories = {t.result.name: t.history for t in trained}
    for done in trained:
        for source, hypothesis, reference in list(zip(data.test[0], done.extras["hypotheses"], data.test[1]))[:2]:
            print(f"    {done.result.name}: {source}\n    -> {hypothesis}\n    (reference: {reference})")
    baseline = copy_baseline(data)
    results.append(baseline)
    print(compare.summary_line(baseline, "bleu"))

    if saved:
        best = max(saved, key=lambda name: next(r.metrics["bleu"] for r in results if r.name == name))
        count = min(args.heatmaps, len(data.test[0]))
        sentences = data.test[0][:count]
        translations = [row["translation"] for row in seq2seq.translate(saved[best], sentences, args.beam_size)]
        panels = attention_panels(saved[best], sentences, translations, source_length)
        plots.attention_maps(panels, pathlib.Path(args.output_dir) / "attention.png")

    report = compare.build_report(
        NAME,
        data.name,
        "translation",
        "bleu",
        results,
        sizes=data.sizes(),
        seed=args.seed,
        config={key: value for key, value in vars(args).items() if key not in ("output_dir", "verbose", "command")}
        | {"source_length": source_length},
        command=args.command,
    )
    compare.publish(args.output_dir, report, histories, metric="loss")
    return report


"""
## Prediction with a saved model

`rnn-apps predict translation --model runs/translation/models/gru.keras
"The small red car."` loads the model in a fresh process and translates raw
strings, with the beam size the run used (from the `.json` beside the
model). A sentence longer than the model reads is cut to its source length,
with a notice on stderr.
"""


def predict(model_path, texts, beam_size: int | None = None) -> list[dict]:
    """Translate raw sentences with a saved model from this recipe.

    Args:
        model_path: a ``.keras`` file written by this recipe.
        texts: raw source sentences (not empty).
        beam_size: beam width; default: the one the run used, else 1.

    Returns:
        One dict per sentence: ``translation``, ``text``.
    """
    model_path = pathlib.Path(model_path)
    texts = [str(t) for t in texts]
    if not texts:
        raise errors.expected("at least one sentence to translate", "none")
    for text in texts:
        if not parallel.source_length_of(text):
            raise errors.expected("a sentence with at least one word to translate", text)
    try:
        model = seq2seq.load_translator(model_path)
        source_length, _ = seq2seq.model_limits(model)
    except errors.InputError:
        raise  # a missing or unreadable vocabulary file, already said plainly
    except Exception as error:  # a corrupt or foreign file: Keras raises many types
        raise errors.expected("a .keras model saved by this recipe", f"{model_path} ({error})") from None
    sidecar = model_path.with_suffix(".json")
    if beam_size is None:
        beam_size = errors.read_json(sidecar).get("beam_size", 1) if sidecar.exists() else 1
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


"""
## Results and conclusion

`comparison.md` holds the table (BLEU first, then chrF and exact match),
`learning_curves.png` the training and validation loss, and `attention.png`
where the best model looked while writing each word of a few test
sentences: on the bundled sample the colour adjective's row lights up the
English word before the noun, which is the reordering at work. Read every
row against `copy_source`.

With `--quick` (1,200 training pairs of the bundled sample, 8 epochs, 64
units, 60 test pairs) one run gave BLEU 88.1 for the GRU, 77.0 for the
LSTM, 75.8 for the CNN, 56.2 for the SimpleRNN and 0.4 for copying the
source: on this sample the gated recurrent models beat the CNN, and the
plain SimpleRNN trails.

On Multi30k German->English (`bench/results/translation-multi30k.md`, seeds
1-3, all 1,000 test_2016_flickr sentences, greedy decoding) a bi-GRU with
attention reached BLEU 30.88 ± 0.34 and the ConvS2S-style CNN 32.08 ± 0.58,
after only 4 epochs at 128 units or filters on a shared 2-core CPU. The
published tutorial models, wider and trained for 10 epochs on a GPU, score
28.30 (bi-GRU + attention) and 34.14 (ConvS2S): the recurrent model passes
its reference, the CNN comes within 2.1 BLEU of its own while training
about 1.4 times faster per epoch than the recurrent model, and both were
still improving on the validation set when the epoch limit stopped them.
"""


def main(argv=None) -> dict:
    """Run the recipe from the command line (``argv`` as in `sys.argv[1:]`)."""
    return cli.run_recipe(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
