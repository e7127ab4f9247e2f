"""
Title: Carrying the state
Description: Run a trained recurrent model the way it reads: one step at a time, its hidden state carried from step
to step. A review read word by word, a keyword heard chunk by chunk, and what one more step costs.
Run: python -m recipes.carrying_state --output-dir runs/carrying_state
"""

r"""
## What the state is

A recurrent layer reads a sequence $x_1, \dots, x_T$ with one function, the
same at every step, and one running summary, the hidden state:

$$
h_t = f(x_t, h_{t-1}), \qquad h_0 = 0
$$

For a SimpleRNN $f$ is $\tanh(x_t W + h_{t-1} U + b)$; an LSTM carries a
pair $(h_t, c_t)$, its cell state $c_t$ guarded by gates; a GRU mixes the
old and the new $h$ with its update gate (the [gates](gates.md) page writes
them out). Whatever the model will ever know about $x_1, \dots, x_t$ has to
be in $h_t$: the next step sees nothing else.

## Why a model trained on whole sequences can run one step at a time

Training and `predict` hand the layer a whole padded batch; the layer starts
from $h_0 = 0$ and loops over the steps itself. Training changes the weights
of $f$, never the loop. So the loop can be taken out of the layer: keep
$h_t$ after step $t$, call $f$ once more when $x_{t+1}$ arrives, and the
result is exactly the $h_{t+1}$ the layer would compute on the longer
sequence, to the last bit on the same machine. A model trained stateless
runs statefully with no retraining; only the *call* changes.

Three things decide whether a whole model can be run this way:

- every other layer must treat each step on its own (an embedding, a dense
  head, a per-frame CNN inside `TimeDistributed`, masking, dropout, which is
  off at inference);
- nothing may read ahead. A `Bidirectional` layer runs a second copy of $f$
  from the *end* of the sequence, and a convolution or pooling over time
  reads several steps at once: both need steps that have not arrived yet;
- a stream has no padding and no length limit. The saved sentiment model
  cuts a text at its `sequence_length`; a stream keeps reading, which is the
  point, and then answers what the whole model would answer on the whole,
  uncut text.

The classifiers below end in a head on the last output; run one step at a
time, the same head gives the answer *if the text ended here*.

## The step model in plain Keras

For the sentiment recipe's LSTM classifier (an `Embedding`, one `LSTM`, a
dropout and a dense head), the one-step model is a copy of the LSTM that
takes its state as inputs and returns the new one, wired to the trained
embedding and head:
"""

import dataclasses
import pathlib
import time

from rnn_apps.harness import runtime

runtime.configure()  # before Keras loads: TensorFlow starts quietly, plots need no display

import keras
import numpy as np

from rnn_apps import io, streaming
from rnn_apps.harness import cli, config, training


def plain_step_model(model: keras.Model) -> keras.Model:
    """The one-step twin of a trained one-layer LSTM word classifier, written out in plain Keras.

    ``model`` is the sentiment recipe's word-id model: layers ``embedding``,
    ``encoder_lstm_1``, ``head_dropout``, ``head_output``.
    """
    trained = model.get_layer("encoder_lstm_1")
    units = trained.units
    token = keras.Input(shape=(1,), dtype="int32", name="token")
    h_in = keras.Input(shape=(units,), name="h")
    c_in = keras.Input(shape=(units,), name="c")
    x = model.get_layer("embedding")(token)  # the trained layer itself: weights shared
    step_lstm = keras.layers.LSTM(units, return_state=True, unroll=True, name="lstm_step")
    output, h, c = step_lstm(x, initial_state=[h_in, c_in])
    step_lstm.set_weights(trained.get_weights())  # the same W, U and b as the trained layer
    probability = model.get_layer("head_output")(model.get_layer("head_dropout")(output))
    return keras.Model([token, h_in, c_in], [probability, h, c], name="plain_step")


r"""
Feeding it a word and the previous $(h, c)$, starting from zeros, gives the
probability after that word and the state to keep. `rnn_apps.streaming.step_model`
builds the same thing for any Functional model of the cookbook (stacked
layers, GRU and SimpleRNN, nested models, per-frame encoders) and refuses,
naming the layer, those that read ahead; `rnn_apps.streaming.Stream` keeps the
states between calls:

```python
from rnn_apps import streaming

stream = streaming.Stream(model)                # the trained word-id model
for word_id in ids:                             # as the words arrive
    probability = stream.step(np.array([[word_id]], "int32"))
```

The states are plain inputs and outputs, so the step model saves as
`.keras`, runs on TensorFlow, JAX and PyTorch, and exports like any model.
The command line does the same with a saved model, raw input in:

```
rnn-apps stream sentiment --model runs/sentiment/models/lstm.keras "a great little camera, sharp and easy to use"
rnn-apps stream speech --model runs/speech/models/lstm.keras data/speech/keywords/yes/yes_00.wav
rnn-apps stream video --model runs/video/models/gru.keras clip.gif
tail -f prices.txt | rnn-apps stream stocks --model runs/stocks/models/lstm.keras -
```

It prints one line per step: the label after each word, the keyword
posterior after each audio chunk (or the running CTC transcript), the
action after each frame, the forecast after each new price, the tag of each
token of a left-to-right tagger.

## The study

`main` trains the quick sentiment and keyword LSTMs of the recipes on their
bundled samples, then reads one review word by word (the first test review
of at least 15 words, so the choice does not look at the answers) and one
keyword clip chunk by chunk (the first clip of the test part), checks the
plain-Keras step model above against the library's and against the whole
model, and times the answer after word $L$ both ways:
one step from the carried state, or `predict_on_batch` on all $L$ words.
"""

LENGTHS = (10, 100, 1000)
MIN_REVIEW_WORDS = 15


@dataclasses.dataclass(frozen=True)
class CarryingStateConfig:
    """The study's settings; ``--quick`` (two lengths, few timed calls) is for tests."""

    PRESETS = {"quick": {"lengths": (10, 100), "calls": 5}}

    lengths: tuple[int, ...] = config.option(LENGTHS, "text lengths to time, comma-separated", parse=config.int_list)
    calls: int = config.option(100, "timed calls per length and way", parse=config.positive_int)
    seed: int = config.option(1, "seed of the quick runs", parse=config.non_negative_int)
    output_dir: str | None = config.option(None, "where results.json, results.md and the plots go")
    quick: bool = config.option(False, "two lengths, five timed calls (the 'quick' preset)")


def quick_model(recipe_name: str, output: pathlib.Path, seed: int) -> pathlib.Path:
    """Train a recipe's quick LSTM on its bundled sample; the saved model's path."""
    from rnn_apps.harness import registry

    folder = output / recipe_name
    argv = ["--quick", "--model", "lstm", "--seed", str(seed), "--verbose", "0", "--output-dir", str(folder)]
    cli.run_recipe(registry.get(recipe_name), [*argv, "--overwrite"])
    return folder / "models" / "lstm.keras"


def first_long_review(min_words: int = MIN_REVIEW_WORDS) -> tuple[str, str]:
    """The first review of the bundled sample's test part with at least ``min_words`` words, and its label."""
    from recipes import sentiment

    splits = sentiment.RECIPE.load_data(sentiment.RECIPE.parse(["--quick"])).splits
    texts, labels = splits.test
    for text_value, label in zip(texts, labels):
        if len(str(text_value).split()) >= min_words:
            return str(text_value), splits.class_names[int(label)]
    raise ValueError(f"no test review of {min_words} words or more")


def review_word_by_word(core: keras.Model, stream: streaming.Stream, words, class_names, review: str) -> dict:
    """The positive-class probability after each word, three ways that must agree.

    ``core`` is the sentiment word-id model and ``words`` its vectorization
    (`recipes.sentiment.text_parts`); ``stream`` runs ``core`` one word at a
    time, and the plain-Keras step model and ``core`` on every prefix are
    checked against it.
    """
    found = words.words(review)
    ids = words([review])[:, : len(found)]
    stream.reset()
    streamed = [float(np.asarray(p).reshape(-1)[0]) for p in stream.run(ids)]
    plain = plain_step_model(core)
    state = [np.zeros((1, core.get_layer("encoder_lstm_1").units), "float32")] * 2
    by_hand = []
    for t in range(ids.shape[1]):
        probability, *state = plain.predict_on_batch([ids[:, t : t + 1], *state])
        by_hand.append(float(np.asarray(probability).reshape(-1)[0]))
    whole = [float(np.asarray(core.predict_on_batch(ids[:, : t + 1])).reshape(-1)[0]) for t in range(ids.shape[1])]
    return {
        "words": found,
        "positive_class": class_names[1] if class_names else "1",
        "probability": streamed,
        "plain_keras_max_abs_difference": float(np.max(np.abs(np.subtract(by_hand, streamed)))),
        "whole_prefix_max_abs_difference": float(np.max(np.abs(np.subtract(whole, streamed)))),
    }


def first_test_clip(output: pathlib.Path, seed: int) -> tuple[str, str]:
    """The first clip of the speech sample's test part (split with ``seed``), written as a WAV; its path and label."""
    from scipy.io import wavfile

    from recipes import speech

    clips = speech.RECIPE.load_data(speech.RECIPE.parse(["--quick", "--seed", str(seed)])).clips
    waveforms, labels = clips.test
    path = output / "test_clip.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.round(np.asarray(waveforms[0]) * 32767), -32768, 32767).astype("int16")
    wavfile.write(path, clips.sample_rate, pcm)
    return str(path), clips.class_names[int(labels[0])]


def keyword_chunk_by_chunk(model_path: pathlib.Path, clip_path: str) -> dict:
    """The keyword posterior after each chunk of one clip, and the whole clip's answer."""
    from recipes import speech
    from rnn_apps.tasks import acoustic_inference, acoustic_streaming

    model = keras.models.load_model(model_path)
    info = acoustic_inference.model_info(model, model_path)
    waves = acoustic_streaming.WaveformStream(model)
    clip = acoustic_inference.read_for_model(clip_path, waves.sample_rate)
    size = max(1, int(round(acoustic_streaming.CHUNK_SECONDS * waves.sample_rate)))
    seconds, posteriors, end = [], [], 0
    for piece in acoustic_streaming.chunks(clip, size):
        end += len(piece)
        output = waves.push(piece)
        if output is not None:
            seconds.append(end / waves.sample_rate)
            posteriors.append(np.asarray(output, "float64").reshape(-1).tolist())
    whole = speech.RECIPE.predict(model_path, [clip_path])[0]
    unpadded = np.asarray(model.predict_on_batch(clip[None].astype("float32")), "float64").reshape(-1)
    return {
        "clip": pathlib.Path(clip_path).name,
        "class_names": info.get("class_names"),
        "seconds": seconds,
        "posteriors": posteriors,
        "whole_clip": {"label": whole["label"], "probability": whole["probability"]},
        "whole_unpadded_max_abs_difference": float(np.max(np.abs(unpadded - posteriors[-1]))),
    }


def answer_after(stream: streaming.Stream, model: keras.Model, ids: np.ndarray, calls: int) -> dict:
    """Time the answer after the last of ``ids`` ``(1, L)``: one carried step against re-reading all of them.

    The stream reads the first ``L - 1`` ids (each step timed), then every
    timed call starts again from the state after them.
    """
    length = ids.shape[1]
    stream.reset()
    every_step = []
    for t in range(length - 1):
        start = time.perf_counter()
        stream.step(ids[:, t : t + 1])
        every_step.append(1000 * (time.perf_counter() - start))
    before_last = [state.copy() for state in stream.states]

    def one_step():
        stream.states = [state.copy() for state in before_last]
        return stream.step(ids[:, length - 1 :])

    streamed = training.time_calls(one_step, calls, warm_up=5)
    rereads = training.time_calls(lambda: model.predict_on_batch(ids), calls, warm_up=3)
    difference = float(np.max(np.abs(np.asarray(one_step()) - np.asarray(model.predict_on_batch(ids)))))
    steps = np.asarray(every_step or [float("nan")])
    return {
        "length": length,
        "stream": streamed,
        "re_read": rereads,
        "stream_steps": {
            "p50_ms": float(np.percentile(steps, 50)),
            "p95_ms": float(np.percentile(steps, 95)),
            "steps": len(every_step),
        },
        "max_abs_difference": difference,
    }


def _axes(title: str, xlabel: str, ylabel: str, size=(7, 3.6)):
    from matplotlib import figure as matplotlib_figure

    figure = matplotlib_figure.Figure(figsize=size)
    axis = figure.subplots()
    axis.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axis.grid(alpha=0.3)
    return figure, axis


def review_plot(review: dict, path) -> None:
    words = review["words"]
    figure, axis = _axes(
        "A review read word by word (sentiment LSTM)", "", f"P({review['positive_class']}) after the word"
    )
    axis.plot(range(len(words)), review["probability"], marker="o")
    axis.axhline(0.5, color="grey", linewidth=0.8)
    axis.set_xticks(range(len(words)), words, rotation=60, ha="right", fontsize=8)
    axis.set_ylim(0, 1)
    figure.tight_layout()
    io.save_figure(figure, path)


def keyword_plot(keyword: dict, path) -> None:
    figure, axis = _axes(
        f"A test clip heard chunk by chunk (a spoken '{keyword['label']}')",
        "seconds of audio heard",
        "posterior after the chunk",
    )
    posteriors = np.asarray(keyword["posteriors"])
    names = keyword["class_names"] or [str(i) for i in range(posteriors.shape[1])]
    top = np.argsort(posteriors[-1])[::-1][:4]
    for index in range(posteriors.shape[1]):
        shown = index in top
        axis.plot(
            keyword["seconds"],
            posteriors[:, index],
            label=names[index] if shown else None,
            color=None if shown else "lightgrey",
            linewidth=1.8 if shown else 0.8,
        )
    axis.set_ylim(0, 1)
    axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    io.save_figure(figure, path)


def latency_plot(rows: list[dict], path) -> None:
    figure, axis = _axes("The answer after word L", "L (words read so far)", "milliseconds (median)")
    lengths = [row["length"] for row in rows]
    axis.loglog(lengths, [row["stream"]["p50_ms"] for row in rows], marker="o", label="one step, state carried")
    axis.loglog(lengths, [row["re_read"]["p50_ms"] for row in rows], marker="s", label="re-read all L words")
    axis.legend()
    figure.tight_layout()
    io.save_figure(figure, path)


def latency_cells(row: dict) -> str:
    """One `answer_after` row as markdown table cells: step, re-read, their ratio, every step, the difference."""
    stream, reread, steps = row["stream"], row["re_read"], row["stream_steps"]
    return (
        f"{stream['p50_ms']:.2f} / {stream['p95_ms']:.2f} | {reread['p50_ms']:.2f} / {reread['p95_ms']:.2f} | "
        f"{reread['p50_ms'] / stream['p50_ms']:.1f}x | {steps['p50_ms']:.2f} / {steps['p95_ms']:.2f} | "
        f"{row['max_abs_difference']:.1e}"
    )


def results_markdown(results: dict) -> str:
    review, keyword = results["review"], results["keyword"]
    lines = [
        "## Results",
        "",
        f"Seeded run (seed {results['seed']}): `python -m recipes.carrying_state --output-dir docs/_run/"
        "carrying_state`. Quick LSTMs of the sentiment and speech recipes, trained on their bundled samples.",
        "",
        f"**A review, word by word.** The first test review of at least {MIN_REVIEW_WORDS} words, whose label is "
        f"`{review['label']}`; the model's probability of `{review['positive_class']}` after each word. The "
        "plain-Keras step model above and `rnn_apps.streaming` differ by at most "
        f"{review['plain_keras_max_abs_difference']:.1e}, and the stream differs from the whole model run on each "
        f"prefix by at most {review['whole_prefix_max_abs_difference']:.1e}.",
        "",
        "![sentiment probability after each word](review.png)",
        "",
        f"**A keyword, chunk by chunk.** The first clip of the sample's test part (a spoken `{keyword['label']}`), "
        "fed in chunks of "
        f"{results['chunk_seconds'] * 1000:.0f} ms; the four classes the model ends highest on are drawn in colour. "
        f"After the last chunk the stream says `{keyword['last_label']}` "
        f"({keyword['last_probability']:.4f}); the saved model on the same unpadded clip differs from that "
        f"posterior by at most {keyword['whole_unpadded_max_abs_difference']:.1e}. `rnn-apps predict` first pads "
        "a clip with zeros to the training length, so its last few frames see zeros instead of the clip's "
        f"reflected end, and it says `{keyword['whole_clip']['label']}` "
        f"({keyword['whole_clip']['probability']:.4f}).",
        "",
        "![keyword posterior after each chunk](keyword.png)",
        "",
        f"**What one more step costs.** The answer after word L of random word ids through the trained sentiment "
        f"LSTM, batch 1, {results['calls']} timed calls each way; the stream's cost stays flat while re-reading "
        "grows with L.",
        "",
        "| L | one step p50 / p95 ms | re-read p50 / p95 ms | re-read / step | every step p50 / p95 ms | "
        "max abs difference |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {row['length']:,} | {latency_cells(row)} |" for row in results["latency"]]
    lines += [
        "",
        "![latency against L](latency.png)",
        "",
        "`bench/results/stream_latency.md` has the same measurement for the three cells at the recipe's default "
        "size, and `bench/results/decoding.md` the translation decoder that carries its state.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> dict:
    """Train the two quick models, run the three readings, write ``results.json``, ``results.md`` and PNGs."""
    from rnn_apps.tasks import acoustic_streaming

    settings = config.parse_config(
        CarryingStateConfig, argv, recipe="carrying_state", description="Run recurrent models one step at a time."
    )
    output = pathlib.Path(settings.output_dir)
    models = output / "models"
    sentiment_model = quick_model("sentiment", models, settings.seed)
    speech_model = quick_model("speech", models, settings.seed)

    from recipes import sentiment

    saved, class_names = sentiment.load_classifier(sentiment_model)
    core, words = sentiment.text_parts(saved)
    stream = streaming.Stream(core)  # one step model for the review and for the timing
    text_value, label = first_long_review()
    review = review_word_by_word(core, stream, words, class_names, text_value)
    review |= {"text": text_value, "label": label}
    clip_path, clip_label = first_test_clip(output, settings.seed)
    keyword = keyword_chunk_by_chunk(speech_model, clip_path) | {"label": clip_label}
    last = int(np.argmax(keyword["posteriors"][-1]))
    names = keyword["class_names"] or [str(i) for i in range(len(keyword["posteriors"][-1]))]
    keyword |= {"last_label": names[last], "last_probability": float(keyword["posteriors"][-1][last])}

    vocabulary = core.get_layer("embedding").input_dim
    rng = np.random.default_rng(settings.seed)
    stream.run(rng.integers(2, vocabulary, size=(1, 30)).astype("int32"))  # compile and warm up the step
    latency = [
        answer_after(stream, core, rng.integers(2, vocabulary, size=(1, length)).astype("int32"), settings.calls)
        for length in settings.lengths
    ]

    review_plot(review, output / "review.png")
    keyword_plot(keyword, output / "keyword.png")
    latency_plot(latency, output / "latency.png")
    results = {
        "seed": settings.seed,
        "calls": settings.calls,
        "chunk_seconds": acoustic_streaming.CHUNK_SECONDS,
        "review": review,
        "keyword": keyword,
        "latency": latency,
    }
    io.write_json(output / "results.json", results)
    io.write_text(output / "results.md", results_markdown(results))
    print(results_markdown(results))
    return results


if __name__ == "__main__":
    main()
