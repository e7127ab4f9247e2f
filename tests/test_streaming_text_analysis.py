"""Streaming the text-analysis taggers: token by token equals the whole sentence, and ``rnn-apps stream``.

Untrained taggers from the factory (equality holds for any weights), saved
through the recipe's own export path (`tagger_inference.save_tagger`); this
file also runs on JAX and PyTorch through `tests/test_backends.py`.
"""

import itertools
import json

import keras
import numpy as np
import pytest
from helpers import check_streaming

from rnn_apps import backend, errors, streaming
from rnn_apps.data import token_vocabulary, tokenization
from rnn_apps.harness import cli
from rnn_apps.layers import encoders, recurrent
from rnn_apps.tasks import tagger_inference, taggers

RNG = np.random.default_rng(11)
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SENTENCES = [["Anna", "Schmidt", "visited", "Berlin", "."], ["Bo", "sang", "in", "Rome", "."]]


def make_tagger(cell="lstm", chars=False, crf=False, bidirectional=False):
    config = encoders.EncoderConfig(model=cell, units=6, bidirectional=bidirectional, filters=4)
    char_options = dict(char_vocabulary_size=12, char_length=5, char_embedding_dim=3, char_filters=4) if chars else {}
    return taggers.tagger(config, len(TAGS), vocabulary_size=30, embedding_dim=4, crf=crf, **char_options)


def listed(tagger):
    """The tagger (taking a dict) nested in a model taking a list, ``token_ids`` first, as `check_streaming` feeds."""
    names = sorted((tensor.name for tensor in tagger.inputs), reverse=True)
    inputs = {name: keras.Input(shape=tagger.input[name].shape[1:], dtype="int32", name=name) for name in names}
    listed_inputs = [inputs[name] for name in names]
    return keras.Model(listed_inputs if len(names) > 1 else listed_inputs[0], tagger(inputs))


def id_inputs(model, batch=2, length=7):
    """Random ids without padding, one array per model input, in the model's input order."""
    values = {"token_ids": RNG.integers(1, 30, size=(batch, length)).astype("int32")}
    values["char_ids"] = RNG.integers(0, 12, size=(batch, length, 5)).astype("int32")
    return [values[tensor.name] for tensor in model.inputs]


@pytest.mark.parametrize("chars", [False, True], ids=["words", "chars"])
@pytest.mark.parametrize("cell", recurrent.CELLS)
def test_unidirectional_tagger_streams_like_the_whole_sentence(cell, chars):
    model = listed(make_tagger(cell, chars))
    streamed = check_streaming(model, id_inputs(model), per_step=True)
    assert not np.allclose(streamed[0], streamed[-1])  # the state is carried from token to token


def test_a_reshape_that_mixes_steps_is_refused():
    x = keras.Input(shape=(None, 4))
    h = keras.layers.GRU(2, return_sequences=True)(keras.layers.Reshape((-1, 2), name="halves")(x))
    with pytest.raises(errors.InputError, match="'halves'"):
        streaming.step_model(keras.Model(x, h))


def saved_tagger(tmp_path, chars=False, crf=False, bidirectional=False, cell="gru"):
    """An untrained tagger saved as the recipe exports one; returns its path and the loaded tagger."""
    vocabulary = token_vocabulary.TaggingVocabulary.from_sentences(SENTENCES, char_length=5 if chars else None)
    config = encoders.EncoderConfig(model=cell, units=6, bidirectional=bidirectional, filters=4)
    char_options = {}
    if chars:
        char_options = dict(char_vocabulary_size=vocabulary.char_vocabulary_size, char_length=5, char_filters=4)
    core = taggers.tagger(
        config, len(TAGS), vocabulary.vocabulary_size, embedding_dim=4, crf=crf, name=cell, **char_options
    )
    settings = {"tag_names": TAGS, "scheme": "iob2", "crf": crf}
    _, path = tagger_inference.save_tagger(core, tmp_path / f"{cell}.keras", vocabulary, settings, cell)
    return path, backend.load_tagger(path)


@pytest.mark.parametrize("chars", [False, True], ids=["words", "chars"])
def test_tag_stream_gives_the_saved_taggers_tags(tmp_path, chars):
    path, model = saved_tagger(tmp_path, chars=chars)
    char_length = 5 if chars else None
    tokens = ["Anna", "visited", "Paris", "Rome", "."]  # "Paris" is unknown: the lookups must agree
    whole = np.asarray(model.predict_on_batch(tokenization.model_inputs([tokens], char_length)))[0]
    streamed = list(tagger_inference.TagStream(model, TAGS, char_length).tag(tokens))
    assert [tag for tag, _ in streamed] == [TAGS[i] for i in whole.argmax(-1)]
    np.testing.assert_allclose([p for _, p in streamed], whole.max(-1), rtol=1e-5)


def brute_force_filtered(emissions, transitions, start):
    """p(tag of token t | tokens up to t) by summing over every tag path of the prefix."""
    num_tags = len(start)
    result = []
    for t in range(len(emissions)):
        totals = np.zeros(num_tags)
        for path in itertools.product(range(num_tags), repeat=t + 1):
            score = start[path[0]] + sum(emissions[i][tag] for i, tag in enumerate(path))
            score += sum(transitions[a, b] for a, b in zip(path, path[1:]))
            totals[path[-1]] += np.exp(score)
        result.append(totals / totals.sum())
    return np.array(result)


def test_filtered_probabilities_match_a_sum_over_paths():
    emissions, transitions, start = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 3)), RNG.normal(size=3)
    alpha, steps = None, []
    for row in emissions:
        alpha, probabilities = tagger_inference.filtered_probabilities(alpha, row, transitions, start)
        steps.append(probabilities)
    np.testing.assert_allclose(steps, brute_force_filtered(emissions, transitions, start), rtol=1e-9)


def test_crf_tagger_streams_forward_filtered_tags(tmp_path):
    core = make_tagger("lstm", crf=True)
    core.get_layer("crf").transitions.assign(RNG.normal(size=(len(TAGS), len(TAGS))).astype("float32"))
    model = backend.TaggerModel(taggers.id_tagger(core), [f"w{i}" for i in range(28)])
    tokens = ["w3", "w7", "unknown", "w1"]
    stream = tagger_inference.TagStream(model, TAGS)
    assert stream.filtered
    streamed = list(stream.tag(tokens))
    ids = model.ids(tokenization.model_inputs([tokens]))
    emissions = keras.ops.convert_to_numpy(core(ids))[0]  # the CRF layer passes emission scores through
    crf = core.get_layer("crf")
    weights = [keras.ops.convert_to_numpy(w).astype("float64") for w in (crf.transitions, crf.start)]
    expected = brute_force_filtered(emissions.astype("float64"), *weights)
    assert [tag for tag, _ in streamed] == [TAGS[i] for i in expected.argmax(-1)]
    np.testing.assert_allclose([p for _, p in streamed], expected.max(-1), rtol=1e-4)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(bidirectional=True), "'encoder_bidirectional_1' is bidirectional"),
        (dict(cell="cnn"), "'cnn_conv_1' is a convolution"),
    ],
    ids=["bidirectional", "cnn"],
)
def test_taggers_that_need_the_future_are_refused(tmp_path, options, message):
    _, model = saved_tagger(tmp_path, **options)
    with pytest.raises(errors.InputError, match=f"--unidirectional.*{message}"):
        tagger_inference.TagStream(model, TAGS)


def stream_lines(argv, capsys):
    code = cli.main(["stream", "text_analysis", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.strip().splitlines()


@pytest.mark.parametrize("chars, crf", [(False, False), (True, True)], ids=["softmax", "chars-crf"])
def test_rnn_apps_stream_prints_one_line_per_token(tmp_path, capsys, chars, crf):
    path, _ = saved_tagger(tmp_path, chars=chars, crf=crf)
    code, lines, notes = stream_lines(["--model", str(path), "Anna visited Berlin.", "Bo sang"], capsys)
    assert code == 0
    fields = [line.split("\t") for line in lines]
    assert [row[:3] for row in fields] == [
        ["0", "0", "Anna"],
        ["0", "1", "visited"],
        ["0", "2", "Berlin"],
        ["0", "3", "."],
        ["1", "0", "Bo"],
        ["1", "1", "sang"],
    ]
    assert all(row[3] in TAGS and 0 < float(row[4]) <= 1 for row in fields)
    assert any("forward-filtered" in note for note in notes) == crf


def test_rnn_apps_stream_json(tmp_path, capsys):
    path, _ = saved_tagger(tmp_path)
    code, lines, _ = stream_lines(["--model", str(path), "--format", "json", "Anna sang"], capsys)
    rows = [json.loads(line) for line in lines]
    assert code == 0 and [list(row) for row in rows] == [["text", "index", "token", "tag", "probability"]] * 2


def test_rnn_apps_stream_refuses_a_bidirectional_tagger(tmp_path, capsys):
    path, _ = saved_tagger(tmp_path, bidirectional=True)
    with pytest.raises(SystemExit) as exit_info:
        stream_lines(["--model", str(path), "Anna sang"], capsys)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "bidirectional" in captured.err and "--unidirectional" in captured.err
