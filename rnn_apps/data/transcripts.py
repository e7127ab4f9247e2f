"""Transcribed speech for character-level CTC: LJSpeech-style folders, LibriSpeech and LJSpeech.

A transcription corpus pairs each clip with the sentence spoken in it. The
models spell what they hear with a small alphabet, `CHARACTERS` (space,
apostrophe and the lower-case letters), so every transcript is first mapped
into it by `standardize`: accents come off, letters are lower-cased, curly
apostrophes become ``'``, hyphens and dashes become spaces, runs of spaces
shrink to one, and anything else (punctuation, digits) is dropped and counted,
so the run can say what it left out.

Sources, all returning the same `TranscribedClips`:

- a folder in the LJSpeech layout: ``wavs/ID.wav`` and ``metadata.csv``, one
  row ``ID|raw text|normalized text`` per clip, no header (`read_metadata`);
  the normalized column is used where there is one (its numbers and
  abbreviations are spelled out), else the raw one;
- ``librispeech`` (tensorflow-datasets) with its official splits:
  ``train_clean100`` trains, ``dev_clean`` stops early, ``test_clean`` tests;
  their speakers do not overlap, so the test hears new voices;
- ``ljspeech`` (tensorflow-datasets): one speaker and one ``train`` split,
  split here with a seed.

This module uses tensorflow-datasets, as the design keeps such code in the
data modules.

Examples:
    >>> standardize("Don’t stop—it's 9 o'clock!")
    ("don't stop it's o'clock", {'9': 1, '!': 1})
    >>> encode("ab c"), text_of([2, 3, 0, 4])
    ([2, 3, 0, 4], 'ab c')
"""

from __future__ import annotations

import collections
import dataclasses
import pathlib
import string
import unicodedata

import numpy as np

from rnn_apps import errors
from rnn_apps.data import audio, splits, text_files

CHARACTERS = (" ", "'", *string.ascii_lowercase)
"""The models' alphabet; symbol ``i`` is ``CHARACTERS[i]`` (the CTC blank is not among them)."""
APOSTROPHES = "\u2019\u2018\u02bc\u0060\u00b4"
"""Typographic apostrophes and look-alikes, read as ``'``."""
SEPARATORS = "-\u2010\u2011\u2012\u2013\u2014\u2015/_"
"""Hyphens, dashes, slash and underscore, read as a space between words."""
METADATA = "metadata.csv"
LAYOUT = "an LJSpeech-style folder: wavs/ID.wav and metadata.csv with rows ID|text or ID|text|normalized text"
TFDS_CORPORA = {
    "librispeech": {"text": ("text",), "splits": ("train_clean100", "dev_clean", "test_clean")},
    "ljspeech": {"text": ("text_normalized", "text"), "splits": ("train", None, None)},
}
"""The tensorflow-datasets names ``--data`` takes: transcript features (first non-empty wins) and
(train, validation, test) splits; `None`: split off the training rows with the seed."""

_INDEX = {character: index for index, character in enumerate(CHARACTERS)}


@dataclasses.dataclass
class TranscribedClips(audio.AudioClassificationData):
    """Clips and their standardised transcripts, split into train, validation and test parts.

    Laid out as `rnn_apps.data.audio.AudioClassificationData`, so the speech
    models' preparation reads it alike, with texts where the labels would be.

    Attributes:
        name: a short description of the source, for reports.
        class_names: the alphabet, `CHARACTERS`.
        sample_rate: the rate of every clip, in Hz.
        train: the training part, ``(clips, texts)``: float32 waveforms and
            their standardised transcripts.
        validation: the validation part, as ``train``.
        test: the test part, as ``train``.
        dropped: characters `standardize` left out, with their counts.
        speakers: distinct speakers in each part, where the source names them.
    """

    dropped: dict = dataclasses.field(default_factory=dict)
    speakers: dict | None = None


def standardize(text: str) -> tuple[str, dict[str, int]]:
    """Map ``text`` into `CHARACTERS`; return it and the characters left out.

    Accents come off (NFKD, combining marks removed), letters are
    lower-cased, `APOSTROPHES` become ``'``, `SEPARATORS` and whitespace
    become one space, and the text is stripped; every other character is
    dropped and counted.

    Returns:
        ``(text, dropped)``: ``dropped`` maps each left-out character to its count.

    Examples:
        >>> standardize("  Café   au-lait,  NAÏVE ")
        ('cafe au lait naive', {',': 1})
    """
    kept, dropped = [], collections.Counter()
    for character in unicodedata.normalize("NFKD", text):
        lower = character.lower()
        if unicodedata.combining(character):
            continue
        if lower in _INDEX:
            kept.append(lower)
        elif character in APOSTROPHES:
            kept.append("'")
        elif character.isspace() or character in SEPARATORS:
            kept.append(" ")
        else:
            dropped[character] += 1
    return " ".join("".join(kept).split()), dict(dropped)


def encode(text: str) -> list[int]:
    """Symbol ids of a standardised text.

    Raises:
        rnn_apps.errors.InputError: a character outside `CHARACTERS` (run
            `standardize` first).
    """
    unknown = sorted(set(text) - set(_INDEX))
    if unknown:
        raise errors.expected(f"characters among {list(CHARACTERS)} (standardize the text first)", unknown)
    return [_INDEX[character] for character in text]


def text_of(symbols) -> str:
    """The text that symbol ids spell (`encode` undone)."""
    return "".join(CHARACTERS[int(symbol)] for symbol in symbols)


def required_frames(text: str) -> int:
    """Frames CTC needs to spell ``text``: one per character, and a blank between doubled ones.

    Examples:
        >>> required_frames("see"), required_frames("")
        (4, 0)
    """
    return len(text) + sum(first == second for first, second in zip(text, text[1:]))


def describe_dropped(dropped: dict[str, int], shown: int = 8) -> str:
    """The characters `standardize` left out, commonest first: ``"',' 12, '.' 5"``.

    Examples:
        >>> describe_dropped({".": 5, ",": 12, "9": 1}, shown=2)
        "',' 12, '.' 5 and 1 other kind (1 character)"
    """
    ranked = sorted(dropped.items(), key=lambda item: (-item[1], item[0]))
    text = ", ".join(f"{character!r} {count}" for character, count in ranked[:shown])
    rest = ranked[shown:]
    if rest:
        kinds, count = len(rest), sum(count for _, count in rest)
        text += f" and {kinds} other kind{'s' * (kinds > 1)} ({count} character{'s' * (count > 1)})"
    return text


def _standardize_all(texts, where) -> tuple[list[str], dict[str, int]]:
    """Standardise every text; ``where`` names each one for the error on an empty result (`None`: keep it)."""
    results, dropped = [], collections.Counter()
    for index, text in enumerate(texts):
        clean, left_out = standardize(text)
        dropped.update(left_out)
        if not clean and where is not None:
            raise errors.expected(
                "a transcript with letters on every row (after standardising it to a-z, apostrophe and space)",
                f"{where(index)}: {text!r}",
            )
        results.append(clean)
    return results, dict(dropped)


def read_metadata(folder, encoding: str = text_files.DEFAULT_ENCODING) -> list[tuple[str, str, pathlib.Path]]:
    """The rows of an LJSpeech-style folder's ``metadata.csv``: ``(id, transcript, wav path)``.

    Each line is ``ID|raw text`` or ``ID|raw text|normalized text`` (no
    header, no quoting: quotes are part of the text); blank lines are
    skipped. The transcript is the normalized text where it is given, else
    the raw text, as written (see `standardize`). The file is decoded with
    ``encoding`` (``--encoding``; a byte-order mark is ignored).

    Raises:
        rnn_apps.errors.InputError: no such folder, no ``metadata.csv``, bytes
            that do not decode with ``encoding``, a row with another number
            of fields, an empty id or transcript, an id twice, or a row whose
            ``wavs/ID.wav`` is missing.

    Examples:
        >>> import tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "wavs").mkdir(), (folder / "wavs" / "a1.wav").touch()
        >>> _ = (folder / "metadata.csv").write_text('a1|Dr. Who said "hi"|Doctor Who said "hi"\\n')
        >>> [(name, text, path.name) for name, text, path in read_metadata(folder)]
        [('a1', 'Doctor Who said "hi"', 'a1.wav')]
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise errors.expected(LAYOUT, str(folder), name="--data")
    metadata = folder / METADATA
    if not metadata.is_file():
        raise errors.expected(LAYOUT, f"{folder} without {METADATA}", name="--data")
    lines = text_files.read_lines(metadata, encoding)
    rows, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{metadata}, line {number}"
        fields = line.split("|")
        if len(fields) not in (2, 3):
            raise errors.expected(f"rows ID|text or ID|text|normalized text in {METADATA}", f"{where}: {line!r}")
        key = fields[0].strip()
        text = fields[2] if len(fields) == 3 and fields[2].strip() else fields[1]
        if not key:
            raise errors.expected(f"an id in the first field of every row of {METADATA}", f"{where}: {line!r}")
        if key in seen:
            raise errors.expected(f"each id once in {METADATA}", f"{where}: {key!r} again")
        if not text.strip():
            raise errors.expected(f"a transcript on every row of {METADATA}", f"{where}: {key!r} has none")
        path = folder / "wavs" / f"{key}.wav"
        if not path.is_file():
            raise errors.expected(f"wavs/ID.wav for every row of {METADATA}", f"{where} names {path}, which is missing")
        seen.add(key)
        rows.append((key, text, path))
    if not rows:
        raise errors.expected(f"rows ID|text in {METADATA}", f"{metadata} with none")
    return rows


def _split(clips, texts, validation_fraction: float, test_fraction: float, seed: int, test=None):
    """Seeded random train / validation (/ test, unless ``test`` is given) parts of ``(clips, texts)``."""
    parts = splits.stratified_split(
        np.zeros(len(texts)), validation_fraction, 0.0 if test else test_fraction, seed, stratify=False
    )

    def take(indices):
        return [clips[i] for i in indices], [texts[i] for i in indices]

    return take(parts.train), take(parts.validation), test or take(parts.test)


def _notice_dropped(name: str, dropped: dict[str, int]) -> None:
    if dropped:
        audio.notice(
            f"{name}: transcripts standardised to a-z, apostrophe and space; left out {describe_dropped(dropped)}"
        )


def load_folder(
    folder,
    sample_rate: int | None = None,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    encoding: str = text_files.DEFAULT_ENCODING,
) -> TranscribedClips:
    """Read an LJSpeech-style folder (`read_metadata`) and split it with ``seed``.

    Clips are resampled to ``sample_rate`` (default: the files' commonest
    rate), as `rnn_apps.data.audio` reads class folders.

    Raises:
        rnn_apps.errors.InputError: as `read_metadata`; a transcript with no
            letters once standardised; an unreadable, empty or silent clip.
    """
    rows = read_metadata(folder, encoding)
    texts, dropped = _standardize_all([text for _, text, _ in rows], lambda i: f"{rows[i][2].name} ({METADATA})")
    # The class-folder reader's own step: every file resampled to one rate, with a notice.
    clips, rate = audio._read_files([path for _, _, path in rows], sample_rate)
    _notice_dropped(pathlib.Path(folder).name, dropped)
    train, validation, test = _split(clips, texts, validation_fraction, test_fraction, seed)
    name = pathlib.Path(folder).resolve().name
    return TranscribedClips(name, list(CHARACTERS), rate, train, validation, test, dropped)


def load_tfds(
    name: str,
    sample_rate: int | None = None,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    data_dir=None,
) -> TranscribedClips:
    """Read ``librispeech`` or ``ljspeech`` from tensorflow-datasets (`TFDS_CORPORA`).

    LibriSpeech keeps its official splits (train-clean-100, dev-clean,
    test-clean: different speakers in each); LJSpeech, one reader with one
    split, is split with ``seed``. A clip that is empty or silent, or whose
    transcript has no letters once standardised, is left out with a notice,
    as `rnn_apps.data.audio.load_tfds` does with a published set.

    Note that tensorflow-datasets prepares every split of a data set before
    the first is read (all of LibriSpeech is about 60 GB), and the clips are
    held in memory as float32: about 5.5 GB for LJSpeech's 24 hours at
    16 kHz, 23 GB for LibriSpeech's 100 training hours (``--sample-rate
    8000`` halves both).

    Raises:
        rnn_apps.errors.InputError: a name outside `TFDS_CORPORA`, or a part
            left without clips.
    """
    import tensorflow_datasets as tfds

    if name not in TFDS_CORPORA:
        raise errors.expected(f"one of {list(TFDS_CORPORA)}, or {LAYOUT}", name, name="--data")
    corpus = TFDS_CORPORA[name]
    builder = tfds.builder(name, data_dir=data_dir)
    native = int(builder.info.features["speech"].sample_rate)
    rate = sample_rate or native
    if native != rate:
        audio.notice(f"{name} is recorded at {native} Hz; resampled to {rate} Hz")
    builder.download_and_prepare()
    dropped = collections.Counter()

    def read(split):
        clips, texts, speakers, skipped = [], [], set(), 0
        for example in tfds.as_numpy(builder.as_dataset(split=split)):
            raw = next((example[key] for key in corpus["text"] if example[key]), b"").decode("utf-8")
            text, left_out = standardize(raw)
            try:
                clip = audio.prepare(example["speech"], native, rate, source=f"{name}/{split}")
            except errors.InputError:  # an empty or silent clip of a published set: leave it out
                clip = None
            if clip is None or not text:
                skipped += 1
                continue
            dropped.update(left_out)
            clips.append(clip)
            texts.append(text)
            if "speaker_id" in example:
                speakers.add(int(example["speaker_id"]))
        if skipped:
            audio.notice(f"{skipped} clips of {name}/{split} without audio or without letters in the text left out")
        if not clips:
            raise errors.expected(f"clips with audio and transcripts in {name}/{split}", "none")
        return (clips, texts), len(speakers) or None

    train_split, validation_split, test_split = corpus["splits"]
    (train, train_speakers), speakers = read(train_split), None
    if validation_split is None:
        train, validation, test = _split(*train, validation_fraction, test_fraction, seed)
    else:
        (validation, validation_speakers), (test, test_speakers) = read(validation_split), read(test_split)
        speakers = {"train": train_speakers, "validation": validation_speakers, "test": test_speakers}
    _notice_dropped(name, dict(dropped))
    label = name if validation_split is None else f"{name} ({train_split}, {validation_split}, {test_split})"
    return TranscribedClips(label, list(CHARACTERS), rate, train, validation, test, dict(dropped), speakers)


def load(
    source,
    sample_rate: int | None = None,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    clip_seconds: float | None = None,
    encoding: str = text_files.DEFAULT_ENCODING,
) -> TranscribedClips:
    """Load and split the transcribed clips ``source`` names: a folder (`load_folder`) or a name (`load_tfds`).

    Args:
        source: an LJSpeech-style folder, ``librispeech`` or ``ljspeech``.
        sample_rate: resample clips to this rate (default: the data's own).
        validation_fraction, test_fraction, seed: the split, where the
            source has none of its own.
        clip_seconds: leave out clips longer than this (cutting one would
            cut words its transcript still holds); `None` keeps every clip.
        encoding: the codec of a folder's ``metadata.csv``.

    Raises:
        rnn_apps.errors.InputError: a source that is neither, or as the loaders.
    """
    path = pathlib.Path(source)
    if path.is_dir():
        data = load_folder(path, sample_rate, validation_fraction, test_fraction, seed, encoding)
    elif str(source) in TFDS_CORPORA:
        data = load_tfds(str(source), sample_rate, validation_fraction, test_fraction, seed)
    else:
        raise errors.expected(f"{LAYOUT}, or one of {list(TFDS_CORPORA)}", str(source), name="--data")
    if clip_seconds is not None:
        limit = int(round(clip_seconds * data.sample_rate))
        data = keep(data, lambda clip, text: len(clip) <= limit, f"longer than {clip_seconds} s (--clip-seconds)")
    return data


def keep(data: TranscribedClips, wanted, reason: str) -> TranscribedClips:
    """``data`` with only the clips for which ``wanted(clip, text)`` holds; the others are counted in a notice.

    Raises:
        rnn_apps.errors.InputError: a part left without clips.

    Examples:
        >>> clip = np.ones(8, "float32")
        >>> data = TranscribedClips("toy", list(CHARACTERS), 8, ([clip, clip[:2]], ["ab", "c"]), ([clip], ["a"]),
        ...                         ([clip], ["b"]))
        >>> keep(data, lambda clip, text: len(clip) > 4, "too short").sizes()
        {'train': 1, 'validation': 1, 'test': 1}
    """
    parts, left_out = {}, {}
    for part in ("train", "validation", "test"):
        clips, texts = getattr(data, part)
        chosen = [i for i, (clip, text) in enumerate(zip(clips, texts)) if wanted(clip, text)]
        if not chosen:
            raise errors.expected(f"{part} clips that are not {reason}", f"all {len(clips)} of {data.name} are")
        parts[part] = ([clips[i] for i in chosen], [texts[i] for i in chosen])
        if len(chosen) < len(clips):
            left_out[part] = len(clips) - len(chosen)
    if left_out:
        counts = ", ".join(f"{count} {part}" for part, count in left_out.items())
        audio.notice(f"clips {reason} left out: {counts}")
    return dataclasses.replace(data, **parts)


def ctc_targets(data: TranscribedClips, frames) -> tuple[TranscribedClips, dict]:
    """Symbol ids of every transcript, after leaving out clips too short to spell theirs.

    Args:
        data: the clips.
        frames: the models' front end: sample counts -> frame counts
            (`rnn_apps.tasks.acoustic.FrontEnd.frames`).

    Returns:
        ``(data, parts)``: the clips kept, and ``{part: (waveforms, symbol
            ids, frames)}``, in the same order.

    Examples:
        >>> clip = np.ones(8, "float32")
        >>> data = TranscribedClips("toy", list(CHARACTERS), 8, ([clip, clip[:2]], ["ab", "c"]), ([clip], ["a"]),
        ...                         ([clip], ["b"]))
        >>> kept, parts = ctc_targets(data, lambda lengths: np.asarray(lengths) // 4)
        >>> kept.sizes(), parts["train"][1:]
        ({'train': 1, 'validation': 1, 'test': 1}, ([[2, 3]], [2]))
    """

    def long_enough(clip, text):
        return frames([len(clip)])[0] >= required_frames(text)

    data = keep(data, long_enough, "too short to spell their transcripts (fewer frames than CTC needs)")
    parts = {}
    for part in ("train", "validation", "test"):
        clips, texts = getattr(data, part)
        parts[part] = (clips, [encode(text) for text in texts], [int(f) for f in frames([len(c) for c in clips])])
    return data, parts
