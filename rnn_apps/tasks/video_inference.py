"""Around the models of `rnn_apps.tasks.video_models`: batched probabilities, labelled predictions, a picture of them.

A saved video model takes raw clips (uint8 frames of any size) or raw joint
tracks; its ``.json`` sidecar (`rnn_apps.data.video.read_sidecar`) names the
classes and how clips were sampled. `predict_inputs` checks that a loaded
model takes the inputs read for it and returns class probabilities;
`labelled` turns them into one dict per input. The picture of a few test
clips with their labels is `rnn_apps.harness.plots.clip_predictions`.

Examples:
    >>> labelled(np.array([[0.9], [0.2]]), ["left", "right"], ["a.gif", "b.gif"])
    [{'label': 'right', 'probability': 0.9, 'input': 'a.gif'}, {'label': 'left', 'probability': 0.8, 'input': 'b.gif'}]
"""

from __future__ import annotations

import numpy as np

from rnn_apps import errors
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
