"""tf.data pipelines of (source ids, teacher-forced decoder ids) → target ids."""

import numpy as np
import tensorflow as tf

from keras_attention_cli.options import check_positive_int

# Sources are grouped by length into this many buckets (at most), so a batch
# is padded to about its own length rather than the longest in the data.
LENGTH_BUCKETS = 8


def vectorize_pairs(pairs, source_vectorizer, target_vectorizer):
    """Ragged source ids and `[START] target [END]` ids for every pair."""
    sources = tf.constant([source for source, _ in pairs], tf.string)
    targets = tf.constant([target for _, target in pairs], tf.string)
    source_ids = tf.cast(source_vectorizer.encode(sources), tf.int32)
    target_ids = tf.cast(target_vectorizer.encode(targets, add_start=True, add_end=True), tf.int32)
    return source_ids, target_ids


def teacher_forcing(source_ids, target_ids):
    """Padded batch to `((source_ids, decoder_ids), next_ids)`.

    The decoder reads `[START] y1 .. yn` and learns to predict
    `y1 .. yn [END]`; 0 is padding throughout.
    """
    return (source_ids, target_ids[:, :-1]), target_ids[:, 1:]


def make_dataset(
    pairs,
    source_vectorizer,
    target_vectorizer,
    batch_size=128,
    shuffle=True,
    seed=0,
    bucket_by_length=True,
    epochs=1,
    initial_epoch=0,
    fixed_shapes=False,
):
    """A `tf.data.Dataset` of teacher-forced batches from `(source, target)` pairs.

    Vectorises every pair once; then, for each of the epochs
    `initial_epoch .. epochs - 1` in turn: shuffles (when `shuffle`, in an
    order that depends only on `seed` and the epoch's number, so that
    training resumed at an epoch sees the batches an uninterrupted run
    would), groups sources of similar length into batches of `batch_size`
    (when `bucket_by_length`; padding a batch to its own longest source
    saves the recurrent steps that padding would cost), pads with 0 and
    prefetches. Its cardinality is known: `(epochs - initial_epoch)` times
    the batches of one epoch (`batches_per_epoch`).

    With `fixed_shapes`, a batch's sources are padded to the upper end of
    their length bucket (to the longest source, without bucketing) and its
    targets to the longest target, so that a backend that compiles a step
    per input shape (JAX) compiles a few steps, not one per batch.
    """
    batch_size = check_positive_int("batch_size", batch_size)
    epochs = check_positive_int("epochs", epochs)
    if not 0 <= initial_epoch < epochs:
        raise ValueError(
            f"`initial_epoch` must be in [0, epochs) = [0, {epochs}). Received: "
            f"initial_epoch={initial_epoch}"
        )
    if not pairs:
        raise ValueError("`pairs` must hold at least one (source, target) pair.")
    source_ids, target_ids = vectorize_pairs(pairs, source_vectorizer, target_vectorizer)
    sources, source_lengths = source_ids.to_tensor(), source_ids.row_lengths()
    targets, target_lengths = target_ids.to_tensor(), target_ids.row_lengths()
    longest = int(tf.reduce_max(source_lengths))
    step = max(1, -(-longest // LENGTH_BUCKETS))
    boundaries = list(range(step + 1, longest + 1, step)) if bucket_by_length else []
    longest_target = int(tf.reduce_max(target_lengths))

    def pad_to_bucket(source, target):
        width = tf.shape(source)[1]
        bucket_width = (
            tf.minimum((width + step - 1) // step * step, longest) if boundaries else longest
        )
        return (
            tf.pad(source, [[0, 0], [0, bucket_width - width]]),
            tf.pad(target, [[0, 0], [0, longest_target - tf.shape(target)[1]]]),
        )

    def pair(index):
        return sources[index][: source_lengths[index]], targets[index][: target_lengths[index]]

    def one_epoch(epoch):
        order = tf.range(len(pairs), dtype=tf.int64)
        if shuffle:
            keys = tf.random.stateless_uniform(
                [len(pairs)], seed=tf.stack([tf.constant(seed, tf.int64), epoch])
            )
            order = tf.argsort(keys)
        dataset = tf.data.Dataset.from_tensor_slices(order).map(pair)
        if boundaries:
            dataset = dataset.bucket_by_sequence_length(
                lambda source, target: tf.shape(source)[0],
                bucket_boundaries=boundaries,
                bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            )
        else:
            dataset = dataset.padded_batch(batch_size)
        return dataset.map(pad_to_bucket) if fixed_shapes else dataset

    dataset = tf.data.Dataset.range(initial_epoch, epochs).flat_map(one_epoch)
    # Telling tf.data the number of batches gives Keras' progress bar its
    # total and lets `fit` keep one iterator across epochs.
    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality(
            (epochs - initial_epoch)
            * batches_per_epoch(source_lengths.numpy(), batch_size, boundaries)
        )
    )
    return dataset.map(teacher_forcing, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def batches_per_epoch(source_lengths, batch_size, boundaries=()):
    """Batches in one epoch: each length bucket ends it with one partial
    batch at most."""
    bucket_sizes = np.bincount(np.searchsorted(boundaries, source_lengths, side="right"))
    return int(sum(-(-size // batch_size) for size in bucket_sizes))
