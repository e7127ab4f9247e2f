"""Audio data: WAV reading, resampling, labelled-clip loaders and tf.data pipelines.

Sources a speech recipe can read, all returning the same `AudioClassificationData`:

- a folder with one subfolder per label holding ``.wav`` files (the layout of
  `keras.utils.audio_dataset_from_directory`; read here with our own reader,
  because that utility drops each file's sample rate, which resampling needs);
- a folder in the Free Spoken Digit Dataset layout, ``{digit}_{speaker}_{index}.wav``,
  with its official split (index 0-4 test, the rest train);
- a tensorflow-datasets name with ``audio`` and ``label`` features, such as
  ``speech_commands`` or ``spoken_digit``.

Every clip comes back as a float32 mono waveform in [-1, 1] at one sample
rate: multi-channel files are averaged to mono (with a notice), other rates
are resampled with a polyphase filter (`scipy.signal.resample_poly`). Empty,
silent and unreadable files are refused with an `rnn_apps.errors.InputError`
naming the file.

`make_sequences` joins single-word clips into many-word clips for CTC
training, and `waveform_dataset` batches clips right-padded with zeros, which
the models' front end turns into masked frames. This module uses TensorFlow
(tf.data, tensorflow-datasets), as the design keeps such code in the data
modules.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import pathlib
import re
import sys
import warnings

import numpy as np
from scipy import signal
from scipy.io import wavfile

from rnn_apps import errors
from rnn_apps.data import splits

FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)\.wav$")
FSDD_TEST_INDICES = range(0, 5)
SILENCE_PEAK = 1e-4
"""Peak amplitude below which a clip counts as silent (-80 dBFS)."""
DITHER = 1e-5
"""Standard deviation of the noise added to every clip (a third of one 16-bit step).

The models treat frames of exact digital silence as padding; real recordings
can hold runs of exact zeros, and the dither keeps those from being masked.
"""


def notice(message: str) -> None:
    """Tell the user about a change made to their input (not an error)."""
    print(f"notice: {message}", file=sys.stderr)


@dataclasses.dataclass
class AudioClassificationData:
    """Labelled clips split into train, validation and test parts.

    Attributes:
        name: a short description of the source, for reports.
        class_names: label names; label ``i`` is ``class_names[i]``.
        sample_rate: the rate of every clip, in Hz.
        train: the training part, a ``(clips, labels)`` pair: a list of 1-D
            float32 waveforms and an int64 array.
        validation: the validation part, as ``train``.
        test: the test part, as ``train``.
    """

    name: str
    class_names: list[str]
    sample_rate: int
    train: tuple[list[np.ndarray], np.ndarray]
    validation: tuple[list[np.ndarray], np.ndarray]
    test: tuple[list[np.ndarray], np.ndarray]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sizes(self) -> dict[str, int]:
        return {part: len(getattr(self, part)[1]) for part in ("train", "validation", "test")}


# --------------------------------------------------------------------------
# One clip


def to_float(samples: np.ndarray) -> np.ndarray:
    """Scale integer PCM samples to float32 in [-1, 1]; floats pass through.

    Examples:
        >>> to_float(np.array([-32768, 0, 16384], dtype="int16")).tolist()
        [-1.0, 0.0, 0.5]
        >>> to_float(np.array([0, 128, 255], dtype="uint8")).tolist()
        [-1.0, 0.0, 0.9921875]
    """
    samples = np.asarray(samples)
    if samples.dtype == np.uint8:
        return ((samples.astype("float32") - 128.0) / 128.0).astype("float32")
    if np.issubdtype(samples.dtype, np.integer):
        return (samples.astype("float64") / float(-np.iinfo(samples.dtype).min)).astype("float32")
    return samples.astype("float32")


def to_mono(samples: np.ndarray, source: str = "waveform") -> np.ndarray:
    """Average the channels of a ``(time, channels)`` waveform, with a notice.

    Examples:
        >>> to_mono(np.array([[1.0, 0.0], [0.5, 0.5]]), "toy").tolist()
        [0.5, 0.5]
    """
    samples = np.asarray(samples)
    if samples.ndim == 1:
        return samples
    if samples.ndim != 2:
        raise errors.expected("a 1-D waveform or (time, channels)", f"shape {samples.shape} in {source}")
    if samples.shape[1] > 1:
        notice(f"{source} has {samples.shape[1]} channels; averaged to mono")
    return samples.mean(axis=1).astype(samples.dtype)


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Resample a waveform from ``rate`` to ``target_rate`` Hz (polyphase filter).

    Examples:
        >>> resample(np.zeros(16000, "float32"), 16000, 8000).shape
        (8000,)
    """
    for name, value in (("rate", rate), ("target_rate", target_rate)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise errors.expected("a positive whole number of Hz", value, name=name)
    if rate == target_rate:
        return samples
    divisor = math.gcd(int(rate), int(target_rate))
    return signal.resample_poly(samples, target_rate // divisor, rate // divisor).astype("float32")


def check_clip(samples: np.ndarray, source: str = "waveform") -> np.ndarray:
    """Refuse empty and silent clips; return the clip otherwise.

    Examples:
        >>> check_clip(np.zeros(0), "a.wav")
        Traceback (most recent call last):
        ...
        rnn_apps.errors.InputError: Expected a clip with audio. Received: 'an empty clip (a.wav)'
    """
    if samples.size == 0:
        raise errors.expected("a clip with audio", f"an empty clip ({source})")
    if not np.isfinite(samples).all():
        raise errors.expected("finite sample values", f"NaN or infinity in {source}")
    if np.abs(samples).max() < SILENCE_PEAK:
        raise errors.expected("a clip with audio", f"a silent clip, peak below -80 dBFS ({source})")
    return samples


def dither(samples: np.ndarray) -> np.ndarray:
    """Add very quiet, deterministic noise so no frame is exact digital silence."""
    noise = np.random.default_rng(samples.size).normal(0.0, DITHER, samples.shape)
    return (samples + noise).astype("float32")


def prepare(samples, rate: int, target_rate: int | None = None, source: str = "waveform") -> np.ndarray:
    """Turn raw samples into the float32 mono clip models take.

    Scales integers to [-1, 1], averages channels, resamples to
    ``target_rate`` (when given), refuses empty and silent clips, and adds
    the dither.

    Examples:
        >>> clip = prepare(np.full((800, 2), 1000, dtype="int16"), 8000, 16000)
        >>> clip.shape, clip.dtype.name
        ((1600,), 'float32')
    """
    samples = to_float(to_mono(np.asarray(samples), source))
    check_clip(samples, source)
    if target_rate is not None:
        samples = resample(samples, rate, target_rate)
    return dither(samples)


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read a WAV file as raw samples and its sample rate.

    Returns:
        ``(samples, rate)``: samples as stored (int or float; ``(time,)`` or
            ``(time, channels)``).

    Raises:
        InputError: the file is missing, not a WAV file, or unreadable.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise errors.expected("an existing .wav file", str(path))
    try:
        with warnings.catch_warnings():  # chunks scipy skips are no concern; errors below are reported
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, samples = wavfile.read(path)
    except Exception as error:  # scipy raises ValueError, EOFError, struct errors...
        raise errors.expected("a readable WAV file (PCM or float)", f"{path} ({error})") from None
    return samples, int(rate)


def load_clip(path: str | os.PathLike, target_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read and prepare one WAV file; return ``(clip, rate)``.

    The rate is ``target_rate`` when given (the clip is resampled to it),
    else the file's own.
    """
    samples, rate = read_wav(path)
    clip = prepare(samples, rate, target_rate, source=str(path))
    return clip, target_rate or rate


# --------------------------------------------------------------------------
# Folders and tensorflow-datasets


def _common_rate(rates) -> int:
    return collections.Counter(rates).most_common(1)[0][0]


def _read_files(paths, target_rate: int | None):
    """Read WAV files; resample all to ``target_rate`` or their most common rate."""
    raw = [read_wav(path) for path in paths]
    rate = target_rate or _common_rate(r for _, r in raw)
    changed = sum(r != rate for _, r in raw)
    if changed:
        notice(f"{changed} of {len(raw)} files resampled to {rate} Hz")
    return [prepare(samples, r, rate, source=str(path)) for (samples, r), path in zip(raw, paths)], rate


def fsdd_files(folder: pathlib.Path) -> list[pathlib.Path]:
    """The files of ``folder`` named in the FSDD pattern (none if any ``.wav`` is not)."""
    files = sorted(folder.glob("*.wav"))
    if files and all(FSDD_NAME.match(path.name) for path in files):
        return files
    return []


def _class_folders(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.wav")))


def labelled_files(folder: pathlib.Path) -> tuple[list[pathlib.Path], list[str]]:
    """The ``.wav`` files of ``folder`` and the label of each: FSDD names (the digit), or one subfolder per label."""
    files = fsdd_files(folder)
    if files:
        return files, [FSDD_NAME.match(item.name).group(1) for item in files]
    files, names = [], []
    for label in _class_folders(folder):
        found = sorted((folder / label).glob("*.wav"))
        files += found
        names += [label] * len(found)
    return files, names


def _split_parts(clips, labels, validation_fraction, test_fraction, seed, test=None):
    """Split off validation (and test, when ``test`` is not given) parts, stratified."""
    labels = np.asarray(labels, dtype="int64")
    parts = splits.stratified_split(labels, validation_fraction, 0.0 if test else test_fraction, seed)

    def take(indices):
        return [clips[i] for i in indices], labels[indices]

    return take(parts.train), take(parts.validation), test or take(parts.test)


def load_fsdd(folder, target_rate=None, validation_fraction=0.1, seed=0) -> AudioClassificationData:
    """Load the Free Spoken Digit Dataset with its official split.

    Recordings ``{digit}_{speaker}_{index}.wav`` with index 0-4 form the test
    set; a stratified validation part is held out of the rest.
    """
    folder = pathlib.Path(folder)
    files = fsdd_files(folder)
    clips, rate = _read_files(files, target_rate)
    matches = [FSDD_NAME.match(path.name) for path in files]
    labels = np.array([int(m.group(1)) for m in matches])
    is_test = np.array([int(m.group(3)) in FSDD_TEST_INDICES for m in matches])
    train_index, test_index = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    if not len(test_index) or not len(train_index):
        raise errors.expected("FSDD files with index 0-4 (test) and 5 or more (train)", f"{len(files)} files")
    test = ([clips[i] for i in test_index], labels[test_index])
    digits = sorted(set(labels.tolist()))
    if digits != list(range(len(digits))):
        raise errors.expected("FSDD digits 0 to n-1", digits)
    train, validation, test = _split_parts(
        [clips[i] for i in train_index], labels[train_index], validation_fraction, 0.0, seed, test=test
    )
    return AudioClassificationData(f"fsdd ({folder.name})", [str(d) for d in digits], rate, train, validation, test)


def load_class_folders(folder, target_rate=None, validation_fraction=0.1, test_fraction=0.1, seed=0):
    """Load ``folder/<label>/*.wav`` and split it, stratified by label."""
    folder = pathlib.Path(folder)
    class_names = _class_folders(folder)
    if len(class_names) < 2:
        loose = len(list(folder.glob("*.wav")))
        raise errors.expected(
            "one subfolder per label holding .wav files (two labels or more), or FSDD names "
            "{digit}_{speaker}_{index}.wav",
            f"{len(class_names)} label folder(s) and {loose} unlabelled .wav file(s) in {folder}",
        )
    paths, labels = [], []
    for index, name in enumerate(class_names):
        for path in sorted((folder / name).glob("*.wav")):
            paths.append(path)
            labels.append(index)
    clips, rate = _read_files(paths, target_rate)
    train, validation, test = _split_parts(clips, labels, validation_fraction, test_fraction, seed)
    return AudioClassificationData(folder.name, class_names, rate, train, validation, test)


def load_tfds(name, target_rate=None, validation_fraction=0.1, test_fraction=0.1, seed=0, data_dir=None):
    """Load a tensorflow-datasets audio set with ``audio`` and ``label`` features.

    Its own ``train``/``validation``/``test`` splits are kept where they
    exist; missing ones are split off the training rows (stratified).
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # unknown name: tfds raises its own DatasetNotFoundError
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise errors.expected(
            "an existing folder or .ts file, or a tensorflow-datasets name such as speech_commands",
            f"{name} ({first_line})",
            name="--data",
        ) from None
    features = builder.info.features
    if "audio" not in features or "label" not in features:
        raise errors.expected("a dataset with 'audio' and 'label' features", f"{name}: {list(features)}")
    native = int(getattr(features["audio"], "sample_rate", None) or 16000)
    rate = target_rate or native
    class_names = list(features["label"].names)
    builder.download_and_prepare()

    def read(split):
        """The clips of ``split``, or `None` when the data set has no such split."""
        try:
            dataset = builder.as_dataset(split=split, as_supervised=True)
        except (KeyError, ValueError):  # tfds: unknown split names raise one of these
            return None
        clips, labels, skipped = [], [], 0
        for samples, label in tfds.as_numpy(dataset):
            # tfds stores 16-bit PCM in wider integer types; scale it as 16-bit.
            if np.issubdtype(samples.dtype, np.integer) and samples.size and np.abs(samples).max() <= 32768:
                samples = np.clip(samples, -32768, 32767).astype("int16")
            try:
                clips.append(prepare(samples, native, rate, source=f"{name}/{split}"))
            except errors.InputError:  # an empty or silent clip of a published set: leave it out
                skipped += 1
                continue
            labels.append(int(label))
        if skipped:
            notice(f"{skipped} empty or silent clips of {name}/{split} left out")
        return clips, np.asarray(labels, dtype="int64")

    if native != rate:
        notice(f"{name} is recorded at {native} Hz; resampled to {rate} Hz")
    clips, labels = read("train")
    test, validation = read("test"), read("validation")
    if validation is not None:
        train = (clips, labels)
        if test is None:
            train, _, test = _split_parts(clips, labels, test_fraction, 0.0, seed)
    else:
        train, validation, test = _split_parts(clips, labels, validation_fraction, test_fraction, seed, test=test)
    return AudioClassificationData(name, class_names, rate, train, validation, test)


def with_own_part(data: AudioClassificationData, part: str, source) -> AudioClassificationData:
    """``data`` with its ``part`` (``validation`` or ``test``) read from the user's own folder.

    ``source`` is a folder laid out as ``--data`` takes it: one subfolder per
    label, or FSDD file names (every file counts, whatever its index). Its
    clips are resampled to ``data``'s rate, and its labels must be among the
    training data's classes. The clips of the part it replaces join the
    training part, so no clip is left unused.

    Raises:
        rnn_apps.errors.InputError: ``source`` is not such a folder, holds
            no clips, or holds a label the training data lacks.
    """
    flag = f"--{part}-data"
    path = pathlib.Path(source)
    if not path.is_dir():
        raise errors.expected("a folder of .wav files (one subfolder per label, or FSDD names)", str(source), name=flag)
    files, names = labelled_files(path)
    if not files:
        raise errors.expected("one subfolder per label holding .wav files, or FSDD names", str(path), name=flag)
    labels = np.array(splits.known_labels(names, data.class_names, part, path), dtype="int64")
    clips, _ = _read_files(files, data.sample_rate)
    replaced_clips, replaced_labels = getattr(data, part)
    train = (list(data.train[0]) + list(replaced_clips), np.concatenate([data.train[1], replaced_labels]))
    return dataclasses.replace(
        data, name=f"{data.name}, {part} from {path.name}", train=train, **{part: (clips, labels)}
    )


@dataclasses.dataclass
class SpeakerClips:
    """Labelled clips, each with its speaker, before any split (for cross-validation by speaker).

    Attributes:
        name: a short description of the source, for reports.
        class_names: label names; label ``i`` is ``class_names[i]``.
        sample_rate: the rate of every clip, in Hz.
        clips: 1-D float32 waveforms.
        labels: int64 array, one label per clip.
        speakers: the speaker of each clip, as read from its file name.
    """

    name: str
    class_names: list[str]
    sample_rate: int
    clips: list[np.ndarray]
    labels: np.ndarray
    speakers: list[str]

    @property
    def speaker_names(self) -> list[str]:
        """Every speaker once, sorted."""
        return sorted(set(self.speakers))


def load_speaker_clips(folder, pattern: str, target_rate: int | None = None) -> SpeakerClips:
    """Read a WAV folder whose file names say who speaks, for cross-validation by speaker.

    The folder holds FSDD names (``{digit}_{speaker}_{index}.wav``: the label
    is the digit) or one subfolder per label; in both layouts the speaker is
    the first group of ``pattern`` matched against each file name.

    Args:
        folder: the folder.
        pattern: a regular expression whose first group is the speaker.
        target_rate: resample every clip to this rate (default: the most
            common rate of the files).

    Raises:
        rnn_apps.errors.InputError: not such a folder, a file name without a
            speaker, fewer than two labels or fewer than two speakers.

    Examples:
        >>> import tempfile
        >>> from scipy.io import wavfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> tone = (np.sin(np.arange(800) / 3) * 9000).astype("int16")
        >>> for name in ("0_ann_0", "1_ann_0", "0_bob_0", "1_bob_1"):
        ...     wavfile.write(folder / f"{name}.wav", 8000, tone)
        >>> data = load_speaker_clips(folder, r"^[^_]+_([^_]+)_")
        >>> data.speaker_names, data.labels.tolist(), data.class_names
        (['ann', 'bob'], [0, 0, 1, 1], ['0', '1'])
    """
    path = pathlib.Path(folder)
    expected = "a folder of .wav files with the speaker in their names (FSDD names, or one subfolder per label)"
    if not path.is_dir():
        raise errors.expected(expected, str(folder), name="--data")
    files, names = labelled_files(path)
    if not files:
        raise errors.expected(expected, f"no .wav files in {path}", name="--data")
    matcher = re.compile(pattern)
    speakers = []
    for item in files:
        found = matcher.search(item.name)
        if found is None or not found.group(1):
            raise errors.expected(f"a speaker in every file name (--speaker-pattern {pattern})", str(item))
        speakers.append(found.group(1))
    class_names = sorted(set(names))
    if len(class_names) < 2:
        raise errors.expected("two labels or more", class_names)
    if len(set(speakers)) < 2:
        raise errors.expected("two speakers or more for --group-by speaker", sorted(set(speakers)))
    index = {name: i for i, name in enumerate(class_names)}
    clips, rate = _read_files(files, target_rate)
    labels = np.array([index[name] for name in names], dtype="int64")
    return SpeakerClips(path.name, class_names, rate, clips, labels, speakers)


def load_audio_classification(
    source,
    sample_rate: int | None = None,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> AudioClassificationData:
    """Load labelled clips from a folder (labels or FSDD) or a tensorflow-datasets name.

    Args:
        source: a folder path or a tensorflow-datasets name.
        sample_rate: resample every clip to this rate; by default the
            most common rate of the files (the native rate for tfds).
        validation_fraction: of the training rows.
        test_fraction: of all rows, when the source has no test set.
        seed: split seed.

    Returns:
        `AudioClassificationData`.
    """
    path = pathlib.Path(source)
    if path.is_dir():
        if fsdd_files(path):
            return load_fsdd(path, sample_rate, validation_fraction, seed)
        return load_class_folders(path, sample_rate, validation_fraction, test_fraction, seed)
    if path.exists():
        raise errors.expected("a folder of .wav files, a .ts file or folder, or a tensorflow-datasets name", str(path))
    if os.sep in str(source) or str(source).startswith(".") or path.suffix:
        raise errors.expected("an existing file or folder", str(source), name="--data")
    return load_tfds(str(source), sample_rate, validation_fraction, test_fraction, seed)


# --------------------------------------------------------------------------
# Many-word clips for CTC


def make_sequences(
    clips,
    labels,
    count: int,
    sample_rate: int,
    min_words: int = 2,
    max_words: int = 5,
    gap_seconds: tuple[float, float] = (0.05, 0.3),
    seed: int = 0,
) -> tuple[list[np.ndarray], list[list[int]]]:
    """Join random single-word clips into clips of several words.

    Words are drawn with replacement from ``clips``; between and around
    them go gaps of random length filled with quiet noise at the level of
    the quietest part of the neighbouring clips, so no gap is exact silence.

    Args:
        clips: 1-D waveforms, one word each.
        labels: their int labels.
        count: number of clips to make.
        sample_rate: of the clips, to turn gap seconds into samples.
        min_words, max_words: words per clip, inclusive.
        gap_seconds: shortest and longest gap.
        seed: random seed.

    Returns:
        ``(waveforms, transcripts)``: transcripts are lists of int labels.

    Examples:
        >>> waves, words = make_sequences([np.ones(10, "float32")] * 2, [0, 1], 3, 100, 2, 3, (0.01, 0.02))
        >>> len(waves), all(2 <= len(w) <= 3 for w in words), waves[0].dtype.name
        (3, True, 'float32')
    """
    if not 1 <= min_words <= max_words:
        raise errors.expected("1 <= min_words <= max_words", (min_words, max_words))
    random = np.random.default_rng(seed)
    labels = np.asarray(labels)
    floors = [quiet_level(c) for c in clips]
    waveforms, transcripts = [], []
    low, high = (int(seconds * sample_rate) for seconds in gap_seconds)
    for _ in range(count):
        chosen = random.integers(0, len(clips), int(random.integers(min_words, max_words + 1)))
        floor = min(floors[i] for i in chosen)
        waveforms.append(join_words([clips[i] for i in chosen], floor, low, high, random))
        transcripts.append([int(labels[i]) for i in chosen])
    return waveforms, transcripts


def quiet_level(clip: np.ndarray) -> float:
    """The level of the quietest part of a clip: its 10th-percentile magnitude, the dither at least.

    Examples:
        >>> quiet_level(np.linspace(0.0, 1.0, 11))
        0.1
    """
    return max(float(np.percentile(np.abs(clip), 10)), DITHER)


def join_words(words, floor: float, low: int, high: int, random: np.random.Generator) -> np.ndarray:
    """One clip of ``words`` with a pause of ``low`` to ``high`` samples before, between and after them.

    The pauses hold Gaussian noise of standard deviation ``floor``
    (`quiet_level`), so none is exact silence, which the models treat as padding.

    Examples:
        >>> clip = join_words([np.ones(3), np.ones(2)], 1e-3, 1, 1, np.random.default_rng(0))
        >>> clip.shape, clip.dtype.name, clip[1:4].tolist()
        ((8,), 'float32', [1.0, 1.0, 1.0])
    """
    pieces = []
    for word in words:
        pieces.append(random.normal(0.0, floor, int(random.integers(low, high + 1))))
        pieces.append(word)
    pieces.append(random.normal(0.0, floor, int(random.integers(low, high + 1))))
    return np.concatenate(pieces).astype("float32")


# --------------------------------------------------------------------------
# Batches


def pad_clips(clips, length: int | None = None) -> np.ndarray:
    """Right-pad (or cut) 1-D clips with zeros into one float32 array.

    Examples:
        >>> pad_clips([np.ones(2), np.ones(3)]).tolist()
        [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    if not len(clips):
        raise errors.expected("at least one clip to pad", "none")
    length = length or max(len(c) for c in clips)
    output = np.zeros((len(clips), length), dtype="float32")
    for row, clip in enumerate(clips):
        clip = clip[:length]
        output[row, : len(clip)] = clip
    return output


def _dense_row(clip, target):
    return clip.to_tensor() if hasattr(clip, "to_tensor") else clip, target


def waveform_dataset(clips, targets, batch_size: int, shuffle=False, seed=0, pad_to=None, bucket=False, augment=None):
    """A batched ``(waveforms, targets)`` `tf.data.Dataset`, right-padded with zeros.

    Args:
        clips: 1-D float32 waveforms.
        targets: one row per clip (int labels, or fixed-width int arrays such
            as packed CTC targets).
        batch_size: clips per batch.
        shuffle: reshuffle every epoch (training).
        seed: shuffle seed.
        pad_to: pad every batch to this many samples (models that cannot
            mask); clips must not be longer. Default: the longest clip of
            each batch.
        bucket: batch clips of similar length together (training; order is
            not kept), so less padding is computed.
        augment: a function from the dataset of single clips to another,
            applied after the shuffle and before batching (training
            augmentation such as `rnn_apps.data.spoken.augmentation`).

    Returns:
        A prefetched dataset.
    """
    import tensorflow as tf

    lengths = np.array([len(c) for c in clips], dtype="int64")
    ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(clips).astype("float32"), lengths)
    targets = np.asarray(targets)
    target_shape = list(targets.shape[1:])
    # Slicing a ragged tensor gives ragged-typed rows; the map makes them dense.
    dataset = tf.data.Dataset.from_tensor_slices((ragged, targets)).map(_dense_row)
    if shuffle:
        dataset = dataset.shuffle(len(clips), seed=seed, reshuffle_each_iteration=True)
    if augment is not None:
        dataset = augment(dataset)
    if pad_to is not None:
        dataset = dataset.padded_batch(batch_size, padded_shapes=([pad_to], target_shape))
    elif bucket:
        quantiles = np.unique(np.quantile(lengths, [0.2, 0.4, 0.6, 0.8]).astype("int64") + 1)
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda clip, target: tf.shape(clip)[0],
            bucket_boundaries=quantiles.tolist(),
            bucket_batch_sizes=[batch_size] * (len(quantiles) + 1),
        )
    else:
        dataset = dataset.padded_batch(batch_size, padded_shapes=([None], target_shape))
    return dataset.prefetch(tf.data.AUTOTUNE)
