"""Video with ``--validation-data`` / ``--test-data``: own parts replace the split ones (issue 23, item 3).

Before, the video recipe refused both flags. Now a given part is read like
``--data`` (a folder of class subfolders of clips, or a ``.ts`` file for joint
tracks), its classes are mapped to the training data's, and the split of
``--data`` holds back only the part not given; without the flags the split is
the one it always was.
"""

import hashlib
import json

import numpy as np
import pytest
from PIL import Image
from test_bad_input import library_error, run_error, write_ts

from rnn_apps import paths
from rnn_apps.data import video
from rnn_apps.harness import cli, registry

SAMPLE = paths.bundled("video/circling_digits.npz")
# Sizes and test clips of the bundled sample's default split, from the code before own parts existed.
DEFAULT_SIZES = {"train": 548, "validation": 92, "test": 160}
DEFAULT_TEST_DIGEST = "f2f6c0f686488040"


def gif(path, frames=12, size=20, seed=0):
    """A grey GIF clip of random frames, ``size`` pixels square or ``(height, width)``."""
    rng = np.random.default_rng(seed)
    shape = (size, size) if isinstance(size, int) else size
    images = [Image.fromarray(rng.integers(0, 255, shape, "uint8")) for _ in range(frames)]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:])
    return path


def clip_part(root, counts: dict[str, int], **kwargs):
    """A folder with one subfolder of GIF clips per class: ``counts`` maps class name to clip count."""
    for label, count in counts.items():
        for index in range(count):
            gif(root / label / f"clip{index}.gif", seed=index, **kwargs)
    return root


def load_sample(**kwargs):
    return video.load("sample", video.ClipOptions(limit=120, seed=3), sample=SAMPLE, **kwargs)


def digest(sources) -> str:
    return hashlib.sha256("|".join(sources).encode()).hexdigest()[:16]


def test_without_the_flags_the_split_is_unchanged_and_a_given_test_part_replaces_its_own(tmp_path):
    default = video.load("sample", video.ClipOptions(), sample=SAMPLE)
    assert default.sizes() == DEFAULT_SIZES and digest(default.test_sources) == DEFAULT_TEST_DIGEST
    assert default.given == () and default.name == "circling_digits.npz"

    held = clip_part(tmp_path / "held", {"anticlockwise": 3, "clockwise_2laps": 2})
    data = load_sample(test_source=held)
    assert data.sizes() == {"train": 102, "validation": 18, "test": 5}
    assert data.name == "circling_digits.npz, test from held" and data.given == ("test",)
    # Labels are the training data's indices, and the clips are sampled and sized as the training clips.
    assert data.test[1].tolist() == [1, 1, 1, 2, 2]
    assert data.test[0].shape[1:] == data.train[0].shape[1:] == (9, 32, 32, 1)
    assert data.test_sources[0] == "anticlockwise/clip0.gif"
    # The validation part is held out of every --data clip, grouped by digit, as when the data has its own test.
    clips, labels, _, groups, _ = video.load_sample(SAMPLE, video.ClipOptions(limit=120, seed=3))
    parts = video.grouped_split(labels, groups, 0.15, 0.0, seed=3)
    np.testing.assert_array_equal(data.validation[1], labels[parts.validation])
    np.testing.assert_array_equal(data.train[0], clips[parts.train])


def test_a_given_validation_part_replaces_the_split_one(tmp_path):
    dev = clip_part(tmp_path / "dev", {name: 2 for name in ("clockwise", "anticlockwise", "anticlockwise_2laps")})
    data = load_sample(validation_source=dev)
    assert data.sizes() == {"train": 95, "validation": 6, "test": 25}
    assert data.name == "circling_digits.npz, validation from dev"
    assert sorted(set(data.validation[1].tolist())) == [0, 1, 3]

    both = load_sample(validation_source=dev, test_source=clip_part(tmp_path / "held", {"clockwise": 1}))
    assert both.sizes() == {"train": 120, "validation": 6, "test": 1}
    assert both.name == "circling_digits.npz, validation from dev, test from held"


def test_given_parts_on_joint_tracks(tmp_path):
    rng = np.random.default_rng(0)

    def rows(labels, length=5):
        return [
            ":".join(",".join(f"{v:.2f}" for v in rng.normal(size=length)) for _ in range(2)) + f":{label}"
            for label in labels
        ]

    train = write_ts(tmp_path / "toy_TRAIN.ts", rows("ab" * 10))
    write_ts(tmp_path / "toy_TEST.ts", rows("ab" * 3))
    held = write_ts(tmp_path / "held.ts", rows("ba" * 2, length=7))
    data = video.load(str(tmp_path), video.ClipOptions(seed=0), "joints", test_source=held)
    assert data.sizes() == {"train": 17, "validation": 3, "test": 4}
    assert data.test[1].tolist() == [1, 0, 1, 0]
    # Each part is padded after the split: the longer held-out tracks never lengthen the training batches.
    assert data.train[0].shape[1:] == (5, 2) and data.test[0].shape[1:] == (7, 2)
    dev = write_ts(tmp_path / "dev.ts", rows("ab"))
    one_file = video.load(str(train), video.ClipOptions(seed=0), "joints", validation_source=dev)
    assert one_file.sizes() == {"train": 16, "validation": 2, "test": 4}
    assert one_file.name == "toy_TRAIN, validation from dev.ts"
    # The bundled sample's joints are the centroid tracks of the given clips.
    tracks = load_sample(input_kind="joints", test_source=clip_part(tmp_path / "clips", {"clockwise": 2}))
    assert tracks.test[0].shape == (2, 9, 2) and tracks.name.endswith("(centroid tracks), test from clips")

    write_ts(tmp_path / "odd.ts", rows("ac"), labels="@classLabel true a c")
    library_error(
        video.load,
        str(train),
        video.ClipOptions(),
        "joints",
        test_source=tmp_path / "odd.ts",
        match=r"only classes of the training data \['a', 'b'\] in --test-data. Received: 'c \(in odd.ts\)'",
    )
    write_ts(tmp_path / "wide.ts", ["1,2:3,4:5,6:a"])
    library_error(
        video.load,
        str(train),
        video.ClipOptions(),
        "joints",
        test_source=tmp_path / "wide.ts",
        match="Expected --test-data to be 2 channels, as the training tracks. Received: --test-data=3",
    )


def test_a_class_the_training_data_lacks_is_refused(tmp_path, capsys):
    held = clip_part(tmp_path / "held", {"clockwise": 1, "sideways": 1})
    line = run_error("video", ["--limit", "40", "--test-data", str(held)], tmp_path, capsys)
    assert "Expected only classes of the training data ['clockwise', 'anticlockwise', 'clockwise_2laps'" in line
    assert "Received: 'sideways (in " in line


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--test-data", "{tmp}/nowhere"], "Expected --test-data to be an existing file or folder"),
        (["--validation-data", "{tmp}/a.gif"], "Expected --validation-data to be a folder with one subfolder of clips"),
        (
            ["--validation-data", "{tmp}/empty"],
            "Expected --validation-data to be a folder with one subfolder of clips per label (1 or more)",
        ),
        (
            ["--input", "joints", "--data", "{tmp}/toy.ts", "--test-data", "{tmp}/empty"],
            "Expected --test-data to be a .ts file of joint tracks",
        ),
        (
            ["--test-data", "{tmp}/big", "--data", "{tmp}/train"],
            "Expected --test-data to be clips with frames of 20x16, as the training clips (pass --size",
        ),
    ],
    ids=["missing", "a-file", "no-class-folder", "joints-folder", "other-frame-size"],
)
def test_given_parts_that_cannot_be_read_are_one_line(argv, message, tmp_path, capsys):
    gif(tmp_path / "a.gif")
    (tmp_path / "empty").mkdir()
    write_ts(tmp_path / "toy.ts", [f"1,2,3:{'ab'[i % 2]}" for i in range(20)])
    clip_part(tmp_path / "train", {"up": 6, "down": 6}, size=(20, 16))  # not square: nothing to resize to
    clip_part(tmp_path / "big", {"up": 1}, size=24)
    argv = [value.format(tmp=tmp_path) for value in argv]
    line = run_error("video", ["--limit", "40", "--frames", "4", *argv], tmp_path, capsys)
    assert message in line, line


def test_a_run_with_own_parts_says_so(tmp_path, capsys):
    dev = clip_part(tmp_path / "dev", {"clockwise": 2, "anticlockwise": 2})
    held = clip_part(tmp_path / "held", {"clockwise_2laps": 3, "anticlockwise_2laps": 3})
    out = tmp_path / "run"
    argv = ["--quick", "--limit", "80", "--epochs", "1", "--model", "frame_cnn", "--validation-data", str(dev)]
    argv += ["--test-data", str(held), "--output-dir", str(out), "--verbose", "0"]
    cli.run_recipe(registry.get("video"), argv)
    expected = "circling_digits.npz, validation from dev, test from held"
    assert f"data: {expected}" in capsys.readouterr().out
    report = json.loads((out / "metrics.json").read_text())
    assert report["dataset"] == expected
    assert report["sizes"] == {"train": 80, "validation": 4, "test": 6}
    assert report["config"]["validation_data"] == str(dev) and report["config"]["test_data"] == str(held)
