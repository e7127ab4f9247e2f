"""Flag parsers and choices that the recipes' configurations take from the readers and model builders.

They live here, apart from the modules that use them, because this module
imports nothing but the standard library, `rnn_apps.errors` and the flag
parsers of `rnn_apps.harness.config` (themselves free of heavy imports): a recipe's
configuration (``recipes/configs/``) reads its choices from here, so the
command line checks every flag before NumPy, scikit-learn or Keras start
(a refused flag answers in a fraction of a second). The reader and builder
modules import the same names from here, so there is one definition each.

Examples:
    >>> sample_rate("16000"), frame_size("64"), filter_counts("8,16")
    (16000, 64, (8, 16))
"""

from __future__ import annotations

import argparse

from rnn_apps import errors
from rnn_apps.harness.config import positive_int

SAMPLE_RATES = (1_000, 192_000)
"""Lowest and highest ``--sample-rate`` taken: below, a 25 ms frame holds a handful of samples;
above, resampling only adds memory, never a band the recordings lack."""

SHORT_CLIPS = ("refuse", "pad")
"""What the video reader does with a clip shorter than ``--frames x --stride``."""

UCF_GROUP = r"_g(\d+)_c\d+"
"""UCF101 file names (``v_Action_g08_c01.avi``) carry the source video group."""

MAX_FRAME_SIZE = 1024
"""Largest ``--size``: frames are held in memory, resized, as float32."""

INPUT_KINDS = ("frames", "joints")
"""What a video model reads: clips of frames, or joint-coordinate tracks."""

CONV3D_KINDS = ("conv3d", "2plus1d")
"""The 3-D CNNs of the video recipe: full 3-D kernels, or (2+1)-D factorised ones."""

BACKBONES = {
    "mobilenet_v3_small": "MobileNetV3Small",
    "mobilenet_v2": "MobileNetV2",
    "efficientnet_b0": "EfficientNetB0",
}
"""ImageNet backbones from `keras.applications` that the frame encoder can use."""


def sample_rate(text: str) -> int:
    """Parse ``--sample-rate``: an integer number of Hz within `SAMPLE_RATES`."""
    value = positive_int(text)
    if not SAMPLE_RATES[0] <= value <= SAMPLE_RATES[1]:
        low, high = SAMPLE_RATES
        raise argparse.ArgumentTypeError(f"expected a rate in Hz from {low} to {high}, received {text!r}")
    return value


def frame_size(text: str) -> int:
    """Parse ``--size``: a positive integer up to `MAX_FRAME_SIZE`."""
    value = positive_int(text)
    if value > MAX_FRAME_SIZE:
        raise argparse.ArgumentTypeError(f"expected a frame size up to {MAX_FRAME_SIZE}, received {text!r}")
    return value


def filter_counts(text: str) -> tuple[int, ...]:
    """Parse ``--filters``: comma-separated positive integers, one per CNN block."""
    try:
        values = tuple(int(value) for value in str(text).split(","))
    except ValueError:
        values = ()
    if not values or any(value <= 0 for value in values):
        message = str(errors.expected("comma-separated positive integers", text, name="--filters"))
        raise argparse.ArgumentTypeError(message)
    return values
