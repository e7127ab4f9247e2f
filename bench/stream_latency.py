"""Cost of one more step: the streaming step model against re-reading the whole sequence.

    python bench/stream_latency.py                           # lengths 10, 100, 1,000; 200 timed calls each
    python bench/stream_latency.py --lengths 10,100 --calls 50 --cells lstm

A recurrent model that carries its state (`rnn_apps.streaming`) pays the
same for the answer after step 1,000 as after step 10: one step of the
cells. A stateless model must re-read all the steps so far. For each cell
and each length ``L`` this benchmark builds the sentiment recipe's default
word model (its embedding and unit sizes; untrained weights, which do not
change the arithmetic), streams ``L - 1`` random word ids, then times
``--calls`` calls that each give the answer after word ``L``:

- ``stream``: one call of the step model from the state after ``L - 1``
  words (the state is put back before every call);
- ``re-read``: ``predict_on_batch`` on all ``L`` ids, as `rnn-apps
  predict` would.

It also records the p50/p95 of every step while the ``L`` words stream in,
which shows the cost per step staying flat (the measurement is
`recipes.carrying_state.answer_after`, the study behind the docs page
"Carrying the state"). Everything runs in one process,
one call at a time (batch 1). Writes ``bench/results/stream_latency.md``
and ``.json``.
"""

from __future__ import annotations

import argparse
import pathlib
import shlex
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

VOCABULARY_SIZE = 20_000


def _model(cell: str):
    from recipes import sentiment

    cfg = sentiment.RECIPE.parse(["--model", cell])
    return sentiment.build_classifier(cell, cfg, VOCABULARY_SIZE, 2), cfg


def measure(cell: str, lengths: list[int], calls: int, seed: int = 0) -> dict:
    """Per-call milliseconds of both ways for one cell at every length."""
    import numpy as np

    from recipes import carrying_state
    from rnn_apps import streaming

    model, cfg = _model(cell)
    stream = streaming.Stream(model)
    rng = np.random.default_rng(seed)
    stream.run(rng.integers(2, VOCABULARY_SIZE, size=(1, 30)).astype("int32"))  # compile and warm up the step
    rows = []
    for length in lengths:
        ids = rng.integers(2, VOCABULARY_SIZE, size=(1, length)).astype("int32")
        row = carrying_state.answer_after(stream, model, ids, calls)
        rows.append(row)
        print(
            f"{cell} L={length}: stream {row['stream']['p50_ms']:.2f} ms, re-read {row['re_read']['p50_ms']:.2f} ms "
            f"(difference {row['max_abs_difference']:.1e})",
            flush=True,
        )
    return {"cell": cell, "units": cfg.units, "embedding_dim": cfg.embedding_dim, "rows": rows}


def markdown(result: dict) -> str:
    from bench import harness
    from recipes import carrying_state

    first = result["cells"][0]
    lines = [
        "# Carrying the state: the cost of one more step",
        "",
        f"The answer after word L of a text, batch 1, through the sentiment recipe's default word model "
        f"(embedding {first['embedding_dim']}, {first['units']} units, vocabulary {VOCABULARY_SIZE:,}; untrained "
        f"weights, which do not change the cost). **stream**: one call of the step model from the state after "
        f"L - 1 words (`rnn_apps.streaming.Stream.step`). **re-read**: `predict_on_batch` on all L words. "
        f"{result['calls']} timed calls per cell (after warm-up calls); the last columns are every step "
        "while the L words streamed in, and the largest difference between the two answers.",
        "",
        "| cell | L | one step p50 / p95 ms | re-read p50 / p95 ms | re-read / step | every step p50 / p95 ms | "
        "max abs difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in result["cells"]:
        lines += [
            f"| {entry['cell']} | {row['length']:,} | {carrying_state.latency_cells(row)} |" for row in entry["rows"]
        ]
    return "\n".join(lines + harness.footer(result["machine"], result["command"], result.get("note", "")))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python bench/stream_latency.py", description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=lambda text: text.split(","), default=["simple_rnn", "lstm", "gru"])
    parser.add_argument("--lengths", type=lambda text: [int(v) for v in text.split(",")], default=[10, 100, 1000])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per cell and length, each way")
    parser.add_argument("--results-dir", type=pathlib.Path, default=ROOT / "bench" / "results")
    parser.add_argument("--note", default="", help="a sentence for the results file (load on the machine)")
    args = parser.parse_args(argv)
    from rnn_apps.harness import runtime

    runtime.configure()
    from bench import harness

    result = {
        "calls": args.calls,
        "cells": [measure(cell, args.lengths, args.calls) for cell in args.cells],
        "machine": harness.machine(),
        "command": shlex.join(["python", "bench/stream_latency.py", *(argv if argv is not None else sys.argv[1:])]),
        "note": args.note,
    }
    return harness.publish(args.results_dir, "stream_latency", result, markdown(result))


if __name__ == "__main__":
    main()
