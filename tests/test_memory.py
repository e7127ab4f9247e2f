"""The memory study (recipes/memory.py): its typed flags and its plots; the docs build runs the study itself."""

import inspect

import numpy as np
import pytest

from recipes import memory


def test_quick_is_a_preset_and_a_flag_wins_over_it():
    settings = memory.config.parse_config(memory.MemoryConfig, ["--quick", "--epochs", "3"], recipe="memory")
    assert settings == memory.MemoryConfig(lengths=(10, 25), epochs=3, seed=0, output_dir="runs/memory", quick=True)
    default = memory.config.parse_config(memory.MemoryConfig, [], recipe="memory")
    assert default.lengths == memory.LENGTHS and default.epochs == 15


def test_a_bad_flag_exits_with_status_2(capsys):
    with pytest.raises(SystemExit) as raised:
        memory.main(["--lengths", "0"])
    assert raised.value.code == 2
    assert "--lengths: expected positive integers, received '0'" in capsys.readouterr().err


def test_plots_leave_the_matplotlib_backend_alone(tmp_path):
    memory._accuracy_plot((10, 25), {"lstm": [0.5, 0.4]}, tmp_path / "adding.png")
    memory._gradient_plot({"gru": np.array([1.0, 0.1, 0.01])}, "fresh", tmp_path / "gradient.png")
    assert (tmp_path / "adding.png").stat().st_size > 0 and (tmp_path / "gradient.png").stat().st_size > 0
    source = inspect.getsource(memory)
    assert "matplotlib.use(" not in source and "pyplot" not in source and "add_argument" not in source


def test_adding_problem_marks_two_steps():
    inputs, targets = memory.adding_problem(6, 12, seed=1)
    assert inputs.shape == (6, 12, 2) and targets.shape == (6,)
    np.testing.assert_allclose(targets, (inputs[..., 0] * inputs[..., 1]).sum(axis=1), rtol=1e-6)


def test_a_simple_rnn_has_the_same_weights_for_every_length():
    counts = memory.parameter_counts((3, 30, 300), features=2, units=4)
    assert set(counts.values()) == {2 * 4 + 4 * 4 + 4}


def test_bptt_matches_autodiff_and_finite_differences():
    assert memory.check_bptt(units=5, features=2, steps=7, seed=3) < 1e-5
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(2, 6, 3))
    kernel, recurrent_kernel = rng.normal(size=(3, 4)), rng.normal(scale=0.6, size=(4, 4))
    bias, direction = rng.normal(size=4), rng.normal(size=4)

    def loss(recurrent):
        state = np.zeros((2, 4))
        for step in range(6):
            state = np.tanh(inputs[:, step] @ kernel + state @ recurrent + bias)
        return float((state * direction).sum())

    analytic = memory.bptt_gradients(inputs, kernel, recurrent_kernel, bias, direction)["recurrent_kernel"]
    numeric = np.zeros_like(recurrent_kernel)
    for index in np.ndindex(*recurrent_kernel.shape):
        shift = np.zeros_like(recurrent_kernel)
        shift[index] = 1e-6
        numeric[index] = (loss(recurrent_kernel + shift) - loss(recurrent_kernel - shift)) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_the_gradient_explodes_with_length_at_gain_3_and_fades_at_gain_1():
    norms = memory.exploding_gradients(gains=(1.0, 3.0), lengths=(5, 20, 40))
    assert norms[3.0][0] < norms[3.0][1] < norms[3.0][2] and norms[3.0][2] > 100 * norms[3.0][0]
    assert norms[1.0][2] < norms[1.0][0]


def test_clipnorm_bounds_every_step_while_the_unclipped_run_spikes():
    clipped = memory.train_with_clipping(memory.CLIPNORM)
    unclipped = memory.train_with_clipping(None)
    # With plain SGD each weight tensor moves by at most learning_rate * clipnorm.
    assert max(clipped["step_norm"]) <= memory.CLIPNORM * (1 + 1e-4)
    assert max(unclipped["step_norm"]) > 10 * memory.CLIPNORM
    assert np.isfinite(clipped["loss"]).all() and max(clipped["loss"]) <= clipped["loss"][0] * 2
    assert max(unclipped["loss"]) > 10 * max(clipped["loss"])
