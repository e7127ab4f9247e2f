"""The gated cells (recipes/gates.py): the hand-written LSTM and GRU against Keras, and wrong gates caught."""

import json

import numpy as np
import pytest

from recipes import gates


@pytest.mark.parametrize("case", sorted(gates.CASES))
def test_hand_written_cell_matches_the_keras_layer(case):
    difference, parameters = gates.compare_with_layer(case, units=5, features=3, steps=9, seed=1)
    assert difference < gates.TOLERANCE
    assert parameters > 0


def _swap_blocks(weight, parts, first, second):
    blocks = np.split(np.asarray(weight), parts, axis=-1)
    blocks[first], blocks[second] = blocks[second], blocks[first]
    return np.concatenate(blocks, axis=-1)


def _lstm_with_blocks_swapped(first, second):
    def states(inputs, kernel, recurrent_kernel, bias):
        swapped = (_swap_blocks(weight, 4, first, second) for weight in (kernel, recurrent_kernel, bias))
        return gates.lstm_states(inputs, *swapped)

    return states


def _gru_with_update_gate_mirrored(inputs, kernel, recurrent_kernel, bias):
    # sigmoid(-a) = 1 - sigmoid(a): negating the update gate's weights puts z on the candidate instead.
    flip = np.ones(np.shape(kernel)[-1], dtype="float32")
    flip[: len(flip) // 3] = -1.0
    return gates.gru_states(inputs, kernel * flip, recurrent_kernel * flip, bias * flip)


def _gru_with_update_and_reset_swapped(inputs, kernel, recurrent_kernel, bias):
    swapped = (_swap_blocks(weight, 3, 0, 1) for weight in (kernel, recurrent_kernel, bias))
    return gates.gru_states(inputs, *swapped)


def _gru_with_reset_before_the_product(inputs, kernel, recurrent_kernel, bias):
    # Both bias rows folded into one, as a reset-before cell would hold them.
    return gates.gru_states(inputs, kernel, recurrent_kernel, bias[0] + bias[1], reset_after=False)


WRONG_CELLS = {
    "lstm input and forget swapped": ("lstm", _lstm_with_blocks_swapped(0, 1)),
    "lstm candidate and output swapped": ("lstm", _lstm_with_blocks_swapped(2, 3)),
    "lstm forget and output swapped": ("lstm", _lstm_with_blocks_swapped(1, 3)),
    "gru update and reset swapped": ("gru", _gru_with_update_and_reset_swapped),
    "gru update gate on the candidate": ("gru", _gru_with_update_gate_mirrored),
    "gru reset before the product": ("gru", _gru_with_reset_before_the_product),
}


@pytest.mark.parametrize("name", sorted(WRONG_CELLS))
def test_a_wrong_gate_equation_does_not_match(name):
    case, states = WRONG_CELLS[name]
    difference, _ = gates.compare_with_layer(case, states=states, units=5, features=3, steps=9, seed=1)
    assert difference > 1e-2


def test_parameter_counts_follow_the_equations():
    d, n = 3, 5
    assert gates.compare_with_layer("lstm", units=n, features=d, steps=2)[1] == 4 * (d * n + n * n + n)
    assert gates.compare_with_layer("gru", units=n, features=d, steps=2)[1] == 3 * (d * n + n * n + 2 * n)
    assert gates.compare_with_layer("gru_reset_before", units=n, features=d, steps=2)[1] == 3 * (d * n + n * n + n)


def test_main_writes_the_checks(tmp_path):
    results = gates.main(["--units", "3", "--steps", "4", "--output-dir", str(tmp_path)])
    assert set(results["checks"]) == set(gates.CASES)
    assert all(check["agrees"] for check in results["checks"].values())
    assert json.loads((tmp_path / "results.json").read_text())["checks"] == results["checks"]
    assert "| gru | `GRU(reset_after=True)` |" in (tmp_path / "results.md").read_text()


def test_a_bad_flag_exits_with_status_2(capsys):
    with pytest.raises(SystemExit) as raised:
        gates.main(["--units", "0"])
    assert raised.value.code == 2
    assert "--units" in capsys.readouterr().err
