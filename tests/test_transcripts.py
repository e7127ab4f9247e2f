"""Sentences spelt with CTC (``--task transcripts``): text standardisation, corpus readers, runs end to end.

The end-to-end corpus is made here with espeak-ng: short sentences from a
small word list, written as an LJSpeech-style folder. Without espeak-ng those
tests are skipped, unless ``RNN_APPS_REQUIRE_ESPEAK=1`` (as in CI) makes a
missing espeak-ng a failure.
"""

import json
import os
import shutil
import subprocess

import keras
import numpy as np
import pytest
from scipy.io import wavfile

from recipes import speech
from rnn_apps import errors
from rnn_apps.data import transcripts
from rnn_apps.harness import cli
from rnn_apps.tasks import acoustic

WORDS = (
    "the", "a", "red", "blue", "green", "big", "small", "cat", "dog", "fish", "bird", "runs", "sleeps", "eats",
    "jumps", "home", "now", "fast",
)  # fmt: skip
VOICES = ("en-us", "en-gb", "en-us+m3", "en-gb+f2")


def sentences(count: int, seed: int, fewest: int = 2, most: int = 4) -> list[str]:
    """``count`` sentences of ``fewest`` to ``most`` words drawn from `WORDS`."""
    random = np.random.default_rng(seed)
    return [" ".join(random.choice(WORDS, int(random.integers(fewest, most + 1)))) for _ in range(count)]


def espeak_corpus(folder, count: int, seed: int, voices=VOICES[:1]):
    """An LJSpeech-style folder of ``count`` espeak-ng sentences; each row's raw text is capitalised and ends in '.'.

    Every third row leaves the normalized column out, so both columns are read.
    """
    executable = shutil.which("espeak-ng")
    if executable is None:
        if os.environ.get("RNN_APPS_REQUIRE_ESPEAK") == "1":
            pytest.fail("espeak-ng is not installed, and RNN_APPS_REQUIRE_ESPEAK=1 requires it")
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    random = np.random.default_rng(seed)
    (folder / "wavs").mkdir(parents=True)
    rows = []
    for index, text in enumerate(sentences(count, seed)):
        key = f"S{seed:03d}-{index:04d}"
        voice, speed = random.choice(voices), int(random.integers(140, 190))
        command = [executable, "-v", voice, "-s", str(speed), "-w", str(folder / "wavs" / f"{key}.wav"), text]
        subprocess.run(command, check=True, capture_output=True)
        raw = text.capitalize() + "."
        rows.append(f"{key}|{raw}" if index % 3 == 0 else f"{key}|{raw}|{raw}")
    (folder / "metadata.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return espeak_corpus(tmp_path_factory.mktemp("espeak_corpus"), 48, seed=1)


@pytest.fixture(scope="session")
def transcripts_run(corpus, tmp_path_factory):
    output = tmp_path_factory.mktemp("speech_transcripts")
    argv = ["--task", "transcripts", "--data", str(corpus), "--quick", "--epochs", "1", "--model", "gru,cnn"]
    argv += ["--units", "16", "--cnn-filters", "4,8", "--sample-rate", "8000", "--beam-width", "4"]
    report = speech.main([*argv, "--output-dir", str(output), "--verbose", "0"])
    return output, report


def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        speech.main(argv)
    return exit_info.value.code, capsys.readouterr().err.strip().splitlines()


# --------------------------------------------------------------------------
# Text


@pytest.mark.parametrize(
    "text, standard, dropped",
    [
        ("The Cat's HOME.", "the cat's home", {".": 1}),
        ("  two\tspaces\n here ", "two spaces here", {}),
        ("Ça, c’est l’été!", "ca c'est l'ete", {",": 1, "!": 1}),
        ("well-known — mid–1990s", "well known mid s", {"1": 1, "9": 2, "0": 1}),
        ("“Quoted” (aside); ok?", "quoted aside ok", {"“": 1, "”": 1, "(": 1, ")": 1, ";": 1, "?": 1}),
        ("123 !?", "", {"1": 1, "2": 1, "3": 1, "!": 1, "?": 1}),
    ],
)
def test_standardize_maps_text_into_the_alphabet_and_counts_what_it_drops(text, standard, dropped):
    assert transcripts.standardize(text) == (standard, dropped)
    assert set(standard) <= set(transcripts.CHARACTERS)


def test_encode_and_text_of_round_trip_and_refuse_other_characters():
    text = "it's a test"
    symbols = transcripts.encode(text)
    assert transcripts.text_of(symbols) == text and max(symbols) < len(transcripts.CHARACTERS) == 28
    with pytest.raises(errors.InputError, match="standardize the text first"):
        transcripts.encode("Hi!")


def test_required_frames_counts_a_blank_between_doubled_letters():
    assert transcripts.required_frames("abc") == 3
    assert transcripts.required_frames("aab  c") == 8


# --------------------------------------------------------------------------
# metadata.csv


def ljspeech_folder(folder, lines, wavs=("a", "b", "c")):
    """A folder with ``metadata.csv`` holding ``lines`` and a short tone per name in ``wavs``."""
    (folder / "wavs").mkdir(exist_ok=True)
    tone = (np.sin(np.arange(4000) / 5) * 8000).astype("int16")
    for name in wavs:
        wavfile.write(folder / "wavs" / f"{name}.wav", 8000, tone)
    (folder / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_read_metadata_prefers_the_normalized_column(tmp_path):
    lines = ["a|Dr. Smith, 2 cats|Doctor Smith, two cats", "", "b|only raw text", "c|raw here|"]
    rows = transcripts.read_metadata(ljspeech_folder(tmp_path, lines))
    assert [(key, text, path.name) for key, text, path in rows] == [
        ("a", "Doctor Smith, two cats", "a.wav"),
        ("b", "only raw text", "b.wav"),
        ("c", "raw here", "c.wav"),
    ]


@pytest.mark.parametrize(
    "lines, message",
    [
        (["a|one", "d|four"], "wavs/ID.wav for every row of metadata.csv"),
        (["a|one", "b|  "], "a transcript on every row of metadata.csv"),
        (["a|one", "b||"], "a transcript on every row of metadata.csv"),
        (["a|one|one|one"], "rows ID|text or ID|text|normalized text"),
        (["a"], "rows ID|text or ID|text|normalized text"),
        (["|one"], "an id in the first field"),
        (["a|one", "a|two"], "each id once in metadata.csv"),
        ([""], "rows ID|text in metadata.csv"),
    ],
)
def test_read_metadata_errors_name_the_line(tmp_path, lines, message):
    with pytest.raises(errors.InputError) as info:
        transcripts.read_metadata(ljspeech_folder(tmp_path, lines))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_folder_without_metadata_is_refused(tmp_path):
    (tmp_path / "wavs").mkdir()
    with pytest.raises(errors.InputError, match="without metadata.csv"):
        transcripts.read_metadata(tmp_path)


def test_load_folder_refuses_a_transcript_without_letters(tmp_path):
    folder = ljspeech_folder(tmp_path, ["a|one", "b|1984.", "c|three"])
    with pytest.raises(errors.InputError, match=r"a transcript with letters on every row.*b\.wav"):
        transcripts.load_folder(folder)


def test_load_folder_splits_with_the_seed_and_says_what_it_dropped(tmp_path, capsys):
    names = [f"n{i}" for i in range(10)]
    lines = [f"{name}|Clip {letter}!" for name, letter in zip(names, "abcdefghij")]
    folder = ljspeech_folder(tmp_path, lines, wavs=names)
    first = transcripts.load_folder(folder, 16000, 0.2, 0.2, seed=3)
    again = transcripts.load_folder(folder, 16000, 0.2, 0.2, seed=3)
    assert first.sizes() == {"train": 6, "validation": 2, "test": 2}
    assert first.test[1] == again.test[1] and first.sample_rate == 16000
    assert len(first.train[0][0]) == 8000  # half a second, resampled to 16 kHz
    assert first.dropped == {"!": 10}
    assert "left out '!' 10" in capsys.readouterr().err


def test_clip_seconds_leaves_longer_clips_out_instead_of_cutting_them(tmp_path, capsys):
    names = [f"n{i}" for i in range(10)]
    folder = ljspeech_folder(tmp_path, [f"{name}|clip" for name in names], wavs=names)
    wavfile.write(folder / "wavs" / "n3.wav", 8000, (np.sin(np.arange(16000) / 5) * 8000).astype("int16"))
    data = transcripts.load(folder, None, 0.2, 0.2, seed=0, clip_seconds=1.0)
    assert sum(data.sizes().values()) == 9 and max(len(c) for c in data.train[0]) == 4000
    assert "longer than 1.0 s (--clip-seconds) left out" in capsys.readouterr().err
    with pytest.raises(errors.InputError, match="train clips that are not longer than 0.1 s"):
        transcripts.load(folder, None, 0.2, 0.2, seed=0, clip_seconds=0.1)


def test_clips_too_short_for_their_sentences_are_left_out(tmp_path, capsys):
    names = [f"n{i}" for i in range(10)]
    lines = [f"{name}|{'a very long sentence ' * (12 if name == 'n4' else 1)}" for name in names]
    data = transcripts.load_folder(ljspeech_folder(tmp_path, lines, wavs=names), None, 0.2, 0.2, seed=0)
    front_end = acoustic.FrontEnd(data.sample_rate)
    kept, parts = transcripts.ctc_targets(data, front_end.frames)
    assert sum(kept.sizes().values()) == 9
    assert "too short to spell their transcripts" in capsys.readouterr().err
    waves, symbols, frames = parts["train"]
    assert all(len(s) <= f for s, f in zip(symbols, frames)) and len(waves) == len(symbols)


# --------------------------------------------------------------------------
# The recipe: flags and bad input


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "Expected --data to be an LJSpeech-style folder"),
        (["--data", "librispeech_no_such"], "or one of ['librispeech', 'ljspeech']"),
        (["--data", "librispeech", "--group-by", "speaker"], "--task keywords or digits with --group-by"),
        (["--data", "ljspeech", "--test-data", "elsewhere"], "--task keywords or digits with --test-data"),
    ],
)
def test_bad_transcripts_runs_are_one_line_and_exit_2(argv, message, tmp_path, capsys):
    code, lines = run_main(["--task", "transcripts", *argv, "--output-dir", str(tmp_path / "run")], capsys)
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_folder_without_metadata_exits_2(tmp_path, capsys):
    (tmp_path / "wavs").mkdir()
    code, lines = run_main(["--task", "transcripts", "--data", str(tmp_path)], capsys)
    assert code == 2 and len(lines) == 1 and "without metadata.csv" in lines[0]


# --------------------------------------------------------------------------
# tensorflow-datasets, mocked with sentences of tones


def fake_corpus(builder, split, **_):
    """A stand-in for a tfds builder's examples: tone sentences (a tone per letter) and their texts."""
    import tensorflow as tf

    features = builder.info.features
    rate = features["speech"].sample_rate
    random = np.random.default_rng(len(str(split)))
    examples = []
    for index in range(12):
        text = " ".join(random.choice(["ab", "ba", "cab"], 2))
        tones = [np.sin(2 * np.pi * (300 + 200 * (ord(c) - 96)) * np.arange(rate // 10) / rate) for c in text]
        speech = (np.concatenate(tones) * 8000 + random.normal(0, 50, len(tones) * (rate // 10))).astype("int16")
        example = {"id": f"{split}-{index}", "speech": speech, "text": text.upper() + "."}
        if "speaker_id" in features:  # librispeech: three speakers per split
            example |= {"speaker_id": index % 3 + 10 * len(str(split)), "chapter_id": 1}
        if "text_normalized" in features:
            example["text_normalized"] = text.capitalize()
        examples.append(example)
    return tf.data.Dataset.from_generator(lambda: iter(examples), output_signature=features.get_tensor_spec())


@pytest.mark.parametrize("name", ["librispeech", "ljspeech"])
def test_tensorflow_datasets_corpora_keep_or_make_their_splits(name, capsys):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(policy=tfds.testing.MockPolicy.USE_CODE, as_dataset_fn=fake_corpus):
        data = transcripts.load(name, 8000, 0.25, 0.25, seed=0)
    assert data.sample_rate == 8000 and "resampled to 8000 Hz" in capsys.readouterr().err
    assert all(set(text) <= set("abc ") for part in (data.train, data.test) for text in part[1])
    if name == "librispeech":  # the official parts, whole
        assert data.sizes() == {"train": 12, "validation": 12, "test": 12}
        assert data.name == "librispeech (train_clean100, dev_clean, test_clean)"
        assert data.speakers == {"train": 3, "validation": 3, "test": 3} and data.dropped == {".": 36}
    else:  # one split, split here
        assert data.sizes() == {"train": 6, "validation": 3, "test": 3} and data.speakers is None
        assert data.dropped == {}  # the normalized column, which has no full stop


def test_librispeech_end_to_end_on_mock_data(tmp_path):
    import tensorflow_datasets as tfds

    argv = ["--task", "transcripts", "--data", "librispeech", "--quick", "--epochs", "1", "--model", "gru"]
    argv += ["--units", "8", "--sample-rate", "8000", "--output-dir", str(tmp_path), "--verbose", "0"]
    with tfds.testing.mock_data(policy=tfds.testing.MockPolicy.USE_CODE, as_dataset_fn=fake_corpus):
        report = speech.main(argv)
    assert report["dataset"] == "librispeech (train_clean100, dev_clean, test_clean)"
    assert report["speakers_per_part"] == {"train": 3, "validation": 3, "test": 3}
    assert set(report["models"]) == {"gru", "empty"} and report["primary_metric"] == "cer"
    assert report["models"]["empty"]["metrics"]["cer"] == 1.0


# --------------------------------------------------------------------------
# An espeak-ng corpus end to end


def test_transcripts_run_writes_cer_and_wer(corpus, transcripts_run):
    output, report = transcripts_run
    on_disk = json.loads((output / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["task"] == "transcripts" and on_disk["primary_metric"] == "cer"
    assert set(on_disk["models"]) == {"gru", "cnn", "empty"}
    for name, entry in on_disk["models"].items():
        assert {"cer", "wer", "cer_beam", "wer_beam", "sequence_accuracy"} <= set(entry["metrics"]), name
    assert on_disk["models"]["empty"]["metrics"]["cer"] == on_disk["models"]["empty"]["metrics"]["wer"] == 1.0
    assert on_disk["dropped_characters"] == {".": 48}  # the raw column's full stops; capitals are lower-cased
    assert sum(on_disk["sizes"].values()) == 48 and on_disk["class_names"] == list(transcripts.CHARACTERS)
    written = json.loads((output / "transcripts.json").read_text())
    assert {"reference", "gru", "gru_beam", "cnn", "cnn_beam"} <= set(written)
    assert all(set(text.split()) <= set(WORDS) for text in written["reference"])


def test_saved_transcriber_reloads_and_predict_prints_a_transcript(corpus, transcripts_run, capsys):
    output, _ = transcripts_run
    path = output / "models" / "gru.keras"
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["task"] == "transcripts" and sidecar["class_names"] == list(transcripts.CHARACTERS)
    model = keras.models.load_model(path)
    rate, samples = wavfile.read(next(iter(sorted((corpus / "wavs").glob("*.wav")))))
    assert rate == 22050 and sidecar["sample_rate"] == 8000  # predict resamples, as the run did
    clip = str(sorted((corpus / "wavs").glob("*.wav"))[0])
    assert cli.main(["predict", "speech", "--model", str(path), clip]) == 0
    lines = capsys.readouterr().out.strip("\n").splitlines()
    transcript, source = lines[-1].split("\t")
    assert source == clip and set(transcript) <= set(transcripts.CHARACTERS)
    waves = np.zeros((1, 8000), "float32") + np.sin(np.arange(8000) / 3).astype("float32") * 0.3
    assert model.predict_on_batch(waves).shape == (1, 101, len(transcripts.CHARACTERS) + 1)


def test_streaming_a_sentence_spells_it_as_the_whole_clip_does(corpus, transcripts_run):
    from rnn_apps.layers import ctc
    from rnn_apps.tasks import acoustic_inference, acoustic_streaming

    path = transcripts_run[0] / "models" / "gru.keras"
    model = keras.models.load_model(path)
    info = acoustic_inference.model_info(model, path)
    clip = str(sorted((corpus / "wavs").glob("*.wav"))[1])
    rows = list(acoustic_streaming.stream(model, info, path, [clip], chunk_seconds=0.25))
    waves = acoustic_inference.read_for_model(clip, info["sample_rate"])[None]
    whole = ctc.decode(model.predict_on_batch(waves), [model.predict_on_batch(waves).shape[1]], "greedy")[0]
    # Letters joined as written (a space is the alphabet's own), not spaced like digit words.
    assert rows[-1]["transcript"] == "".join(transcripts.CHARACTERS[s] for s in whole)


@pytest.mark.slow
def test_a_gru_learns_to_spell_espeak_sentences(tmp_path):
    """On 600 espeak-ng sentences in two voices, a GRU's test CER ends far below the empty baseline's 1.0."""
    folder = espeak_corpus(tmp_path / "corpus", 600, seed=7, voices=VOICES[:2])
    argv = ["--task", "transcripts", "--data", str(folder), "--model", "gru", "--bidirectional", "--units", "96"]
    argv += ["--epochs", "40", "--patience", "5", "--min-updates", "0", "--sample-rate", "8000"]
    argv += ["--learning-rate", "3e-3"]
    report = speech.main([*argv, "--output-dir", str(tmp_path / "run"), "--verbose", "0"])
    assert report["models"]["gru"]["metrics"]["cer"] < 0.3, report["models"]["gru"]["metrics"]
