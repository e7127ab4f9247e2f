"""Run a recipe several times on real data and aggregate the runs.

Every run is a separate process (``python -m recipes.<name> ...``), so runs do
not share graph state or memory, and the command of each is exactly what a
user would type. The aggregate holds, per model and metric, the mean, the
sample standard deviation and every run's value. A benchmark may add tables
of its own (`TABLES`: movement counts, per-seed values, one column per
forecast horizon), made from the runs' ``metrics.json`` files. Under the
main table, a paired test over the same runs (`significance`) says whether
the best recurrent model and the CNN (and, for forecasts, the best model and
the best naive baseline) differ measurably, and a table gives every run's
value of the primary metric, the numbers that test reads; stored results
get both again, without retraining, from their per-run values::

    python -c "from bench import harness; harness.refresh_significance()"
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def machine() -> dict:
    """CPU model, core and thread counts, and library versions of this machine."""
    model = platform.processor() or "unknown"
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    info = {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for module in ("tensorflow", "keras", "numpy"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    return info


def run_recipe(recipe: str, argv: list[str], output_dir: pathlib.Path, log, resume: bool = False, keep=None) -> dict:
    """Run one recipe in a subprocess and return its ``metrics.json``.

    With ``resume``, a folder that already holds a run (its ``run.json``) is
    continued with the recipe's ``--resume``: the recipe refuses a run of
    other settings, reads back the models that finished and goes on with the
    one that was interrupted (a tuning search from its finished trials).
    With ``keep`` (a folder), the run's small state files are copied there
    every `KEEP_EVERY` seconds while it runs (`keep_state`), and a resumed
    run whose folder is gone starts from that copy (`restore_state`); the
    copy goes when the run finishes.
    """
    output_dir = pathlib.Path(output_dir)
    if resume and keep is not None and not (output_dir / "run.json").exists():
        restored = restore_state(keep, output_dir)
        if restored:
            print(f"+ {output_dir.name}: {restored} state files restored from {keep}", flush=True)
    if resume and (output_dir / "run.json").exists():
        argv = [*argv, "--resume"]
    command = [sys.executable, "-m", f"recipes.{recipe}", *argv, "--output-dir", str(output_dir), "--verbose", "0"]
    print("+", " ".join(command[1:]), flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    returncode = None
    try:
        while returncode is None:
            try:
                returncode = process.wait(timeout=KEEP_EVERY if keep is not None else None)
            except subprocess.TimeoutExpired:
                keep_state(output_dir, keep)
    finally:
        if returncode is None:  # Ctrl-C or a stop signal: the recipe goes too
            process.kill()
            process.wait()
        if keep is not None and returncode != 0:
            keep_state(output_dir, keep)  # what it finished, for --resume
    if returncode != 0:
        raise RuntimeError(f"run failed with status {returncode}: {' '.join(command)}")
    print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    report = json.loads((output_dir / "metrics.json").read_text())
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)
    return report


KEEP_EVERY = 60.0
"""Seconds between two copies of a running run's state (`keep_state`)."""

KEPT_SUFFIXES = (".json", ".csv")
KEPT_MAX_BYTES = 1 << 20
SKIPPED_FOLDERS = {"backups", "checkpoints", "models"}
"""Folders of weights and training state: a kept copy leaves them out, so what they held is done again."""


def _kept_files(folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """The files of ``folder`` a kept copy holds, by their path relative to it."""
    if not folder.is_dir():
        return {}
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (
            path.is_file()
            and path.suffix in KEPT_SUFFIXES
            and not SKIPPED_FOLDERS.intersection(relative.parts[:-1])
            and path.stat().st_size <= KEPT_MAX_BYTES
        ):
            files[relative.as_posix()] = path
    return files


def keep_state(run_folder: pathlib.Path, keep: pathlib.Path) -> int:
    """Copy the small state of a running run to ``keep``; the number of files that changed.

    Kept: the JSON and CSV files up to `KEPT_MAX_BYTES` outside
    `SKIPPED_FOLDERS`: the run's fingerprint (``run.json``), the records of
    the models that finished (``partial/``), a tuning search's oracle and
    finished trials, the training logs. Left out: weights, checkpoints and
    the mid-epoch state of the model in training. A run resumed from the
    copy (`restore_state`) keeps every finished trial and model result; it
    trains again the model or trial that was under way, from its first
    epoch, and the models that finished keep their results, not their
    ``.keras`` files. Each file is written whole before it replaces the old
    copy, and files no longer in the run go from the copy.

    Examples:
        >>> import tempfile
        >>> run, keep = (pathlib.Path(tempfile.mkdtemp()) for _ in range(2))
        >>> _ = (run / "run.json").write_text("{}")
        >>> (run / "tuning/gru/trial_0").mkdir(parents=True)
        >>> _ = (run / "tuning/gru/trial_0/trial.json").write_text("{}")
        >>> (run / "backups/gru").mkdir(parents=True)
        >>> _ = (run / "backups/gru/state.json").write_text("{}")
        >>> keep_state(run, keep), keep_state(run, keep)
        (2, 0)
        >>> sorted(path.relative_to(keep).as_posix() for path in keep.rglob("*.json"))
        ['run.json', 'tuning/gru/trial_0/trial.json']
        >>> _ = (run / "tuning/gru/oracle.json").write_text('{"trials": [')  # caught while being written
        >>> keep_state(run, keep), (keep / "tuning/gru/oracle.json").exists()
        (0, False)
    """
    from rnn_apps import io

    run_folder, keep = pathlib.Path(run_folder), pathlib.Path(keep)
    files = _kept_files(run_folder)
    changed = 0
    for relative, path in files.items():
        try:
            content = path.read_bytes()
        except FileNotFoundError:  # the run removed it meanwhile
            continue
        target = keep / relative
        if target.exists() and target.read_bytes() == content:
            continue
        if path.suffix == ".json" and not _whole_json(content):
            continue  # caught while being written: the next copy takes it
        with io.atomic_path(target) as temporary:
            temporary.write_bytes(content)
        changed += 1
    for relative in set(_kept_files(keep)) - set(files):
        (keep / relative).unlink()
    return changed


def _whole_json(content: bytes) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


def restore_state(keep: pathlib.Path, run_folder: pathlib.Path) -> int:
    """Copy a kept state (`keep_state`) into ``run_folder``, so ``--resume`` goes on from it; the files copied."""
    files = _kept_files(pathlib.Path(keep))
    for relative, path in files.items():
        target = pathlib.Path(run_folder) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return len(files)


def recall_or_run(
    recipe: str, argv: list[str], output_dir: pathlib.Path, log, resume: bool = False, record=None, data_root=None
) -> dict:
    """`run_recipe`, or with ``resume`` the report an earlier sitting kept in ``record``.

    ``record`` (a JSON path under ``--progress-dir``) outlives the run
    folder: a benchmark of many hours can go on on another machine, or after
    its scratch space is gone, from the runs that finished. Each finished run
    is written there with the recipe and arguments that made it; a record of
    other arguments stops the benchmark rather than being mixed in. With
    ``data_root`` (the ``--data-dir`` the dataset lies under) the record
    keeps it too, and ``--data`` is compared below it: the same dataset read
    from another folder or machine is the same run. While a run is under
    way its small state is kept beside the record (``<record>.unfinished``,
    `keep_state`), so a search of many trials goes on from the trials that
    finished even when the run folder is gone; that state holds the
    dataset's path, so it resumes where the data lies at the same path.

    Examples:
        >>> import io, tempfile
        >>> record = pathlib.Path(tempfile.mkdtemp()) / "seed_1.json"
        >>> _ = record.write_text(json.dumps({"recipe": "speech", "argv": ["--seed", "1"], "report": {"models": {}}}))
        >>> recall_or_run("speech", ["--seed", "1"], record.parent, io.StringIO(), True, record)
        + seed_1: kept from an earlier sitting
        {'models': {}}
        >>> recall_or_run("speech", ["--seed", "2"], record.parent, io.StringIO(), True, record)
        Traceback (most recent call last):
        SystemExit: error: ... holds a run of other arguments; expected ['--seed', '2'], found ['--seed', '1']
    """
    record = pathlib.Path(record) if record is not None else None
    if resume and record is not None and record.exists():
        kept = json.loads(record.read_text())
        # A record written without its data root was made on this layout, as far as it can tell.
        kept_root = kept.get("data_root", data_root)
        if kept.get("recipe") != recipe or _below(kept.get("argv"), kept_root) != _below(argv, data_root):
            raise SystemExit(
                f"error: {record} holds a run of other arguments; expected {argv}, found {kept.get('argv')}"
            )
        print(f"+ {record.stem}: kept from an earlier sitting", flush=True)
        return kept["report"]
    keep = record.with_name(f"{record.stem}.unfinished") if record is not None else None
    report = run_recipe(recipe, argv, output_dir, log, resume, keep)
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        where = {"data_root": str(data_root)} if data_root else {}
        kept = {"recipe": recipe, "argv": argv, **where, "report": report}
        record.write_text(json.dumps(kept, indent=1) + "\n")
    return report


def _below(argv, data_root) -> list | None:
    """``argv`` with its ``--data`` path written relative to ``data_root`` (unchanged where it is not below it).

    Examples:
        >>> _below(["--data", "/mnt/sets/speech/fsdd", "--seed", "1"], "/mnt/sets")
        ['--data', 'speech/fsdd', '--seed', '1']
        >>> _below(["--data", "/elsewhere/fsdd"], "/mnt/sets")
        ['--data', '/elsewhere/fsdd']
    """
    if argv is None or data_root is None or "--data" not in argv[:-1]:
        return argv
    at = argv.index("--data") + 1
    try:
        relative = pathlib.PurePath(argv[at]).relative_to(data_root).as_posix()
    except ValueError:
        return argv
    return [*argv[:at], relative, *argv[at + 1 :]]


def aggregate(reports: list[dict], labels: list[str]) -> dict:
    """Per model: mean, standard deviation and per-run values of every metric.

    Args:
        reports: the ``metrics.json`` of each run.
        labels: a name for each run (``seed 1``, ``fold 3``).

    Returns:
        ``{model: {"metrics": {name: {"mean", "std", "values"}}, "params", ...}}``.

    Examples:
        >>> runs = [{"models": {"m": {"metrics": {"accuracy": a}, "params": 3, "train_seconds": 2.0,
        ...          "epochs": 2, "predict_ms_per_sample": 0.5, "fast_kernel": True}}} for a in (0.5, 0.7)]
        >>> summary = aggregate(runs, ["seed 1", "seed 2"])["m"]
        >>> summary["metrics"]["accuracy"]["mean"], summary["train_seconds_per_epoch"]["mean"]
        (0.6, 1.0)
    """
    models = {}
    for name in reports[0]["models"]:
        entries = [report["models"][name] for report in reports]
        metrics = {}
        for metric in entries[0]["metrics"]:
            # A metric can be undefined for a model (a naive forecast has no
            # direction to score): such runs are left out of its summary.
            pairs = [
                (label, float(entry["metrics"][metric]))
                for label, entry in zip(labels, entries)
                if entry["metrics"].get(metric) is not None
            ]
            if pairs:
                metrics[metric] = _summary([value for _, value in pairs], [label for label, _ in pairs])
        per_epoch = [entry["train_seconds"] / entry["epochs"] for entry in entries if entry.get("epochs")]
        models[name] = {
            "metrics": metrics,
            "params": entries[0]["params"],
            "train_seconds": _summary([float(entry["train_seconds"]) for entry in entries], labels),
            "train_seconds_per_epoch": _summary(per_epoch, labels) if per_epoch else None,
            "epochs": [entry.get("epochs") for entry in entries],
            "predict_ms_per_sample": _summary([float(entry["predict_ms_per_sample"]) for entry in entries], labels),
            "fast_kernel": entries[0]["fast_kernel"],
        }
    return models


def _summary(values: list[float], labels: list[str]) -> dict:
    return {
        "mean": round(statistics.fmean(values), 6),
        "std": round(statistics.stdev(values), 6) if len(values) > 1 else 0.0,
        "values": dict(zip(labels, [round(v, 6) for v in values])),
    }


def markdown(result: dict, tables: str = "") -> str:
    """The results file: protocol, our table, the benchmark's own ``tables``, the published numbers, the command."""
    metrics = result["metrics"]
    models = result["models"]
    primary = metrics[0]
    order = best_first(models, primary)
    runs = result["runs"]
    lines = [
        f"# {result['key']}",
        "",
        f"{result['recipe']} recipe on `{result['data']}`, {len(runs)} runs ({', '.join(runs)}).",
        "",
    ]
    if result.get("protocol"):
        lines += [result["protocol"], ""]
    lines += model_table(models, metrics, order)
    block = result.get("significance") or significance(result)
    if block:
        lines += ["", *significance_lines(block)]
    lines += ["", *per_run_lines(models, primary, runs, order)]
    if result.get("signatures"):
        lines += ["", "sacreBLEU signatures:", ""]
        lines += [f"- {metric}: `{signature}`" for metric, signature in result["signatures"].items()]
    if result.get("tuned"):
        lines += ["", *tuned_lines(result)]
    if tables:
        lines += ["", tables]
    if result.get("published"):
        lines += ["", "Published, for comparison:", "", "| system | result | note |", "|---|---|---|"]
        lines += [f"| {system} | {value} | {note} |" for system, value, note in result["published"]]
    info = result["machine"]
    lines += [
        *footer(info, result["command"], "Timings are wall-clock on this machine."),
    ]
    return "\n".join(lines)


def best_first(models: dict, metric: str) -> list[str]:
    """The model names of ``models``, best ``metric`` mean first; models without it last.

    Examples:
        >>> best_first({"a": {"metrics": {"rse": {"mean": 0.2}}}, "b": {"metrics": {"rse": {"mean": 0.1}}},
        ...             "c": {"metrics": {}}}, "rse")
        ['b', 'a', 'c']
    """
    from rnn_apps.harness import compare

    sign = 1 if compare.higher_is_better(metric) else -1

    def rank(name):
        summary = models[name]["metrics"].get(metric)
        return -sign * summary["mean"] if summary else float("inf")

    return sorted(models, key=rank)


def model_table(models: dict, metrics: list[str], order: list[str]) -> list[str]:
    """One Markdown row per model of ``order``: each metric's mean ± sd, size and timings."""
    header = ["model", *[f"{m} (mean ± sd)" for m in metrics], "params", "train s/epoch", "ms/sample", "fast kernel"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in order:
        entry = models[name]
        cells = [name]
        for metric in metrics:
            summary = entry["metrics"].get(metric)
            cells.append(f"{summary['mean']:.4f} ± {summary['std']:.4f}" if summary else "n/a")
        per_epoch = entry["train_seconds_per_epoch"]
        cells += [
            f"{entry['params']:,}",
            f"{per_epoch['mean']:.1f}" if per_epoch else "n/a",
            f"{entry['predict_ms_per_sample']['mean']:.3f}",
            {True: "yes", False: "no", None: "n/a"}[entry["fast_kernel"]],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def tuned_block(
    reports: list[dict], labels: list[str], result: dict, command: str, borrowed: dict | None = None
) -> dict:
    """The ``tuned`` block of a results file: the same runs with ``--tune``, per model family.

    Args:
        reports: each tuned run's ``metrics.json``, in the order of ``labels``.
        labels: the runs (``fold 0``, ``seed 1``), the same as the default rows'.
        result: the results file so far (recipe, metrics), for the paired test.
        command: the command that made the tuned runs.
        borrowed: for runs that did not search but trained with the settings other
            benchmarks' searches chose in the same runs (``bench run --tuned-like``):
            ``{"from", "budget", "selection", "space"}`` of those searches.

    Returns:
        ``{"budget", "selection", "models", "space", "chosen", "significance", "command"}``: the
        search budget every family got, the settings each run chose, and the paired test of the
        tuned best recurrent model against the tuned CNN; with ``borrowed``, also
        ``"settings_of"``: the benchmarks the settings came from.
    """
    trained = [name for name, entry in reports[0]["models"].items() if entry.get("tuning")]
    tuned_reports = [{"models": {name: report["models"][name] for name in trained}} for report in reports]
    models = aggregate(tuned_reports, labels)
    if borrowed is not None:
        searched = {"budget": borrowed["budget"], "settings_of": borrowed["from"], "selection": borrowed["selection"]}
        space = {name: borrowed["space"][name] for name in trained}
    else:
        first = reports[0]["models"][trained[0]]["tuning"] if trained else {}
        reused = [
            label
            for label, report in zip(labels, reports)
            if any("settings_from" in (report["models"][name].get("tuning") or {}) for name in trained)
        ]
        searched = {
            "budget": {"trials": first.get("trials"), "epochs_per_trial": first.get("epochs_per_trial")},
            **({"searched_in": labels[0], "reused_in": reused} if reused else {}),
            "selection": first.get("selected_on"),
        }
        space = {name: reports[0]["models"][name]["tuning"]["space"] for name in trained}
    block = {
        **searched,
        "models": models,
        "space": space,
        "chosen": {
            name: {label: report["models"][name]["tuning"]["chosen"] for label, report in zip(labels, reports)}
            for name in trained
        },
        "command": command,
    }
    paired = significance({**result, "models": models, "runs": labels})
    if paired:
        block["significance"] = paired
    return block


def searches_of(keys: list[str], quote: str = "") -> str:
    """The benchmarks whose searches gave borrowed settings (``tuned.settings_of``), as a phrase.

    Examples:
        >>> searches_of(["a"], "`"), searches_of(["a", "b"])
        ('the search of `a`', 'the searches of a, b')
    """
    names = ", ".join(f"{quote}{key}{quote}" for key in keys)
    return f"the {'searches' if len(keys) > 1 else 'search'} of {names}"


def tuned_lines(result: dict) -> list[str]:
    """The results file's section on the tuned runs: budget, table, paired test, chosen settings."""
    tuned, metrics = result["tuned"], result["metrics"]
    models = tuned["models"]
    order = best_first(models, metrics[0])
    budget = tuned["budget"]
    search = (
        f"`--tune {budget['trials']} --tune-epochs {budget['epochs_per_trial']}`: every model family gets "
        f"{budget['trials']} trials of a random search (KerasTuner) over the settings its factory exposes, each "
        f"trial scored by {tuned.get('selection') or 'its validation loss'} on the validation part of the run's own "
        "training data"
    )
    if tuned.get("settings_of"):
        opening = (
            "The same runs, without a search of their own: each trains with the settings that "
            f"{searches_of(tuned['settings_of'], '`')} chose in the same run "
            f"({search}); the test part of a run took no part in choosing them. "
            "The settings then train as usual (`--tuned-from`) and are scored once on the test part."
        )
    else:
        opening = f"The same runs with {search}; the chosen settings then train as usual and are scored once on "
        opening += "the test part."
    lines = [
        "## Tuned",
        "",
        opening,
        *(
            [
                f"The search ran once, in {tuned['searched_in']}; {', '.join(tuned['reused_in'])} train with the "
                "settings it chose (`--tuned-from`), the validation part being the same for every seed."
            ]
            if tuned.get("searched_in")
            else []
        ),
        "",
        *model_table(models, metrics, order),
    ]
    if tuned.get("significance"):
        lines += ["", *significance_lines(tuned["significance"])]
    if result.get("runs"):
        lines += ["", *per_run_lines(models, metrics[0], result["runs"], order)]
    lines += ["", "Settings chosen per run:", ""]
    for name, per_run in tuned["chosen"].items():
        runs = "; ".join(f"{label}: {_settings_text(chosen)}" for label, chosen in per_run.items())
        lines.append(f"- {name}: {runs}")
    lines += ["", "Search space:", ""]
    lines += [f"- {name}: {_settings_text(space)}" for name, space in tuned["space"].items()]
    lines += ["", "Tuned runs' command:", "", f"    {tuned['command']}"]
    return lines


def with_section(text: str, heading: str, section: list[str]) -> str:
    """A stored results page with the section ``heading`` (a ``## `` line) put in or replaced, the rest as it was.

    An older section is replaced where it stands (it ends at the next ``## `` heading, the published
    numbers or the machine line); a new one goes before the published numbers or the machine line,
    whichever comes first, else at the end. ``section`` starts with ``heading``.

    Examples:
        >>> page = with_section("# k\\n\\n| a |\\n\\nMachine: x\\n", "## B", ["## B", "", "b"])
        >>> page.index("## B") < page.index("Machine:"), with_section(page, "## B", ["## B", "", "b"]) == page
        (True, True)
    """
    lines = text.rstrip("\n").splitlines()
    at = None
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        for marker in ("Published, for comparison:", "Machine:"):
            end = min([end, *(i for i in range(start + 1, len(lines)) if lines[i].startswith(marker))])
        del lines[start:end]
        while start < len(lines) and start > 0 and not lines[start - 1] and not lines[start]:
            del lines[start]
        at = start  # an older section is replaced where it stood
    if at is None:
        markers = ("## Published", "Published, for comparison:", "Machine:")
        at = next((i for i, line in enumerate(lines) if line.startswith(markers)), len(lines))
    section = [*section, ""]
    if at == len(lines):
        section = ["", *section]
    return "\n".join(lines[:at] + section + lines[at:]) + "\n"


def with_tuned(text: str, result: dict) -> str:
    """A stored results page with its ``## Tuned`` section put in (or replaced), the rest left as it was.

    Examples:
        >>> result = {"metrics": ["accuracy"], "tuned": {"budget": {"trials": 2, "epochs_per_trial": 1},
        ...     "models": {}, "chosen": {}, "space": {}, "command": "c"}}
        >>> page = with_tuned("# k\\n\\n| a |\\n\\nMachine: x\\n", result)
        >>> page.index("## Tuned") < page.index("Machine:"), with_tuned(page, result) == page
        (True, True)
    """
    return with_section(text, "## Tuned", tuned_lines(result))


REMEASURED_HEADING = "## Remeasured"


def remeasured_lines(result: dict) -> list[str]:
    """The results page's record of model families measured again after the rest (``remeasured`` entries)."""
    lines = [
        REMEASURED_HEADING,
        "",
        "Rows made again after the rest of this page, over the same runs; the other families' rows are the "
        "earlier ones:",
        "",
    ]
    for entry in result.get("remeasured") or []:
        lines.append(f"- {', '.join(entry['models'])} ({entry['rows']} rows): {entry['why']}. `{entry['command']}`")
    return lines


def merge_models(
    stored: dict, names: list[str], models: dict | None, tuned: dict | None, why: str, command: str
) -> dict:
    """``stored`` (a results file) with the rows of the families ``names`` replaced by newer runs of them.

    For a change that touches some model families only (one factory's
    default, say): those families run again over the same folds or seeds
    and their rows replace the stored ones, the paired tests are made again,
    and a ``remeasured`` entry (families, rows, why, command, machine)
    records it.

    Args:
        stored: the results file as stored.
        names: the families measured again.
        models: their new default rows (`aggregate` of the new runs), or `None` to keep the stored ones.
        tuned: the new runs' `tuned_block`, or `None` to keep the stored tuned rows.
        why: what changed, for the record.
        command: the command that made the new runs.

    Raises:
        ValueError: a family is missing from the new runs, or tuned rows are to be merged into a file
            without any, or with another search budget (the families would no longer be tuned alike).

    Examples:
        >>> runs = ["seed 1", "seed 2"]
        >>> def entry(a, b):
        ...     return {"params": 5, "metrics": {"accuracy": {"mean": (a + b) / 2, "values": dict(zip(runs, (a, b)))}}}
        >>> stored = {"recipe": "video", "metrics": ["accuracy"], "runs": runs,
        ...           "models": {"gru": entry(0.8, 0.9), "cnn": entry(0.7, 0.8)}}
        >>> merged = merge_models(stored, ["cnn"], {"cnn": entry(0.9, 0.95)}, None, "a new default", "c")
        >>> [r["models"]["cnn"]["metrics"]["accuracy"]["mean"] for r in (merged, stored)]
        [0.925, 0.75]
        >>> merged["remeasured"][0]["models"], merged["remeasured"][0]["rows"], merged["remeasured"][0]["why"]
        (['cnn'], 'default', 'a new default')
    """
    result = json.loads(json.dumps(stored))
    rows = []
    if models is not None:
        missing = [name for name in names if name not in models]
        if missing:
            raise ValueError(f"the new runs hold no default rows for {missing}; they hold {sorted(models)}")
        result["models"].update({name: models[name] for name in names})
        rows.append("default")
    if tuned is not None:
        old = result.get("tuned")
        if not old:
            raise ValueError("the stored results have no tuned rows to merge into; tune every family first")
        if old["budget"] != tuned["budget"]:
            raise ValueError(f"the stored tuned rows had the budget {old['budget']}, these {tuned['budget']}")
        missing = [name for name in names if name not in tuned["models"]]
        if missing:
            raise ValueError(f"the new runs hold no tuned rows for {missing}; they hold {sorted(tuned['models'])}")
        for part in ("models", "chosen", "space"):
            old[part].update({name: tuned[part][name] for name in names})
        paired = significance({**result, "models": old["models"]})
        if paired is not None:
            old["significance"] = paired
        rows.append("tuned")
    block = significance(result)
    if block is not None:
        result["significance"] = block
    result.setdefault("remeasured", []).append(
        {"models": list(names), "rows": " and ".join(rows), "why": why, "command": command, "machine": machine()}
    )
    return result


def with_model_table(text: str, result: dict) -> str:
    """A stored page with its first table made again from ``result``, where that table is the harness's own.

    A table written by hand (another header) is left as it is; the caller says so.
    """
    metrics, models = result["metrics"], result["models"]
    table = model_table(models, metrics, best_first(models, metrics[0]))
    lines = text.splitlines()
    try:
        start, end = _first_table(lines)
    except StopIteration:  # no table at all
        return text
    if lines[start] != table[0]:
        return text
    trailing = "\n" if text.endswith("\n") else ""
    return "\n".join(lines[:start] + table + lines[end:]) + trailing


def _settings_text(settings: dict) -> str:
    return ", ".join(f"{field}={value}" for field, value in settings.items())


SIGNIFICANCE_HEADING = "Paired test over the same runs"


def significance(result: dict, resamples: int = 10000, seed: int = 0, cnn=None) -> dict | None:
    """The ``significance`` block of a results file: paired tests on the primary metric (the first of ``metrics``).

    The best recurrent model (by mean) against the CNN; for the stocks
    recipe also the best trained model against the best naive baseline
    (no parameters), the one a forecaster must beat. Each comparison is
    `rnn_apps.harness.significance.paired_comparison` over the runs both
    models share. A result without a CNN of its own is paired with
    ``cnn``, ``(name, model entry)`` from a companion benchmark
    (`companion_cnn`), when given.

    Returns:
        ``{"metric", "test", "interval", "alpha", "comparisons": [...]}``, or
        `None` when the result has no per-run values or nothing to compare.

    Examples:
        >>> runs = ["seed 1", "seed 2", "seed 3"]
        >>> def entry(values, params=10):
        ...     return {"params": params, "metrics": {"accuracy": {"mean": sum(values) / 3,
        ...             "values": dict(zip(runs, values))}}}
        >>> result = {"recipe": "sentiment", "metrics": ["accuracy"], "runs": runs, "models": {
        ...     "lstm": entry([0.80, 0.82, 0.81]), "gru": entry([0.79, 0.80, 0.80]), "cnn": entry([0.78, 0.79, 0.80])}}
        >>> [(c["models"], c["p"], c["verdict"]) for c in significance(result)["comparisons"]]
        [(['lstm', 'cnn'], 0.25, 'no measurable difference')]
    """
    from rnn_apps.harness import compare
    from rnn_apps.harness import significance as tests

    models, metrics = result.get("models") or {}, result.get("metrics") or []
    if not metrics or not result.get("runs"):
        return None
    metric = metrics[0]
    sign = 1 if compare.higher_is_better(metric) else -1
    scored = {
        name: entry["metrics"][metric]
        for name, entry in models.items()
        if (entry.get("metrics") or {}).get(metric, {}).get("values")
    }
    if cnn is not None and "cnn" not in scored and (cnn[1].get("metrics") or {}).get(metric, {}).get("values"):
        scored[cnn[0]] = cnn[1]["metrics"][metric]

    def best(names):
        names = [name for name in names if name in scored]
        return max(names, key=lambda name: sign * scored[name]["mean"]) if names else None

    pairs = [("best recurrent against CNN", best(compare.RECURRENT), best(["cnn", *(cnn[:1] if cnn else ())]))]
    if result.get("recipe") == "stocks":
        trained = [name for name in scored if models[name].get("params")]
        naive = [name for name in scored if not models[name].get("params")]
        pairs.append(("best model against best naive baseline", best(trained), best(naive)))
    comparisons = []
    for label, first, second in pairs:
        if first and second:
            comparison = tests.paired_comparison(
                scored[first]["values"],
                scored[second]["values"],
                (first, second),
                metric,
                sign > 0,
                resamples=resamples,
                seed=seed,
            )
            comparisons.append({"comparison": label, **comparison})
    if not comparisons:
        return None
    return {
        "metric": metric,
        "test": tests.TEST_NAME,
        "interval": comparisons[0]["interval"],
        "alpha": 0.05,
        "comparisons": comparisons,
    }


def significance_lines(block: dict) -> list[str]:
    """The Markdown lines under a results table: one bullet per paired comparison."""
    from rnn_apps.harness import significance as tests

    lines = [
        f"{SIGNIFICANCE_HEADING} ({block['test']}; 95% CI of the mean difference by {block['interval']}; "
        "a lesson needs p < 0.05):",
        "",
    ]
    return lines + [
        f"- {comparison['comparison']}: {tests.sentence(comparison)}" for comparison in block["comparisons"]
    ]


PER_RUN_HEADING = "Per run"


def _run_value(value: float) -> str:
    # Four decimals, or six for small errors such as RSE (0.017122), whose runs differ in the fifth.
    return f"{value:.4f}" if abs(value) >= 0.1 or value == 0 else f"{value:.6f}"


def per_run_lines(models: dict, metric: str, runs: list[str], order: list[str]) -> list[str]:
    """A table of ``metric`` for every model of ``order`` in every run (fold or seed): what the paired tests read.

    Examples:
        >>> models = {"cnn": {"metrics": {"rse": {"values": {"seed 1": 0.017133, "seed 2": 0.01713}}}},
        ...           "gru": {"metrics": {}}}
        >>> print("\\n".join(per_run_lines(models, "rse", ["seed 1", "seed 2"], ["cnn", "gru"])))
        Per run (rse):
        <BLANKLINE>
        | model | seed 1 | seed 2 |
        |---|---|---|
        | cnn | 0.017133 | 0.017130 |
        | gru | n/a | n/a |
    """
    lines = [
        f"{PER_RUN_HEADING} ({metric}):",
        "",
        "| model | " + " | ".join(runs) + " |",
        "|---" * (len(runs) + 1) + "|",
    ]
    for name in order:
        values = (models[name]["metrics"].get(metric) or {}).get("values") or {}
        cells = [name, *(_run_value(values[run]) if run in values else "n/a" for run in runs)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _first_table(lines: list[str]) -> tuple[int, int]:
    """``(start, end)``: the line range of the first Markdown table of ``lines`` (`StopIteration` if none)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return start, end


def with_per_run(text: str, result: dict) -> str:
    """A results file's Markdown with the per-run table of its default rows under the paired test (or the first
    table), replacing an older one.

    Examples:
        >>> result = {"metrics": ["accuracy"], "runs": ["fold 0"], "models": {
        ...     "cnn": {"metrics": {"accuracy": {"mean": 0.9, "values": {"fold 0": 0.9}}}}}}
        >>> text = with_per_run("# k\\n\\n| a |\\n|---|\\n| 1 |\\n\\nCommand:\\n", result)
        >>> text.splitlines()[6], text.splitlines()[-3], text == with_per_run(text, result)
        ('Per run (accuracy):', '| cnn | 0.9000 |', True)
    """
    metric, models = result["metrics"][0], result["models"]
    lines = text.splitlines()
    _, at = _first_table(lines)
    if at + 1 < len(lines) and lines[at + 1].startswith(SIGNIFICANCE_HEADING):
        at += 3
        while at < len(lines) and lines[at].startswith("- "):
            at += 1
    if at + 1 < len(lines) and lines[at + 1].startswith(PER_RUN_HEADING + " ("):
        end = at + 3
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        del lines[at:end]
    table = per_run_lines(models, metric, result["runs"], best_first(models, metric))
    trailing = "\n" if text.endswith("\n") else ""
    return "\n".join(lines[:at] + ["", *table] + lines[at:]) + trailing


def with_significance(text: str, block: dict) -> str:
    """A results file's Markdown with its paired-test lines right under the first table, replacing older ones.

    Examples:
        >>> block = {"test": "T", "interval": "I", "comparisons": []}
        >>> text = with_significance("# k\\n\\n| a |\\n|---|\\n| 1 |\\n\\nCommand:", block)
        >>> text.splitlines()[6].startswith(SIGNIFICANCE_HEADING), text == with_significance(text, block)
        (True, True)
    """
    lines = text.splitlines()
    _, end = _first_table(lines)
    rest = lines[end:]
    if len(rest) > 1 and rest[1].startswith(SIGNIFICANCE_HEADING):
        # An older block: its heading, a blank line, its bullets.
        skip = 3
        while skip < len(rest) and rest[skip].startswith("- "):
            skip += 1
        rest = rest[skip:]
    trailing = "\n" if text.endswith("\n") else ""
    return "\n".join(lines[:end] + ["", *significance_lines(block)] + rest) + trailing


def companion_cnn(result: dict, results_dir: pathlib.Path, tuned: bool = False) -> tuple[str, dict] | None:
    """``(name, model entry)`` of the CNN a benchmark without one is paired with, or None.

    The benchmark's spec names the companion (`bench.specs.Benchmark.cnn_from`),
    made on the same folds or seeds with the same settings; its results
    file in ``results_dir`` gives the CNN's default rows, or with ``tuned``
    its tuned rows, which count only where both searches had the same
    budget (tuned alike).
    """
    from bench import specs

    spec = specs.BENCHMARKS.get(result.get("key"))
    path = pathlib.Path(results_dir) / f"{spec.cnn_from}.json" if spec is not None and spec.cnn_from else None
    if path is None or not path.exists():
        return None
    other = json.loads(path.read_text())
    if tuned:
        own, theirs = result.get("tuned") or {}, other.get("tuned") or {}
        if not own or own.get("budget") != theirs.get("budget"):
            return None
        models = theirs.get("models") or {}
    else:
        models = other.get("models") or {}
    return (f"cnn of {spec.cnn_from}", models["cnn"]) if "cnn" in models else None


def refresh_significance(results_dir: pathlib.Path = ROOT / "bench" / "results", keys=None) -> list[str]:
    """Recompute the ``significance`` block and the per-run tables of every stored result from its per-run values.

    Writes the block (and the ``tuned`` rows' own) into each ``<key>.json``, and the paired test and
    per-run table under the first table of ``<key>.md`` (and the ``## Tuned``
    section again, where there is one; the benchmark's own tables and notes
    stay as they were); no model is retrained. A benchmark without a CNN is
    paired with its companion's (`companion_cnn`). ``keys`` limits it to
    those results. Returns the keys refreshed.
    """
    refreshed = []
    for path in sorted(pathlib.Path(results_dir).glob("*.json")):
        if keys is not None and path.stem not in keys:
            continue
        result = json.loads(path.read_text())
        if "runs" not in result or "models" not in result:
            continue  # not a per-run benchmark (speed, latency, ...)
        block = significance(result, cnn=companion_cnn(result, results_dir))
        if block is not None:
            result["significance"] = block
        tuned = result.get("tuned")
        paired = None
        if tuned:
            companion = companion_cnn(result, results_dir, tuned=True)
            paired = significance({**result, "models": tuned["models"]}, cnn=companion)
        if paired is not None:
            tuned["significance"] = paired
        if block is not None or paired is not None:
            path.write_text(json.dumps(result, indent=2) + "\n")
        page = path.with_suffix(".md")
        if page.exists():
            text = page.read_text()
            if block is not None:
                text = with_significance(text, block)
            text = with_per_run(text, result)
            if result.get("tuned"):
                text = with_tuned(text, result)
            page.write_text(text)
        refreshed.append(path.stem)
    return refreshed


_ARGUMENTS: list[str] | None = None  # what `bench.__main__.main` was given; None: this process's own


def given_arguments(argv) -> None:
    """Record the arguments `bench.__main__.main` was called with, for `command_line`.

    A benchmark started from Python (``main([...])``) records those, not
    the ``sys.argv`` of the process that called it.
    """
    global _ARGUMENTS
    _ARGUMENTS = list(argv)


def command_line() -> str:
    """The ``python -m bench ...`` command that made these results, quoted as a shell would need it."""
    import shlex

    arguments = sys.argv[1:] if _ARGUMENTS is None else _ARGUMENTS
    return "python -m bench " + " ".join(shlex.quote(a) for a in arguments)


def publish(results_dir: pathlib.Path, key: str, result: dict, text: str) -> dict:
    """Write ``<key>.json`` and the markdown ``<key>.md`` under ``results_dir``, print the markdown.

    A result with per-run values gets its paired-test block (`significance`)
    in the JSON, as `markdown` shows it under the table.
    """
    results_dir = pathlib.Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    if "runs" in result and "significance" not in result:
        block = significance(result)
        if block:
            result = {**result, "significance": block}
    (results_dir / f"{key}.json").write_text(json.dumps(result, indent=2) + "\n")
    (results_dir / f"{key}.md").write_text(text)
    print(text)
    return result


def footer(info: dict, command: str, note: str = "") -> list[str]:
    """The closing lines of a results file: the machine, then the command that made it."""
    machine = (
        f"Machine: {info['cpu']}, {info['usable_cpus']} usable CPUs; Python {info.get('python', '?')}, "
        f"TensorFlow {info['tensorflow']}, Keras {info['keras']}. {note}"
    )
    return ["", machine.rstrip(), "", "Command:", "", f"    {command}", ""]


# --------------------------------------------------------------------------
# A benchmark's own tables, from the runs' metrics.json files


def _spread(values) -> str:
    """``mean ± sample sd`` with four decimals; one value alone as it is."""
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def movement_table(reports: list[dict]) -> str:
    """Up/down prediction (the stocks recipe's ``--task movement``): accuracy, MCC, share called up, per seed.

    Examples:
        >>> runs = [{"seed": seed, "sizes": {"test": 4}, "models": {"gru": {"params": 9, "best_epoch": seed,
        ...     "metrics": {"accuracy": a, "mcc": 0.0, "majority_rate": 0.5, "predicted_up": 0.5}}}}
        ...     for seed, a in ((1, 0.5), (2, 0.7))]
        >>> print(movement_table(runs).splitlines()[4])
        | gru | 0.6000 ± 0.1414 | 0.0000 ± 0.0000 | 0.5000 | 0.5000 ± 0.0000 | 9 | 1, 2 |
    """
    names = list(reports[0]["models"])
    seeds = [report["seed"] for report in reports]
    lines = [
        f"Seeds: {', '.join(str(seed) for seed in seeds)} (mean ± sample standard deviation).",
        "",
        "| model | accuracy | MCC | majority rate | predicted up | params | best epoch per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        rows = [report["models"][name] for report in reports]
        metric = {key: [row["metrics"][key] for row in rows] for key in ("accuracy", "mcc", "majority_rate")}
        up = [row["metrics"]["predicted_up"] for row in rows]
        epochs = [row.get("best_epoch") for row in rows]
        shown = ", ".join(str(epoch) for epoch in epochs) if epochs[0] is not None else "n/a"
        lines.append(
            f"| {name} | {_spread(metric['accuracy'])} | {_spread(metric['mcc'])} | {metric['majority_rate'][0]:.4f} "
            f"| {_spread(up)} | {rows[0]['params']:,} | {shown} |"
        )
    lines += ["", "Per seed, accuracy / MCC:", "", "| model | " + " | ".join(f"seed {s}" for s in seeds) + " |"]
    lines.append("|---|" + "---|" * len(seeds))
    for name in names:
        cells = [
            f"{report['models'][name]['metrics']['accuracy']:.4f} / {report['models'][name]['metrics']['mcc']:+.4f}"
            for report in reports
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Samples: {reports[0]['sizes']}."]
    return "\n".join(lines)


def horizon_tables(reports: list[dict]) -> str:
    """Forecasts at several horizons (the stocks recipe's ``--task forecast``): one column per horizon.

    One table per metric (RSE, CORR, MASE, directional accuracy; mean ± sd over
    the seeds of each horizon), then training seconds and best epochs.
    """
    horizons = sorted({report["config"]["horizon"] for report in reports})
    by_horizon = {h: [report for report in reports if report["config"]["horizon"] == h] for h in horizons}
    seeds = sorted({report["seed"] for report in reports})
    names = list(reports[0]["models"])
    out = [f"Seeds: {', '.join(map(str, seeds))} (mean ± sample standard deviation where more than one).", ""]
    for metric in ("rse", "corr", "mase", "directional_accuracy"):
        out += [f"**{metric}**", "", "| model | " + " | ".join(f"h={h}" for h in horizons) + " |"]
        out.append("|---|" + "---|" * len(horizons))
        for name in names:
            cells = []
            for h in horizons:
                values = [report["models"][name]["metrics"].get(metric) for report in by_horizon[h]]
                cells.append("n/a" if any(v is None for v in values) else _spread(values))
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["Training seconds (mean over seeds) and best epochs:", ""]
    out.append("| model | " + " | ".join(f"h={h}" for h in horizons) + " |")
    out.append("|---|" + "---|" * len(horizons))
    for name in names:
        cells = []
        for h in horizons:
            rows = [report["models"][name] for report in by_horizon[h]]
            seconds = statistics.mean(row["train_seconds"] for row in rows)
            best = ",".join(str(row.get("best_epoch")) for row in rows) if rows[0].get("best_epoch") else "n/a"
            cells.append(f"{seconds:.0f} s / {best}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += ["", f"Samples at h={horizons[0]}: {by_horizon[horizons[0]][0]['sizes']}."]
    return "\n".join(out)


def seed_table(reports: list[dict]) -> str:
    """Accuracy per seed beside its mean, macro F1, and median timings; best accuracy first.

    Examples:
        >>> runs = [{"models": {"cnn": {"metrics": {"accuracy": a, "f1": a}, "params": 5, "train_seconds": 2.0,
        ...     "predict_ms_per_sample": 0.1, "fast_kernel": None}}} for a in (0.9, 1.0)]
        >>> print(seed_table(runs).splitlines()[-1])
        | cnn | 0.9500 ± 0.0707 | 0.9000 / 1.0000 | 0.9500 | 5 | 2.0 | 0.100 | n/a |
    """
    rows = []
    for name in reports[0]["models"]:
        entries = [report["models"][name] for report in reports]
        accuracy = [entry["metrics"]["accuracy"] for entry in entries]
        f1 = [entry["metrics"]["f1"] for entry in entries]
        seconds = statistics.median(entry["train_seconds"] for entry in entries)
        milliseconds = statistics.median(entry["predict_ms_per_sample"] for entry in entries)
        spread = statistics.stdev(accuracy) if len(accuracy) > 1 else 0.0
        cells = [
            name,
            f"{statistics.mean(accuracy):.4f} ± {spread:.4f}",
            " / ".join(f"{value:.4f}" for value in accuracy),
            f"{statistics.mean(f1):.4f}",
            f"{entries[0]['params']:,}",
            f"{seconds:.1f}",
            f"{milliseconds:.3f}",
            {True: "yes", False: "no", None: "n/a"}[entries[0]["fast_kernel"]],
        ]
        rows.append((statistics.mean(accuracy), "| " + " | ".join(cells) + " |"))
    header = [
        "| model | accuracy, mean ± sd | per seed | macro F1, mean | params | train s (median) "
        "| ms/sample (median) | fast kernel |",
        "|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + [row for _, row in sorted(rows, key=lambda pair: -pair[0])])


TABLES = {"movement": movement_table, "horizons": horizon_tables, "per_seed": seed_table}
"""A benchmark's own tables by name (`bench.specs.Benchmark.tables`), each made from the runs' reports."""


def tables(names, reports: list[dict]) -> str:
    """The named `TABLES` over ``reports``, one after another."""
    return "\n\n".join(TABLES[name](reports) for name in names)


def read_runs(folders) -> list[dict]:
    """The ``metrics.json`` of each run folder, in the order given."""
    return [json.loads((pathlib.Path(folder) / "metrics.json").read_text()) for folder in folders]
