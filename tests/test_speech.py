"""The speech recipe end to end (quick mode), its loaders, factories and bad-input handling."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import REPO
from helpers import check_model, wrap
from quick_runs import quick_run
from scipy.io import wavfile

from recipes import speech
from rnn_apps import errors
from rnn_apps.data import audio, spoken, uea
from rnn_apps.harness import cli
from rnn_apps.layers import convolutional, ctc, encoders
from rnn_apps.tasks import acoustic, acoustic_inference

KEYWORD_MODELS = {"simple_rnn", "lstm", "gru", "cnn", "majority"}
SAMPLE = REPO / "data" / "speech"
KEYWORDS = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}


def tone(frequency, seconds=0.3, rate=8000, amplitude=0.5, channels=1):
    """A 16-bit tone with a little noise, ``(samples,)`` or ``(samples, channels)``."""
    steps = np.arange(int(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * frequency * steps) + np.random.default_rng(0).normal(0, 0.01, steps.shape)
    wave = (wave * 32767).astype("int16")
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        speech.main(argv)
    return exit_info.value.code, capsys.readouterr().err.strip().splitlines()


# --------------------------------------------------------------------------
# Quick runs on the bundled sample


@pytest.fixture(scope="module")
def keywords_run(tmp_path_factory):
    return quick_run("speech", tmp_path_factory)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("speech_digits")
    argv = ["--task", "digits", "--quick", "--model", "gru,cnn", "--sequences", "60"]
    argv += ["--epochs", "6", "--batch-size", "16"]  # the checks are of structure, not of learning
    report = speech.main([*argv, "--output-dir", str(output), "--verbose", "0"])
    return output, report


def test_keywords_metrics_json_follows_the_contract(keywords_run):
    output, report = keywords_run
    on_disk = json.loads((output / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["recipe"] == "speech" and on_disk["task"] == "keywords"
    assert on_disk["primary_metric"] == "accuracy" and on_disk["sample_rate"] == 16000
    assert set(on_disk["models"]) == KEYWORD_MODELS
    for name, entry in on_disk["models"].items():
        assert {"accuracy", "f1"} <= set(entry["metrics"]), name
        assert isinstance(entry["params"], int)
        assert isinstance(entry["train_seconds"], float) and isinstance(entry["predict_ms_per_sample"], float)
    kernels = {name: entry["fast_kernel"] for name, entry in on_disk["models"].items()}
    assert kernels == {"simple_rnn": False, "lstm": True, "gru": True, "cnn": None, "majority": None}


def test_keywords_artifacts(keywords_run):
    output, _ = keywords_run
    for image in ("learning_curves.png", "confusion_matrices.png", "spectrograms.png"):
        assert (output / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in KEYWORD_MODELS - {"majority"}:
        assert (output / "models" / f"{name}.keras").is_file()
        sidecar = json.loads((output / "models" / f"{name}.json").read_text())
        assert sidecar["sample_rate"] == 16000 and sidecar["input"] == "waveform"
        assert (output / "logs" / f"{name}.csv").read_text().startswith("epoch,")
    assert "python -m recipes.speech --quick" in (output / "comparison.md").read_text()


def test_digits_metrics_and_transcripts(digits_run):
    output, report = digits_run
    assert report["task"] == "digits" and report["primary_metric"] == "wer"
    assert set(report["models"]) == {"gru", "cnn", "majority"}
    for entry in report["models"].values():
        assert {"wer", "cer", "wer_beam", "cer_beam", "sequence_accuracy"} <= set(entry["metrics"])
    assert report["models"]["gru"]["fast_kernel"] is True and report["models"]["cnn"]["fast_kernel"] is None
    transcripts = json.loads((output / "transcripts.json").read_text())
    assert {"reference", "gru", "gru_beam", "cnn", "cnn_beam"} <= set(transcripts)
    assert all(set(line.split()) <= set("0123456789") for line in transcripts["reference"])
    assert (output / "spectrograms.png").is_file()


def test_saved_model_takes_raw_waveforms_in_a_fresh_process(keywords_run):
    """The saved model reloads without rnn_apps and gives the same probabilities."""
    output, _ = keywords_run
    model_path = output / "models" / "gru.keras"
    clip = SAMPLE / "keywords" / "yes" / "yes_00.wav"
    rate, samples = wavfile.read(clip)
    here = keras.models.load_model(model_path).predict_on_batch(samples[None].astype("float32") / 32768)
    script = (
        "import sys, json, keras, numpy as np; from scipy.io import wavfile;"
        "m = keras.models.load_model(sys.argv[1]); rate, s = wavfile.read(sys.argv[2]);"
        "print(json.dumps(m.predict_on_batch(s[None].astype('float32') / 32768).tolist()));"
        "print('rnn_apps' in sys.modules)"
    )
    fresh = subprocess.run([sys.executable, "-c", script, str(model_path), str(clip)], capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    lines = fresh.stdout.strip().splitlines()
    assert lines[-1] == "False"
    np.testing.assert_allclose(np.array(json.loads(lines[-2])), here, atol=1e-5)


def test_rnn_apps_predict_in_a_fresh_process(keywords_run):
    output, _ = keywords_run
    model_path = output / "models" / "lstm.keras"
    clips = [str(SAMPLE / "keywords" / "stop" / "stop_01.wav"), str(SAMPLE / "keywords" / "go" / "go_02.wav")]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_apps.harness.cli",
            "predict",
            "speech",
            "--model",
            str(model_path),
            "--format",
            "json",
        ]
        + clips,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    expected = speech.RECIPE.predict(model_path, clips)
    assert [row["input"] for row in rows] == clips
    assert [row["label"] for row in rows] == [row["label"] for row in expected]
    assert all(row["label"] in KEYWORDS for row in rows)


def test_predict_transcribes_with_a_digits_model(digits_run):
    output, _ = digits_run
    rate, one = wavfile.read(SAMPLE / "digits" / "1" / "1_00.wav")
    _, two = wavfile.read(SAMPLE / "digits" / "2" / "2_00.wav")
    path = output / "one_two.wav"
    wavfile.write(path, rate, np.concatenate([one, np.zeros(800, "int16") + 3, two]))
    rows = speech.RECIPE.predict(output / "models" / "gru.keras", [path])
    assert set(rows[0]) == {"transcript", "input"}
    assert set(rows[0]["transcript"].split()) <= set("0123456789")


def test_test_metrics_are_those_of_the_saved_model(keywords_run):
    output, report = keywords_run
    data = speech.RECIPE.load_data(speech.RECIPE.parse(["--quick"])).clips
    assert spoken.limit_length(data, None) == report["config"]["clip_samples"]
    paths = sorted((SAMPLE / "keywords").glob("*/*.wav"))
    assert len(paths) == sum(data.sizes().values())
    predicted = acoustic_inference.predict_batches(
        keras.models.load_model(output / "models" / "cnn.keras"),
        data.test[0],
        report["config"]["clip_samples"],
        acoustic.FrontEnd(16000),
    ).argmax(-1)
    accuracy = float(np.mean(predicted == data.test[1]))
    assert accuracy == pytest.approx(report["models"]["cnn"]["metrics"]["accuracy"], abs=1e-9)


# --------------------------------------------------------------------------
# Bad input: exit status 2, one line, nothing written


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not audio at all", "Expected a readable WAV file"),
        (None, "an empty clip"),
        ("silent", "a silent clip"),
    ],
)
def test_bad_clips_exit_2(keywords_run, tmp_path, capsys, content, message):
    output, _ = keywords_run
    path = tmp_path / "bad.wav"
    if content is None:
        wavfile.write(path, 16000, np.zeros(0, "int16"))
    elif content == "silent":
        wavfile.write(path, 16000, np.zeros(16000, "int16"))
    else:
        path.write_bytes(content)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", "speech", "--model", str(output / "models" / "gru.keras"), str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and message in lines[0], lines


def test_rate_the_model_cannot_take(keywords_run, tmp_path, capsys):
    output, _ = keywords_run
    wavfile.write(tmp_path / "low.wav", 8000, tone(440))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", "speech", "--model", str(output / "models" / "gru.keras"), str(tmp_path / "low.wav")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1
    assert "audio recorded at 16000 Hz or more" in lines[0] and "8000 Hz" in lines[0]


def test_stereo_and_higher_rates_are_converted_with_a_notice(keywords_run, tmp_path, capsys):
    output, _ = keywords_run
    wavfile.write(tmp_path / "stereo.wav", 48000, tone(440, rate=48000, channels=2))
    rows = speech.RECIPE.predict(output / "models" / "gru.keras", [tmp_path / "stereo.wav"])
    err = capsys.readouterr().err
    assert "2 channels; averaged to mono" in err and "resampled to 16000 Hz" in err
    assert rows[0]["label"] in KEYWORDS


def test_labels_missing_from_the_folder_layout(tmp_path, capsys):
    for index in range(3):
        wavfile.write(tmp_path / f"clip{index}.wav", 8000, tone(300 + 100 * index))
    code, lines = run_main(["--data", str(tmp_path), "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and len(lines) == 1
    assert "one subfolder per label" in lines[0] and "3 unlabelled .wav file(s)" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--data", "/nowhere/clips"], "Expected --data to be an existing file or folder"),
        (["--min-digits", "4", "--max-digits", "2", "--task", "digits"], "--min-digits <= --max-digits"),
        (["--task", "speaker"], "invalid choice: 'speaker'"),
        (["--cnn-filters", "8,0"], "expected a positive integer"),
    ],
)
def test_bad_flags_exit_2(argv, message, tmp_path, capsys):
    code, lines = run_main([*argv, "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_ts_data_refuses_the_digits_task(ts_pair, capsys):
    code, lines = run_main(["--data", str(ts_pair), "--task", "digits"], capsys)
    assert code == 2 and "audio for --task digits" in lines[0]


# --------------------------------------------------------------------------
# Loaders


def test_fsdd_layout_uses_the_official_split(tmp_path):
    for digit in range(3):
        for speaker in ("ann", "bob"):
            for index in range(8):
                wavfile.write(tmp_path / f"{digit}_{speaker}_{index}.wav", 8000, tone(200 + 150 * digit + index))
    data = audio.load_audio_classification(tmp_path, validation_fraction=0.3, seed=1)
    assert data.name.startswith("fsdd") and data.class_names == ["0", "1", "2"] and data.sample_rate == 8000
    assert len(data.test[1]) == 3 * 2 * 5
    assert len(data.train[1]) + len(data.validation[1]) == 3 * 2 * 3


def test_class_folders_are_resampled_to_the_common_rate(tmp_path, capsys):
    for label, rates in (("high", (16000, 16000, 16000)), ("low", (16000, 16000, 8000))):
        (tmp_path / label).mkdir()
        for index, rate in enumerate(rates * 4):
            wavfile.write(tmp_path / label / f"{index}.wav", rate, tone(300 if label == "low" else 900, rate=rate))
    data = audio.load_audio_classification(tmp_path, validation_fraction=0.25, test_fraction=0.25, seed=0)
    assert data.sample_rate == 16000 and data.class_names == ["high", "low"]
    assert "4 of 24 files resampled to 16000 Hz" in capsys.readouterr().err
    assert all(len(clip) == 4800 for part in (data.train, data.validation, data.test) for clip in part[0])


@pytest.mark.parametrize("name, examples", [("speech_commands", 24), ("spoken_digit", 200)])
def test_tensorflow_datasets_sources_with_mock_data(name, examples):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=examples, policy=tfds.testing.MockPolicy.USE_CODE):
        data = audio.load_audio_classification(name, seed=0)
    assert data.sample_rate == (16000 if name == "speech_commands" else 8000)
    assert len(data.class_names) == (12 if name == "speech_commands" else 10)
    assert all(part[0] and all(c.dtype == np.float32 for c in part[0]) for part in (data.train, data.test))


def test_unknown_dataset_name_is_one_line():
    with pytest.raises(errors.InputError) as info:
        audio.load_audio_classification("no_such_speech_set")
    assert "\n" not in str(info.value) and "no_such_speech_set" in str(info.value)


def test_make_sequences_keeps_gaps_audible():
    clips = [np.full(100, 0.5, "float32"), np.full(50, -0.5, "float32")]
    waves, transcripts = audio.make_sequences(clips, [0, 1], 20, 1000, 2, 4, (0.01, 0.05), seed=3)
    for wave, words in zip(waves, transcripts):
        assert 2 <= len(words) <= 4
        assert len(wave) >= sum(len(clips[w]) for w in words) + 10 * (len(words) + 1)
        assert np.count_nonzero(wave == 0) == 0


# --------------------------------------------------------------------------
# UEA .ts files


def write_ts(path, rows, label_header="@classLabel true a b"):
    lines = ["# toy", "@problemName toy", "@timeStamps false", "@missing true", "@univariate false"]
    lines += ["@dimensions 2", "@equalLength false", label_header, "@data"]
    path.write_text("\n".join(lines + rows) + "\n")
    return path


@pytest.fixture
def ts_pair(tmp_path):
    random = np.random.default_rng(0)

    def rows(count):
        out = []
        for index in range(count):
            label = "ab"[index % 2]
            length = int(random.integers(5, 12))
            level = 1.0 if label == "a" else -1.0
            channels = [level + random.normal(0, 0.3, length) for _ in range(2)]
            out.append(":".join(",".join(f"{v:.3f}" for v in c) for c in channels) + f":{label}")
        return out

    write_ts(tmp_path / "Toy_TRAIN.ts", rows(40))
    write_ts(tmp_path / "Toy_TEST.ts", rows(20))
    return tmp_path


def test_read_ts_handles_missing_values_and_short_channels(tmp_path):
    path = write_ts(tmp_path / "x.ts", ["1,?,3:4,5:a", "NaN,2:7,8:b"])
    content = uea.read_ts(path)
    assert content.class_names == ["a", "b"] and content.labels == ["a", "b"]
    assert content.series[0].tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 5.0]]
    assert content.series[1].tolist() == [[2.0, 7.0], [2.0, 8.0]]
    series, labels = uea.load_ts(path)
    assert series.shape == (2, 3, 2) and not np.isnan(series).any() and series[1, 2].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "rows, header, message",
    [
        (["1,2:3,4:c"], "@classLabel true a b", "labels declared by @classLabel"),
        (["1,2:3,4:a", "1,2:a"], "@classLabel true a b", "the same number of channels"),
        (["1,x:3,4:a"], "@classLabel true a b", "comma-separated numbers"),
    ],
)
def test_read_ts_errors(tmp_path, rows, header, message):
    with pytest.raises(errors.InputError, match=message):
        uea.read_ts(write_ts(tmp_path / "bad.ts", rows, header))


def test_read_ts_without_data_section(tmp_path):
    (tmp_path / "empty.ts").write_text("@problemName x\n")
    with pytest.raises(errors.InputError, match="@data section"):
        uea.read_ts(tmp_path / "empty.ts")


def test_ts_series_end_to_end(ts_pair, tmp_path):
    output = tmp_path / "out"
    report = speech.main(
        ["--data", str(ts_pair), "--quick", "--model", "gru,cnn", "--output-dir", str(output), "--verbose", "0"]
    )
    assert report["dataset"] == "Toy" and report["sizes"]["test"] == 20 and report["sample_rate"] is None
    assert set(report["models"]) == {"gru", "cnn", "majority"}
    rows = speech.RECIPE.predict(output / "models" / "gru.keras", [ts_pair / "Toy_TEST.ts"])
    assert len(rows) == 20 and {row["label"] for row in rows} <= {"a", "b"}


# --------------------------------------------------------------------------
# Factories and masks


def test_encoder_2d_pooled_and_per_frame(tmp_path):
    x = np.random.default_rng(0).normal(size=(4, 12, 8)).astype("float32")
    model = wrap(lambda t: keras.layers.Dense(1, activation="sigmoid")(convolutional.encoder_2d(t, (4, 6))), (None, 8))
    check_model(model, x, np.array([0, 1, 0, 1]), (4, 1), tmp_path)
    frames = wrap(lambda t: convolutional.encoder_2d(t, (4,), return_sequences=True), (None, 8), name="frames")
    assert tuple(frames(x).shape) == (4, 12, 16)
    with pytest.raises(errors.InputError, match="known feature size"):
        convolutional.encoder_2d(keras.Input((None, None)))


def test_waveform_classifier_factory(tmp_path):
    front_end = acoustic.FrontEnd(8000, num_mel_bins=12)
    model = acoustic.waveform_classifier(
        encoders.EncoderConfig(model="gru", units=5), 3, front_end, np.zeros(12), np.ones(12), name="clf"
    )
    waves = np.random.default_rng(1).normal(0, 0.1, (6, 1600)).astype("float32")
    check_model(model, waves, np.array([0, 1, 2, 0, 1, 2]), (6, 3), tmp_path, loss="sparse_categorical_crossentropy")


def test_waveform_transcriber_factory_trains_with_ctc(tmp_path):
    front_end = acoustic.FrontEnd(8000, num_mel_bins=12)
    model = acoustic.waveform_transcriber(encoders.EncoderConfig(model="lstm", units=6), 4, front_end, name="ctc_model")
    waves = np.random.default_rng(2).normal(0, 0.1, (3, 2400)).astype("float32")
    waves[0, 1200:] = 0.0
    frames = front_end.frames([1200, 2400, 2400])
    targets = ctc.pack_targets([[1, 2], [3], [0, 0, 1]], frames)
    check_model(model, waves, targets, (3, 31, 5), tmp_path, loss=ctc.CTCLoss())


def test_padding_is_masked_so_padded_clips_score_the_same():
    front_end = acoustic.FrontEnd(8000, num_mel_bins=12)
    model = acoustic.waveform_classifier(
        encoders.EncoderConfig(model="lstm", units=4), 3, front_end, np.zeros(12), np.ones(12), head_dropout=0.0
    )
    clip = audio.dither(np.random.default_rng(3).normal(0, 0.2, 1234).astype("float32"))
    # The centred STFT reflects a clip's last samples past its end, so compare
    # a little padding with a lot: the extra frames must change nothing.
    short = model.predict_on_batch(audio.pad_clips([clip], 1500))
    padded = model.predict_on_batch(audio.pad_clips([clip, np.ones(4000, "float32") * 0.1]))[:1]
    np.testing.assert_allclose(short, padded, atol=1e-5)
    floor = keras.Model(model.input, model.get_layer("floor").output)
    kept = (keras.ops.convert_to_numpy(floor.predict_on_batch(audio.pad_clips([clip], 4000))) != 0).any(-1).sum()
    # A frame straddling the clip's end holds some audio; `frames` leaves it out.
    assert kept in (front_end.frames([1234])[0], front_end.frames([1234])[0] + 1)


def test_per_frame_outputs_of_batches_of_different_lengths_are_joined():
    front_end = acoustic.FrontEnd(8000, num_mel_bins=8)
    model = acoustic.waveform_transcriber(encoders.EncoderConfig(model="gru", units=2), 3, front_end)
    clips = [np.ones(800, "float32") * 0.1, np.ones(1600, "float32") * 0.1, np.ones(400, "float32") * 0.1]
    outputs = acoustic_inference.predict_batches(model, clips, None, front_end, batch_size=2)
    assert outputs.shape == (3, 21, 4)


def test_ctc_decoding_and_error_rates():
    probabilities = np.full((2, 6, 4), 0.01, "float32")
    path = [[2, 0, 2, 3, 3, 0], [1, 1, 0, 0, 0, 3]]
    for row, symbols in enumerate(path):
        probabilities[row, np.arange(6), symbols] = 0.97
    assert ctc.decode(probabilities, [6, 6]) == [[1, 1, 2], [0, 2]]
    assert ctc.decode(probabilities, [6, 3]) == [[1, 1, 2], [0]]
    assert ctc.decode(probabilities, [6, 6], "beam_search") == [[1, 1, 2], [0, 2]]
    rates = ctc.error_rates(["1 1 2", "0 2"], ["1 1 2", ""])
    assert rates["wer"] == pytest.approx(0.4) and rates["sequence_accuracy"] == 0.5


# --------------------------------------------------------------------------
# The recipe's plain Keras models are the factories'


@pytest.mark.parametrize("model", ["simple_rnn", "lstm", "gru", "cnn"])
@pytest.mark.parametrize(
    "task, layers, bidirectional, num_classes",
    [
        ("keywords", 2, True, 2),
        ("digits", 1, False, 4),
        ("series", 1, False, 3),
    ],
)
def test_the_recipes_plain_keras_model_is_the_factorys(model, task, layers, bidirectional, num_classes):
    argv = ["--units", "6", "--cnn-filters", "4,8", "--mel-bins", "12", "--layers", str(layers)]
    argv += ["--task", "digits" if task == "digits" else "keywords"] + (["--bidirectional"] if bidirectional else [])
    cfg = speech.RECIPE.parse(argv)
    series = task == "series"
    front_end = None if series else acoustic.FrontEnd(8000, num_mel_bins=12)
    random = np.random.default_rng(0)
    features = 3 if series else 12
    mean, variance = random.normal(size=features), random.uniform(0.5, 2.0, size=features)
    feature_dim = features if series else None
    plain = speech.build_speech_model(model, cfg, num_classes, front_end, (mean, variance), feature_dim)
    if model != "cnn":
        encoder = encoders.EncoderConfig(
            model, units=6, num_layers=layers, bidirectional=bidirectional, dropout=cfg.dropout
        )
    elif series:
        encoder = encoders.EncoderConfig(
            model="cnn", cnn_kind="stack", filters=128, kernel_size=5, num_layers=3, pooling="average"
        )
    else:
        encoder = encoders.EncoderConfig(
            model="cnn", cnn_kind="conv2d", filters=(4, 8), context_filters=128, context_layers=4
        )
    if task == "digits":
        factory = acoustic.waveform_transcriber(encoder, num_classes, front_end, mean, variance, dropout=cfg.dropout)
    else:
        factory = acoustic.waveform_classifier(encoder, num_classes, front_end, mean, variance, feature_dim=feature_dim)
    assert plain.count_params() == factory.count_params()
    assert sorted(type(layer).__name__ for layer in plain.layers) == sorted(
        type(layer).__name__ for layer in factory.layers
    )
    assert sorted(layer.name for layer in plain.layers) == sorted(layer.name for layer in factory.layers)
    assert [w.shape for w in plain.weights] == [w.shape for w in factory.weights]
    factory.set_weights(plain.get_weights())
    if series:
        inputs = random.normal(size=(2, 9, 3)).astype("float32")
        inputs[0, 6:] = 0.0
    else:
        inputs = audio.pad_clips([random.normal(0, 0.2, n).astype("float32") for n in (1600, 2400)])
    np.testing.assert_allclose(plain.predict_on_batch(inputs), factory.predict_on_batch(inputs), atol=1e-5)
