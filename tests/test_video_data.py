"""Video loaders: sampling, resizing, decoding, grouped splits, tfds (mock data), .ts tracks, bad input."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import REPO

from recipes import video as recipe
from rnn_apps import errors, paths
from rnn_apps.data import video

SAMPLE = paths.bundled("video/circling_digits.npz")


def write_clip(path, frames=8, size=(12, 12), value=None, seed=0):
    """Write a grey GIF clip (lossless for 8-bit grey) and return its frames."""
    rng = np.random.default_rng(seed)
    clip = rng.integers(0, 256, size=(frames, *size), dtype=np.uint8) if value is None else None
    if clip is None:
        clip = np.full((frames, *size), value, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, clip, duration=100, loop=0)
    return clip


def clip_tree(root, classes=("left", "right"), per_class=6, frames=8, size=(12, 12), per_source=1):
    """One folder of GIF clips per class; UCF-style names, ``per_source`` clips cut from each source."""
    for c, name in enumerate(classes):
        for i in range(per_class):
            source = (c * per_class + i) // per_source
            write_clip(root / name / f"v_{name}_g{source:02d}_c{i:02d}.gif", frames, size, seed=100 * c + i)
    return root


def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        recipe.main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.err.strip().splitlines()


def test_sample_frames_are_a_permutation_across_classes():
    """The generator's promise: every clip visits the same positions, only the order differs."""
    with np.load(SAMPLE) as archive:
        frames, labels, groups = archive["frames"], archive["labels"], archive["groups"]
    assert frames.shape == (800, 9, 32, 32, 1) and frames.dtype == np.uint8
    assert np.bincount(labels).tolist() == [200] * 4
    assert np.bincount(np.bincount(groups)).tolist()[-1] == 200  # every digit in 4 clips
    tracks = video.centroid_tracks(frames[:40])
    for track, label in zip(tracks, labels[:40]):
        angles = np.arctan2(track[:, 0] - track[:, 0].mean(), track[:, 1] - track[:, 1].mean())
        steps = np.round(np.degrees(np.angle(np.exp(1j * np.diff(angles)))) / 40).astype(int)
        assert np.median(steps) == [1, -1, 2, -2][label]


def test_bundled_sample_is_split_by_digit():
    data = video.load_sample_clips(SAMPLE, video.ClipOptions(seed=3))
    assert data.grouped and sum(data.sizes().values()) == 800
    assert data.train[0].shape[1:] == (9, 32, 32, 1)
    with np.load(SAMPLE) as archive:
        labels, groups = archive["labels"], archive["groups"]
    parts = video.grouped_split(labels, groups, 0.15, 0.2, seed=3)
    assert not set(groups[parts.test]) & set(groups[parts.train])
    assert not set(groups[parts.validation]) & set(groups[parts.train])
    assert len(parts.test) == data.sizes()["test"]


def test_sampling_stride_resizing_and_channels():
    clip = np.arange(20, dtype=np.uint8)[:, None, None, None] * np.ones((1, 8, 6, 3), np.uint8)
    out, padded = video.prepare_clip(clip, frames=4, stride=3, size=5, channels=1)
    assert out.shape == (4, 5, 5, 1) and not padded
    assert out[:, 0, 0, 0].tolist() == [5, 8, 11, 14]  # centred: span 10 of 20
    with pytest.raises(errors.InputError, match=r"clips of at least 10 frames.*3 frames in c"):
        video.prepare_clip(clip[:3], frames=4, stride=3, source="c")
    out, padded = video.prepare_clip(clip[:3], frames=4, stride=3, short_clips="pad")
    assert padded and out[:, 0, 0, 0].tolist() == [0, 2, 2, 2]


def test_read_video_mp4_gif_and_frame_folder(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, size=(6, 16, 16, 3), dtype=np.uint8)
    iio.imwrite(tmp_path / "clip.mp4", frames, plugin="FFMPEG", fps=10)
    assert video.read_video(tmp_path / "clip.mp4").shape == (6, 16, 16, 3)
    grey = write_clip(tmp_path / "clip.gif", frames=5)
    decoded = video.read_video(tmp_path / "clip.gif")
    assert decoded.shape[:3] == (5, 12, 12) and np.array_equal(decoded[..., 0], grey)
    (tmp_path / "folder").mkdir()
    for index, frame in enumerate(frames[:3]):
        iio.imwrite(tmp_path / "folder" / f"{index:03d}.png", frame)
    assert video.read_video(tmp_path / "folder").shape == (3, 16, 16, 3)


def test_directory_loader_groups_ucf_style_names(tmp_path):
    root = clip_tree(tmp_path / "clips", per_class=20, per_source=2)
    data = video.load_directory(root, video.ClipOptions(frames=4, stride=2, size=8, seed=0))
    assert data.class_names == ["left", "right"] and data.grouped
    assert video.source_groups(["v_a_g01_c01.gif", "v_a_g01_c02.gif"], video.UCF_GROUP).tolist() == [0, 0]
    assert data.train[0].shape[1:] == (4, 8, 8, 3)
    assert video.source_groups(["a.gif", "b.gif"], video.UCF_GROUP) is None


def test_ts_folder_keeps_the_official_split(tmp_path):
    def ts(name, rows):
        header = "@problemName toy\n@timeStamps false\n@univariate false\n@dimensions 2\n@classLabel true a b\n@data\n"
        (tmp_path / name).write_text(header + "".join(rows))

    rng = np.random.default_rng(0)
    rows = [
        ":".join(",".join(f"{v:.2f}" for v in rng.normal(size=5)) for _ in range(2)) + f":{'ab'[i % 2]}\n"
        for i in range(20)
    ]
    ts("toy_TRAIN.ts", rows)
    ts("toy_TEST.ts", rows[:6])
    data = video.load_ts_split(tmp_path, video.ClipOptions(seed=0))
    assert data.name == "toy" and data.class_names == ["a", "b"]
    assert data.test[0].shape == (6, 5, 2) and sum(data.sizes().values()) == 26


def test_tfds_moving_mnist_and_ucf101_offline():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=16):
        data = video.load_tfds("moving_mnist", video.ClipOptions(frames=6, stride=2, size=16, seed=0))
        assert data.train[0].shape[1:] == (6, 16, 16, 1)
        assert data.class_names == ["leftward", "rightward"]
        clips, labels, _ = video.tfds_clips(
            "ucf101", "train", video.ClipOptions(frames=4, stride=2, size=16, short_clips="pad", limit=5)
        )
    assert clips.shape == (5, 4, 16, 16, 3) and clips.dtype == np.uint8
    assert ((labels >= 0) & (labels < 101)).all()


def test_ucf101_keeps_its_test_split_and_the_classes_read(monkeypatch):
    """With --limit only some classes have clips: those are kept and renumbered."""
    tfds = pytest.importorskip("tensorflow_datasets")
    rng = np.random.default_rng(0)

    def fake_clips(name, split, options, data_dir=None):
        labels = np.repeat([3, 7, 50], 10 if split == "train" else 4)
        if split == "test":
            labels = np.append(labels, 99)  # a class with no training clip
        return rng.integers(0, 256, (len(labels), 4, 8, 8, 3), dtype=np.uint8), labels, 0

    monkeypatch.setattr(video, "tfds_clips", fake_clips)
    with tfds.testing.mock_data(num_examples=2):
        data = video.load_tfds("ucf101", video.ClipOptions(seed=0))
    assert data.class_names == ["BabyCrawling", "Basketball", "LongJump"]
    assert data.sizes() == {"train": 25, "validation": 5, "test": 12}
    assert sorted(set(data.test[1].tolist())) == [0, 1, 2]


# Bad input: one line on stderr, exit status 2, nothing written.


def test_unreadable_video(tmp_path, capsys):
    root = clip_tree(tmp_path / "clips", per_class=3)
    (root / "left" / "broken.mp4").write_bytes(b"not a video at all")
    code, lines = run_main(["--data", str(root), "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and len(lines) == 1
    assert "Expected a readable video file" in lines[0] and "broken.mp4" in lines[0]
    assert not (tmp_path / "out").exists()


def test_clip_shorter_than_requested(tmp_path, capsys):
    root = clip_tree(tmp_path / "clips", per_class=3, frames=4)
    code, lines = run_main(["--data", str(root), "--frames", "8", "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and len(lines) == 1
    assert "clips of at least 8 frames" in lines[0] and "4 frames in" in lines[0]
    assert not (tmp_path / "out").exists()


def test_short_clips_pad_with_a_notice(tmp_path, capsys):
    root = clip_tree(tmp_path / "clips", per_class=6, frames=4)
    argv = ["--data", str(root), "--frames", "6", "--short-clips", "pad", "--size", "8", "--model", "frame_cnn"]
    report = recipe.main([*argv, "--epochs", "1", "--output-dir", str(tmp_path / "out"), "--verbose", "0"])
    assert "notice: 12 clip(s) shorter than asked were padded" in capsys.readouterr().out
    assert report["padded_clips"] == 12 and set(report["models"]) == {"frame_cnn", "majority"}


def test_inconsistent_frame_sizes(tmp_path, capsys):
    root = clip_tree(tmp_path / "clips", per_class=3)
    folder = root / "left" / "frames_clip"
    folder.mkdir()
    iio.imwrite(folder / "000.png", np.zeros((8, 8), np.uint8))
    iio.imwrite(folder / "001.png", np.zeros((10, 8), np.uint8))
    code, lines = run_main(["--data", str(root), "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and len(lines) == 1 and "Expected frames of one size within a clip" in lines[0]


def test_clips_of_different_sizes_need_size(tmp_path, capsys):
    root = clip_tree(tmp_path / "clips", per_class=3)
    write_clip(root / "right" / "big.gif", size=(20, 20))
    code, lines = run_main(["--data", str(root), "--frames", "4"], capsys)
    assert code == 2 and "pass --size to resize them" in lines[0]


def test_empty_class_directory(tmp_path, capsys):
    root = clip_tree(tmp_path / "clips", per_class=3)
    (root / "empty_class").mkdir()
    code, lines = run_main(["--data", str(root)], capsys)
    assert code == 2 and len(lines) == 1 and "an empty class folder" in lines[0] and "empty_class" in lines[0]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--input", "joints", "--model", "convlstm"], "Expected --model to be models for --input joints"),
        (["--model", "cnn"], "Expected --model to be models for --input frames"),
        (["--filters", "8,x"], "Expected --filters to be comma-separated positive integers"),
        (["--data", "nowhere/at/all"], "Expected --data to be an existing file or folder"),
        (["--input", "joints", "--data", "ucf101"], "a .ts file or folder for --input joints"),
        (["--backbone", "mobilenet_v2"], "Expected --backbone-weights to be a local weights file"),
    ],
)
def test_bad_flags(argv, message, tmp_path, capsys):
    code, lines = run_main([*argv, "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_sample_path_resolves():
    assert SAMPLE.is_relative_to(REPO)


def test_load_reads_the_sample_as_clips_or_centroid_tracks():
    options = video.ClipOptions(limit=40)
    frames = video.load("sample", options, sample=SAMPLE)
    joints = video.load("sample", options, "joints", sample=SAMPLE)
    assert joints.name == f"{frames.name} (centroid tracks)" and joints.train[0].shape[1:] == (9, 2)
    np.testing.assert_allclose(joints.test[0], video.centroid_tracks(frames.test[0]))
    with pytest.raises(errors.InputError, match="a .ts file or folder for --input joints"):
        video.load("ucf101", options, "joints")
    with pytest.raises(errors.InputError, match="Expected --group-pattern to be a regular expression"):
        video.ClipOptions(group_pattern="(unclosed")


def test_sidecar_round_trip_and_inputs_read_as_the_model_was_trained(tmp_path):
    data = video.load("sample", video.ClipOptions(limit=40), sample=SAMPLE)
    (tmp_path / "gru.json").write_text(json.dumps(video.sidecar(data, "frames", 1, "refuse")))
    settings = video.read_sidecar(tmp_path / "gru.keras")
    assert settings["frames"] == 9 and settings["size"] == 32 and settings["channels"] == 1
    clip = tmp_path / "clip.gif"
    write_clip(clip, frames=11, size=(20, 20))
    inputs, names = video.read_inputs([clip], settings)
    assert inputs[0].shape == (9, 32, 32, 1) and names == [str(clip)]
