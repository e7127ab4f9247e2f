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


def _toy_datasets(pad_to):
    """A marker-word task as right-padded ``(ids, label)`` datasets, training and test."""
    import tensorflow as tf

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
    ids = tf.ragged.constant(rows, dtype=tf.int32)
    train = text.token_dataset(ids, labels, 16, bucket=pad_to is None, pad_to=pad_to).cache()
    return train, text.token_dataset(ids, labels, 32, pad_to=pad_to)


@pytest.mark.parametrize("name", ["gru", "cnn"])
def test_the_peer_learns_a_toy_task_from_padded_batches(name):
    train, test = _toy_datasets(12 if name == "cnn" else None)
    seconds, accuracy = speed.torch_peer(name, 20, 8, 8, train, test, epochs=12, learning_rate=0.02)
    assert len(seconds) == 12 and all(s > 0 for s in seconds)
    assert accuracy >= 0.9


def test_the_peer_in_its_own_process_trains_on_the_same_batches():
    import torch

    train, test = _toy_datasets(None)
    threads = torch.get_num_threads()
    seconds, accuracy = speed.torch_peer_apart("gru", 20, 8, 8, train, test, 3, threads, seed=4)
    torch.manual_seed(4)
    here_seconds, here_accuracy = speed.torch_peer("gru", 20, 8, 8, train, test, epochs=3, seed=4)
    assert len(seconds) == len(here_seconds) == 3 and all(s > 0 for s in seconds)
    assert accuracy == pytest.approx(here_accuracy)


def test_batches_survive_the_trip_to_the_peer_process(tmp_path):
    train, _ = _toy_datasets(None)
    speed._save_batches(train, tmp_path / "train.npz")
    loaded = speed._load_batches(tmp_path / "train.npz")
    expected = list(train.as_numpy_iterator())
    assert len(loaded) == len(expected) > 1
    for (ids, labels), (want_ids, want_labels) in zip(loaded, expected, strict=True):
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(labels, want_labels)
