"""Translation decoding time: the incremental decoder against the full-prefix one, recurrent and CNN.

    python -m bench decoding --data-dir ../shared/datasets                      # trains gru and cnn, 4 epochs
    python -m bench decoding --data-dir ../shared/datasets --models-dir RUN_DIR  # a finished recipe run
    python -m bench decoding --data-dir ../shared/datasets --epochs 1 --single 20   # a short check

The models are those of the translation-multi30k benchmark (`bench.specs`):
a bi-GRU with attention and the ConvS2S-style CNN, one seed, trained by the
recipe's own command (or read from ``--models-dir``, a run folder with
``models/gru.keras`` and ``models/cnn.keras``). Each saved model is loaded
as ``rnn-apps predict`` loads it and decodes the Multi30k test_2016_flickr
sources greedily (at most 40 words) two ways through
`rnn_apps.tasks.seq2seq.translate`: ``incremental=False`` (the source and the
whole prefix re-read for every word) and the default incremental decoder.
Two timings per model and decoder, after untimed warm-up calls (tracing):
all test sentences in batches of 128 as the recipe's evaluation decodes
them, and ``--single`` sentences one at a time (median). The BLEU of both
decoders' batch output is computed and compared. Writes
``bench/results/decoding.json`` and ``.md``.
"""

from __future__ import annotations

import json
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = "translation-multi30k"
MODELS = ("gru", "cnn")
DECODERS = {"full prefix": False, "incremental": True}
BATCH = 128  # what the recipe's evaluation decodes at once (`translate`'s default)


def _recipe_args(epochs: int | None) -> list[str]:
    from bench import specs

    args = list(specs.BENCHMARKS[SPEC].args)
    if epochs is not None:
        args[args.index("--epochs") + 1] = str(epochs)
    return args


def train(data: pathlib.Path, folder: pathlib.Path, epochs: int | None, seed: int) -> list[str]:
    """Train the benchmark's models with the recipe's command into ``folder``; the command."""
    command = [sys.executable, "-m", "recipes.translation", "--data", str(data), *_recipe_args(epochs)]
    command += ["--seed", str(seed), "--output-dir", str(folder), "--verbose", "0"]
    subprocess.run(command, cwd=ROOT, check=True)
    return command


def _timed(call, *args) -> tuple[float, object]:
    start = time.perf_counter()
    value = call(*args)
    return time.perf_counter() - start, value


def measure(model, sources, references, single: int, repeats: int) -> dict:
    """Batch and one-at-a-time decoding time of both decoders for one loaded model, and their BLEU."""
    from rnn_apps.tasks import seq2seq, seq2seq_inference

    def decode(sentences, incremental):
        rows = seq2seq.translate(model, sentences, max_length=40, batch_size=BATCH, incremental=incremental)
        return [row["translation"] for row in rows]

    entries, outputs = {}, {}
    for name, incremental in DECODERS.items():
        # Untimed: trace the graphs of both batch shapes and of one sentence.
        decode(sources[:BATCH], incremental)
        decode(sources[len(sources) - len(sources) % BATCH :] or sources[:1], incremental)
        decode(sources[:1], incremental)
        batch_seconds = []
        for _ in range(repeats):
            seconds, outputs[name] = _timed(decode, sources, incremental)
            batch_seconds.append(seconds)
        one = [_timed(decode, [sentence], incremental)[0] for sentence in sources[:single]]
        entries[name] = {
            "batch_ms_per_sentence": 1000 * float(np.median(batch_seconds)) / len(sources),
            "batch_seconds": batch_seconds,
            "single_ms_median": 1000 * float(np.median(one)),
            "single_ms_mean": 1000 * float(np.mean(one)),
            "bleu": seq2seq_inference.score(outputs[name], references)["bleu"],
        }
    same = sum(a == b for a, b in zip(outputs["full prefix"], outputs["incremental"]))
    for entry in entries.values():
        entry["identical_translations"] = same
    return entries


def markdown(result: dict) -> str:
    from bench import harness

    lines = [
        "# Translation decoding: incremental against full prefix",
        "",
        f"Greedy decoding (at most 40 words) of the {result['sentences']:,} Multi30k test_2016_flickr German "
        f"sentences with one seed of the translation-multi30k models ({result['training']}), loaded from their "
        "saved `.keras` files as `rnn-apps predict` loads them. *full prefix*: `translate(..., "
        "incremental=False)`, the saved model re-reads the source and the whole prefix for every word; "
        "*incremental*: the encoder once per batch, then one decoder step per word (recurrent: the state "
        "carried, attention over cached encoder outputs; CNN: the encoder output cached, the causal decoder "
        f"still re-reads the prefix). *batch*: all sentences in batches of {BATCH}, as the recipe's evaluation "
        f"(median of {result['repeats']} run(s)); *one at a time*: the first {result['single']} sentences, "
        "one call each (median). Warm-up calls (tracing) are not timed.",
        "",
        "| model | decoder | batch ms/sentence | one at a time ms/sentence | BLEU | same translations |",
        "|---|---|---|---|---|---|",
    ]
    for model, entries in result["models"].items():
        for decoder, entry in entries.items():
            lines.append(
                f"| {model} | {decoder} | {entry['batch_ms_per_sentence']:.2f} | {entry['single_ms_median']:.1f} | "
                f"{entry['bleu']:.2f} | {entry['identical_translations']:,} / {result['sentences']:,} |"
            )
    gru, cnn = result["models"].get("gru"), result["models"].get("cnn")
    if gru and cnn:
        lines += ["", "Ratios (same run, same machine):", ""]
        for column, label in (("batch_ms_per_sentence", "batch"), ("single_ms_median", "one at a time")):
            old, new = gru["full prefix"][column], gru["incremental"][column]
            lines.append(
                f"- {label}: gru incremental / gru full prefix = {new / old:.3f}; gru incremental / cnn "
                f"incremental = {new / cnn['incremental'][column]:.3f}; gru incremental / cnn full prefix = "
                f"{new / cnn['full prefix'][column]:.3f}; cnn incremental / cnn full prefix = "
                f"{cnn['incremental'][column] / cnn['full prefix'][column]:.3f}"
            )
    if result.get("note"):
        lines += ["", result["note"]]
    return "\n".join(lines + harness.footer(result["machine"], result["command"]))


def main(args) -> dict:
    from bench import harness
    from rnn_apps.data import parallel
    from rnn_apps.harness import runtime

    runtime.configure()
    from rnn_apps.tasks import seq2seq

    data = pathlib.Path(args.data_dir) / "translation/multi30k/raw"
    with tempfile.TemporaryDirectory(prefix="bench-decoding-") as scratch:
        folder = pathlib.Path(args.models_dir) if args.models_dir else pathlib.Path(scratch) / "run"
        if args.models_dir:
            report = folder / "metrics.json"
            command = json.loads(report.read_text()).get("command") if report.exists() else None
            training = f"trained by `{command}`" if command else f"read from {folder}/models"
        else:
            command = train(data, folder, args.epochs, args.seed)
            training = f"trained here by `{shlex.join(['python', *command[1:]])}`"
        splits = parallel.load_training_pairs(data, "de", "en")
        sources, references = (list(part) for part in splits.test)
        results = {}
        for name in MODELS:
            model = seq2seq.load_translator(folder / "models" / f"{name}.keras")
            results[name] = measure(model, sources, references, args.single, args.repeats)
            print(name, json.dumps(results[name], indent=1), flush=True)
    result = {
        "sentences": len(sources),
        "single": args.single,
        "repeats": args.repeats,
        "training": training,
        "models": results,
        "note": args.note or "",
        "machine": harness.machine(),
        "command": harness.command_line(),
    }
    return harness.publish(args.results_dir, "decoding", result, markdown(result))
