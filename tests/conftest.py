"""Shared test settings: quiet TensorFlow, bundled-sample paths, small fixtures.

Tests run the library as imported, with nothing set up; a test that needs
the command line's process settings (the PyTorch fused-kernel route, say)
asks for the ``configured_runtime`` fixture.
"""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    if os.environ.get("RNN_APPS_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow; set RNN_APPS_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _same_random_state_whatever_ran_before():
    """Seed Python, NumPy and Keras before every test.

    The test workers (pytest-xdist) take the files in a varying order, so a
    test that draws random initial weights would otherwise start from whatever
    random state the tests before it left.
    """
    import random

    import keras
    import numpy as np

    random.seed(0)
    np.random.seed(0)
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def configured_runtime():
    """Apply `rnn_apps.harness.runtime.configure`, as the command line does; its return value."""
    from rnn_apps.harness import runtime

    return runtime.configure()


@pytest.fixture
def review_csv(tmp_path):
    """A small two-class CSV with clearly separable texts."""
    rows = ["text,label"]
    good = ["a great product", "works well and i love it", "excellent value, very happy"]
    bad = ["a terrible product", "broke after a day, awful", "very poor and disappointing"]
    for i in range(10):
        rows += [f'"{good[i % 3]} {i}",pos', f'"{bad[i % 3]} {i}",neg']
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows) + "\n")
    return path
