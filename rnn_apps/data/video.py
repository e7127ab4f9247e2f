"""Video and joint-track loaders: clips of frames, sampled, resized and split.

A clip becomes a uint8 array ``(frames, height, width, channels)``. Every
source goes through the same three steps:

1. **decode**: video files with imageio (its ffmpeg plugin, whose binary
   ships in the ``imageio-ffmpeg`` wheel; GIFs with Pillow), a folder of
   frame images, a tensorflow-datasets example, or the bundled sample;
2. **sample** ``frames`` frames, ``stride`` apart, from the middle of the
   clip (`sample_indices`); a clip too short for that span is refused, or,
   with ``short_clips="pad"``, padded by repeating its last frame;
3. **resize** every frame to ``size`` x ``size`` (bilinear) and convert to
   the wanted number of channels.

Splits are stratified by class; when clips share a source (the same digit,
actor or long video) the split is grouped as well (`grouped_split`), so no
source has clips on both sides.

Joint tracks (body-joint coordinates over time) come from UEA ``.ts`` files
through `rnn_apps.data.uea`, or, for the bundled sample, from the centre of
brightness of every frame (`centroid_tracks`). `load` picks the reader for a
``--data`` value; `read_inputs` reads what ``rnn-apps predict video`` is
given, sampled as a saved model's clips were (`read_sidecar`).

TensorFlow is used here only for tensorflow-datasets and image resizing.

Examples:
    >>> sample_indices(10, frames=4, stride=2).tolist()
    [1, 3, 5, 7]
    >>> sample_indices(3, frames=4, stride=1, short_clips="pad").tolist()
    [0, 1, 2, 2]
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re

import numpy as np
from sklearn import model_selection

from rnn_apps import errors
from rnn_apps.data import splits, text_files
from rnn_apps.options import (  # noqa: F401 - part of this module's interface
    INPUT_KINDS,
    MAX_FRAME_SIZE,
    SHORT_CLIPS,
    UCF_GROUP,
    filter_counts,
    frame_size,
)

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".gif")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
TFDS_SOURCES = ("ucf101", "moving_mnist")


@dataclasses.dataclass
class ClipData:
    """Clips (or joint tracks) split into train, validation and test parts.

    Attributes:
        name: where the data came from.
        class_names: label names; labels are indices into this list.
        train: the training part, ``(inputs, labels)``; inputs are uint8
            ``(n, frames, height, width, channels)`` clips or float32
            ``(n, time, channels)`` tracks.
        validation: the validation part, as ``train``.
        test: the test part, as ``train``.
        test_sources: a short description of each test clip (file name or
            index), for plots.
        grouped: whether the split kept clip sources apart.
        padded: clips padded because they were shorter than asked.
        given: the parts given by the user (``"validation"``, ``"test"``),
            not split from the source.
    """

    name: str
    class_names: list[str]
    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    test_sources: list[str] = dataclasses.field(default_factory=list)
    grouped: bool = False
    padded: int = 0
    given: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sizes(self) -> dict[str, int]:
        return {part: len(getattr(self, part)[1]) for part in ("train", "validation", "test")}


def sample_indices(available: int, frames: int, stride: int = 1, short_clips: str = "refuse", source: str = "clip"):
    """Indices of ``frames`` frames, ``stride`` apart, centred in the clip.

    Args:
        available: frames in the clip.
        frames: frames to take.
        stride: step between taken frames.
        short_clips: ``"refuse"`` (raise `InputError`) or ``"pad"`` (repeat
            the last frame) when the clip is shorter than the span
            ``(frames - 1) * stride + 1``; a padded clip keeps its stride.
        source: name of the clip for the error message.

    Returns:
        int64 array of ``frames`` indices.
    """
    errors.check_choice(short_clips, SHORT_CLIPS, "short_clips")
    errors.check_positive(frames, "frames")
    errors.check_positive(stride, "stride")
    if available < 1:
        raise errors.expected("a clip with at least one frame", f"no frames in {source}")
    span = (frames - 1) * stride + 1
    if available >= span:
        start = (available - span) // 2
        return np.arange(start, start + span, stride, dtype="int64")
    if short_clips == "refuse":
        raise errors.expected(
            f"clips of at least {span} frames (--frames {frames} --stride {stride}; "
            "--short-clips pad repeats the last frame instead)",
            f"{available} frames in {source}",
        )
    return np.minimum(np.arange(0, span, stride, dtype="int64"), available - 1)


def resize_clip(clip: np.ndarray, size: int | None) -> np.ndarray:
    """Resize every frame of a ``(frames, height, width, channels)`` clip to a square.

    Examples:
        >>> resize_clip(np.zeros((2, 6, 4, 3), "uint8"), 5).shape
        (2, 5, 5, 3)
    """
    if size is None or clip.shape[1:3] == (size, size):
        return clip
    import tensorflow as tf

    resized = tf.image.resize(clip, (size, size), method="bilinear", antialias=True)
    return np.clip(np.round(resized.numpy()), 0, 255).astype("uint8")


def to_channels(clip: np.ndarray, channels: int) -> np.ndarray:
    """Convert a clip to 1 (luminance) or 3 (repeated grey) channels.

    Examples:
        >>> to_channels(np.full((1, 2, 2, 3), 100, "uint8"), 1).shape
        (1, 2, 2, 1)
    """
    if clip.ndim == 3:
        clip = clip[..., None]
    have = clip.shape[-1]
    if have == 4:  # drop alpha
        clip, have = clip[..., :3], 3
    if have == channels:
        return clip
    if channels == 1 and have == 3:
        grey = clip.astype("float32") @ np.array([0.299, 0.587, 0.114], dtype="float32")
        return np.clip(np.round(grey), 0, 255).astype("uint8")[..., None]
    if channels == 3 and have == 1:
        return np.repeat(clip, 3, axis=-1)
    raise errors.expected("frames with 1, 3 or 4 channels", have, name="channels")


def read_video(path: str | os.PathLike) -> np.ndarray:
    """Decode a video file (or a folder of frame images) to uint8 ``(frames, h, w, c)``.

    Raises:
        InputError: the file cannot be decoded, holds no frames, or (for a
            folder of images) its frames differ in size.
    """
    import imageio.v3 as iio

    path = pathlib.Path(path)
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise errors.expected("frame images (png/jpg) in a clip folder", f"none in {path}")
        frames = []
        for image in images:
            try:
                frames.append(np.asarray(iio.imread(image)))
            except Exception as error:  # imageio raises several types for broken images
                raise errors.expected("a readable image", f"{image} ({type(error).__name__})") from None
        shapes = sorted({frame.shape for frame in frames})
        if len(shapes) > 1:
            raise errors.expected("frames of one size within a clip", f"sizes {shapes[:3]} in {path}")
        return _as_clip(np.stack(frames), path)
    try:
        frames = iio.imread(path, index=None)
    except Exception as error:  # ffmpeg and Pillow fail in many ways on bad files
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise errors.expected("a readable video file (mp4, avi, gif, ...)", f"{path} ({first})") from None
    return _as_clip(np.asarray(frames), path)


def _as_clip(frames: np.ndarray, path) -> np.ndarray:
    if frames.ndim == 2:  # a single grey image
        frames = frames[None]
    if frames.ndim == 3:  # grey frames
        frames = frames[..., None]
    if frames.ndim != 4 or len(frames) == 0:
        raise errors.expected("frames of shape (frames, height, width, channels)", f"{frames.shape} in {path}")
    if frames.dtype != np.uint8:
        top = float(frames.max()) if frames.size else 0.0
        frames = (frames / (top / 255.0 if top > 255 else 1.0)).clip(0, 255).astype("uint8")
    return frames


def prepare_clip(
    clip: np.ndarray,
    frames: int,
    stride: int = 1,
    size: int | None = None,
    channels: int | None = None,
    short_clips: str = "refuse",
    source: str = "clip",
) -> tuple[np.ndarray, bool]:
    """Sample, resize and convert one decoded clip.

    Returns:
        ``(clip, padded)``: uint8 ``(frames, size, size, channels)`` and
            whether the clip was shorter than asked and padded.

    Examples:
        >>> out, padded = prepare_clip(np.zeros((5, 8, 8, 3), "uint8"), 3, 2, size=4, channels=1)
        >>> out.shape, padded
        ((3, 4, 4, 1), False)
    """
    indices = sample_indices(len(clip), frames, stride, short_clips, source)
    padded = bool(indices[-1] - indices[0] < (frames - 1) * stride)
    clip = resize_clip(np.asarray(clip)[indices], size)
    if channels is not None:
        clip = to_channels(clip, channels)
    return clip, padded


def grouped_split(labels, groups, validation_fraction: float, test_fraction: float, seed: int) -> splits.SplitIndices:
    """Stratified split that keeps every group on one side.

    Uses scikit-learn's `StratifiedGroupKFold`: the test part is one fold
    of ``round(1 / test_fraction)``, the validation part one fold of what
    is left, so part sizes are close to, not exactly, the fractions asked.

    Examples:
        >>> labels = [0, 1] * 20
        >>> groups = [i // 4 for i in range(40)]
        >>> parts = grouped_split(labels, groups, 0.25, 0.2, seed=0)
        >>> set(np.asarray(groups)[parts.test]) & set(np.asarray(groups)[parts.train])
        set()
    """
    labels, groups = np.asarray(labels), np.asarray(groups)
    errors.check_fraction(validation_fraction, "validation_fraction", low_inclusive=False)
    errors.check_fraction(test_fraction, "test_fraction")

    def one_fold(indices, fraction, part):
        folds = max(2, round(1 / fraction))
        if len(np.unique(groups[indices])) < folds:
            raise errors.expected(
                f"at least {folds} clip sources to hold out a grouped {part} part",
                f"{len(np.unique(groups[indices]))} sources",
            )
        splitter = model_selection.StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        try:
            keep, held = next(splitter.split(indices, labels[indices], groups[indices]))
        except ValueError as error:  # a class with fewer clips than folds
            raise errors.expected(
                f"at least {folds} clips of every class to hold out a grouped {part} part", f"{error}"
            ) from None
        return indices[keep], indices[held]

    indices = np.arange(len(labels))
    test = np.array([], dtype=indices.dtype)
    if test_fraction:
        indices, test = one_fold(indices, test_fraction, "test")
    train, validation = one_fold(indices, validation_fraction, "validation")
    return splits.SplitIndices(np.sort(train), np.sort(validation), np.sort(test))


def split_clips(labels, groups, validation_fraction, test_fraction, seed) -> tuple[splits.SplitIndices, bool]:
    """Grouped split when ``groups`` says clips share sources, else stratified.

    Returns:
        ``(parts, grouped)``.
    """
    if groups is not None and len(np.unique(groups)) < len(groups):
        return grouped_split(labels, groups, validation_fraction, test_fraction, seed), True
    return splits.stratified_split(labels, validation_fraction, test_fraction, seed), False


def _assemble(name, inputs, labels, class_names, sources, groups, options, given=None, padded=0) -> ClipData:
    """Split what is not given and package a `ClipData`.

    ``given`` maps ``"validation"`` and/or ``"test"`` to ``(inputs, labels,
    sources)`` of a part the source has (an official test split) or the user
    gave; the split of ``inputs`` then holds back only the missing part, with
    its own fraction. Without ``given`` the split is the usual one.
    """
    labels = np.asarray(labels, dtype="int64")
    counts = np.bincount(labels, minlength=len(class_names))
    if len(class_names) < 2 or (counts == 0).any():
        raise errors.expected("at least two classes, each with clips", dict(zip(class_names, counts.tolist())))
    given = dict(given or {})
    everything, nothing = np.arange(len(labels)), np.array([], dtype="int64")
    if not given:
        parts, grouped = split_clips(labels, groups, options.validation_fraction, options.test_fraction, options.seed)
        held = {"validation": parts.validation, "test": parts.test}
    elif len(given) == 1:
        missing = "test" if "validation" in given else "validation"
        fraction = getattr(options, f"{missing}_fraction")
        parts, grouped = splits.SplitIndices(everything, nothing, nothing), False
        if fraction:  # --test-fraction 0 leaves no test part, as it does without given parts
            parts, grouped = split_clips(labels, groups, fraction, 0.0, options.seed)
        held = {missing: parts.validation}
    else:
        parts, grouped, held = splits.SplitIndices(everything, nothing, nothing), False, {}
    for part, indices in held.items():
        given[part] = (inputs[indices], labels[indices], [sources[i] for i in indices])
    return ClipData(
        name=name,
        class_names=list(class_names),
        train=(inputs[parts.train], labels[parts.train]),
        validation=(given["validation"][0], np.asarray(given["validation"][1], dtype="int64")),
        test=(given["test"][0], np.asarray(given["test"][1], dtype="int64")),
        test_sources=list(given["test"][2]),
        grouped=grouped,
        padded=padded,
    )


@dataclasses.dataclass
class ClipOptions:
    """How to sample and split clips (the recipe's flags of the same names).

    Raises:
        InputError: a ``group_pattern`` that is not a regular expression.
    """

    frames: int | None = None
    stride: int = 1
    size: int | None = None
    channels: int | None = None
    short_clips: str = "refuse"
    limit: int | None = None
    validation_fraction: float = 0.15
    test_fraction: float = 0.2
    seed: int = 42
    group_pattern: str | None = UCF_GROUP
    encoding: str = text_files.DEFAULT_ENCODING
    """The codec of ``.ts`` joint-track files."""

    def __post_init__(self):
        try:
            re.compile(self.group_pattern or "")
        except re.error as error:
            pattern = f"{self.group_pattern} ({error})"
            raise errors.expected("a regular expression", pattern, name="--group-pattern") from None


def clip_dataset(inputs, labels, batch_size: int, shuffle: bool = False, seed: int = 0):
    """A batched `tf.data.Dataset` of ``(clip, label)``, reshuffled every epoch when asked."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((inputs, labels))
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def load_sample(path, options: ClipOptions) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
    """The bundled sample: ``(clips, labels, class_names, groups, indices)``, sampled and resized.

    ``indices`` are the clips' positions in the archive (``--limit`` keeps a
    seeded subset).
    """
    with np.load(path, allow_pickle=False) as archive:
        clips, labels = archive["frames"], archive["labels"]
        class_names, groups = [str(n) for n in archive["class_names"]], archive["groups"]
    indices = np.arange(len(labels))
    if options.limit:
        indices = np.sort(np.random.default_rng(options.seed).permutation(len(labels))[: options.limit])
        clips, labels, groups = clips[indices], labels[indices], groups[indices]
    frames = options.frames or clips.shape[1]
    prepared = [
        prepare_clip(c, frames, options.stride, options.size, options.channels, options.short_clips, f"clip {i}")[0]
        for i, c in zip(indices, clips)
    ]
    return np.stack(prepared), labels, class_names, groups, indices


def load_sample_clips(path, options: ClipOptions, given_parts: dict | None = None) -> ClipData:
    """The bundled sample as split clips (grouped by source digit); sources name the archive's clip index.

    ``given_parts`` maps ``"validation"`` / ``"test"`` to a folder of class
    subfolders of clips (`given_clips`) that replaces that part.
    """
    clips, labels, class_names, groups, indices = load_sample(path, options)
    sources = [f"clip {i} (digit {g})" for i, g in zip(indices, groups)]
    given, padded = _given_clip_parts(given_parts, class_names, clips.shape[1:], options)
    return _assemble(pathlib.Path(path).name, clips, labels, class_names, sources, groups, options, given, padded)


def list_clip_files(
    root: pathlib.Path, minimum: int = 2, flag: str = "--data"
) -> tuple[list[pathlib.Path], list[int], list[str]]:
    """Clips of a folder with one subfolder per label: ``(paths, labels, class_names)``.

    A clip is a video file or a folder of frame images.

    Args:
        root: the folder.
        minimum: label folders it must hold (a given validation or test
            part may hold fewer classes than training).
        flag: the flag that named the folder, for messages.

    Raises:
        InputError: fewer than ``minimum`` label folders, or a label folder with no clip.
    """
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_dirs) < minimum:
        raise errors.expected(
            f"a folder with one subfolder of clips per label ({'two' if minimum == 2 else minimum} or more)",
            f"{len(class_dirs)} subfolders in {root}",
            name=flag,
        )
    paths, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        clips = sorted(
            p
            for p in class_dir.iterdir()
            if (p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            or (p.is_dir() and any(q.suffix.lower() in IMAGE_SUFFIXES for q in p.iterdir()))
        )
        if not clips:
            raise errors.expected(
                f"video files ({', '.join(VIDEO_SUFFIXES)}) or frame folders in every class folder",
                f"an empty class folder {class_dir}",
            )
        paths += clips
        labels += [label] * len(clips)
    return paths, labels, [d.name for d in class_dirs]


def source_groups(names: list[str], pattern: str | None) -> np.ndarray | None:
    """Group ids from a regex over clip names, when it matches every name.

    The first capture group (or the whole match) names the source; with
    UCF101 names ``v_Action_g08_c01`` that is the group ``08``, shared by
    clips cut from the same long video.

    Examples:
        >>> source_groups(["v_A_g01_c01.avi", "v_A_g01_c02.avi", "v_B_g02_c01.avi"], UCF_GROUP).tolist()
        [0, 0, 1]
        >>> source_groups(["a.mp4", "b.mp4"], UCF_GROUP) is None
        True
    """
    if not pattern:
        return None
    found = [re.search(pattern, name) for name in names]
    if not all(found):
        return None
    keys = [match.group(1) if match.groups() else match.group(0) for match in found]
    return np.unique(keys, return_inverse=True)[1].astype("int64")


PART_FLAGS = {"validation": "--validation-data", "test": "--test-data"}


def given_clips(path, part: str, class_names: list[str], shape: tuple, options: ClipOptions):
    """A validation or test part of your own: a folder with one subfolder of clips per label.

    The clips are read as the training clips were: ``shape[0]`` frames,
    ``options.stride`` apart, ``options.short_clips`` for short ones, and
    converted to the training clips' channels; when those frames are square
    the given frames are resized to them (as ``rnn-apps predict video``
    does), else they must already have their size.

    Args:
        path: the folder (``--validation-data`` / ``--test-data``).
        part: ``"validation"`` or ``"test"``, for messages.
        class_names: the training data's classes; labels index this list.
        shape: ``(frames, height, width, channels)`` of the training clips.
        options: the sampling options of ``--data``.

    Returns:
        ``(clips, labels, sources, padded)``.

    Raises:
        InputError: not a folder of class subfolders, a class folder named
            after no training class, or clips of another frame size.
    """
    flag, root = PART_FLAGS[part], pathlib.Path(path)
    if not root.is_dir():
        raise errors.expected("a folder with one subfolder of clips per label", str(path), name=flag)
    paths, folder_labels, folder_names = list_clip_files(root, minimum=1, flag=flag)
    known = splits.known_labels(folder_names, class_names, part, root)
    frames, height, width, channels = shape
    clips, padded = [], 0
    for clip_path in paths:
        clip, was_padded = prepare_clip(
            read_video(clip_path),
            frames,
            options.stride,
            height if height == width else None,
            channels,
            options.short_clips,
            str(clip_path),
        )
        if clip.shape[1:3] != (height, width):
            raise errors.expected(
                f"clips with frames of {height}x{width}, as the training clips (pass --size to resize both)",
                f"{clip.shape[1]}x{clip.shape[2]} in {clip_path}",
                name=flag,
            )
        clips.append(clip)
        padded += was_padded
    sources = [f"{p.parent.name}/{p.name}" for p in paths]
    return np.stack(clips), np.asarray([known[i] for i in folder_labels], dtype="int64"), sources, padded


def _given_clip_parts(given_parts, class_names, shape, options) -> tuple[dict, int]:
    """`given_clips` of every given part: ``({part: (clips, labels, sources)}, clips padded)``."""
    given, padded = {}, 0
    for part, path in (given_parts or {}).items():
        clips, labels, sources, was_padded = given_clips(path, part, class_names, shape, options)
        given[part], padded = (clips, labels, sources), padded + was_padded
    return given, padded


def load_directory(root, options: ClipOptions, given_parts: dict | None = None) -> ClipData:
    """Clips from a folder tree ``root/<label>/<clip>``, sampled, resized and split.

    Without ``options.size`` every decoded frame must have the same size.
    Without ``options.channels`` clips keep 3 channels (grey clips are
    repeated) so colour and grey files can be mixed. ``given_parts`` maps
    ``"validation"`` / ``"test"`` to a folder of the same layout
    (`given_clips`) that replaces that part.
    """
    root = pathlib.Path(root)
    paths, labels, class_names = list_clip_files(root)
    frames = options.frames or 16
    channels = options.channels or 3
    clips, padded = [], 0
    for path in paths:
        clip, was_padded = prepare_clip(
            read_video(path), frames, options.stride, options.size, channels, options.short_clips, str(path)
        )
        clips.append(clip)
        padded += was_padded
    shapes = sorted({clip.shape for clip in clips})
    if len(shapes) > 1:
        raise errors.expected(
            "clips whose frames all have one size (pass --size to resize them)",
            f"sizes {[s[1:3] for s in shapes[:3]]} in {root}",
        )
    names = [f"{p.parent.name}/{p.name}" for p in paths]
    groups = source_groups([p.name for p in paths], options.group_pattern)
    given, given_padded = _given_clip_parts(given_parts, class_names, shapes[0], options)
    return _assemble(
        root.name, np.stack(clips), labels, class_names, names, groups, options, given, padded + given_padded
    )


def _brightness_centroid(clip: np.ndarray) -> np.ndarray:
    """``(frames, 2)`` centre of brightness (row, column), scaled to [0, 1]."""
    weights = clip.astype("float32").mean(axis=-1) + 1e-6
    height, width = weights.shape[1:]
    total = weights.sum(axis=(1, 2))
    rows = (weights.sum(axis=2) * np.arange(height)).sum(axis=1) / total
    columns = (weights.sum(axis=1) * np.arange(width)).sum(axis=1) / total
    return np.stack([rows / max(height - 1, 1), columns / max(width - 1, 1)], axis=-1)


def centroid_tracks(clips: np.ndarray) -> np.ndarray:
    """One ``(row, column)`` point per frame: the centre of brightness.

    A crude pose track: for the bundled sample (one bright digit on black)
    it follows the digit exactly.

    Examples:
        >>> clip = np.zeros((1, 2, 5, 5, 1), "uint8"); clip[0, 0, 0, 0] = 255; clip[0, 1, 4, 4] = 255
        >>> centroid_tracks(clip).round(2).tolist()
        [[[0.0, 0.0], [1.0, 1.0]]]
    """
    return np.stack([_brightness_centroid(clip) for clip in clips]).astype("float32")


def tfds_clips(name: str, split: str, options: ClipOptions, data_dir: str | None = None):
    """Read one split of ``ucf101`` or ``moving_mnist``: ``(clips, labels, padded)``.

    Clips are sampled, resized and converted as ``options`` says (defaults:
    16 frames of 64x64 RGB for UCF101, 10 frames of 64x64 grey for Moving
    MNIST); ``options.limit`` caps the clips read. Moving MNIST has no
    labels (they are -1 here).
    """
    import tensorflow_datasets as tfds

    errors.check_choice(name, TFDS_SOURCES, "--data")
    frames = options.frames or (10 if name == "moving_mnist" else 16)
    size = options.size or 64
    channels = options.channels or (1 if name == "moving_mnist" else 3)
    key = "image_sequence" if name == "moving_mnist" else "video"
    dataset = tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False)
    if options.limit:
        dataset = dataset.take(options.limit)
    clips, labels, padded = [], [], 0
    for index, example in enumerate(tfds.as_numpy(dataset)):
        clip, was_padded = prepare_clip(
            example[key], frames, options.stride, size, channels, options.short_clips, f"{name} {split} #{index}"
        )
        clips.append(clip)
        labels.append(int(example["label"]) if "label" in example else -1)
        padded += was_padded
    if not clips:
        raise errors.expected(f"clips in the {split} split of {name}", "none")
    return np.stack(clips), np.asarray(labels, dtype="int64"), padded


def load_tfds(
    name: str, options: ClipOptions, data_dir: str | None = None, given_parts: dict | None = None
) -> ClipData:
    """``ucf101`` or ``moving_mnist`` through tensorflow-datasets, split.

    - ``ucf101``: 101 actions, its first official train/test split (which
      keeps the 25 source groups apart); validation is a stratified part of
      the training clips. With ``options.limit`` only the classes that
      still have training clips are kept.
    - ``moving_mnist``: 10,000 unlabelled sequences of two bouncing digits;
      the task made from it labels a clip ``rightward`` or ``leftward`` by
      the net horizontal drift of its centre of brightness between the
      first and last sampled frame, so, as in the bundled sample, only the
      frame order tells the classes apart. Split stratified here.

    ``given_parts`` maps ``"validation"`` / ``"test"`` to a folder of class
    subfolders of clips (`given_clips`, named after the classes above) that
    replaces that part; a given test part replaces UCF101's own, which is
    then not read.
    """
    import tensorflow_datasets as tfds

    errors.check_choice(name, TFDS_SOURCES, "--data")
    if name == "moving_mnist":
        clips, _, padded = tfds_clips(name, "test", options, data_dir)
        tracks = centroid_tracks(clips)
        labels = (tracks[:, -1, 1] > tracks[:, 0, 1]).astype("int64")
        sources = [f"sequence {i}" for i in range(len(labels))]
        class_names = ["leftward", "rightward"]
        given, given_padded = _given_clip_parts(given_parts, class_names, clips.shape[1:], options)
        return _assemble(name, clips, labels, class_names, sources, None, options, given, padded + given_padded)
    class_names = tfds.builder(name, data_dir=data_dir).info.features["label"].names
    train_clips, train_labels, padded = tfds_clips(name, "train", options, data_dir)
    present = np.unique(train_labels)
    remap = np.full(len(class_names), -1)
    remap[present] = np.arange(len(present))
    kept_names = [class_names[i] for i in present]
    given, given_padded = _given_clip_parts(given_parts, kept_names, train_clips.shape[1:], options)
    if "test" not in given:
        test_clips, test_labels, padded_test = tfds_clips(name, "test", options, data_dir)
        keep = np.isin(test_labels, present)
        sources = [f"test #{i}" for i in np.flatnonzero(keep)]
        given["test"] = (test_clips[keep], remap[test_labels[keep]], sources)
        given_padded += padded_test
    return _assemble(
        name,
        train_clips,
        remap[train_labels],
        kept_names,
        [f"train #{i}" for i in range(len(train_labels))],
        None,
        options,
        given,
        padded=padded + given_padded,
    )


def given_tracks(path, part: str, class_names: list[str], channels: int, encoding: str = text_files.DEFAULT_ENCODING):
    """A validation or test part of your own for joint tracks: a labelled UEA ``.ts`` file.

    Args:
        path: the file (``--validation-data`` / ``--test-data``).
        part: ``"validation"`` or ``"test"``, for messages.
        class_names: the training data's classes; labels index this list.
        channels: the training tracks' channel count.
        encoding: the file's codec (``--encoding``).

    Returns:
        ``(series, labels, sources)``: variable-length ``(time, channels)``
            series, int64 labels and a name for each.

    Raises:
        InputError: not a labelled ``.ts`` file, a label training lacks, or
            another channel count.
    """
    from rnn_apps.data import uea

    flag, path = PART_FLAGS[part], pathlib.Path(path)
    if not path.is_file():
        raise errors.expected("a .ts file of joint tracks for --input joints", str(path), name=flag)
    content = uea.read_ts(path, encoding)
    if any(label is None for label in content.labels):
        raise errors.expected("a .ts file with class labels (@classLabel true ...)", str(path), name=flag)
    if content.num_channels != channels:
        raise errors.expected(f"{channels} channels, as the training tracks", content.num_channels, name=flag)
    labels = np.asarray(splits.known_labels(content.labels, class_names, part, path.name), dtype="int64")
    return content.series, labels, [f"{part} series {i}" for i in range(len(labels))]


def load_ts_split(path, options: ClipOptions, given_parts: dict | None = None) -> ClipData:
    """Joint tracks from UEA ``.ts`` files.

    ``path`` is a ``.ts`` file (split stratified here) or a folder holding
    ``*_TRAIN.ts`` and ``*_TEST.ts`` (the official split is kept; the
    validation part comes from the training file). ``given_parts`` maps
    ``"validation"`` / ``"test"`` to a ``.ts`` file (`given_tracks`) that
    replaces that part; a given test file replaces the folder's, which is
    then not read. The training tracks are padded to the longest training
    series, the other parts to that length or their own longest, so no
    validation or test series changes what the model trains on.
    """
    from rnn_apps.data import uea

    given_parts = dict(given_parts or {})
    path = pathlib.Path(path)
    test = None
    if path.is_dir():
        train_files, test_files = sorted(path.glob("*_TRAIN.ts")), sorted(path.glob("*_TEST.ts"))
        if len(train_files) != 1 or (len(test_files) != 1 and "test" not in given_parts):
            raise errors.expected(
                "a folder with one *_TRAIN.ts and one *_TEST.ts file",
                f"{[p.name for p in train_files + test_files]} in {path}",
                name="--data",
            )
        train = uea.read_ts(train_files[0], options.encoding)
        class_names = train.class_names
        if "test" not in given_parts:
            test = uea.read_ts(test_files[0], options.encoding)
            class_names = list(dict.fromkeys(train.class_names + [n for n in test.class_names]))
        name = train_files[0].name.removesuffix("_TRAIN.ts")
    else:
        train = uea.read_ts(path, options.encoding)
        class_names, name = train.class_names, path.stem
    if any(label is None for label in train.labels):
        raise errors.expected("a .ts file with class labels (@classLabel true ...)", str(path), name="--data")
    if test is not None and any(label is None for label in test.labels):
        raise errors.expected("a test .ts file with class labels (@classLabel true ...)", str(test_files[0]))
    if test is not None and test.num_channels != train.num_channels:
        raise errors.expected(f"{train.num_channels} channels in the test file", test.num_channels)
    given = {}
    if test is not None:
        test_labels = [class_names.index(label) for label in test.labels]
        given["test"] = (test.series, test_labels, [f"test series {i}" for i in range(len(test_labels))])
    for part, given_path in given_parts.items():
        given[part] = given_tracks(given_path, part, class_names, train.num_channels, options.encoding)
    labels = [class_names.index(label) for label in train.labels]
    sources = [f"series {i}" for i in range(len(labels))]
    inputs = np.empty(len(labels), dtype=object)  # split first, pad after: no part's length reaches training
    for row, series in enumerate(train.series):
        inputs[row] = series
    data = _assemble(name, inputs, labels, class_names, sources, None, options, given)
    length = max(len(series) for series in data.train[0])

    def padded(series):
        longest = max([length, *(len(s) for s in series)])
        return (
            uea.pad_series(list(series), length=longest)
            if len(series)
            else np.zeros((0, length, train.num_channels), "float32")
        )

    return dataclasses.replace(
        data,
        **{part: (padded(getattr(data, part)[0]), getattr(data, part)[1]) for part in ("train", "validation", "test")},
    )


def load(
    source: str,
    options: ClipOptions,
    input_kind: str = "frames",
    sample: str | os.PathLike | None = None,
    data_dir: str | None = None,
    validation_source: str | os.PathLike | None = None,
    test_source: str | os.PathLike | None = None,
) -> ClipData:
    """The split clips (or joint tracks) that a ``--data`` value names.

    A given validation or test part is read like ``source``: a folder with
    one subfolder of clips per label, or for joints from ``.ts`` files a
    ``.ts`` file (the bundled sample's joints are the `centroid_tracks` of
    the given clips). Its labels must be classes of the training data; it
    replaces the part that would be split off (or the source's own test
    part), and the data's name says where it came from.

    Args:
        source: ``"sample"`` (the bundled file ``sample``), one of
            `TFDS_SOURCES`, a folder with one subfolder of clips per label;
            for joints, a UEA ``.ts`` file or a folder with one
            ``*_TRAIN.ts`` and one ``*_TEST.ts`` file.
        options: how clips are sampled and split.
        input_kind: one of `INPUT_KINDS`; the joints of the bundled sample
            are the `centroid_tracks` of its clips.
        sample: path of the bundled sample.
        data_dir: tensorflow-datasets data folder.
        validation_source: your own validation part (``--validation-data``).
        test_source: your own test part (``--test-data``).

    Raises:
        InputError: a source that does not exist or does not fit the input
            kind, or a given part that does not exist, does not fit, or
            holds a class the training data lacks.
    """
    errors.check_choice(input_kind, INPUT_KINDS, "--input")
    given_parts = {
        part: path for part, path in (("validation", validation_source), ("test", test_source)) if path is not None
    }
    for part, path in given_parts.items():
        if not pathlib.Path(path).exists():
            raise errors.expected("an existing file or folder", str(path), name=PART_FLAGS[part])
    data = _load(source, options, input_kind, sample, data_dir, given_parts)
    names = "".join(f", {part} from {pathlib.Path(path).name}" for part, path in given_parts.items())
    return dataclasses.replace(data, name=data.name + names, given=tuple(given_parts)) if names else data


def _load(source, options, input_kind, sample, data_dir, given_parts) -> ClipData:
    """`load` without the checks of the given parts' paths and their names."""
    if source == "sample":
        clips = load_sample_clips(sample, options, given_parts)
        return clips if input_kind == "frames" else as_tracks(clips)
    if source in TFDS_SOURCES:
        if input_kind == "joints":
            raise errors.expected("a .ts file or folder for --input joints", source, name="--data")
        return load_tfds(source, options, data_dir=data_dir, given_parts=given_parts)
    path = pathlib.Path(source)
    if not path.exists():
        raise errors.expected(
            f"an existing file or folder, 'sample', or one of {list(TFDS_SOURCES)}", source, name="--data"
        )
    if input_kind == "joints":
        return load_ts_split(path, options, given_parts)
    if not path.is_dir():
        raise errors.expected("a folder with one subfolder of clips per label", source, name="--data")
    return load_directory(path, options, given_parts)


def as_tracks(clips: ClipData) -> ClipData:
    """The same split with every clip replaced by its `centroid_tracks` (a joint track of one point)."""
    return dataclasses.replace(
        clips,
        name=f"{clips.name} (centroid tracks)",
        **{
            part: (centroid_tracks(getattr(clips, part)[0]), getattr(clips, part)[1])
            for part in ("train", "validation", "test")
        },
    )


def sidecar(data: ClipData, input_kind: str, stride: int, short_clips: str) -> dict:
    """What `read_sidecar` reads back beside a saved model: class names and how its clips were sampled."""
    inputs = data.train[0]
    return {
        "class_names": data.class_names,
        "input": input_kind,
        "frames": int(inputs.shape[1]),
        "stride": stride,
        "channels": int(inputs.shape[-1]),
        "size": int(inputs.shape[2]) if input_kind == "frames" else None,
        "short_clips": short_clips,
    }


def read_sidecar(model_path: str | os.PathLike) -> dict:
    """The settings saved beside a video model (``NAME.json``): its class names and how its clips were sampled.

    Raises:
        InputError: the file is missing, unreadable or lacks a setting.
    """
    path = pathlib.Path(model_path).with_suffix(".json")
    if not path.is_file():
        raise errors.expected("the .json file saved beside the model", f"no {path}")
    settings = errors.read_json(path, keys=("input", "class_names"))
    if settings["input"] != "joints":
        errors.read_json(path, keys=("frames", "stride", "size", "channels", "short_clips"))
    return settings


def read_inputs(
    paths, settings: dict, encoding: str = text_files.DEFAULT_ENCODING
) -> tuple[list[np.ndarray], list[str]]:
    """Read clips (video files, frame folders) or ``.ts`` joint files to predict on.

    Clips are sampled, resized and converted as the model's training clips
    were (``settings`` from `read_sidecar`); every series of a ``.ts`` file
    (decoded with ``encoding``) is one input (its labels, if any, are
    ignored).

    Returns:
        ``(inputs, names)``: one clip per path, or one ``(time, channels)``
            series per series, named ``PATH#i``.
    """
    from rnn_apps.data import uea

    inputs, names = [], []
    for value in map(str, paths):
        path = pathlib.Path(value)
        if not path.exists():
            raise errors.expected("an existing clip file or folder", value, name="input")
        if settings["input"] == "joints":
            series = uea.read_ts(path, encoding).series
            inputs += series
            names += [f"{value}#{i}" for i in range(len(series))]
        else:
            keys = ("frames", "stride", "size", "channels", "short_clips")
            clip, _ = prepare_clip(read_video(path), *(settings[key] for key in keys), value)
            inputs.append(clip)
            names.append(value)
    return inputs, names
