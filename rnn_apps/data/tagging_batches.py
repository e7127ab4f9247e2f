"""Batches of tagged sentences for training: tf.data, bucketed by length, padded per batch.

This module is TensorFlow-only (tf.data).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def tagging_dataset(
    word_ids,
    tag_ids,
    batch_size: int,
    char_ids=None,
    shuffle: bool = False,
    seed: int = 0,
    label_padding: int = 0,
    weights: bool = True,
    tag_weights=None,
) -> tf.data.Dataset:
    """Batches of tagged sentences, bucketed by length and right-padded per batch.

    Each element is ``(inputs, tags, weights)``: ``inputs`` is
    ``{"token_ids"}`` (plus ``"char_ids"``), ``weights`` is 1 on real tokens
    and 0 on padding, so padding never counts in the loss or in weighted
    metrics. Tags are padded with ``label_padding``: a CRF loss, which is
    per sentence, takes no weights and reads ``-1`` as padding instead.

    Args:
        word_ids: ``(time,)`` int arrays, one per sentence.
        tag_ids: ``(time,)`` int arrays, one per sentence.
        batch_size: sentences per batch.
        char_ids: ``(time, char_length)`` int arrays, or `None`.
        shuffle: reshuffle every epoch (training).
        seed: shuffle seed.
        label_padding: value of tags at padded steps.
        weights: add the padding weights (leave out for a CRF).
        tag_weights: ``(num_tags,)`` floats; with ``weights``, each real
            token's weight is that of its tag (class weights for rare tags)
            instead of 1.

    Returns:
        A prefetched `tf.data.Dataset`.
    """
    lengths = np.array([len(ids) for ids in word_ids])
    words = tf.ragged.constant(word_ids, dtype=tf.int32)
    tags = tf.ragged.constant(tag_ids, dtype=tf.int32)
    if char_ids is not None:
        char_length = char_ids[0].shape[-1]
        chars = tf.RaggedTensor.from_row_lengths(np.concatenate(char_ids), lengths)
        dataset = tf.data.Dataset.from_tensor_slices((words, chars, tags))
        dataset = dataset.map(lambda w, c, t: ({"token_ids": w, "char_ids": c}, t))
        padded_shapes = ({"token_ids": [None], "char_ids": [None, char_length]}, [None])
        padding_values = ({"token_ids": 0, "char_ids": 0}, label_padding)
    else:
        dataset = tf.data.Dataset.from_tensor_slices((words, tags)).map(lambda w, t: ({"token_ids": w}, t))
        padded_shapes = ({"token_ids": [None]}, [None])
        padding_values = ({"token_ids": 0}, label_padding)
    if shuffle:
        dataset = dataset.shuffle(len(lengths), seed=seed, reshuffle_each_iteration=True)
        quantiles = np.quantile(lengths, np.linspace(0, 1, 7)[1:-1])
        boundaries = sorted({int(q) + 1 for q in quantiles})
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda inputs, tags: tf.shape(tags)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padded_shapes=padded_shapes,
            padding_values=padding_values,
        )
    else:
        dataset = dataset.padded_batch(batch_size, padded_shapes=padded_shapes, padding_values=padding_values)
    if weights:
        dataset = dataset.map(
            lambda inputs, tags: (inputs, tags, tf.cast(tf.not_equal(inputs["token_ids"], 0), tf.float32))
        )
    if weights and tag_weights is not None:
        per_tag = tf.constant(tag_weights, tf.float32)
        dataset = dataset.map(lambda inputs, tags, real: (inputs, tags, real * tf.gather(per_tag, tags)))
    return dataset.prefetch(tf.data.AUTOTUNE)
