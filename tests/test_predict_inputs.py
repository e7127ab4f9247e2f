"""Odd prediction inputs: ``-`` and ``@file``, empty inputs, arguments that cannot be paths, masked rows.

``rnn-apps predict`` reads ``-`` (standard input) and ``@path`` (a file), one
input per line, so texts over the command line's limit can be given; it
refuses empty inputs in every recipe; speech and video refuse an argument
that cannot name a file before asking the file system; and no row that a
model's mask hides whole, nor a left-padded or gapped mask, reaches the
fused recurrent kernel (`rnn_apps.layers.recurrent.guard_fused_kernel`).
The GPU's cuDNN path is emulated on the CPU by a stand-in that fails as
cuDNN does on such masks. Every model here is tiny and untrained.
"""

import io
import json
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.io import wavfile
from test_bad_input import RECIPES, cli_error, library_error, predict_error, tiny_models, write_ts

from recipes import sentiment, speech, video
from rnn_apps import errors
from rnn_apps.data import audio
from rnn_apps.harness import cli
from rnn_apps.layers import encoders, recurrent
from rnn_apps.tasks import acoustic, acoustic_inference


def masked_text_model(folder):
    """Raw strings -> TextVectorization -> Embedding(mask_zero) -> LSTM: a sentiment model in miniature."""
    texts = keras.Input(shape=(), dtype="string", name="text")
    ids = keras.layers.TextVectorization(vocabulary=["good", "bad"], output_sequence_length=6, name="vectorizer")(texts)
    vectors = keras.layers.Embedding(5, 3, mask_zero=True, name="embedding")(ids)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="head")(keras.layers.LSTM(4, name="lstm")(vectors))
    path = folder / "masked_text.keras"
    keras.Model(texts, outputs).save(path)
    path.with_suffix(".json").write_text(json.dumps({"class_names": ["neg", "pos"]}))
    return path


def masked_series_model(channels=2):
    """``(time, channels)`` -> Masking -> LSTM -> two classes: a joints or frames model in miniature."""
    inputs = keras.Input(shape=(None, channels), name="frames")
    masked = keras.layers.Masking(name="masking")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="head")(keras.layers.LSTM(4)(masked)))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = tiny_models(folder, ["text", "window", "waveform", "clip"])
    paths["masked_text"] = masked_text_model(folder)
    series = masked_series_model()
    for name, sidecar in [
        ("masked_joints", {"input": "joints", "class_names": ["a", "b"]}),
        ("masked_frames", {"task": "keywords", "class_names": ["a", "b"], "sample_rate": None, "input": "frames"}),
    ]:
        paths[name] = folder / f"{name}.keras"
        series.save(paths[name])
        paths[name].with_suffix(".json").write_text(json.dumps(sidecar))
    return paths


def predict_lines(argv, capsys, stdin: bytes = b"", monkeypatch=None) -> list[str]:
    """Run ``rnn-apps predict ARGV`` (standard input from ``stdin``); return its output lines."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    assert cli.main(["predict", *argv]) == 0
    return capsys.readouterr().out.splitlines()


# --------------------------------------------------------------------------
# '-' and '@path'


def test_dash_reads_standard_input_one_input_per_line(models, capsys, monkeypatch):
    argv = ["sentiment", "--model", str(models["text"]), "--format", "json", "-"]
    lines = predict_lines(argv, capsys, b"good film\r\nbad film\n", monkeypatch)
    assert [json.loads(line)["text"] for line in lines] == ["good film", "bad film"]


def test_at_file_reads_inputs_over_the_argument_limit(models, tmp_path, capsys, monkeypatch):
    """A 200 KiB text (the command line takes 128 KiB per argument) and a text starting with '@'."""
    long_text = "good " * 40_000
    inputs = tmp_path / "texts.txt"
    inputs.write_text(f"\ufeff{long_text}\nbad\n", encoding="utf-8")
    argv = ["sentiment", "--model", str(models["text"]), "--format", "json", f"@{inputs}", "@@handle bad"]
    texts = [json.loads(line)["text"] for line in predict_lines(argv, capsys, monkeypatch=monkeypatch)]
    assert texts == [long_text, "bad", "@handle bad"]


def test_at_file_of_clip_paths(models, tmp_path, capsys, monkeypatch):
    clip = tmp_path / "a.wav"
    wavfile.write(clip, 8000, (np.sin(np.arange(1600) / 3.0) * 9000).astype("int16"))
    (tmp_path / "clips.txt").write_text(f"{clip}\n{clip}\n")
    argv = ["speech", "--model", str(models["waveform"]), f"@{tmp_path / 'clips.txt'}"]
    assert len(predict_lines(argv, capsys, monkeypatch=monkeypatch)) == 2


def test_predict_help_documents_dash_and_at_file(capsys):
    with pytest.raises(SystemExit):
        cli.main(["predict", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "'-' reads standard input and '@FILE' reads FILE (UTF-8, or --encoding): one input per line" in help_text
    assert "--encoding ENCODING encoding of @FILE input lists and of .ts series files" in help_text


@pytest.mark.parametrize(
    "inputs, stdin, message",
    [
        (["@{missing}"], b"", "Expected @ followed by a readable file of inputs. Received: '@"),
        (["@{folder}"], b"", "(Is a directory)"),
        (["@"], b"", "Expected @ followed by the path of a file of inputs. Received: '' (empty)"),
        (["-", "-"], b"good\n", "Expected inputs to be '-' (standard input) at most once. Received: inputs=2"),
        (["-"], b"good\n\xff\xfe bad\n", "Received: 'standard input, line 2: byte 0xff is not utf-8'"),
        (["-"], b"", "Expected at least one input to predict. Received: 'none'"),
    ],
    ids=["missing-file", "folder", "no-path", "dash-twice", "not-utf8", "empty-stdin"],
)
def test_bad_input_sources_exit_2(inputs, stdin, message, models, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    inputs = [value.format(missing=tmp_path / "missing.txt", folder=tmp_path) for value in inputs]
    assert message in predict_error("sentiment", models["text"], inputs, capsys)


def test_encoding_decodes_input_lists(models, tmp_path, capsys, monkeypatch):
    """An @FILE list in Latin-1: refused as UTF-8 with the line named, read with --encoding latin-1."""
    inputs = tmp_path / "texts.txt"
    inputs.write_bytes("good film\nun café médiocre\n".encode("latin-1"))
    argv = ["sentiment", "--model", str(models["text"]), "--format", "json", f"@{inputs}"]
    line = predict_error(argv[0], models["text"], argv[3:], capsys)
    assert "(give the file's encoding with --encoding" in line and f"{inputs}, line 2: byte 0xe9" in line
    lines = predict_lines([*argv, "--encoding", "latin-1"], capsys, monkeypatch=monkeypatch)
    assert [json.loads(line)["text"] for line in lines] == ["good film", "un café médiocre"]
    assert "received 'klingon'" in cli_error(cli.main, ["predict", *argv, "--encoding", "klingon"], capsys)


SERIES_READERS = [
    ("video", "masked_joints", "predict"),
    ("video", "masked_joints", "stream"),
    ("speech", "masked_frames", "predict"),  # speech streams WAV audio only
]


@pytest.mark.parametrize("name, model, command", SERIES_READERS)
@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_encoding_reaches_series_files(name, model, command, encoding, models, tmp_path, capsys):
    """A .ts file not in UTF-8 (a header comment with a non-ASCII name): read with --encoding, else exit 2."""
    series = tmp_path / "series.ts"
    text = "# recorded by Zoë\n@problemName toy\n@timeStamps false\n@classLabel false\n@data\n1,2,3:4,5,6\n"
    series.write_bytes(text.encode(encoding))
    argv = [command, name, "--model", str(models[model]), str(series)]
    assert "give" in (line := cli_error(cli.main, argv, capsys)) and "--encoding" in line and "utf-8" in line
    assert cli.main([*argv, "--encoding", encoding, "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(row["input"] == f"{series}#0" and row["label"] in ("a", "b") for row in rows)


# --------------------------------------------------------------------------
# Empty inputs, and arguments that cannot be paths


EMPTY_REFUSED = {
    "sentiment": "Expected a text with at least one word. Received: {}",
    "speech": "Expected the path of a .wav file (or of a .ts file). Received: {} (empty)",
    "video": "Expected the path of a clip file or folder (or of a .ts file). Received: {} (empty)",
    "stocks": "Received: {}",  # already refused before: "a window of prices", "comma-separated prices"
    "text_analysis": "Expected a sentence with at least one word or symbol. Received: {}",
    "translation": "Expected a sentence with at least one word to translate. Received: {}",
}


@pytest.mark.parametrize("name", RECIPES)
@pytest.mark.parametrize("empty", ["", "   ", "\t"])
def test_empty_inputs_are_refused_in_every_recipe(name, empty, models, capsys):
    """Was ``pos 0.50`` (sentiment), the current folder (video) or '.' (speech)."""
    model = models["waveform" if name == "speech" else "window"]
    line = predict_error(name, model, [empty], capsys)
    assert EMPTY_REFUSED[name].format(repr(empty)) in line


@pytest.mark.parametrize("name", RECIPES)
def test_an_empty_line_in_an_input_file_is_refused(name, models, tmp_path, capsys):
    (tmp_path / "inputs.txt").write_text("1,2,3,4,5\n\n1,2,3,4,5\n")
    line = predict_error(name, models["window"], [f"@{tmp_path / 'inputs.txt'}"], capsys)
    assert f"Expected a non-empty line (one input per line). Received: '' ({tmp_path / 'inputs.txt'}, line 2)" in line


def test_library_predict_refuses_empty_inputs(models):
    """Called from Python (no command line), sentiment, speech and video refuse '' too."""
    library_error(sentiment.RECIPE.predict, models["text"], ["good", " "], match="a text with at least one word")
    library_error(speech.RECIPE.predict, models["waveform"], [""], match=r"path of a \.wav file.*\(empty\)")
    library_error(video.RECIPE.predict, models["clip"], [""], match=r"path of a clip file or folder.*\(empty\)")


@pytest.mark.parametrize("name, model", [("speech", "waveform"), ("video", "clip")])
@pytest.mark.parametrize(
    "argument, problem",
    [
        ("a long sentence given where a file was expected " * 6, "a name part over 255 bytes"),
        ("x" * 5000, "not a path"),
    ],
    ids=["300-characters", "5000-characters"],
)
def test_an_argument_that_cannot_be_a_path_is_one_line(name, model, argument, problem, models, capsys):
    """Was an ``OSError: File name too long`` traceback; the file system is no longer asked."""
    line = predict_error(name, models[model], [argument], capsys)
    assert f"characters)' ({problem})" in line and len(line) < 300


# --------------------------------------------------------------------------
# Masks: a fully masked row, left padding and gaps


def test_mask_layout_measures_the_padding_side():
    assert recurrent.mask_layout([[1, 1, 0], [1, 1, 1]]).padding == "right"
    assert recurrent.mask_layout([[0, 1, 1], [1, 1, 1]]).padding == "left"
    assert recurrent.mask_layout([[1, 0, 1], [1, 1, 0]]).padding == "gapped"
    layout = recurrent.mask_layout([[1, 0, 0], [0, 0, 0]])
    assert layout.empty_rows == (1,) and layout.lengths == (1, 0)
    library_error(recurrent.mask_layout, [1, 0], match="a \\(batch, time\\) mask")


class EmulatedCudnn:
    """Stands in for Keras's TensorFlow ``lstm`` on a GPU: fails as cuDNN does on a mask it cannot take.

    A right-padded mask with a step in every row goes on to the generic loop
    (there is no GPU here); any other mask raises the `InvalidArgumentError`
    that cuDNN's mask check raises inside ``predict_on_batch``.
    """

    def __init__(self):
        self.masks = []

    def __call__(self, inputs, initial_state_h, initial_state_c, mask, **kwargs):
        if mask is not None:
            layout = recurrent.mask_layout(np.asarray(mask))
            self.masks.append(layout)
            if layout.empty_rows or layout.padding != "right":
                raise tf.errors.InvalidArgumentError(None, None, "You are passing a RNN mask that does not correspond")
        raise NotImplementedError


@pytest.fixture
def cudnn(monkeypatch):
    from keras.src import backend

    fake = EmulatedCudnn()
    monkeypatch.setattr(backend, "lstm", fake)
    return fake


def series_batch(first_row_steps):
    """Two ``(4, 2)`` series: the first with ``first_row_steps`` set to the padding value 0, the second full."""
    batch = np.ones((2, 4, 2), "float32") * np.arange(1, 5, dtype="float32")[None, :, None]
    batch[0, first_row_steps] = 0.0
    return batch


def test_the_emulated_cudnn_path_fails_as_the_gpu_did(cudnn):
    """The condition itself: without the guard a fully masked row reaches the fused kernel and fails."""
    model = masked_series_model()
    model.run_eagerly = True  # the stand-in reads the mask's values
    with pytest.raises(tf.errors.InvalidArgumentError):
        model.predict_on_batch(series_batch([0, 1, 2, 3]))


def test_a_fully_masked_row_never_reaches_the_fused_kernel(cudnn):
    model = masked_series_model()
    with pytest.raises(errors.InputError, match=r"does not mask whole\. Received: 'first'"):
        recurrent.guard_fused_kernel(model, series_batch([0, 1, 2, 3]), ["first", "second"])
    assert cudnn.masks == []


@pytest.mark.parametrize("masked_steps, padding", [([0, 1], "left"), ([1, 2], "gapped")])
def test_left_padding_and_gaps_are_detected_and_run_on_the_generic_loop(masked_steps, padding, cudnn):
    model = masked_series_model()
    model.run_eagerly = True
    batch = series_batch(masked_steps)
    assert recurrent.guard_fused_kernel(model, batch, ["first", "second"]) == padding
    assert model.get_layer(index=2).use_cudnn is False
    outputs = model.predict_on_batch(batch)
    assert cudnn.masks == []  # the fused kernel was never asked
    # The generic loop skips masked steps wherever they sit: the same answer as the row right-padded.
    right_padded = batch.copy()
    right_padded[0] = np.concatenate([np.delete(batch[0], masked_steps, axis=0), np.zeros((2, 2), "float32")])
    np.testing.assert_allclose(outputs[0], model.predict_on_batch(right_padded)[0], rtol=1e-5, atol=1e-6)


def test_a_right_padded_batch_keeps_the_fused_kernel(cudnn):
    model = masked_series_model()
    model.run_eagerly = True
    batch = series_batch([3])
    assert recurrent.guard_fused_kernel(model, batch, ["first", "second"]) == "right"
    assert model.get_layer(index=2).use_cudnn == "auto"
    model.predict_on_batch(batch)
    assert [layout.padding for layout in cudnn.masks] == ["right"]


@pytest.mark.parametrize("text", ["!!!", "... ?", " , "])
def test_sentiment_refuses_a_text_the_model_masks_whole(text, models, capsys):
    """Punctuation alone vectorizes to padding: was labelled ``pos 0.50`` here, and failed in cuDNN on a GPU."""
    line = predict_error("sentiment", models["masked_text"], ["good", text], capsys)
    assert f"Expected a text with at least one word (the model drops punctuation). Received: {text!r}" in line


def test_sentiment_still_labels_words_it_does_not_know(models):
    rows = sentiment.RECIPE.predict(models["masked_text"], ["good", "zebra"])
    assert [row["label"] in ("neg", "pos") for row in rows] == [True, True]


@pytest.mark.parametrize("name, model", [("video", "masked_joints"), ("speech", "masked_frames")])
def test_a_series_of_padding_values_is_refused(name, model, models, tmp_path, capsys):
    series = write_ts(tmp_path / "series.ts", ["1,2,3:4,5,6", "0,0,0:0,0,0"], labels="@classLabel false")
    line = predict_error(name, models[model], [series], capsys)
    assert "Expected a series with a step that is not all zeros (padding). Received: " in line
    assert "series.ts#1" in line


def test_a_clip_starting_with_silence_runs_on_the_generic_loop(tmp_path, monkeypatch):
    """Exact silence before a word makes a left-padded mask in a waveform model: handled, not sent to cuDNN.

    Clips read from files are dithered (`rnn_apps.data.audio.dither`), which
    mostly lifts silence above the masking floor; without it the mask is
    left-padded, the condition this test builds.
    """
    front_end = acoustic.FrontEnd(8000, num_mel_bins=8)
    model = acoustic.waveform_classifier(encoders.EncoderConfig("lstm", units=4), 2, front_end, mask=True)
    rate, steps = 8000, np.arange(4000)
    clip = np.concatenate([np.zeros(4000), np.sin(steps / 2.0) * 0.5]).astype("float32")
    wavfile.write(tmp_path / "late.wav", rate, clip)
    info = {"task": "keywords", "class_names": ["a", "b"], "sample_rate": rate, "clip_samples": 8000}
    monkeypatch.setattr(audio, "dither", lambda samples: samples)
    switched = []
    monkeypatch.setattr(recurrent, "use_generic_loop", lambda model: switched.append(model) or 1)
    rows = acoustic_inference.predict(model, info | {"input": "waveform"}, "m.keras", [tmp_path / "late.wav"])
    assert rows[0]["label"] in ("a", "b") and switched == [model]


def test_error_lines_have_no_traceback(models, capsys):
    """The lines above come from `cli_error`'s checks: status 2, one line, no traceback."""
    cli_error(cli.main, ["predict", "video", "--model", str(models["clip"]), "y" * 300], capsys)
