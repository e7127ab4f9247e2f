"""Exports of every recipe's models: does each format take them, do they agree with Keras, how fast do they run.

    python bench/export.py                                    # every recipe, every model family (~15 min, 2 cores)
    python bench/export.py --recipes sentiment,speech --calls 20

For each recipe this trains its models on the bundled sample with the
recipe's own command (``--quick --model all``, plus one more run for the
other direction of the GRU: ``--bidirectional``, or ``--unidirectional`` for
the text-analysis taggers, which are bidirectional by default). The quick
runs measure export, not accuracy. Each saved model then goes through
`rnn_apps.deploy.export.export_and_check` for ``saved_model``, ``onnx`` and
``litert``, as ``rnn-apps export`` would, and the table records:

- whether the format took the model (else the converter's or runtime's
  error, shortened) and what was exported (the raw-input model, the token-id
  model with its vocabulary beside it, or the speech model from log-mel
  frames);
- the largest absolute difference from the Keras model on the recipe's
  bundled examples (the bound is 1e-4);
- the size on disk;
- the median milliseconds of one example through the runtime and through
  Keras ``predict_on_batch`` on the same model (`time_calls`, ``--calls``
  timed calls each after warm-up), and their ratio.

The one-step streaming models (`rnn_apps.streaming.step_model`) of the
speech keyword models and the sentiment GRU are exported too (``--streaming``
in ``rnn-apps export``). Writes ``bench/results/export.md`` and ``.json``;
``--render`` rewrites the ``.md`` from the ``.json`` without running anything.
"""

from __future__ import annotations

import argparse
import pathlib
import shlex
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

RECIPES = ("sentiment", "text_analysis", "speech", "translation", "video", "stocks")
FORMATS = ("saved_model", "onnx", "litert")
OTHER_DIRECTION = {"text_analysis": "--unidirectional"}  # the others train one direction unless --bidirectional
STREAMING = {"speech": ("simple_rnn", "lstm", "gru"), "sentiment": ("gru",)}


def train(recipe: str, folder: pathlib.Path, log) -> dict[str, pathlib.Path]:
    """Quick runs of ``recipe`` on the bundled sample; ``{label: saved model}``."""
    from bench import harness

    harness.run_recipe(recipe, ["--quick", "--model", "all"], folder / "all", log)
    flag = OTHER_DIRECTION.get(recipe, "--bidirectional")
    harness.run_recipe(recipe, ["--quick", "--model", "gru", flag], folder / "other", log)
    models = {path.stem: path for path in sorted((folder / "all" / "models").glob("*.keras"))}
    label = "gru (one direction)" if flag == "--unidirectional" else "gru (bidirectional)"
    models[label] = folder / "other" / "models" / "gru.keras"
    return models


def _one(target):
    """The first example of a target's inputs (batch of one)."""
    return [value[:1] for value in target.inputs]


def measure(recipe: str, label: str, path: pathlib.Path, format: str, calls: int, streaming: bool = False) -> dict:
    """Export one model to one format, check it, time one example each way."""
    from rnn_apps import errors
    from rnn_apps.deploy import export
    from rnn_apps.harness import training

    row = {"recipe": recipe, "model": label, "format": format, "streaming": streaming}
    start = time.perf_counter()
    try:
        parts = export.parts(recipe, path)
        chosen = export.target(parts, format, streaming)
        fallback = None if streaming or format == "saved_model" else parts.fallback
        with tempfile.TemporaryDirectory() as folder:
            done = export.export_and_check(chosen, format, folder, fallback=fallback)
            one = _one(done.target)
            feed = one[0] if len(one) == 1 else one
            runtime = training.time_calls(lambda: done.runner(one), calls)
            keras_time = training.time_calls(lambda: done.target.model.predict_on_batch(feed), calls)
            row |= {
                "exports": True,
                "exported": done.target.preprocessing,
                "max_abs_difference": done.max_abs_difference,
                "size_bytes": export.size_on_disk(done.path),
                "runtime_ms": runtime["p50_ms"],
                "keras_ms": keras_time["p50_ms"],
                "notes": done.notes,
            }
    except errors.InputError as error:
        row |= {"exports": False, "error": str(error)[:400]}
    row["seconds"] = round(time.perf_counter() - start, 1)
    shown = f"{row['max_abs_difference']:.1e}" if row["exports"] else row["error"][:160]
    print(f"{recipe} {label} {format}{' streaming' if streaming else ''}: {shown} ({row['seconds']} s)", flush=True)
    return row


def _what(row: dict) -> str:
    text = row["exported"]
    if text.startswith("inside"):
        return "whole model"
    if "log-mel" in text:
        return "from log-mel frames"
    if "standardized" in text:
        return "from standardized returns"
    return "token ids + vocabulary"


def _note(row: dict) -> str:
    notes = [note for note in row.get("notes", []) if "only" not in note and not note.startswith("exported without")]
    if any("tf2onnx.convert" in note for note in notes):
        return "Keras's file failed in onnxruntime; converted by tf2onnx from a SavedModel"
    return "; ".join(notes)


def _failure(error: str) -> str:
    """The converter's and runtime's words from a failed export's message, for a table cell."""
    said = error.split("Received: ", 1)[-1].strip("'\"")
    said = said.split(": ", 1)[1] if ": " in said else said  # drop the model's name
    return said.replace("|", "/")[:340]


def markdown(result: dict) -> str:
    from bench import harness

    lines = [
        "# Exporting the recipes' models: SavedModel, ONNX, LiteRT",
        "",
        "Every recipe's models, trained by `--quick` runs on the bundled sample (export, not accuracy, is measured), "
        "exported as `rnn-apps export` does and loaded back with each format's own runtime: "
        "`tf.saved_model.load`, `onnxruntime.InferenceSession` (CPU), `ai_edge_litert` `Interpreter` (batch 1, "
        "LiteRT built-in operations only). **max abs diff**: largest absolute difference from the Keras model on "
        "the recipe's bundled examples (`rnn-apps export` fails above 1e-4). **ms / example**: median of "
        f"{result['calls']} calls on one example through the runtime, and through Keras `predict_on_batch` on the "
        "same model; **ratio** = runtime / Keras (below 1: the runtime is faster). **exported**: the whole saved "
        "model with its preprocessing; the token-id model with its vocabulary beside it (ONNX and LiteRT have no "
        "string operations); the speech model from log-mel frames (tf2onnx cannot convert the STFT). "
        "One run, one machine; the ratios are from the same process.",
        "",
        "| recipe | model | format | exports | exported | max abs diff | size KiB | ms / example: runtime / Keras | "
        "ratio | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        name = row["model"] + (" step" if row["streaming"] else "")
        if not row["exports"]:
            lines.append(f"| {row['recipe']} | {name} | {row['format']} | no | | | | | | {_failure(row['error'])} |")
            continue
        ratio = row["runtime_ms"] / row["keras_ms"]
        lines.append(
            f"| {row['recipe']} | {name} | {row['format']} | yes | {_what(row)} | {row['max_abs_difference']:.1e} | "
            f"{row['size_bytes'] / 1024:,.0f} | {row['runtime_ms']:.2f} / {row['keras_ms']:.2f} | {ratio:.2f} | "
            f"{_note(row)} |"
        )
    exported = [row for row in result["rows"] if row["exports"]]
    largest = max(exported, key=lambda row: row["max_abs_difference"])
    lines += [
        "",
        f"{len(exported)} of {len(result['rows'])} exports convert, run in their runtime and pass parity; the largest "
        f"difference is {largest['max_abs_difference']:.1e} ({largest['recipe']} {largest['model']}, "
        f"{largest['format']}). The others stop at the converter or the runtime, with the error shown.",
        "",
    ]
    lines += ["Median ratio runtime / Keras per format (one example):", ""]
    for format in FORMATS:
        ratios = sorted(row["runtime_ms"] / row["keras_ms"] for row in exported if row["format"] == format)
        if ratios:
            lines.append(f"- {format}: {ratios[len(ratios) // 2]:.2f} (over {len(ratios)} exports)")
    return "\n".join(lines + harness.footer(result["machine"], result["command"], result.get("note", "")))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python bench/export.py", description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", type=lambda text: text.split(","), default=list(RECIPES))
    parser.add_argument("--calls", type=int, default=50, help="timed calls of one example, each way")
    parser.add_argument("--results-dir", type=pathlib.Path, default=ROOT / "bench" / "results")
    parser.add_argument("--note", default="", help="a sentence for the results file (load on the machine)")
    parser.add_argument("--render", action="store_true", help="rewrite export.md from export.json; run nothing")
    args = parser.parse_args(argv)
    if args.render:
        import json

        from bench import harness

        result = json.loads((args.results_dir / "export.json").read_text())
        return harness.publish(args.results_dir, "export", result, markdown(result))
    from rnn_apps.harness import runtime

    runtime.configure()
    from bench import harness

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch:
        with (pathlib.Path(scratch) / "runs.log").open("w") as log:
            for recipe in args.recipes:
                models = train(recipe, pathlib.Path(scratch) / recipe, log)
                for label, path in models.items():
                    rows += [measure(recipe, label, path, format, args.calls) for format in FORMATS]
                for label in STREAMING.get(recipe, ()):
                    rows += [measure(recipe, label, models[label], format, args.calls, True) for format in FORMATS]
    result = {
        "calls": args.calls,
        "rows": rows,
        "machine": harness.machine(),
        "command": shlex.join(["python", "bench/export.py", *(argv if argv is not None else sys.argv[1:])]),
        "note": args.note,
    }
    return harness.publish(args.results_dir, "export", result, markdown(result))


if __name__ == "__main__":
    main()
