"""The recipes: one runnable, literate module per application, registered as ``rnn_apps.recipes`` entry points.

They are programs, not library code: each recipe module prepares the process
as the ``rnn-apps`` command does (`rnn_apps.harness.runtime.configure`:
TensorFlow's start-up notices held back, the PyTorch fused-kernel route, a
headless plotting backend) before it imports Keras. Their settings live in
``recipes/configs/``, which imports neither.

Started as ``python -m recipes.NAME``, this package checks the command-line
flags with the recipe's configuration before the recipe module is executed,
so a bad flag (or ``--help``) is answered before TensorFlow starts; the
recipe parses the same flags again with the same parser.
"""

import sys

from rnn_apps.harness import config, registry


def _started_as_recipe() -> str | None:
    """The recipe NAME of ``python -m recipes.NAME``, or `None` for any other start."""
    arguments = getattr(sys, "orig_argv", [])
    if "-m" not in arguments or sys.argv[:1] != ["-m"]:
        return None
    module = arguments[arguments.index("-m") + 1 :][:1]
    prefix = f"{__name__}."
    if not module or not module[0].startswith(prefix):
        return None
    name = module[0].removeprefix(prefix)
    return name if name in registry.names() else None


def _check_flags_early() -> None:
    name = _started_as_recipe()
    if name is None:
        return
    config.parse_config(registry.config_class(name), sys.argv[1:], recipe=name, description=registry.summary(name))


_check_flags_early()
