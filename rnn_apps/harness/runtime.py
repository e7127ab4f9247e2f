"""Process-wide settings for the command line, applied once by `configure`.

Importing `rnn_apps` changes nothing outside its own modules: no
environment variable, no patched Keras function, no plotting backend. A
library should leave those choices to the program that imports it. The
command-line entry points (``rnn-apps`` and ``python -m recipes.<name>``)
are such programs, and they want a few things that only make sense for a
whole process; `configure` does them, and tests or notebooks that want the
same behaviour call it themselves.

Examples:
    >>> configure() == configure()  # a second call changes nothing
    True
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile

TENSORFLOW_LOG_LEVEL = "2"
"""``TF_CPP_MIN_LOG_LEVEL`` set by `configure` when the user has not set one: warnings and errors only."""

_DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY")

START_UP_NOTICES = re.compile(
    r"cudart_stub|cuInit|cpu_feature_guard|All log messages before absl::InitializeLog"
    r"|To enable the following instructions|Unable to register cu(DNN|BLAS|FFT) factory|TF-TRT Warning"
)
"""Lines TensorFlow's C++ code prints while it starts, whatever ``TF_CPP_MIN_LOG_LEVEL`` says.

A TensorFlow build with CUDA support reports, on a machine without a GPU
    r"|oneDNN custom operations are on"
driver, that it found none (``cudart_stub``, ``cuInit``); every build names
the CPU instructions it was not compiled for, and says that its oneDNN
kernels are on. These lines come from before
TensorFlow's logging is set up (tensorflow/tensorflow#100442), so only the
process's standard error can hold them back: `configure` does so during the
import and the first device query, and prints every other line it caught."""


def configure() -> bool:
    """Set up the process for a command-line run; safe to call more than once.

    1. ``TF_CPP_MIN_LOG_LEVEL`` defaults to ``2``, unless the user set it:
       TensorFlow's C++ start-up notices (CPU instruction sets, oneDNN,
       missing CUDA drivers) would otherwise bury the recipes' own tables.
       TensorFlow reads it when it first logs from C++, so call this before
       anything imports TensorFlow to silence those printed at import.
    2. On the PyTorch backend, `rnn_apps.layers.torch_kernels.install`
       routes eligible LSTM and GRU layers to PyTorch's fused kernel (10x
       and more on a CPU); ``RNN_APPS_TORCH_FUSED=0`` keeps Keras's own loop.
       Results do not depend on it, only speed does.
    3. TensorFlow is imported with its start-up notices held back (see
       `START_UP_NOTICES`; any other line it prints still reaches standard
       error), unless it is already imported or not installed.
    4. With no display (a server, a container, CI) and no backend chosen
       by the user (``MPLBACKEND``, a ``matplotlibrc``, an earlier
       ``matplotlib.use``), matplotlib gets the non-interactive ``Agg``
       backend, so nothing tries to open a window. The plots of
       `rnn_apps.harness.plots` need no backend at all; this is for code
       that uses ``matplotlib.pyplot``.

    Returns:
        Whether the PyTorch fused-kernel route is installed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TENSORFLOW_LOG_LEVEL)
    _choose_headless_plotting()
    _start_tensorflow_quietly()
    from rnn_apps.layers import torch_kernels

    return torch_kernels.install()


def has_display() -> bool:
    """Whether windows can be opened: always on macOS and Windows, elsewhere with an X11 or Wayland display.

    Examples:
        >>> import os
        >>> has_display() == (sys.platform in ("darwin", "win32") or any(map(os.environ.get, _DISPLAY_VARIABLES)))
        True
    """
    if sys.platform in ("darwin", "win32"):
        return True
    return any(os.environ.get(name) for name in _DISPLAY_VARIABLES)


def backend_chosen() -> bool:
    """Whether someone chose matplotlib's backend (environment, ``matplotlibrc`` or ``matplotlib.use``).

    Matplotlib marks an unchosen backend with a sentinel that it resolves on
    first use; reading ``rcParams["backend"]`` the ordinary way would
    resolve it (and import pyplot), so the raw value is read instead.
    """
    if os.environ.get("MPLBACKEND"):
        return True
    import matplotlib
    import matplotlib.rcsetup

    return dict.__getitem__(matplotlib.rcParams, "backend") is not matplotlib.rcsetup._auto_backend_sentinel


def _choose_headless_plotting() -> None:
    if has_display() or backend_chosen():
        return
    import matplotlib

    matplotlib.use("Agg")


def _start_tensorflow_quietly() -> None:
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA driver probe, which logs too
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [
                line
                for line in caught.read().decode("utf-8", "replace").splitlines()
                if line.strip() and not START_UP_NOTICES.search(line)
            ]
            if kept:
                print("\n".join(kept), file=sys.stderr)
