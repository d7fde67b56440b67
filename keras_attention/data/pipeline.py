"""tf.data pipelines of (source ids, teacher-forced decoder ids) → target ids,
streamed: pairs are read, vectorised, shuffled in a buffer and batched as
they come, so that memory does not grow with the corpus."""

import math

import tensorflow as tf

from keras_attention.text.vectorizer import chunks
from keras_attention_cli.options import BATCH_UNITS
from keras_attention_cli.options import check_choice
from keras_attention_cli.options import check_positive_int

# With `fixed_shapes`, each side is padded to one of this many widths (at most).
LENGTH_BUCKETS = 8
# Batches are made from pools of this many batches' pairs, sorted by length.
POOL_BATCHES = 100
# Pairs are read and vectorised this many at a time.
CHUNK_PAIRS = 4096
# The shuffle buffer, in pairs: a corpus up to this size is shuffled whole.
SHUFFLE_BUFFER = 500_000
# The functions given to tf.data are plain TensorFlow: AutoGraph (tf.data's
# default) would spend seconds a process converting them for nothing.
do_not_convert = tf.autograph.experimental.do_not_convert


def teacher_forcing(source_ids, target_ids):
    """Padded batch to `((source_ids, decoder_ids), next_ids)`.

    The decoder reads `[START] y1 .. yn` and learns to predict
    `y1 .. yn [END]`; 0 is padding throughout.
    """
    return (source_ids, target_ids[:, :-1]), target_ids[:, 1:]


def shard(pairs, index, count):
    """Share `index` of `count` of `pairs` (a worker's own): a `Corpus`'s
    `shard` (by files when it has enough, by lines otherwise), or every
    `count`-th pair of a list from `index` on."""
    if hasattr(pairs, "shard"):
        return pairs.shard(index, count)
    return list(pairs)[index::count]


def _chunks(pairs):
    """`(sources, targets)` lists of at most `CHUNK_PAIRS` pairs, read from
    `pairs` (a list, or a re-readable stream such as a
    `keras_attention_cli.tsv.Corpus`) as they come."""
    for chunk in chunks(pairs, CHUNK_PAIRS):
        sources, targets = zip(*chunk)
        yield list(sources), list(targets)


def _vectorized(pairs, source_vectorizer, target_vectorizer, drop_longer):
    """A dataset of chunks `(source ids, [START] target ids [END])`, ragged
    int32: with `drop_longer`, pairs with more tokens than a side's
    `max_length` are left out; without, they are truncated."""
    text = tf.TensorSpec([None], tf.string)
    texts = tf.data.Dataset.from_generator(lambda: _chunks(pairs), output_signature=(text, text))

    def vectorize(sources, targets):
        source_ids = source_vectorizer.encode(sources, truncate=not drop_longer)
        target_ids = target_vectorizer.encode(
            targets, add_start=True, add_end=True, truncate=not drop_longer
        )
        if drop_longer:
            keep = _within(source_ids, source_vectorizer.max_length) & _within(
                target_ids, target_vectorizer.max_length, reserved=2
            )
            source_ids = tf.ragged.boolean_mask(source_ids, keep)
            target_ids = tf.ragged.boolean_mask(target_ids, keep)
        return tf.cast(source_ids, tf.int32), tf.cast(target_ids, tf.int32)

    return texts.map(do_not_convert(vectorize), num_parallel_calls=tf.data.AUTOTUNE)


def _within(ids, max_length, reserved=0):
    """Which rows of ragged `ids` hold at most `max_length` tokens besides
    `reserved` ones (all of them without a `max_length`)."""
    if max_length is None:
        return tf.ones([ids.nrows()], tf.bool)
    return ids.row_lengths() <= max_length + reserved


def count_within_max_lengths(pairs, source_vectorizer, target_vectorizer):
    """`(kept, total)`: how many of `pairs` have at most `max_length` tokens
    on each side (what training keeps), of how many; one streaming pass."""
    kept = 0
    for source_ids, _ in _vectorized(pairs, source_vectorizer, target_vectorizer, True):
        kept += int(source_ids.nrows())
    return kept, _count(pairs)


def _count(pairs):
    """How many pairs `pairs` holds: its `len` (a list, a `Corpus`), or
    counted in a pass."""
    try:
        return len(pairs)
    except TypeError:
        return sum(len(sources) for sources, _ in _chunks(pairs))


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
    drop_longer=True,
    kept=None,
    steps_per_epoch=None,
    batch_by="pairs",
):
    """A `tf.data.Dataset` of teacher-forced batches from `(source, target)` pairs.

    `pairs` is a list or a re-readable stream (`keras_attention_cli.tsv.Corpus`:
    TSV files read a line at a time). For each of the epochs `initial_epoch ..
    epochs - 1` in turn the pairs are read again, `CHUNK_PAIRS` at a time,
    and vectorised in the graph; with `drop_longer`, pairs with more tokens
    than a side's `max_length` are left out (without, truncated). When
    `shuffle`, they pass through a buffer of `SHUFFLE_BUFFER` pairs seeded
    by `seed` and the epoch's number, so that training resumed at an epoch
    sees the batches an uninterrupted run would. When `bucket_by_length`,
    each pool of `POOL_BATCHES` batches' pairs is sorted by source length,
    then target length, cut into batches of `batch_size`, and the pool's
    batches come in an order drawn from the seed, the epoch and the pool,
    so that a batch holds pairs of about the same lengths on both sides
    and padding costs few encoder or decoder steps. Each batch is padded
    with 0 to its own longest source and target. Memory holds the buffer
    and a pool, never the corpus.

    `batch_by` says what a batch holds about the same amount of: `"pairs"`
    (`batch_size` pairs each), or `"tokens"` (with `bucket_by_length`):
    each pool is cut into as many batches as `"pairs"` would make, at
    equal shares of its tokens (source and target), so that a batch holds
    about `batch_size` times the pool's mean pair in tokens: many short
    pairs, or few long ones (a pair of more tokens than that is a batch
    of its own), and a long line no longer pads `batch_size` rows to its
    length. The number of batches, and so the progress bar's
    total, the schedule's steps and resuming, are the same either way.

    Its cardinality is known: `(epochs - initial_epoch)` times the batches
    of an epoch, counted from `kept` (the pairs within the maximum
    lengths: `count_within_max_lengths`, which runs when `kept` is None)
    by `batches_per_epoch`. With `steps_per_epoch`, an epoch is that many
    batches instead: its pairs, read again as often as that takes (a
    worker's share of a corpus gives as many batches as every other
    worker's, however the shares' sizes differ).

    With `fixed_shapes`, a batch's sources and targets are padded to the
    next of `LENGTH_BUCKETS` widths up to the side's `max_length`, so that
    a backend that compiles a step per input shape (JAX) compiles a few
    steps, not one per batch.
    """
    batch_size = check_positive_int("batch_size", batch_size)
    epochs = check_positive_int("epochs", epochs)
    if not 0 <= initial_epoch < epochs:
        raise ValueError(
            f"`initial_epoch` must be in [0, epochs) = [0, {epochs}). Received: "
            f"initial_epoch={initial_epoch}"
        )
    if check_choice("batch_by", batch_by, BATCH_UNITS) == "tokens":
        if not bucket_by_length:
            raise ValueError(
                "`batch_by='tokens'` cuts pools of pairs sorted by length: it needs "
                "`bucket_by_length=True`. Received: bucket_by_length=False"
            )
        if fixed_shapes:
            raise ValueError(
                "`batch_by='tokens'` makes batches of varying numbers of rows, and a backend "
                "that compiles a step per shape (JAX: `fixed_shapes`) would compile one for "
                "each; use `batch_by='pairs'` there"
            )
    if steps_per_epoch is None:
        if kept is None:
            if drop_longer:
                kept, total = count_within_max_lengths(pairs, source_vectorizer, target_vectorizer)
            else:
                kept = total = _count(pairs)
            if not total:
                raise ValueError("`pairs` must hold at least one (source, target) pair.")
        batches = batches_per_epoch(kept, batch_size, bucket_by_length)
    else:
        batches = check_positive_int("steps_per_epoch", steps_per_epoch)
    pool = _pool_pairs(batch_size, bucket_by_length)
    if fixed_shapes and None in (source_vectorizer.max_length, target_vectorizer.max_length):
        raise ValueError("`fixed_shapes` needs vectorizers with a `max_length`")
    widths = [
        _padded_widths(longest, bucket_by_length) if fixed_shapes else None
        for longest in (source_vectorizer.max_length, (target_vectorizer.max_length or 0) + 2)
    ]
    vectorized = _vectorized(pairs, source_vectorizer, target_vectorizer, drop_longer).unbatch()

    def padded(source_ids, target_ids):
        """Ragged batch to dense, each side padded to its longest (or its
        fixed width)."""
        sides = []
        for ids, side_widths in zip((source_ids, target_ids), widths):
            width = tf.reduce_max(ids.row_lengths())
            if fixed_shapes:
                width = tf.gather(side_widths, tf.searchsorted(side_widths, [width])[0])
            sides.append(ids.to_tensor(shape=tf.stack([ids.nrows(), width])))
        return tuple(sides)

    def one_epoch(epoch):
        stream = vectorized
        if shuffle:
            stream = stream.shuffle(
                SHUFFLE_BUFFER, seed=seed * 1_000_003 + epoch, reshuffle_each_iteration=False
            )
        pools = stream.ragged_batch(pool).enumerate()
        if not bucket_by_length:
            batched = pools.map(do_not_convert(lambda _, ids: padded(*ids)))
        else:
            batched = pools.flat_map(
                do_not_convert(lambda index, ids: pool_batches(ids, epoch, index))
            )
        if steps_per_epoch is None:
            return batched
        return batched.repeat().take(steps_per_epoch)

    def pool_batches(ids, epoch, index):
        source_ids, target_ids = ids
        source_lengths = tf.cast(source_ids.row_lengths(), tf.int64)
        target_lengths = tf.cast(target_ids.row_lengths(), tf.int64)
        # Sorting by this key orders by source length, then target length.
        key = source_lengths * 100_000 + target_lengths
        order = tf.argsort(key, stable=True)
        count = (tf.size(order) + batch_size - 1) // batch_size
        if batch_by == "tokens":
            starts = _token_shares(tf.gather(source_lengths + target_lengths, order), count)
        else:
            starts = tf.range(count) * batch_size
        ends = tf.concat([starts[1:], tf.shape(order)], 0)
        batch_order = tf.range(count)
        if shuffle:
            batch_order = tf.argsort(_uniform(count, seed, epoch * 1_000_003 + index))

        def batch_of(batch):
            rows = order[starts[batch] : ends[batch]]
            return padded(tf.gather(source_ids, rows), tf.gather(target_ids, rows))

        return tf.data.Dataset.from_tensor_slices(batch_order).map(do_not_convert(batch_of))

    # One dataset per epoch, each shuffled with its own seed (a Python int:
    # tf.data's shuffle takes no seed computed in the graph).
    dataset = one_epoch(initial_epoch)
    for epoch in range(initial_epoch + 1, epochs):
        dataset = dataset.concatenate(one_epoch(epoch))
    # Telling tf.data the number of batches gives Keras' progress bar its
    # total and lets `fit` keep one iterator across epochs.
    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality((epochs - initial_epoch) * batches)
    )
    return (
        dataset.map(do_not_convert(teacher_forcing), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(_without_autotuning())
    )


def _without_autotuning():
    """tf.data options that turn its autotuning thread off. Deleting an
    iterator (`fit` does at its end) can wait for that thread's next
    wake-up, at intervals that double up to a minute: in the speed probe
    (`benchmarks/training_speed.py`) a `fit` of 17.5 s of epochs returned
    at 20.5 s, one of 23 s at 41.0 s. Without the thread, `AUTOTUNE` keeps
    TensorFlow's starting values (as many parallel calls as the runner has
    threads, at most 16); the steps took as long either way."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def batches_per_epoch(kept, batch_size, bucket_by_length=True):
    """How many batches of at most `batch_size` an epoch of `kept` pairs
    makes: pools of `POOL_BATCHES` batches' pairs (with
    `bucket_by_length`), each cut into batches, the last one short."""
    if not kept:
        raise ValueError(
            "no pair is within the maximum lengths: raise `max_source_length` or "
            "`max_target_length`"
        )
    pool = _pool_pairs(batch_size, bucket_by_length)
    return (kept // pool) * (pool // batch_size) + math.ceil(kept % pool / batch_size)


def _pool_pairs(batch_size, bucket_by_length):
    """How many pairs a pool holds: `POOL_BATCHES` batches' worth when
    batches are cut from length-sorted pools, one batch's otherwise."""
    return POOL_BATCHES * batch_size if bucket_by_length else batch_size


def _token_shares(tokens, count):
    """Where each of `count` batches starts in rows of `tokens` (int64, in
    batch order): at equal shares of their sum, every batch at least one
    row (a row longer than a share makes a batch of its own)."""
    rows = tf.size(tokens, out_type=tf.int64)
    count = tf.cast(count, tf.int64)
    # Twice each row's middle, in tokens from the start (increasing).
    middles = 2 * tf.cumsum(tokens, exclusive=True) + tokens
    batches = tf.range(count)
    # Batch b starts at the first row whose middle is past b/count of the
    # tokens...
    starts = tf.searchsorted(
        middles, 2 * batches * tf.reduce_sum(tokens) // count, side="left", out_type=tf.int64
    )
    # ... or later, so that each earlier batch keeps a row, and early enough
    # that each later one can have one.
    later = tf.scan(tf.maximum, starts - batches)
    return tf.cast(batches + tf.minimum(later, rows - count), tf.int32)


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
