"""Paired significance tests (`rnn_apps.harness.significance`) and the results files' blocks (`bench.harness`)."""

import itertools
import json
import pathlib

import numpy as np
import pytest
from scipy import stats

from bench import harness
from rnn_apps import errors
from rnn_apps.harness import significance

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "bench" / "results"


def _enumerated_signed_rank_p(differences) -> float:
    """Two-sided p of the signed-rank sum by listing every sign flip (no ties, no zeros)."""
    ranks = stats.rankdata(np.abs(differences))
    observed = ranks[np.asarray(differences) > 0].sum()
    centre = ranks.sum() / 2
    sums = [
        sum(rank for rank, sign in zip(ranks, signs) if sign) for signs in itertools.product((0, 1), repeat=len(ranks))
    ]
    extreme = sum(abs(value - centre) >= abs(observed - centre) - 1e-12 for value in sums)
    return extreme / len(sums)


def test_signed_rank_p_matches_a_full_enumeration():
    rng = np.random.default_rng(3)
    for runs in (3, 5, 8, 10):
        differences = rng.normal(0.01, 0.02, size=runs)
        assert significance.signed_rank_p(differences) == pytest.approx(_enumerated_signed_rank_p(differences))


@pytest.mark.parametrize("runs", [3, 4, 5, 6, 10])
def test_smallest_p_is_reached_when_every_run_agrees(runs):
    differences = np.linspace(0.01, 0.05, runs)
    assert significance.signed_rank_p(differences) == pytest.approx(significance.smallest_p(runs))
    assert significance.signed_rank_p(-differences) == pytest.approx(significance.smallest_p(runs))


def test_three_seeds_can_never_be_significant():
    # 2 / 2**3: the reason a 3-seed comparison always reads "no measurable difference".
    assert significance.smallest_p(3) == 0.25
    assert min(significance.smallest_p(runs) for runs in range(1, 6)) > 0.05
    assert significance.smallest_p(6) < 0.05


def test_ties_and_zeros_keep_an_exact_p_value():
    # Ties switch SciPy to enumerating all 2**n sign flips; zeros are dropped.
    p = significance.signed_rank_p([0.01, 0.01, 0.01, 0.02, 0.0])
    assert p == pytest.approx(significance.smallest_p(4))
    assert significance.signed_rank_p([0.0, 0.0, 0.0]) == 1.0


def test_bootstrap_interval_is_seeded_and_covers_the_mean():
    differences = [0.012, -0.004, 0.02, 0.008, 0.015, 0.001, 0.03, -0.01, 0.009, 0.011]
    first = significance.bootstrap_interval(differences, seed=7)
    assert first == significance.bootstrap_interval(differences, seed=7)
    low, high = first
    assert min(differences) <= low < np.mean(differences) < high <= max(differences)
    # Twice the spread around the same mean: a wider interval.
    wider = significance.bootstrap_interval(2 * np.asarray(differences) - np.mean(differences), seed=7)
    assert wider[1] - wider[0] > high - low


def test_paired_values_pairs_by_run_label():
    labels, first, second = significance.paired_values(
        {"fold 1": 0.7, "fold 0": 0.6, "fold 2": 0.9}, {"fold 0": 0.5, "fold 1": 0.65}
    )
    assert labels == ["fold 1", "fold 0"]
    assert first.tolist() == [0.7, 0.6] and second.tolist() == [0.65, 0.5]
    with pytest.raises(errors.InputError, match="common run"):
        significance.paired_values({"seed 1": 0.5}, {"seed 2": 0.5})


def test_paired_comparison_names_the_better_model_by_the_metric_direction():
    runs = [f"seed {seed}" for seed in range(8)]
    forecaster = dict(zip(runs, [0.020, 0.021, 0.019, 0.022, 0.020, 0.023, 0.018, 0.021]))
    persistence = dict(zip(runs, [0.021, 0.023, 0.020, 0.025, 0.022, 0.024, 0.0205, 0.0225]))
    out = significance.paired_comparison(forecaster, persistence, ("gru", "persistence"), "rse", False)
    assert out["mean_difference"] < 0
    assert out["ci95"][0] <= out["mean_difference"] <= out["ci95"][1] < 0
    assert out["better_runs"] == [8, 0]
    assert out["p"] == pytest.approx(significance.smallest_p(8), abs=1e-6)
    assert out["verdict"] == significance.SIGNIFICANT and out["better"] == "gru"
    # Four of the runs point the same way, but four runs cannot reach p < 0.05.
    four = significance.paired_comparison(
        dict(list(forecaster.items())[:4]), persistence, ("gru", "persistence"), "rse", False
    )
    assert four["verdict"] == significance.NO_DIFFERENCE and four["better"] is None


def _result(recipe, metric, values):
    runs = ["seed 1", "seed 2", "seed 3", "seed 4", "seed 5", "seed 6"]
    return {
        "recipe": recipe,
        "metrics": [metric],
        "runs": runs,
        "models": {
            name: {
                "params": 0 if name in ("persistence", "drift") else 100,
                "metrics": {metric: {"mean": float(np.mean(row)), "values": dict(zip(runs, row))}},
            }
            for name, row in values.items()
        },
    }


def test_benchmark_block_compares_the_best_recurrent_model_with_the_cnn():
    result = _result(
        "sentiment",
        "accuracy",
        {
            "lstm": [0.80, 0.81, 0.79, 0.82, 0.80, 0.81],
            "gru": [0.81, 0.82, 0.80, 0.83, 0.81, 0.83],
            "cnn": [0.78, 0.80, 0.77, 0.80, 0.79, 0.78],
            "majority": [0.5] * 6,
        },
    )
    result["models"]["majority"]["params"] = 0
    block = harness.significance(result)
    assert [c["models"] for c in block["comparisons"]] == [["gru", "cnn"]]
    assert block["comparisons"][0]["p"] == pytest.approx(significance.smallest_p(6))
    assert block["comparisons"][0]["verdict"] == significance.SIGNIFICANT


def test_stocks_block_adds_the_best_naive_baseline_with_lower_is_better():
    result = _result(
        "stocks",
        "rse",
        {
            "lstm": [0.0172, 0.0173, 0.0171, 0.0172, 0.0174, 0.0172],
            "cnn": [0.0171, 0.0172, 0.0171, 0.0171, 0.0172, 0.0171],
            "persistence": [0.0170] * 6,
            "drift": [0.0175] * 6,
        },
    )
    comparisons = harness.significance(result)["comparisons"]
    assert [c["models"] for c in comparisons] == [["lstm", "cnn"], ["cnn", "persistence"]]
    assert comparisons[1]["better"] == "persistence" and not comparisons[1]["higher_is_better"]


def test_markdown_shows_the_block_once_under_the_table():
    result = _result("sentiment", "accuracy", {"gru": [0.8] * 6, "cnn": [0.7] * 6})
    result.update(key="k", recipe="sentiment", data="d", machine=harness.machine(), command="python -m bench")
    for entry in result["models"].values():
        entry.update(train_seconds_per_epoch=None, predict_ms_per_sample={"mean": 0.1}, fast_kernel=None)
        for summary in entry["metrics"].values():
            summary["std"] = 0.0
    result["signatures"] = {"bleu": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"}
    text = harness.markdown(result, tables="| extra |\n|---|")
    assert "- bleu: `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`" in text
    lines = text.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith(harness.SIGNIFICANCE_HEADING))
    assert lines[heading - 1] == "" and lines[heading - 2].startswith("| cnn")
    assert "gru − cnn" in lines[heading + 2] and "significant at 0.05, gru better" in lines[heading + 2]
    assert harness.with_significance(text, harness.significance(result)) == text


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda path: path.stem)
def test_stored_results_carry_their_current_significance(path):
    result = json.loads(path.read_text())
    if "runs" not in result or "models" not in result:
        pytest.skip("not a per-run benchmark")
    # A benchmark of one trained family (speech-fsdd-loso-crnn) pairs with its companion's CNN.
    assert result.get("significance") == harness.significance(result, cnn=harness.companion_cnn(result, RESULTS))
    page = path.with_suffix(".md").read_text()
    for comparison in (result.get("significance") or {}).get("comparisons", []):
        assert significance.sentence(comparison) in page
    tuned = result.get("tuned")
    if tuned:  # the tuned rows' own test, from their per-run values
        companion = harness.companion_cnn(result, RESULTS, tuned=True)
        assert tuned.get("significance") == harness.significance({**result, "models": tuned["models"]}, cnn=companion)
        for comparison in (tuned.get("significance") or {}).get("comparisons", []):
            assert significance.sentence(comparison) in page


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda path: path.stem)
def test_stored_pages_show_every_runs_value_of_the_primary_metric(path):
    result = json.loads(path.read_text())
    if "runs" not in result or "models" not in result:
        pytest.skip("not a per-run benchmark")
    page = path.with_suffix(".md").read_text()
    metric = result["metrics"][0]
    for block in (result, result.get("tuned")):
        if not block:
            continue
        for name, entry in block["models"].items():
            values = entry["metrics"][metric]["values"]
            row = "| " + " | ".join([name, *(harness._run_value(values[run]) for run in result["runs"])]) + " |"
            assert row in page, f"{path.stem}: no per-run row for {name}"
    # A refresh leaves a current page as it is.
    assert harness.with_per_run(page, result) == page


def test_markdown_puts_the_per_run_table_under_the_paired_test():
    result = _result("sentiment", "accuracy", {"gru": [0.8, 0.9, 0.85] * 2, "cnn": [0.7, 0.75, 0.72] * 2})
    result.update(key="k", recipe="sentiment", data="d", machine=harness.machine(), command="python -m bench")
    for entry in result["models"].values():
        entry.update(train_seconds_per_epoch=None, predict_ms_per_sample={"mean": 0.1}, fast_kernel=None)
        for summary in entry["metrics"].values():
            summary["std"] = 0.0
    lines = harness.markdown(result).splitlines()
    heading = lines.index("Per run (accuracy):")
    assert lines[heading - 2].startswith("- best recurrent against CNN")
    assert lines[heading + 2] == "| model | seed 1 | seed 2 | seed 3 | seed 4 | seed 5 | seed 6 |"
    assert lines[heading + 4] == "| gru | 0.8000 | 0.9000 | 0.8500 | 0.8000 | 0.9000 | 0.8500 |"
    assert lines[heading + 5] == "| cnn | 0.7000 | 0.7500 | 0.7200 | 0.7000 | 0.7500 | 0.7200 |"
