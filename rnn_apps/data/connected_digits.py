"""Connected digits from real single-digit recordings: one voice per string, pauses, background noise.

`rnn_apps.data.audio.make_sequences` joins clips of any speaker, which suits
the bundled sample (synthetic voices). Real speaker-labelled recordings, such
as the Free Spoken Digit Dataset, allow something closer to a person reading
out a number: `make_connected_digits` builds every string from the clips of
one speaker, so a string never changes voice half-way through.

Each string is made in three steps:

1. choose a speaker (uniformly among the part's speakers), a length from
   ``min_digits`` to ``max_digits``, and that many of the speaker's clips
   (without repeating a clip when the speaker has enough of them);
2. put a pause of random length before, between and after the words, filled
   with quiet noise at the level of the quietest part of those clips
   (`rnn_apps.data.audio.join_words`), so no pause is exact silence;
3. add background noise to the whole string at a signal-to-noise ratio drawn
   uniformly from ``snr_db`` (10 to 30 dB by default). The noise is Gaussian
   with a power spectrum falling as ``1 / f ** exponent``, the exponent drawn
   uniformly from ``noise_exponent`` (0 to 2: from white through pink to
   brown noise, that is from hiss to rumble). The ratio is that of the mean
   power of the whole clean string (words and pauses) to the noise's mean
   power.

`connected_digit_strings` does this for the train, validation and test
parts of a split, each from its own clips only, so in a cross-validation by
speaker the test strings hold nothing but the test speaker's recordings.

Examples:
    >>> clips = [np.full(80, 0.5, "float32"), np.full(60, -0.5, "float32"), np.full(70, 0.3, "float32")]
    >>> made = make_connected_digits(clips, [0, 1, 2], ["ann", "ann", "bob"], 10, 1000, 1, 2, seed=3)
    >>> len(made.waveforms), all(1 <= len(t) <= 2 for t in made.transcripts), sorted(set(made.speakers))
    (10, True, ['ann', 'bob'])
    >>> all(set(t) <= ({2} if who == "bob" else {0, 1}) for t, who in zip(made.transcripts, made.speakers))
    True
    >>> all(10 <= snr <= 30 for snr in made.snr_db)
    True
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnn_apps import errors
from rnn_apps.data import audio

GAP_SECONDS = (0.05, 0.4)
"""Shortest and longest pause before, between and after the words."""
SNR_DB = (10.0, 30.0)
"""Range of the signal-to-noise ratio of the background noise, in dB."""
NOISE_EXPONENT = (0.0, 2.0)
"""Range of the noise colour: the power spectrum falls as ``1 / f ** exponent`` (0 white, 1 pink, 2 brown)."""


@dataclasses.dataclass
class ConnectedDigits:
    """Digit strings and how each was made.

    Attributes:
        waveforms: one 1-D float32 waveform per string.
        transcripts: the labels of its words, in order.
        speakers: who speaks each string.
        snr_db: the signal-to-noise ratio of each string's background noise
            (NaN where no noise was added).
        noise_exponent: the colour of each string's noise (see `coloured_noise`).
    """

    waveforms: list[np.ndarray]
    transcripts: list[list[int]]
    speakers: list[str]
    snr_db: np.ndarray
    noise_exponent: np.ndarray


def coloured_noise(length: int, exponent: float, random: np.random.Generator) -> np.ndarray:
    """Gaussian noise of mean power 1 whose power spectrum falls as ``1 / f ** exponent``.

    White noise is shaped in the frequency domain: each bin's amplitude is
    scaled by ``f ** (-exponent / 2)`` (the lowest non-zero frequency stands in
    for 0 Hz), then the noise is centred and scaled to unit power.

    Args:
        length: samples.
        exponent: 0 white, 1 pink, 2 brown (red) noise; any value between.
        random: the random generator.

    Returns:
        float64 ``(length,)``.

    Examples:
        >>> noise = coloured_noise(4096, 2.0, np.random.default_rng(0))
        >>> round(float(np.mean(noise**2)), 6), round(float(np.mean(noise)), 6)
        (1.0, 0.0)
        >>> spectrum = np.abs(np.fft.rfft(noise)) ** 2
        >>> bool(spectrum[1:100].mean() > 100 * spectrum[-100:].mean())  # the low band holds the power
        True
    """
    if length < 1:
        raise errors.expected("a positive number of samples", length, name="length")
    white = random.standard_normal(length)
    if length < 3 or exponent == 0:
        shaped = white
    else:
        frequencies = np.fft.rfftfreq(length)
        frequencies[0] = frequencies[1]
        shaped = np.fft.irfft(np.fft.rfft(white) * frequencies ** (-exponent / 2), n=length)
    shaped = shaped - shaped.mean()
    power = float(np.mean(shaped**2))
    return shaped / np.sqrt(power) if power > 0 else shaped


def add_noise(wave: np.ndarray, snr_db: float, exponent: float, random: np.random.Generator) -> np.ndarray:
    """``wave`` plus `coloured_noise` whose power is ``snr_db`` below the mean power of ``wave``.

    Examples:
        >>> wave = np.sin(np.arange(8000) / 5).astype("float32")
        >>> noisy = add_noise(wave, 20.0, 1.0, np.random.default_rng(0))
        >>> round(float(10 * np.log10(np.mean(wave**2) / np.mean((noisy - wave) ** 2))), 3)
        20.0
    """
    power = float(np.mean(np.asarray(wave, "float64") ** 2))
    noise = coloured_noise(len(wave), exponent, random) * np.sqrt(power / 10 ** (snr_db / 10))
    return (wave + noise).astype("float32")


def _check_range(values, name: str, low: float = 0.0) -> tuple[float, float]:
    values = tuple(float(value) for value in values)
    if len(values) != 2 or not low <= values[0] <= values[1] or not np.isfinite(values).all():
        raise errors.expected(f"(smallest, largest) with {low} <= smallest <= largest", values, name=name)
    return values


def make_connected_digits(
    clips,
    labels,
    speakers,
    count: int,
    sample_rate: int,
    min_digits: int = 2,
    max_digits: int = 7,
    gap_seconds: tuple[float, float] = GAP_SECONDS,
    snr_db: tuple[float, float] | None = SNR_DB,
    noise_exponent: tuple[float, float] = NOISE_EXPONENT,
    seed: int = 0,
) -> ConnectedDigits:
    """Join single-digit clips into ``count`` strings, each spoken by one speaker, with pauses and noise.

    The words, pauses and speakers come from one random stream and the noise
    from another, so the same ``seed`` with ``snr_db=None`` gives the same
    strings without their noise.

    Args:
        clips: 1-D waveforms, one word each.
        labels: their int labels.
        speakers: who speaks each clip.
        count: strings to make.
        sample_rate: of the clips, to turn seconds into samples.
        min_digits, max_digits: words per string, inclusive.
        gap_seconds: shortest and longest pause.
        snr_db: range of the signal-to-noise ratio, dB; `None` adds no noise.
        noise_exponent: range of the noise colour (see `coloured_noise`).
        seed: random seed.

    Returns:
        `ConnectedDigits`.

    Raises:
        rnn_apps.errors.InputError: no clips, a speaker list of another
            length, ``min_digits`` above ``max_digits``, or a bad range.
    """
    if not len(clips) or len(speakers) != len(clips) or len(labels) != len(clips):
        found = f"{len(clips)} clips, {len(labels)} labels, {len(speakers)} speakers"
        raise errors.expected("at least one clip, and one label and one speaker per clip", found)
    if not 1 <= min_digits <= max_digits:
        raise errors.expected("1 <= min_digits <= max_digits", (min_digits, max_digits))
    low, high = (int(seconds * sample_rate) for seconds in _check_range(gap_seconds, "gap_seconds"))
    exponents = _check_range(noise_exponent, "noise_exponent")
    ratios = None if snr_db is None else _check_range(snr_db, "snr_db", low=-np.inf)
    labels, speakers = np.asarray(labels), np.asarray(speakers)
    names = sorted(set(speakers.tolist()))
    by_speaker = {name: np.flatnonzero(speakers == name) for name in names}
    floors = [audio.quiet_level(clip) for clip in clips]
    words_random, noise_random = np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])
    made = ConnectedDigits([], [], [], np.full(count, np.nan), np.full(count, np.nan))
    for row in range(count):
        speaker = names[int(words_random.integers(len(names)))]
        own = by_speaker[speaker]
        length = int(words_random.integers(min_digits, max_digits + 1))
        chosen = words_random.choice(own, length, replace=len(own) < length)
        floor = min(floors[i] for i in chosen)
        wave = audio.join_words([clips[i] for i in chosen], floor, low, high, words_random)
        if ratios is not None:
            made.snr_db[row] = noise_random.uniform(*ratios)
            made.noise_exponent[row] = noise_random.uniform(*exponents)
            wave = add_noise(wave, made.snr_db[row], made.noise_exponent[row], noise_random)
        made.waveforms.append(wave)
        made.transcripts.append([int(labels[i]) for i in chosen])
        made.speakers.append(speaker)
    return made


def description(min_digits: int, max_digits: int) -> dict:
    """How `make_connected_digits` makes its strings with the default pauses and noise, for reports.

    Examples:
        >>> description(2, 7)["snr_db"]
        [10.0, 30.0]
    """
    return {
        "speakers_per_string": 1,
        "digits": [min_digits, max_digits],
        "gap_seconds": list(GAP_SECONDS),
        "snr_db": list(SNR_DB),
        "snr_of": "mean power of the whole clean string",
        "noise": "Gaussian, power spectrum 1/f**exponent",
        "noise_exponent": list(NOISE_EXPONENT),
    }


def part_counts(sequences: int, sizes: dict[str, int]) -> dict[str, int]:
    """Strings per part: ``sequences`` to train on, the other parts in proportion to their clips (20 at least).

    Examples:
        >>> part_counts(600, {"train": 1500, "validation": 500, "test": 500})
        {'train': 600, 'validation': 200, 'test': 200}
    """
    count = {"train": sequences}
    for part in ("validation", "test"):
        count[part] = max(20, round(sequences * sizes[part] / max(1, sizes["train"])))
    return count


def speakers_of_parts(split: audio.AudioClassificationData, source: audio.SpeakerClips) -> dict[str, list[str]]:
    """Who speaks each clip of every part of ``split``, a split of ``source``'s clips.

    A split by speaker (`rnn_apps.data.spoken.speaker_fold`) hands on the very
    clip arrays of ``source``, so each clip is found by identity.

    Raises:
        rnn_apps.errors.InputError: a clip of ``split`` that is not one of ``source``'s.

    Examples:
        >>> one, two = np.ones(3, "float32"), np.zeros(3, "float32")
        >>> source = audio.SpeakerClips("toy", ["0"], 8000, [one, two], np.array([0, 0]), ["ann", "bob"])
        >>> split = audio.AudioClassificationData("toy", ["0"], 8000, ([two], [0]), ([one], [0]), ([two], [0]))
        >>> speakers_of_parts(split, source)
        {'train': ['bob'], 'validation': ['ann'], 'test': ['bob']}
    """
    owner = {id(clip): speaker for clip, speaker in zip(source.clips, source.speakers)}
    found = {}
    for part in ("train", "validation", "test"):
        clips = getattr(split, part)[0]
        if any(id(clip) not in owner for clip in clips):
            raise errors.expected(f"clips of {source.name} in every part", f"another clip in the {part} part")
        found[part] = [owner[id(clip)] for clip in clips]
    return found


def connected_digit_strings(
    data: audio.AudioClassificationData,
    speakers: dict[str, list[str]],
    sequences: int,
    min_digits: int = 2,
    max_digits: int = 7,
    seed: int = 0,
    **options,
) -> dict[str, ConnectedDigits]:
    """`make_connected_digits` for each part of ``data``, from that part's clips only.

    Args:
        data: the split single-digit clips.
        speakers: who speaks each clip of each part (`speakers_of_parts`).
        sequences: training strings; the other parts get `part_counts`.
        min_digits, max_digits: words per string.
        seed: random seed (each part draws its own stream from it).
        **options: ``gap_seconds``, ``snr_db``, ``noise_exponent`` of `make_connected_digits`.

    Returns:
        ``{"train"|"validation"|"test": ConnectedDigits}``.
    """
    count = part_counts(sequences, data.sizes())
    made = {}
    for offset, part in enumerate(("train", "validation", "test")):
        clips, labels = getattr(data, part)
        made[part] = make_connected_digits(
            clips,
            labels,
            speakers[part],
            count[part],
            data.sample_rate,
            min_digits,
            max_digits,
            seed=seed + offset,
            **options,
        )
    return made
