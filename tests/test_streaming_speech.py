"""Streaming the speech models: audio chunk by chunk equals the whole saved model on the audio so far.

Untrained models from the `rnn_apps.tasks.acoustic` builders (equality holds
for any weights), at 8 kHz so windows are small; this file also runs on JAX
and PyTorch through `tests/test_backends.py`.
"""

import json

import keras
import numpy as np
import pytest
from scipy.io import wavfile

from rnn_apps import errors, io
from rnn_apps.harness import cli
from rnn_apps.layers import encoders, recurrent
from rnn_apps.tasks import acoustic, acoustic_inference, acoustic_streaming

RNG = np.random.default_rng(5)
FRONT = acoustic.FrontEnd(8000, num_mel_bins=8)
WORDS = ["yes", "no", "up"]
# Three 80-sample frame steps; the 256-sample windows around each chunk boundary straddle two chunks.
CHUNK = 240


def speech_model(cell="gru", task="keywords", num_layers=1, bidirectional=False):
    """An untrained waveform model with made-up training statistics, as the recipe builds one."""
    config = encoders.EncoderConfig(
        model=cell, units=5, num_layers=num_layers, bidirectional=bidirectional, cnn_kind="conv2d", filters=(4,)
    )
    mean, variance = RNG.normal(-40.0, 5.0, 8), RNG.uniform(20.0, 60.0, 8)
    if task == "digits":
        return acoustic.waveform_transcriber(config, len(WORDS), FRONT, mean, variance)
    return acoustic.waveform_classifier(config, len(WORDS), FRONT, mean, variance)


def waveform(samples=960):
    """A noisy tone at 8 kHz, float32 in [-1, 1]."""
    steps = np.arange(samples) / FRONT.sample_rate
    wave = 0.3 * np.sin(2 * np.pi * 440 * steps) * np.linspace(0.2, 1, samples) + RNG.normal(0, 0.05, samples)
    return wave.astype("float32")


def whole(model, samples):
    """The whole model's output on ``samples``, batch axis dropped."""
    if keras.backend.backend() == "jax":  # each length compiles: one compiled step is quicker than op by op
        return keras.ops.convert_to_numpy(model.predict_on_batch(samples[None]))[0]
    return keras.ops.convert_to_numpy(model(samples[None], training=False))[0]


@pytest.mark.parametrize("task", ["keywords", "digits"])
@pytest.mark.parametrize("cell", recurrent.CELLS)
def test_chunks_give_the_whole_models_output_on_the_audio_so_far(cell, task):
    model = speech_model(cell, task)
    stream = acoustic_streaming.WaveformStream(model)
    assert stream.per_frame == (task == "digits")
    wave, received, outputs = waveform(), 0, []
    for piece in acoustic_streaming.chunks(wave, CHUNK):
        received += len(piece)
        output = stream.push(piece)
        expected = whole(model, wave[:received])
        assert output.shape == expected.shape  # digits: 1 + received // 80 frames
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6, err_msg=f"{received} samples")
        outputs.append(output)
    # The state is carried from chunk to chunk: the answer moves as audio comes in.
    assert not np.allclose(outputs[0][-1], outputs[-1][-1])


def test_two_layers_and_a_reset_stream_a_second_clip_alike():
    model = speech_model("lstm", "digits", num_layers=2)
    stream = acoustic_streaming.WaveformStream(model)
    first, second = waveform(700), waveform(900)
    for clip in (first, second):
        stream.reset()
        for piece in acoustic_streaming.chunks(clip, 320):
            output = stream.push(piece)
        np.testing.assert_allclose(output, whole(model, clip), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("task", ["keywords", "digits"])
def test_frames_of_digital_silence_are_skipped_as_the_whole_model_skips_them(task):
    # Exact zeros are the padding marker: the mask keeps the state, and repeats the last output, in both.
    model = speech_model("lstm", task)
    wave = waveform(1200)
    wave[300:800] = 0.0
    stream = acoustic_streaming.WaveformStream(model)
    for piece in acoustic_streaming.chunks(wave, CHUNK):
        output = stream.push(piece)
    np.testing.assert_allclose(output, whole(model, wave), rtol=1e-5, atol=1e-6)


def test_final_frames_are_the_whole_clips_frames():
    front = acoustic.feature_model(FRONT)
    buffer = acoustic_streaming.FrameBuffer(front, FRONT.frame_step, FRONT.fft_length)
    wave = waveform(2000)
    final = []
    for piece in acoustic_streaming.chunks(wave, 230):
        done, provisional = buffer.push(piece)
        final.append(done)
    frames = keras.ops.convert_to_numpy(front(wave[None]))[0]
    final = np.concatenate(final)
    # Final frames never change; the provisional ones are the clip's last frames, which read its reflected end.
    assert len(final) + len(provisional) == len(frames) == FRONT.frames([len(wave)])[0]
    np.testing.assert_allclose(np.concatenate([final, provisional]), frames, rtol=1e-6, atol=1e-4)
    # Only the last samples are kept: what the next frame's window reaches back to.
    assert len(buffer.samples) < 2 * FRONT.fft_length + 230


def test_audio_shorter_than_half_a_window_has_no_output_yet():
    stream = acoustic_streaming.WaveformStream(speech_model())
    assert stream.push(waveform(FRONT.fft_length // 2)) is None
    assert stream.push(waveform(10)).shape == (len(WORDS),)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(bidirectional=True), r"'encoder_bidirectional_1' \(Bidirectional\) reads the clip backwards"),
        (dict(cell="cnn"), r"'cnn2d_conv_1' \(Conv2D\) reads frames that have not come in yet"),
    ],
    ids=["bidirectional", "cnn"],
)
@pytest.mark.parametrize("task", ["keywords", "digits"])
def test_models_that_need_the_future_are_refused(options, message, task):
    with pytest.raises(errors.InputError, match=f"one-direction recurrent speech model.*{message}"):
        acoustic_streaming.WaveformStream(speech_model(task=task, **options))


# --------------------------------------------------------------------------
# rnn-apps stream speech


def saved_model(tmp_path, task="keywords", **options):
    """An untrained model saved with its sidecar, as the recipe exports one."""
    path = tmp_path / f"{task}.keras"
    io.save_model(speech_model(task=task, **options), path)
    sidecar = {
        "task": task,
        "class_names": WORDS,
        "sample_rate": FRONT.sample_rate,
        "clip_samples": None,
        "input": "waveform",
        "front_end": FRONT.to_dict(),
    }
    io.write_json(path.with_suffix(".json"), sidecar)
    return path


def wav_file(tmp_path, samples, name="clip.wav"):
    path = tmp_path / name
    wavfile.write(path, FRONT.sample_rate, (waveform(samples) * 32767).astype("int16"))
    return path


def stream_lines(argv, capsys):
    code = cli.main(["stream", "speech", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.strip().splitlines()


def test_rnn_apps_stream_prints_the_keyword_after_each_chunk(tmp_path, capsys):
    model, clip = saved_model(tmp_path), wav_file(tmp_path, 2000)  # chunks of 800 samples (100 ms)
    code, lines, _ = stream_lines(["--model", str(model), str(clip)], capsys)
    assert code == 0
    rows = [line.split("\t") for line in lines]
    assert [row[:2] for row in rows] == [["0", "0.1"], ["1", "0.2"], ["2", "0.25"]]
    assert all(row[2] in WORDS and 0 < float(row[3]) <= 1 and row[4] == str(clip) for row in rows)
    # After the last chunk the stream has heard the whole clip: rnn-apps predict's answer.
    loaded = keras.models.load_model(model)
    info = acoustic_inference.model_info(loaded, model)
    (predicted,) = acoustic_inference.predict(loaded, info, model, [str(clip)])
    assert rows[-1][2:4] == [predicted["label"], str(predicted["probability"])]


def test_rnn_apps_stream_prints_the_running_transcript_as_json(tmp_path, capsys):
    model, first, second = saved_model(tmp_path, "digits"), wav_file(tmp_path, 900), wav_file(tmp_path, 700, "b.wav")
    code, lines, _ = stream_lines(["--model", str(model), "--format", "json", str(first), str(second)], capsys)
    assert code == 0
    rows = [json.loads(line) for line in lines]
    assert [list(row) for row in rows] == [["chunk", "seconds", "transcript", "input"]] * 3
    assert [(row["chunk"], row["seconds"], row["input"]) for row in rows] == [
        (0, 0.1, str(first)),
        (1, 0.1125, str(first)),
        (0, 0.0875, str(second)),
    ]
    assert all(set(row["transcript"].split()) <= set(WORDS) for row in rows)


@pytest.mark.parametrize("options", [dict(bidirectional=True), dict(cell="cnn")], ids=["bidirectional", "cnn"])
def test_rnn_apps_stream_refuses_models_that_need_the_future(tmp_path, capsys, options):
    model, clip = saved_model(tmp_path, **options), wav_file(tmp_path, 900)
    with pytest.raises(SystemExit) as exit_info:
        stream_lines(["--model", str(model), str(clip)], capsys)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2 and captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert "error: Expected a one-direction recurrent speech model" in line
