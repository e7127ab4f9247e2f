"""Bad input for the video recipe: its flags, the sample, clip folders, UEA joint files, tfds names, and predict."""

import numpy as np
import pytest
from PIL import Image
from test_bad_input import copy_model, library_error, predict_error, run_error, tiny_models, write_ts

from recipes import video as recipe
from rnn_apps.data import video
from rnn_apps.tasks import video_models


def gif(path, frames=12, size=16, seed=0):
    images = [
        Image.fromarray(np.random.default_rng(seed + i).integers(0, 255, (size, size), "uint8")) for i in range(frames)
    ]
    images[0].save(path, save_all=True, append_images=images[1:])
    return path


def clip_folders(root, per_class=3, **kwargs):
    for label in ("left", "right"):
        (root / label).mkdir(parents=True)
        for index in range(per_class):
            gif(root / label / f"clip{index}.gif", seed=index, **kwargs)
    return root


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--input", "audio"], "argument --input: invalid choice: 'audio'"),
        (
            ["--filters", "8,-1"],
            "Expected --filters to be comma-separated positive integers. Received: --filters='8,-1'",
        ),
        (["--filters", "a"], "Expected --filters to be comma-separated positive integers. Received: --filters='a'"),
        (["--filters", ""], "Expected --filters to be comma-separated positive integers. Received: --filters=''"),
        (["--model", "convlstm", "--input", "joints"], "Expected --model to be models for --input joints"),
        (["--frames", "0"], "argument --frames: expected a positive integer"),
        (["--stride", "-1"], "argument --stride: expected a positive integer"),
        (["--size", "100000"], "argument --size: expected a frame size up to 1024, received '100000'"),
        (["--short-clips", "crop"], "argument --short-clips: invalid choice: 'crop'"),
        (["--conv3d", "conv4d"], "argument --conv3d: invalid choice: 'conv4d'"),
        (["--backbone", "mobilenet_v2"], "Expected --backbone-weights to be a local weights file with --backbone"),
        (["--backbone", "mobilenet_v2", "--backbone-weights", "nowhere.h5"], "an existing local weights file"),
        (["--group-pattern", "(unclosed"], "Expected --group-pattern to be a regular expression. Received:"),
        (["--frames", "100"], "Expected clips of at least 100 frames (--frames 100 --stride 1; --short-clips pad"),
        (["--frames", "5", "--stride", "3"], "Expected clips of at least 13 frames (--frames 5 --stride 3"),
        (["--limit", "1"], "Expected at least two classes, each with clips. Received:"),
        (
            ["--size", "2", "--limit", "40"],
            "Expected frames to be frames of at least 8x8 for 3 pooling steps (--size, --filters)",
        ),
        (
            ["--size", "4", "--filters", "8,8", "--model", "convlstm", "--limit", "40"],
            "frames of at least 8x8 for 3 pooling steps",
        ),
        (["--input", "joints", "--data", "ucf101"], "Expected --data to be a .ts file or folder for --input joints"),
    ],
)
def test_flags_on_the_sample(argv, message, tmp_path, capsys):
    """Frames too small for the pooling used to fail inside Keras (MaxPooling3D) after the data was read."""
    assert message in run_error("video", argv, tmp_path, capsys)


def test_the_smallest_frames_allowed_build(tmp_path):
    """The frame-size check is not stricter than the models: at the limit, every frame model builds."""
    cfg = recipe.checked(recipe.RECIPE.parse(["--filters", "4,4"]))
    clips = np.zeros((4, 3, 8, 8, 1), "uint8")
    data = video.ClipData(
        "toy", ["a", "b"], (clips, np.array([0, 1, 0, 1])), (clips, np.zeros(4)), (clips, np.zeros(4))
    )
    video_models.check_frame_size(8, 8, cfg.filters, convlstm="convlstm" in cfg.model)
    for name in cfg.model:
        model = recipe.RECIPE.build_model(name, cfg, data)
        assert model.predict(clips, verbose=0).shape == (4, 1)  # two classes: one sigmoid output


def test_clip_folders(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = run_error("video", ["--data", str(empty)], tmp_path, capsys)
    assert "Expected --data to be a folder with one subfolder of clips per label (two or more)" in line
    one = clip_folders(tmp_path / "one")
    for clip in (one / "right").iterdir():
        clip.unlink()
    assert "an empty class folder" in run_error("video", ["--data", str(one)], tmp_path, capsys)
    short = clip_folders(tmp_path / "short", frames=4)
    line = run_error("video", ["--data", str(short), "--frames", "8"], tmp_path, capsys)
    assert "Expected clips of at least 8 frames" in line and "Received: '4 frames in" in line
    file = gif(tmp_path / "single.gif")
    line = run_error("video", ["--data", str(file)], tmp_path, capsys)
    assert "Expected --data to be a folder with one subfolder of clips per label" in line


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("broken.mp4", b"not a video" * 10, "Expected a readable video file (mp4, avi, gif, ...). Received:"),
        ("empty.gif", b"", "Expected a readable video file"),
    ],
)
def test_unreadable_clips(name, content, message, tmp_path, capsys):
    root = clip_folders(tmp_path / "clips")
    (root / "left" / name).write_bytes(content)
    line = run_error("video", ["--data", str(root), "--frames", "8"], tmp_path, capsys)
    assert message in line and name in line


def test_frame_folders(tmp_path, capsys):
    root = clip_folders(tmp_path / "clips")
    frames = root / "left" / "frames"
    frames.mkdir()
    for index in range(10):
        Image.fromarray(np.zeros((16 + index % 2, 16), "uint8")).save(frames / f"{index:03d}.png")
    line = run_error("video", ["--data", str(root), "--frames", "8"], tmp_path, capsys)
    assert "Expected frames of one size within a clip. Received:" in line
    for index in range(10):
        (frames / f"{index:03d}.png").write_bytes(b"not a png")
    line = run_error("video", ["--data", str(root), "--frames", "8"], tmp_path, capsys)
    assert "Expected a readable image. Received:" in line


ROWS = [f"{i},{i + 1},{i + 2}:{i},{i},{i}:{'ab'[i % 2]}" for i in range(12)]


@pytest.mark.parametrize(
    "files, message",
    [
        ({"Toy_TRAIN.ts": ROWS}, "Expected --data to be a folder with one *_TRAIN.ts and one *_TEST.ts file"),
        ({"Toy_TRAIN.ts": ROWS, "Toy_TEST.ts": ["1,2:a"]}, "Expected 2 channels in the test file. Received: 1"),
        ({"Toy_TRAIN.ts": ["1,2:3,4"], "Toy_TEST.ts": ROWS}, "Expected --data to be a .ts file with class labels"),
        ({"Toy_TRAIN.ts": ROWS, "Toy_TEST.ts": ["1,2:3,4"]}, "Expected a test .ts file with class labels"),
        ({"Toy_TRAIN.ts": ["1,x:3,4:a"], "Toy_TEST.ts": ROWS}, "Expected comma-separated numbers (or '?')"),
    ],
    ids=["no-test", "channels", "unlabelled-train", "unlabelled-test", "not-a-number"],
)
def test_joint_files(files, message, tmp_path, capsys):
    """An unlabelled test file used to fail with a bare ValueError from list.index."""
    folder = tmp_path / "joints"
    folder.mkdir()
    for name, rows in files.items():
        unlabelled = rows and rows[0].count(":") == 1 and not rows[0].endswith((":a", ":b"))
        write_ts(folder / name, rows, "@classLabel false" if unlabelled else "@classLabel true a b")
    assert message in run_error("video", ["--input", "joints", "--data", str(folder)], tmp_path, capsys)


def test_library_functions():
    library_error(video.sample_indices, 0, frames=4, match="a clip with at least one frame")
    library_error(video.sample_indices, 3, frames=4, match="at least 4 frames")
    library_error(video.to_channels, np.zeros((2, 4, 4, 2), "uint8"), 3, match="frames with 1, 3 or 4 channels")
    library_error(video.read_video, "/no/such/clip.mp4", match="readable video file")


# --------------------------------------------------------------------------
# predict


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp("models"), ["clip", "series", "window"])


def test_predict_on_a_good_clip_works(models, tmp_path):
    (row,) = recipe.RECIPE.predict(models["clip"], [gif(tmp_path / "ok.gif")])
    assert row["label"] in ("left", "right")


def test_predict_refuses_bad_clips(models, tmp_path, capsys):
    good = gif(tmp_path / "ok.gif")
    line = predict_error("video", models["clip"], [good, tmp_path / "missing.gif"], capsys)
    assert "Expected input to be an existing clip file or folder. Received: input=" in line
    (tmp_path / "text.gif").write_text("not a clip")
    assert "Expected a readable video file" in predict_error("video", models["clip"], [tmp_path / "text.gif"], capsys)
    short = gif(tmp_path / "short.gif", frames=2)
    assert "Expected clips of at least 4 frames" in predict_error("video", models["clip"], [short], capsys)


def test_predict_refuses_joint_files_that_do_not_fit(models, tmp_path, capsys):
    joints = models["series"].with_name("series_video.keras")
    three = write_ts(tmp_path / "three.ts", ["1,2:3,4:5,6"], "@classLabel false")
    line = predict_error("video", joints, [three], capsys)
    assert "Expected joint series with 2 channels (the model's). Received: [3]" in line
    clip = gif(tmp_path / "clip.gif")
    assert "Expected path to be a .ts file" in predict_error("video", joints, [clip], capsys)


def test_predict_refuses_a_model_of_another_recipe(models, tmp_path, capsys):
    sidecar = models["clip"].with_suffix(".json").read_text()
    model = copy_model(models["window"], tmp_path / "foreign", sidecar)
    line = predict_error("video", model, [gif(tmp_path / "ok.gif")], capsys)
    assert "Expected a .keras model saved by this recipe, taking 1 input(s) of rank (5,)" in line


@pytest.mark.parametrize(
    "sidecar, message",
    [
        (None, "Expected the .json file saved beside the model. Received:"),
        ("{oops", "Expected the .json file saved beside the model. Received:"),
        ('{"input": "frames"}', "with the keys ['input', 'class_names']"),
        ('{"input": "frames", "class_names": ["a", "b"]}', "with the keys ['frames', 'stride', 'size'"),
    ],
)
def test_predict_refuses_a_broken_sidecar(models, sidecar, message, tmp_path, capsys):
    model = copy_model(models["clip"], tmp_path / "broken", sidecar)
    assert message in predict_error("video", model, [gif(tmp_path / "ok.gif")], capsys)


def test_predict_library(models):
    library_error(recipe.RECIPE.predict, models["clip"], [], match="at least one clip")
