"""Typed run configurations, their presets, and the command line made from them.

Every recipe declares one dataclass that extends `RunConfig` with its own
settings. Each field is one command-line flag (``batch_size`` is
``--batch-size``), declared with `option`, which holds the help text and how
the text of the flag is parsed. Named presets (``quick``, benchmark settings)
are dictionaries of field values on the class; ``--quick`` applies the
``quick`` preset and ``--preset NAME`` any other. A value given on the command
line wins over a preset, and a preset over the field's default.

Nothing here imports TensorFlow or Keras, so flags are checked and refused
before any backend starts.

Examples:
    >>> @dataclasses.dataclass(frozen=True)
    ... class ToyConfig(RunConfig):
    ...     PRESETS = {"quick": {"epochs": 1, "width": 4}}
    ...     width: int = option(16, "units of the toy layer", parse=positive_int)
    >>> config = parse_config(ToyConfig, ["--quick", "--units", "8"], recipe="toy")
    >>> config.epochs, config.width, config.units, config.quick
    (1, 4, 8, True)
    >>> config.output_dir
    'runs/toy'

A study that shares none of the recipe flags declares a plain frozen
dataclass of `option` fields instead; `parse_config` reads it the same way:

    >>> @dataclasses.dataclass(frozen=True)
    ... class StudyConfig:
    ...     PRESETS = {"quick": {"steps": 2}}
    ...     steps: int = option(10, "steps per sequence", parse=positive_int)
    ...     quick: bool = option(False, "a short run (the 'quick' preset)")
    >>> parse_config(StudyConfig, ["--quick"], recipe="study")
    StudyConfig(steps=2, quick=True)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import typing
from collections.abc import Callable, Sequence

from rnn_apps.data import text_files

MODEL_CHOICES = ("simple_rnn", "lstm", "gru", "cnn")
"""The models every recipe trains: the three recurrent cells and the CNN baseline."""

DISTRIBUTE_KINDS = ("none", "mirrored", "multi-worker")
"""Values of ``--distribute`` (see `rnn_apps.harness.distribute`)."""

CLASS_WEIGHTS = ("none", "balanced", "sqrt")
"""Values of ``--class-weight`` (see `rnn_apps.harness.selection.class_weights`)."""


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(text: str, convert, check, expected: str):
    try:
        value = convert(text)
    except (TypeError, ValueError):
        value = None
    if value is None or not check(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}")
    return value


def positive_int(text: str) -> int:
    """Parse a positive integer flag value.

    Examples:
        >>> positive_int("3")
        3
    """
    return _number(text, int, lambda value: value > 0, "a positive integer")


def non_negative_int(text: str) -> int:
    """Parse a non-negative integer flag value (seeds, counts that may be zero)."""
    return _number(text, int, lambda value: value >= 0, "a non-negative integer")


def positive_float(text: str) -> float:
    """Parse a positive, finite number (learning rates)."""
    return _number(text, float, lambda value: 0 < value < float("inf"), "a positive number")


def finite_float(text: str) -> float:
    """Parse any finite number (thresholds that may be negative)."""
    return _number(text, float, lambda value: abs(value) < float("inf"), "a finite number")


def fraction(text: str) -> float:
    """Parse a number in [0, 1) (dropout rates, split fractions).

    Examples:
        >>> fraction("0.25")
        0.25
    """
    return _number(text, float, lambda value: 0 <= value < 1, "a number in [0, 1)")


def int_list(text: str) -> tuple[int, ...]:
    """Parse a comma-separated list of positive integers (``"8,16"``).

    Examples:
        >>> int_list("8, 16")
        (8, 16)
    """
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    values = tuple(_number(part, int, lambda value: value > 0, "positive integers") for part in parts)
    if not values:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of positive integers, received {text!r}")
    return values


def encoding_name(text: str) -> str:
    """Parse ``--encoding``: a text codec Python knows (``utf-8``, ``latin-1``, ``cp1252``, ``utf-16``, ...).

    Examples:
        >>> encoding_name("cp1252")
        'cp1252'
    """
    try:
        return text_files.check_encoding(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a text encoding Python knows (utf-8, latin-1, cp1252, utf-16, ...), received {text!r}"
        ) from None


def model_list(
    text: str, choices: Sequence[str] = MODEL_CHOICES, every: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Parse ``--model``: ``all`` (``every`` model; by default every choice) or a comma-separated list of names.

    Examples:
        >>> model_list("lstm,cnn")
        ('lstm', 'cnn')
        >>> model_list("all", ("lstm", "cnn", "crnn"), every=("lstm", "cnn"))
        ('lstm', 'cnn')
    """
    if text == "all":
        return tuple(choices if every is None else every)
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in choices]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected 'all' or a comma-separated list of {list(choices)}, received {text!r}"
        )
    return tuple(dict.fromkeys(names))


def option(
    default,
    help: str,
    *,
    parse: Callable[[str], object] | None = None,
    choices: Sequence | None = None,
    flag: bool = True,
    metavar: str | None = None,
):
    """Declare one configuration field and the flag that sets it.

    Args:
        default: the value when neither the command line nor a preset sets it.
        help: one line for ``--help``.
        parse: turns the flag's text into the value (`positive_int`,
            `fraction`, ...); `str` when omitted. Boolean fields are switches
            and take no value.
        choices: the values the flag accepts.
        flag: `False` for a field that is filled in by the harness (the
            command that ran, replica counts), never by a flag.
        metavar: the placeholder ``--help`` shows.

    Returns:
        A `dataclasses.field` carrying the flag's description in its metadata.
    """
    metadata = {"help": help, "parse": parse, "choices": choices, "flag": flag, "metavar": metavar}
    if isinstance(default, (list, dict, set)):
        raise TypeError(f"Expected an immutable default (use a tuple). Received: default={default!r}")
    return dataclasses.field(default=default, metadata=metadata)


def embeddings_option():
    """The ``--embeddings PATH`` field of recipes that read words (`rnn_apps.data.word_vectors`)."""
    return option(
        None,
        "a local GloVe, word2vec or fastText text file (.gz allowed) whose vectors start the word embedding; "
        "its width replaces --embedding-dim",
        metavar="PATH",
    )


def freeze_embeddings_option():
    """The ``--freeze-embeddings`` switch that goes with `embeddings_option`."""
    return option(False, "with --embeddings: keep the word vectors fixed instead of fine-tuning them")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """The settings every recipe shares: its common flags.

    A recipe's configuration subclasses this and adds its own fields; class
    attributes ``PRESETS`` (name -> field values), ``MODEL_CHOICES`` (the
    trainable models, when they differ from the shared four) and
    ``ALL_MODELS`` (what ``--model all`` trains, when not every choice)
    complete it.
    """

    PRESETS: typing.ClassVar[dict[str, dict]] = {}
    MODEL_CHOICES: typing.ClassVar[tuple[str, ...]] = MODEL_CHOICES
    ALL_MODELS: typing.ClassVar[tuple[str, ...] | None] = None

    data: str = option(
        "sample", "'sample' (the bundled sample), a tensorflow-datasets name, or a path to your own files"
    )
    validation_data: str | None = option(
        None, "your own validation part, read like --data; replaces the validation part split from --data"
    )
    test_data: str | None = option(
        None, "your own test part, read like --data; replaces the test part split from --data"
    )
    encoding: str = option(
        text_files.DEFAULT_ENCODING,
        "encoding of your text files (any codec Python knows: latin-1, cp1252, utf-16, ...); byte-order marks are "
        "ignored",
        parse=encoding_name,
    )
    model: tuple[str, ...] = option(
        MODEL_CHOICES, "models to train: 'all' or a comma-separated list; naive baselines always run"
    )
    bidirectional: bool = option(False, "read sequences in both directions")
    layers: int = option(1, "stacked encoder layers", parse=positive_int)
    units: int = option(64, "recurrent units per layer", parse=positive_int)
    epochs: int = option(10, "most epochs (early stopping may end sooner)", parse=positive_int)
    batch_size: int = option(64, "samples per batch", parse=positive_int)
    learning_rate: float = option(1e-3, "Adam learning rate", parse=positive_float)
    patience: int = option(3, "early-stopping patience in epochs", parse=positive_int)
    min_updates: int = option(
        0,
        "on a small training set, raise --epochs and --patience alike so training can make at least this many "
        "optimizer updates (batches); 0: epochs as given (see rnn_apps.harness.training.update_budget)",
        parse=non_negative_int,
    )
    max_updates: int = option(
        0,
        "with --min-updates: a run whose validation is still improving at that many updates may go on up to this "
        "many (same patience; 0 or less than --min-updates: stop at --min-updates)",
        parse=non_negative_int,
    )
    tune: int = option(
        0,
        "random-search trials per model before its final training, scored on the validation part (0: no search; "
        "see rnn_apps.harness.tuning)",
        parse=non_negative_int,
    )
    tune_epochs: int = option(3, "most epochs of each --tune trial", parse=positive_int)
    tuned_from: str | None = option(
        None,
        "train each model family with settings chosen before instead of searching: a --tune run's metrics.json, "
        "or a JSON object {family: {field: value}} written inline or in a file (see rnn_apps.harness.tuning)",
    )
    seed: int = option(42, "random seed (splits, weights, shuffling)", parse=non_negative_int)
    output_dir: str | None = option(None, "run folder (default: runs/RECIPE)")
    quick: bool = option(False, "a seconds-to-a-minute smoke run (the 'quick' preset)")
    preset: str | None = option(None, "apply a named preset of settings (see the recipe's PRESETS)")
    resume: bool = option(
        False,
        "continue an interrupted run in --output-dir: finished models are kept, the interrupted one goes on "
        "from its last completed epoch",
    )
    overwrite: bool = option(
        False,
        "replace a run of another recipe or configuration in --output-dir: its results, models, plots and logs "
        "are deleted once the new run's data has been read",
    )
    distribute: str = option(
        "none",
        "spread training over local devices (mirrored) or processes and machines (multi-worker, JAX backend, "
        "cluster from KERAS_DISTRIBUTION_* variables); --batch-size is then per replica",
        choices=DISTRIBUTE_KINDS,
    )
    verbose: int | None = option(
        None,
        "Keras fit verbosity (default: a bar on a terminal, else a line per epoch; none in quick runs)",
        parse=int,
        choices=(0, 1, 2),
    )
    # Filled in by the harness, recorded in metrics.json.
    command: str = option("", "the command line that made this run", flag=False)
    replicas: int = option(1, "devices or processes training together", flag=False)
    per_replica_batch_size: int | None = option(None, "--batch-size as given", flag=False)
    global_batch_size: int | None = option(None, "batch size over all replicas", flag=False)
    partial_batches: str | None = option(
        None, "what happens to a batch that does not split evenly over the replicas", flag=False
    )

    def settings(self) -> dict:
        """The model and data settings of the run, for ``metrics.json`` (no paths, no console options)."""
        skip = {"data", "output_dir", "verbose", "command", "resume", "overwrite", "preset", "quick"}
        return {key: value for key, value in dataclasses.asdict(self).items() if key not in skip}


def flag_name(field_name: str) -> str:
    """The command-line spelling of a field: ``batch_size`` -> ``--batch-size``."""
    return "--" + field_name.replace("_", "-")


def fields(config_class) -> list[dataclasses.Field]:
    """The flag fields of a configuration class, in declaration order."""
    return [field for field in dataclasses.fields(config_class) if field.metadata.get("flag", True)]


def build_parser(config_class, prog: str, description: str = "", recipe: str = "") -> ArgumentParser:
    """An argument parser whose flags are the fields of ``config_class``.

    Every flag defaults to "not given" (`argparse.SUPPRESS`), so
    `parse_config` can tell a value typed on the command line from a default
    and apply presets in between. ``--help`` shows the fields' defaults.
    """
    parser = ArgumentParser(prog=prog, description=description, argument_default=argparse.SUPPRESS)
    shared = isinstance(config_class, type) and issubclass(config_class, RunConfig)
    common_names = {field.name for field in dataclasses.fields(RunConfig)} if shared else set()
    common = parser.add_argument_group("common flags (the same in every recipe)")
    own = parser.add_argument_group(f"{recipe or 'recipe'} flags")
    presets = sorted(getattr(config_class, "PRESETS", {}))
    for field in fields(config_class):
        group = common if field.name in common_names else own
        meta = field.metadata
        shown = field.default
        if field.name == "output_dir":
            shown = f"runs/{recipe}" if recipe else None
        help_text = meta.get("help", "")
        if field.name == "model":
            shown = "all"
        if field.name == "preset" and presets:
            help_text += f": {', '.join(presets)}"
        if isinstance(shown, tuple):
            shown = ",".join(str(item) for item in shown)
        if field.default is not None and not isinstance(field.default, bool) or field.name in ("model", "output_dir"):
            help_text += f" (default: {shown})"
        kwargs: dict = {"help": help_text}
        if field.name == "model":
            choices, every = tuple(config_class.MODEL_CHOICES), config_class.ALL_MODELS
            kwargs.update(
                type=lambda text, choices=choices, every=every: model_list(text, choices, every),
                metavar="{all," + ",".join(choices) + "}",
            )
        elif isinstance(field.default, bool) and field.default is False:
            kwargs["action"] = "store_true"
        else:
            if meta.get("parse"):
                kwargs["type"] = meta["parse"]
            if field.name == "preset" and presets:
                kwargs["choices"] = presets
            if meta.get("choices"):
                kwargs["choices"] = tuple(meta["choices"])
            if meta.get("metavar"):
                kwargs["metavar"] = meta["metavar"]
        group.add_argument(flag_name(field.name), dest=field.name, **kwargs)
    return parser


def resolve(config_class, given: dict, recipe: str = "") -> dict:
    """Field values: the defaults, then the preset (and its ``preset:task`` refinement), then what was given.

    Raises:
        ValueError: for an unknown preset.
    """
    values = {field.name: field.default for field in dataclasses.fields(config_class)}
    presets = getattr(config_class, "PRESETS", {})
    preset_names = [name for name in (("quick",) if given.get("quick") else ()) + (given.get("preset") or (),) if name]
    task = given.get("task") or values.get("task")
    for name in preset_names:
        if name not in presets:
            raise ValueError(f"Expected a preset, one of {sorted(presets)}. Received: preset={name!r}")
        values.update(presets[name])
        # A recipe with several tasks may refine a preset for one of them: "quick:digits".
        values.update(presets.get(f"{name}:{task}", {}))
    values.update(given)
    # A configuration that does not extend RunConfig may lack these fields.
    if "output_dir" in values and values["output_dir"] is None:
        values["output_dir"] = os.path.join("runs", recipe) if recipe else "runs"
    if "verbose" in values and values["verbose"] is None:
        # Keras's progress bar on a terminal; elsewhere one line per epoch, except in
        # quick runs, whose console shows only the harness's line per model and the table.
        values["verbose"] = 1 if sys.stdout.isatty() else 0 if values.get("quick") else 2
    return values


def parse_config(
    config_class, argv: Sequence[str] | None = None, recipe: str = "", prog: str | None = None, description: str = ""
):
    """Parse ``argv`` into an instance of ``config_class``.

    Args:
        config_class: a `RunConfig` subclass, or any frozen dataclass whose
            fields are declared with `option` (a study that shares none of
            the recipe flags); its ``PRESETS`` are optional.
        argv: the flags (``sys.argv[1:]`` when `None`).
        recipe: the recipe's name (the default output folder).
        prog: the program name in messages.
        description: the ``--help`` description.

    Returns:
        The configuration, with ``command`` set to the command line.

    Raises:
        SystemExit: status 2 with one line for a bad flag.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = prog or f"python -m recipes.{recipe}"
    parser = build_parser(config_class, prog, description, recipe)
    given = vars(parser.parse_args(argv))
    try:
        values = resolve(config_class, given, recipe)
    except ValueError as error:
        parser.error(str(error))
    if "command" in values:
        values["command"] = " ".join([prog, *(shlex.quote(token) for token in argv)])
    return config_class(**values)


def replace(config, **changes):
    """A copy of ``config`` with some fields changed (`dataclasses.replace`)."""
    return dataclasses.replace(config, **changes)
