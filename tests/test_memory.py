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
