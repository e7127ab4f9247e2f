"""Around the models of `rnn_apps.tasks.video_models`: batched probabilities, labelled predictions, a picture of them.

A saved video model takes raw clips (uint8 frames of any size) or raw joint
tracks; its ``.json`` sidecar (`rnn_apps.data.video.read_sidecar`) names the
classes and how clips were sampled. `predict_inputs` checks that a loaded
model takes the inputs read for it and returns class probabilities;
`labelled` turns them into one dict per input. The picture of a few test
clips with their labels is `rnn_apps.harness.plots.clip_predictions`.

`stream_labels` runs a saved CNN-RNN (or ConvLSTM, or joints) model one
frame at a time through `rnn_apps.streaming.Stream`: each frame goes through
the saved model's own resizing, scaling and per-frame CNN, and the recurrent
layer carries what it has seen, so the label after the last frame is the
model's label for the clip.

Examples:
    >>> labelled(np.array([[0.9], [0.2]]), ["left", "right"], ["a.gif", "b.gif"])
    [{'label': 'right', 'probability': 0.9, 'input': 'a.gif'}, {'label': 'left', 'probability': 0.8, 'input': 'b.gif'}]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from rnn_apps import errors, paths, streaming
from rnn_apps.data import text_files
from rnn_apps.layers import heads, recurrent


def predict_probabilities(model, inputs, batch_size: int = 64) -> np.ndarray:
    """Class probabilities of a model for an array of clips or tracks, a batch at a time."""
    return np.concatenate(
        [np.asarray(model.predict_on_batch(inputs[i : i + batch_size])) for i in range(0, len(inputs), batch_size)]
    )


def predict_inputs(model, model_path, inputs: list[np.ndarray], input_kind: str, names=None) -> np.ndarray:
    """Check that ``model`` takes ``inputs`` (clips, or joint series of its channel count); predict.

    Args:
        model: a loaded video model.
        model_path: its file, for messages.
        inputs: from `rnn_apps.data.video.read_inputs`.
        input_kind: ``"frames"`` or ``"joints"`` (the sidecar's ``input``).
        names: one name per input, for messages (`None`: their positions).

    Returns:
        Class probabilities, one row per input.

    Raises:
        InputError: a model of another recipe or input kind, series whose
            channels differ from the model's, or a series the model's mask
            hides whole (`rnn_apps.layers.recurrent.guard_fused_kernel`).
    """
    from rnn_apps.data import uea

    if input_kind == "joints":
        channels = {series.shape[-1] for series in inputs}
        errors.check_model_inputs(model, model_path, ranks=(3,), last_dims=(None,))
        if len(channels) != 1 or model.input_shape[-1] not in (None, *channels):
            raise errors.expected(f"joint series with {model.input_shape[-1]} channels (the model's)", sorted(channels))
        batch = uea.pad_series(inputs)
        what = "a series with a step that is not all zeros (padding)"
        recurrent.guard_fused_kernel(model, batch, names or list(range(len(inputs))), what)
        return predict_probabilities(model, batch)
    errors.check_model_inputs(model, model_path, ranks=(5,))
    batch = np.stack(inputs)
    recurrent.guard_fused_kernel(
        model, batch, names or list(range(len(inputs))), "a clip the model does not mask whole"
    )
    return predict_probabilities(model, batch)


def labelled(probabilities: np.ndarray, class_names: list[str], names: list[str]) -> list[dict]:
    """One dict per input: ``label``, ``probability`` (of that label, 4 decimals) and ``input``."""
    labels = heads.probabilities_to_labels(probabilities, len(class_names))
    output = []
    for name, label, row in zip(names, labels, probabilities):
        if len(class_names) == 2:
            probability = float(row[0]) if label == 1 else 1.0 - float(row[0])
        else:
            probability = float(row[label])
        output.append({"label": class_names[label], "probability": round(probability, 4), "input": name})
    return output


def clip_stream(model) -> streaming.Stream:
    """A saved video model as a `rnn_apps.streaming.Stream` that takes one frame (or joint step) per call.

    The whole saved model is walked, so the raw-frame wrapper's resizing,
    the scaling and the per-frame CNN run on each frame as in the model.

    Raises:
        InputError: a model that needs more than the frames so far: a
            bidirectional layer (it reads the clip backwards too), a 3-D CNN
            (its kernels span 3 frames), the frame-averaging CNN (an average
            over the whole clip), the FCN over joint tracks; the message names
            the layer.

    Examples:
        >>> from rnn_apps.layers import encoders
        >>> from rnn_apps.tasks import video_models
        >>> config = encoders.EncoderConfig(model="cnn", cnn_kind="frame_average")
        >>> core = video_models.frames_classifier(config, 2, 3, 8, 8, 1, frame_filters=(2,))
        >>> clip_stream(video_models.raw_frames_model(core))
        Traceback (most recent call last):
        ...
        rnn_apps.errors.InputError: Expected a model whose steps can run one at a time. Received: 'frame_average' ...
    """
    try:
        return streaming.Stream(model)
    except errors.InputError as error:
        raise errors.InputError(
            f"{error}. rnn-apps stream video runs the CNN-RNN models (simple_rnn, lstm, gru) and convlstm, "
            f"without --bidirectional; {model.name!r} needs frames it has not seen yet"
        ) from None


def stream_probabilities(stream: streaming.Stream, sequence: np.ndarray) -> Iterator[np.ndarray]:
    """Class probabilities after each frame of one clip (or step of one track), from zero states.

    Args:
        stream: from `clip_stream`.
        sequence: one clip ``(frames, height, width, channels)`` or one
            track ``(time, channels)``.

    Yields:
        One row of probabilities per frame, as the model gives them for the
            frames so far.
    """
    stream.reset()
    batch = np.asarray(sequence, "float32")[None]
    for t in range(batch.shape[1]):
        yield np.asarray(stream.step(batch[:, t : t + 1]))[0]


def stream_labels(
    model, model_path, inputs: Iterable[str], settings: dict, encoding: str = text_files.DEFAULT_ENCODING
) -> Iterator[dict]:
    """The label after each frame of each clip (or step of each joint series), read one input at a time.

    Args:
        model: a loaded video model (`raw_frames_model` or a joints model).
        model_path: its file, for messages.
        inputs: clip paths (video files, frame folders) or ``.ts`` files,
            read lazily: each is sampled and streamed before the next is read.
        settings: the sidecar (`rnn_apps.data.video.read_sidecar`).
        encoding: the codec of ``.ts`` files.

    Yields:
        One dict per frame: ``input`` (the clip, or ``PATH#i`` for series
            ``i`` of a ``.ts`` file), ``frame`` (``step`` for joints, from 1),
            ``label`` and its ``probability``; the states start afresh for
            every clip.

    Raises:
        InputError: a model `clip_stream` refuses, inputs of another kind or
            channel count than the model's, or a path that is not a clip.
    """
    from rnn_apps.data import video

    joints = settings["input"] == "joints"
    errors.check_model_inputs(model, model_path, ranks=(3,) if joints else (5,))
    stream = clip_stream(model)
    position = "step" if joints else "frame"
    for value in inputs:
        path = paths.input_path(value, "the path of a clip file or folder (or of a .ts file)")
        sequences, names = video.read_inputs([path], settings, encoding)
        for sequence, name in zip(sequences, names):
            if joints and model.input_shape[-1] not in (None, sequence.shape[-1]):
                raise errors.expected(f"joint series with {model.input_shape[-1]} channels (the model's)", name)
            for t, row in enumerate(stream_probabilities(stream, sequence), 1):
                label = labelled(row[None], settings["class_names"], [name])[0]
                yield {"input": name, position: t, "label": label["label"], "probability": label["probability"]}
