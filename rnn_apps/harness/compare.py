"""The side-by-side comparison: per-model results, ``metrics.json`` and ``comparison.md``.

Every recipe collects one `ModelResult` per model (recurrent, CNN and naive
baselines alike) and hands them to `write_report`, which writes the two
files of the run-folder contract:

- ``metrics.json``: ``{"recipe", "dataset", "task", "primary_metric",
  "models": {NAME: {"metrics", "params", "train_seconds",
  "predict_ms_per_sample", "fast_kernel", ...}}, ...}``;
- ``comparison.md``: the same numbers as a Markdown table, best model first
  by the primary metric, with the command that produced them.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import platform
import sys

from rnn_apps import io

LOWER_IS_BETTER = ("loss", "mae", "mse", "rmse", "rse", "wer", "cer", "mape", "pinball", "mase")
RECURRENT = ("simple_rnn", "lstm", "gru", "convlstm", "crnn")
"""Model names that carry a hidden state over time, convolutional-recurrent hybrids included: the
"best recurrent" side when a benchmark compares recurrent models with the CNN."""
DECODINGS = ("beam", "greedy")
"""Suffixes naming how a metric's output was decoded (``wer_beam``); they do not change its direction."""


@dataclasses.dataclass
class ModelResult:
    """The measured outcome of one model on a recipe's test data.

    Attributes:
        name: model name as used on the command line (``lstm``, ``cnn``,
            ``majority``, ...).
        metrics: test-set metrics, name -> value.
        params: number of parameters (0 for naive baselines).
        train_seconds: wall-clock training time.
        predict_ms_per_sample: median inference time per sample, after a
            warm-up, on raw inputs.
        fast_kernel: cuDNN eligibility of the configuration; `None` when
            the model has no recurrent layer.
        fast_kernel_reasons: why not, when ``fast_kernel`` is `False`.
        epochs: epochs run (`None` for models that are not trained).
        best_epoch: epoch whose weights were kept.
        model_path: saved ``.keras`` file, relative to the run folder.
        interrupted: training was stopped by Ctrl-C; the entry describes
            the best epoch completed before the stop.
        tuning: the ``--tune`` search that chose its settings
            (`rnn_apps.harness.tuning.search`); left out of the report
            when there was none.
    """

    name: str
    metrics: dict[str, float]
    params: int
    train_seconds: float
    predict_ms_per_sample: float
    fast_kernel: bool | None
    fast_kernel_reasons: list[str] = dataclasses.field(default_factory=list)
    epochs: int | None = None
    best_epoch: int | None = None
    model_path: str | None = None
    interrupted: bool = False
    tuning: dict | None = None

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("name")
        if data["tuning"] is None:
            data.pop("tuning")
        return data


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better.

    Examples:
        >>> higher_is_better("accuracy"), higher_is_better("val_loss"), higher_is_better("rmse")
        (True, False, False)
        >>> higher_is_better("wer_beam"), higher_is_better("val_cer")  # an error rate, however decoded
        (False, False)
    """
    words = metric.split("_")
    if words[-1] in DECODINGS:
        words = words[:-1]
    metric = "_".join(words)
    return not any(metric == word or metric.endswith("_" + word) for word in LOWER_IS_BETTER)


def versions() -> dict[str, str]:
    """Versions of Python and the main libraries, for reproducibility."""
    import keras

    found = {"python": platform.python_version(), "keras": keras.__version__, "backend": keras.config.backend()}
    for module in ("tensorflow", "numpy", "sklearn"):
        imported = sys.modules.get(module)
        if imported is not None:
            found[module] = getattr(imported, "__version__", "unknown")
    return found


def build_report(
    recipe: str,
    dataset: str,
    task: str,
    primary_metric: str,
    results: list[ModelResult],
    **extra,
) -> dict:
    """Assemble the ``metrics.json`` dictionary.

    Args:
        recipe: recipe name.
        dataset: data source description.
        task: the recipe's task (``binary``, ``multiclass``, ...).
        primary_metric: the metric that ranks models.
        results: one `ModelResult` per model, baselines included.
        **extra: more top-level fields (seed, command, sizes, config, ...).

    Returns:
        The report dictionary, with ``versions`` filled in.
    """
    return {
        "recipe": recipe,
        "dataset": dataset,
        "task": task,
        "primary_metric": primary_metric,
        "models": {result.name: result.to_dict() for result in results},
        "interrupted": any(result.interrupted for result in results),
        **extra,
        "versions": versions(),
    }


def ranked(report: dict) -> list[str]:
    """Model names, best first by the report's primary metric."""
    metric = report["primary_metric"]
    sign = 1 if higher_is_better(metric) else -1
    return sorted(report["models"], key=lambda name: -sign * report["models"][name]["metrics"][metric])


def _format(value, decimals: int = 4) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "n/a"}[value]
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{decimals}f}"
    return str(value)


def markdown_table(report: dict) -> str:
    """The comparison as a Markdown table, best model first.

    Examples:
        >>> r = {"primary_metric": "accuracy", "models": {
        ...     "cnn": {"metrics": {"accuracy": 0.8}, "params": 10, "train_seconds": 1.5,
        ...             "predict_ms_per_sample": 0.25, "fast_kernel": None},
        ...     "lstm": {"metrics": {"accuracy": 0.9}, "params": 20, "train_seconds": 3.0,
        ...              "predict_ms_per_sample": 0.5, "fast_kernel": True}}}
        >>> print(markdown_table(r))
        | model | accuracy | params | train s | ms/sample | fast kernel |
        |---|---|---|---|---|---|
        | lstm | 0.9000 | 20 | 3.0 | 0.500 | yes |
        | cnn | 0.8000 | 10 | 1.5 | 0.250 | n/a |
    """
    primary = report["primary_metric"]
    names = ranked(report)
    metric_names = [primary]
    for name in names:
        for metric in report["models"][name]["metrics"]:
            if metric not in metric_names:
                metric_names.append(metric)
    header = ["model", *metric_names, "params", "train s", "ms/sample", "fast kernel"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in names:
        entry = report["models"][name]
        cells = [name]
        cells += [_format(entry["metrics"].get(metric)) for metric in metric_names]
        cells += [
            _format(entry["params"]),
            _format(float(entry["train_seconds"]), 1),
            _format(float(entry["predict_ms_per_sample"]), 3),
            _format(entry["fast_kernel"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_markdown(report: dict) -> str:
    """The full ``comparison.md`` text: heading, table, notes, command."""
    sizes = report.get("sizes")
    lines = [
        f"# {report['recipe']}: {report['task']} on {report['dataset']}",
        "",
        f"Test-set results, best first by **{report['primary_metric']}**.",
        "",
        markdown_table(report),
        "",
    ]
    if sizes:
        lines.append("Rows: " + ", ".join(f"{part} {count:,}" for part, count in sizes.items()) + ".")
    lines.append(
        "`train s` is wall-clock training time, `ms/sample` the median inference time per sample "
        "on raw inputs after a warm-up; `fast kernel` says whether a recurrent configuration can "
        "use the fused cuDNN kernel on a GPU (n/a: no recurrent layer)."
    )
    reasons = {
        name: entry.get("fast_kernel_reasons")
        for name, entry in report["models"].items()
        if entry.get("fast_kernel_reasons")
    }
    for name, why in reasons.items():
        lines.append(f"- {name}: not eligible: {'; '.join(why)}")
    for name, entry in report["models"].items():
        if entry.get("tuning"):
            lines.append(f"- {name}: {tuning_note(entry['tuning'])}")
    if report.get("command"):
        lines += ["", "Command:", "", f"    {report['command']}"]
    return "\n".join(lines) + "\n"


def tuning_note(record: dict) -> str:
    """How ``--tune`` chose a model's settings, in one line of ``comparison.md``.

    Examples:
        >>> tuning_note({"trials": 4, "epochs_per_trial": 3, "selected_on": "validation val_loss (min)",
        ...              "chosen": {"units": 128, "layers": 2}})
        'settings chosen by --tune, 4 trials of at most 3 epochs on validation val_loss (min): units=128, layers=2'
    """
    if "settings_from" in record:
        chosen = ", ".join(f"{field}={value}" for field, value in record["chosen"].items())
        return f"settings from --tuned-from {record['settings_from']}: {chosen}"
    folds = record.get("folds")
    first = folds[0] if folds else record
    budget = f"{first['trials']} trials of at most {first['epochs_per_trial']} epochs on {first['selected_on']}"
    if folds:
        return f"settings chosen by --tune inside each of {len(folds)} folds, {budget}"
    chosen = ", ".join(f"{field}={value}" for field, value in record["chosen"].items())
    return f"settings chosen by --tune, {budget}: {chosen}"


def write_report(output_dir: str | os.PathLike, report: dict) -> pathlib.Path:
    """Write ``metrics.json`` and ``comparison.md`` into ``output_dir`` atomically.

    Returns:
        The path of ``comparison.md``.
    """
    output_dir = pathlib.Path(output_dir)
    io.write_json(output_dir / "metrics.json", report)
    return io.write_text(output_dir / "comparison.md", comparison_markdown(report))


def summary_line(result: ModelResult, primary_metric: str) -> str:
    """One line per model after training, for the console."""
    value = result.metrics.get(primary_metric)
    shown = f"{value:.4f}" if isinstance(value, float) else str(value)
    kernel = _format(result.fast_kernel)
    return (
        f"{result.name:>12}: {primary_metric} {shown} | params {result.params:,} | "
        f"train {result.train_seconds:.1f} s | {result.predict_ms_per_sample:.3f} ms/sample | "
        f"fast kernel {kernel}"
    )


def trained_result(
    name: str,
    core_model,
    fitted,
    test_metrics: dict[str, float],
    predict_batch,
    timing_inputs,
    output_dir: str | os.PathLike,
    model_path: str | os.PathLike | None = None,
    mask_padding: str = "right",
) -> ModelResult:
    """A `ModelResult` for a trained Keras model.

    Args:
        name: model name.
        core_model: the trained model (its parameters are counted and its
            recurrent layers checked for fused-kernel eligibility).
        fitted: the `rnn_apps.harness.training.FitResult` of its training.
        test_metrics: metrics already computed on the test set.
        predict_batch: callable taking one batch of raw inputs (what a
            user of the saved model passes), used for timing.
        timing_inputs: raw inputs to time on (a few hundred are plenty).
        output_dir: the run folder (``model_path`` is stored relative to it).
        model_path: the saved ``.keras`` file, if any.
        mask_padding: how inputs are padded, for the eligibility check.

    Returns:
        The `ModelResult`.
    """
    from rnn_apps.harness import training
    from rnn_apps.layers import recurrent

    kernel = recurrent.kernel_report(core_model, mask_padding=mask_padding)
    relative = None
    if model_path is not None:
        relative = os.path.relpath(model_path, output_dir)
    return ModelResult(
        name=name,
        metrics=test_metrics,
        params=int(core_model.count_params()),
        train_seconds=round(fitted.train_seconds, 3),
        predict_ms_per_sample=round(training.time_predict(predict_batch, timing_inputs), 4),
        fast_kernel=kernel.eligible,
        fast_kernel_reasons=list(kernel.reasons),
        epochs=fitted.epochs_run,
        best_epoch=fitted.best_epoch,
        model_path=relative,
        interrupted=bool(getattr(fitted, "interrupted", False)),
    )


def publish(output_dir: str | os.PathLike, report: dict, histories: dict | None = None, metric: str = "accuracy"):
    """Write the learning curves, ``metrics.json`` and ``comparison.md``; print the table.

    Args:
        output_dir: the run folder.
        report: from `build_report`.
        histories: model name -> ``History.history`` for the learning-curve
            PNG (skipped when empty).
        metric: the Keras metric drawn beside the loss.

    Returns:
        The path of ``comparison.md``.
    """
    from rnn_apps.harness import plots

    output_dir = pathlib.Path(output_dir)
    if histories:
        plots.learning_curves(histories, output_dir / "learning_curves.png", metric=metric)
    path = write_report(output_dir, report)
    print(path.read_text())
    return path


def save_partial(output_dir: str | os.PathLike, name: str, payload: dict) -> pathlib.Path:
    """Record that model ``name`` finished, with what the report needs from it.

    A resumed run (``--resume``) reads these back with `load_partial` instead
    of training the model again.
    """
    return io.write_json(pathlib.Path(output_dir) / "partial" / f"{name}.json", payload)


def clear_partial(output_dir: str | os.PathLike) -> None:
    """Forget finished models of an earlier run (a fresh run calls this first)."""
    import shutil

    shutil.rmtree(pathlib.Path(output_dir) / "partial", ignore_errors=True)


def load_partial(output_dir: str | os.PathLike, name: str) -> dict | None:
    """What `save_partial` stored for ``name``, or `None` if it did not finish."""
    import json

    path = pathlib.Path(output_dir) / "partial" / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


@dataclasses.dataclass
class Trained:
    """One trained model as a recipe's report needs it.

    Attributes:
        result: its `ModelResult`.
        history: per-epoch metrics for the learning curves.
        extras: anything else the report draws on (confusion matrix,
            predictions, ...), JSON-friendly: NumPy arrays are stored as
            lists, so read them back with ``np.asarray``.
    """

    result: ModelResult
    history: dict
    extras: dict = dataclasses.field(default_factory=dict)


def _plain(value):
    """``value`` with NumPy arrays and scalars turned into lists and numbers."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def train_each(
    names, train_one, output_dir: str | os.PathLike, resume: bool = False, metric: str | None = None
) -> list[Trained]:
    """Train models one after another; resumable, and stoppable with Ctrl-C.

    Each model that finishes is recorded under ``partial/`` (`save_partial`).
    With ``resume`` a recorded model is read back instead of trained again,
    and the model that was interrupted continues from its last completed
    epoch (see `rnn_apps.harness.training.fit`). Without ``resume`` earlier records
    are discarded first.

    Ctrl-C stops the loop: a model interrupted after a completed epoch is
    kept (its result says ``interrupted``) and the models after it are
    skipped, so the recipe can still write ``metrics.json`` for what
    finished.

    Args:
        names: model names, in training order.
        train_one: ``name -> Trained``.
        output_dir: the run folder.
        resume: reuse what an interrupted run finished.
        metric: print each model's `summary_line` with this metric as it
            finishes.

    Returns:
        The `Trained` models, in order; fewer than ``names`` after Ctrl-C.

    Examples:
        >>> import tempfile
        >>> def train_one(name):
        ...     return Trained(ModelResult(name, {"accuracy": 0.5}, 10, 1.0, 0.1, None), {"loss": [1.0]})
        >>> folder = tempfile.mkdtemp()
        >>> [t.result.name for t in train_each(["a", "b"], train_one, folder)]
        ['a', 'b']
        >>> def fail(name):
        ...     raise AssertionError("not trained again")
        >>> [t.history for t in train_each(["a", "b"], fail, folder, resume=True)]
        a: finished in the interrupted run, not trained again
        b: finished in the interrupted run, not trained again
        [{'loss': [1.0]}, {'loss': [1.0]}]
    """
    from rnn_apps.harness import runs

    runs.begin(output_dir)
    if not resume:
        clear_partial(output_dir)
    finished = []
    for name in names:
        stored = load_partial(output_dir, name) if resume else None
        if stored:
            result = ModelResult(name=name, **stored["result"])
            finished.append(Trained(result, stored["history"], stored.get("extras", {})))
            print(f"{name}: finished in the interrupted run, not trained again")
            if metric:
                print(summary_line(result, metric))
            continue
        try:
            trained = train_one(name)
        except KeyboardInterrupt:
            print(f"\ninterrupted before {name} finished an epoch; it and later models are skipped", file=sys.stderr)
            break
        finished.append(trained)
        if metric:
            print(summary_line(trained.result, metric))
        if trained.result.interrupted:
            break
        save_partial(
            output_dir,
            name,
            {"result": trained.result.to_dict(), "history": trained.history, "extras": _plain(trained.extras)},
        )
    return finished
