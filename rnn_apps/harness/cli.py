"""The command line: one argument parser shared by every recipe and ``rnn-apps``.

``python -m recipes.<name> [flags]`` and ``rnn-apps run <name> [flags]`` parse
the same flags with the same parser (`recipe_parser`). ``rnn-apps`` adds:

- ``rnn-apps list``: the recipes and what each does;
- ``rnn-apps compare <recipe> [flags]`` or ``rnn-apps compare --all [flags]``:
  train every model of one or all recipes and print the comparison tables;
- ``rnn-apps predict <recipe> --model PATH INPUT...``: load a saved model in
  this process and predict on raw inputs;
- ``rnn-apps stream <recipe> --model PATH INPUT...``: run a saved recurrent
  model one step at a time, carrying its state, and print the prediction
  after every step (`rnn_apps.streaming`).

A user error (bad flag, missing file, malformed data) prints one line naming
what was expected and what came in, and exits with status 2; nothing is
written before the inputs are checked, and files are written atomically.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import pathlib
import shutil
import sys

from rnn_apps import errors
from rnn_apps.data import text_files
from rnn_apps.harness import config as config_module
from rnn_apps.harness import registry, runs, runtime, tuning

ArgumentParser = config_module.ArgumentParser


def recipe_parser(recipe, prog: str | None = None) -> ArgumentParser:
    """The argument parser of one recipe, generated from its configuration class."""
    prog = prog or f"python -m recipes.{recipe.name}"
    return config_module.build_parser(recipe.config_class, prog, recipe.summary, recipe.name)


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


def run_recipe(recipe, argv=None, prog: str | None = None) -> dict:
    """Parse ``argv`` into the recipe's configuration and run it.

    Returns:
        The run's report (the content of ``metrics.json``).

    Raises:
        SystemExit: status 2 on a user error, after one message on stderr.
    """
    prog = prog or f"python -m recipes.{recipe.name}"
    config = checked_config(recipe.config_class, argv, recipe.name, prog, recipe.summary)
    return run_config(recipe, config, prog)


def checked_config(config_class, argv, name: str, prog: str, description: str):
    """Parse ``argv`` into ``config_class`` and check its output folder; exit 2 with one line if either fails."""
    config = config_module.parse_config(config_class, argv, recipe=name, prog=prog, description=description)
    try:
        check_output_dir(config.output_dir)
        tuning.check_tuned_from(config)
    except errors.InputError as error:
        _fail(prog, error)
    return config


def run_config(recipe, config, prog: str) -> dict:
    """Run ``recipe`` with a configuration already parsed and checked (`run_recipe` after parsing)."""
    runtime.configure()
    from rnn_apps.harness import distribute

    try:
        with distribute.scope(config.distribute) as plan:
            config = spread(config, plan)
            runs.claim(recipe.name, config)
            report = recipe.run(config)
    except errors.InputError as error:
        _fail(prog, error)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted before any model finished; nothing was reported", file=sys.stderr)
        raise SystemExit(INTERRUPTED) from None
    if report.get("interrupted"):
        print(
            f"{prog}: interrupted; {config.output_dir}/metrics.json holds the models that finished. "
            "Run the same command with --resume to go on.",
            file=sys.stderr,
        )
        raise SystemExit(INTERRUPTED)
    return report


INTERRUPTED = 130  # the shell's status for a process stopped by Ctrl-C


def spread(config, plan):
    """Adapt a run's configuration to its distribution `Plan`.

    ``--batch-size`` is per replica, so the global batch grows with the
    replica count; a worker other than the chief writes beside the chief's
    output folder. Both are recorded in ``metrics.json``, with what happens
    to a batch that does not split evenly over the replicas.

    Returns:
        The adapted configuration (a new instance).
    """
    changes = dict(
        replicas=plan.replicas,
        per_replica_batch_size=config.batch_size,
        global_batch_size=config.batch_size * plan.replicas,
        batch_size=config.batch_size * plan.replicas,
        partial_batches=plan.partial_batches,
    )
    if plan.workers > 1:
        from rnn_apps.harness import distribute

        changes["output_dir"] = distribute.worker_output_dir(config.output_dir, plan)
        check_output_dir(changes["output_dir"])
    return config_module.replace(config, **changes)


def _list(_args) -> int:
    for name in registry.names():
        print(f"{name:<14} {registry.get(name).summary}")
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
        print(f"usage: {usage}\nrecipes: {', '.join(registry.names())}; recipe flags: rnn-apps {command} RECIPE --help")
        return 0
    run_all = command == "compare" and "--all" in argv
    if run_all:
        argv = [token for token in argv if token != "--all"]
        if argv[:1] and argv[0] in registry.names():
            raise errors.expected("a recipe name or --all, not both", argv[0], name="compare")
        names, flags = list(registry.names()), argv
    else:
        if not argv or argv[0].startswith("-"):
            raise errors.expected(
                f"a recipe name, one of {list(registry.names())} ({usage})", argv[0] if argv else "none"
            )
        names, flags = [argv[0]], argv[1:]
    flags, output = _split_output_dir(flags)
    # Every recipe's flags are checked, from its Keras-free configuration, before
    # TensorFlow starts or any recipe trains.
    runs = []
    for name in names:
        folder = os.path.join(output, name) if output and run_all else output
        prog = f"rnn-apps {command} {name}"
        argv_of_recipe = [*flags, *(["--output-dir", folder] if folder else [])]
        config = checked_config(registry.config_class(name), argv_of_recipe, name, prog, registry.summary(name))
        runs.append((name, config, prog))
    for name, config, prog in runs:
        run_config(registry.get(name), config, prog)
    return 0


def _recipe_and_model(args):
    """The recipe and the ``--model`` path of ``predict`` and ``stream``, after the runtime is prepared."""
    runtime.configure()
    recipe = registry.get(args.recipe)
    path = pathlib.Path(args.model)
    if not path.is_file() or path.suffix != ".keras":
        raise errors.expected("an existing .keras model file", str(path), name="--model")
    return recipe, path


def _print_row(row: dict, form: str) -> None:
    """One prediction as one line: tab-separated values, or a JSON object; flushed, so a pipe sees it now."""
    text = json.dumps(row) if form == "json" else "\t".join(str(value) for value in row.values())
    print(text, flush=True)


def _file_options(method, args) -> dict:
    """``encoding=`` for a recipe method that reads inputs which are text files (``.ts`` series), else nothing.

    A recipe's ``predict`` or ``stream`` that takes an ``encoding`` keyword
    reads such files; the others get texts or audio, decoded already.
    """
    return {"encoding": args.encoding} if "encoding" in inspect.signature(method).parameters else {}


def _predict(args) -> int:
    recipe, path = _recipe_and_model(args)
    inputs = predict_inputs(args.inputs, encoding=args.encoding)
    if not inputs:
        raise errors.expected("at least one input to predict", "none")
    for prediction in recipe.predict(path, inputs, **_file_options(recipe.predict, args)):
        _print_row(prediction, args.format)
    return 0


def _stream(args) -> int:
    recipe, path = _recipe_and_model(args)
    if not args.inputs:
        raise errors.expected("at least one input to stream ('-' reads standard input)", "none")
    try:
        inputs = stream_inputs(args.inputs, encoding=args.encoding)
        for row in recipe.stream(path, inputs, **_file_options(recipe.stream, args)):
            _print_row(row, args.format)
    except KeyboardInterrupt:
        return INTERRUPTED  # the rows so far are printed; a stream ends when its reader stops it
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


_NO_STDIN = io.BytesIO()


def stream_inputs(values: list[str], stdin=None, encoding: str = text_files.DEFAULT_ENCODING):
    """The inputs of ``rnn-apps stream``, read lazily: ``-`` yields standard input line by line as it comes.

    ``@path`` and ``@@...`` mean what they mean for `predict_inputs`; blank
    lines of standard input are skipped (a pause in a stream is not an
    input).

    Examples:
        >>> import io
        >>> list(stream_inputs(["1.5", "-"], stdin=io.StringIO("2.0\\n\\n2.5\\n")))
        ['1.5', '2.0', '2.5']
    """
    if values.count("-") > 1:
        raise errors.expected("'-' (standard input) at most once", values.count("-"), name="inputs")
    for value in values:
        if value != "-":
            # '-' never reaches it: standard input stays unread.
            yield from predict_inputs([value], stdin=_NO_STDIN, encoding=encoding)
            continue
        for line in stdin if stdin is not None else sys.stdin:
            line = line.rstrip("\r\n")
            if line.strip():
                yield line


def _input_lines(content: bytes, source: str, encoding: str) -> list[tuple[str, str]]:
    """``(input, where)`` for each line of a ``-`` or ``@path`` source in ``encoding`` (split on ``\\n`` only)."""
    lines = text_files.decode(content, encoding, source).split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return [(line.removesuffix("\r"), f"{source}, line {number}") for number, line in enumerate(lines, 1)]


def predict_inputs(values: list[str], stdin=None, encoding: str = text_files.DEFAULT_ENCODING) -> list[str]:
    """The inputs of ``rnn-apps predict``: ``-`` and ``@path`` expanded, empty ones refused.

    ``-`` reads standard input and ``@path`` a file, one input per line (a
    text, or the path of a clip), decoded with ``encoding`` (``--encoding``,
    UTF-8 by default; a byte-order mark is dropped); ``@@...`` is a text that starts with
    ``@``. Every other value is one input as it stands (each recipe refuses
    an empty one in its own words).

    Raises:
        rnn_apps.errors.InputError: an empty or blank line, named by its
            number, ``-`` twice, an ``@path`` that cannot be read, or bytes
            that do not decode with ``encoding``.

    Examples:
        >>> import io
        >>> predict_inputs(["good", "-", "@@home"], stdin=io.BytesIO(b"one\\ntwo\\n"))
        ['good', 'one', 'two', '@home']
    """
    from rnn_apps import paths

    stdin = sys.stdin.buffer if stdin is None else stdin
    expanded: list[tuple[str, str]] = []
    if values.count("-") > 1:
        raise errors.expected("'-' (standard input) at most once", values.count("-"), name="inputs")
    for value in values:
        if value == "-":
            expanded += _input_lines(stdin.read(), "standard input", encoding)
        elif value.startswith("@") and not value.startswith("@@"):
            source = paths.input_path(value[1:], "@ followed by the path of a file of inputs")
            try:
                content = source.read_bytes()
            except OSError as error:
                raise errors.expected(
                    "@ followed by a readable file of inputs", f"{value} ({error.strerror})"
                ) from None
            expanded += _input_lines(content, str(source), encoding)
        else:
            expanded.append((value.removeprefix("@"), ""))
    for value, where in expanded:
        if where and not value.strip():
            raise errors.InputError(f"Expected a non-empty line (one input per line). Received: {value!r} ({where})")
    return [value for value, _ in expanded]


def _add_encoding(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--encoding",
        type=config_module.encoding_name,
        default=text_files.DEFAULT_ENCODING,
        help="encoding of @FILE input lists and of .ts series files (any codec Python knows: latin-1, cp1252, "
        "utf-16, ...); byte-order marks are ignored (default: utf-8)",
    )


def predict_parser() -> ArgumentParser:
    """Parser of ``rnn-apps predict``; inputs may come before or after flags."""
    parser = ArgumentParser(
        prog="rnn-apps predict",
        description="Predict with a saved model on raw inputs.",
        epilog="An INPUT of '-' reads standard input and '@FILE' reads FILE (UTF-8, or --encoding): one input per "
        "line, a text or the path of a clip, so texts longer than the command line allows can be given. '@@...' "
        "is a text starting with '@'. Empty inputs are refused.",
    )
    parser.add_argument("recipe", choices=registry.names())
    parser.add_argument("--model", required=True, help="path of a saved .keras model")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="one line per input")
    _add_encoding(parser)
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="raw inputs (texts, file paths), '-' or '@FILE'")
    return parser


def stream_parser() -> ArgumentParser:
    """Parser of ``rnn-apps stream``; inputs may come before or after flags."""
    parser = ArgumentParser(
        prog="rnn-apps stream",
        description="Run a saved recurrent model one step at a time, carrying its state, and print the "
        "prediction after each step (a word, an audio chunk, a frame, a price).",
        epilog="An INPUT of '-' reads standard input line by line as it arrives (stocks: one price per line); "
        "'@FILE' reads FILE, one input per line. Bidirectional models need the whole input and are refused.",
    )
    parser.add_argument("recipe", choices=registry.names())
    parser.add_argument("--model", required=True, help="path of a saved .keras model")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="one line per step")
    _add_encoding(parser)
    parser.add_argument(
        "inputs", nargs="*", metavar="INPUT", help="raw inputs (texts, file paths, prices), '-' or '@FILE'"
    )
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
    commands.add_parser("stream", help="predict step by step, carrying the state: stream RECIPE --model PATH INPUT...")
    commands.add_parser("export", help="export a saved model and check parity: export RECIPE --model PATH --format F")
    commands.add_parser("serve", help="serve a saved model over HTTP (JSON): serve RECIPE --model PATH [--port N]")
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] in (["run"], ["compare"]):
            return _recipe_command(argv[0], argv[1:])
        if argv[:1] == ["predict"]:
            return _predict(predict_parser().parse_intermixed_args(argv[1:]))
        if argv[:1] == ["stream"]:
            return _stream(stream_parser().parse_intermixed_args(argv[1:]))
        if argv[:1] == ["export"]:
            from rnn_apps.deploy import export  # its converters load only for this command

            return export.main(argv[1:])
        if argv[:1] == ["serve"]:
            from rnn_apps.deploy import serve  # the server library loads only for this command

            return serve.main(argv[1:])
        args = parser.parse_args(argv)
        return args.handler(args)
    except errors.InputError as error:
        _fail(parser.prog, error)


if __name__ == "__main__":
    sys.exit(main())
