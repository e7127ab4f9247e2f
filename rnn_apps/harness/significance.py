"""Paired significance tests for two models scored on the same folds or seeds.

Two models trained and tested on the same fold (or with the same seed and
split) give one pair of scores per run; the question a results table must
answer is whether the per-run differences are consistently on one side of
zero. `paired_comparison` answers it with the mean paired difference, a
seeded paired-bootstrap confidence interval of that mean (resampling runs),
and the two-sided Wilcoxon signed-rank p-value from SciPy: exact when the
differences have no ties or zeros, else an exact enumeration of the 2**n
sign flips.

A signed-rank or sign test over ``n`` runs cannot give a p-value below
``2 / 2**n`` (`smallest_p`): with 3 seeds that is 0.25, so no 3-seed
comparison can be significant at 0.05 however large the gap; 6 runs are the
fewest that can be.
"""

from __future__ import annotations

import math

import numpy as np

from rnn_apps import errors

TEST_NAME = "Wilcoxon signed-rank, two-sided, exact"
SIGNIFICANT = "significant at 0.05"
NO_DIFFERENCE = "no measurable difference"


def paired_values(first: dict, second: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The runs two models share, and each model's value on them.

    Args:
        first: run label -> value for one model (``{"fold 0": 0.75, ...}``).
        second: the same for the other model.

    Returns:
        ``(labels, first_values, second_values)`` over the labels both hold,
            in ``first``'s order.

    Raises:
        InputError: when the models share no run.

    Examples:
        >>> labels, a, b = paired_values({"seed 1": 0.5, "seed 2": 0.7}, {"seed 2": 0.6, "seed 1": 0.4})
        >>> labels, a.tolist(), b.tolist()
        (['seed 1', 'seed 2'], [0.5, 0.7], [0.4, 0.6])
    """
    labels = [label for label in first if label in second]
    if not labels:
        raise errors.expected("two models scored on at least one common run", f"{list(first)} and {list(second)}")
    return (
        labels,
        np.asarray([float(first[label]) for label in labels]),
        np.asarray([float(second[label]) for label in labels]),
    )


def bootstrap_interval(
    differences, resamples: int = 10000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile paired-bootstrap interval of the mean difference, resampling runs with replacement.

    Args:
        differences: one paired difference per run.
        resamples: bootstrap resamples.
        confidence: coverage of the interval.
        seed: seed of the resampling, so the interval is reproducible.

    Returns:
        ``(low, high)``. With one run, or identical differences, both ends
            are that difference: resampling cannot show any spread.

    Examples:
        >>> bootstrap_interval([0.02, 0.02, 0.02])
        (0.02, 0.02)
        >>> low, high = bootstrap_interval([0.01, 0.03, 0.02, 0.04, 0.00])
        >>> 0.0 <= low < 0.02 < high <= 0.04
        True
    """
    from scipy import stats

    differences = np.asarray(differences, dtype=float)
    if differences.size < 2 or np.all(differences == differences[0]):
        value = float(differences[0])
        return value, value
    result = stats.bootstrap(
        (differences,),
        np.mean,
        n_resamples=resamples,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def signed_rank_p(differences) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (SciPy's exact or enumerated null).

    Zero differences are dropped (Wilcoxon's rule); when all are zero the
    models are indistinguishable and the p-value is 1.

    Examples:
        >>> signed_rank_p([0.01, 0.02, 0.03])
        0.25
        >>> signed_rank_p([0.0, 0.0])
        1.0
    """
    from scipy import stats

    differences = np.asarray(differences, dtype=float)
    if not np.any(differences):
        return 1.0
    return float(stats.wilcoxon(differences, alternative="two-sided").pvalue)


def smallest_p(runs: int) -> float:
    """The smallest two-sided p-value a signed-rank or sign test can reach with ``runs`` paired runs.

    Examples:
        >>> smallest_p(3), smallest_p(5), smallest_p(10)
        (0.25, 0.0625, 0.001953125)
    """
    return 2.0 / 2**runs if runs > 0 else 1.0


def paired_comparison(
    first: dict,
    second: dict,
    names: tuple[str, str] = ("first", "second"),
    metric: str = "",
    higher_is_better: bool = True,
    resamples: int = 10000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict:
    """Compare two models run by run: mean difference, bootstrap interval, signed-rank p-value, verdict.

    Args:
        first: run label -> metric value of the first model.
        second: run label -> metric value of the second model.
        names: the two models' names, stored with the result.
        metric: the metric compared, stored with the result.
        higher_is_better: the metric's direction; it names the better model.
        resamples: bootstrap resamples.
        seed: bootstrap seed.
        alpha: significance level of the verdict.

    Returns:
        ``{"models", "metric", "higher_is_better", "runs", "better_runs"
            (how many runs each model won), "mean_difference" (first - second),
            "ci95", "interval", "test", "p", "smallest_p", "verdict",
            "better"}``; ``better`` names the model with the better mean when the
            verdict is significant, else `None`.

    Examples:
        >>> lstm = {"fold 0": 0.81, "fold 1": 0.84, "fold 2": 0.79, "fold 3": 0.86, "fold 4": 0.80, "fold 5": 0.83}
        >>> cnn = {"fold 0": 0.78, "fold 1": 0.80, "fold 2": 0.78, "fold 3": 0.81, "fold 4": 0.78, "fold 5": 0.77}
        >>> out = paired_comparison(lstm, cnn, ("lstm", "cnn"), "accuracy")
        >>> out["mean_difference"], out["p"], out["verdict"], out["better"]
        (0.035, 0.03125, 'significant at 0.05', 'lstm')
        >>> paired_comparison(dict(list(lstm.items())[:3]), cnn, ("lstm", "cnn"))["verdict"]
        'no measurable difference'
    """
    labels, first_values, second_values = paired_values(first, second)
    differences = first_values - second_values
    mean = float(np.mean(differences))
    low, high = bootstrap_interval(differences, resamples=resamples, seed=seed)
    p = signed_rank_p(differences)
    direction = 1 if higher_is_better else -1
    significant = p < alpha
    if significant:
        better = names[0] if (mean > 0) == higher_is_better else names[1]
    else:
        better = None
    return {
        "models": list(names),
        "metric": metric,
        "higher_is_better": higher_is_better,
        "runs": len(labels),
        "better_runs": [int(np.sum(differences * direction > 0)), int(np.sum(differences * direction < 0))],
        "mean_difference": round(mean, 6),
        "ci95": [round(low, 6), round(high, 6)],
        "interval": f"paired bootstrap over runs, {resamples} resamples, seed {seed}, percentile",
        "test": TEST_NAME,
        "p": round(p, 6),
        "smallest_p": round(smallest_p(int(np.count_nonzero(differences))), 6),
        "verdict": SIGNIFICANT if significant else NO_DIFFERENCE,
        "better": better,
    }


def difference_text(comparison: dict, digits: int | None = None) -> str:
    """The mean paired difference and its 95% interval, signed, as a table cell.

    Args:
        comparison: a `paired_comparison` result.
        digits: decimals; by default four, or enough for two significant
            digits of smaller differences.

    Examples:
        >>> difference_text({"mean_difference": 0.0135, "ci95": [0.0052, 0.0214]})
        '+0.0135 (95% CI +0.0052 to +0.0214)'
        >>> difference_text({"mean_difference": 0.000015, "ci95": [0.000008, 0.000021]})
        '+0.000015 (95% CI +0.000008 to +0.000021)'
    """
    low, high = comparison["ci95"]
    if digits is None:
        largest = max(abs(comparison["mean_difference"]), abs(low), abs(high))
        digits = max(4, 1 - math.floor(math.log10(largest))) if largest else 4
    return f"{comparison['mean_difference']:+.{digits}f} (95% CI {low:+.{digits}f} to {high:+.{digits}f})"


def p_text(comparison: dict) -> str:
    """The p-value, with the smallest one the runs allow when that is not below 0.05.

    Examples:
        >>> p_text({"p": 0.25, "smallest_p": 0.25}), p_text({"p": 0.027344, "smallest_p": 0.001953})
        ('p = 0.25 (the smallest p these runs allow is 0.25)', 'p = 0.0273')
    """
    floor = ""
    if comparison["smallest_p"] >= 0.05:
        floor = f" (the smallest p these runs allow is {comparison['smallest_p']:.3g})"
    return f"p = {comparison['p']:.3g}{floor}"


def sentence(comparison: dict) -> str:
    """One line for a results table: the difference, its interval, the runs each model won, p and the verdict.

    Examples:
        >>> line = sentence({"models": ["gru", "cnn"], "metric": "accuracy", "higher_is_better": True, "runs": 3,
        ...     "mean_difference": -0.0213, "ci95": [-0.03, -0.01], "better_runs": [0, 3], "p": 0.25,
        ...     "smallest_p": 0.25, "verdict": "no measurable difference", "better": None})
        >>> print(line.replace("; ", ";\\n"))
        gru − cnn, accuracy (higher is better), 3 paired runs: mean difference -0.0213 (95% CI -0.0300 to -0.0100);
        gru better in 0, cnn in 3;
        Wilcoxon p = 0.25 (the smallest p these runs allow is 0.25): no measurable difference.
    """
    first, second = comparison["models"]
    direction = "higher" if comparison["higher_is_better"] else "lower"
    wins = ""
    if "better_runs" in comparison:
        wins = f"; {first} better in {comparison['better_runs'][0]}, {second} in {comparison['better_runs'][1]}"
    verdict = comparison["verdict"]
    if comparison.get("better"):
        verdict += f", {comparison['better']} better"
    return (
        f"{first} − {second}, {comparison['metric']} ({direction} is better), {comparison['runs']} paired runs: "
        f"mean difference {difference_text(comparison)}{wins}; Wilcoxon {p_text(comparison)}: {verdict}."
    )
