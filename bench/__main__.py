"""Benchmarks on real data: ``python -m bench``.

    python -m bench list
    python -m bench run sentiment-mr --data-dir ../shared/datasets            # every fold / 3 seeds
    python -m bench run sentiment-trec --data-dir ../shared/datasets --seeds 5
    python -m bench run stocks-exchange_rate --data-dir ../shared/datasets   # a group: every horizon, one table
    python -m bench run stocks-acl18 --data-dir ../shared/datasets --runs-dir /tmp/runs   # keep the run folders
    python -m bench run sentiment-mr --data-dir ../shared/datasets --tune 8 --runs-dir /tmp/runs --resume  # go on
    python -m bench run video-natops --data-dir ../shared/datasets --models cnn --why "..."   # one family again
    python -m bench run sentiment-mr --data-dir ../shared/datasets --tune 8 --progress-dir bench/progress --resume
    python -m bench run speech-fsdd-loso-fraction --data-dir ../shared/datasets --tuned-like speech-fsdd-loso
    python -m bench custom --recipe sentiment --data my.csv --name sentiment-mine -- --task binary
    python -m bench speed --data-dir ../shared/datasets                      # speed tables
    python -m bench latency                                                  # one-example prediction latency
    python -m bench decoding --data-dir ../shared/datasets                   # translation decoding time
    python -m bench collect text_analysis-wikiann_en RUN_DIR RUN_DIR ...     # aggregate finished runs
    python -m bench collect stocks-exchange_rate RUN_DIR ...                 # a group's tables, printed

Results go to ``bench/results/<key>.json`` and ``.md`` (``--results-dir`` to
change), with the benchmark's own tables (`bench.specs.Benchmark.tables`)
after the main one; the data is read in place and never copied.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import sys
import tempfile

from bench import harness, specs

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def _run(
    key,
    recipe,
    data,
    recipe_args,
    folds,
    seeds,
    results_dir,
    quick,
    metrics,
    published=(),
    protocol="",
    tables=(),
    runs_dir=None,
    tune=None,
    keep_default=False,
    resume=False,
    remeasure=None,
    progress_dir=None,
    tune_once=False,
    borrowed=None,
    data_root=None,
) -> list[dict]:
    """Run every fold or seed, write ``<key>.json`` and ``.md``; the runs' reports.

    The run folders are ``<runs_dir>/<key>/seed_N`` (or ``fold_N``) when
    ``runs_dir`` is given, so `_collect` can tabulate them again; else they
    are removed. With ``tune`` (``(trials, epochs per trial)``), each run is
    made again with ``--tune`` (folders ``seed_N_tuned``) and the results
    file gains a ``tuned`` block; ``keep_default`` keeps the stored default
    rows instead of making them again. With ``resume`` a run folder that
    already holds a run is continued (`harness.run_recipe`), so a benchmark
    stopped part-way goes on where it stopped. With ``remeasure``
    (``(families, why)``) only those families run (``--model``), and their
    rows replace the stored ones (`harness.merge_models`). With
    ``progress_dir`` each finished run's report is also kept as
    ``<progress_dir>/<key>/<folder>.json`` (`harness.recall_or_run`), the
    run under way keeps its small state beside it (`harness.keep_state`),
    and with ``resume`` a run kept there is not made again and one kept
    part-way goes on from its finished trials and models; the records go once
    the results file is written. With ``tune_once`` the search runs in the
    first seed's tuned run only and the other seeds train with the settings
    it chose (``--tuned-from``), for benchmarks whose validation part is the
    same whatever the seed. With ``borrowed`` (`_borrowed_searches`), the
    tuned runs do not search: each trains with the settings that other
    benchmarks' searches chose in the run of the same label (fold or seed).
    ``data_root`` is the folder ``data`` lies under (``--data-dir``), which
    the progress records compare the dataset's path below.
    """
    if tune_once and folds:
        raise SystemExit("error: --tune-once is for seeds over one fixed split; a cross-validation tunes in each fold")
    stored = None
    if keep_default or remeasure:
        path = pathlib.Path(results_dir) / f"{key}.json"
        if not path.exists():
            flag = "--models" if remeasure else "--keep-default"
            raise SystemExit(f"error: {flag} needs a stored {path}; none exists")
        stored = json.loads(path.read_text())
    if remeasure:
        recipe_args = [*recipe_args, "--model", ",".join(remeasure[0])]
    reports, tuned_reports, labels = [], [], []
    records = pathlib.Path(progress_dir).resolve() / key if progress_dir else None
    with tempfile.TemporaryDirectory(prefix=f"bench-{key}-") as scratch:
        # Absolute: each recipe runs from the repository root.
        runs_root = pathlib.Path(runs_dir).resolve() / key if runs_dir else pathlib.Path(scratch)
        log_path = pathlib.Path(scratch) / "runs.log"
        with log_path.open("w") as log:
            if folds:
                plan = [
                    (f"fold {fold}", ["--seed", str(seeds[0]), "--folds", str(folds), "--fold", str(fold)])
                    for fold in range(folds)
                ]
            else:
                plan = [(f"seed {seed}", ["--seed", str(seed)]) for seed in seeds]
            for label, run_args in plan:
                argv = ["--data", str(data), *recipe_args, *run_args, *(["--quick"] if quick else [])]
                folder = runs_root / label.replace(" ", "_")
                search = ["--tune", str(tune[0]), "--tune-epochs", str(tune[1])] if tune else []
                if borrowed:
                    search = ["--tuned-from", _borrowed_settings(borrowed, label, recipe, [*recipe_args, *run_args])]

                def run(run_argv, run_folder):
                    record = records / f"{run_folder.name}.json" if records else None
                    return harness.recall_or_run(recipe, run_argv, run_folder, log, resume, record, data_root)

                try:
                    if stored is None or (remeasure and not keep_default):
                        reports.append(run(argv, folder))
                    if tune or borrowed:
                        if tune_once and tuned_reports:
                            search = ["--tuned-from", _chosen_settings(tuned_reports[0])]
                        tuned_reports.append(run([*argv, *search], folder.parent / f"{folder.name}_tuned"))
                except RuntimeError:
                    log.flush()
                    print(log_path.read_text()[-3000:], file=sys.stderr)
                    raise
                labels.append(label)
    if stored is not None and stored["runs"] != labels:
        raise SystemExit(f"error: the stored runs {stored['runs']} are not this plan's {labels}")
    if remeasure:
        made = _merge(key, results_dir, stored, remeasure, reports, tuned_reports, labels)
        _forget(records)
        return made
    if stored is not None:
        result = {key: value for key, value in stored.items() if key != "tuned"}
        result["tuned"] = harness.tuned_block(tuned_reports, labels, result, harness.command_line(), borrowed)
        # The stored page keeps its own tables and prose; only its tuned section is new.
        page = pathlib.Path(results_dir) / f"{key}.md"
        text = page.read_text() if page.exists() else harness.markdown(result)
        harness.publish(results_dir, key, result, harness.with_tuned(text, result))
        _forget(records)
        return tuned_reports
    result = {
        "key": key,
        "recipe": recipe,
        "data": str(data),
        "protocol": protocol,
        "metrics": list(metrics),
        "runs": labels,
        "models": harness.aggregate(reports, labels),
        "published": [list(row) for row in published],
        "machine": harness.machine(),
        "command": harness.command_line(),
        "recipe_command": reports[-1].get("command"),
        **({"signatures": reports[-1]["signatures"]} if "signatures" in reports[-1] else {}),
    }
    if tune or borrowed:
        result["tuned"] = harness.tuned_block(tuned_reports, labels, result, harness.command_line(), borrowed)
    harness.publish(results_dir, key, result, harness.markdown(result, harness.tables(tables, reports)))
    _forget(records)
    return reports


def _chosen_settings(report: dict) -> str:
    """The settings a tuned run's search chose per model, as the ``--tuned-from`` JSON of the next runs."""
    chosen = {name: entry["tuning"]["chosen"] for name, entry in report["models"].items() if entry.get("tuning")}
    return _settings_json(chosen)


def _settings_json(chosen: dict) -> str:
    """Settings per model as ``--tuned-from`` JSON, always spelled alike: progress records compare arguments as text."""
    return json.dumps(chosen, sort_keys=True, separators=(",", ":"))


def _borrowed_searches(keys: list[str], results_dir) -> dict:
    """What the searches of the stored benchmarks ``keys`` chose, for tuned runs that do not search.

    Returns ``{"from", "budget", "selection", "space", "chosen"}``, the
    families of all of them together (the first key that has a family gives
    its settings). The searches must have had one budget, so that every
    family is still tuned alike.
    """
    blocks = []
    for key in keys:
        path = pathlib.Path(results_dir) / f"{key}.json"
        tuned = json.loads(path.read_text()).get("tuned") if path.exists() else None
        if not tuned or tuned.get("settings_of"):
            raise SystemExit(f"error: --tuned-like needs {path} with tuned rows of its own search; it has none")
        blocks.append(tuned)
    budgets = {json.dumps(block["budget"], sort_keys=True) for block in blocks}
    if len(budgets) > 1:
        raise SystemExit(
            f"error: --tuned-like needs searches of one budget, so that every family is tuned alike; "
            f"{', '.join(keys)} had {' and '.join(sorted(budgets))}"
        )
    borrowed = {"from": list(keys), "budget": blocks[0]["budget"], "selection": blocks[0].get("selection")}
    borrowed["space"], borrowed["chosen"] = {}, {}
    for block in blocks:
        for name, per_run in block["chosen"].items():
            if name not in borrowed["chosen"]:
                borrowed["chosen"][name], borrowed["space"][name] = per_run, block["space"][name]
    return borrowed


def _families(recipe: str, recipe_args: list[str]) -> list[str]:
    """The model families ``recipe`` trains with ``recipe_args``: its ``--model`` list, ``all`` spelled out."""
    from rnn_apps.harness import registry  # imports no Keras

    text = "all"
    if "--model" in recipe_args:  # the last one wins, as in the recipe
        text = recipe_args[len(recipe_args) - recipe_args[::-1].index("--model")]
    if text != "all":
        return [name.strip() for name in text.split(",") if name.strip()]
    config_class = registry.config_class(recipe)
    return list(config_class.ALL_MODELS or config_class.MODEL_CHOICES)


def _borrowed_settings(borrowed: dict, label: str, recipe: str, recipe_args: list[str]) -> str:
    """The ``--tuned-from`` JSON of the run ``label``: what the borrowed searches chose in their run of that label.

    Every family the run trains must have settings there: one left out
    would train on its defaults and be counted among the tuned rows.
    """
    names = _families(recipe, recipe_args)
    lacking = [name for name in names if label not in borrowed["chosen"].get(name, {})]
    if lacking:
        raise SystemExit(
            f"error: --tuned-like {','.join(borrowed['from'])} chose no settings for {', '.join(lacking)} in {label}; "
            "run a search for them (--tune) or leave them out (--models)"
        )
    return _settings_json({name: borrowed["chosen"][name][label] for name in names})


def _forget(records) -> None:
    """Remove a benchmark's progress records once its results file holds them."""
    if records is not None and records.exists():
        shutil.rmtree(records)
        print(f"removed the progress records in {records}: the results file holds their runs", file=sys.stderr)


def _merge(key, results_dir, stored, remeasure, reports, tuned_reports, labels) -> list[dict]:
    """Put the rows of the families measured again into the stored ``<key>.json`` and ``.md``; the new reports."""
    names, why = remeasure
    command = harness.command_line()
    models = harness.aggregate(reports, labels) if reports else None
    tuned = harness.tuned_block(tuned_reports, labels, stored, command) if tuned_reports else None
    try:
        result = harness.merge_models(stored, names, models, tuned, why, command)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    page = pathlib.Path(results_dir) / f"{key}.md"
    text = page.read_text() if page.exists() else harness.markdown(result)
    merged = harness.with_model_table(text, result)
    if models is not None and merged == text:
        print(f"note: the first table of {page} is not the harness's own; edit its rows by hand", file=sys.stderr)
    merged = harness.with_per_run(harness.with_significance(merged, result["significance"]), result)
    if tuned is not None:
        merged = harness.with_tuned(merged, result)
    merged = harness.with_section(merged, harness.REMEASURED_HEADING, harness.remeasured_lines(result))
    harness.publish(results_dir, key, result, merged)
    return [*reports, *tuned_reports]


def _run_benchmark(spec: specs.Benchmark, args) -> list[dict]:
    reports = _run(
        spec.key,
        spec.recipe,
        (pathlib.Path(args.data_dir) / spec.data).resolve(),
        [*spec.args, *args.recipe_args],
        spec.folds if not args.quick else None,
        list(range(1, (args.seeds or spec.seeds) + 1)),
        args.results_dir,
        args.quick,
        spec.metrics,
        spec.published,
        spec.protocol,
        spec.tables,
        args.runs_dir,
        (args.tune, args.tune_epochs) if args.tune else None,
        args.keep_default,
        args.resume,
        (args.models, args.why) if args.models else None,
        args.progress_dir,
        args.tune_once,
        _borrowed_searches(args.tuned_like, args.results_dir) if args.tuned_like else None,
        pathlib.Path(args.data_dir).resolve(),
    )
    if spec.cnn_from:  # no CNN of its own: the paired test reads the companion's stored rows
        harness.refresh_significance(pathlib.Path(args.results_dir), [spec.key])
    return reports


def _collect(args) -> dict | None:
    """Aggregate run folders that already hold a ``metrics.json`` each.

    For runs made by hand with the recipe's own command (recorded in each
    ``metrics.json``), or kept by ``run --runs-dir``, so long runs need not
    be repeated to be tabulated. For a group, its tables are printed and
    nothing is written.
    """
    reports = harness.read_runs(args.runs)
    group = specs.GROUPS.get(args.key)
    if group:
        print(harness.tables(group.tables, reports))
        return None
    labels = [f"seed {report['seed']}" for report in reports]
    spec = specs.BENCHMARKS.get(args.key)
    metrics = list(spec.metrics) if spec else [reports[0]["primary_metric"]]
    result = {
        "key": args.key,
        "recipe": reports[0]["recipe"],
        "data": reports[0]["dataset"],
        "protocol": spec.protocol if spec else "",
        "metrics": metrics,
        "runs": labels,
        "models": harness.aggregate(reports, labels),
        "published": [list(row) for row in spec.published] if spec else [],
        "machine": harness.machine(),
        "command": "; ".join(report["command"] for report in reports),
        **({"signatures": reports[-1]["signatures"]} if "signatures" in reports[-1] else {}),
    }
    tables = harness.tables(spec.tables, reports) if spec else ""
    return harness.publish(args.results_dir, args.key, result, harness.markdown(result, tables))


def _names(text: str) -> list[str]:
    """A comma-separated list of names, empty entries left out."""
    return [name for name in text.split(",") if name]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks on real data.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the benchmarks")
    run = commands.add_parser("run", help="run one benchmark, or a group of them")
    run.add_argument("key", choices=sorted(specs.BENCHMARKS | specs.GROUPS))
    run.add_argument("--data-dir", required=True, help="folder with the benchmark datasets")
    run.add_argument(
        "--tune", type=int, default=None, metavar="N", help="also run each fold/seed with --tune N (tuned rows)"
    )
    run.add_argument("--tune-epochs", type=int, default=5, help="epochs of each --tune trial (default 5)")
    run.add_argument(
        "--tune-once",
        action="store_true",
        help="with --tune over seeds of one fixed split: search in the first seed's run only, the other seeds "
        "train with the settings it chose (--tuned-from)",
    )
    run.add_argument(
        "--tuned-like",
        type=_names,
        default=None,
        metavar="KEYS",
        help="tuned rows without a search of their own: each fold/seed trains with the settings that the stored "
        "searches of these benchmarks (comma-separated) chose in the same fold/seed, e.g. for a variant of a "
        "benchmark already tuned",
    )
    run.add_argument(
        "--keep-default",
        action="store_true",
        help="with --tune or --tuned-like: keep the stored default rows, run only the tuned",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="with --runs-dir: go on from the run folders there; a finished model is not trained again, "
        "an interrupted one continues from its last epoch (the recipe's --resume)",
    )
    run.add_argument(
        "--models",
        type=_names,
        default=None,
        metavar="NAMES",
        help="run only these model families (comma-separated) and put their rows into the stored results, "
        "the others' rows kept (with --tune, their tuned rows too; with --keep-default, only those)",
    )
    run.add_argument(
        "--progress-dir",
        type=pathlib.Path,
        default=None,
        help="also keep each finished run's report in DIR/KEY/ (small JSON files), and the small state of the run "
        "under way (finished models and tuning trials, no weights), so that --resume goes on from them on another "
        "machine or after the run folders are gone; removed once the results file is written",
    )
    run.add_argument("--why", default=None, help="with --models: what changed, recorded with the new rows")
    custom = commands.add_parser("custom", help="run a recipe on any data, several seeds")
    custom.add_argument("--recipe", required=True)
    custom.add_argument("--data", required=True)
    custom.add_argument("--name", required=True, help="results file name")
    custom.add_argument("--metric", action="append", default=None, help="metrics to tabulate (repeatable)")
    for sub in (run, custom):
        sub.add_argument("--runs-dir", type=pathlib.Path, default=None, help="keep the run folders here (KEY/seed_N)")
        sub.add_argument(
            "--seeds", type=int, default=None, help="number of seeds (1, 2, ...; default: the spec's, or 3)"
        )
        sub.add_argument("--results-dir", type=pathlib.Path, default=RESULTS)
        sub.add_argument("--quick", action="store_true", help="pass --quick to the recipe (harness checks)")
        sub.add_argument("recipe_args", nargs="*", help="extra recipe flags, after --")
    collect = commands.add_parser("collect", help="aggregate finished run folders (one metrics.json each)")
    collect.add_argument("key", help="results file name, e.g. text_analysis-wikiann_en, or a group")
    collect.add_argument("runs", nargs="+", help="run folders")
    collect.add_argument("--results-dir", type=pathlib.Path, default=RESULTS)
    speed = commands.add_parser("speed", help="speed tables (training throughput, FLOP/s, latency)")
    speed.add_argument("--data-dir", required=True)
    speed.add_argument("--results-dir", type=pathlib.Path, default=RESULTS)
    speed.add_argument("--repeats", type=int, default=3)
    speed.add_argument("--quick", action="store_true", help="a tiny configuration (harness checks)")
    latency = commands.add_parser("latency", help="single-example prediction latency of saved models")
    latency.add_argument("--recipes", type=lambda text: text.split(","), default=None, help="comma-separated")
    latency.add_argument("--calls", type=int, default=200, help="timed calls per model")
    latency.add_argument("--note", default=None, help="a line stored with the result (e.g. machine load)")
    latency.add_argument("--results-dir", type=pathlib.Path, default=RESULTS)
    decoding = commands.add_parser("decoding", help="translation decoding time: incremental against full prefix")
    decoding.add_argument("--data-dir", required=True, help="folder with the benchmark datasets")
    decoding.add_argument("--models-dir", default=None, help="a finished translation run (models/gru.keras, cnn)")
    decoding.add_argument("--epochs", type=int, default=None, help="training epochs (default: the benchmark's 4)")
    decoding.add_argument("--seed", type=int, default=1)
    decoding.add_argument("--single", type=int, default=100, help="sentences timed one at a time")
    decoding.add_argument("--repeats", type=int, default=1, help="timed batch runs per decoder (median)")
    decoding.add_argument("--note", default=None, help="a line stored with the result (e.g. machine load)")
    decoding.add_argument("--results-dir", type=pathlib.Path, default=RESULTS)
    # Everything after "--" goes to the recipe; argparse alone would match the empty
    # positional before it and refuse what follows when a positional key precedes it.
    argv = list(sys.argv[1:] if argv is None else argv)
    harness.given_arguments(argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    if hasattr(args, "recipe_args"):
        args.recipe_args = [*args.recipe_args, *extra]

    if args.command == "list":
        for key, spec in specs.BENCHMARKS.items():
            print(f"{key:<22} {spec.recipe:<14} {spec.data}")
        for key, group in specs.GROUPS.items():
            print(f"{key:<22} {'group':<14} {', '.join(group.members)}")
        return 0
    if args.command == "collect":
        _collect(args)
        return 0
    if args.command == "latency":
        from bench import latency as latency_module

        latency_module.main(args)
        return 0
    if args.command == "decoding":
        from bench import decoding as decoding_module

        decoding_module.main(args)
        return 0
    if args.command == "speed":
        from bench import speed as speed_module

        speed_module.main(args)
        return 0
    if args.command == "run":
        if args.resume and args.runs_dir is None and args.progress_dir is None:
            parser.error("--resume needs --runs-dir or --progress-dir (where the runs to go on from are)")
        if args.models is not None and not args.why:
            parser.error("--models needs --why (what changed, recorded with the new rows)")
        if args.why and args.models is None:
            parser.error("--why goes with --models")
        if args.tune_once and not args.tune:
            parser.error("--tune-once goes with --tune N")
        if args.tuned_like and args.models:
            parser.error("--tuned-like makes every family's tuned rows; it does not go with --models")
        if args.tuned_like and args.tune:
            parser.error("--tune N searches; --tuned-like uses other benchmarks' searches: give one of them")
        if args.keep_default and args.models and not args.tune:
            parser.error("--models with --keep-default makes nothing: add --tune")
        group = specs.GROUPS.get(args.key)
        if group is None:
            _run_benchmark(specs.BENCHMARKS[args.key], args)
            return 0
        reports = [report for key in group.members for report in _run_benchmark(specs.BENCHMARKS[key], args)]
        print(harness.tables(group.tables, reports))
    else:
        seeds = list(range(1, (args.seeds or 3) + 1))
        _run(
            args.name,
            args.recipe,
            args.data,
            args.recipe_args,
            None,
            seeds,
            args.results_dir,
            args.quick,
            args.metric or ["accuracy"],
            runs_dir=args.runs_dir,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
