"""rnn_apps: recurrent-network applications in Keras 3, each compared with a CNN.

Modules, imported by name (``from rnn_apps import recurrent``):

- `rnn_apps.layers.recurrent`: recurrent encoders and fused-kernel eligibility;
- `rnn_apps.layers.convolutional`: CNN encoders with the same call shape;
- `rnn_apps.layers.heads`, `rnn_apps.tasks.classifiers`: task heads and whole-model builders;
- `rnn_apps.data`: loaders and pipelines per kind of data;
- `rnn_apps.harness.training`, `rnn_apps.harness.compare`, `rnn_apps.metrics`,
  `rnn_apps.harness.plots`: fit and time, compare and report;
- `rnn_apps.harness.cli`: the ``rnn-apps`` command.

Importing the package trains nothing, reads no data and changes nothing
outside it (no environment variable, no patched Keras function, no plotting
backend); the command line does those once, through
`rnn_apps.harness.runtime.configure`.
"""

__version__ = "0.1.0"
