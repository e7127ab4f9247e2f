"""Batches that split evenly over the replicas of a data-parallel run.

JAX places a batch on several devices only when its rows divide evenly
among them, and every process of a multi-process run must step through
the same number of batches. A dataset's last batch (and, with bucketing by
length, the last batch of every bucket) is usually smaller than the rest,
so `even_batches` cuts each batch to a multiple of the replica count and
gives a process its own slice of the rows that remain. Nothing about the
batch size needs to be known in advance, so bucketed datasets work too.

This module is TensorFlow-only (tf.data).
"""

from __future__ import annotations

import tensorflow as tf

from rnn_apps import errors


def _rows(batch) -> tf.Tensor:
    """Rows of a batch: the leading size of its first tensor."""
    return tf.shape(tf.nest.flatten(batch)[0])[0]


def even_batches(dataset: tf.data.Dataset, replicas: int, processes: int = 1, process: int = 0) -> tf.data.Dataset:
    """Each batch of ``dataset`` cut to a multiple of ``replicas`` rows, and this process's share of it.

    A batch of ``rows`` keeps its first ``rows - rows % replicas`` rows, so
    at most ``replicas - 1`` samples of a batch are left out (none of a full
    batch, whose size is a multiple of the replicas); a batch with fewer
    rows than replicas is skipped. Of what remains, process ``process`` of
    ``processes`` takes the ``process``-th equal, contiguous slice, so the
    processes together hold every kept row once. Every process must read
    the same batches in the same order (the same seeded shuffle).

    Args:
        dataset: a batched dataset; elements are tensors or nested
            structures of tensors (``(inputs, targets, weights)``) that
            share their leading (batch) size.
        replicas: model copies over all processes; a multiple of
            ``processes``.
        processes: processes reading this dataset.
        process: index of this process, from 0.

    Returns:
        A prefetched `tf.data.Dataset` with the element structure of
            ``dataset``.

    Examples:
        >>> batches = tf.data.Dataset.range(7).batch(3)
        >>> [b.numpy().tolist() for b in even_batches(batches, replicas=2)]
        [[0, 1], [3, 4]]
        >>> [b.numpy().tolist() for b in even_batches(batches, replicas=2, processes=2, process=1)]
        [[1], [4]]
    """
    errors.check_positive(replicas, "replicas")
    errors.check_positive(processes, "processes")
    if replicas % processes:
        raise errors.expected(f"a multiple of the {processes} processes", replicas, name="replicas")
    if not 0 <= process < processes:
        raise errors.expected(f"an index below {processes}", process, name="process")

    @tf.autograph.experimental.do_not_convert
    def splits_evenly(*batch):
        return _rows(batch) >= replicas

    @tf.autograph.experimental.do_not_convert
    def share(*batch):
        size = _rows(batch) // replicas * (replicas // processes)
        part = tf.nest.map_structure(lambda tensor: tensor[process * size : (process + 1) * size], batch)
        # ``map`` unpacks tuple elements into arguments; give back what came in.
        return part if len(part) > 1 else part[0]

    return dataset.filter(splits_evenly).map(share).prefetch(tf.data.AUTOTUNE)
