"""The CRF of `rnn_apps.layers.crf` against brute-force enumeration of every tag path."""

import itertools
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import REPO

from rnn_apps.layers import crf


def brute_force(potentials, length, transitions, start, end):
    """Every path's score by enumeration: (log partition, best path, score table)."""
    num_tags = potentials.shape[-1]
    scores = {}
    for path in itertools.product(range(num_tags), repeat=length):
        score = start[path[0]] + end[path[-1]] + sum(potentials[t, tag] for t, tag in enumerate(path))
        score += sum(transitions[a, b] for a, b in zip(path, path[1:]))
        scores[path] = score
    values = np.array(list(scores.values()))
    log_z = values.max() + np.log(np.exp(values - values.max()).sum())
    return log_z, max(scores, key=scores.get), scores


@pytest.mark.parametrize("seed", range(4))
def test_forward_algorithm_and_viterbi_match_enumeration(seed):
    rng = np.random.default_rng(seed)
    batch, time, num_tags = 3, 4, 3
    potentials = rng.normal(size=(batch, time, num_tags)).astype("float32")
    transitions = rng.normal(size=(num_tags, num_tags)).astype("float32")
    start, end = rng.normal(size=(2, num_tags)).astype("float32")
    lengths = [4, 2, 1]
    mask = np.arange(time)[None, :] < np.array(lengths)[:, None]
    tags = rng.integers(0, num_tags, size=(batch, time))
    tags[~mask] = -1

    log_z = keras.ops.convert_to_numpy(crf.log_partition(potentials, mask, transitions, start, end))
    score = keras.ops.convert_to_numpy(crf.sequence_score(potentials, tags, mask, transitions, start, end))
    best = keras.ops.convert_to_numpy(crf.viterbi_decode(potentials, mask, transitions, start, end))
    for row, length in enumerate(lengths):
        want_z, want_best, table = brute_force(potentials[row], length, transitions, start, end)
        assert log_z[row] == pytest.approx(want_z, abs=1e-4)
        assert score[row] == pytest.approx(table[tuple(tags[row, :length])], abs=1e-4)
        assert tuple(best[row, :length]) == want_best


def test_probabilities_of_all_paths_sum_to_one():
    rng = np.random.default_rng(7)
    potentials = rng.normal(size=(1, 3, 2)).astype("float32")
    transitions = rng.normal(size=(2, 2)).astype("float32")
    start, end = rng.normal(size=(2, 2)).astype("float32")
    mask = np.ones((1, 3), bool)
    total = 0.0
    for path in itertools.product(range(2), repeat=3):
        value = crf.log_likelihood(potentials, np.array([path]), mask, transitions, start, end)
        total += float(np.exp(keras.ops.convert_to_numpy(value)[0]))
    assert total == pytest.approx(1.0, abs=1e-5)


def test_crf_learns_a_forbidden_transition_and_the_decoder_saves(tmp_path):
    """Tag 1 may only follow tag 0 or 1; the CRF learns it, the saved decoder keeps it."""
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 6, size=(64, 5)).astype("int32")
    tags = np.where(ids >= 4, 1, 0)
    tags[:, 0] = 0
    inputs = keras.Input((None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(6, 8, name="embedding")(inputs)
    x = keras.layers.Dense(2, name="potentials")(x)
    layer = crf.CRF(2, name="crf")
    model = keras.Model(inputs, layer(x))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=layer.loss)
    before = keras.ops.convert_to_numpy(layer.transitions).copy()
    model.fit(ids, tags, epochs=20, batch_size=16, verbose=0)
    assert not np.allclose(before, keras.ops.convert_to_numpy(layer.transitions))

    decode = crf.CRFDecode.from_crf(layer)
    exported = keras.Model(inputs, decode(model.get_layer("potentials").output, inputs))
    predicted = keras.ops.convert_to_numpy(exported(ids)).argmax(-1)
    assert (predicted == tags).mean() > 0.9
    path = tmp_path / "crf.keras"
    exported.save(path)
    script = (
        "import sys, numpy as np, keras, rnn_apps.layers.crf;"
        "m = keras.models.load_model(sys.argv[1]);"
        "print(keras.ops.convert_to_numpy(m(np.array([[1, 5, 0]], 'int32'))).argmax(-1).tolist())"
    )
    fresh = subprocess.run([sys.executable, "-c", script, str(path)], cwd=REPO, capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    here = keras.ops.convert_to_numpy(exported(np.array([[1, 5, 0]], "int32"))).argmax(-1).tolist()
    assert fresh.stdout.strip().splitlines()[-1] == str(here)
