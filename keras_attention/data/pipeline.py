"""tf.data pipelines of (source ids, teacher-forced decoder ids) → target ids."""

import tensorflow as tf

from keras_attention_cli.options import check_positive_int

# With `fixed_shapes`, each side is padded to one of this many widths (at most).
LENGTH_BUCKETS = 8
# Batches are made from pools of this many batches' pairs, sorted by length.
POOL_BATCHES = 100


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
    would); when `bucket_by_length`, sorts each pool of `POOL_BATCHES`
    batches' pairs by source length, then target length, cuts the pool
    into batches of `batch_size` and shuffles the batches, so that a batch
    holds pairs of about the same lengths on both sides and padding costs
    few encoder or decoder steps; pads each batch with 0 to its own longest
    source and target, and prefetches. Its cardinality is known:
    `(epochs - initial_epoch)` times `ceil(len(pairs) / batch_size)`.

    With `fixed_shapes`, a batch's sources and targets are padded to the
    next of `LENGTH_BUCKETS` widths per side (to the longest, without
    bucketing), so that a backend that compiles a step per input shape
    (JAX) compiles a few steps, not one per batch.
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
    count = len(pairs)
    batches = -(-count // batch_size)
    # Sorting by this key orders by source length, then target length.
    length_key = source_lengths * (int(tf.reduce_max(target_lengths)) + 1) + target_lengths
    pool = POOL_BATCHES * batch_size
    widths = [
        _padded_widths(int(tf.reduce_max(lengths)), bucket_by_length)
        for lengths in (source_lengths, target_lengths)
    ]

    def epoch_order(epoch):
        """The pairs' order in the epoch, and the batches' (by their first pair)."""
        order = tf.range(count, dtype=tf.int64)
        if shuffle:
            order = tf.argsort(_uniform(count, seed, 2 * epoch), stable=True)
            order = tf.cast(order, tf.int64)
        if bucket_by_length:
            in_pool = tf.range(count, dtype=tf.int64) // pool
            pool_key = in_pool * (tf.reduce_max(length_key) + 1) + tf.gather(length_key, order)
            order = tf.gather(order, tf.argsort(pool_key, stable=True))
        batch_order = tf.range(batches, dtype=tf.int64)
        if shuffle and bucket_by_length:
            batch_order = tf.cast(tf.argsort(_uniform(batches, seed, 2 * epoch + 1)), tf.int64)
        return order, batch_order

    def one_epoch(epoch):
        order, batch_order = epoch_order(epoch)
        return tf.data.Dataset.from_tensor_slices(batch_order).map(
            lambda batch: batch_of(order[batch * batch_size : (batch + 1) * batch_size])
        )

    def batch_of(indices):
        padded = []
        for tensor, lengths, side_widths in zip(
            (sources, targets), (source_lengths, target_lengths), widths
        ):
            width = tf.reduce_max(tf.gather(lengths, indices))
            if fixed_shapes:
                width = tf.gather(side_widths, tf.searchsorted(side_widths, [width])[0])
            padded.append(tf.gather(tensor, indices)[:, :width])
        return tuple(padded)

    dataset = tf.data.Dataset.range(initial_epoch, epochs).flat_map(one_epoch)
    # Telling tf.data the number of batches gives Keras' progress bar its
    # total and lets `fit` keep one iterator across epochs.
    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality((epochs - initial_epoch) * batches)
    )
    return dataset.map(teacher_forcing, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def _uniform(size, seed, stream):
    """`size` uniform floats that depend only on `seed` and `stream`."""
    return tf.random.stateless_uniform(
        [size], seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(stream, tf.int64)])
    )


def _padded_widths(longest, bucket_by_length):
    """The widths a side is padded to with `fixed_shapes`: `LENGTH_BUCKETS`
    steps up to `longest` (just `longest` without bucketing)."""
    step = max(1, -(-longest // LENGTH_BUCKETS)) if bucket_by_length else longest
    widths = sorted({min(width, longest) for width in range(step, longest + step, step)})
    return tf.constant(widths, tf.int64)
