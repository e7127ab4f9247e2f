"""Single-example prediction latency of saved models, recipe by recipe.

    python -m bench latency                 # sentiment, text_analysis, stocks
    python -m bench latency --calls 20      # a short check

For each recipe the models are trained by a quick run in a scratch folder,
loaded once with `keras.models.load_model`, and then one raw example at a
time goes through the same steps as the recipe's ``predict`` (the path behind
``rnn-apps predict``) after loading: a raw sentence for sentiment, a raw
sentence tokenized and tagged for text_analysis, one raw price window for
stocks. The p50 and p95 of the per-call wall time are reported; the first
calls warm up (tracing) and are not counted. The goal (issue 9) is a p50 under
20 ms on 2 CPU cores for these three recipes.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOAL_MS = 20.0
SENTENCE = "the battery lasts all day and the pictures are sharp"
TAGGED = "Angela Merkel visited the Siemens plant in Munich on Tuesday ."


def percentiles(call, calls: int, warm_up: int = 5) -> dict:
    """p50/p95 milliseconds of ``call()`` after ``warm_up`` untimed calls (`rnn_apps.harness.training.time_calls`).

    Examples:
        >>> sorted(percentiles(lambda: None, calls=3, warm_up=1))
        ['calls', 'p50_ms', 'p95_ms']
    """
    from rnn_apps.harness import training

    return training.time_calls(call, calls, warm_up)


def _quick_run(recipe: str, folder: pathlib.Path, *flags: str) -> dict:
    subprocess.run(
        [sys.executable, "-m", f"recipes.{recipe}", "--quick", "--verbose", "0", "--output-dir", str(folder), *flags],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return json.loads((folder / "metrics.json").read_text())


def _saved_models(folder: pathlib.Path, report: dict) -> dict[str, pathlib.Path]:
    return {name: folder / entry["model_path"] for name, entry in report["models"].items() if entry.get("model_path")}


def saved_model_latency(recipe: str, folder: pathlib.Path, calls: int, one_call) -> dict:
    """Train ``recipe``'s models quickly, then time ``one_call(model, path)()`` for each saved model."""
    import keras

    report = _quick_run(recipe, folder)
    return {
        name: percentiles(one_call(keras.models.load_model(path), path), calls)
        for name, path in _saved_models(folder, report).items()
    }


def sentiment(folder: pathlib.Path, calls: int) -> dict:
    from recipes import sentiment as recipe

    return saved_model_latency(
        "sentiment", folder, calls, lambda model, path: lambda: recipe.probabilities(model, [SENTENCE])
    )


def text_analysis(folder: pathlib.Path, calls: int) -> dict:
    from rnn_apps.data import tokenization
    from rnn_apps.tasks import tagger_inference

    def one_call(model, path):
        settings = json.loads(path.with_suffix(".json").read_text())
        tag_names, char_length = settings["tag_names"], settings.get("char_length")
        return lambda: tagger_inference.predict_tags(model, [tokenization.tokenize(TAGGED)], tag_names, char_length)

    return saved_model_latency("text_analysis", folder, calls, one_call)


def stocks(folder: pathlib.Path, calls: int) -> dict:
    def one_call(model, path):
        window, channels = model.input_shape[1], model.input_shape[2]
        steps = np.random.default_rng(0).normal(0, 1, (1, window, channels))
        prices = (100 + np.cumsum(steps, axis=1)).astype("float32")
        return lambda: model.predict_on_batch(prices)

    return saved_model_latency("stocks", folder, calls, one_call)


RECIPES = {"sentiment": sentiment, "text_analysis": text_analysis, "stocks": stocks}


def markdown(result: dict) -> str:
    lines = [
        "# Prediction latency",
        "",
        "One raw example per call through each saved model, after loading it once: the steps of the recipe's "
        "`predict` (the path behind `rnn-apps predict`) without the model load. Models from a `--quick` run; "
        f"{result['calls']} timed calls after 5 warm-up calls. Goal: p50 under {GOAL_MS:.0f} ms on 2 CPU cores.",
        "",
        "| recipe | model | p50 ms | p95 ms | p50 goal met |",
        "|---|---|---|---|---|",
    ]
    for recipe, table in result["latency"].items():
        for name, entry in table.items():
            met = "yes" if entry["p50_ms"] < GOAL_MS else "**no**"
            lines.append(f"| {recipe} | {name} | {entry['p50_ms']:.2f} | {entry['p95_ms']:.2f} | {met} |")
    from bench import harness

    return "\n".join(lines + harness.footer(result["machine"], result["command"], result.get("note", "")))


def main(args) -> dict:
    from bench import harness

    chosen = args.recipes or list(RECIPES)
    result = {"calls": args.calls, "latency": {}, "note": args.note or ""}
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as scratch:
        for recipe in chosen:
            result["latency"][recipe] = RECIPES[recipe](pathlib.Path(scratch) / recipe, args.calls)
    result["machine"] = harness.machine()
    result["command"] = harness.command_line()
    return harness.publish(args.results_dir, "latency", result, markdown(result))
