"""The speech recipe's settings: every field of `SpeechConfig` is a flag of ``python -m recipes.speech``.

This module imports nothing heavier than the standard library, so the command line reads it,
checks the flags and refuses a bad one before Keras and TensorFlow start.
"""

import argparse
import dataclasses
import re

from rnn_apps import options
from rnn_apps.harness import config

SAMPLES = {"keywords": "speech/keywords", "digits": "speech/digits", "transcripts": None}
"""Each task's bundled sample; transcripts has none (``--data`` names a corpus)."""
MODEL_CHOICES = (*config.MODEL_CHOICES, "crnn")
SPEED_RANGE = (0.85, 1.15)
"""Speed factors ``--speed-perturb`` draws from (Kaldi's 0.9-1.1 triple, widened to a continuous range)."""


def speaker_pattern(text: str) -> str:
    """Parse ``--speaker-pattern``: a regular expression with at least one group (the speaker).

    Examples:
        >>> speaker_pattern(r"^[^_]+_([^_]+)_")
        '^[^_]+_([^_]+)_'
    """
    try:
        groups = re.compile(text).groups
    except re.error as error:
        raise argparse.ArgumentTypeError(f"expected a regular expression, received {text!r} ({error})") from None
    if groups < 1:
        raise argparse.ArgumentTypeError(f"expected a regular expression with a group (the speaker), received {text!r}")
    return text


def snr_range(text: str) -> tuple[float, float]:
    """Parse ``--noise-snr LOW,HIGH``: signal-to-noise ratios in decibels, ``LOW <= HIGH``.

    Examples:
        >>> snr_range("10,30")
        (10.0, 30.0)
    """
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH in decibels, such as 10,30, received {text!r}") from None
    if not low <= high:
        raise argparse.ArgumentTypeError(f"expected LOW <= HIGH, received {text!r}")
    return low, high


MONITORS = ("auto", "val_loss", "val_accuracy", "val_wer", "val_cer")
"""Values of ``--monitor``; `TASK_MONITORS` says which each task takes."""

TASK_MONITORS = {
    "keywords": ("auto", "val_loss", "val_accuracy"),
    "digits": ("auto", "val_loss", "val_wer", "val_cer"),
    "transcripts": ("auto", "val_loss", "val_wer", "val_cer"),
}


@dataclasses.dataclass(frozen=True)
class SpeechConfig(config.RunConfig):
    """The speech recipe's settings; every field is a flag (``--mel-bins``)."""

    MODEL_CHOICES = MODEL_CHOICES
    # `all` stays the four models every recipe compares; the CNN-RNN is asked for by name.
    ALL_MODELS = config.MODEL_CHOICES

    PRESETS = {
        # 30 epochs: after 15, every keyword model's validation loss on the sample was still falling.
        "quick": dict(
            epochs=30,
            min_updates=0,
            units=32,
            patience=5,
            batch_size=16,
            learning_rate=3e-3,
            sequences=80,
            cnn_filters=(16, 32, 64),
        ),
        # Digit strings: CTC learns from steps; with 80 strings in batches of 16 every recurrent model still
        # answered only blanks. 160 strings in batches of 8, 64 units and Adam 5e-3 get them past that.
        "quick:digits": dict(units=64, batch_size=8, learning_rate=5e-3, sequences=160),
    }

    model: tuple[str, ...] = config.option(
        config.MODEL_CHOICES,
        "models to train: 'all' (simple_rnn, lstm, gru, cnn) or a comma-separated list, crnn included; naive "
        "baselines always run",
    )
    epochs: int = config.option(40, "most epochs (early stopping may end sooner)", parse=config.positive_int)
    batch_size: int = config.option(32, "samples per batch", parse=config.positive_int)
    units: int = config.option(128, "recurrent units per layer", parse=config.positive_int)
    patience: int = config.option(6, "early-stopping patience in epochs", parse=config.positive_int)
    min_updates: int = config.option(
        1000,
        "on a small training set, raise --epochs and --patience alike so training can make at least this many "
        "optimizer updates (36 series in batches of 32: 500 epochs, patience 75); 0: epochs as given",
        parse=config.non_negative_int,
    )
    learning_rate: float = config.option(2e-3, "Adam learning rate", parse=config.positive_float)
    monitor: str = config.option(
        "auto",
        "validation quantity that early stopping, the kept epoch and --tune follow; auto: val_loss for "
        "keywords, val_wer for digits and val_cer for transcripts (greedy transcripts of the validation clips "
        "scored after every epoch); val_accuracy is for keywords, val_wer and val_cer for the CTC tasks",
        choices=MONITORS,
    )
    task: str = config.option(
        "keywords",
        "keywords: one label per clip; digits: a digit string per clip, trained with CTC; "
        "transcripts: a sentence per clip, spelt with CTC (--data: an LJSpeech-style folder, librispeech or ljspeech)",
        choices=tuple(SAMPLES),
    )
    sample_rate: int | None = config.option(
        None, "rate the models take (default: the data's own)", parse=options.sample_rate
    )
    clip_seconds: float | None = config.option(
        None, "longest clip kept (default: longest training clip)", parse=config.positive_float
    )
    mel_bins: int = config.option(40, "log-mel features per frame", parse=config.positive_int)
    dropout: float = config.option(0.2, "input dropout of the encoder", parse=config.fraction)
    recurrent_dropout: float = config.option(0.0, "state dropout; above 0 rules out cuDNN", parse=config.fraction)
    cnn_filters: tuple[int, ...] = config.option(
        (32, 64, 128),
        "filters of each 2-D CNN block",
        parse=lambda text: tuple(map(config.positive_int, text.split(","))),
    )
    series_filters: int = config.option(
        128, "feature series (.ts input): filters of each Conv1D layer of the CNN", parse=config.positive_int
    )
    series_width: int = config.option(5, "feature series: kernel width of the CNN's layers", parse=config.positive_int)
    series_layers: int = config.option(3, "feature series: Conv1D layers of the CNN", parse=config.positive_int)
    crnn_filters: tuple[int, ...] = config.option(
        (64, 128),
        "crnn: filters of each strided Conv1D block (each halves the frame rate)",
        parse=lambda text: tuple(map(config.positive_int, text.split(","))),
    )
    crnn_layers: int = config.option(
        2, "crnn: bidirectional GRU layers after the convolutions", parse=config.positive_int
    )
    validation_fraction: float = config.option(0.1, "of the training clips", parse=config.fraction)
    test_fraction: float = config.option(0.1, "of all clips, when the data has no test set", parse=config.fraction)
    sequences: int = config.option(1200, "digits: training clips to make", parse=config.positive_int)
    min_digits: int = config.option(2, "digits: fewest words per clip", parse=config.positive_int)
    max_digits: int | None = config.option(
        None, "digits: most words per clip (default: 7 with --group-by speaker, else 5)", parse=config.positive_int
    )
    beam_width: int = config.option(16, "digits: beam-search width", parse=config.positive_int)
    group_by: str | None = config.option(
        None,
        "speaker: leave-one-speaker-out cross-validation (each fold tests on one speaker's clips)",
        choices=("speaker",),
    )
    speaker_pattern: str = config.option(
        r"^[^_]+_([^_]+)_\d+\.wav$",
        "with --group-by: a regular expression whose first group is a file name's speaker (FSDD: DIGIT_SPEAKER_N.wav)",
        parse=speaker_pattern,
        metavar="REGEX",
    )
    folds: int | None = config.option(
        None, "with --group-by: this many folds of whole speakers (default: one per speaker)", parse=config.positive_int
    )
    fold: int | None = config.option(
        None,
        "with --group-by: run only this fold, 0 to folds-1 (default: every fold)",
        parse=config.non_negative_int,
    )
    speaker_validation: str = config.option(
        "speaker",
        "with --group-by: stop early on one whole training speaker, or on a --validation-fraction of their clips",
        choices=("speaker", "fraction"),
    )
    utterance_norm: bool = config.option(
        False, "centre and scale each mel bin over its own clip, inside the model (instead of training statistics)"
    )
    spec_augment: bool = config.option(
        False, "mask random time spans and mel bands of the training spectrograms (SpecAugment; training only)"
    )
    speed_perturb: bool = config.option(
        False,
        f"resample each training clip by a random factor in {SPEED_RANGE[0]}-{SPEED_RANGE[1]} (tempo and pitch "
        "together; training only)",
    )
    noise_snr: tuple[float, float] | None = config.option(
        None,
        "add white noise to each training clip at a random signal-to-noise ratio from LOW to HIGH dB (training only)",
        parse=snr_range,
        metavar="LOW,HIGH",
    )
