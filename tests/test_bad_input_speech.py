"""Bad input for the speech recipe: its flags, WAV folders, FSDD, UEA .ts files, tfds, and predict."""

import numpy as np
import pytest
import tensorflow_datasets as tfds
from scipy.io import wavfile
from test_bad_input import copy_model, library_error, predict_error, run_error, tiny_models, write_ts

from recipes import speech
from rnn_apps.data import audio, uea


def tone(frequency=440, seconds=0.2, rate=8000):
    steps = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * steps) * 32767).astype("int16")


def class_folders(root, bad=None, per_class=6):
    """``root/{a,b}/*.wav`` tones; ``bad`` (bytes or samples) replaces the first clip of ``a``."""
    for label, frequency in (("a", 300), ("b", 900)):
        (root / label).mkdir(parents=True)
        for index in range(per_class):
            wavfile.write(root / label / f"{index}.wav", 8000, tone(frequency + 10 * index))
    if isinstance(bad, bytes):
        (root / "a" / "0.wav").write_bytes(bad)
    elif bad is not None:
        wavfile.write(root / "a" / "0.wav", 8000, bad)
    return root


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--task", "words"], "argument --task: invalid choice: 'words'"),
        (["--sample-rate", "0"], "argument --sample-rate: expected a positive integer, received '0'"),
        (["--sample-rate", "100000000"], "argument --sample-rate: expected a rate in Hz from 1000 to 192000"),
        (["--sample-rate", "100"], "argument --sample-rate: expected a rate in Hz from 1000 to 192000"),
        (["--clip-seconds", "inf"], "argument --clip-seconds: expected a positive number, received 'inf'"),
        (["--clip-seconds", "0"], "argument --clip-seconds: expected a positive number"),
        (["--mel-bins", "0"], "argument --mel-bins: expected a positive integer"),
        (["--mel-bins", "500"], "to be at most 257 mel bins (the frequency bins of a 512-point FFT at 16000 Hz)"),
        (["--cnn-filters", "8,x"], "argument --cnn-filters: expected a positive integer, received 'x'"),
        (["--cnn-filters", "8,0"], "argument --cnn-filters: expected a positive integer, received '0'"),
        (["--sequences", "0"], "argument --sequences: expected a positive integer"),
        (["--beam-width", "0"], "argument --beam-width: expected a positive integer"),
        (["--min-digits", "5", "--max-digits", "2"], "Expected --min-digits to be --min-digits <= --max-digits"),
    ],
)
def test_flags(argv, message, tmp_path, capsys):
    assert message in run_error("speech", argv, tmp_path, capsys)


@pytest.mark.parametrize(
    "bad, message",
    [
        (b"RIFF\x10\x00\x00\x00WAVEjunk", "Expected a readable WAV file (PCM or float). Received:"),
        (b"not a wav file at all", "Expected a readable WAV file (PCM or float). Received:"),
        (np.zeros(0, "int16"), "Expected a clip with audio. Received: 'an empty clip"),
        (np.zeros(800, "int16"), "Expected a clip with audio. Received: 'a silent clip, peak below -80 dBFS"),
        (np.full(800, np.nan, "float32"), "Expected finite sample values. Received: 'NaN or infinity in"),
        (np.stack([tone(), tone(500)], axis=1), None),  # stereo is fine: averaged with a notice
    ],
    ids=["truncated", "text", "empty", "silent", "nan", "stereo-ok"],
)
def test_malformed_wav_files(bad, message, tmp_path, capsys):
    """Broken files fail with one line naming the file (scipy's chunk warnings no longer add lines)."""
    root = class_folders(tmp_path / "clips", bad, per_class=10)
    if message is None:
        data = speech.RECIPE.load_data(speech.RECIPE.parse(["--data", str(root)])).clips
        assert data.sample_rate == 8000 and "averaged to mono" in capsys.readouterr().err
        return
    line = run_error("speech", ["--data", str(root)], tmp_path, capsys)
    assert message in line and "0.wav" in line


def test_malformed_folders(tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "notes").mkdir(parents=True)
    (empty / "notes" / "readme.txt").write_text("no audio")
    line = run_error("speech", ["--data", str(empty)], tmp_path, capsys)
    assert "Received: '0 label folder(s) and 0 unlabelled .wav file(s)" in line
    one = tmp_path / "one"
    (one / "yes").mkdir(parents=True)
    wavfile.write(one / "yes" / "0.wav", 8000, tone())
    assert "'1 label folder(s)" in run_error("speech", ["--data", str(one)], tmp_path, capsys)
    few = class_folders(tmp_path / "few", per_class=1)
    line = run_error("speech", ["--data", str(few)], tmp_path, capsys)
    assert "Expected enough rows of every class to hold out a test part of 10%" in line
    mp3 = tmp_path / "song.mp3"
    mp3.write_text("x")
    assert "Expected a folder of .wav files, a .ts file" in run_error("speech", ["--data", str(mp3)], tmp_path, capsys)


def test_fsdd_layout(tmp_path, capsys):
    only_train = tmp_path / "fsdd"
    only_train.mkdir()
    for digit in (0, 1):
        for index in (5, 6):
            wavfile.write(only_train / f"{digit}_bob_{index}.wav", 8000, tone(300 + 400 * digit))
    line = run_error("speech", ["--data", str(only_train)], tmp_path, capsys)
    assert "Expected FSDD files with index 0-4 (test) and 5 or more (train). Received: '4 files'" in line
    for digit in (0, 1):
        wavfile.write(only_train / f"{digit}_bob_0.wav", 8000, tone())
    (only_train / "0_bob_5.wav").rename(only_train / "3_bob_5.wav")
    (only_train / "0_bob_0.wav").rename(only_train / "3_bob_0.wav")
    assert "Expected FSDD digits 0 to n-1. Received: [0, 1, 3]" in run_error(
        "speech", ["--data", str(only_train)], tmp_path, capsys
    )


def test_clip_seconds_shorter_than_a_frame(tmp_path, capsys):
    """Clips cut below one 25 ms analysis frame used to fail inside MelSpectrogram."""
    root = class_folders(tmp_path / "clips", per_class=10)
    line = run_error("speech", ["--data", str(root), "--clip-seconds", "0.001"], tmp_path, capsys)
    assert "Expected --clip-seconds to be at least one analysis frame (0.025 s). Received: --clip-seconds=0.001" in line


@pytest.mark.parametrize(
    "rows, labels, message",
    [
        (["1,x:a"], "@classLabel true a b", "Expected comma-separated numbers (or '?') in every channel"),
        (["1,2:3,4:c"], "@classLabel true a b", "Expected labels declared by @classLabel"),
        (["1,2:3,4:a", "1,2:b"], "@classLabel true a b", "Expected the same number of channels in every series"),
        (["1,2:3,4", "5,6:7,8"], "@classLabel false", "Expected a .ts file with class labels (@classLabel true"),
        ([], "@classLabel true a b", "Expected at least one series after @data"),
    ],
)
def test_malformed_ts_files(rows, labels, message, tmp_path, capsys):
    path = write_ts(tmp_path / "Toy_TRAIN.ts", rows, labels)
    assert message in run_error("speech", ["--data", str(path)], tmp_path, capsys)


def test_ts_pairs_that_do_not_match(tmp_path, capsys):
    rows = [f"{i},{i + 1}:{i},{i}:{'ab'[i % 2]}" for i in range(20)]
    write_ts(tmp_path / "Toy_TRAIN.ts", rows)
    write_ts(tmp_path / "Toy_TEST.ts", ["1,2:a"] * 4)
    line = run_error("speech", ["--data", str(tmp_path / "Toy_TRAIN.ts")], tmp_path, capsys)
    assert "Expected 2 channels in" in line and "Received: 1" in line
    write_ts(tmp_path / "Toy_TEST.ts", ["1,2:3,4:c"], "@classLabel true a b c")
    line = run_error("speech", ["--data", str(tmp_path)], tmp_path, capsys)
    assert "Expected test labels among the training labels ['a', 'b']. Received: ['c']" in line
    line = run_error("speech", ["--data", str(tmp_path), "--task", "digits"], tmp_path, capsys)
    assert "Expected audio for --task digits (a .ts file holds frames, not waveforms)" in line
    (tmp_path / "no_data.ts").write_text("@problemName x\n")
    library_error(uea.read_ts, tmp_path / "no_data.ts", match="an @data section")


def test_tensorflow_datasets_without_audio(tmp_path, capsys):
    with tfds.testing.mock_data(num_examples=3):
        line = run_error("speech", ["--data", "mnist"], tmp_path, capsys)
    assert "Expected a dataset with 'audio' and 'label' features. Received: \"mnist: ['image', 'label']\"" in line


def test_library_functions(tmp_path):
    library_error(audio.read_wav, tmp_path / "missing.wav", match="an existing .wav file")
    library_error(audio.to_mono, np.zeros((2, 2, 2)), match=r"a 1-D waveform or \(time, channels\)")
    library_error(audio.make_sequences, [np.ones(10)], [0], 5, 8000, min_words=3, max_words=2, match="min_words")
    library_error(audio.load_audio_classification, "no/such/folder", match="an existing file or folder")


# --------------------------------------------------------------------------
# predict


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp("models"), ["waveform", "series", "text"])


@pytest.fixture
def wav(tmp_path):
    wavfile.write(tmp_path / "ok.wav", 8000, tone())
    return tmp_path / "ok.wav"


def test_predict_on_a_good_clip_works(models, wav):
    (row,) = speech.RECIPE.predict(models["waveform"], [wav])
    assert row["label"] in ("yes", "no")


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "Expected an existing .wav file. Received:"),
        (b"plain text", "Expected a readable WAV file (PCM or float). Received:"),
        (np.zeros(0, "int16"), "Expected a clip with audio. Received: 'an empty clip"),
        (np.zeros(400, "int16"), "Expected a clip with audio. Received: 'a silent clip"),
    ],
    ids=["missing", "text", "empty", "silent"],
)
def test_predict_refuses_bad_clips(models, wav, content, message, tmp_path, capsys):
    path = tmp_path / "bad.wav"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        wavfile.write(path, 8000, content)
    assert message in predict_error("speech", models["waveform"], [wav, path], capsys)


def test_predict_transcribes_a_clip_shorter_than_one_frame(tmp_path):
    """A clip under 25 ms used to reach MelSpectrogram unpadded and fail there (InvalidArgumentError)."""
    model = tiny_models(tmp_path, ["digits"])["digits"]
    wavfile.write(tmp_path / "short.wav", 8000, tone(seconds=0.01))
    (row,) = speech.RECIPE.predict(model, [tmp_path / "short.wav"])
    assert set(row["transcript"].split()) <= set("0123456789")


def test_predict_refuses_inputs_of_the_wrong_kind(models, wav, tmp_path, capsys):
    series = write_ts(tmp_path / "x.ts", ["1,2,3:4,5,6"], "@classLabel false")
    assert "Expected a readable WAV file" in predict_error("speech", models["waveform"], [series], capsys)
    assert "Expected path to be a .ts file with an @data section" in predict_error(
        "speech", models["series"], [wav], capsys
    )
    three = write_ts(tmp_path / "three.ts", ["1,2:3,4:5,6"], "@classLabel false")
    line = predict_error("speech", models["series"], [three], capsys)
    assert "Expected series with 2 channels (the model's). Received:" in line and "3 in" in line


def test_predict_refuses_a_model_of_another_recipe(models, wav, tmp_path, capsys):
    sidecar = models["waveform"].with_suffix(".json").read_text()
    model = copy_model(models["text"], tmp_path, sidecar)
    line = predict_error("speech", model, [wav], capsys)
    assert "Expected a .keras model saved by this recipe, taking 1 input(s) of rank (2,), float" in line


@pytest.mark.parametrize(
    "sidecar, message",
    [("{", "Expected the .json file saved beside the model"), ('{"task": "keywords"}', "with the keys ['task'")],
)
def test_predict_refuses_a_broken_sidecar(models, wav, sidecar, message, tmp_path, capsys):
    model = copy_model(models["waveform"], tmp_path, sidecar)
    assert message in predict_error("speech", model, [wav], capsys)


def test_predict_library(models):
    library_error(speech.RECIPE.predict, models["waveform"], [], match="at least one .wav file")
