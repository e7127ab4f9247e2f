"""The speech recipe's cross-validation by speaker (--group-by speaker) and its generalisation layers."""

import json

import keras
import numpy as np
import pytest
from scipy.io import wavfile
from test_bad_input import run_error

from recipes import speech
from rnn_apps import errors
from rnn_apps.data import audio, spoken
from rnn_apps.harness import cli
from rnn_apps.tasks import acoustic, acoustic_streaming

SPEAKERS = ("ann", "bob", "cy")
TINY = ["--epochs", "1", "--units", "4", "--cnn-filters", "4", "--batch-size", "8", "--verbose", "0"]


def voice(digit: int, speaker: int, take: int, rate: int = 8000) -> np.ndarray:
    """A 0.25 s two-tone clip: the digit sets the pitch, the speaker shifts it a little, as a voice would."""
    steps = np.arange(int(0.25 * rate)) / rate
    pitch = 300 + 250 * digit + 20 * speaker + 5 * take
    wave = 0.4 * np.sin(2 * np.pi * pitch * steps) + 0.2 * np.sin(2 * np.pi * 2.5 * pitch * steps)
    noise = np.random.default_rng(100 * speaker + 10 * digit + take).normal(0, 0.01, steps.shape)
    return ((wave + noise) * 32767).astype("int16")


def fsdd_folder(root, speakers=SPEAKERS, digits=2, takes=3, extra=None):
    """``root/DIGIT_SPEAKER_TAKE.wav`` for every digit, speaker and take; ``extra`` names one more file."""
    root.mkdir(parents=True, exist_ok=True)
    for s, speaker in enumerate(speakers):
        for digit in range(digits):
            for take in range(takes):
                wavfile.write(root / f"{digit}_{speaker}_{take}.wav", 8000, voice(digit, s, take))
    if extra:
        wavfile.write(root / extra, 8000, voice(0, 0, 0))
    return root


@pytest.fixture(scope="module")
def folds_run(tmp_path_factory):
    data = fsdd_folder(tmp_path_factory.mktemp("fsdd_speakers") / "recordings")
    output = tmp_path_factory.mktemp("speaker_folds")
    argv = ["--data", str(data), "--group-by", "speaker", "--model", "gru,cnn", "--output-dir", str(output), *TINY]
    return data, output, speech.main(argv)


def test_every_speaker_is_tested_once_and_the_report_holds_each_fold(folds_run):
    _, output, report = folds_run
    assert json.loads((output / "metrics.json").read_text()) == json.loads(json.dumps(report))
    assert report["dataset"] == "recordings, by speaker (3 folds)"
    assert report["speakers"]["folds"] == [["ann"], ["bob"], ["cy"]]
    for name in ("gru", "cnn", "majority"):
        per_fold = [fold["accuracy"] for fold in report["folds"][name]]
        assert len(per_fold) == 3
        assert report["models"][name]["metrics"]["accuracy"] == pytest.approx(np.mean(per_fold))
    # The last fold tests cy, stops early on ann (a whole other speaker), trains on bob.
    assert {key: report["speakers"][key] for key in ("test", "validation", "train")} == {
        "test": ["cy"],
        "validation": ["ann"],
        "train": ["bob"],
    }
    assert report["sizes"] == {"train": 6, "validation": 6, "test": 6}
    assert report["config"]["group_by"] == "speaker"


def test_the_last_fold_model_is_saved_and_predicts_on_a_raw_wav(folds_run, capsys):
    data, output, _ = folds_run
    assert sorted(path.name for path in (output / "models").glob("*.keras")) == ["cnn.keras", "gru.keras"]
    capsys.readouterr()
    model = str(output / "models" / "gru.keras")
    assert cli.main(["predict", "speech", "--model", model, "--format", "json", str(data / "1_cy_0.wav")]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["label"] in ("0", "1")


def test_one_fold_runs_alone_with_its_speakers_named(tmp_path):
    data = fsdd_folder(tmp_path / "recordings")
    argv = ["--data", str(data), "--group-by", "speaker", "--fold", "1", "--model", "gru", *TINY]
    report = speech.main([*argv, "--output-dir", str(tmp_path / "out"), "--utterance-norm", "--spec-augment"])
    assert report["folds"] is None
    assert report["speakers"]["test"] == ["bob"] and report["speakers"]["validation"] == ["cy"]
    assert "speakers bob" not in report["dataset"] and "speaker bob held out" in report["dataset"]
    model = keras.models.load_model(tmp_path / "out" / "models" / "gru.keras")
    names = [layer.name for layer in model.layers]
    assert "normalize_utterance" in names and "spec_augment" in names and "normalize" not in names
    with pytest.raises(errors.InputError, match="needs the whole clip's statistics"):
        acoustic_streaming.split_front_end(model)


def test_speaker_groups_and_folds_by_whole_speakers():
    clips = [np.ones(8, "float32")] * 8
    data = audio.SpeakerClips(
        "toy", ["0", "1"], 8000, clips, np.array([0, 1] * 4), ["a", "a", "b", "b", "c", "c", "d", "d"]
    )
    groups = spoken.speaker_groups(data.speakers, 2)
    assert groups == [["a", "c"], ["b", "d"]]
    split, speakers = spoken.speaker_fold(data, groups, 0)
    assert speakers == {"test": ["a", "c"], "validation": ["b"], "train": ["d"]}
    assert split.sizes() == {"train": 2, "validation": 2, "test": 4}
    split, speakers = spoken.speaker_fold(data, groups, 0, validation_fraction=0.5, validation="fraction")
    assert speakers == {"test": ["a", "c"], "validation": ["b", "d"], "train": ["b", "d"]}
    assert split.sizes() == {"train": 2, "validation": 2, "test": 4}
    # Two speakers: the one left trains, and a stratified share of its clips stops early.
    pair = audio.SpeakerClips("toy", ["0", "1"], 8000, clips, np.array([0, 1] * 4), ["a"] * 4 + ["b"] * 4)
    split, speakers = spoken.speaker_fold(pair, spoken.speaker_groups(pair.speakers), 0, validation_fraction=0.5)
    assert speakers == {"test": ["a"], "validation": ["b"], "train": ["b"]}
    assert split.sizes() == {"train": 2, "validation": 2, "test": 4}


def test_utterance_normalization_ignores_padding_and_removes_a_gain():
    layer = acoustic.UtteranceNormalization()
    rng = np.random.default_rng(0)
    frames = rng.uniform(1, 40, (1, 6, 5)).astype("float32")
    padded = np.concatenate([frames, np.zeros((1, 3, 5), "float32")], axis=1)
    alone, with_padding = (keras.ops.convert_to_numpy(layer(x)) for x in (frames, padded))
    np.testing.assert_allclose(with_padding[:, :6], alone, atol=1e-5)
    assert np.all(with_padding[:, 6:] == 0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(frames + 7.0)), alone, atol=1e-4)
    np.testing.assert_allclose(alone.mean(axis=1), 0, atol=1e-5)


def test_spectrogram_masking_hides_spans_inside_the_spoken_frames_in_training_only():
    layer = acoustic.SpectrogramMasking(time_masks=2, time_width=3, frequency_masks=1, frequency_width=2, seed=1)
    x = np.concatenate([np.ones((16, 10, 6), "float32"), np.zeros((16, 5, 6), "float32")], axis=1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    masked = keras.ops.convert_to_numpy(layer(x, training=True))
    assert np.all(masked[:, 10:] == 0)  # padding stays padding
    hidden_frames = np.all(masked[:, :10] == 0, axis=2).sum(axis=1)
    hidden_bins = np.all(masked[:, :10] == 0, axis=1).sum(axis=1)
    assert hidden_frames.max() <= 6 and hidden_bins.max() <= 2 and (hidden_frames + hidden_bins).sum() > 0
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert restored.get_config() == layer.get_config()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--folds", "3"], "Expected --folds to be --group-by speaker with it. Received: --folds=3"),
        (["--group-by", "speaker", "--speaker-pattern", "(unclosed"], "argument --speaker-pattern: expected a regular"),
        (["--group-by", "speaker", "--speaker-pattern", "no group"], "with a group (the speaker)"),
        (["--group-by", "speaker", "--fold", "3"], "Expected --fold to be a fold from 0 to 2. Received: --fold=3"),
        (["--group-by", "speaker", "--folds", "4"], "Expected --folds to be 2 to 3 folds (the number of speakers)"),
    ],
)
def test_bad_flags(argv, message, tmp_path, capsys):
    data = fsdd_folder(tmp_path / "recordings", digits=2, takes=1)
    assert message in run_error("speech", ["--data", str(data), *argv], tmp_path, capsys)


def test_a_file_without_a_speaker_is_named(tmp_path, capsys):
    data = fsdd_folder(tmp_path / "recordings", takes=1)
    (data / "0").mkdir()
    for path in sorted(data.glob("0_*.wav")):
        path.rename(data / "0" / path.name)
    (data / "1").mkdir()
    for path in sorted(data.glob("1_*.wav")):
        path.rename(data / "1" / path.name)
    wavfile.write(data / "1" / "nospeaker.wav", 8000, voice(1, 0, 0))
    line = run_error("speech", ["--data", str(data), "--group-by", "speaker"], tmp_path, capsys)
    assert "Expected a speaker in every file name" in line and "nospeaker.wav" in line


def test_one_speaker_is_too_few(tmp_path, capsys):
    data = fsdd_folder(tmp_path / "recordings", speakers=("ann",), takes=2)
    line = run_error("speech", ["--data", str(data), "--group-by", "speaker"], tmp_path, capsys)
    assert "Expected two speakers or more for --group-by speaker. Received: ['ann']" in line
