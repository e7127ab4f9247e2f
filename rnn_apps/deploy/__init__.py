"""Deploying what the recipes train: exported files for other runtimes, and a model behind HTTP.

- `rnn_apps.deploy.export` (``rnn-apps export``): a saved recipe model as a
  TensorFlow SavedModel, an ONNX file or a LiteRT (``.tflite``) file, each
  loaded back with its own runtime and checked against the Keras model on the
  recipe's bundled examples.
- `rnn_apps.deploy.serve` (``rnn-apps serve``): a saved model answering JSON
  requests over HTTP.

Nothing here is imported by the recipes; the converters and servers load
only when these commands run.
"""
