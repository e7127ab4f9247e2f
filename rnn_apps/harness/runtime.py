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

import importlib
import importlib.util
import json
import os
import re
import sys
import tempfile

from rnn_apps import errors

TENSORFLOW_LOG_LEVEL = "2"
"""``TF_CPP_MIN_LOG_LEVEL`` set by `configure` when the user has not set one: warnings and errors only."""

_DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY")

START_UP_NOTICES = re.compile(
    r"cudart_stub|cuInit|cpu_feature_guard|All log messages before absl::InitializeLog"
    r"|To enable the following instructions|Unable to register cu(DNN|BLAS|FFT) factory|TF-TRT Warning"
    r"|oneDNN custom operations are on"
)
"""Lines TensorFlow's C++ code prints while it starts, whatever ``TF_CPP_MIN_LOG_LEVEL`` says.

A TensorFlow build with CUDA support reports, on a machine without a GPU
driver, that it found none (``cudart_stub``, ``cuInit``); every build names
the CPU instructions it was not compiled for, and says that its oneDNN
kernels are on. These lines come from before
TensorFlow's logging is set up (tensorflow/tensorflow#100442), so only the
process's standard error can hold them back: `configure` does so during the
import and the first device query, and prints every other line it caught."""


KERAS_BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")
"""The Keras 3 backends, each named as the package Keras imports for it."""


def configure() -> bool:
    """Set up the process for a command-line run; safe to call more than once.

    0. The Keras backend the process will use must be one Keras knows, and
       its package must import (`check_backend`); otherwise one line on
       standard error and exit status 2, before Keras is imported (whose
       own failure is a traceback).
    1. ``TF_CPP_MIN_LOG_LEVEL`` defaults to ``2``, unless the user set it:
       TensorFlow's C++ start-up notices (CPU instruction sets, oneDNN,
       missing CUDA drivers) would otherwise bury the recipes' own tables.
       TensorFlow reads it when it first logs from C++, so call this before
       anything imports TensorFlow to silence those printed at import.
    2. On the PyTorch backend, `rnn_apps.layers.torch_kernels.install`
       routes eligible LSTM and GRU layers to PyTorch's fused kernel (10x
       and more on a CPU); ``RNN_APPS_TORCH_FUSED=0`` keeps Keras's own loop.
       Results do not depend on it, only speed does. On the JAX backend,
       ``RNN_APPS_JAX_SCAN=1`` asks `rnn_apps.layers.jax_kernels.install`
       to give LSTM and GRU layers that Keras would loop generically a scan
       with the input projection done before the loop (off by default: on
       a 2-core CPU it measured slower than Keras's loop).
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
    try:
        check_backend()
    except errors.InputError as error:
        print(f"{os.path.basename(sys.argv[0]) or 'rnn-apps'}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TENSORFLOW_LOG_LEVEL)
    _choose_headless_plotting()
    _start_tensorflow_quietly()
    from rnn_apps.layers import jax_kernels, torch_kernels

    jax_kernels.install()
    return torch_kernels.install()


def chosen_backend() -> tuple[str, str]:
    """The Keras backend this process will get, found as Keras finds it but without importing Keras.

    ``KERAS_BACKEND`` first, then the ``backend`` entry of ``keras.json`` in
    ``KERAS_HOME`` (``~/.keras``, or ``/tmp/.keras`` when the home folder
    cannot be written), else TensorFlow.

    Returns:
        The backend's name and the setting it came from (for messages).
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"], "KERAS_BACKEND"
    home = os.path.expanduser("~")
    folder = os.environ.get("KERAS_HOME") or os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")
    path = os.path.join(folder, "keras.json")
    try:
        with open(path, encoding="utf-8") as file:
            name = json.load(file).get("backend")
    except (OSError, ValueError, AttributeError):
        name = None
    if isinstance(name, str) and name:
        return name, f'"backend" in {path}'
    return "tensorflow", "the default backend"


def check_backend() -> str:
    """Check that Keras can start: a known backend whose package imports.

    Keras imports the backend's package when it is first imported itself; a
    missing package (``KERAS_BACKEND=jax`` without JAX installed) would be an
    `ImportError` traceback there. TensorFlow is only looked up here, since
    `configure` imports it with its start-up notices held back.

    Returns:
        The backend's name.

    Raises:
        InputError: the backend is unknown or its package does not import.

    Examples:
        >>> check_backend() in KERAS_BACKENDS
        True
    """
    name, source = chosen_backend()
    if name not in KERAS_BACKENDS:
        raise errors.expected(f"one of {list(KERAS_BACKENDS)}", name, name=source)
    try:
        if name == "tensorflow":
            if importlib.util.find_spec(name) is None:
                raise ModuleNotFoundError(f"No module named {name!r}")
        else:
            importlib.import_module(name)
    except ImportError as error:
        raise errors.InputError(
            f"Expected the {name} package for {source}={name!r} (`pip install {name}`, or choose an installed "
            f"backend). Received: {error}"
        ) from None
    return name


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
