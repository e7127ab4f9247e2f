"""The benchmark entry point in a tiny configuration, so the harness cannot rot."""

import json
import subprocess
import sys

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
        "--",
        "--model",
        "lstm,cnn",
    ]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)
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
