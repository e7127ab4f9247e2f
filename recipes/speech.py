"""
Title: Speech recognition: recurrent networks against a spectrogram CNN
Description: Recognize spoken keywords, or transcribe strings of spoken digits with CTC, from raw audio.
Data: espeak-ng sample; speech_commands, spoken_digit (tensorflow-datasets); WAV folders; FSDD; UEA .ts series.
Run: python -m recipes.speech [--task {keywords,digits}] [--quick] [--data SOURCE] [--model all] [--bidirectional]
"""

"""
## Introduction

Speech is a signal that arrives over time, and a recurrent network reads it
the same way: one short frame (25 ms, every 10 ms) after another, carrying
what it has heard so far in its state. This recipe does two tasks with it.

- `--task keywords` (default): one word per clip, one label per clip, as in
  keyword spotting ("yes", "no", "stop", ...). The recurrent encoder reads
  the log-mel frames and its last state is classified. The baseline is the
  2-D CNN most keyword-spotting tutorials use, which treats the same
  spectrogram as an image, and the majority class.
- `--task digits`: a clip of several spoken digits, transcribed to a digit
  string. Nobody marks where one digit ends and the next begins, so the
  models are trained with connectionist temporal classification (CTC): they
  label every frame with a digit or a blank, and the transcript is what is
  left after merging repeats and dropping blanks. A recurrent encoder
  against a convolution-only acoustic model (2-D convolutions, then dilated
  1-D convolutions for context), both decoded greedily and with beam search,
  scored by word and character error rate (jiwer).

The feature extraction is part of every saved model, so it takes raw
waveforms at its declared sample rate:

```python
import keras, numpy as np
from scipy.io import wavfile
model = keras.models.load_model("runs/speech/models/gru.keras")
rate, samples = wavfile.read("yes.wav")       # 16-bit mono at the model's rate
model.predict(samples[None].astype("float32") / 32768)
```

`--data` can also point at UEA `.ts` multivariate series (such as
JapaneseVowels: twelve LPC coefficients per frame, nine speakers), which are
frames already, so the spectrogram front end is skipped.
"""

"""
## Setup
"""

import argparse
import pathlib
import sys

import keras
import numpy as np

from rnn_apps import errors, io, metrics, paths
from rnn_apps.data import audio, splits, uea
from rnn_apps.harness import baselines, cli, compare, plots, training
from rnn_apps.layers import ctc, encoders, heads, recurrent
from rnn_apps.tasks import acoustic

NAME = "speech"
SAMPLES = {"keywords": "speech/keywords", "digits": "speech/digits"}

DEFAULTS = dict(
    epochs=40,
    batch_size=32,
    units=128,
    patience=6,
    learning_rate=2e-3,
    mel_bins=40,
    sequences=1200,
    cnn_filters=(32, 64, 128),
)
QUICK = dict(epochs=3, units=32, patience=2, sequences=80, cnn_filters=(8, 16))


SAMPLE_RATES = (1_000, 192_000)
"""Lowest and highest ``--sample-rate`` taken: below, a 25 ms frame holds a handful of samples;
above, resampling only adds memory, never a band the recordings lack."""


def sample_rate(text: str) -> int:
    """Parse ``--sample-rate``: an integer number of Hz within `SAMPLE_RATES`."""
    value = cli.positive_int(text)
    if not SAMPLE_RATES[0] <= value <= SAMPLE_RATES[1]:
        low, high = SAMPLE_RATES
        raise argparse.ArgumentTypeError(f"expected a rate in Hz from {low} to {high}, received {text!r}")
    return value


def filters_list(text: str) -> tuple[int, ...]:
    """Parse ``--cnn-filters``: comma-separated positive ints, one per block."""
    return tuple(cli.positive_int(part) for part in text.split(","))


def add_arguments(parser):
    """Flags of this recipe (the common ones come from `rnn_apps.harness.cli`)."""
    group = parser.add_argument_group("speech flags")
    group.add_argument(
        "--task",
        choices=("keywords", "digits"),
        default="keywords",
        help="keywords: one label per clip; digits: a digit string per clip, trained with CTC",
    )
    group.add_argument(
        "--sample-rate", type=sample_rate, default=None, help="rate the models take (default: the data's own)"
    )
    group.add_argument(
        "--clip-seconds",
        type=cli.positive_float,
        default=None,
        help="longest clip kept (default: longest training clip)",
    )
    group.add_argument("--mel-bins", type=cli.positive_int, default=None, help="log-mel features per frame")
    group.add_argument("--dropout", type=cli.fraction, default=0.2, help="input dropout of the encoder")
    group.add_argument(
        "--recurrent-dropout", type=cli.fraction, default=0.0, help="state dropout; above 0 rules out cuDNN"
    )
    group.add_argument("--cnn-filters", type=filters_list, default=None, help="filters of each 2-D CNN block")
    group.add_argument("--validation-fraction", type=cli.fraction, default=0.1, help="of the training clips")
    group.add_argument(
        "--test-fraction", type=cli.fraction, default=0.1, help="of all clips, when the data has no test set"
    )
    group.add_argument("--sequences", type=cli.positive_int, default=None, help="digits: training clips to make")
    group.add_argument("--min-digits", type=cli.positive_int, default=2, help="digits: fewest words per clip")
    group.add_argument("--max-digits", type=cli.positive_int, default=5, help="digits: most words per clip")
    group.add_argument("--beam-width", type=cli.positive_int, default=16, help="digits: beam-search width")


"""
## Data

The bundled sample is real audio made by `data/speech/make_sample.py` with
espeak-ng: ten command words at 16 kHz and the ten digits at 8 kHz, each in
twenty-odd takes with a random accent, voice, speed and pitch, and noise
(see `data/README.md`). For `--task digits`, clips of two to five digits
are made by joining random single-digit clips of one split with random
gaps, so test clips hold only test recordings.

`--data` also takes `speech_commands` or `spoken_digit` (tensorflow-datasets),
a folder with one subfolder of `.wav` files per label, a folder of the Free
Spoken Digit Dataset (`{digit}_{speaker}_{index}.wav`, official split: index
0-4 test), or UEA `.ts` files (a `*_TRAIN.ts`/`*_TEST.ts` pair, their folder,
or one file to split). Clips at other rates are resampled; stereo is
averaged to mono, with a notice.
"""


def ts_files(source) -> tuple[pathlib.Path, pathlib.Path | None] | None:
    """The ``(train, test)`` ``.ts`` files named by ``--data``, or `None` for audio sources."""
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


def load_series(files, args) -> audio.AudioClassificationData:
    """UEA ``.ts`` series as `AudioClassificationData` whose clips are ``(time, channels)`` frames."""
    train_file, test_file = files
    train = uea.read_ts(train_file)
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
        test_content = uea.read_ts(test_file)
        if test_content.num_channels != train.num_channels:
            raise errors.expected(f"{train.num_channels} channels in {test_file}", test_content.num_channels)
        test = (test_content.series, encode(test_content))
    parts = splits.stratified_split(labels, args.validation_fraction, 0.0 if test else args.test_fraction, args.seed)

    def take(indices):
        return [clips[i] for i in indices], labels[indices]

    name = train_file.name.replace("_TRAIN", "").removesuffix(".ts")
    return audio.AudioClassificationData(
        name, class_names, None, take(parts.train), take(parts.validation), test or take(parts.test)
    )


def load_data(args) -> audio.AudioClassificationData:
    """Load and split the clips (or ``.ts`` series) chosen by ``--data``."""
    if args.data == "sample":
        source = paths.bundled(SAMPLES[args.task])
    else:
        source = args.data
        series = ts_files(source)
        if series is not None:
            if args.task == "digits":
                raise errors.expected("audio for --task digits (a .ts file holds frames, not waveforms)", source)
            return load_series(series, args)
    return audio.load_audio_classification(
        source,
        sample_rate=args.sample_rate,
        validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
    )


def limit_length(data: audio.AudioClassificationData, clip_seconds: float | None) -> int:
    """Cut clips to ``--clip-seconds`` when given; return the fixed length the CNN trains on (samples or frames).

    Without ``--clip-seconds`` nothing is cut and the length is that of the
    longest training clip; longer test clips are read whole (every model
    pools over time, so any length fits).
    """
    if clip_seconds is None or data.sample_rate is None:
        return max(len(c) for c in data.train[0])
    frame = acoustic.FrontEnd(data.sample_rate)
    if clip_seconds < frame.frame_seconds:
        raise errors.expected(
            f"at least one analysis frame ({frame.frame_seconds} s)", clip_seconds, name="--clip-seconds"
        )
    limit = max(1, int(round(clip_seconds * data.sample_rate)))
    cut = 0
    for part in ("train", "validation", "test"):
        clips, labels = getattr(data, part)
        cut += sum(len(c) > limit for c in clips)
        setattr(data, part, ([c[:limit] for c in clips], labels))
    if cut:
        audio.notice(f"{cut} clips cut to {limit} samples (--clip-seconds)")
    return min(limit, max(len(c) for c in data.train[0]))


"""
## Models

Every audio model starts with the same front end inside the model: a
`MelSpectrogram` layer (25 ms windows every 10 ms, 40 mel bins, decibels),
then a `Normalization` layer holding the training mean and variance of each
bin. Padded frames (exact silence after a clip's end) are masked for the
recurrent encoders, which skip them; the padding is on the right, so LSTM
and GRU stay eligible for the fused cuDNN kernel.

- Recurrent: `simple_rnn`, `lstm` or `gru`, `--layers` deep, optionally
  `--bidirectional`; the last state (keywords) or every state (digits) goes
  to the head.
- CNN: three blocks of 3x3 `Conv2D`, batch normalization, ReLU and 2x2 max
  pooling over the spectrogram image, then global max pooling (keywords).
  For CTC, pooling halves only the frequency axis, so every frame keeps an
  output, and four dilated `Conv1D` layers (dilation 1, 2, 4, 8) widen what
  each output frame sees to 37 frames, about the length of one word.
- For `.ts` series the input is the frames themselves (masked and
  normalized the same way); the CNN is a stack of three 1-D convolutions
  with average pooling, as in fully convolutional series classifiers.
"""


def encoder_config(name: str, args, series: bool = False) -> encoders.EncoderConfig:
    """The encoder of model ``name``: recurrent, or the CNN baseline (2-D on log-mel frames, 1-D on series)."""
    if name in recurrent.CELLS:
        return encoders.EncoderConfig(
            model=name,
            units=args.units,
            num_layers=args.layers,
            bidirectional=args.bidirectional,
            dropout=args.dropout,
            recurrent_dropout=args.recurrent_dropout,
        )
    if series:
        return encoders.EncoderConfig(
            model="cnn", cnn_kind="stack", filters=128, kernel_size=5, num_layers=3, pooling="average"
        )
    # Per frame (CTC), a dilated stack after the 2-D blocks widens what each frame sees.
    return encoders.EncoderConfig(
        model="cnn", cnn_kind="conv2d", filters=args.cnn_filters, context_filters=128, context_layers=4
    )


def build_model(name: str, args, num_classes: int, front_end, statistics, feature_dim=None):
    """The compiled model ``name`` for the task (classifier or CTC transcriber)."""
    mean, variance = statistics
    config = encoder_config(name, args, series=front_end is None)
    if args.task == "digits":
        model = acoustic.waveform_transcriber(
            config, num_classes, front_end, mean, variance, dropout=args.dropout, name=name
        )
        model.compile(optimizer=optimizer(args), loss=ctc.CTCLoss())
        return model
    model = acoustic.waveform_classifier(
        config, num_classes, front_end, mean, variance, feature_dim=feature_dim, name=name
    )
    loss, keras_metrics = heads.loss_and_metrics(num_classes)
    model.compile(optimizer=optimizer(args), loss=loss, metrics=keras_metrics)
    return model


def optimizer(args):
    """Adam with gradient clipping, which keeps long recurrent reads (hundreds of frames) stable."""
    return keras.optimizers.Adam(learning_rate=args.learning_rate, clipnorm=1.0)


"""
## Train and compare

The models share the split, the seed and the batches. Recurrent models get
batches of clips of similar length, padded to the longest of each batch;
the CNN, which cannot mask, trains on clips padded to one fixed length, the
length every model is tested on. Early stopping watches the validation loss
and keeps the best epoch's weights. Test metrics and timings are those of
the saved model, on raw waveforms.
"""


def frame_statistics(data, front_end, batch_size: int = 64):
    """Mean and variance of each feature over the frames of the training clips (padding left out)."""
    clips = data.train[0]
    if front_end is None:
        return acoustic.frame_statistics(clips)
    features = acoustic.feature_model(front_end)
    frames = []
    for start in range(0, len(clips), batch_size):
        batch = clips[start : start + batch_size]
        values = keras.ops.convert_to_numpy(features(audio.pad_clips(batch)))
        for row, count in zip(values, front_end.frames([len(c) for c in batch])):
            frames.append(row[:count])
    return acoustic.frame_statistics(frames)


def pad_inputs(clips, length: int | None, front_end):
    """One batch of model inputs: waveforms or ``.ts`` frames, right-padded to ``length`` or the longest clip."""
    length = max(length or 0, max(len(c) for c in clips))
    if front_end is None:
        return uea.pad_series(clips, 0.0, length)
    return audio.pad_clips(clips, length)


def predict_batches(model, clips, length: int, front_end, batch_size: int = 64) -> np.ndarray:
    """Outputs of ``model`` for every clip, batch by batch, each padded to ``length``."""
    outputs = [
        model.predict_on_batch(pad_inputs(clips[i : i + batch_size], length, front_end))
        for i in range(0, len(clips), batch_size)
    ]
    if outputs[0].ndim == 3:  # per-frame outputs: batches differ in frames; pad them alike
        frames = max(o.shape[1] for o in outputs)
        outputs = [np.pad(o, ((0, 0), (0, frames - o.shape[1]), (0, 0))) for o in outputs]
    return np.concatenate(outputs)


def datasets(data, targets, args, length: int, front_end, fixed: bool):
    """Training and validation `tf.data` pipelines (fixed length for the CNN)."""
    import tensorflow as tf

    if front_end is None:
        train_x = pad_inputs(data.train[0], length, None)
        validation_x = pad_inputs(data.validation[0], length, None)
        train = tf.data.Dataset.from_tensor_slices((train_x, targets["train"]))
        train = train.shuffle(len(train_x), seed=args.seed).batch(args.batch_size)
        validation = tf.data.Dataset.from_tensor_slices((validation_x, targets["validation"])).batch(args.batch_size)
        return train, validation
    pad_to = length if fixed else None
    train = audio.waveform_dataset(
        data.train[0], targets["train"], args.batch_size, shuffle=True, seed=args.seed, pad_to=pad_to, bucket=not fixed
    )
    if fixed:
        pad_to = max(length, max(len(c) for c in data.validation[0]))
    validation = audio.waveform_dataset(data.validation[0], targets["validation"], args.batch_size, pad_to=pad_to)
    return train, validation


def save(model, name: str, args, sidecar: dict) -> pathlib.Path:
    """Save the inference model (no optimizer or loss) and its sidecar JSON."""
    inference = keras.Model(model.inputs, model.outputs, name=name)
    path = io.save_model(inference, f"{args.output_dir}/models/{name}.keras")
    io.write_json(f"{args.output_dir}/models/{name}.json", sidecar)
    return path


def digit_sets(data, args, front_end):
    """Many-digit clips and packed CTC targets for each split, from that split's single-digit clips."""
    rate = data.sample_rate
    count = {"train": args.sequences}
    for part in ("validation", "test"):
        count[part] = max(20, round(args.sequences * len(getattr(data, part)[1]) / max(1, len(data.train[1]))))
    sets = {}
    for offset, part in enumerate(("train", "validation", "test")):
        clips, labels = getattr(data, part)
        waves, transcripts = audio.make_sequences(
            clips, labels, count[part], rate, args.min_digits, args.max_digits, seed=args.seed + offset
        )
        frames = front_end.frames([len(w) for w in waves])
        sets[part] = (waves, transcripts, ctc.pack_targets(transcripts, frames, args.max_digits))
    return sets


def transcript_text(symbols, class_names) -> str:
    """Symbol ids as the space-separated label names (digits: ``"3 1 4"``)."""
    return " ".join(class_names[s] for s in symbols)


def run_keywords(data, args, front_end, length, statistics):
    """Train the classifiers and the majority baseline; return results, histories, confusion matrices, outputs."""
    feature_dim = None if front_end is not None else data.train[0][0].shape[1]
    targets = {"train": data.train[1], "validation": data.validation[1]}
    test_clips, test_labels = data.test
    sidecar_base = sidecar(data, args, front_end, length)

    def train_one(name):
        training.set_seed(args.seed)
        model = build_model(name, args, data.num_classes, front_end, statistics, feature_dim)
        train, validation = datasets(data, targets, args, length, front_end, fixed=name == "cnn")
        fitted = training.fit_from_args(model, train, validation, args, name)
        model_path = save(model, name, args, sidecar_base)
        saved = keras.models.load_model(model_path)
        probabilities = predict_batches(saved, test_clips, length, front_end)
        predicted = heads.probabilities_to_labels(probabilities, data.num_classes)
        result = compare.trained_result(
            name,
            model,
            fitted,
            metrics.classification_metrics(test_labels, predicted, data.num_classes),
            predict_batch=lambda batch, m=saved: m.predict_on_batch(pad_inputs(batch, length, front_end)),
            timing_inputs=test_clips[:256],
            output_dir=args.output_dir,
            model_path=model_path,
        )
        matrix = metrics.confusion_matrix(test_labels, predicted, data.num_classes)
        return compare.Trained(result, fitted.history, {"confusion_matrix": matrix, "predictions": predicted})

    # Finished models are recorded, so --resume skips them; Ctrl-C keeps what finished.
    trained = compare.train_each(args.model, train_one, args.output_dir, resume=args.resume, metric="accuracy")
    results = [t.result for t in trained]
    histories = {t.result.name: t.history for t in trained}
    matrices = {t.result.name: np.asarray(t.extras["confusion_matrix"]) for t in trained}
    predictions = {t.result.name: np.asarray(t.extras["predictions"]) for t in trained}
    baseline, matrices["majority"] = baselines.majority_class(
        data.train[1], test_labels, data.num_classes, np.arange(len(test_labels))
    )
    results.append(baseline)
    print(compare.summary_line(baseline, "accuracy"))
    return results, histories, matrices, predictions


def majority_transcript(transcripts) -> list[int]:
    """The naive transcriber's one answer: the commonest symbol, repeated the median number of times."""
    symbols = np.concatenate([np.asarray(t, dtype="int64") for t in transcripts])
    commonest = int(np.bincount(symbols).argmax())
    return [commonest] * int(np.median([len(t) for t in transcripts]))


def run_digits(data, args, front_end, length, statistics):
    """Train the CTC transcribers and the naive baseline; return results, histories and test transcripts."""
    sets = digit_sets(data, args, front_end)
    train_waves = sets["train"][0]
    length = max(len(w) for w in train_waves)
    data_for_batches = audio.AudioClassificationData(
        data.name,
        data.class_names,
        data.sample_rate,
        (sets["train"][0], None),
        (sets["validation"][0], None),
        (sets["test"][0], None),
    )
    targets = {"train": sets["train"][2], "validation": sets["validation"][2]}
    test_waves, test_transcripts, _ = sets["test"]
    test_frames = front_end.frames([len(w) for w in test_waves])
    references = [transcript_text(t, data.class_names) for t in test_transcripts]
    transcripts = {"reference": references}

    def train_one(name):
        training.set_seed(args.seed)
        model = build_model(name, args, data.num_classes, front_end, statistics)
        train, validation = datasets(data_for_batches, targets, args, length, front_end, fixed=False)
        fitted = training.fit_from_args(model, train, validation, args, name)
        model_path = save(model, name, args, sidecar(data, args, front_end, length))
        saved = keras.models.load_model(model_path)
        probabilities = predict_batches(saved, test_waves, None, front_end)
        scores, hypotheses = {}, {}
        for strategy, suffix in (("greedy", ""), ("beam_search", "_beam")):
            decoded = ctc.decode(probabilities, test_frames, strategy, args.beam_width)
            hypotheses[f"{name}{suffix}"] = [transcript_text(d, data.class_names) for d in decoded]
            rates = ctc.error_rates(references, hypotheses[f"{name}{suffix}"])
            scores.update({f"{key}{suffix}": value for key, value in rates.items()})
        result = compare.trained_result(
            name,
            model,
            fitted,
            scores,
            predict_batch=lambda batch, m=saved: m.predict_on_batch(audio.pad_clips(batch)),
            timing_inputs=test_waves[:128],
            output_dir=args.output_dir,
            model_path=model_path,
        )
        return compare.Trained(result, fitted.history, {"transcripts": hypotheses})

    # Finished models are recorded, so --resume skips them; Ctrl-C keeps what finished.
    trained = compare.train_each(args.model, train_one, args.output_dir, resume=args.resume, metric="wer")
    results = [t.result for t in trained]
    histories = {t.result.name: t.history for t in trained}
    for done in trained:
        transcripts.update(done.extras["transcripts"])
    naive = transcript_text(majority_transcript(sets["train"][1]), data.class_names)
    scores = ctc.error_rates(references, [naive] * len(references))
    baseline = compare.ModelResult(
        name="majority",
        metrics=scores | {f"{key}_beam": value for key, value in scores.items()},
        params=0,
        train_seconds=0.0,
        predict_ms_per_sample=round(training.time_predict(lambda batch: [naive] * len(batch), references), 6),
        fast_kernel=None,
    )
    results.append(baseline)
    print(compare.summary_line(baseline, "wer"))
    return results, histories, transcripts, sets


def sidecar(data, args, front_end, length: int) -> dict:
    """What `predict` needs beside a saved model: labels, task, rate, input kind."""
    return {
        "task": args.task,
        "class_names": data.class_names,
        "sample_rate": data.sample_rate,
        "clip_samples": int(length),
        "input": "frames" if front_end is None else "waveform",
        "front_end": None if front_end is None else front_end.to_dict(),
    }


def spectrogram_figure(clips, titles, front_end, path):
    """Log-mel spectrograms of a few clips, titled with the true and predicted labels."""
    features = acoustic.feature_model(front_end)
    images = []
    for clip in clips:
        values = keras.ops.convert_to_numpy(features(clip[None]))[0]
        images.append(values[: front_end.frames([len(clip)])[0]])
    plots.spectrograms(images, titles, path, seconds_per_frame=front_end.stride_seconds)


def validate(args):
    """Check flag combinations before anything is read or written."""
    if args.min_digits > args.max_digits:
        raise errors.expected(
            "--min-digits <= --max-digits", f"{args.min_digits} > {args.max_digits}", name="--min-digits"
        )


def run(args) -> dict:
    """Load the data, train every chosen model and the baseline, write the report."""
    validate(args)
    data = load_data(args)
    if data.num_classes < 2:
        raise errors.expected("two labels or more", data.class_names)
    length = limit_length(data, args.clip_seconds)
    front_end = None
    if data.sample_rate is not None:
        front_end = acoustic.FrontEnd(data.sample_rate, num_mel_bins=args.mel_bins)
    elif args.task == "digits":
        raise errors.expected("audio for --task digits", data.name)
    rate = f"{data.sample_rate} Hz" if data.sample_rate else "frames"
    print(f"data: {data.name}, classes {data.class_names}, clips {data.sizes()}, {rate}")
    statistics = frame_statistics(data, front_end)

    best = None
    if args.task == "keywords":
        results, histories, matrices, predictions = run_keywords(data, args, front_end, length, statistics)
        primary = "accuracy"
        trained = [r for r in results if r.name in predictions]
        if trained:
            best = max(trained, key=lambda r: r.metrics["accuracy"]).name
        sizes = data.sizes()
    else:
        results, histories, transcripts, sets = run_digits(data, args, front_end, length, statistics)
        primary = "wer"
        trained = [r for r in results if r.name in args.model]
        if trained:
            best = min(trained, key=lambda r: r.metrics["wer"]).name
        sizes = {part: len(sets[part][1]) for part in sets}

    report = compare.build_report(
        NAME,
        data.name,
        args.task,
        primary,
        results,
        class_names=data.class_names,
        sample_rate=data.sample_rate,
        sizes=sizes,
        seed=args.seed,
        config={key: value for key, value in vars(args).items() if key not in ("data", "output_dir", "command")}
        | {"clip_samples": int(length), "front_end": None if front_end is None else front_end.to_dict()},
        command=args.command,
    )
    output = pathlib.Path(args.output_dir)
    if args.task == "keywords":
        plots.confusion_matrices(matrices, data.class_names, output / "confusion_matrices.png")
        if front_end is not None and best is not None:
            # The first test clip of each of up to four different labels.
            firsts = {}
            for index, label in enumerate(data.test[1]):
                firsts.setdefault(int(label), index)
            shown = sorted(firsts.values())[:4]
            titles = [
                f"true: {data.class_names[data.test[1][i]]} | {best}: {data.class_names[predictions[best][i]]}"
                for i in shown
            ]
            spectrogram_figure([data.test[0][i] for i in shown], titles, front_end, output / "spectrograms.png")
    else:
        io.write_json(output / "transcripts.json", transcripts)
        if best is not None:
            shown = list(range(min(3, len(transcripts["reference"]))))
            titles = [f"true: {transcripts['reference'][i]} | {best}: {transcripts[best][i]}" for i in shown]
            spectrogram_figure([sets["test"][0][i] for i in shown], titles, front_end, output / "spectrograms.png")
    compare.publish(output, report, histories, metric="accuracy" if args.task == "keywords" else "loss")
    return report


"""
## Prediction with a saved model

`rnn-apps predict speech --model runs/speech/models/gru.keras clip.wav ...`
loads the model in a fresh process, reads each WAV file (averaging stereo to
mono, resampling from a higher rate), and prints the label, or the
transcript for a `--task digits` model. The sample rate and labels come
from the model's `.json` sidecar. A model trained on `.ts` series takes a
`.ts` file and labels each series in it.
"""


def _load(model_path):
    model_path = pathlib.Path(model_path)
    try:
        model = keras.models.load_model(model_path)
    except Exception as error:  # a corrupt or foreign file: Keras raises many types
        raise errors.expected("a .keras model saved by this recipe", f"{model_path} ({error})") from None
    sidecar_path = model_path.with_suffix(".json")
    if sidecar_path.exists():
        info = errors.read_json(sidecar_path, keys=("task", "input", "sample_rate"))
    else:
        mel = next((layer for layer in model.layers if isinstance(layer, keras.layers.MelSpectrogram)), None)
        info = {
            "task": "digits" if len(model.output.shape) == 3 else "keywords",
            "class_names": None,
            "sample_rate": mel.sampling_rate if mel is not None else None,
            "clip_samples": None,
            "input": "waveform" if mel is not None else "frames",
        }
    return model, info


def read_for_model(path, sample_rate: int) -> np.ndarray:
    """Read one WAV file for a model taking ``sample_rate`` Hz; higher rates are resampled."""
    samples, rate = audio.read_wav(path)
    if rate < sample_rate:
        raise errors.expected(
            f"audio recorded at {sample_rate} Hz or more (the model's rate; upsampling cannot add the missing band)",
            f"{rate} Hz in {path}",
        )
    if rate != sample_rate:
        audio.notice(f"{path} is at {rate} Hz; resampled to {sample_rate} Hz")
    return audio.prepare(samples, rate, sample_rate, source=str(path))


def predict(model_path, inputs) -> list[dict]:
    """Label (or transcribe) WAV files with a saved model from this recipe.

    Args:
        model_path: a ``.keras`` file written by this recipe.
        inputs: paths of ``.wav`` files (or of one ``.ts`` file, for a model
            trained on series).

    Returns:
        One dict per clip: ``label`` (or ``transcript``), ``probability``
        (keywords), ``input``.
    """
    inputs = [str(i) for i in inputs]
    if not inputs:
        raise errors.expected("at least one .wav file", "none")
    model, info = _load(model_path)
    names = info.get("class_names")
    if info["input"] == "frames":
        errors.check_model_inputs(model, model_path, ranks=(3,), dtype="float")
        rows = []
        for path in inputs:
            content = uea.read_ts(path)
            if model.input_shape[-1] is not None and content.num_channels != model.input_shape[-1]:
                raise errors.expected(
                    f"series with {model.input_shape[-1]} channels (the model's)", f"{content.num_channels} in {path}"
                )
            rows += [(f"{path}#{i}", series) for i, series in enumerate(content.series)]
        sources = [source for source, _ in rows]
        longest = max(len(series) for _, series in rows)
        batch = uea.pad_series([series for _, series in rows], 0.0, max(info.get("clip_samples") or 0, longest))
        probabilities = model.predict_on_batch(batch)
    else:
        errors.check_model_inputs(model, model_path, ranks=(2,), dtype="float")
        clips = [read_for_model(path, info["sample_rate"]) for path in inputs]
        sources = inputs
        if info["task"] == "digits":
            front_end = acoustic.FrontEnd(**info["front_end"])
            longest = max(front_end.frame_length, max(len(c) for c in clips))
            probabilities = model.predict_on_batch(audio.pad_clips(clips, longest))
            decoded = ctc.decode(probabilities, front_end.frames([len(c) for c in clips]), "beam_search")
            return [
                {"transcript": " ".join(names[s] if names else str(s) for s in symbols), "input": source}
                for symbols, source in zip(decoded, sources)
            ]
        length = info.get("clip_samples") or max(len(c) for c in clips)
        probabilities = model.predict_on_batch(audio.pad_clips(clips, max(length, max(len(c) for c in clips))))
    num_classes = 2 if probabilities.shape[-1] == 1 else probabilities.shape[-1]
    labels = heads.probabilities_to_labels(probabilities, num_classes)
    output = []
    for source, label, row in zip(sources, labels, probabilities):
        probability = (float(row[0]) if label == 1 else 1.0 - float(row[0])) if num_classes == 2 else float(row[label])
        name = names[label] if names else str(int(label))
        output.append({"label": name, "probability": round(probability, 4), "input": source})
    return output


"""
## Results and conclusion

`comparison.md` holds the table; `confusion_matrices.png` shows where each
keyword model errs, `spectrograms.png` a few test clips with the best
model's answer, and for `--task digits` `transcripts.json` every reference
and hypothesis. On short, clean words the 2-D CNN is hard to beat and trains
fast; recurrent models come close with far fewer parameters, and with CTC a
recurrent encoder reads strings of words whose boundaries nobody marked.
See `bench/results/speech-*.md` for the benchmark numbers and commands.
"""


def main(argv=None) -> dict:
    """Run the recipe from the command line (``argv`` as in `sys.argv[1:]`)."""
    return cli.run_recipe(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
