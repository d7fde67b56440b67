"""tf.data pipelines of (source ids, teacher-forced decoder ids) → target ids."""

import numpy as np
import tensorflow as tf

from keras_attention.layers.checks import check_positive_int

# Sources are grouped by length into this many buckets (at most), so a batch
# is padded to about its own length rather than the longest in the data.
LENGTH_BUCKETS = 8


def vectorize_pairs(pairs, source_vectorizer, target_vectorizer):
    """Ragged source ids and `[START] target [END]` ids for every pair."""
    sources = tf.constant([source for source, _ in pairs], tf.string)
    targets = tf.constant([target for _, target in pairs], tf.string)
    source_ids = tf.cast(source_vectorizer.encode(sources), tf.int32)
    target_ids = tf.cast(
        target_vectorizer.encode(targets, add_start=True, add_end=True), tf.int32
    )
    return source_ids, target_ids


def teacher_forcing(source_ids, target_ids):
    """Padded batch to `((source_ids, decoder_ids), next_ids)`.

    The decoder reads `[START] y1 .. yn` and learns to predict
    `y1 .. yn [END]`; 0 is padding throughout.
    """
    return (source_ids, target_ids[:, :-1]), target_ids[:, 1:]


def make_dataset(pairs, source_vectorizer, target_vectorizer, batch_size=128,
                 shuffle=True, seed=None, bucket_by_length=True):
    """A `tf.data.Dataset` of teacher-forced batches from `(source, target)` pairs.

    Vectorises every pair once, then each epoch: shuffles (when `shuffle`),
    groups sources of similar length into batches of `batch_size` (when
    `bucket_by_length`; padding a batch to its own longest source saves the
    recurrent steps that padding would cost), pads with 0 and prefetches.
    """
    check_positive_int("batch_size", batch_size)
    if not pairs:
        raise ValueError("`pairs` must hold at least one (source, target) pair.")
    source_ids, target_ids = vectorize_pairs(pairs, source_vectorizer, target_vectorizer)
    dataset = tf.data.Dataset.from_tensor_slices(
        (source_ids.to_tensor(), source_ids.row_lengths(),
         target_ids.to_tensor(), target_ids.row_lengths())
    )
    if shuffle:
        dataset = dataset.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(
        lambda source, source_length, target, target_length: (
            source[:source_length], target[:target_length]
        )
    )
    longest = int(tf.reduce_max(source_ids.row_lengths()))
    step = max(1, -(-longest // LENGTH_BUCKETS))
    boundaries = list(range(step + 1, longest + 1, step))
    if bucket_by_length and boundaries:
        dataset = dataset.bucket_by_sequence_length(
            lambda source, target: tf.shape(source)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        )
        # Each bucket ends an epoch with one partial batch at most, so the
        # number of batches is known; telling tf.data gives Keras' progress
        # bar its total.
        bucket_sizes = np.bincount(
            np.searchsorted(boundaries, source_ids.row_lengths().numpy(), side="right")
        )
        batches = int(sum(-(-size // batch_size) for size in bucket_sizes))
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    else:
        dataset = dataset.padded_batch(batch_size)
    return dataset.map(teacher_forcing, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )
