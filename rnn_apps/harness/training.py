"""Training and timing: seeding, fit with early stopping, prediction speed.

`fit` wraps `keras.Model.fit` with the callbacks every recipe wants (early
stopping on the validation loss with the best weights restored, a
best-model checkpoint, a CSV log) and measures the wall-clock training time.
`time_predict` measures milliseconds per sample after a warm-up call, as the
median of several repetitions.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import statistics
import sys
import time
import warnings

import keras
import numpy as np
import pandas as pd

from rnn_apps import errors, io
from rnn_apps.harness import distribute


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and the backend; make TensorFlow ops deterministic.

    Args:
        seed: non-negative int.
        deterministic: with the TensorFlow backend, also turn on op
            determinism so two runs on a CPU give the same numbers.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise errors.expected("a non-negative integer", seed, name="seed")
    keras.utils.set_random_seed(seed)
    if deterministic and keras.config.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


@dataclasses.dataclass
class FitResult:
    """What one training run produced.

    Attributes:
        history: per-epoch metric lists, as in ``History.history``.
        train_seconds: wall-clock seconds spent in ``fit``.
        epochs_run: epochs completed (early stopping may end sooner).
        best_epoch: 1-based epoch whose weights were kept.
        interrupted: training was stopped by Ctrl-C (``KeyboardInterrupt``)
            after at least one completed epoch; the model holds the weights
            of the best completed epoch.
    """

    history: dict[str, list[float]]
    train_seconds: float
    epochs_run: int
    best_epoch: int
    interrupted: bool = False


def fit(
    model: keras.Model,
    train,
    validation,
    *,
    epochs: int,
    output_dir: str | os.PathLike,
    name: str,
    patience: int = 3,
    monitor: str = "val_loss",
    verbose: int | str = "auto",
    callbacks=(),
    resume: bool = False,
) -> FitResult:
    """Train ``model`` with early stopping, a checkpoint and a CSV log.

    After every epoch the model, optimizer and epoch counter are backed up
    (`keras.callbacks.BackupAndRestore`), so a run that was killed can go on
    from its last completed epoch with ``resume=True``; the CSV log then
    continues where it stopped. Early stopping counts patience from the
    resumed epoch. A finished run deletes its backup.

    Ctrl-C (``KeyboardInterrupt``) during training stops cleanly once an
    epoch has finished: the model keeps the weights of its best completed
    epoch (also written to the checkpoint) and the result is marked
    ``interrupted``; the backup
    stays, so ``resume=True`` can go on later. Before the first completed
    epoch the interruption is raised again.

    Args:
        model: a compiled model.
        train: training data (a `tf.data.Dataset` or anything ``fit`` takes).
        validation: validation data, used for early stopping.
        epochs: positive int, most epochs to run.
        output_dir: run folder; writes ``logs/{name}.csv`` and
            ``checkpoints/{name}.keras`` (the best epoch by ``monitor``,
            written once training ends or is interrupted).
        name: model name used in file names.
        patience: epochs without improvement before stopping.
        monitor: quantity to watch; ``val_*`` metrics are minimized if they
            are losses and maximized otherwise.
        verbose: passed to ``fit`` (Keras's own progress bar by default).
        callbacks: extra callbacks.
        resume: continue from ``backups/{name}`` if an interrupted run left
            one; otherwise any old backup is discarded and training starts
            afresh.

    Returns:
        A `FitResult` covering every epoch, resumed ones included. The model
            keeps the weights of its best epoch.
    """
    errors.check_positive(epochs, "epochs")
    output_dir = pathlib.Path(output_dir)
    (output_dir / "logs").mkdir(parents=True, exist_ok=True)
    (output_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    mode = "min" if monitor.endswith("loss") else "max"
    backup = output_dir / "backups" / name
    if backup.exists() and not resume:
        shutil.rmtree(backup)
    resumed = backup.exists()
    log_path = output_dir / "logs" / f"{name}.csv"
    checkpoint = output_dir / "checkpoints" / f"{name}.keras"
    stop = keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience, restore_best_weights=True)
    all_callbacks = [
        # Back up before anything else records the epoch as done.
        keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=True),
        # Keeps the best epoch's weights in memory; they are written to the
        # checkpoint once, when training ends or is interrupted (a file per
        # improving epoch cost a second or more per model).
        stop,
        keras.callbacks.CSVLogger(log_path, append=resumed),
        *callbacks,
    ]
    start = time.perf_counter()
    interrupted = False
    with warnings.catch_warnings():
        # Bucketed datasets have no known length until the first epoch ends;
        # Keras warns about that, though nothing is wrong.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        with distribute.replicated(model) as trained:
            try:
                history = trained.fit(
                    train,
                    validation_data=validation,
                    epochs=epochs,
                    callbacks=all_callbacks,
                    verbose=verbose,
                    shuffle=False,  # datasets shuffle themselves
                ).history
            except KeyboardInterrupt:
                if stop.best_weights is not None:
                    trained.set_weights(stop.best_weights)
                elif resumed and checkpoint.exists():
                    # Interrupted again before an epoch finished: the best of the earlier attempt.
                    trained.load_weights(checkpoint)
                else:
                    raise
                interrupted = True
                history = {}
                print(f"\ninterrupted: {name} keeps its best completed epoch; --resume continues it", file=sys.stderr)
            io.save_model(trained, checkpoint)
    seconds = time.perf_counter() - start
    full_history = {key: [float(v) for v in values] for key, values in history.items()}
    if resumed or interrupted:
        # The log holds the epochs before the interruption as well.
        log = pd.read_csv(log_path)
        full_history = {key: log[key].astype(float).tolist() for key in log.columns if key != "epoch"}
    values = full_history.get(monitor, [])
    best = (int(np.argmin(values)) if mode == "min" else int(np.argmax(values))) + 1 if values else 0
    return FitResult(
        history=full_history,
        train_seconds=seconds,
        epochs_run=len(values) if values else len(next(iter(full_history.values()), [])),
        best_epoch=best,
        interrupted=interrupted,
    )


def fit_from_args(model: keras.Model, train, validation, args, name: str, **options) -> FitResult:
    """`fit` with the run settings a recipe takes from its command-line flags.

    Reads ``epochs``, ``output_dir``, ``patience``, ``verbose``, ``resume``
    and, where the recipe has the flag, ``monitor`` from ``args``; keyword
    ``options`` override any of them (a CRF tagger monitors ``val_loss``).
    """
    settings = {
        "epochs": args.epochs,
        "output_dir": args.output_dir,
        "patience": args.patience,
        "monitor": getattr(args, "monitor", "val_loss"),
        "verbose": args.verbose,
        "resume": args.resume,
    }
    return fit(model, train, validation, name=name, **(settings | options))


def time_predict(predict, inputs, batch_size: int = 256, repeats: int = 3) -> float:
    """Median milliseconds per sample of ``predict`` over ``inputs``.

    The first call warms up (tracing, compilation) and is not timed. The
    inputs are cut into batches of ``batch_size`` as a serving loop would.

    Args:
        predict: callable taking one batch (a slice of ``inputs``).
        inputs: array-like (or list) of samples.
        batch_size: samples per call.
        repeats: timed passes over ``inputs``; the median is reported.

    Returns:
        Milliseconds per sample.

    Examples:
        >>> ms = time_predict(lambda batch: [x * 2 for x in batch], list(range(10)), 4)
        >>> ms >= 0
        True
    """
    count = len(inputs)
    if count == 0:
        raise errors.expected("at least one sample to time", "none")
    batches = [inputs[i : i + batch_size] for i in range(0, count, batch_size)]
    predict(batches[0])
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            predict(batch)
        timings.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(timings) / count
