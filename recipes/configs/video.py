"""The video recipe's settings: every field of `VideoConfig` is a flag of ``python -m recipes.video``.

This module imports nothing heavier than the standard library, so the command line reads it,
checks the flags and refuses a bad one before Keras and TensorFlow start.
"""

import dataclasses

from rnn_apps import options
from rnn_apps.harness import config

MODEL_CHOICES = ("simple_rnn", "lstm", "gru", "convlstm", "cnn3d", "frame_cnn", "cnn")


@dataclasses.dataclass(frozen=True)
class VideoConfig(config.RunConfig):
    """The video recipe's settings; every field is a flag (``--short-clips``)."""

    MODEL_CHOICES = MODEL_CHOICES
    PRESETS = {
        "quick": dict(
            epochs=7,
            min_updates=0,
            units=32,
            learning_rate=3e-3,
            filters=(8, 16),
            dense_units=32,
            convlstm_filters=8,
            limit=480,
        )
    }

    model: tuple[str, ...] = config.option(
        MODEL_CHOICES, "models to train: 'all' or a comma-separated list; naive baselines always run"
    )
    epochs: int = config.option(30, "most epochs (early stopping may end sooner)", parse=config.positive_int)
    batch_size: int = config.option(32, "samples per batch", parse=config.positive_int)
    patience: int = config.option(6, "early-stopping patience in epochs", parse=config.positive_int)
    min_updates: int = config.option(
        1000,
        "on a small training set, raise --epochs and --patience alike so training can make at least this many "
        "optimizer updates (42 motion series in batches of 32: 500 epochs, patience 100); 0: epochs as given",
        parse=config.non_negative_int,
    )
    input: str = config.option(
        "frames",
        "clips of frames (models simple_rnn, lstm, gru, convlstm, cnn3d, frame_cnn) or body-joint coordinate "
        "tracks from UEA .ts files (simple_rnn, lstm, gru, cnn); --model all takes those of the input",
        choices=options.INPUT_KINDS,
    )
    frames: int | None = config.option(
        None, "frames sampled per clip (default: all of the sample, 16)", parse=config.positive_int
    )
    stride: int = config.option(1, "step between sampled frames", parse=config.positive_int)
    size: int | None = config.option(
        None, "frames are resized to SIZE x SIZE (default: 32 / 64)", parse=options.frame_size
    )
    short_clips: str = config.option(
        "refuse",
        "a clip shorter than --frames x --stride: refuse it (exit 2) or pad it by repeating its last frame",
        choices=options.SHORT_CLIPS,
    )
    limit: int | None = config.option(None, "use at most this many clips (per split)", parse=config.positive_int)
    group_pattern: str = config.option(
        options.UCF_GROUP,
        "regex over clip file names whose first group names the source video; matching clips are split by source",
    )
    data_dir: str | None = config.option(None, "tensorflow-datasets data folder")
    filters: tuple[int, ...] = config.option(
        (16, 32, 32), "comma-separated filters of the CNN blocks", parse=options.filter_counts
    )
    dense_units: int = config.option(64, "width of the frame vectors", parse=config.positive_int)
    fcn_filters: tuple[int, ...] = config.option(
        (128, 256, 128), "joints: comma-separated filters of the FCN's Conv1D blocks", parse=options.filter_counts
    )
    fcn_kernels: tuple[int, ...] = config.option(
        (8, 5, 3),
        "joints: kernel widths of the FCN's blocks, in order (blocks past the last width take it)",
        parse=options.filter_counts,
    )
    convlstm_filters: int = config.option(16, "ConvLSTM state channels", parse=config.positive_int)
    conv3d: str = config.option("conv3d", "kind of 3-D CNN", choices=options.CONV3D_KINDS)
    backbone: str | None = config.option(
        None,
        "encode frames with a frozen ImageNet CNN instead (needs --backbone-weights; never downloads)",
        choices=tuple(options.BACKBONES),
    )
    backbone_weights: str | None = config.option(None, "local weights file of --backbone (include_top=False)")
    dropout: float = config.option(0.0, "input dropout of the recurrent layers", parse=config.fraction)
    recurrent_dropout: float = config.option(
        0.0, "state dropout; above 0 rules out the fused cuDNN kernel", parse=config.fraction
    )
    validation_fraction: float = config.option(0.15, "of the training clips", parse=config.fraction)
    test_fraction: float = config.option(0.2, "of all clips, when the data has no test set", parse=config.fraction)
