"""Run an exported file with its own runtime and compare it with the Keras model it came from.

Each format is loaded back the way a deployment would load it, with no Keras
in the loop:

- ``saved_model``: `tf.saved_model.load` and its ``serving_default``
  signature;
- ``onnx``: `onnxruntime.InferenceSession` on the CPU;
- ``litert``: `ai_edge_litert.interpreter.Interpreter` and its signature
  runner (one example per call: the exported file has a batch of one).

`Runner` gives every runtime the same face: a list of input arrays in, a
list of output arrays out, in the Keras model's order. `max_abs_difference`
compares two such lists and `check` refuses a difference above the bound.

Examples:
    >>> max_abs_difference([np.zeros((2, 3))], [np.full((2, 3), 0.5)])
    0.5
    >>> check(2e-5, 1e-4)
    >>> check(0.25, 1e-4)
    Traceback (most recent call last):
    ...
    rnn_apps.errors.InputError: Expected the export to give the Keras model's outputs within 0.0001 ... Received: 0.25
"""

from __future__ import annotations

import pathlib
import re

import numpy as np

from rnn_apps import errors

BOUND = 1e-4
"""Largest absolute difference allowed between a float32 export and the Keras model."""


def _by_position(outputs: dict) -> list:
    """A signature's outputs (``output_0``, ``output_1``, ...) in their numbered order."""

    def position(key):
        found = re.search(r"(\d+)$", key)
        return int(found.group(1)) if found else 0

    return [outputs[key] for key in sorted(outputs, key=position)]


class Runner:
    """One exported file, loaded with its own runtime and called on NumPy arrays.

    Args:
        format: ``"saved_model"``, ``"onnx"`` or ``"litert"``.
        path: the SavedModel folder, ``.onnx`` or ``.tflite`` file.
        input_names: the model's input names, in the order the calls give
            the arrays.
    """

    def __init__(self, format: str, path, input_names):
        self.format, self.path, self.input_names = format, pathlib.Path(path), list(input_names)
        if format == "saved_model":
            import tensorflow as tf

            self._function = tf.saved_model.load(str(self.path)).signatures["serving_default"]
        elif format == "onnx":
            import onnxruntime

            self._session = onnxruntime.InferenceSession(str(self.path), providers=["CPUExecutionProvider"])
        elif format == "litert":
            from ai_edge_litert import interpreter

            self._runner = interpreter.Interpreter(model_path=str(self.path)).get_signature_runner()
        else:
            raise errors.check_choice(format, ("saved_model", "onnx", "litert"), "format")

    def __call__(self, inputs) -> list[np.ndarray]:
        """Outputs for one batch: ``inputs`` holds one array per input name."""
        feed = dict(zip(self.input_names, inputs))
        if self.format == "saved_model":
            import tensorflow as tf

            outputs = self._function(**{name: tf.constant(value) for name, value in feed.items()})
            return [np.asarray(value) for value in _by_position(outputs)]
        if self.format == "onnx":
            return [np.asarray(value) for value in self._session.run(None, feed)]
        # The LiteRT file holds static shapes with a batch of one: one call per example.
        rows = [
            _by_position(self._runner(**{name: value[i : i + 1] for name, value in feed.items()}))
            for i in range(len(inputs[0]))
        ]
        return [np.concatenate([row[k] for row in rows]) for k in range(len(rows[0]))]


def max_abs_difference(expected, received) -> float:
    """The largest absolute difference between two lists of output arrays.

    Raises:
        rnn_apps.errors.InputError: the lists differ in length or an output
            in shape (the export does not compute the same thing).
    """
    if len(expected) != len(received):
        raise errors.expected(f"{len(expected)} output(s), as the Keras model gives", len(received))
    largest = 0.0
    for want, got in zip(expected, received):
        want, got = np.asarray(want, "float64"), np.asarray(got, "float64")
        if want.shape != got.shape:
            raise errors.expected(f"an output of shape {want.shape}, as the Keras model gives", got.shape)
        if want.size:
            largest = max(largest, float(np.max(np.abs(want - got))))
    return largest


def check(difference: float, bound: float = BOUND) -> None:
    """Raise `rnn_apps.errors.InputError` when ``difference`` is above ``bound`` (or not a number)."""
    if not difference <= bound:
        raise errors.expected(
            f"the export to give the Keras model's outputs within {bound:g} (largest absolute difference)", difference
        )
