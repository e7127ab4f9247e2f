"""The benchmark entry point in a tiny configuration, so the harness cannot rot."""

import json
import pathlib
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

from bench import harness, specs


def _polarity_folder(root):
    folder = root / "sentiment" / "mr"
    folder.mkdir(parents=True)
    good = ["a warm , funny and moving film", "sharp writing and a great cast", "one of the best of the year"]
    bad = ["a dull , lifeless mess", "the plot is thin and the jokes fall flat", "tedious and far too long"]
    (folder / "rt-polarity.pos").write_text("\n".join(f"{good[i % 3]} {i}" for i in range(60)) + "\n")
    (folder / "rt-polarity.neg").write_text("\n".join(f"{bad[i % 3]} {i}" for i in range(60)) + "\n")
    return folder


def test_custom_benchmark_aggregates_seeds(tmp_path):
    data = _polarity_folder(tmp_path / "data")
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "bench",
        "custom",
        "--recipe",
        "sentiment",
        "--data",
        str(data),
        "--name",
        "sentiment-tiny",
        "--seeds",
        "2",
        "--quick",
        "--results-dir",
        str(results),
        "--runs-dir",
        str(tmp_path / "runs"),
        "--",
        "--model",
        "lstm,cnn",
    ]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)
    kept = [tmp_path / "runs" / "sentiment-tiny" / f"seed_{seed}" / "metrics.json" for seed in (1, 2)]
    assert all(path.exists() for path in kept)  # --runs-dir keeps the runs, for `collect`
    result = json.loads((results / "sentiment-tiny.json").read_text())
    assert result["runs"] == ["seed 1", "seed 2"]
    assert set(result["models"]) == {"lstm", "cnn", "majority"}
    accuracy = result["models"]["lstm"]["metrics"]["accuracy"]
    assert set(accuracy) == {"mean", "std", "values"} and set(accuracy["values"]) == {"seed 1", "seed 2"}
    assert abs(accuracy["mean"] - sum(accuracy["values"].values()) / 2) < 1e-6
    assert result["models"]["lstm"]["fast_kernel"] is True and result["models"]["cnn"]["fast_kernel"] is None
    assert result["machine"]["cpu"] and result["machine"]["tensorflow"]
    assert result["command"].startswith("python -m bench custom --recipe sentiment")
    table = (results / "sentiment-tiny.md").read_text()
    assert "| lstm |" in table and "python -m bench custom" in table


def test_every_benchmark_names_an_existing_recipe_and_published_numbers():
    from rnn_apps.harness import registry

    for key, spec in specs.BENCHMARKS.items():
        assert key.startswith(spec.recipe + "-")
        assert spec.recipe in registry.names()
        assert spec.published, key


def test_stored_results_carry_their_benchmarks_protocol_and_published_rows():
    # A spec's protocol or published row changed by hand must reach the stored results, not only the code.
    for key, spec in specs.BENCHMARKS.items():
        stored = json.loads((REPO / "bench" / "results" / f"{key}.json").read_text())
        if not _being_remade(key, spec):
            assert stored["protocol"] == spec.protocol, key
        assert stored["published"] == [list(row) for row in spec.published], key
        page = (REPO / "bench" / "results" / f"{key}.md").read_text()
        for system, value, note in spec.published:
            if "Published, for comparison:" in page:  # the page `harness.markdown` writes
                assert f"| {system} | {value} | {note} |" in page, (key, system)
            else:  # a page written by hand keeps its own table of them, its figure at least
                assert value.split()[0] in page, (key, system)


def test_every_stored_benchmark_pairs_its_best_recurrent_model_with_a_cnn():
    # Default rows, and tuned rows where a benchmark has them: each results file carries the paired test.
    for key in specs.BENCHMARKS:
        stored = json.loads((REPO / "bench" / "results" / f"{key}.json").read_text())
        for rows in (stored, stored.get("tuned")):
            if rows is None:
                continue
            labels = [comparison["comparison"] for comparison in rows["significance"]["comparisons"]]
            assert "best recurrent against CNN" in labels, key


def test_a_benchmark_without_a_cnn_is_paired_with_its_companions(tmp_path):
    runs = ["fold 0", "fold 1", "fold 2"]

    def result(key, models, budget):
        entries = {
            name: {"params": 1, "metrics": {"accuracy": {"mean": sum(v) / 3, "values": dict(zip(runs, v))}}}
            for name, v in models.items()
        }
        tuned = {"budget": {"trials": budget, "epochs_per_trial": 6}, "models": entries}
        return {"key": key, "recipe": "speech", "metrics": ["accuracy"], "runs": runs, "models": entries} | {
            "tuned": tuned
        }

    crnn = result("speech-fsdd-loso-crnn", {"crnn": [0.7, 0.8, 0.9]}, 8)
    (tmp_path / "speech-fsdd-loso-crnn.json").write_text(json.dumps(crnn))
    assert harness.refresh_significance(tmp_path) == ["speech-fsdd-loso-crnn"]
    alone = json.loads((tmp_path / "speech-fsdd-loso-crnn.json").read_text())
    assert "significance" not in alone  # no companion stored: nothing to pair with

    # The companion's CNN, tuned with another budget: only the default rows pair.
    companion = result("speech-fsdd-loso", {"lstm": [0.5, 0.5, 0.5], "cnn": [0.6, 0.6, 0.6]}, 4)
    (tmp_path / "speech-fsdd-loso.json").write_text(json.dumps(companion))
    harness.refresh_significance(tmp_path, ["speech-fsdd-loso-crnn"])
    paired = json.loads((tmp_path / "speech-fsdd-loso-crnn.json").read_text())
    comparison = paired["significance"]["comparisons"][0]
    assert comparison["models"] == ["crnn", "cnn of speech-fsdd-loso"] and comparison["better_runs"] == [3, 0]
    assert "significance" not in paired["tuned"]

    companion["tuned"]["budget"]["trials"] = 8  # searched alike now
    (tmp_path / "speech-fsdd-loso.json").write_text(json.dumps(companion))
    harness.refresh_significance(tmp_path, ["speech-fsdd-loso-crnn"])
    paired = json.loads((tmp_path / "speech-fsdd-loso-crnn.json").read_text())
    assert paired["tuned"]["significance"]["comparisons"][0]["models"] == ["crnn", "cnn of speech-fsdd-loso"]
    assert "significance" not in json.loads((tmp_path / "speech-fsdd-loso.json").read_text())  # not in ``keys``


def _being_remade(key: str, spec) -> bool:
    """Whether ``bench/progress/KEY`` holds runs made with the spec's arguments as they are now.

    A benchmark remade under a changed protocol spans sittings: until its last
    run finishes, the stored page keeps the protocol its stored numbers were
    made with, and the spec already has the new one.
    """
    records = sorted((REPO / "bench" / "progress" / key).glob("*.json"))
    if not records:
        return False
    for path in records:
        argv = json.loads(path.read_text())["argv"]
        given = argv[argv.index("--data") + 2 :]
        if given[: len(spec.args)] != list(spec.args):
            return False
    return True


def test_aggregate_uses_sample_standard_deviation():
    runs = [
        {
            "models": {
                "m": {
                    "metrics": {"accuracy": a},
                    "params": 1,
                    "train_seconds": 1.0,
                    "epochs": 1,
                    "predict_ms_per_sample": 0.1,
                    "fast_kernel": None,
                }
            }
        }
        for a in (0.6, 0.8, 1.0)
    ]
    summary = harness.aggregate(runs, ["a", "b", "c"])["m"]["metrics"]["accuracy"]
    assert abs(summary["std"] - 0.2) < 1e-9


@pytest.mark.slow  # trains in subprocesses for a minute or more on two cores
def test_speed_tables_in_a_tiny_configuration(tmp_path):
    _polarity_folder(tmp_path / "data")
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "bench",
        "speed",
        "--data-dir",
        str(tmp_path / "data"),
        "--quick",
        "--repeats",
        "1",
        "--results-dir",
        str(results),
    ]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)
    result = json.loads((results / "speed.json").read_text())
    assert result["matmul_gflops"] > 0
    for name in ("lstm", "gru", "simple_rnn", "cnn"):
        entry = result["text_throughput"]["models"][name]
        assert entry["ours_samples_per_second"] > 0 and entry["peer_samples_per_second"] > 0
    assert result["text_throughput"]["models"]["lstm"]["ours_gflops"] > 0
    latency = result["latency"]["sentiment"]["lstm"]
    assert 0 < latency["p50_ms"] <= latency["p95_ms"]
    assert "| lstm |" in (results / "speed.md").read_text()


@pytest.mark.slow  # trains in subprocesses for a minute or more on two cores
def test_latency_table_in_a_tiny_configuration(tmp_path):
    results = tmp_path / "results"
    command = [sys.executable, "-m", "bench", "latency", "--recipes", "stocks", "--calls", "3"]
    subprocess.run([*command, "--results-dir", str(results)], cwd=REPO, check=True, capture_output=True, text=True)
    result = json.loads((results / "latency.json").read_text())
    table = result["latency"]["stocks"]
    assert {"lstm", "cnn"} <= set(table)
    for entry in table.values():
        assert 0 < entry["p50_ms"] <= entry["p95_ms"] and entry["calls"] == 3
    assert "| stocks | lstm |" in (results / "latency.md").read_text()


def test_stream_latency_in_a_tiny_configuration(tmp_path):
    results = tmp_path / "results"
    command = [sys.executable, "bench/stream_latency.py", "--cells", "gru", "--lengths", "3,12", "--calls", "3"]
    subprocess.run([*command, "--results-dir", str(results)], cwd=REPO, check=True, capture_output=True, text=True)
    result = json.loads((results / "stream_latency.json").read_text())
    rows = result["cells"][0]["rows"]
    assert [row["length"] for row in rows] == [3, 12]
    for row in rows:
        assert row["max_abs_difference"] < 1e-5  # the streamed answer is the whole text's
        assert row["stream_steps"]["steps"] == row["length"] - 1
        for way in ("stream", "re_read"):
            assert 0 < row[way]["p50_ms"] <= row[way]["p95_ms"] and row[way]["calls"] == 3
    assert "| gru | 12 |" in (results / "stream_latency.md").read_text()


def test_tensorflow_loop_routes_equal_keras_and_are_written_down(tmp_path):
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("measures the TensorFlow backend")
    from bench import tf_loops

    _polarity_folder(tmp_path / "data")
    argv = ["--steps", "7", "--batch", "6", "--features", "5", "--units", "4", "--repeats", "1", "--calls", "1"]
    argv += ["--data-dir", str(tmp_path / "data"), "--quick", "--model-repeats", "1", "--model-epochs", "2"]
    result = tf_loops.main([*argv, "--results-dir", str(tmp_path / "results")])
    kinds = {entry["kind"]: entry["routes"] for entry in result["kinds"]}
    assert list(kinds["lstm"]) == ["keras", "keras, XLA", "projection first", "BlockLSTMV2"]
    assert list(kinds["gru"]) == ["keras", "keras, XLA", "projection first"]
    for routes in kinds.values():
        assert routes["keras"]["last_output_deviation"] == 0 and routes["keras"]["speed_vs_keras"] == 1
        # The hand-written loop computes Keras's LSTM and GRU, gradients included.
        assert routes["projection first"]["equal"]
        assert routes["keras, XLA"]["equal"]
        for row in routes.values():
            assert row["median_ms"] > 0 and len(row["ms"]) == 1
    # The fused op's forward pass is Keras's LSTM: gate order and padding switch are right.
    assert kinds["lstm"]["BlockLSTMV2"]["last_output_deviation"] < tf_loops.EQUAL_WITHIN
    models = result["whole_model"]["models"]
    assert [(row["kind"], row["jit_compile"]) for row in models] == [(k, j) for k in ("lstm", "gru") for j in (0, 1)]
    for row in models:
        assert row["samples_per_second"] > 0 and 0 <= row["test_accuracy"] <= 1
    page = (tmp_path / "results" / "tf_loops.md").read_text()
    assert (
        "| lstm | projection first |" in page and "Faster than Keras's loop (at least 1.05x) and equal to it:" in page
    )
    assert "| gru | on |" in page
    assert json.loads((tmp_path / "results" / "tf_loops.json").read_text())["size"]["steps"] == 7


def test_cpu_backend_verdict_reads_the_rows():
    from bench import backends

    def row(framework, model, rate):
        return {"task": "sentiment", "model": model, "framework": framework, "samples_per_second": rate}

    report = {
        "results": [
            row("keras-tensorflow", "lstm", 400.0),
            row("keras-torch", "lstm", 500.0),
            row("keras-tensorflow", "lstm_nomask", 400.0),
            row("keras-torch", "lstm_nomask", 150.0),
            row("keras-torch+keras-loop", "lstm", 5.0) | {"epoch_seconds": [1.0, 1.1], "batches_per_epoch": 2},
        ]
    }
    text = "\n".join(backends._cpu_verdict(report))
    assert "masked): PyTorch backend 1.25x" in text and "This meets" in text
    assert "without the mask: PyTorch backend 0.38x" in text and "This misses" in text
    assert "(5.0 samples/s, 2 epochs of 2 batches; the routed layer is 100.0 times as fast)" in text
    report["results"] = report["results"][:2]
    assert "keras-loop" not in "\n".join(backends._cpu_verdict(report))


def test_backends_page_reports_the_tensorflow_routes_from_their_results(tmp_path):
    from bench import backends

    assert backends._tensorflow_loop_note(tmp_path) == []

    def route(speed, equal=True):
        return {"speed_vs_keras": speed, "equal": equal}

    report = {
        "size": {"batch": 8, "steps": 5, "units": 3},
        "kinds": [
            {"kind": "lstm", "routes": {"keras": route(1.0), "keras, XLA": route(1.3), "BlockLSTMV2": route(2, False)}},
            {"kind": "gru", "routes": {"keras": route(1.0), "keras, XLA": route(0.9)}},
        ],
        "whole_model": {
            "dataset": "MR",
            "models": [
                {"kind": "lstm", "jit_compile": False, "samples_per_second": 100.0},
                {"kind": "lstm", "jit_compile": True, "samples_per_second": 80.0},
            ],
        },
    }
    (tmp_path / "tf_loops.json").write_text(json.dumps(report))
    text = " ".join(backends._tensorflow_loop_note(tmp_path))
    assert "(8 rows, 5 steps, 3 units)" in text
    assert "the step compiled by XLA: LSTM 1.30x, GRU 0.90x; BlockLSTMV2: LSTM 2.00x (not equal)." in text
    assert "`jit_compile=True` gave LSTM 0.80x." in text


def _stocks_report(seed, horizon=None, accuracy=0.5):
    """A stocks ``metrics.json`` as the recipe writes it, reduced to what the tables read."""
    entry = {"params": 7, "train_seconds": 2.0, "epochs": 2, "predict_ms_per_sample": 0.1, "fast_kernel": True}
    if horizon is None:
        metrics = {"accuracy": accuracy, "mcc": accuracy - 0.5, "majority_rate": 0.51, "predicted_up": 0.4}
    else:
        metrics = {"rse": 0.01 * horizon + 0.001 * seed, "corr": 0.9, "mase": 1.0, "mae": 0.1}
        metrics["directional_accuracy"] = None
    return {
        "recipe": "stocks",
        "dataset": "toy",
        "task": "movement" if horizon is None else "forecast",
        "primary_metric": "accuracy" if horizon is None else "rse",
        "seed": seed,
        "command": f"python -m recipes.stocks --seed {seed}",
        "sizes": {"train": 10, "validation": 3, "test": 4},
        "config": {"horizon": horizon},
        "models": {"gru": entry | {"metrics": metrics, "best_epoch": seed}},
    }


def _run_folders(root, reports):
    folders = []
    for index, report in enumerate(reports):
        folder = root / f"run{index}"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps(report))
        folders.append(str(folder))
    return folders


def test_collect_adds_the_benchmarks_own_tables(tmp_path, capsys):
    from bench import __main__ as bench_main

    folders = _run_folders(tmp_path, [_stocks_report(1, accuracy=0.5), _stocks_report(2, accuracy=0.7)])
    assert bench_main.main(["collect", "stocks-acl18", *folders, "--results-dir", str(tmp_path / "results")]) == 0
    table = (tmp_path / "results" / "stocks-acl18.md").read_text()
    assert "| gru | 0.6000 ± 0.1414 | 0.1000 ± 0.1414 | 0.5100 | 0.4000 ± 0.0000 | 7 | 1, 2 |" in table
    assert "| gru | 0.5000 / +0.0000 | 0.7000 / +0.2000 |" in table and "Samples: {'train': 10" in table
    # The main table comes first, the published numbers after the benchmark's own tables.
    assert table.index("| model | accuracy (mean") < table.index("Per seed") < table.index("Published")
    result = json.loads((tmp_path / "results" / "stocks-acl18.json").read_text())
    assert result["runs"] == ["seed 1", "seed 2"] and result["metrics"] == ["accuracy", "mcc", "majority_rate"]


def test_collect_of_a_group_prints_one_column_per_horizon(tmp_path, capsys):
    from bench import __main__ as bench_main

    reports = [_stocks_report(seed, horizon) for horizon in (3, 24) for seed in (1, 2)]
    folders = _run_folders(tmp_path, reports)
    capsys.readouterr()
    assert bench_main.main(["collect", "stocks-exchange_rate", *folders, "--results-dir", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "| model | h=3 | h=24 |" in printed
    assert "| gru | 0.0315 ± 0.0007 | 0.2415 ± 0.0007 |" in printed  # rse: 0.01 h + 0.001 seed, seeds 1 and 2
    assert "| gru | n/a | n/a |" in printed  # directional accuracy undefined in every run
    assert "| gru | 2 s / 1,2 | 2 s / 1,2 |" in printed and "Samples at h=3:" in printed
    assert not (tmp_path / "r").exists()  # a group writes no results file of its own


def test_per_seed_table_sorts_by_mean_accuracy():
    def report(scores):
        return {
            "models": {
                name: {
                    "metrics": {"accuracy": value, "f1": value},
                    "params": 1,
                    "train_seconds": 1.0,
                    "predict_ms_per_sample": 0.1,
                    "fast_kernel": None if name == "cnn" else True,
                }
                for name, value in scores.items()
            }
        }

    table = harness.seed_table([report({"gru": 0.8, "cnn": 0.9}), report({"gru": 0.9, "cnn": 0.95})])
    rows = table.splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == ["| cnn", "| gru"]
    assert rows[1] == "| gru | 0.8500 ± 0.0707 | 0.8000 / 0.9000 | 0.8500 | 1 | 1.0 | 0.100 | yes |"


def test_groups_and_tables_name_what_exists():
    for group in specs.GROUPS.values():
        assert group.key not in specs.BENCHMARKS and set(group.members) <= set(specs.BENCHMARKS)
        assert set(group.tables) <= set(harness.TABLES)
    for spec in specs.BENCHMARKS.values():
        assert set(spec.tables) <= set(harness.TABLES) and spec.seeds >= 1
    assert specs.BENCHMARKS["stocks-acl18"].seeds == 5


def test_tuned_block_reads_each_runs_search_and_pairs_the_tuned_models():
    def report(seed, gru, cnn):
        tuning = {"trials": 4, "epochs_per_trial": 2, "selected_on": "val_loss (min) on the validation part"}
        entry = {"params": 5, "train_seconds": 2.0, "epochs": 2, "predict_ms_per_sample": 0.1, "fast_kernel": None}
        models = {
            name: entry | {"metrics": {"accuracy": value}, "tuning": tuning | {"space": {"units": (8, 16)}}}
            for name, value in (("gru", gru), ("cnn", cnn))
        }
        for name in models:
            models[name]["tuning"] = models[name]["tuning"] | {"chosen": {"units": 8 * seed}}
        models["majority"] = entry | {"metrics": {"accuracy": 0.5}, "params": 0}
        return {"models": models}

    labels = ["seed 1", "seed 2"]
    reports = [report(1, 0.8, 0.7), report(2, 0.9, 0.75)]
    block = harness.tuned_block(reports, labels, {"recipe": "sentiment", "metrics": ["accuracy"]}, "cmd")
    assert set(block["models"]) == {"gru", "cnn"} and block["budget"] == {"trials": 4, "epochs_per_trial": 2}
    assert block["models"]["gru"]["metrics"]["accuracy"]["values"] == {"seed 1": 0.8, "seed 2": 0.9}
    assert block["chosen"]["cnn"] == {"seed 1": {"units": 8}, "seed 2": {"units": 16}}
    assert block["significance"]["comparisons"][0]["models"] == ["gru", "cnn"]
    page = harness.markdown(
        {
            "key": "k",
            "recipe": "sentiment",
            "data": "d",
            "metrics": ["accuracy"],
            "runs": labels,
            "models": block["models"],
            "tuned": block,
            "machine": {"cpu": "c", "usable_cpus": 2, "tensorflow": "t", "keras": "k"},
            "command": "c",
        }
    )
    assert "## Tuned" in page and "- cnn: seed 1: units=8; seed 2: units=16" in page


@pytest.mark.slow
def test_tuned_rows_beside_the_default_ones_and_added_to_a_stored_result(tmp_path):
    _polarity_folder(tmp_path / "data")
    results = tmp_path / "results"
    command = [sys.executable, "-m", "bench", "run", "sentiment-mr", "--data-dir", str(tmp_path / "data"), "--quick"]
    command += ["--seeds", "1", "--tune", "2", "--tune-epochs", "1", "--results-dir", str(results)]
    command += ["--runs-dir", str(tmp_path / "runs"), "--", "--model", "gru,cnn"]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)
    result = json.loads((results / "sentiment-mr.json").read_text())
    tuned = result["tuned"]
    assert set(result["models"]) == {"gru", "cnn", "majority"} and set(tuned["models"]) == {"gru", "cnn"}
    assert tuned["budget"] == {"trials": 2, "epochs_per_trial": 1} and "validation" in tuned["selection"]
    assert {"units", "learning_rate"} <= set(tuned["space"]["gru"]) and "cnn_widths" in tuned["space"]["cnn"]
    chosen = tuned["chosen"]["gru"]["seed 1"]
    assert all(value in tuned["space"]["gru"][field] for field, value in chosen.items())
    kept = json.loads((tmp_path / "runs" / "sentiment-mr" / "seed_1_tuned" / "metrics.json").read_text())
    assert kept["config"]["tune"] == 2 and kept["models"]["gru"]["tuning"]["chosen"] == chosen
    accuracy = tuned["models"]["gru"]["metrics"]["accuracy"]["values"]["seed 1"]
    assert accuracy == round(kept["models"]["gru"]["metrics"]["accuracy"], 6)
    page = (results / "sentiment-mr.md").read_text()
    assert page.index("| model |") < page.index("## Tuned") < page.index("Published") and "--tune 2" in page
    # --resume: every model of both runs finished, so none is trained again (same timings), results unchanged.
    resumed = [*command[:-3], "--resume", "--", "--model", "gru,cnn"]
    subprocess.run(resumed, cwd=REPO, check=True, capture_output=True, text=True)
    again = json.loads((tmp_path / "runs" / "sentiment-mr" / "seed_1_tuned" / "metrics.json").read_text())
    assert "--resume" in again["command"].split() and "--resume" not in kept["command"].split()
    for name in ("gru", "cnn"):
        assert again["models"][name]["train_seconds"] == kept["models"][name]["train_seconds"]
        assert again["models"][name]["metrics"] == kept["models"][name]["metrics"]
    result = json.loads((results / "sentiment-mr.json").read_text())  # baselines are scored (and timed) again
    assert result["tuned"]["models"] == tuned["models"]
    # --keep-default: the stored default rows and the page's own text stay; the tuned section is made again.
    (results / "sentiment-mr.md").write_text(page.replace("## Tuned", "A note kept by hand.\n\n## Tuned"))
    default_rows = result["models"]
    subprocess.run([*command[:-3], "--keep-default", "--", "--model", "gru,cnn"], cwd=REPO, check=True)
    again = json.loads((results / "sentiment-mr.json").read_text())
    assert again["models"] == default_rows and set(again["tuned"]["models"]) == {"gru", "cnn"}
    assert "--keep-default" in again["tuned"]["command"] and "--keep-default" not in again["command"]
    page = (results / "sentiment-mr.md").read_text()
    assert "A note kept by hand." in page and page.count("## Tuned") == 1


class FakeProcess:
    """`subprocess.Popen` replaced: the "recipe" writes ``metrics.json``, or fails, after ``polls`` waits."""

    commands: list = []
    polls = 0
    fails = False

    def __init__(self, command, **kwargs):
        self.command, self.waited = command, 0
        FakeProcess.commands.append(command)

    def wait(self, timeout=None):
        folder = pathlib.Path(self.command[self.command.index("--output-dir") + 1])
        if self.waited < FakeProcess.polls:
            self.waited += 1
            (folder / "tuning/gru/trial_0").mkdir(parents=True, exist_ok=True)
            (folder / "tuning/gru/trial_0/trial.json").write_text(json.dumps({"waited": self.waited}))
            raise subprocess.TimeoutExpired(self.command, timeout)
        if FakeProcess.fails:
            return 1
        (folder / "metrics.json").write_text(json.dumps({"models": {}}))
        return 0

    def kill(self):
        pass


@pytest.fixture
def fake_process(monkeypatch):
    monkeypatch.setattr(harness.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(FakeProcess, "commands", [])
    return FakeProcess


def test_resume_continues_only_folders_that_hold_a_run(tmp_path, fake_process):
    started, fresh = tmp_path / "seed_1", tmp_path / "seed_2"
    for folder in (started, fresh):
        folder.mkdir()
    (started / "run.json").write_text("{}")
    with open(tmp_path / "log.txt", "w") as log:
        harness.run_recipe("sentiment", ["--seed", "1"], started, log, resume=True)
        harness.run_recipe("sentiment", ["--seed", "2"], fresh, log, resume=True)
        harness.run_recipe("sentiment", ["--seed", "1"], started, log)
    assert ["--resume" in command for command in fake_process.commands] == [True, False, False]


def test_a_run_whose_folder_is_gone_goes_on_from_its_kept_state(tmp_path, fake_process, monkeypatch):
    monkeypatch.setattr(fake_process, "polls", 2)
    monkeypatch.setattr(fake_process, "fails", True)
    folder, keep = tmp_path / "runs" / "seed_1_tuned", tmp_path / "progress" / "seed_1_tuned.unfinished"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text('{"recipe": "speech"}')
    (folder / "models").mkdir()
    (folder / "models" / "gru.json").write_text("{}")  # beside weights: not kept
    with open(tmp_path / "log.txt", "w") as log, pytest.raises(RuntimeError, match="failed with status 1"):
        harness.run_recipe("speech", ["--seed", "1"], folder, log, resume=True, keep=keep)
    kept = sorted(path.relative_to(keep).as_posix() for path in keep.rglob("*") if path.is_file())
    assert kept == ["run.json", "tuning/gru/trial_0/trial.json"]
    assert json.loads((keep / "tuning/gru/trial_0/trial.json").read_text()) == {"waited": 2}  # the latest copy

    # The next sitting has no run folder: it is made from the kept state and resumed.
    shutil.rmtree(folder)
    monkeypatch.setattr(fake_process, "polls", 0)
    monkeypatch.setattr(fake_process, "fails", False)
    with open(tmp_path / "log.txt", "w") as log:
        assert harness.run_recipe("speech", ["--seed", "1"], folder, log, resume=True, keep=keep) == {"models": {}}
    assert "--resume" in fake_process.commands[-1]
    assert (folder / "run.json").read_text() == '{"recipe": "speech"}'
    assert not keep.exists()  # the run finished: its state is no longer needed


def test_resume_without_a_runs_folder_is_refused():
    command = [sys.executable, "-m", "bench", "run", "sentiment-mr", "--data-dir", ".", "--resume"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "--resume needs --runs-dir or --progress-dir" in result.stderr


def _fake_runs(monkeypatch, accuracy):
    """`harness.run_recipe` replaced: each run reports ``accuracy(model, seed, tuned)`` for the ``--model`` it got."""
    calls = []

    def run_recipe(recipe, argv, folder, log, resume=False, keep=None):
        names = argv[len(argv) - argv[::-1].index("--model")].split(",")  # the last --model wins
        calls.append(names)
        seed, tuned = int(argv[argv.index("--seed") + 1]), "--tune" in argv or "--tuned-from" in argv
        entry = {"params": 5, "train_seconds": 2.0, "epochs": 2, "predict_ms_per_sample": 0.1, "fast_kernel": None}
        models = {}
        for name in names:
            models[name] = entry | {"metrics": {"accuracy": accuracy(name, seed, tuned)}}
            if "--tuned-from" in argv:
                given = json.loads(argv[argv.index("--tuned-from") + 1])[name]
                models[name]["tuning"] = {"settings_from": "given inline", "chosen": given}
            elif tuned:
                tuning = {"trials": 2, "epochs_per_trial": 1, "selected_on": "val_loss", "space": {"units": [8, 16]}}
                models[name]["tuning"] = tuning | {"chosen": {"units": 8 * seed}}
        return {"models": models, "command": "recipe"}

    monkeypatch.setattr(harness, "run_recipe", run_recipe)
    return calls


def test_remeasured_families_replace_only_their_rows(tmp_path, monkeypatch, capsys):
    from bench import __main__ as bench_main

    before = {"gru": 0.90, "cnn": 0.80}
    _fake_runs(monkeypatch, lambda name, seed, tuned: before[name] + 0.01 * seed + (0.02 if tuned else 0))
    base = ["run", "speech-japanese-vowels", "--data-dir", str(tmp_path), "--results-dir", str(tmp_path / "r")]
    assert bench_main.main([*base, "--tune", "2", "--tune-epochs", "1", "--", "--model", "gru,cnn"]) == 0
    stored = json.loads((tmp_path / "r" / "speech-japanese-vowels.json").read_text())
    assert stored["significance"]["comparisons"][0]["better_runs"] == [3, 0]  # the GRU ahead in every run
    # Called from Python, the results record the arguments given to main, not the caller's sys.argv.
    assert stored["command"].startswith("python -m bench run speech-japanese-vowels --data-dir ")

    after = {"gru": 0.0, "cnn": 0.95}  # a GRU row of 0.0 would show if the GRU were run again
    calls = _fake_runs(monkeypatch, lambda name, seed, tuned: after[name] + 0.01 * seed)
    remeasure = [*base, "--models", "cnn", "--why", "a new CNN default", "--tune", "2", "--tune-epochs", "1"]
    assert bench_main.main(remeasure) == 0
    assert calls == [["cnn"]] * 6  # three seeds, default and tuned
    merged = json.loads((tmp_path / "r" / "speech-japanese-vowels.json").read_text())
    assert merged["models"]["gru"] == stored["models"]["gru"]
    assert merged["models"]["cnn"]["metrics"]["accuracy"]["values"] == {"seed 1": 0.96, "seed 2": 0.97, "seed 3": 0.98}
    assert merged["tuned"]["models"]["gru"] == stored["tuned"]["models"]["gru"]
    assert merged["tuned"]["models"]["cnn"]["metrics"]["accuracy"]["mean"] == 0.97
    for block in (merged["significance"], merged["tuned"]["significance"]):
        assert block["comparisons"][0]["better_runs"] == [0, 3]  # now the CNN is ahead in every run
    assert merged["remeasured"][0]["models"] == ["cnn"] and merged["remeasured"][0]["rows"] == "default and tuned"
    page = (tmp_path / "r" / "speech-japanese-vowels.md").read_text()
    assert "| cnn | 0.9700 ± 0.0100 |" in page and "- cnn (default and tuned rows): a new CNN default." in page
    assert page.count("## Remeasured") == 1 and page.count("## Tuned") == 1 and "| cnn | 0.9600 | 0.9700" in page


def test_remeasuring_refuses_what_would_not_be_tuned_alike(tmp_path, monkeypatch, capsys):
    from bench import __main__ as bench_main

    _fake_runs(monkeypatch, lambda name, seed, tuned: 0.5)
    base = ["run", "speech-japanese-vowels", "--data-dir", str(tmp_path), "--results-dir", str(tmp_path / "r")]
    with pytest.raises(SystemExit, match="--models needs a stored"):
        bench_main.main([*base, "--models", "cnn", "--why", "w"])
    bench_main.main([*base, "--", "--model", "gru,cnn"])  # default rows only
    with pytest.raises(SystemExit, match="no tuned rows to merge into"):
        bench_main.main([*base, "--models", "cnn", "--why", "w", "--tune", "2"])
    with pytest.raises(SystemExit) as refused:
        bench_main.main([*base, "--models", "cnn"])
    assert refused.value.code == 2 and "--models needs --why" in capsys.readouterr().err


def test_progress_records_let_a_benchmark_go_on_without_its_run_folders(tmp_path, monkeypatch):
    from bench import __main__ as bench_main

    calls = _fake_runs(monkeypatch, lambda name, seed, tuned: 0.5 + 0.1 * seed)
    made = harness.run_recipe

    def stop_at_seed_3(recipe, argv, folder, log, resume=False, keep=None):
        if argv[argv.index("--seed") + 1] == "3":
            raise RuntimeError("the machine went away")
        return made(recipe, argv, folder, log, resume)

    monkeypatch.setattr(harness, "run_recipe", stop_at_seed_3)
    progress = tmp_path / "progress"
    base = ["run", "speech-japanese-vowels", "--data-dir", str(tmp_path), "--results-dir", str(tmp_path / "r")]
    base += ["--progress-dir", str(progress), "--resume", "--", "--model", "gru,cnn"]
    with pytest.raises(RuntimeError):
        bench_main.main(base)
    kept = sorted(path.name for path in (progress / "speech-japanese-vowels").iterdir())
    assert kept == ["seed_1.json", "seed_2.json"] and len(calls) == 2

    # The next sitting, on a machine whose datasets lie elsewhere: no run folder, only the records.
    monkeypatch.setattr(harness, "run_recipe", made)
    moved = [str(tmp_path / "moved") if arg == str(tmp_path) else arg for arg in base]
    assert bench_main.main(moved) == 0 and len(calls) == 3  # seed 3 alone was run
    result = json.loads((tmp_path / "r" / "speech-japanese-vowels.json").read_text())
    assert result["models"]["gru"]["metrics"]["accuracy"]["values"] == {"seed 1": 0.6, "seed 2": 0.7, "seed 3": 0.8}
    assert not (progress / "speech-japanese-vowels").exists()  # the results file holds them now

    (progress / "speech-japanese-vowels").mkdir(parents=True)
    record = {"recipe": "speech", "argv": ["--data", "elsewhere"], "report": {}}
    (progress / "speech-japanese-vowels" / "seed_1.json").write_text(json.dumps(record))
    with pytest.raises(SystemExit, match="holds a run of other arguments"):
        bench_main.main(base)


def test_tuned_like_trains_each_seed_with_what_another_benchmarks_search_chose_there(tmp_path, monkeypatch, capsys):
    from bench import __main__ as bench_main

    commands = []
    _fake_runs(monkeypatch, lambda name, seed, tuned: 0.5 + 0.1 * seed + (0.05 if tuned else 0))
    fake = harness.run_recipe

    def recorded(recipe, argv, folder, log, resume=False, keep=None):
        commands.append(argv)
        return fake(recipe, argv, folder, log, resume)

    monkeypatch.setattr(harness, "run_recipe", recorded)
    results = tmp_path / "r"
    base = ["--data-dir", str(tmp_path), "--results-dir", str(results)]
    # The searched benchmark: seed N's search chose units=8N for each family.
    searched = ["run", "speech-japanese-vowels", *base, "--tune", "2", "--tune-epochs", "1", "--", "--model", "gru,cnn"]
    assert bench_main.main(searched) == 0
    commands.clear()
    variant = ["run", "speech-fsdd", *base, "--tuned-like", "speech-japanese-vowels", "--", "--model", "gru,cnn"]
    assert bench_main.main(variant) == 0
    tuned = [argv for argv in commands if "--tuned-from" in argv]
    assert len(tuned) == 3 and not any("--tune" in argv for argv in commands)  # no search ran
    for seed, argv in zip((1, 2, 3), tuned):
        assert json.loads(argv[argv.index("--tuned-from") + 1]) == {
            "cnn": {"units": 8 * seed},
            "gru": {"units": 8 * seed},
        }
    block = json.loads((results / "speech-fsdd.json").read_text())["tuned"]
    assert block["settings_of"] == ["speech-japanese-vowels"] and "searched_in" not in block
    assert block["budget"] == {"trials": 2, "epochs_per_trial": 1} and block["space"]["gru"] == {"units": [8, 16]}
    assert block["models"]["gru"]["metrics"]["accuracy"]["values"]["seed 3"] == pytest.approx(0.85)
    page = (results / "speech-fsdd.md").read_text()
    assert "without a search of their own: each trains with the settings that the search of `speech-japanese-" in page

    # A family the other search never chose settings for is refused before anything runs.
    commands.clear()
    lacking = [*variant[:-1], "gru,lstm"]
    with pytest.raises(SystemExit, match="chose no settings for lstm in seed 1"):
        bench_main.main(lacking)
    # `--model all`, or no --model, is every family of the recipe: none may train untuned among the tuned rows.
    for every in (["--model", "all"], []):
        with pytest.raises(SystemExit, match="chose no settings for simple_rnn, lstm in seed 1"):
            bench_main.main([*variant[:-3], *(["--", *every] if every else [])])
    assert commands == []
    with pytest.raises(SystemExit, match="needs .*stocks-acl18.json with tuned rows"):
        bench_main.main(["run", "speech-fsdd", *base, "--tuned-like", "stocks-acl18"])
    with pytest.raises(SystemExit) as refused:
        bench_main.main([*variant[:-3], "--tune", "2"])
    assert refused.value.code == 2 and "give one of them" in capsys.readouterr().err


def test_tune_once_searches_in_the_first_seed_and_the_others_reuse_its_choice(tmp_path, monkeypatch):
    from bench import __main__ as bench_main

    commands = []
    made = _fake_runs(monkeypatch, lambda name, seed, tuned: 0.5 + 0.1 * seed)
    fake = harness.run_recipe

    def recorded(recipe, argv, folder, log, resume=False, keep=None):
        commands.append(argv)
        return fake(recipe, argv, folder, log, resume)

    monkeypatch.setattr(harness, "run_recipe", recorded)
    base = ["run", "speech-japanese-vowels", "--data-dir", str(tmp_path), "--results-dir", str(tmp_path / "r")]
    assert bench_main.main([*base, "--tune", "2", "--tune-once", "--", "--model", "gru,cnn"]) == 0
    tuned = [argv for argv in commands if "--tune" in argv or "--tuned-from" in argv]
    assert ["--tune" in argv for argv in tuned] == [True, False, False] and len(made) == 6
    for argv in tuned[1:]:  # seed 1 chose units=8 for both families
        assert json.loads(argv[argv.index("--tuned-from") + 1]) == {"cnn": {"units": 8}, "gru": {"units": 8}}
    block = json.loads((tmp_path / "r" / "speech-japanese-vowels.json").read_text())["tuned"]
    assert block["searched_in"] == "seed 1" and block["reused_in"] == ["seed 2", "seed 3"]
    assert block["chosen"]["gru"] == {f"seed {seed}": {"units": 8} for seed in (1, 2, 3)}
    assert block["budget"] == {"trials": 2, "epochs_per_trial": 1}  # the first seed's search
    page = (tmp_path / "r" / "speech-japanese-vowels.md").read_text()
    assert "The search ran once, in seed 1; seed 2, seed 3 train with the settings it chose" in page
    with pytest.raises(SystemExit, match="a cross-validation tunes in each fold"):
        bench_main.main(["run", "sentiment-mr", "--data-dir", str(tmp_path), "--tune", "2", "--tune-once"])
