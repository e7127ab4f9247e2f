"""Importing rnn_apps changes nothing outside it; `runtime.configure` does, on purpose.

Each check runs in a fresh process, since an earlier import in this one (or
the test session's own `runtime.configure`) would hide a side effect.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

from rnn_apps.harness import runtime

# Imports Keras, TensorFlow and matplotlib first, so only what rnn_apps itself does is seen;
# then every module of the package, then `configure`. Prints one JSON line.
SCRIPT = """
import json, os, pkgutil, importlib, sys
users_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
import keras, matplotlib, matplotlib.rcsetup
import tensorflow  # the data modules use it on every backend; what its import sets is not rnn_apps's doing
from keras.src import backend as keras_backend

def backend_setting():
    value = dict.__getitem__(matplotlib.rcParams, "backend")
    return "unset" if value is matplotlib.rcsetup._auto_backend_sentinel else value

def kernels():
    return [getattr(keras_backend, name, None) for name in ("lstm", "gru")]

# JAX (imported by Keras when installed) sets a TensorFlow log level by default; undo that,
# so that a default set by rnn_apps would show.
if users_level is None:
    os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
environment, plotting, hooks = dict(os.environ), backend_setting(), kernels()

def fail(error):
    raise error

import rnn_apps
modules = [info.name for info in pkgutil.walk_packages(rnn_apps.__path__, "rnn_apps.", onerror=fail)]
for name in modules:
    importlib.import_module(name)

from rnn_apps.harness import runtime
from rnn_apps.layers import torch_kernels
after_import = {
    "modules": modules,
    "environment_changes": sorted(
        k for k in set(environment) | set(os.environ) if environment.get(k) != os.environ.get(k)
    ),
    "plotting_before": plotting,
    "plotting": backend_setting(),
    "kernels_unchanged": kernels() == hooks,
    "installed": torch_kernels.installed(),
}
installed = runtime.configure()
again = runtime.configure()
print(json.dumps({
    "after_import": after_import,
    "configure": installed,
    "configure_again": again,
    "installed": torch_kernels.installed(),
    "kernels_unchanged": kernels() == hooks,
    "log_level": os.environ.get("TF_CPP_MIN_LOG_LEVEL"),
    "plotting": backend_setting(),
}))
"""


def fresh_process(keras_backend: str, tmp_path, **variables) -> dict:
    """Run `SCRIPT` with no display, no chosen matplotlib backend and no TensorFlow log level."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    environment.pop("RNN_APPS_TORCH_FUSED", None)
    # An empty configuration folder: no user matplotlibrc chooses a backend.
    environment |= {"KERAS_BACKEND": keras_backend, "MPLCONFIGDIR": str(tmp_path)} | variables
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, env=environment, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_import_changes_nothing(result: dict) -> None:
    imported = result["after_import"]
    assert {"rnn_apps.harness.runtime", "rnn_apps.harness.plots", "rnn_apps.layers.recurrent"} <= set(
        imported["modules"]
    )
    assert imported["environment_changes"] == []
    assert imported["plotting_before"] == "unset", "the check needs matplotlib's backend unchosen to start with"
    assert imported["plotting"] == "unset"
    assert imported["kernels_unchanged"] and not imported["installed"]


def test_import_changes_nothing_and_configure_sets_up_tensorflow(tmp_path):
    result = fresh_process("tensorflow", tmp_path)
    check_import_changes_nothing(result)
    assert result["plotting"].lower() == "agg"  # no display here, and nobody chose
    assert result["log_level"] == runtime.TENSORFLOW_LOG_LEVEL
    # Nothing to route on TensorFlow: Keras's own kernels stay.
    assert result["configure"] is result["configure_again"] is False
    assert result["kernels_unchanged"] and not result["installed"]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_import_changes_nothing_and_configure_installs_the_route_on_torch(tmp_path):
    result = fresh_process("torch", tmp_path)
    check_import_changes_nothing(result)
    assert result["configure"] is result["configure_again"] is True
    assert result["installed"] and not result["kernels_unchanged"]


def test_configure_before_keras_quiets_tensorflow_start_up(tmp_path):
    """Called first, as the command line calls it, `configure` hides TensorFlow's C++ start-up notices."""
    script = (
        "from rnn_apps.harness import runtime; runtime.configure(); "
        "import os, keras; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    )
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment |= {"KERAS_BACKEND": "tensorflow", "MPLCONFIGDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == [runtime.TENSORFLOW_LOG_LEVEL]
    # TensorFlow's informational C++ notices, such as the CPU-feature one, are gone. (The CUDA
    # wheel's "Could not find cuda drivers" is logged by absl before TensorFlow reads the level.)
    assert "cpu_feature_guard" not in done.stderr, done.stderr


def test_configure_respects_the_user(tmp_path):
    result = fresh_process("tensorflow", tmp_path, TF_CPP_MIN_LOG_LEVEL="0", MPLBACKEND="svg")
    assert result["log_level"] == "0"
    assert result["plotting"] == "svg"  # the user's, not Agg
    assert result["after_import"]["environment_changes"] == []


def test_has_display(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert not runtime.has_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert runtime.has_display()


def test_plots_draw_without_a_chosen_backend(tmp_path):
    """`rnn_apps.harness.plots` writes PNGs in a process where nobody chose a backend."""
    script = (
        "import matplotlib, matplotlib.rcsetup, sys; from rnn_apps.harness import plots; "
        "plots.learning_curves({'lstm': {'loss': [1.0, 0.5], 'val_loss': [1.1, 0.7]}}, sys.argv[1], metric='loss'); "
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') is matplotlib.rcsetup._auto_backend_sentinel; "
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    environment["MPLCONFIGDIR"] = str(tmp_path)
    path = tmp_path / "curves.png"
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=REPO, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
