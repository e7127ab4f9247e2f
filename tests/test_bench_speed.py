"""The speed benchmark's raw PyTorch peer: the architecture it claims, and a loop that learns.

The full benchmark (``tests/test_bench.py``, slow) trains every model three
ways; these checks are the fast part: the peer reads each row's output at its
last real step, which must equal running the row alone without padding (the
masked Keras layer's result), and its training loop learns a toy task from a
right-padded `tf.data` pipeline like the recipe's.
"""

import importlib.util

import numpy as np
import pytest

from bench import speed

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")


@pytest.fixture(autouse=True)
def _one_thread():
    """Toy sizes gain nothing from threads, and waiting threads cost much on busy shared cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", ["lstm", "gru", "simple_rnn"])
def test_padding_after_the_last_real_step_changes_nothing(name):
    import torch

    torch.manual_seed(0)
    model = speed._torch_model(name, vocabulary_size=20, embedding_dim=6, units=5)
    rows = [[3, 4, 5, 6, 7], [8, 9], [10, 11, 12]]
    padded = torch.tensor([row + [0] * (5 - len(row)) for row in rows])
    lengths = torch.tensor([len(row) for row in rows])
    with torch.no_grad():
        together = model(padded, lengths)
        alone = torch.cat([model(torch.tensor([row]), torch.tensor([len(row)])) for row in rows])
    np.testing.assert_allclose(together.numpy(), alone.numpy(), rtol=1e-5, atol=1e-6)


def test_keras_initialisers_and_unit_forget_bias():
    model = speed._torch_model("lstm", vocabulary_size=20, embedding_dim=6, units=5)
    bias = model.recurrent.bias_ih_l0.detach().numpy()
    assert np.all(bias[5:10] == 1) and np.all(bias[:5] == 0) and np.all(bias[10:] == 0)
    assert float(model.embedding.weight.abs().max()) <= 0.05


@pytest.mark.parametrize("name", ["gru", "cnn"])
def test_the_peer_learns_a_toy_task_from_padded_batches(name):
    from rnn_apps.data import text

    rng = np.random.default_rng(0)
    rows, labels = [], []
    for index in range(64):
        label = index % 2
        # The class is the marker word (2 or 3) somewhere in a row of filler words.
        row = list(rng.integers(4, 20, size=rng.integers(5, 12)))
        row[rng.integers(0, len(row))] = 2 + label
        rows.append(row)
        labels.append(label)
    import tensorflow as tf

    ids = tf.ragged.constant(rows, dtype=tf.int32)
    pad_to = 12 if name == "cnn" else None
    train = text.token_dataset(ids, labels, 16, bucket=pad_to is None, pad_to=pad_to).cache()
    test = text.token_dataset(ids, labels, 32, pad_to=pad_to)
    seconds, accuracy = speed.torch_peer(name, 20, 8, 8, train, test, epochs=12, learning_rate=0.02)
    assert len(seconds) == 12 and all(s > 0 for s in seconds)
    assert accuracy >= 0.9
