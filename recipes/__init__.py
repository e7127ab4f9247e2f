"""The recipes: one runnable, literate module per application, registered as ``rnn_apps.recipes`` entry points.

They are programs, not library code: importing this package prepares the
process as the ``rnn-apps`` command does (`rnn_apps.harness.runtime.configure`:
TensorFlow's start-up notices held back, the PyTorch fused-kernel route, a
headless plotting backend), so ``python -m recipes.<name>`` starts as quietly
as ``rnn-apps run <name>``. The library, ``rnn_apps``, changes nothing when
it is imported.
"""

from rnn_apps.harness import runtime

runtime.configure()
