"""Training and timing: seeding, fit with early stopping, prediction speed.

`fit` wraps `keras.Model.fit` with the callbacks every recipe wants (early
stopping on the validation loss with the best weights restored, a
best-model checkpoint, a CSV log) and measures the wall-clock training time.
`time_predict` measures milliseconds per sample after a warm-up call, as the
median of several repetitions.
"""

from __future__ import annotations

import dataclasses
import json
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


STOPPING_STATE = "early_stopping.json"
BEST_WEIGHTS = "best.weights.npz"


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Early stopping whose state survives a killed run.

    After every epoch the counters (best value, best epoch, epochs without
    improvement) go to ``FOLDER/early_stopping.json``, and the best weights,
    when they change, to ``FOLDER/best.weights.npz``; ``FOLDER`` is the
    `keras.callbacks.BackupAndRestore` folder, so the state is saved with
    the epoch it belongs to and deleted with it. When training begins and
    that folder holds a state saved for the epoch the backup restores, the
    state is read back: a resumed run stops at the epoch an uninterrupted
    run would, and keeps the same best weights.

    With ``tie_breaker`` (another logged quantity, lower is better: the
    validation loss), an epoch whose monitored value equals the best one
    so far is an improvement when it lowers that quantity. A task score
    often stays at its floor for the first epochs (a CTC model that answers
    only blanks has a WER of 1.0; a tagger that tags only ``O`` an entity F1
    of 0), while the loss still falls: without the tie-breaker, patience
    would run out before the score ever moves.
    """

    def __init__(self, folder: str | os.PathLike, tie_breaker: str | None = None, **options):
        super().__init__(**options)
        self.folder = pathlib.Path(folder)
        self.tie_breaker = tie_breaker
        self.best_tie = None  # the tie-breaker's value at the best epoch
        self._tie = None  # ... at the epoch being judged

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        state_path = self.folder / STOPPING_STATE
        epochs = _epochs_backed_up(self.folder)
        if not state_path.is_file() or epochs is None:
            return
        state = json.loads(state_path.read_text())
        if state.get("epoch") != epochs:
            return  # saved for another epoch than the backup's: start afresh
        self.wait, self.stopped_epoch, self.best_epoch = state["wait"], state["stopped_epoch"], state["best_epoch"]
        self.best = state["best"]
        self.best_tie = state.get("best_tie")
        weights_path = self.folder / BEST_WEIGHTS
        if self.restore_best_weights and weights_path.is_file():
            with np.load(weights_path) as stored:
                self.best_weights = [stored[f"w{i}"] for i in range(len(stored.files))]

    def on_epoch_end(self, epoch, logs=None):
        self._tie = (logs or {}).get(self.tie_breaker) if self.tie_breaker else None
        super().on_epoch_end(epoch, logs)
        if self.best_epoch == epoch:
            self.best_tie = self._tie
        if not self.folder.is_dir():
            return  # no backup of this epoch to go with
        if self.restore_best_weights and self.best_epoch == epoch and self.best_weights is not None:
            with io.atomic_path(self.folder / BEST_WEIGHTS, suffix=".npz") as temporary:
                np.savez(temporary, **{f"w{i}": value for i, value in enumerate(self.best_weights)})
        best = None if self.best is None else float(self.best)
        state = {"epoch": epoch + 1, "wait": self.wait, "stopped_epoch": self.stopped_epoch}
        best_tie = None if self.best_tie is None else float(self.best_tie)
        io.write_json(
            self.folder / STOPPING_STATE, state | {"best_epoch": self.best_epoch, "best": best, "best_tie": best_tie}
        )

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is not None and monitor_value == reference_value and None not in (self._tie, self.best_tie):
            return self._tie < self.best_tie
        return super()._is_improvement(monitor_value, reference_value)


RANDOM_STATE = "random_state.npz"


class RandomStateBackup(keras.callbacks.Callback):
    """Keeps the random-number state of dropout and noise layers with the epoch backup.

    `keras.callbacks.BackupAndRestore` saves the model's weights and the
    optimizer, but not the seed-generator states of layers that draw random
    numbers (a model's ``variables`` that are not among its ``weights``). A
    resumed run would then draw the dropout masks of epoch 1 again; with the
    state saved after each epoch in ``FOLDER/random_state.npz`` and read back
    when training begins, it draws those of the epoch it resumes.
    """

    def __init__(self, folder: str | os.PathLike):
        super().__init__()
        self.folder = pathlib.Path(folder)

    def _states(self) -> dict:
        # Keyed by position: variable names carry a counter that differs between processes.
        weights = {id(variable) for variable in self.model.weights}
        states = [variable for variable in self.model.variables if id(variable) not in weights]
        return {f"state{i}": variable for i, variable in enumerate(states)}

    def on_train_begin(self, logs=None):
        path = self.folder / RANDOM_STATE
        epochs = _epochs_backed_up(self.folder)
        if not path.is_file() or epochs is None:
            return
        with np.load(path) as stored:
            if int(stored["epoch"]) != epochs:
                return
            for name, variable in self._states().items():
                if name in stored.files and tuple(stored[name].shape) == tuple(variable.shape):
                    variable.assign(stored[name])

    def on_epoch_end(self, epoch, logs=None):
        if not self.folder.is_dir():
            return
        values = {name: keras.ops.convert_to_numpy(variable.value) for name, variable in self._states().items()}
        with io.atomic_path(self.folder / RANDOM_STATE, suffix=".npz") as temporary:
            np.savez(temporary, epoch=np.int64(epoch + 1), **values)


def _epochs_backed_up(folder: pathlib.Path) -> int | None:
    """Completed epochs recorded by the `keras.callbacks.BackupAndRestore` in ``folder``, if any."""
    metadata = folder / "training_metadata.json"
    if not metadata.is_file():
        return None
    return int(json.loads(metadata.read_text()).get("epoch", 0))


def _replay_data_order(train, epochs: int | None) -> None:
    """Draw ``epochs`` passes of a shuffling `tf.data.Dataset` so a resumed run sees the next epoch's order.

    A dataset that shuffles with a fixed seed draws a new order for each pass;
    a fresh process would start again from the first. Reading the passes the
    interrupted run already trained on (inputs only, no model) puts the
    shuffle where an uninterrupted run would be.
    """
    if not epochs or type(train).__module__.split(".")[0] != "tensorflow":
        return
    # Keras's epoch loop opens one pass per epoch, and for a dataset of known
    # length it opens the next pass as soon as an epoch ends (then drops it
    # when the next epoch opens its own), so each epoch draws two orders.
    known_length = int(train.cardinality()) >= 0
    for _ in range(epochs):
        for _ in train:
            pass
        if known_length:
            iter(train)


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


def update_budget(
    epochs: int, patience: int, batches: int | None, min_updates: int, max_updates: int = 0
) -> tuple[int, int]:
    """Epochs and patience that let training make at least ``min_updates`` updates of ``batches`` per epoch.

    Epoch counts suit a dataset of some size: ten epochs of 8,000 sentences
    are over a thousand optimizer updates, ten epochs of 42 motion series
    in batches of 32 are twenty, too few for any model to learn (and for a
    batch-normalized CNN's moving statistics to settle). With
    ``--min-updates N`` a run whose ``epochs x batches`` falls short of
    ``N`` multiplies its epochs and its early-stopping patience by the same
    factor, so early stopping still ends it once validation stops
    improving; larger datasets keep the epochs they were given.

    A recurrent model reading a long univariate series can still be
    improving when those updates run out. ``--max-updates M`` (above ``N``)
    raises only the epoch ceiling, to ``M`` updates, and keeps the patience
    ``N`` gave: a run goes past ``N`` updates only when its best validation
    epoch lies within the last patience window there, and early stopping
    ends it once validation has not improved for that window. Runs that
    stop before ``N`` updates are unchanged.

    Args:
        epochs: ``--epochs``.
        patience: ``--patience``.
        batches: training batches per epoch; `None` (unknown) leaves both
            as they are.
        min_updates: ``--min-updates``; 0 leaves both as they are.
        max_updates: ``--max-updates``; at or below ``min_updates`` (0
            included) the ceiling is ``min_updates``.

    Returns:
        ``(epochs, patience)``.

    Examples:
        >>> update_budget(30, 6, batches=2, min_updates=1000)
        (500, 100)
        >>> update_budget(30, 6, batches=2, min_updates=1000, max_updates=4000)
        (2000, 100)
        >>> update_budget(30, 6, batches=300, min_updates=1000, max_updates=4000)
        (30, 6)
        >>> update_budget(30, 6, batches=None, min_updates=1000)
        (30, 6)
    """
    if not min_updates or not batches or epochs * batches >= min_updates:
        return epochs, patience
    scaled = -(-min_updates // batches)  # ceiling division, in integers
    ceiling = max(scaled, -(-max_updates // batches))
    return ceiling, -(-patience * scaled // epochs)


def batches_per_epoch(dataset) -> int | None:
    """The number of batches a `tf.data.Dataset` yields per epoch, or `None` when it does not say.

    Read from the dataset's cardinality, never by iterating it: drawing a
    shuffled dataset once more would change the order of every epoch after.
    """
    cardinality = getattr(dataset, "cardinality", None)
    if cardinality is None:
        return None
    count = int(cardinality())
    return count if count > 0 else None


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
    scores=(),
    resume: bool = False,
) -> FitResult:
    """Train ``model`` with early stopping, a checkpoint and a CSV log.

    After every epoch the model, optimizer and epoch counter are backed up
    (`keras.callbacks.BackupAndRestore`), with the early-stopping state and
    best weights (`ResumableEarlyStopping`) and the random state of dropout
    layers (`RandomStateBackup`), so a run that was killed can go on from
    its last completed epoch with ``resume=True``. The resumed run replays
    the data order of the epochs done, so it ends at the same epoch with the
    same weights as a run that was never interrupted; the CSV log continues
    where it stopped. A finished run deletes its backup.

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
        scores: callbacks that write validation scores into each epoch's
            logs (`rnn_apps.harness.selection.ValidationScore`); they run
            first, so ``monitor`` can name one of their scores.
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
    mode = monitor_mode(monitor)
    backup = output_dir / "backups" / name
    if backup.exists() and not resume:
        shutil.rmtree(backup)
    resumed = backup.exists()
    log_path = output_dir / "logs" / f"{name}.csv"
    checkpoint = output_dir / "checkpoints" / f"{name}.keras"
    # A task score (not the loss) ties at its floor while the model is still learning: the loss breaks ties.
    tie_breaker = None if monitor == "val_loss" else "val_loss"
    stop = ResumableEarlyStopping(
        backup, tie_breaker, monitor=monitor, mode=mode, patience=patience, restore_best_weights=True
    )
    if resumed:
        _replay_data_order(train, _epochs_backed_up(backup))
    all_callbacks = [
        # Scores first: early stopping, the log and the history read them from the epoch's logs.
        *scores,
        # Back up before anything else records the epoch as done.
        keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=True),
        RandomStateBackup(backup),
        # Keeps the best epoch's weights in memory; the checkpoint is written
        # once, when training ends or is interrupted (a .keras file per
        # improving epoch cost a second or more per model). For --resume the
        # best weights also go beside the backup as a plain .npz when they
        # change (about 20 ms for 2.7M parameters).
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
    best = best_epoch(values, mode, full_history.get(tie_breaker) if tie_breaker else None)
    return FitResult(
        history=full_history,
        train_seconds=seconds,
        epochs_run=len(values) if values else len(next(iter(full_history.values()), [])),
        best_epoch=best,
        interrupted=interrupted,
    )


def best_epoch(values, mode: str, ties=None) -> int:
    """The 1-based epoch early stopping keeps: the best of ``values``, the first one on a tie.

    With ``ties`` (the tie-breaker's value per epoch, lower is better), an
    epoch whose value equals the best so far replaces it when its
    tie-breaker is lower, as `ResumableEarlyStopping` judges. 0 for no epochs.

    Examples:
        >>> best_epoch([1.0, 1.0, 1.0, 0.8], "min"), best_epoch([1.0, 1.0, 1.0], "min", [3.0, 2.0, 2.5])
        (4, 2)
        >>> best_epoch([0.2, 0.5, 0.5], "max", [1.0, 0.9, 0.8])
        3
    """
    best = None
    for epoch, value in enumerate(values):
        if best is None:
            best = epoch
            continue
        better = value < values[best] if mode == "min" else value > values[best]
        tied = value == values[best] and ties is not None and epoch < len(ties) and ties[epoch] < ties[best]
        if better or tied:
            best = epoch
    return 0 if best is None else best + 1


def monitor_mode(monitor: str) -> str:
    """``"min"`` for a monitored quantity that is better lower (a loss, an error rate, MASE), else ``"max"``.

    Examples:
        >>> [monitor_mode(name) for name in ("val_loss", "val_wer", "val_mase", "val_bleu", "val_entity_f1")]
        ['min', 'min', 'min', 'max', 'max']
    """
    from rnn_apps.harness import compare

    return "max" if compare.higher_is_better(monitor) else "min"


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


def time_calls(call, calls: int, warm_up: int = 5) -> dict:
    """Median and 95th-percentile milliseconds of ``call()``, after ``warm_up`` untimed calls.

    Examples:
        >>> sorted(time_calls(lambda: None, calls=3, warm_up=1))
        ['calls', 'p50_ms', 'p95_ms']
    """
    for _ in range(warm_up):
        call()
    timings = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        timings.append(1000 * (time.perf_counter() - start))
    return {"p50_ms": float(np.percentile(timings, 50)), "p95_ms": float(np.percentile(timings, 95)), "calls": calls}


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
