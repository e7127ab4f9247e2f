"""Training on several devices or machines with the backend's own engine.

`--distribute` picks how a recipe spreads its training:

- ``none``: one device (the default).
- ``mirrored``: data parallelism over the local devices. TensorFlow backend:
  `tf.distribute.MirroredStrategy` over the GPUs (or the CPU devices when
  there is no GPU); JAX backend: `keras.distribution.DataParallel`
  (`EvenDataParallel`, which cuts batches to split evenly; see below).
- ``multi-worker``: data parallelism over several processes or machines.
  JAX backend: `keras.distribution.initialize` (the cluster comes from the
  ``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``KERAS_DISTRIBUTION_NUM_PROCESSES``
  and ``KERAS_DISTRIBUTION_PROCESS_ID`` variables), then ``DataParallel``
  over every process's devices. TensorFlow backend:
  `tf.distribute.MultiWorkerMirroredStrategy` with the cluster in
  ``TF_CONFIG`` is what TensorFlow offers, but ``Model.fit`` of Keras 3.15
  fails under it (its first-batch build reduces the input batch across
  workers; keras-team/keras#20585 is open), so this choice is refused on
  the TensorFlow backend with a message that says so.

The PyTorch backend offers neither through Keras (Keras 3's distribution API
has no PyTorch implementation), so it accepts only ``none``; anything else
is refused before a file is written.

JAX places a batch on the devices only when its rows divide evenly among
them, so on JAX every training and validation batch keeps the largest
multiple of the replica count of its rows: the last batch of an epoch (and
with bucketing by length, the last batch of each bucket) loses at most
``replicas - 1`` samples, which a later epoch's shuffle may include. Each
process of a multi-worker run takes its slice of every batch itself, so
no batch size has to be read from the dataset (bucketed datasets hide it).
TensorFlow's strategy splits uneven batches itself and leaves nothing out.
What was done is written into ``metrics.json`` (``config.partial_batches``).
Test metrics are computed on one device, on every sample.

`--batch-size` is the batch of one replica: the global batch is that times
the number of replicas, which is how data parallelism is usually scaled
(learning rate unchanged). The number of replicas and the global batch are
written into ``metrics.json`` (``config.replicas``,
``config.global_batch_size``).

Every worker of a multi-worker run runs the same command. The chief (worker
0) writes to ``--output-dir``; worker ``i`` writes to
``<output-dir>-worker<i>``, so workers sharing a file system do not
overwrite each other.

Only training is spread (`replicated`): the model is cloned under the
strategy for ``fit`` and its trained weights are copied back, so
prediction, evaluation and the saved model are the same whichever way a
model was trained.

Machines without a GPU can still try mirrored training: with TensorFlow the
environment variable ``RNN_APPS_CPU_DEVICES=N`` splits the CPU into ``N``
logical devices; with JAX set
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before starting.
This is how the tests check that mirrored training matches single-device
training.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os

import keras

from rnn_apps import errors

KINDS = ("none", "mirrored", "multi-worker")
CPU_DEVICES_VARIABLE = "RNN_APPS_CPU_DEVICES"


@dataclasses.dataclass(frozen=True)
class Plan:
    """How a run is spread.

    Attributes:
        kind: one of `KINDS`.
        replicas: model copies that each take a batch per step.
        worker: index of this worker (0 outside multi-worker runs).
        workers: number of workers.
        partial_batches: what happens to a batch whose rows do not split
            evenly over the replicas (`None` on one device).
    """

    kind: str
    replicas: int = 1
    worker: int = 0
    workers: int = 1
    partial_batches: str | None = None

    @property
    def is_chief(self) -> bool:
        return self.worker == 0


def check_kind(kind: str) -> str:
    """Validate a ``--distribute`` value for the current backend.

    Examples:
        >>> check_kind("none")
        'none'
        >>> try:
        ...     check_kind("ring")
        ... except errors.InputError as error:
        ...     print(str(error).split(". ")[-1])
        Received: --distribute='ring'
    """
    if kind not in KINDS:
        raise errors.expected(f"one of {list(KINDS)}", kind, name="--distribute")
    backend = keras.config.backend()
    if kind != "none" and backend not in ("tensorflow", "jax"):
        raise errors.expected(
            "--distribute none on the PyTorch backend (Keras distributes only with TensorFlow or JAX)",
            f"--distribute {kind} with KERAS_BACKEND={backend}",
        )
    if kind == "multi-worker" and backend == "tensorflow":
        raise errors.expected(
            "--distribute multi-worker with KERAS_BACKEND=jax: Keras 3 Model.fit fails under TensorFlow's "
            "MultiWorkerMirroredStrategy (keras-team/keras#20585)",
            "--distribute multi-worker with KERAS_BACKEND=tensorflow",
        )
    return kind


def _cpu_devices() -> int:
    text = os.environ.get(CPU_DEVICES_VARIABLE, "")
    if not text:
        return 0
    if not text.isdigit() or int(text) < 1:
        raise errors.expected("a positive integer", text, name=CPU_DEVICES_VARIABLE)
    return int(text)


def _split_tensorflow_cpu(count: int) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    if len(tf.config.get_logical_device_configuration(cpu) or []) == count:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        raise errors.expected(
            f"{CPU_DEVICES_VARIABLE} to be set before TensorFlow starts running operations", f"{count}"
        ) from None


_ACTIVE: list = []  # the plan and its strategy scope of the run in progress


def _tensorflow_plan(kind: str):
    import tensorflow as tf

    if kind == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices=devices)
        uneven = "split unevenly over the replicas by tf.distribute; no sample left out"
        return Plan(kind, replicas=strategy.num_replicas_in_sync, partial_batches=uneven), strategy.scope
    raise AssertionError(f"unreachable: {kind} is refused by check_kind on TensorFlow")


class EvenDataParallel(keras.distribution.DataParallel):
    """`keras.distribution.DataParallel` whose batches always split evenly over the devices.

    Keras's own `DataParallel` hands a dataset's batches to JAX as they
    come, so a last batch whose rows do not divide by the device count
    fails (`IndivisibleError`); over several processes it rebatches and
    shards by a batch size read from the dataset's graph, which a dataset
    bucketed by length does not show ("batch size of the input dataset is
    unknown"). This one cuts every batch of a `tf.data.Dataset` to a
    multiple of the replicas and gives each process its slice
    (`rnn_apps.data.replica_batches.even_batches`); other inputs go to
    Keras unchanged.
    """

    def distribute_dataset(self, dataset):
        import tensorflow as tf

        from rnn_apps.data import replica_batches

        if not isinstance(dataset, tf.data.Dataset):
            return super().distribute_dataset(dataset)
        return replica_batches.even_batches(dataset, self.num_model_replicas, self.num_processes, self.data_shard_id)


def dropped_rows(replicas: int) -> str:
    """The ``config.partial_batches`` line of a JAX run over ``replicas`` devices.

    Examples:
        >>> dropped_rows(2).split("; ")[0]
        'last rows dropped: every batch keeps a multiple of 2 rows'
    """
    if replicas == 1:
        return "one replica: every batch is kept whole"
    samples = "sample" if replicas == 2 else "samples"
    return (
        f"last rows dropped: every batch keeps a multiple of {replicas} rows; at most {replicas - 1} {samples} "
        "per batch (the last partial batch, or the last of each length bucket) left out of that epoch's training "
        "and validation; test metrics use every sample"
    )


def _jax_plan(kind: str):
    import jax

    worker, workers = 0, 1
    if kind == "multi-worker":
        if not os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES"):
            raise errors.expected(
                "KERAS_DISTRIBUTION_JOB_ADDRESSES (the coordinator's host:port), KERAS_DISTRIBUTION_NUM_PROCESSES "
                "and KERAS_DISTRIBUTION_PROCESS_ID for --distribute multi-worker",
                "no KERAS_DISTRIBUTION_JOB_ADDRESSES",
            )
        # Processes without accelerators exchange gradients through Gloo.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize()
        worker, workers = jax.process_index(), jax.process_count()
    devices = keras.distribution.list_devices()
    distribution = EvenDataParallel(devices=devices)

    @contextlib.contextmanager
    def jax_scope():
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(distribution)
        try:
            yield
        finally:
            keras.distribution.set_distribution(previous)

    plan = Plan(kind, replicas=len(devices), worker=worker, workers=workers, partial_batches=dropped_rows(len(devices)))
    return plan, jax_scope


@contextlib.contextmanager
def scope(kind: str = "none"):
    """Set up the distribution of a run; training inside it is spread.

    The devices or cluster are prepared on entry (multi-worker runs must
    do this before anything else runs). Only `replicated` training uses
    them: prediction, evaluation and saving stay on one device, so a saved
    model is the same whichever way it was trained.

    Yields:
        The `Plan` (replica count, worker index).

    Examples:
        >>> with scope("none") as plan:
        ...     plan.replicas
        1
    """
    check_kind(kind)
    count = _cpu_devices()
    if count and keras.config.backend() == "tensorflow":
        _split_tensorflow_cpu(count)
    if kind == "none":
        plan, strategy_scope = Plan(kind), None
    elif keras.config.backend() == "tensorflow":
        plan, strategy_scope = _tensorflow_plan(kind)
    else:
        plan, strategy_scope = _jax_plan(kind)
    _ACTIVE.append((plan, strategy_scope))
    try:
        yield plan
    finally:
        _ACTIVE.pop()


def active() -> Plan:
    """The `Plan` of the run in progress (``none`` outside `scope`)."""
    return _ACTIVE[-1][0] if _ACTIVE else Plan("none")


@contextlib.contextmanager
def replicated(model):
    """Train a copy of ``model`` spread as the active plan says; copy the weights back.

    Outside a distributed `scope` this yields ``model`` itself. Inside one,
    the model is cloned and compiled again under the strategy (TensorFlow)
    or the data-parallel layout (JAX), starting from the same weights; when
    the block ends, the trained weights are copied into ``model``, which
    stays an ordinary single-device model.

    Examples:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> with replicated(model) as trained:
        ...     trained is model
        True
    """
    if not _ACTIVE or _ACTIVE[-1][0].kind == "none":
        yield model
        return
    strategy_scope = _ACTIVE[-1][1]
    with strategy_scope():
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
        copy.compile_from_config(model.get_compile_config())
        yield copy
    model.set_weights(copy.get_weights())


def worker_output_dir(output_dir: str, plan: Plan) -> str:
    """The chief writes to ``output_dir``; other workers beside it.

    Examples:
        >>> worker_output_dir("runs/sentiment", Plan("multi-worker", 2, worker=1, workers=2))
        'runs/sentiment-worker1'
        >>> worker_output_dir("runs/sentiment", Plan("none"))
        'runs/sentiment'
    """
    if plan.is_chief:
        return output_dir
    return f"{str(output_dir).rstrip('/')}-worker{plan.worker}"
