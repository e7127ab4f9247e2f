"""Speech models for new voices: training-only speed perturbation and noise, and the CNN-RNN (crnn)."""

import json

import keras
import numpy as np
import pytest
from helpers import check_model

from recipes import speech
from rnn_apps.data import audio, spoken
from rnn_apps.layers import ctc
from rnn_apps.tasks import acoustic

FRONT_END = acoustic.FrontEnd(8000, num_mel_bins=12)
STATISTICS = (np.zeros(12), np.ones(12))


def tiny_config(*argv, layers=1):
    return speech.RECIPE.parse(["--units", "4", "--crnn-filters", "4,6", "--crnn-layers", str(layers), *argv])


def clips(lengths, seed=0):
    random = np.random.default_rng(seed)
    return [audio.dither(random.normal(0, 0.2, n).astype("float32")) for n in lengths]


def epochs(dataset, count=2):
    return [[clip.numpy()[0] for clip, _ in dataset] for _ in range(count)]  # batches of one clip


# --------------------------------------------------------------------------
# Speed perturbation and noise: a tf.data step on the training clips


def augmented(seed, speed=(0.85, 1.15), snr=(10.0, 30.0), limit=None, lengths=(800, 1000, 1200, 900)):
    augment = spoken.augmentation(seed, speed, snr, limit)
    return audio.waveform_dataset(clips(lengths), np.arange(len(lengths)), 1, shuffle=True, seed=0, augment=augment)


def test_augmentation_is_seeded_and_draws_anew_every_epoch():
    first, again, other = epochs(augmented(1)), epochs(augmented(1)), epochs(augmented(2))
    for epoch, repeated in zip(first, again):
        assert all(np.array_equal(a, b) for a, b in zip(epoch, repeated))
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(first[0], other[0]))
    # The same clips, shuffled and perturbed afresh in the second epoch.
    assert sorted(len(c) for c in first[0]) != sorted(len(c) for c in first[1])


def test_speed_perturbation_resamples_within_its_range_and_limit_cuts():
    lengths = (800, 1000, 1200, 900)
    batches = list(augmented(3, snr=None, lengths=lengths))
    originals = {n: clip for n, clip in zip(lengths, clips(lengths))}
    for clip, label in batches:
        source = originals[lengths[int(label.numpy()[0])]]
        factor = len(source) / clip.shape[1]
        assert 0.85 - 0.01 <= factor <= 1.15 + 0.01
        # Resampling by interpolation keeps the first sample and the loudness.
        assert clip.numpy()[0, 0] == pytest.approx(source[0], abs=1e-6)
        assert np.std(clip.numpy()) == pytest.approx(np.std(source), rel=0.25)
    assert max(clip.shape[1] for clip, _ in augmented(3, snr=None, limit=850, lengths=lengths)) <= 850


def test_noise_is_added_at_the_drawn_signal_to_noise_ratio():
    clip = clips([4000])[0]
    dataset = audio.waveform_dataset([clip], [0], 1, augment=spoken.augmentation(0, None, (20.0, 20.0)))
    ((noisy, _),) = list(dataset)
    noise = noisy.numpy()[0] - clip
    ratio = 10 * np.log10(np.mean(clip**2) / np.mean(noise**2))
    assert ratio == pytest.approx(20.0, abs=0.5)


@pytest.fixture(scope="module")
def sample():
    cfg = speech.RECIPE.parse(["--quick"])
    return speech.RECIPE.load_data(cfg)


def test_the_recipe_augments_training_batches_only(sample):
    plain = tiny_config("--quick")
    flags = tiny_config("--quick", "--speed-perturb", "--noise-snr", "5,20")
    for name in ("gru", "cnn"):
        train, validation = speech.RECIPE.datasets(name, plain, sample)
        train_augmented, validation_augmented = speech.RECIPE.datasets(name, flags, sample)
        for (a, _), (b, _) in zip(validation, validation_augmented):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        first, second = list(train), list(train_augmented)
        labels = [np.sort(np.concatenate([y.numpy() for _, y in batches])) for batches in (first, second)]
        np.testing.assert_array_equal(*labels)  # every training clip, once an epoch
        energy = [sum(float(np.sum(x.numpy() ** 2)) for x, _ in batches) for batches in (first, second)]
        assert energy[0] != pytest.approx(energy[1], rel=1e-3)
        if name == "cnn":  # the CNN's fixed length holds even for slowed-down clips
            assert {x.shape[1] for x, _ in second} == {sample.length}


def test_augmentation_leaves_the_saved_model_as_it_would_be_without_it(sample, tmp_path):
    # The flags add nothing to the model: built with them or without, the same
    # seed gives the same layers and weights, so the saved file predicts alike.
    outputs = []
    for argv in ((), ("--speed-perturb", "--noise-snr", "10,30")):
        cfg = tiny_config("--quick", *argv)
        keras.utils.set_random_seed(cfg.seed)
        model = speech.build_speech_model("crnn", cfg, 10, sample.front_end, sample.statistics)
        path = tmp_path / f"model_{len(argv)}.keras"
        model.save(path)
        loaded = keras.models.load_model(path, compile=False)
        outputs.append(
            ([layer.name for layer in loaded.layers], loaded.predict_on_batch(audio.pad_clips(clips([8000]))))
        )
    assert outputs[0][0] == outputs[1][0]
    np.testing.assert_array_equal(outputs[0][1], outputs[1][1])


def test_augmentation_flags_are_refused_where_they_cannot_work(capsys):
    with pytest.raises(SystemExit) as exit_info:
        speech.main(["--task", "digits", "--quick", "--speed-perturb"])
    assert exit_info.value.code == 2
    assert "--task keywords with --speed-perturb or --noise-snr" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        speech.main(["--noise-snr", "30,10"])
    assert exit_info.value.code == 2
    assert "LOW <= HIGH" in capsys.readouterr().err


# --------------------------------------------------------------------------
# The CNN-RNN


def test_crnn_keywords_build_train_save_and_predict_on_raw_waveforms(tmp_path):
    model = speech.build_speech_model("crnn", tiny_config(), 3, FRONT_END, STATISTICS)
    assert model.get_layer("crnn_convolution").stride == 4
    waves = audio.pad_clips(clips([1600, 2400, 2000]))
    check_model(model, waves, np.array([0, 1, 2]), (3, 3), tmp_path, loss="sparse_categorical_crossentropy")


def test_crnn_digits_label_every_front_end_frame_for_ctc(tmp_path):
    model = speech.build_speech_model("crnn", tiny_config("--task", "digits"), 10, FRONT_END, STATISTICS)
    waves = audio.pad_clips(clips([1200, 2400, 2400]))
    frames = FRONT_END.frames([1200, 2400, 2400])
    targets = ctc.pack_targets([[1, 2], [3], [0, 0, 1]], frames)
    reloaded = check_model(model, waves, targets, (3, 31, 11), tmp_path, loss=ctc.CTCLoss())
    # Repeated back from the subsampled frames: four front-end frames share each output.
    outputs = keras.ops.convert_to_numpy(reloaded(waves))
    np.testing.assert_allclose(outputs[:, 0:4], np.repeat(outputs[:, 0:1], 4, axis=1), rtol=1e-6)


@pytest.mark.parametrize("task", ["keywords", "digits"])
def test_crnn_masks_padding_after_subsampling(task):
    # A clip padded a little and the same clip padded a lot (beside a longer
    # one) give the same outputs: the subsampled mask skips the extra frames.
    cfg = tiny_config("--task", task, "--dropout", "0", layers=2)  # the mask reaches the second layer too
    model = speech.build_speech_model("crnn", cfg, 3, FRONT_END, STATISTICS)
    clip, longer = clips([1234, 4000], seed=3)
    short = model.predict_on_batch(audio.pad_clips([clip], 1500))
    padded = model.predict_on_batch(audio.pad_clips([clip, longer]))[:1]
    if task == "digits":
        count = FRONT_END.frames([1234])[0]
        short, padded = short[:, :count], padded[:, :count]
    np.testing.assert_allclose(short, padded, atol=1e-5)


def test_crnn_subsampling_mask_marks_the_frames_that_hold_audio():
    layer = acoustic.ConvolutionalSubsampling(filters=(2, 2), kernel_size=3)
    mask = np.arange(10)[None, :] < np.array([[10], [5], [1]])
    subsampled = keras.ops.convert_to_numpy(layer.compute_mask(np.zeros((3, 10, 4), "float32"), mask))
    assert subsampled.sum(axis=1).tolist() == [3, 2, 1]  # ceil(frames / 4)


def test_crnn_quick_run_with_augmentation_end_to_end(tmp_path):
    argv = ["--quick", "--model", "crnn", "--epochs", "1", "--units", "4", "--crnn-layers", "1"]
    argv += ["--crnn-filters", "4,8", "--speed-perturb", "--noise-snr", "10,30"]
    report = speech.main([*argv, "--output-dir", str(tmp_path), "--verbose", "0"])
    assert set(report["models"]) == {"crnn", "majority"}
    assert report["models"]["crnn"]["fast_kernel"] is True
    settings = json.loads((tmp_path / "metrics.json").read_text())["config"]
    assert settings["speed_perturb"] is True and settings["noise_snr"] == [10.0, 30.0]
    model = keras.models.load_model(tmp_path / "models" / "crnn.keras")
    probabilities = model.predict_on_batch(audio.pad_clips(clips([16000])))
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


# --------------------------------------------------------------------------
# Quick mode learns


@pytest.mark.slow
def test_every_quick_model_beats_twice_the_majority_class(tmp_path):
    report = speech.main(["--quick", "--model", "simple_rnn,lstm,gru,cnn,crnn", "--output-dir", str(tmp_path)])
    majority = report["models"]["majority"]["metrics"]["accuracy"]
    for name in ("simple_rnn", "lstm", "gru", "cnn", "crnn"):
        assert report["models"][name]["metrics"]["accuracy"] >= 2 * majority, name
