"""Connected digits from speaker-labelled clips: the generator, and the speech recipe's digits task by speaker."""

import json
import shutil

import numpy as np
import pytest
from conftest import REPO
from test_bad_input import run_error

from recipes import speech
from rnn_apps import errors
from rnn_apps.data import audio, connected_digits, spoken

SPEAKERS = ("ann", "bob", "cy")
LEVELS = {"ann": 0.1, "bob": 0.2, "cy": 0.3}


def speaker_clips(takes: int = 4, digits: int = 10) -> audio.SpeakerClips:
    """Clips whose level tells their speaker (ann 0.1, bob 0.2, cy 0.3), after a quiet start (the pauses' level)."""
    clips, labels, speakers = [], [], []
    for speaker in SPEAKERS:
        for digit in range(digits):
            for _ in range(takes):
                clips.append(
                    np.concatenate([np.full(10, 1e-3), np.full(30 + digit, LEVELS[speaker])]).astype("float32")
                )
                labels.append(digit)
                speakers.append(speaker)
    names = [str(digit) for digit in range(digits)]
    return audio.SpeakerClips("toy", names, 1000, clips, np.array(labels), speakers)


def make(count=200, **options):
    data = speaker_clips()
    options = {"gap_seconds": (0.01, 0.03), "seed": 5} | options
    return connected_digits.make_connected_digits(data.clips, data.labels, data.speakers, count, 1000, **options)


def test_every_string_is_one_speakers_and_lengths_span_the_range():
    made = make(snr_db=None)
    lengths = [len(words) for words in made.transcripts]
    assert min(lengths) == 2 and max(lengths) == 7
    assert set(made.speakers) == set(SPEAKERS)
    for wave, speaker in zip(made.waveforms, made.speakers):
        # Without noise the words are the clips themselves, at their speaker's level; pauses are far quieter.
        loud = np.abs(wave)[np.abs(wave) > 0.05]
        assert np.allclose(loud, LEVELS[speaker])
        assert wave.dtype == np.float32


def test_the_same_seed_makes_the_same_strings_and_another_seed_others():
    first, again, other = make(count=20), make(count=20), make(count=20, seed=6)
    assert first.transcripts == again.transcripts and first.speakers == again.speakers
    assert all(np.array_equal(a, b) for a, b in zip(first.waveforms, again.waveforms))
    np.testing.assert_array_equal(first.snr_db, again.snr_db)
    assert first.transcripts != other.transcripts


def test_noise_is_added_at_the_drawn_snr_within_range():
    noisy, clean = make(count=40), make(count=40, snr_db=None)
    assert clean.transcripts == noisy.transcripts  # the noise draws from a stream of its own
    assert np.isnan(clean.snr_db).all()
    assert ((noisy.snr_db >= 10) & (noisy.snr_db <= 30)).all()
    assert ((noisy.noise_exponent >= 0) & (noisy.noise_exponent <= 2)).all()
    assert noisy.snr_db.std() > 3  # drawn per string, not one level for all
    for wave, reference, snr in zip(noisy.waveforms, clean.waveforms, noisy.snr_db):
        noise = wave.astype("float64") - reference
        measured = 10 * np.log10(np.mean(reference.astype("float64") ** 2) / np.mean(noise**2))
        assert measured == pytest.approx(snr, abs=1e-3)


def test_parts_of_a_speaker_fold_hold_only_their_own_speakers():
    data = speaker_clips()
    groups = spoken.speaker_groups(data.speakers)
    for fold, test_speaker in enumerate(SPEAKERS):
        split, who = spoken.speaker_fold(data, groups, fold)
        speakers = connected_digits.speakers_of_parts(split, data)
        made = connected_digits.connected_digit_strings(split, speakers, 30, 2, 7, seed=1, snr_db=None)
        assert set(made["test"].speakers) == {test_speaker}
        for part in ("train", "validation", "test"):
            assert set(made[part].speakers) <= set(who[part])
            levels = {LEVELS[name] for name in who[part]}
            for wave in made[part].waveforms:
                assert round(float(np.abs(wave).max()), 6) in levels
        # One speaker in each part: as many clips, so as many strings as the 30 to train on.
        assert {part: len(item.transcripts) for part, item in made.items()} == dict.fromkeys(made, 30)


def test_a_clip_from_elsewhere_is_refused():
    data = speaker_clips()
    split, _ = spoken.speaker_fold(data, spoken.speaker_groups(data.speakers), 0)
    split.test = ([np.ones(40, "float32")], np.array([0]))
    with pytest.raises(errors.InputError, match="clips of toy in every part"):
        connected_digits.speakers_of_parts(split, data)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"min_digits": 3, "max_digits": 2}, "1 <= min_digits <= max_digits"),
        ({"snr_db": (30, 10)}, "snr_db"),
        ({"gap_seconds": (-1, 0.1)}, "gap_seconds"),
    ],
)
def test_bad_settings_are_refused(options, message):
    with pytest.raises(errors.InputError, match=message):
        make(count=2, **options)


# --------------------------------------------------------------------------
# The recipe: --task digits --group-by speaker


def sample_speakers(root, takes=2):
    """Clips of the bundled digits sample, renamed as if three people had read them (FSDD names)."""
    root.mkdir(parents=True)
    sample = REPO / "data" / "speech" / "digits"
    for digit in range(10):
        files = sorted((sample / str(digit)).glob("*.wav"))
        for s, speaker in enumerate(SPEAKERS):
            for take in range(takes):
                shutil.copy(files[s * takes + take], root / f"{digit}_{speaker}_{take}.wav")
    return root


def test_leave_one_speaker_out_digits_end_to_end(tmp_path):
    data = sample_speakers(tmp_path / "recordings")
    output = tmp_path / "run"
    tiny = ["--epochs", "1", "--min-updates", "0", "--units", "4", "--batch-size", "8", "--sequences", "12"]
    tiny += ["--verbose", "0"]
    argv = ["--task", "digits", "--data", str(data), "--group-by", "speaker", "--model", "gru", *tiny]
    report = speech.main([*argv, "--max-digits", "3", "--output-dir", str(output)])
    assert json.loads((output / "metrics.json").read_text()) == json.loads(json.dumps(report))
    assert report["task"] == "digits" and report["primary_metric"] == "wer"
    assert report["dataset"] == "recordings, by speaker (3 folds)"
    keys = {"wer", "cer", "sequence_accuracy", "wer_beam", "cer_beam", "sequence_accuracy_beam"}
    for name in ("gru", "majority"):
        assert keys <= set(report["models"][name]["metrics"])
        per_fold = [fold["wer"] for fold in report["folds"][name]]
        assert len(per_fold) == 3
        assert report["models"][name]["metrics"]["wer"] == pytest.approx(np.mean(per_fold))
    assert report["speakers"]["folds"] == [["ann"], ["bob"], ["cy"]]
    assert report["digit_strings"]["speakers_per_string"] == 1
    assert report["config"]["max_digits"] == 3
    # Each part's strings: 12 to train on, 20 (the least) to stop on and to test.
    assert report["sizes"] == {"train": 12, "validation": 20, "test": 20}
    transcripts = json.loads((output / "transcripts.json").read_text())
    assert all(2 <= len(text.split()) <= 3 for text in transcripts["reference"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--min-digits", "8", "--group-by", "speaker"], "8 > 7"),  # by speaker the default is 7
        (["--min-digits", "6"], "6 > 5"),  # the sample's default stays 5
        (["--min-digits", "3", "--max-digits", "2", "--group-by", "speaker"], "3 > 2"),
    ],
)
def test_more_fewest_digits_than_most_exits_2(argv, message, tmp_path, capsys):
    line = run_error("speech", ["--task", "digits", *argv], tmp_path, capsys)
    assert "--min-digits <= --max-digits" in line and message in line


def test_most_digits_defaults_to_seven_by_speaker_and_five_elsewhere():
    for argv, most in ((["--task", "digits"], 5), (["--task", "digits", "--group-by", "speaker"], 7)):
        assert speech.most_digits(speech.RECIPE.parse(argv)) == most
    assert speech.most_digits(speech.RECIPE.parse(["--group-by", "speaker", "--max-digits", "4"])) == 4


def test_the_quick_preset_is_refined_for_digit_strings_and_flags_still_win():
    from recipes.configs.speech import SpeechConfig
    from rnn_apps.harness import config

    def parsed(*argv):
        return config.parse_config(SpeechConfig, list(argv), "speech")

    keywords, digits = parsed("--quick"), parsed("--quick", "--task", "digits")
    assert (keywords.units, keywords.batch_size, keywords.sequences) == (32, 16, 80)
    assert (digits.units, digits.batch_size, digits.learning_rate, digits.sequences) == (64, 8, 5e-3, 160)
    assert keywords.epochs == digits.epochs == 30  # the shared part of the preset
    assert parsed("--quick", "--task", "digits", "--units", "16").units == 16
    assert parsed("--task", "digits").units == SpeechConfig().units  # no preset without --quick
