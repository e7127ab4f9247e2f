"""Spoken-word sources for the speech recipe: clips or UEA series, cut, joined into digit strings, batched.

`load` reads what ``--data`` names (a WAV folder, FSDD, a tensorflow-datasets
name, or UEA ``.ts`` files, whose series are frames already) and splits it;
`limit_length` applies ``--clip-seconds``; `digit_strings` joins single-digit
clips of each split into many-digit clips for CTC; `datasets` batches clips
(or series) for ``fit``.

Examples:
    >>> transcript_text([3, 1], ["zero", "one", "two", "three"])
    'three one'
    >>> majority_transcript([[1, 2], [1, 1, 1], [2]])
    [1, 1]
"""

from __future__ import annotations

import pathlib

import numpy as np

from rnn_apps import errors
from rnn_apps.data import audio, splits, text_files, uea


def ts_files(source) -> tuple[pathlib.Path, pathlib.Path | None] | None:
    """The ``(train, test)`` ``.ts`` files named by ``source``, or `None` for audio sources.

    ``source`` is one ``.ts`` file (its ``_TRAIN``/``_TEST`` partner is found
    beside it; without one the test file is `None`) or a folder holding a
    ``*_TRAIN.ts`` file.
    """
    path = pathlib.Path(source)
    if path.is_file() and path.suffix.lower() == ".ts":
        stem = path.name
        for ours, theirs in (("_TRAIN", "_TEST"), ("_TEST", "_TRAIN")):
            if ours in stem:
                partner = path.with_name(stem.replace(ours, theirs))
                if partner.is_file():
                    return (path, partner) if ours == "_TRAIN" else (partner, path)
        return path, None
    if path.is_dir():
        train = sorted(path.glob("*_TRAIN.ts"))
        if train:
            test = train[0].with_name(train[0].name.replace("_TRAIN", "_TEST"))
            return train[0], test if test.is_file() else None
    return None


def load_series(
    files,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    encoding: str = text_files.DEFAULT_ENCODING,
) -> audio.AudioClassificationData:
    """UEA ``.ts`` series as `AudioClassificationData` whose clips are ``(time, channels)`` frames.

    A test file keeps its series as the test part; without one, a stratified
    ``test_fraction`` of the training series is held out. Both files are
    decoded with ``encoding``.

    Raises:
        rnn_apps.errors.InputError: unlabelled series, test labels unknown to
            the training file, or test series with another channel count.
    """
    train_file, test_file = files
    train = uea.read_ts(train_file, encoding)
    if any(label is None for label in train.labels):
        raise errors.expected("a .ts file with class labels (@classLabel true ...)", str(train_file))
    class_names = train.class_names
    index = {name: i for i, name in enumerate(class_names)}

    def encode(content):
        unknown = sorted({label for label in content.labels if label not in index})
        if unknown:
            raise errors.expected(f"test labels among the training labels {class_names}", unknown[:5])
        return np.array([index[label] for label in content.labels], dtype="int64")

    clips, labels = train.series, encode(train)
    test = None
    if test_file is not None:
        test_content = uea.read_ts(test_file, encoding)
        if test_content.num_channels != train.num_channels:
            raise errors.expected(f"{train.num_channels} channels in {test_file}", test_content.num_channels)
        test = (test_content.series, encode(test_content))
    parts = splits.stratified_split(labels, validation_fraction, 0.0 if test else test_fraction, seed)

    def take(indices):
        return [clips[i] for i in indices], labels[indices]

    name = train_file.name.replace("_TRAIN", "").removesuffix(".ts")
    return audio.AudioClassificationData(
        name, class_names, None, take(parts.train), take(parts.validation), test or take(parts.test)
    )


def load(
    source,
    sample_rate: int | None = None,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    waveforms: bool = False,
    validation_source=None,
    test_source=None,
    encoding: str = text_files.DEFAULT_ENCODING,
) -> audio.AudioClassificationData:
    """Load and split the clips (or ``.ts`` series) that ``source`` names.

    Args:
        source: a WAV folder, an FSDD folder, a tensorflow-datasets name, or
            UEA ``.ts`` files (see `ts_files`).
        sample_rate: resample clips to this rate (default: the data's own).
        validation_fraction, test_fraction, seed: the split.
        waveforms: refuse ``.ts`` series (a task that needs audio).
        validation_source, test_source: the user's own validation or test
            part, a WAV folder laid out like ``source``
            (`rnn_apps.data.audio.with_own_part`); audio sources only.
        encoding: the codec of ``.ts`` files (``--encoding``).

    Raises:
        rnn_apps.errors.InputError: for a source that cannot be read, or
            fewer than two labels.
    """
    series = ts_files(source)
    if series is not None:
        if waveforms:
            raise errors.expected("audio for --task digits (a .ts file holds frames, not waveforms)", source)
        data = load_series(series, validation_fraction, test_fraction, seed, encoding)
    else:
        data = audio.load_audio_classification(
            source,
            sample_rate=sample_rate,
            validation_fraction=validation_fraction,
            test_fraction=test_fraction,
            seed=seed,
        )
    for part, given in (("validation", validation_source), ("test", test_source)):
        if given is None:
            continue
        if series is not None:
            raise errors.expected(f"audio for --data with --{part}-data (.ts files bring their own parts)", source)
        data = audio.with_own_part(data, part, given)
    if data.num_classes < 2:
        raise errors.expected("two labels or more", data.class_names)
    if waveforms and data.sample_rate is None:
        raise errors.expected("audio for --task digits", data.name)
    return data


def speaker_groups(speakers: list[str], folds: int | None = None) -> list[list[str]]:
    """Speakers dealt into ``folds`` test groups (default: one per speaker, leave-one-speaker-out).

    Raises:
        rnn_apps.errors.InputError: more folds than speakers, or fewer than two.

    Examples:
        >>> speaker_groups(["ann", "bob", "cy"])
        [['ann'], ['bob'], ['cy']]
        >>> speaker_groups(["ann", "bob", "cy"], 2)
        [['ann', 'cy'], ['bob']]
    """
    names = sorted(set(speakers))
    folds = len(names) if folds is None else folds
    if not 2 <= folds <= len(names):
        raise errors.expected(f"2 to {len(names)} folds (the number of speakers)", folds, name="--folds")
    return [names[start::folds] for start in range(folds)]


def speaker_fold(
    data: audio.SpeakerClips,
    groups: list[list[str]],
    fold: int,
    validation_fraction: float = 0.1,
    seed: int = 0,
    validation: str = "speaker",
) -> tuple[audio.AudioClassificationData, dict]:
    """Fold ``fold`` of a cross-validation by speaker: its test speakers, a validation speaker, the rest to train.

    The test part holds every clip of ``groups[fold]``. With ``validation=
    "speaker"`` early stopping does not know the training speakers' voices
    either: the validation part is one whole training speaker, the first
    after the test group in sorted order, wrapping round. With
    ``validation="fraction"``, or a single training speaker left, a
    stratified ``validation_fraction`` of the training speakers' clips is
    held out instead (every training voice trains, but stopping has heard them).

    Returns:
        ``(split, speakers)``: the `AudioClassificationData` and
            ``{"test": [...], "validation": [...], "train": [...]}``.

    Raises:
        rnn_apps.errors.InputError: ``fold`` outside the groups.

    Examples:
        >>> clip = np.ones(4, "float32")
        >>> who = ["a", "a", "b", "b", "c", "c"]
        >>> data = audio.SpeakerClips("toy", ["0", "1"], 8000, [clip] * 6, np.array([0, 1] * 3), who)
        >>> split, speakers = speaker_fold(data, speaker_groups(data.speakers), 2)
        >>> speakers, split.sizes()
        ({'test': ['c'], 'validation': ['a'], 'train': ['b']}, {'train': 2, 'validation': 2, 'test': 2})
    """
    if not 0 <= fold < len(groups):
        raise errors.expected(f"a fold from 0 to {len(groups) - 1}", fold, name="--fold")
    test = groups[fold]
    order = [name for group in groups[fold + 1 :] + groups[:fold] for name in group]
    speakers = np.asarray(data.speakers)

    def take(indices):
        return [data.clips[i] for i in indices], data.labels[indices]

    test_part = take(np.flatnonzero(np.isin(speakers, test)))
    if len(order) >= 2 and validation == "speaker":
        validation, training = order[:1], sorted(order[1:])
        parts = (np.flatnonzero(np.isin(speakers, training)), np.flatnonzero(speakers == validation[0]))
    else:
        validation, training = sorted(order), sorted(order)
        rest = np.flatnonzero(np.isin(speakers, order))
        inner = splits.stratified_split(data.labels[rest], validation_fraction, 0.0, seed)
        parts = (rest[inner.train], rest[inner.validation])
    name = f"{data.name}, speaker{'s' if len(test) > 1 else ''} {', '.join(test)} held out"
    split = audio.AudioClassificationData(
        name, data.class_names, data.sample_rate, take(parts[0]), take(parts[1]), test_part
    )
    return split, {"test": list(test), "validation": list(validation), "train": list(training)}


def limit_length(data: audio.AudioClassificationData, clip_seconds: float | None, frame_seconds: float = 0.025) -> int:
    """Cut clips to ``clip_seconds`` when given; return the fixed length the CNN trains on (samples or frames).

    Without ``clip_seconds`` nothing is cut and the length is that of the
    longest training clip; longer test clips are read whole (every model
    pools over time, so any length fits).

    Raises:
        rnn_apps.errors.InputError: ``clip_seconds`` shorter than one
            analysis frame of ``frame_seconds``.
    """
    if clip_seconds is None or data.sample_rate is None:
        return max(len(c) for c in data.train[0])
    if clip_seconds < frame_seconds:
        raise errors.expected(f"at least one analysis frame ({frame_seconds} s)", clip_seconds, name="--clip-seconds")
    limit = max(1, int(round(clip_seconds * data.sample_rate)))
    cut = 0
    for part in ("train", "validation", "test"):
        clips, labels = getattr(data, part)
        cut += sum(len(c) > limit for c in clips)
        setattr(data, part, ([c[:limit] for c in clips], labels))
    if cut:
        audio.notice(f"{cut} clips cut to {limit} samples (--clip-seconds)")
    return min(limit, max(len(c) for c in data.train[0]))


def digit_strings(data: audio.AudioClassificationData, sequences: int, min_digits: int, max_digits: int, seed: int):
    """Many-digit clips for each split, joined from that split's single-digit clips.

    The training part gets ``sequences`` clips, validation and test parts in
    proportion to their single clips (20 at least), so test clips hold only
    test recordings.

    Returns:
        ``{"train"|"validation"|"test": (waveforms, transcripts)}``.
    """
    count = {"train": sequences}
    for part in ("validation", "test"):
        count[part] = max(20, round(sequences * len(getattr(data, part)[1]) / max(1, len(data.train[1]))))
    sets = {}
    for offset, part in enumerate(("train", "validation", "test")):
        clips, labels = getattr(data, part)
        sets[part] = audio.make_sequences(
            clips, labels, count[part], data.sample_rate, min_digits, max_digits, seed=seed + offset
        )
    return sets


def transcript_text(symbols, class_names) -> str:
    """Symbol ids as the space-separated label names (digits: ``"3 1 4"``)."""
    return " ".join(class_names[s] for s in symbols)


def majority_transcript(transcripts) -> list[int]:
    """The naive transcriber's one answer: the commonest symbol, repeated the median number of times."""
    symbols = np.concatenate([np.asarray(t, dtype="int64") for t in transcripts])
    commonest = int(np.bincount(symbols).argmax())
    return [commonest] * int(np.median([len(t) for t in transcripts]))


def pad_inputs(clips, length: int | None, waveforms: bool = True) -> np.ndarray:
    """One batch of model inputs: waveforms or ``.ts`` frames, right-padded to ``length`` or the longest clip."""
    length = max(length or 0, max(len(c) for c in clips))
    if not waveforms:
        return uea.pad_series(clips, 0.0, length)
    return audio.pad_clips(clips, length)


def augmentation(seed: int, speed=None, snr=None, limit: int | None = None):
    """Training augmentation of single waveforms as a `tf.data` step: speed perturbation and noise.

    Speed perturbation resamples a clip by a factor drawn from ``speed``
    (linear interpolation between samples): a factor of 1.1 plays it 10%
    faster and 10% higher, so tempo and pitch, and with pitch the formants a
    vocal tract gives a voice, move together, as Kaldi's speed perturbation
    does. Noise is white, scaled to a signal-to-noise ratio drawn from
    ``snr`` (decibels, against the clip's own power). Both happen on the
    clips before they are padded into batches, so the padding stays exact
    zeros for the models' masks, and nothing of them is in the model: a saved
    model takes clean audio and predicts as it would without them.

    Each clip draws from a stateless generator keyed by a stream of
    `tf.data.Dataset.random` values seeded with ``seed``, drawn anew every
    epoch: the same seed gives the same epochs, and every epoch differs.

    Args:
        seed: seed of the key stream.
        speed: ``(low, high)`` speed factors, or `None` for no resampling.
        snr: ``(low, high)`` signal-to-noise ratios in dB, or `None` for no noise.
        limit: cut clips to this many samples afterwards (a fixed-length
            CNN batch, which a slowed-down clip would overflow).

    Returns:
        A function from a dataset of ``(clip, target)`` pairs to the augmented one.
    """
    import tensorflow as tf

    def resample(clip, factor):
        count = tf.cast(tf.shape(clip)[0], "float32")
        size = tf.maximum(1, tf.cast(tf.round(count / factor), "int32"))
        position = tf.minimum(tf.range(size, dtype="float32") * factor, count - 1.0)
        left = tf.cast(tf.floor(position), "int32")
        right = tf.minimum(left + 1, tf.cast(count, "int32") - 1)
        share = position - tf.floor(position)
        return tf.gather(clip, left) * (1.0 - share) + tf.gather(clip, right) * share

    def change(pair, key):
        clip, target = pair
        keys = tf.random.experimental.stateless_split(key, 3)
        if speed is not None:
            clip = resample(clip, tf.random.stateless_uniform([], keys[0], speed[0], speed[1]))
        if limit is not None:
            clip = clip[:limit]
        if snr is not None:
            ratio = tf.random.stateless_uniform([], keys[1], snr[0], snr[1])
            scale = tf.sqrt(tf.reduce_mean(tf.square(clip))) * tf.pow(10.0, -ratio / 20.0)
            clip = clip + scale * tf.random.stateless_normal(tf.shape(clip), keys[2])
        return clip, target

    def apply(dataset):
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        return tf.data.Dataset.zip(dataset, keys).map(change, num_parallel_calls=tf.data.AUTOTUNE)

    return apply


def datasets(
    train,
    validation,
    batch_size: int,
    seed: int,
    length: int,
    waveforms: bool = True,
    fixed: bool = False,
    augment=None,
):
    """Training and validation `tf.data` pipelines of ``(clips, targets)`` pairs.

    Args:
        train, validation: ``(clips, targets)``; targets are labels or packed
            CTC targets, one row per clip.
        batch_size: clips per batch.
        seed: shuffle seed.
        length: the fixed length (samples, or frames of series).
        waveforms: clips are waveforms (else ``.ts`` frames, padded to
            ``length`` or the longest series).
        fixed: pad every batch to ``length`` (a CNN, which cannot mask);
            otherwise batches of similar length are padded to their longest.
        augment: a training augmentation of waveforms (`augmentation`); the
            validation part is never augmented.
    """
    import tensorflow as tf

    if not waveforms:
        train_x = pad_inputs(train[0], length, waveforms=False)
        validation_x = pad_inputs(validation[0], length, waveforms=False)
        training = tf.data.Dataset.from_tensor_slices((train_x, train[1]))
        training = training.shuffle(len(train_x), seed=seed).batch(batch_size)
        return training, tf.data.Dataset.from_tensor_slices((validation_x, validation[1])).batch(batch_size)
    pad_to = length if fixed else None
    training = audio.waveform_dataset(
        train[0], train[1], batch_size, shuffle=True, seed=seed, pad_to=pad_to, bucket=not fixed, augment=augment
    )
    if fixed:
        pad_to = max(length, max(len(c) for c in validation[0]))
    return training, audio.waveform_dataset(validation[0], validation[1], batch_size, pad_to=pad_to)
