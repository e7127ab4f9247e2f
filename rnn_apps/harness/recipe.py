"""The recipe contract, and the one run loop every recipe goes through.

A recipe is a `Recipe` subclass with a typed configuration (a
`rnn_apps.harness.config.RunConfig` subclass) and a few hooks:

- `Recipe.load_data`: the data chosen by ``--data``, split into training,
  validation and test parts (and whatever the models need from it, such as an
  adapted vectorizer);
- `Recipe.build_model`: the compiled Keras model for one ``--model`` name;
- `Recipe.datasets`: the training and validation data `keras.Model.fit` takes;
- `Recipe.export`: the model that takes raw input (strings, waveforms,
  frames, prices), saved as the run's ``models/NAME.keras``;
- `Recipe.evaluate`: test metrics of that saved model;
- `Recipe.baselines`: naive baselines on the same test data;
- `Recipe.predictor`: a saved model, loaded once, as a function from a batch
  of raw inputs to one dict per input (`Recipe.predict` calls it once);
- `Recipe.stream`: raw inputs -> one dict per step, from a saved recurrent
  model run one step at a time with its state carried
  (`rnn_apps.streaming`).

`run` does the rest, once for all recipes: seeding, `fit` with early
stopping, checkpoints, ``--resume`` and Ctrl-C (`rnn_apps.harness.training`),
timing, ``metrics.json``, ``comparison.md`` and the learning curves
(`rnn_apps.harness.compare`). A recipe with a loop of its own (several tasks
in one module) overrides `Recipe.run` and still reuses `train_model` and
`publish` for each part.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

from rnn_apps import errors, io
from rnn_apps.harness import compare, registry, training, tuning
from rnn_apps.harness import config as config_module


@dataclasses.dataclass
class Evaluation:
    """What `Recipe.evaluate` measured on the test part.

    Attributes:
        metrics: test metrics, name -> value.
        predict_batch: callable on one batch of raw inputs, used to time the
            saved model as a user would call it.
        timing_inputs: raw inputs to time on (a few hundred are plenty).
        extras: anything the recipe's plots need later (a confusion matrix,
            predictions), JSON-friendly once NumPy arrays become lists.
    """

    metrics: dict[str, Any]
    predict_batch: Callable
    timing_inputs: Sequence
    extras: dict = dataclasses.field(default_factory=dict)


class Recipe:
    """One application: its configuration, its data, its models.

    Class attributes:
        name: the recipe's name on the command line (``sentiment``).
        config_class: its `rnn_apps.harness.config.RunConfig` subclass.
        primary_metric: the test metric that ranks models.
        curve_metric: the Keras metric drawn beside the loss in
            ``learning_curves.png`` (`None`: loss only).
        mask_padding: where padding sits in the models' inputs (``"right"``,
            ``"left"`` or ``"none"``), for the fused-kernel report.
        naive_baseline: the baseline every trained model must beat on the
            bundled sample (``majority``, ``persistence``, ...).
        sample_defeats: models the bundled sample is built to defeat, each
            with the reason; the report names them in ``notes``.
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type] = config_module.RunConfig
    primary_metric: ClassVar[str] = "accuracy"
    curve_metric: ClassVar[str | None] = "accuracy"
    mask_padding: ClassVar[str] = "right"
    naive_baseline: ClassVar[str] = "majority"
    sample_defeats: ClassVar[dict[str, str]] = {}

    @property
    def summary(self) -> str:
        """The first line of the recipe module's docstring (its title)."""
        module = sys.modules.get(type(self).__module__)
        return registry.title(getattr(module, "__doc__", None) or type(self).__doc__, self.name)

    # Hooks a recipe implements -------------------------------------------------

    def load_data(self, config) -> Any:
        """Load and split the data chosen by ``config.data``."""
        raise NotImplementedError

    def describe(self, data) -> str:
        """One console line about the data (name, classes, sizes)."""
        return ""

    def dataset_name(self, data) -> str:
        """The data source as ``metrics.json`` names it."""
        return getattr(data, "name", "")

    def task(self, config) -> str:
        """The task as ``metrics.json`` names it."""
        return getattr(config, "task", self.name)

    def build_model(self, name: str, config, data):
        """The compiled Keras model that ``--model name`` trains."""
        raise NotImplementedError

    def datasets(self, name: str, config, data) -> tuple[Any, Any]:
        """Training and validation data for ``fit``."""
        raise NotImplementedError

    def monitor(self, name: str, config, data=None) -> str:
        """The validation quantity that early stopping, checkpoints and ``--tune`` follow.

        ``data`` (what `load_data` returned) lets a recipe choose by the data,
        as text analysis chooses entity F1 for entity tags.
        """
        return getattr(config, "monitor", "val_loss")

    def scores(self, name: str, config, data) -> list:
        """Callbacks that write task scores on the validation part into each epoch's logs.

        `rnn_apps.harness.selection.ValidationScore` callbacks: what they
        write (``val_entity_f1``, ``val_mcc``) is what `monitor` may follow
        when the task's metric is not a Keras metric. None by default.
        """
        return []

    def search_space(self, name: str, config, data=None) -> dict[str, tuple]:
        """Candidate values of the settings ``--tune`` searches for model ``name``: field -> values.

        Each value must include the configuration's own; the default is
        `rnn_apps.harness.tuning.default_space`, a recipe whose models read
        other settings overrides this. ``data`` (what `load_data` returned,
        None when the space is asked for without data) lets a recipe whose
        model shape depends on the input (speech: audio or feature series)
        search the settings that model reads.
        """
        return tuning.default_space(name, config)

    def export(self, name: str, model, config, data, path: pathlib.Path):
        """Save the model that takes raw input to ``path``.

        Returns:
            ``(model, path)``: the saved model and where it went (a backend
                without string tensors may save elsewhere).
        """
        io.save_model(model, path)
        return model, path

    def evaluate(self, name: str, model, config, data) -> Evaluation:
        """Test metrics of the saved model ``model``."""
        raise NotImplementedError

    def baselines(self, config, data) -> list[tuple[compare.ModelResult, dict]]:
        """Naive baselines on the same test data, each with its plot extras."""
        return []

    def report_fields(self, config, data) -> dict:
        """More top-level ``metrics.json`` fields (class names, sizes, ...)."""
        return {}

    def settings(self, config, data) -> dict:
        """The run's settings for ``metrics.json``'s ``config``; add derived values."""
        return config.settings()

    def plot(self, config, data, trained: list[compare.Trained]) -> None:
        """Task plots (confusion matrices, forecasts, ...) into ``config.output_dir``."""

    def predictor(self, model_path) -> Callable[[Sequence], list[dict]]:
        """Load a model this recipe saved, once; return raw inputs -> one dict per input.

        The returned function takes one batch of raw inputs (texts, paths,
        price windows) and answers as `Recipe.predict` does; a server calls
        it again and again without loading the model each time.

        Raises:
            rnn_apps.errors.InputError: the model cannot be loaded or is not
                one this recipe saved.
        """
        raise NotImplementedError

    def predict(self, model_path, inputs: Sequence[str]) -> list[dict]:
        """Raw inputs -> one dict per input, from a model this recipe saved (`Recipe.predictor` once)."""
        return self.predictor(model_path)(inputs)

    def stream(self, model_path, inputs: Iterable[str]) -> Iterator[dict]:
        """Raw inputs -> one dict per step, from a saved recurrent model run one step at a time.

        ``inputs`` may be read lazily (standard input, line by line), so a
        recipe yields each step's prediction as soon as the step has come in.
        """
        raise errors.InputError(
            f"Expected a recipe that can stream (run its model one step at a time). Received: {self.name!r}"
        )

    def examples(self) -> list[str]:
        """Raw inputs from the bundled sample, as ``rnn-apps predict`` takes them (texts, file paths)."""
        return []

    # What the harness does with them ------------------------------------------

    def parse(self, argv: Sequence[str] | None = None, prog: str | None = None):
        """The recipe's configuration from command-line flags."""
        return config_module.parse_config(
            self.config_class, argv, recipe=self.name, prog=prog, description=self.summary
        )

    def run(self, config) -> dict:
        """Train every chosen model and the baselines; write and return the report."""
        data = self.load_data(config)
        line = self.describe(data)
        if line:
            print(f"data: {line}")
        trained = compare.train_each(
            config.model,
            lambda name: train_model(self, name, config, data),
            config.output_dir,
            resume=config.resume,
            metric=self.primary_metric,
        )
        for result, extras in self.baselines(config, data):
            print(compare.summary_line(result, self.primary_metric))
            trained.append(compare.Trained(result, {}, extras))
        return publish(self, config, data, trained)


def build_and_fit(
    recipe: Recipe,
    name: str,
    config,
    data,
    *,
    epochs: int,
    output_dir,
    verbose,
    resume=False,
    min_updates=0,
    max_updates=0,
    announce=False,
):
    """Seed, build and fit one model of ``recipe`` with early stopping on `Recipe.monitor` (and `Recipe.scores`).

    The final training of `train_model` and each trial of a ``--tune``
    search go through here, so both see the same model and data. With
    ``min_updates`` (the final training's ``--min-updates``; a trial keeps
    its ``--tune-epochs``) a small training set gets more epochs and
    patience, and with ``max_updates`` a higher epoch ceiling for a run
    still improving (`rnn_apps.harness.training.update_budget`). With
    ``announce`` (the final training) a run whose last epoch was its best
    says so.

    Returns:
        ``(model, history)``: the fitted model and its `keras.callbacks.History`.
    """
    training.set_seed(config.seed)
    model = recipe.build_model(name, config, data)
    train, validation = recipe.datasets(name, config, data)
    batches = training.batches_per_epoch(train)
    given = epochs
    epochs, patience = training.update_budget(epochs, config.patience, batches, min_updates, max_updates)
    if epochs != given:
        extended = ""
        if max_updates > min_updates:
            extended = f", up to {max_updates} while validation improves (--max-updates)"
        print(
            f"{name}: {batches} training batches per epoch, so up to {epochs} epochs (patience {patience}) "
            f"for at least {min_updates} updates (--min-updates){extended}"
        )
    fitted = training.fit(
        model,
        train,
        validation,
        name=name,
        epochs=epochs,
        output_dir=output_dir,
        patience=patience,
        monitor=recipe.monitor(name, config, data),
        scores=recipe.scores(name, config, data),
        verbose=verbose,
        resume=resume,
    )
    if announce and not fitted.interrupted and fitted.best_epoch == epochs:
        more = "--max-updates" if epochs != given else "--epochs"
        print(f"{name}: validation was still improving at the last epoch ({epochs}); more {more} may help")
    return model, fitted


def train_model(recipe: Recipe, name: str, config, data) -> compare.Trained:
    """Build, fit, export and evaluate one model of ``recipe``.

    The model trains with early stopping on `Recipe.monitor` (best weights
    kept), a checkpoint and a CSV log; the exported raw-input model is what
    the test metrics and the timing are measured on. With ``--tune N`` a
    search on the validation part (`rnn_apps.harness.tuning.search`) first
    chooses the settings the model trains with; with ``--tuned-from`` the
    settings an earlier search chose are used (`rnn_apps.harness.tuning.reuse`).
    """
    searched = None
    if getattr(config, "tune", 0):
        config, searched = tuning.search(recipe, name, model_of(name), config, data)
    elif getattr(config, "tuned_from", None):
        config, searched = tuning.reuse(config, model_of(name))
    model, fitted = build_and_fit(
        recipe,
        name,
        config,
        data,
        epochs=config.epochs,
        output_dir=config.output_dir,
        verbose=config.verbose,
        resume=config.resume,
        min_updates=getattr(config, "min_updates", 0),
        max_updates=getattr(config, "max_updates", 0),
        announce=not getattr(config, "quick", False),
    )
    folder = pathlib.Path(config.output_dir) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    saved, path = recipe.export(name, model, config, data, folder / f"{name}.keras")
    evaluation = recipe.evaluate(name, saved, config, data)
    result = compare.trained_result(
        name,
        model,
        fitted,
        evaluation.metrics,
        predict_batch=evaluation.predict_batch,
        timing_inputs=evaluation.timing_inputs,
        output_dir=config.output_dir,
        model_path=path,
        mask_padding=recipe.mask_padding,
    )
    result.tuning = searched
    return compare.Trained(result, fitted.history, evaluation.extras)


def publish(recipe: Recipe, config, data, trained: list[compare.Trained], **fields) -> dict:
    """Write ``metrics.json``, ``comparison.md``, the learning curves and the task plots.

    Args:
        recipe: the recipe.
        config: the run's configuration.
        data: what `Recipe.load_data` returned.
        trained: trained models and baselines, in table order.
        **fields: top-level report fields that override the recipe's.

    Returns:
        The report (the content of ``metrics.json``).
    """
    defeated = {name: why for name, why in recipe.sample_defeats.items() if name in config.model}
    if config.data == "sample" and defeated:
        fields.setdefault(
            "notes", {f"{name}": f"built to lose on the bundled sample: {why}" for name, why in defeated.items()}
        )
    report = compare.build_report(
        recipe.name,
        fields.pop("dataset", None) or recipe.dataset_name(data),
        fields.pop("task", None) or recipe.task(config),
        fields.pop("primary_metric", None) or recipe.primary_metric,
        [item.result for item in trained],
        seed=config.seed,
        config=recipe.settings(config, data),
        command=config.command,
        **(recipe.report_fields(config, data) | fields),
    )
    recipe.plot(config, data, trained)
    histories = {item.result.name: item.history for item in trained if item.history}
    compare.publish(config.output_dir, report, histories, metric=recipe.curve_metric)
    return report


def model_of(job: str) -> str:
    """The model a `run_folds` job trains: ``gru_fold2`` -> ``gru``.

    Examples:
        >>> model_of("gru_fold2"), model_of("cnn")
        ('gru', 'cnn')
    """
    return job.split("_fold")[0]


def run_folds(recipe: Recipe, config, data, folds: int, with_fold, mean, report_key: str = "folds") -> dict:
    """`Recipe.run` over several folds: each model and baseline on every fold, reported as the mean.

    Model ``gru`` on fold 2 trains as job ``gru_fold2`` (so ``--resume`` and
    Ctrl-C work per fold) and is saved as ``models/gru.keras`` from its last
    fold; the report holds the mean of each metric, the summed training
    time, and every fold's metrics under ``folds`` when there is more than
    one. The hooks receive the job's name; `model_of` gives the model's.

    Args:
        recipe: the recipe.
        config: the run's configuration.
        data: what `Recipe.load_data` returned.
        folds: how many folds ``data`` holds.
        with_fold: ``(data, i) -> data`` whose hooks read fold ``i``.
        mean: list of metric dicts -> their mean (`rnn_apps.metrics.mean_metrics`).
        report_key: the report field that holds the per-fold metrics.

    Returns:
        The report (the content of ``metrics.json``).
    """
    jobs = {name + (f"_fold{i + 1}" if folds > 1 else ""): i for i in range(folds) for name in config.model}
    runs: dict[str, list[compare.Trained]] = {}
    for item in compare.train_each(
        list(jobs),
        lambda job: train_model(recipe, job, config, with_fold(data, jobs[job])),
        config.output_dir,
        resume=config.resume,
        metric=recipe.primary_metric,
    ):
        runs.setdefault(model_of(item.result.name), []).append(item)
    for fold in range(folds):
        for result, extras in recipe.baselines(config, with_fold(data, fold)):
            print(compare.summary_line(result, recipe.primary_metric))
            runs.setdefault(result.name, []).append(compare.Trained(result, {}, extras))
    # Each fold's own metrics, before the last fold's result is reused for the mean.
    per_fold = {name: [item.result.metrics for item in items] for name, items in runs.items()} if folds > 1 else None
    for name, items in runs.items():
        last = items[-1].result
        last.name, last.metrics = name, mean([item.result.metrics for item in items])
        last.train_seconds = round(sum(item.result.train_seconds for item in items), 3)
        if folds > 1 and last.tuning:
            last.tuning = {"folds": [item.result.tuning for item in items]}
    fields = {report_key: per_fold}
    return publish(recipe, config, with_fold(data, folds - 1), [items[-1] for items in runs.values()], **fields)


def load_saved_model(path: str | os.PathLike, loader=None):
    """Load a saved model, with one clear error for a file that is not one.

    Args:
        path: the ``.keras`` file.
        loader: the loading function (default `keras.models.load_model`).

    Raises:
        rnn_apps.errors.InputError: the file is missing, corrupt or not a
            Keras model (Keras raises many error types for these).
    """
    import keras

    path = pathlib.Path(path)
    if not path.is_file():
        raise errors.expected("an existing .keras model file", str(path), name="--model")
    try:
        return (loader or keras.models.load_model)(path)
    except Exception as error:  # noqa: BLE001 - a foreign or damaged file: Keras raises many types
        raise errors.expected("a .keras model saved by this recipe", f"{path} ({error})") from None
