"""
Title: Video analysis: actions from frames and from body-joint tracks, CNN-RNN against 3-D and frame-averaging CNNs
Description: Label clips with a per-frame CNN plus SimpleRNN/LSTM/GRU, a ConvLSTM, a 3-D CNN and an order-blind CNN.
Data: bundled circling-digit clips; ucf101 and moving_mnist (tensorflow-datasets); video folders; UEA .ts joint files.
Run: python -m recipes.video [--quick] [--input frames|joints] [--data SOURCE] [--model all] [--frames 16 --stride 2]
"""

"""
## Introduction

A video is a sequence of images, and an action is usually a change between
them: a hand going up or down, a wheel turning one way or the other. This
recipe puts that plainly to the test. With `--input frames` (the default) it
trains, on the same split:

- **CNN-RNN** (`simple_rnn`, `lstm`, `gru`): a small 2-D CNN, trained from
  scratch, turns every frame into a vector, and a recurrent layer reads the
  vectors in order (`--bidirectional` reads them both ways);
- **ConvLSTM** (`convlstm`): an LSTM whose state is an image-shaped map and
  whose gates are convolutions;
- **3-D CNN** (`cnn3d`): convolutions over time and space at once (3x3x3
  kernels, or the factorized `(2+1)-D` form with `--conv3d 2plus1d`);
- **frame-averaging CNN** (`frame_cnn`): the same per-frame CNN as the
  CNN-RNN, with its frame vectors averaged, so it cannot see frame order at
  all;
- and the majority class.

With `--input joints` the clips are tracks of body-joint coordinates (x, y,
z of hands, elbows, wrists over time, as a pose tracker or motion sensors
give), read from UEA `.ts` files; the recurrent models are compared with a
fully convolutional 1-D CNN (`cnn`, Wang et al. 2017's FCN).

Every saved model takes raw clips: uint8 frames of any size (resized inside
the model) or raw joint coordinates (normalized inside the model):

```python
import keras
model = keras.models.load_model("runs/video/models/gru.keras")
model.predict(clips)   # clips: (n, frames, height, width, channels), 0..255
```
"""

"""
## Setup
"""

import argparse
import pathlib
import re
import sys

import numpy as np

from rnn_apps import errors, io, metrics, paths
from rnn_apps.data import video
from rnn_apps.harness import baselines, cli, compare, plots, training
from rnn_apps.layers import encoders, heads
from rnn_apps.tasks import classifiers, video_models

NAME = "video"
SAMPLE = "video/circling_digits.npz"
MODEL_CHOICES = ("simple_rnn", "lstm", "gru", "convlstm", "cnn3d", "frame_cnn", "cnn")
INPUT_MODELS = {"frames": video_models.FRAME_MODELS, "joints": video_models.SEQUENCE_MODELS}

DEFAULTS = dict(
    epochs=30,
    batch_size=32,
    units=64,
    patience=6,
    learning_rate=1e-3,
    filters="16,32,32",
    dense_units=64,
    convlstm_filters=16,
)
QUICK = dict(epochs=8, units=32, learning_rate=3e-3, filters="8,16", dense_units=32, convlstm_filters=8, limit=480)


def add_arguments(parser):
    """Flags of this recipe (the common ones come from `rnn_apps.harness.cli`)."""
    group = parser.add_argument_group("video flags")
    group.add_argument(
        "--input",
        choices=("frames", "joints"),
        default="frames",
        help="clips of frames (models simple_rnn, lstm, gru, convlstm, cnn3d, frame_cnn) or body-joint "
        "coordinate tracks from UEA .ts files (simple_rnn, lstm, gru, cnn); --model all takes those of the input",
    )
    group.add_argument(
        "--frames", type=cli.positive_int, default=None, help="frames sampled per clip (default: all of the sample, 16)"
    )
    group.add_argument("--stride", type=cli.positive_int, default=1, help="step between sampled frames")
    group.add_argument(
        "--size", type=frame_size, default=None, help="frames are resized to SIZE x SIZE (default: 32 / 64)"
    )
    group.add_argument(
        "--short-clips",
        choices=video.SHORT_CLIPS,
        default="refuse",
        help="a clip shorter than --frames x --stride: refuse it (exit 2) or pad it by repeating its last frame",
    )
    group.add_argument("--limit", type=cli.positive_int, default=None, help="use at most this many clips (per split)")
    group.add_argument(
        "--group-pattern",
        default=video.UCF_GROUP,
        help="regex over clip file names whose first group names the source video; matching clips are split by source",
    )
    group.add_argument("--data-dir", default=None, help="tensorflow-datasets data folder")
    group.add_argument("--filters", default=None, help="comma-separated filters of the CNN blocks")
    group.add_argument("--dense-units", type=cli.positive_int, default=None, help="width of the frame vectors")
    group.add_argument("--convlstm-filters", type=cli.positive_int, default=None, help="ConvLSTM state channels")
    group.add_argument("--conv3d", choices=video_models.CONV3D_KINDS, default="conv3d", help="kind of 3-D CNN")
    group.add_argument(
        "--backbone",
        choices=tuple(video_models.BACKBONES),
        default=None,
        help="encode frames with a frozen ImageNet CNN instead (needs --backbone-weights; never downloads)",
    )
    group.add_argument("--backbone-weights", default=None, help="local weights file of --backbone (include_top=False)")
    group.add_argument("--dropout", type=cli.fraction, default=0.0, help="input dropout of the recurrent layers")
    group.add_argument(
        "--recurrent-dropout",
        type=cli.fraction,
        default=0.0,
        help="state dropout; above 0 rules out the fused cuDNN kernel",
    )
    group.add_argument("--validation-fraction", type=cli.fraction, default=0.15, help="of the training clips")
    group.add_argument(
        "--test-fraction", type=cli.fraction, default=0.2, help="of all clips, when the data has no test set"
    )


def check_arguments(args) -> None:
    """Refuse flag combinations that cannot work, before anything is read or written."""
    allowed = INPUT_MODELS[args.input]
    if args.model == list(MODEL_CHOICES):  # 'all' (the default): every model of this input kind
        args.model = list(allowed)
    wrong = [name for name in args.model if name not in allowed]
    if wrong:
        raise errors.expected(f"models for --input {args.input}, from {list(allowed)}", ",".join(wrong), name="--model")
    text = args.filters if isinstance(args.filters, str) else ",".join(map(str, args.filters))
    try:
        args.filters = tuple(int(value) for value in text.split(","))
    except ValueError:
        args.filters = ()
    if not args.filters or any(value <= 0 for value in args.filters):
        raise errors.expected("comma-separated positive integers", text, name="--filters")
    if args.backbone and not args.backbone_weights:
        raise errors.expected("a local weights file with --backbone", None, name="--backbone-weights")
    if args.backbone_weights and not pathlib.Path(args.backbone_weights).is_file():
        raise errors.expected("an existing local weights file", args.backbone_weights, name="--backbone-weights")
    try:
        re.compile(args.group_pattern or "")
    except re.error as error:
        pattern = f"{args.group_pattern} ({error})"
        raise errors.expected("a regular expression", pattern, name="--group-pattern") from None


MAX_FRAME_SIZE = 1024
"""Largest ``--size``: frames are held in memory, resized, as float32."""


def frame_size(text: str) -> int:
    """Parse ``--size``: a positive integer up to `MAX_FRAME_SIZE`."""
    value = cli.positive_int(text)
    if value > MAX_FRAME_SIZE:
        raise argparse.ArgumentTypeError(f"expected a frame size up to {MAX_FRAME_SIZE}, received {text!r}")
    return value


def check_frame_size(data: video.ClipData, args) -> None:
    """Refuse frames too small for the pooling of the chosen models (each CNN block halves them)."""
    if args.input != "frames" or args.backbone:
        return
    filters = args.filters.split(",") if isinstance(args.filters, str) else args.filters
    pools = len(filters)
    if "convlstm" in args.model:
        pools = max(pools, min(pools, 2) + 1)
    height, width = data.train[0].shape[2:4]
    if min(height, width) < 2**pools:
        raise errors.expected(
            f"frames of at least {2**pools}x{2**pools} for {pools} pooling steps (--size, --filters)",
            f"{height}x{width}",
            name="frames",
        )


"""
## Data

The bundled sample is 800 clips of 9 frames, 32x32 grey, made by
`data/video/make_sample.py`: a handwritten digit (scikit-learn's bundled
digits) circles the frame clockwise or anticlockwise, once or twice. Every
clip visits the same 9 positions, whatever its class; only their **order**
differs. A model that averages its frames is therefore at chance (25 %) by
construction, and anything above that was learned from frame order. Each
digit image appears in all four classes, so the split is grouped by digit:
no digit has clips on both sides.

`--data` also takes `ucf101` (101 actions, its official first split, which
keeps the 25 source groups apart) or `moving_mnist` (two bouncing digits,
labelled `leftward`/`rightward` by the drift of their centre of brightness),
both through tensorflow-datasets; or a folder with one subfolder of clips
per label (mp4, avi, gif, ... or folders of frame images). Clip names in the
UCF101 style (`v_Action_g08_c01.avi`) are split by group. `--frames` frames,
`--stride` apart, are taken from the middle of each clip and resized to
`--size`. A clip too short for that span is refused (exit status 2, naming
the clip), unless `--short-clips pad` repeats its last frame (the run then
says how many clips were padded).

With `--input joints`, `--data` is a UEA `.ts` file, or a folder with one
`*_TRAIN.ts` and one `*_TEST.ts` file such as NATOPS (24 channels: x, y, z
of eight hand and arm points, 51 steps, 6 gestures). On the bundled sample,
the joint track is the centre of brightness of every frame: the digit's path.
"""


def clip_options(args) -> video.ClipOptions:
    return video.ClipOptions(
        frames=args.frames,
        stride=args.stride,
        size=args.size,
        short_clips=args.short_clips,
        limit=args.limit,
        validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
        group_pattern=args.group_pattern,
    )


def load_data(args) -> video.ClipData:
    """Load and split the clips (or joint tracks) chosen by ``--data`` and ``--input``."""
    options = clip_options(args)
    if args.data == "sample":
        clips = video.load_sample_clips(paths.bundled(SAMPLE), options)
        if args.input == "frames":
            check_frame_size(clips, args)
            return clips
        return video.ClipData(
            name=f"{clips.name} (centroid tracks)",
            class_names=clips.class_names,
            train=(video.centroid_tracks(clips.train[0]), clips.train[1]),
            validation=(video.centroid_tracks(clips.validation[0]), clips.validation[1]),
            test=(video.centroid_tracks(clips.test[0]), clips.test[1]),
            test_sources=clips.test_sources,
            grouped=clips.grouped,
        )
    if args.data in video.TFDS_SOURCES:
        if args.input == "joints":
            raise errors.expected("a .ts file or folder for --input joints", args.data, name="--data")
        data = video.load_tfds(args.data, options, data_dir=args.data_dir)
        check_frame_size(data, args)
        return data
    source = pathlib.Path(args.data)
    if not source.exists():
        raise errors.expected(
            f"an existing file or folder, 'sample', or one of {list(video.TFDS_SOURCES)}", args.data, name="--data"
        )
    if args.input == "joints":
        return video.load_ts_split(source, options)
    if not source.is_dir():
        raise errors.expected("a folder with one subfolder of clips per label", args.data, name="--data")
    data = video.load_directory(source, options)
    check_frame_size(data, args)
    return data


"""
## Models

Frames are scaled to [0, 1] inside every model. The per-frame CNN is a few
3x3 convolution and 2x2 pooling blocks whose last map is flattened (not
pooled away), so each frame vector still knows *where* the digit is; the
recurrent layer then reads *how it moves*. The frame vectors are
layer-normalized: without that, LSTM and SimpleRNN sat at chance for many
epochs on the sample while the GRU learned. The frame-averaging CNN uses the
very same frame encoder and averages its vectors over time. The 3-D CNN
pools space but keeps every frame, then flattens. For joints, a
`Normalization` layer adapted on the training tracks scales each coordinate
channel, and the FCN (three Conv1D-BatchNorm-ReLU blocks of 128, 256 and 128
filters with kernels 8, 5 and 3, global average pooling) is the CNN
baseline.
"""


FCN_FILTERS, FCN_KERNEL_SIZES = (128, 256, 128), (8, 5, 3)


def build_model(name: str, data: video.ClipData, args):
    """An uncompiled model ``name`` for the clips of ``data``."""
    inputs = data.train[0]
    joints = args.input == "joints"
    config = encoders.EncoderConfig(
        model=name if name in encoders.MODEL_NAMES else "cnn",
        units=args.convlstm_filters if name == "convlstm" else args.units,
        num_layers=args.layers,
        bidirectional=args.bidirectional,
        dropout=args.dropout,
        recurrent_dropout=args.recurrent_dropout,
        # The CNN of each input: the FCN for joints; for frames, the kind behind each frame model's name.
        cnn_kind="fcn" if joints else {"convlstm": "convlstm", "frame_cnn": "frame_average"}.get(name, args.conv3d),
        filters=FCN_FILTERS if joints else args.filters,
        kernel_sizes=FCN_KERNEL_SIZES,
    )
    if joints:
        import keras

        normalizer = keras.layers.Normalization(axis=-1, name="normalize")
        normalizer.adapt(inputs.reshape(-1, inputs.shape[-1]))
        return video_models.sequence_model(config, data.num_classes, inputs.shape[-1], normalizer=normalizer)
    frames, height, width, channels = inputs.shape[1:]
    return video_models.frames_classifier(
        config,
        data.num_classes,
        frames,
        height,
        width,
        channels,
        frame_filters=args.filters,
        dense_units=args.dense_units,
        backbone=args.backbone,
        backbone_weights=args.backbone_weights,
    )


"""
## Train and compare

Each model trains with the same seed, split and batches, with early stopping
on the validation loss (the best epoch's weights are kept). Frame models are
then wrapped into a model that takes clips of any frame size, and that saved
model is what the test metrics and timings are measured on.
"""


def train_model(name, data, args):
    """Train one model; return its `ModelResult`, history, confusion matrix and predictions."""
    training.set_seed(args.seed)
    core = build_model(name, data, args)
    classifiers.compile_classifier(core, data.num_classes, args.learning_rate)
    train = video.clip_dataset(*data.train, args.batch_size, shuffle=True, seed=args.seed)
    validation = video.clip_dataset(*data.validation, args.batch_size)
    fitted = training.fit_from_args(core, train, validation, args, name)
    model = video_models.raw_frames_model(core) if args.input == "frames" else core
    model_path = io.save_model(model, f"{args.output_dir}/models/{name}.keras")
    io.write_json(f"{args.output_dir}/models/{name}.json", sidecar(data, args))

    test_inputs, test_labels = data.test
    probabilities = predict_probabilities(model, test_inputs, args.batch_size)
    predicted = heads.probabilities_to_labels(probabilities, data.num_classes)
    result = compare.trained_result(
        name,
        core,
        fitted,
        metrics.classification_metrics(test_labels, predicted, data.num_classes),
        predict_batch=lambda batch: model.predict_on_batch(batch),
        timing_inputs=test_inputs[:256],
        output_dir=args.output_dir,
        model_path=model_path,
    )
    if name == "convlstm":
        result.fast_kernel, result.fast_kernel_reasons = False, ["ConvLSTM2D has no fused cuDNN kernel"]
    matrix = metrics.confusion_matrix(test_labels, predicted, data.num_classes)
    return result, fitted.history, matrix, predicted


def sidecar(data: video.ClipData, args) -> dict:
    """What `predict` needs beside the model: class names and how clips were sampled."""
    return {
        "class_names": data.class_names,
        "input": args.input,
        "frames": int(data.train[0].shape[1]),
        "stride": args.stride,
        "channels": int(data.train[0].shape[-1]),
        "size": int(data.train[0].shape[2]) if args.input == "frames" else None,
        "short_clips": args.short_clips,
    }


def predict_probabilities(model, inputs, batch_size: int = 64) -> np.ndarray:
    """Class probabilities of a saved model for an array of clips or tracks."""
    return np.concatenate(
        [np.asarray(model.predict_on_batch(inputs[i : i + batch_size])) for i in range(0, len(inputs), batch_size)]
    )


def run(args) -> dict:
    """Load the data, train every chosen model and the baseline, write the report."""
    check_arguments(args)
    data = load_data(args)
    print(
        f"data: {data.name}, input {args.input}, classes {data.class_names}, clips {data.sizes()}, "
        f"shape {data.train[0].shape[1:]}, split {'grouped by source' if data.grouped else 'stratified'}"
    )
    if data.padded:
        print(f"notice: {data.padded} clip(s) shorter than asked were padded by repeating their last frame")

    def train_one(name):
        result, history, matrix, predicted = train_model(name, data, args)
        return compare.Trained(result, history, {"confusion_matrix": matrix, "predictions": predicted})

    # Finished models are recorded, so --resume skips them; Ctrl-C keeps what finished.
    trained = compare.train_each(args.model, train_one, args.output_dir, resume=args.resume, metric="accuracy")
    results = [t.result for t in trained]
    histories = {t.result.name: t.history for t in trained}
    matrices = {t.result.name: np.asarray(t.extras["confusion_matrix"]) for t in trained}
    predictions = {t.result.name: np.asarray(t.extras["predictions"]) for t in trained}
    baseline, matrices["majority"] = baselines.majority_class(
        data.train[1], data.test[1], data.num_classes, data.test[0]
    )
    results.append(baseline)
    print(compare.summary_line(baseline, "accuracy"))

    report = compare.build_report(
        NAME,
        data.name,
        f"{args.input}, {data.num_classes} classes",
        "accuracy",
        results,
        class_names=data.class_names,
        sizes=data.sizes(),
        grouped_split=data.grouped,
        padded_clips=data.padded,
        seed=args.seed,
        config={key: value for key, value in vars(args).items() if key not in ("output_dir", "verbose", "command")},
        command=args.command,
    )
    plots.confusion_matrices(matrices, data.class_names, f"{args.output_dir}/confusion_matrices.png")
    if predictions:  # empty when Ctrl-C came before any model finished an epoch
        best = max(predictions, key=lambda name: report["models"][name]["metrics"]["accuracy"])
        sample_strip(data, predictions[best], best, f"{args.output_dir}/sample_predictions.png", args.input)
    compare.publish(args.output_dir, report, histories)
    return report


"""
## Looking at predictions

`sample_predictions.png` shows a few test clips, one row each, with the
true label and the best model's prediction (joint tracks are drawn as
curves, one per coordinate).
"""


def sample_strip(data, predicted, model_name, path, input_kind, rows: int = 6, columns: int = 9):
    """Draw test clips with their true and predicted labels, one clip per row."""
    import matplotlib.pyplot as plt

    inputs, labels = data.test
    chosen = np.random.default_rng(0).permutation(len(labels))[: min(rows, len(labels))]
    if input_kind == "joints":
        figure, axes = plt.subplots(len(chosen), 1, figsize=(7, 1.6 * len(chosen)), squeeze=False)
        for axis, index in zip(axes[:, 0], chosen):
            axis.plot(inputs[index], linewidth=0.8)
            axis.set_xticks([])
            axis.set_yticks([])
            _label_axis(axis, data, labels[index], predicted[index])
    else:
        count = inputs.shape[1]
        shown = np.unique(np.linspace(0, count - 1, min(columns, count)).round().astype(int))
        figure, axes = plt.subplots(
            len(chosen), len(shown), figsize=(1.1 * len(shown) + 1, 1.3 * len(chosen)), squeeze=False
        )
        for row, index in enumerate(chosen):
            for column, frame in enumerate(shown):
                axis = axes[row, column]
                image = inputs[index, frame]
                axis.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255)
                axis.set_xticks([])
                axis.set_yticks([])
                if row == 0:
                    axis.set_title(f"frame {frame}", fontsize=7)
            _label_axis(axes[row, 0], data, labels[index], predicted[index], side=True)
    figure.suptitle(f"test clips: true and predicted ({model_name})", fontsize=9)
    figure.tight_layout()
    io.save_figure(figure, path)
    plt.close(figure)


def _label_axis(axis, data, true, predicted, side=False):
    mark = "ok" if true == predicted else "WRONG"
    text = f"true: {data.class_names[true]}\npred: {data.class_names[predicted]} ({mark})"
    if side:
        axis.set_ylabel(text, fontsize=6, rotation=0, ha="right", va="center")
    else:
        axis.set_title(text.replace("\n", " | "), fontsize=7)


"""
## Prediction with a saved model

`rnn-apps predict video --model runs/video/models/gru.keras clip.mp4` loads
the model in a fresh process, samples, resizes and converts the clip as the
training clips were (from the `.json` file saved beside the model), and
prints its label. For joint models, each input is a `.ts` file and every
series in it gets a label.
"""


def predict(model_path, inputs) -> list[dict]:
    """Label clips (video files, frame folders) or `.ts` joint files with a saved model.

    Args:
        model_path: a ``.keras`` file written by this recipe (with its
            ``.json`` sidecar).
        inputs: paths of clips, or of ``.ts`` files for a joints model.

    Returns:
        One dict per clip (per series): ``label``, ``probability`` (of that
        label), ``input``.
    """
    import keras

    from rnn_apps.data import uea

    model_path = pathlib.Path(model_path)
    inputs = [str(value) for value in inputs]
    if not inputs:
        raise errors.expected("at least one clip", "none")
    sidecar_path = model_path.with_suffix(".json")
    if not sidecar_path.is_file():
        raise errors.expected("the .json file saved beside the model", f"no {sidecar_path}")
    settings = errors.read_json(sidecar_path, keys=("input", "class_names"))
    if settings["input"] != "joints":
        errors.read_json(sidecar_path, keys=("frames", "stride", "size", "channels", "short_clips"))
    batch, names = [], []
    for value in inputs:
        path = pathlib.Path(value)
        if not path.exists():
            raise errors.expected("an existing clip file or folder", value, name="input")
        if settings["input"] == "joints":
            series = uea.read_ts(path).series  # labels, if any, are ignored
            batch += series
            names += [f"{value}#{i}" for i in range(len(series))]
        else:
            clip, _ = video.prepare_clip(
                video.read_video(path),
                settings["frames"],
                settings["stride"],
                settings["size"],
                settings["channels"],
                settings["short_clips"],
                value,
            )
            batch.append(clip)
            names.append(value)
    try:
        model = keras.models.load_model(model_path)
    except Exception as error:  # a corrupt or foreign file: Keras raises many types
        raise errors.expected("a .keras model saved by this recipe", f"{model_path} ({error})") from None
    if settings["input"] == "joints":
        channels = {series.shape[-1] for series in batch}
        errors.check_model_inputs(model, model_path, ranks=(3,), last_dims=(None,))
        if len(channels) != 1 or model.input_shape[-1] not in (None, *channels):
            raise errors.expected(f"joint series with {model.input_shape[-1]} channels (the model's)", sorted(channels))
        stacked = uea.pad_series(batch)
    else:
        errors.check_model_inputs(model, model_path, ranks=(5,))
        stacked = np.stack(batch)
    probabilities = predict_probabilities(model, stacked)
    class_names = settings["class_names"]
    labels = heads.probabilities_to_labels(probabilities, len(class_names))
    output = []
    for name, label, row in zip(names, labels, probabilities):
        if len(class_names) == 2:
            probability = float(row[0]) if label == 1 else 1.0 - float(row[0])
        else:
            probability = float(row[label])
        output.append({"label": class_names[label], "probability": round(probability, 4), "input": name})
    return output


"""
## Results and conclusion

`comparison.md` holds the table; `learning_curves.png`,
`confusion_matrices.png` and `sample_predictions.png` show how training
went, where each model errs and what it saw. On the bundled sample the
frame-averaging CNN stays at chance, as it must: the classes differ only in
frame order. The CNN-RNN models, the ConvLSTM and the 3-D CNN, which all see
order, separate them (in our default and quick runs all of them reached
test accuracy 0.99 to 1.0): the motion between neighbouring frames is all
this task needs, so a 3-D convolution with a 3-frame window does as well as
a recurrent layer. On NATOPS joint tracks the FCN beats the recurrent
models (0.961 against 0.904 for the best, LSTM, mean of 3 seeds); see
`bench/results/video-natops.md` for the table and the command.
"""


def main(argv=None) -> dict:
    """Run the recipe from the command line (``argv`` as in `sys.argv[1:]`)."""
    return cli.run_recipe(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
