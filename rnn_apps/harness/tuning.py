"""Hyperparameter search before the final training: ``--tune N`` trials per model, chosen on validation data.

A fair answer to "recurrent network or CNN?" tunes every family with the same
budget. With ``--tune N`` each model named by ``--model`` gets exactly ``N``
trials of ``--tune-epochs`` epochs each (early stopping with the run's
``--patience`` inside a trial), before its final training with the normal
harness. A trial is one variant of the run's configuration: the recipe's own
`rnn_apps.harness.recipe.Recipe.build_model` and
`rnn_apps.harness.recipe.Recipe.datasets` build it from the changed settings,
it trains on the training part and is scored on the validation part by the
recipe's `rnn_apps.harness.recipe.Recipe.monitor` (best epoch). Nothing in a
trial reads the test part; with cross-validation the search runs inside each
fold, on that fold's training and validation parts.

The search space of a model is a set of configuration overrides, field ->
candidate values (`Recipe.search_space`; `default_space` derives one from
the fields a configuration has, around their current values). The current
value of every field is always a candidate and the first trial runs the
configuration as given, so the chosen settings are never worse on the
validation part than the untuned ones (at the trial budget).

Why random search (`keras_tuner.oracles.RandomSearchOracle`) rather than
Bayesian optimisation: the budgets here are a handful of trials per model,
and KerasTuner's Bayesian oracle samples its first ``3 x dimensions``
trials at random anyway (18 or more for these spaces), so it would behave
as random search at a higher cost. Random search is also a strong baseline
for small budgets (Bergstra and Bengio, 2012), treats every family the same
whatever the size of its space, and is reproducible from ``--seed``.

The tuner's files (its oracle state and every trial's training log) go under
``OUTPUT_DIR/tuning/MODEL/``; ``metrics.json`` records, per model, the
budget, the search space, every trial's settings and validation score, and
the chosen settings (`search`).

A search need not run again to be used again: ``--tuned-from`` trains each
family with the settings an earlier search chose (that run's
``metrics.json``) or with settings written out as ``{family: {field:
value}}`` (`given_settings`, `reuse`), e.g. the other seeds of a benchmark
whose validation part is the same for every seed, or a final model on more
data.

Examples:
    >>> import dataclasses
    >>> from rnn_apps.harness import config
    >>> @dataclasses.dataclass(frozen=True)
    ... class ToyConfig(config.RunConfig):
    ...     dropout: float = config.option(0.2, "dropout", parse=config.fraction)
    >>> space = default_space("gru", ToyConfig(units=32))
    >>> space["units"], space["layers"], space["dropout"]
    ((16, 32, 64), (1, 2), (0.0, 0.2, 0.5))
    >>> apply(ToyConfig(), {"units": 16, "bidirectional": True}).units
    16
"""

from __future__ import annotations

import json
import os
import pathlib

from rnn_apps import errors
from rnn_apps.harness import config as config_module

RECURRENT = ("simple_rnn", "lstm", "gru", "convlstm")
"""Model families whose search space holds recurrent settings (units, layers, direction)."""

TUNER = "random search (KerasTuner RandomSearchOracle), the given settings as the first trial"
"""How trials are chosen, as ``metrics.json`` names it."""


def scaled(value: int, factors=(0.5, 1, 2)) -> tuple[int, ...]:
    """Whole-number candidates around ``value`` (widths, batch sizes), at least 1.

    Examples:
        >>> scaled(64), scaled(1)
        ((32, 64, 128), (1, 2))
    """
    return tuple(sorted({max(1, round(value * factor)) for factor in factors}))


def rates(value: float, factors=(1 / 3, 1, 3)) -> tuple[float, ...]:
    """Learning-rate candidates around ``value``, on a log scale (three significant digits).

    Examples:
        >>> rates(1e-3)
        (0.000333, 0.001, 0.003)
    """
    return tuple(sorted({float(f"{value * factor:.3g}") for factor in factors}))


def scaled_widths(widths: tuple[int, ...], factors=(0.5, 1, 2)) -> tuple[tuple[int, ...], ...]:
    """Candidates for a stack of layer widths: every width times each factor, the depth kept.

    Examples:
        >>> scaled_widths((16, 32, 64))
        ((8, 16, 32), (16, 32, 64), (32, 64, 128))
    """
    return tuple(dict.fromkeys(tuple(max(1, round(width * factor)) for width in widths) for factor in factors))


def with_current(values, current) -> tuple:
    """``values`` with ``current`` added, sorted where the values allow it.

    Examples:
        >>> with_current((0.0, 0.5), 0.25)
        (0.0, 0.25, 0.5)
    """
    values = tuple(dict.fromkeys((*values, current)))
    try:
        return tuple(sorted(values))
    except TypeError:
        return values


def default_space(family: str, config) -> dict[str, tuple]:
    """Candidate values of the settings a configuration exposes, around their current values.

    Every family searches the learning rate and the batch size. Recurrent
    families (`RECURRENT`) add units, layers, direction and encoder dropout;
    the others add CNN filters, kernel width and depth (which sets the
    dilations of a dilated or causal stack) where the configuration has those
    fields as whole numbers. Word-vector width and dropout come in where the
    configuration has them. A recipe whose models read other fields, or not
    these, says so in its `Recipe.search_space`.

    Args:
        family: the model (``gru``, ``cnn``, ...).
        config: the run's configuration; only its fields are searched.

    Returns:
        Field name -> candidate values, each holding the current value.
    """
    space: dict[str, tuple] = {}

    def add(field: str, values) -> None:
        current = getattr(config, field, None)
        if current is not None and not isinstance(current, tuple):
            space[field] = with_current(values, current)

    add("learning_rate", rates(config.learning_rate))
    add("batch_size", scaled(config.batch_size))
    if family in RECURRENT:
        add("units", scaled(config.units))
        add("layers", (1, 2))
        add("bidirectional", (False, True))
    else:
        if isinstance(getattr(config, "filters", None), int) and not isinstance(config.filters, bool):
            add("filters", scaled(config.filters))
        add("kernel_size", (2, 3, 5))
        if hasattr(config, "cnn_layers"):
            add("cnn_layers", tuple(depth for depth in (config.cnn_layers - 1, config.cnn_layers + 1) if depth > 0))
    if not getattr(config, "embeddings", None):  # pretrained vectors (--embeddings) fix the width
        add("embedding_dim", scaled(getattr(config, "embedding_dim", 1) or 1))
    add("embedding_dropout", (0.0, 0.25, 0.5))
    add("dropout", (0.0, 0.2, 0.5))
    return space


def _encode(value):
    """A candidate as KerasTuner's ``Choice`` takes it: tuples of numbers become ``"8,16"``."""
    return ",".join(str(item) for item in value) if isinstance(value, tuple) else value


def apply(config, values: dict):
    """``config`` with some fields set to candidate values (``"8,16"`` back to a tuple where the field holds one)."""
    changes = {}
    for field, value in values.items():
        current = getattr(config, field)
        if isinstance(current, tuple) and isinstance(value, str):
            value = tuple(int(item) for item in value.split(","))
        elif isinstance(current, tuple) and isinstance(value, list):  # a tuple as JSON wrote it
            value = tuple(value)
        elif isinstance(current, bool):
            value = bool(value)  # KerasTuner hands back True and False as 1 and 0
        changes[field] = value
    return config_module.replace(config, **changes)


def check_space(space: dict, config) -> None:
    """Refuse a search space over fields the configuration lacks, or without its current value.

    Raises:
        rnn_apps.errors.InputError: a field is unknown, has no candidates,
            or its candidates leave out the configuration's value.
    """
    for field, values in space.items():
        if not hasattr(config, field):
            raise errors.expected("search-space fields of the recipe's configuration", field, name="field")
        if getattr(config, field) not in tuple(values):
            raise errors.expected(f"candidates of {field} that include its value {getattr(config, field)!r}", values)


def search(recipe, name: str, family: str, config, data) -> tuple[object, dict]:
    """Search ``config.tune`` variants of model ``name`` on the validation part; return the best.

    Args:
        recipe: the `rnn_apps.harness.recipe.Recipe`.
        name: the job (``gru``, or ``gru_fold2`` inside `run_folds`); the
            tuner's folder is ``OUTPUT_DIR/tuning/NAME``.
        family: the model family (``gru``), whose search space is used.
        config: the run's configuration (``tune`` trials of ``tune_epochs``).
        data: what `Recipe.load_data` returned (or one fold of it).

    Returns:
        ``(config, record)``: the configuration with the chosen settings, and
            the ``tuning`` entry for ``metrics.json``.

    Raises:
        rnn_apps.errors.InputError: a trial met bad input (the search stops
            at once), or the search space is malformed.
        RuntimeError: no trial finished.
    """
    try:
        import keras_tuner
    except ImportError:
        wanted = "keras-tuner installed for --tune (pip install 'rnn-apps[tune]')"
        raise errors.expected(wanted, "not installed") from None

    space = recipe.search_space(family, config, data)
    check_space(space, config)
    from rnn_apps.harness import training

    monitor = recipe.monitor(name, config, data)
    direction = training.monitor_mode(monitor)  # the rule early stopping follows
    hyperparameters = keras_tuner.HyperParameters()
    for field, values in space.items():
        hyperparameters.Choice(field, [_encode(value) for value in values], default=_encode(getattr(config, field)))
    oracle = _given_first_oracle(
        objective=keras_tuner.Objective(monitor, direction),
        max_trials=config.tune,
        seed=config.seed,
        hyperparameters=hyperparameters,
        tune_new_entries=False,
        allow_new_entries=False,
        max_consecutive_failed_trials=config.tune,
    )
    folder = pathlib.Path(config.output_dir) / "tuning"
    tuner = _recipe_tuner(
        recipe, name, config, data, oracle=oracle, directory=str(folder), project_name=name, overwrite=not config.resume
    )
    print(f"{name}: searching {config.tune} settings of {len(space)} fields, {config.tune_epochs} epochs each")
    try:
        tuner.search(verbose=0)
    except keras_tuner.errors.FatalError as error:
        if isinstance(error.__cause__, errors.InputError):
            raise error.__cause__ from None
        raise
    trials = [oracle.trials[trial_id] for trial_id in oracle.start_order]
    finished = [trial for trial in trials if trial.score is not None]
    if not finished:
        reason = (trials[-1].message or "").strip().splitlines()[-1:] if trials else []
        raise RuntimeError(f"no trial of {name} finished: {' '.join(reason) or 'none ran'}")
    best = best_trial(finished, direction)
    chosen = apply(config, best.hyperparameters.values)
    record = {
        "tuner": TUNER,
        "trials": config.tune,
        "epochs_per_trial": config.tune_epochs,
        "patience": config.patience,
        "seed": config.seed,
        "selected_on": f"validation {monitor} ({direction}), best epoch of each trial",
        "space": {field: [_plain(value) for value in values] for field, values in space.items()},
        "given": _settings(config, space),
        "chosen": _settings(chosen, space),
        "best_score": float(best.score),
        "history": [
            {
                "trial": trial.trial_id,
                "values": _settings(apply(config, trial.hyperparameters.values), space),
                "score": None if trial.score is None else float(trial.score),
                "status": str(trial.status),
            }
            for trial in trials
        ],
        "folder": os.path.relpath(folder / name, config.output_dir),
    }
    return chosen, record


RUN_FIELDS = frozenset(
    {
        "data", "validation_data", "test_data", "output_dir", "seed", "model", "tune", "tune_epochs", "tuned_from",
        "resume", "overwrite", "verbose", "quick", "preset", "distribute",
    }
)  # fmt: skip
"""Configuration fields that say what to run, not how a model is built or trained: never set by ``--tuned-from``."""


def settings_file(value: str) -> str | None:
    """The file ``--tuned-from`` names, or `None` when its value is the JSON itself (it starts with ``{``)."""
    return None if value.strip().startswith("{") else value


def given_settings(value: str) -> tuple[dict[str, dict], str]:
    """The settings per model family that ``--tuned-from`` names, and where they came from.

    Args:
        value: a JSON object ``{family: {field: value}}``, written inline or
            the path of a file holding one, or the path of a ``--tune`` run's
            ``metrics.json`` (the settings its search chose per model).

    Returns:
        ``(settings, source)``: family -> field -> value, and the path or ``"given inline"``.

    Raises:
        rnn_apps.errors.InputError: no such file, not JSON, or not that shape.

    Examples:
        >>> given_settings('{"gru": {"units": 64, "layers": 2}}')
        ({'gru': {'units': 64, 'layers': 2}}, 'given inline')
        >>> given_settings('{"gru": 64}')
        Traceback (most recent call last):
        rnn_apps.errors.InputError: Expected --tuned-from settings as {family: {field: value}}. Received: '{"gru": 64}'
    """
    content, source = _read_tuned_from(value)
    return _chosen_per_family(content, value), source


SETTINGS_SHAPE = "--tuned-from settings as {family: {field: value}}"


def _read_tuned_from(value: str) -> tuple[object, str]:
    """The JSON ``--tuned-from`` gives, as parsed, and where it came from (the path or ``"given inline"``)."""
    path, text, source = settings_file(value), value.strip(), "given inline"
    if path is not None:
        if not pathlib.Path(path).is_file():
            raise errors.expected(
                f"{SETTINGS_SHAPE}, or the path of a JSON file or of a --tune run's metrics.json", value
            )
        try:
            text = pathlib.Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise errors.expected(f"a readable UTF-8 JSON file for --tuned-from ({error})", value) from None
        source = str(path)
    try:
        return json.loads(text), source
    except json.JSONDecodeError as error:
        raise errors.expected(f"JSON for --tuned-from ({error.msg} at line {error.lineno})", value[:200]) from None


def _chosen_per_family(content, value: str) -> dict[str, dict]:
    """Family -> field -> value from what `_read_tuned_from` read (a run's ``metrics.json``: its chosen settings)."""
    if isinstance(content, dict) and isinstance(content.get("models"), dict):  # a run's metrics.json
        content = {
            name: entry["tuning"]["chosen"]
            for name, entry in content["models"].items()
            if isinstance(entry, dict) and isinstance(entry.get("tuning"), dict) and "chosen" in entry["tuning"]
        }
        if not content:
            raise errors.expected("a --tune run's metrics.json for --tuned-from (models with chosen settings)", value)
    if not (isinstance(content, dict) and content and all(isinstance(v, dict) for v in content.values())):
        raise errors.expected(SETTINGS_SHAPE, value[:200])
    return content


def reuse(config, family: str) -> tuple[object, dict | None]:
    """``config`` with the settings ``--tuned-from`` gives ``family``, and the ``tuning`` entry for ``metrics.json``.

    A family the settings leave out trains as configured (no entry). A
    ``metrics.json`` source also lends its search's budget and space to the
    entry, so the report says how the settings were chosen.
    """
    content, source = _read_tuned_from(config.tuned_from)
    values = _chosen_per_family(content, config.tuned_from).get(family)
    if values is None:
        print(f"{family}: no settings for it in --tuned-from; trains as configured")
        return config, None
    chosen = apply(config, values)
    record = {"settings_from": source, "chosen": _settings(chosen, values)}
    searched = ((content.get("models") or {}).get(family) or {}).get("tuning") or {}  # only a metrics.json has them
    for field in ("tuner", "trials", "epochs_per_trial", "selected_on", "seed", "space"):
        if field in searched:
            record[field] = searched[field]
    return chosen, record


def check_tuned_from(config) -> None:
    """Refuse ``--tuned-from`` settings that this configuration cannot take, before any data is read.

    Raises:
        rnn_apps.errors.InputError: with ``--tune`` as well, a field the
            configuration lacks or that says what to run (`RUN_FIELDS`), or a
            value of the wrong kind.
    """
    value = getattr(config, "tuned_from", None)
    if not value:
        return
    if getattr(config, "tune", 0):
        raise errors.expected("--tune N or --tuned-from, not both", f"--tune {config.tune} --tuned-from {value}")
    settings, _ = given_settings(value)
    for family, values in settings.items():
        for field in values:
            if field in RUN_FIELDS or not hasattr(config, field) or field.startswith("_"):
                raise errors.expected(f"settings of {family} that are model or training fields", field, name="field")
        try:
            changed = apply(config, values)
        except (TypeError, ValueError) as error:
            raise errors.expected(f"--tuned-from values of the fields' kinds ({error})", values) from None
        for field in values:
            current, new = getattr(config, field), getattr(changed, field)
            if current is not None and not _same_kind(current, new):
                raise errors.expected(f"{family}'s {field} of the kind of {current!r}", values[field], name="value")


def _same_kind(current, new) -> bool:
    if isinstance(current, bool):
        return isinstance(new, bool)
    if isinstance(current, int | float):
        return isinstance(new, int | float) and not isinstance(new, bool)
    return isinstance(new, type(current))


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _settings(config, space: dict) -> dict:
    """The searched fields of ``config``, JSON-friendly."""
    return {field: _plain(getattr(config, field)) for field in space}


def _oracle_class():
    import keras_tuner

    class GivenFirstOracle(keras_tuner.oracles.RandomSearchOracle):
        """Random search whose first trial is the configuration as given (every field's default)."""

        def populate_space(self, trial_id):
            if self.trials:
                return super().populate_space(trial_id)
            values = {hp.name: hp.default for hp in self.hyperparameters.space}
            return {"status": "RUNNING", "values": values}

    return GivenFirstOracle


TIE_BREAKER = "val_loss_at_kept_epoch"
"""A trial's metric that decides between trials of equal score: lower is better."""


def best_trial(trials, direction: str):
    """The finished trial of the best score; among equal scores, the lowest `TIE_BREAKER`, then the first run.

    A task score can stay at its floor through a short trial (a CTC model
    answering only blanks scores WER 1.0 whatever its settings); the
    validation loss still tells those trials apart, as it does epochs
    within one (`rnn_apps.harness.training.best_epoch`).

    Examples:
        >>> from types import SimpleNamespace as Trial
        >>> class Metrics(dict):
        ...     def exists(self, name): return name in self
        ...     def get_last_value(self, name): return self[name]
        >>> trials = [Trial(trial_id=str(i), score=s, metrics=Metrics(m)) for i, (s, m) in enumerate(
        ...     [(1.0, {TIE_BREAKER: 3.0}), (1.0, {TIE_BREAKER: 2.0}), (1.1, {})])]
        >>> best_trial(trials, "min").trial_id, best_trial(trials, "max").trial_id
        ('1', '2')
    """
    top = (min if direction == "min" else max)(trial.score for trial in trials)
    tied = [trial for trial in trials if trial.score == top]

    def tie(trial):
        return trial.metrics.get_last_value(TIE_BREAKER) if trial.metrics.exists(TIE_BREAKER) else float("inf")

    return min(tied, key=tie)  # min keeps the first of equal ties


def _given_first_oracle(**kwargs):
    return _oracle_class()(**kwargs)


def _recipe_tuner(recipe, name, config, data, **kwargs):
    import keras_tuner

    class RecipeTuner(keras_tuner.Tuner):
        """A KerasTuner `Tuner` whose trials are configuration variants built by the recipe's hooks."""

        def run_trial(self, trial, *args, **kwargs):
            variant = apply(config, trial.hyperparameters.values)
            monitor = recipe.monitor(name, variant, data)
            from rnn_apps.harness import recipe as recipe_module  # it imports this module

            try:
                _, fitted = recipe_module.build_and_fit(
                    recipe,
                    name,
                    variant,
                    data,
                    epochs=variant.tune_epochs,
                    output_dir=self.get_trial_dir(trial.trial_id),
                    verbose=0,
                )
            except errors.InputError as error:
                raise keras_tuner.errors.FatalError(str(error)) from error
            values = fitted.history.get(monitor)
            if not values:
                raise keras_tuner.errors.FailedTrialError(f"the trial reported no {monitor}")
            best = values[fitted.best_epoch - 1]  # the epoch early stopping kept
            shown = ", ".join(f"{key}={value}" for key, value in trial.hyperparameters.values.items())
            print(f"{name} trial {trial.trial_id}: {monitor} {best:.4f} | {shown}")
            losses = fitted.history.get("val_loss") or []
            if monitor == "val_loss" or len(losses) < fitted.best_epoch:
                return {monitor: best}
            # The validation loss at the epoch kept: it decides between trials whose scores tie (`best_trial`).
            return {monitor: best, TIE_BREAKER: losses[fitted.best_epoch - 1]}

    return RecipeTuner(**kwargs)
