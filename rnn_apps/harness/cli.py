"""The command line: one argument parser shared by every recipe and ``rnn-apps``.

``python -m recipes.<name> [flags]`` and ``rnn-apps run <name> [flags]`` parse
the same flags with the same parser (`recipe_parser`). ``rnn-apps`` adds:

- ``rnn-apps list``: the recipes and what each does;
- ``rnn-apps compare <recipe> [flags]`` or ``rnn-apps compare --all [flags]``:
  train every model of one or all recipes and print the comparison tables;
- ``rnn-apps predict <recipe> --model PATH INPUT...``: load a saved model in
  this process and predict on raw inputs.

A user error (bad flag, missing file, malformed data) prints one line naming
what was expected and what came in, and exits with status 2; nothing is
written before the inputs are checked, and files are written atomically.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import shlex
import shutil
import sys

from rnn_apps import errors
from rnn_apps.harness import distribute

ALL_RECIPES = ("sentiment", "text_analysis", "speech", "translation", "video", "stocks")


def _available(names) -> tuple[str, ...]:
    import recipes

    folder = pathlib.Path(recipes.__file__).parent
    return tuple(name for name in names if (folder / f"{name}.py").is_file())


RECIPES = _available(ALL_RECIPES)
"""Recipe modules present under ``recipes/``, in the order ``--all`` runs them."""

MODEL_CHOICES = ("simple_rnn", "lstm", "gru", "cnn")

COMMON_DEFAULTS = dict(
    epochs=10,
    batch_size=64,
    units=64,
    layers=1,
    learning_rate=1e-3,
    patience=3,
)


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """Parse a positive integer flag value."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """Parse a non-negative integer flag value (seeds)."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, received {text!r}")
    return value


def positive_float(text: str) -> float:
    """Parse a positive number flag value (learning rates)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, received {text!r}")
    return value


def fraction(text: str) -> float:
    """Parse a number in [0, 1) (dropout rates, split fractions)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), received {text!r}")
    return value


def model_list(text: str, choices=MODEL_CHOICES) -> list[str]:
    """Parse ``--model``: ``all`` or a comma-separated list of model names.

    Examples:
        >>> model_list("lstm,cnn")
        ['lstm', 'cnn']
    """
    if text == "all":
        return list(choices)
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in choices]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected 'all' or a comma-separated list of {list(choices)}, received {text!r}"
        )
    return list(dict.fromkeys(names))


def recipe_module(name: str):
    """Import ``recipes.<name>``, with a clear error for unknown names."""
    if name not in RECIPES:
        raise errors.expected(f"a recipe, one of {list(RECIPES)}", name, name="recipe")
    return importlib.import_module(f"recipes.{name}")


def _summary(module) -> str:
    return (module.__doc__ or "").strip().splitlines()[0].removeprefix("Title:").strip()


def recipe_parser(module, prog: str | None = None) -> ArgumentParser:
    """The argument parser of one recipe: the common flags plus its own.

    Flags whose default depends on ``--quick`` default to `None` here and
    are filled in by `resolve_defaults`. A recipe with other trainable
    models than the shared four lists them in its ``MODEL_CHOICES``.
    """
    name = module.NAME
    choices = tuple(getattr(module, "MODEL_CHOICES", MODEL_CHOICES))
    parser = ArgumentParser(
        prog=prog or f"python -m recipes.{name}",
        description=_summary(module),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    common = parser.add_argument_group("common flags (the same in every recipe)")
    common.add_argument(
        "--data",
        default="sample",
        help="'sample' (the bundled sample), a tensorflow-datasets name, or a path to your own files",
    )
    common.add_argument(
        "--model",
        type=lambda text: model_list(text, choices),
        default=list(choices),
        metavar="{all," + ",".join(choices) + "}",
        help="models to train: 'all' or a comma-separated list; naive baselines always run",
    )
    common.add_argument("--bidirectional", action="store_true", help="read sequences in both directions")
    common.add_argument("--layers", type=positive_int, default=None, help="stacked encoder layers")
    common.add_argument("--units", type=positive_int, default=None, help="recurrent units per layer")
    common.add_argument("--epochs", type=positive_int, default=None, help="most epochs (early stopping may end sooner)")
    common.add_argument("--batch-size", type=positive_int, default=None, help="samples per batch")
    common.add_argument("--learning-rate", type=positive_float, default=None, help="Adam learning rate")
    common.add_argument("--patience", type=positive_int, default=None, help="early-stopping patience in epochs")
    common.add_argument("--seed", type=non_negative_int, default=42, help="random seed (splits, weights, shuffling)")
    common.add_argument("--output-dir", default=None, help=f"run folder (default: runs/{name})")
    common.add_argument("--quick", action="store_true", help="a seconds-to-a-minute smoke run")
    common.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in --output-dir: finished models are kept, the interrupted one "
        "goes on from its last completed epoch",
    )
    common.add_argument(
        "--distribute",
        choices=distribute.KINDS,
        default="none",
        help="spread training over local devices (mirrored) or processes and machines (multi-worker, JAX "
        "backend, cluster from KERAS_DISTRIBUTION_* variables); --batch-size is then per replica",
    )
    common.add_argument("--verbose", type=int, choices=(0, 1, 2), default=None, help="Keras fit verbosity")
    module.add_arguments(parser)
    return parser


def resolve_defaults(module, args: argparse.Namespace) -> argparse.Namespace:
    """Fill flags left at `None`: explicit value, else quick value, else default."""
    defaults = {**COMMON_DEFAULTS, **getattr(module, "DEFAULTS", {})}
    if args.quick:
        defaults.update(getattr(module, "QUICK", {}))
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.verbose is None:
        args.verbose = 2 if args.quick or not sys.stdout.isatty() else 1
    if args.output_dir is None:
        args.output_dir = os.path.join("runs", module.NAME)
    return args


MIN_FREE_BYTES = 50 * 2**20


def check_output_dir(path: str) -> None:
    """Refuse an output folder that cannot be written, before any training starts.

    The folder itself is not created here (a run with bad input leaves
    nothing behind); its nearest existing ancestor must be a writable folder
    with some free space.
    """
    existing = pathlib.Path(path).absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise errors.expected("a folder that can be created and written", path, name="--output-dir")
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise errors.expected(
            f"at least {MIN_FREE_BYTES // 2**20} MB free for --output-dir", f"{free / 2**20:.1f} MB free at {existing}"
        )


def _fail(prog: str, error: Exception):
    print(f"{prog}: error: {error}", file=sys.stderr)
    raise SystemExit(2)


def run_recipe(module, argv=None, prog: str | None = None) -> dict:
    """Parse ``argv`` with the recipe's parser and run it.

    Returns:
        The run's report (the content of ``metrics.json``).

    Raises:
        SystemExit: status 2 on a user error, after one message on stderr.
    """
    parser = recipe_parser(module, prog)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = resolve_defaults(module, parser.parse_args(argv))
    args.command = " ".join([parser.prog, *(shlex.quote(token) for token in argv)])
    try:
        check_output_dir(args.output_dir)
        with distribute.scope(args.distribute) as plan:
            spread(args, plan)
            report = module.run(args)
    except errors.InputError as error:
        _fail(parser.prog, error)
    except KeyboardInterrupt:
        print(f"\n{parser.prog}: interrupted before any model finished; nothing was reported", file=sys.stderr)
        raise SystemExit(INTERRUPTED) from None
    if report.get("interrupted"):
        print(
            f"{parser.prog}: interrupted; {args.output_dir}/metrics.json holds the models that finished. "
            "Run the same command with --resume to go on.",
            file=sys.stderr,
        )
        raise SystemExit(INTERRUPTED)
    return report


INTERRUPTED = 130  # the shell's status for a process stopped by Ctrl-C


def spread(args: argparse.Namespace, plan: distribute.Plan) -> None:
    """Adapt a run's flags to its distribution `Plan`.

    ``--batch-size`` is per replica, so the global batch grows with the
    replica count; a worker other than the chief writes beside the chief's
    output folder. Both are recorded in ``metrics.json`` through ``args``.
    """
    args.replicas = plan.replicas
    args.per_replica_batch_size = args.batch_size
    args.global_batch_size = args.batch_size * plan.replicas
    args.batch_size = args.global_batch_size
    if plan.workers > 1:
        args.output_dir = distribute.worker_output_dir(args.output_dir, plan)
        check_output_dir(args.output_dir)


def _list(_args) -> int:
    for name in RECIPES:
        print(f"{name:<14} {_summary(recipe_module(name))}")
    return 0


def _split_output_dir(argv: list[str]) -> tuple[list[str], str | None]:
    """Remove ``--output-dir D`` (or ``--output-dir=D``) from ``argv``; return both."""
    rest, output = [], None
    iterator = iter(argv)
    for token in iterator:
        if token == "--output-dir":
            output = next(iterator, None)
        elif token.startswith("--output-dir="):
            output = token.split("=", 1)[1]
        else:
            rest.append(token)
    return rest, output


def _recipe_command(command: str, argv: list[str]) -> int:
    """``run RECIPE [flags]`` and ``compare (RECIPE | --all) [flags]``.

    These are parsed by hand so every flag after the recipe name reaches the
    recipe's own parser untouched (argparse sub-commands would claim some).
    """
    usage = f"rnn-apps {command} " + ("RECIPE" if command == "run" else "(RECIPE | --all)") + " [recipe flags]"
    if argv[:1] in (["-h"], ["--help"]):
        print(f"usage: {usage}\nrecipes: {', '.join(RECIPES)}; recipe flags: rnn-apps {command} RECIPE --help")
        return 0
    run_all = command == "compare" and "--all" in argv
    if run_all:
        argv = [token for token in argv if token != "--all"]
        if argv[:1] and argv[0] in RECIPES:
            raise errors.expected("a recipe name or --all, not both", argv[0], name="compare")
        names, flags = list(RECIPES), argv
    else:
        if not argv or argv[0].startswith("-"):
            raise errors.expected(f"a recipe name, one of {list(RECIPES)} ({usage})", argv[0] if argv else "none")
        names, flags = [argv[0]], argv[1:]
    flags, output = _split_output_dir(flags)
    for name in names:
        module = recipe_module(name)
        folder = os.path.join(output, name) if output and run_all else output
        run_recipe(module, [*flags, *(["--output-dir", folder] if folder else [])], prog=f"rnn-apps {command} {name}")
    return 0


def _predict(args) -> int:
    module = recipe_module(args.recipe)
    path = pathlib.Path(args.model)
    if not path.is_file() or path.suffix != ".keras":
        raise errors.expected("an existing .keras model file", str(path), name="--model")
    if not args.inputs:
        raise errors.expected("at least one input to predict", "none")
    for prediction in module.predict(path, args.inputs):
        if args.format == "json":
            print(json.dumps(prediction))
        else:
            print("\t".join(str(value) for value in prediction.values()))
    return 0


def predict_parser() -> ArgumentParser:
    """Parser of ``rnn-apps predict``; inputs may come before or after flags."""
    parser = ArgumentParser(prog="rnn-apps predict", description="Predict with a saved model on raw inputs.")
    parser.add_argument("recipe", choices=RECIPES)
    parser.add_argument("--model", required=True, help="path of a saved .keras model")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="one line per input")
    parser.add_argument("inputs", nargs="*", help="raw inputs (texts, file paths)")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``rnn-apps`` command."""
    parser = ArgumentParser(prog="rnn-apps", description="Recurrent-network applications in Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    commands.add_parser("list", help="list the recipes").set_defaults(handler=_list)
    # run and compare are parsed by _recipe_command; these entries give --help its listing.
    commands.add_parser("run", help="run one recipe: rnn-apps run RECIPE [recipe flags]")
    commands.add_parser("compare", help="train every model of a recipe and compare: compare (RECIPE | --all) [flags]")
    commands.add_parser("predict", help="predict on raw inputs: predict RECIPE --model PATH INPUT...")
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] in (["run"], ["compare"]):
            return _recipe_command(argv[0], argv[1:])
        if argv[:1] == ["predict"]:
            return _predict(predict_parser().parse_intermixed_args(argv[1:]))
        args = parser.parse_args(argv)
        return args.handler(args)
    except errors.InputError as error:
        _fail(parser.prog, error)


if __name__ == "__main__":
    sys.exit(main())
