import numpy as np
import pytest
import tensorflow as tf

from keras_attention.data.generators import date_pairs
from keras_attention.data.pipeline import LENGTH_BUCKETS
from keras_attention.data.pipeline import make_dataset
from keras_attention.text import TextVectorizer

pytestmark = pytest.mark.tensorflow_only

PAIRS = date_pairs(300, seed=3)
SOURCE = TextVectorizer.from_texts([s for s, _ in PAIRS])
TARGET = TextVectorizer.from_texts([t for _, t in PAIRS])


def batches(**kwargs):
    dataset = make_dataset(PAIRS, SOURCE, TARGET, batch_size=32, **kwargs)
    return dataset, [(s.numpy(), d.numpy(), y.numpy()) for (s, d), y in dataset]


def decoded_sources(epoch_batches):
    return sorted(
        t.decode() for source_ids, _, _ in epoch_batches for t in SOURCE.decode(source_ids).numpy()
    )


def test_teacher_forcing_and_padding():
    _, got = batches(shuffle=False, bucket_by_length=False)
    source_ids, decoder_ids, target_ids = got[0]
    assert (decoder_ids[:, 0] == 2).all()  # [START]
    np.testing.assert_array_equal(decoder_ids[:, 1:], target_ids[:, :-1])
    assert ((target_ids == 3).sum(axis=1) == 1).all()  # one [END] per row
    expected = SOURCE.encode(tf.constant([s for s, _ in PAIRS[:32]])).to_tensor().numpy()
    np.testing.assert_array_equal(source_ids, expected)


def test_cardinality_is_the_real_number_of_batches_and_each_pair_comes_once_per_epoch():
    dataset, got = batches(epochs=3, seed=5)
    assert int(dataset.cardinality()) == len(got)
    per_epoch = len(got) // 3
    epochs = [got[i * per_epoch : (i + 1) * per_epoch] for i in range(3)]
    for epoch in epochs:
        assert decoded_sources(epoch) == sorted(s for s, _ in PAIRS)
    first_batches = [e[0][0].tobytes() for e in epochs]
    assert len(set(first_batches)) == 3  # a new order every epoch


def test_the_pipeline_runs_without_tf_data_s_autotuning_thread():
    # Deleting an autotuned iterator, as `fit` does at its end, can wait up
    # to a minute for that thread to wake (benchmarks/training_speed.py
    # shows `fit`'s tail); the batches are the same without it.
    dataset, got = batches(seed=5)
    assert dataset.options().autotune.enabled is False
    options = tf.data.Options()
    options.autotune.enabled = True
    tuned = make_dataset(PAIRS, SOURCE, TARGET, batch_size=32, seed=5).with_options(options)
    assert tuned.options().autotune.enabled is True
    for (source_ids, decoder_ids), target_ids in tuned:
        expected_source, expected_decoder, expected_target = got.pop(0)
        np.testing.assert_array_equal(source_ids, expected_source)
        np.testing.assert_array_equal(decoder_ids, expected_decoder)
        np.testing.assert_array_equal(target_ids, expected_target)
    assert not got


def test_bucketing_pads_batches_to_about_their_own_length():
    _, bucketed = batches(seed=0)
    _, plain = batches(seed=0, bucket_by_length=False)
    padding = lambda got: sum((s == 0).sum() for s, _, _ in got)  # noqa: E731
    assert padding(bucketed) < padding(plain) / 3
    # 300 pairs make one pool: its batches are runs of the sorted lengths.
    spans = sorted(
        (lengths.min(), lengths.max()) for lengths in ((s != 0).sum(axis=1) for s, _, _ in bucketed)
    )
    assert all(low_max <= high_min for (_, low_max), (high_min, _) in zip(spans, spans[1:]))


def test_bucketing_groups_targets_of_about_the_same_length_too():
    # Sources of one length, targets of 1 to 12 words: only the targets differ.
    pairs = [("abc", " ".join(["w"] * (1 + i % 12))) for i in range(384)]
    source = TextVectorizer.from_texts([s for s, _ in pairs])
    target = TextVectorizer.from_texts([t for _, t in pairs], split="words")

    def decoder_padding(**kwargs):
        dataset = make_dataset(pairs, source, target, batch_size=32, **kwargs)
        return sum(int((d.numpy() == 0).sum()) for (_, d), _ in dataset)

    assert decoder_padding(seed=0) == 0  # 32 pairs of each length: one batch each
    assert decoder_padding(seed=0, bucket_by_length=False) > 32 * 12


def test_fixed_shapes_pad_batches_to_a_few_shapes():
    longest = {
        side: max(len(ids) for ids in lengths)
        for side, lengths in (
            ("source", SOURCE.encode(tf.constant([s for s, _ in PAIRS])).to_list()),
            ("target", TARGET.encode(tf.constant([t for _, t in PAIRS]), add_start=True).to_list()),
        )
    }
    _, unbucketed = batches(fixed_shapes=True, bucket_by_length=False)
    assert {s.shape[1] for s, _, _ in unbucketed} == {longest["source"]}
    assert {d.shape[1] + 1 for _, d, _ in unbucketed} == {longest["target"] + 1}
    _, bucketed = batches(fixed_shapes=True)
    widths = {s.shape[1] for s, _, _ in bucketed}
    assert len(widths) <= LENGTH_BUCKETS and max(widths) == longest["source"]
    step = -(-longest["source"] // LENGTH_BUCKETS)
    for source_ids, _, _ in bucketed:  # each batch padded to its bucket's upper end
        lengths = (source_ids != 0).sum(axis=1)
        assert source_ids.shape[1] == min(-(-lengths.max() // step) * step, longest["source"])


@pytest.mark.parametrize("batch_by", ["pairs", "tokens"])
def test_an_epoch_s_order_depends_only_on_the_seed_and_its_number(batch_by):
    _, full = batches(epochs=3, seed=7, batch_by=batch_by)
    _, resumed = batches(epochs=3, seed=7, initial_epoch=2, batch_by=batch_by)
    _, other_seed = batches(epochs=3, seed=8, initial_epoch=2, batch_by=batch_by)
    tail = full[len(full) - len(resumed) :]
    for a, b in zip(tail, resumed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert any(
        a[0].shape != b[0].shape or (a[0] != b[0]).any() for a, b in zip(resumed, other_seed)
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"epochs": 0}, "Received: epochs=0"),
        (
            {"epochs": 2, "initial_epoch": 2},
            "`initial_epoch` must be in [0, epochs) = [0, 2). Received: initial_epoch=2",
        ),
        (
            {"batch_by": "rows"},
            "`batch_by` must be one of ('pairs', 'tokens'). Received: batch_by='rows'",
        ),
        (
            {"batch_by": "tokens", "bucket_by_length": False},
            "needs `bucket_by_length=True`. Received: bucket_by_length=False",
        ),
        ({"batch_by": "tokens", "fixed_shapes": True}, "use `batch_by='pairs'` there"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as raised:
        make_dataset(PAIRS, SOURCE, TARGET, **kwargs)
    assert message in str(raised.value)


def test_no_pairs():
    with pytest.raises(ValueError, match="at least one"):
        make_dataset([], SOURCE, TARGET)


class CountedPairs:
    """Pairs read anew each time, counting how many have been read."""

    def __init__(self, pairs):
        self.pairs, self.read = pairs, 0

    def __iter__(self):
        for pair in self.pairs:
            self.read += 1
            yield pair


def test_a_stream_is_read_as_batches_are_needed_not_held_whole(monkeypatch):
    from keras_attention.data import pipeline

    monkeypatch.setattr(pipeline, "CHUNK_PAIRS", 16)
    monkeypatch.setattr(pipeline, "SHUFFLE_BUFFER", 64)
    monkeypatch.setattr(pipeline, "POOL_BATCHES", 4)
    stream = CountedPairs(PAIRS * 20)  # 6,000 pairs
    dataset = pipeline.make_dataset(stream, SOURCE, TARGET, batch_size=8, kept=len(PAIRS) * 20)
    iterator = iter(dataset)
    next(iterator)
    # The buffer, a pool, a chunk and what tf.data reads ahead: far from all.
    assert stream.read < 1000
    batches = 1 + sum(1 for _ in iterator)
    assert batches == int(dataset.cardinality()) == 6000 // 8
    assert stream.read == 6000


def test_pairs_over_the_maximum_lengths_are_left_out_and_counted():
    from keras_attention.data.pipeline import count_within_max_lengths

    short = TextVectorizer.from_texts([s for s, _ in PAIRS], max_length=8)
    kept, total = count_within_max_lengths(PAIRS, short, TARGET)
    expected = sum(len(source) <= 8 for source, _ in PAIRS)
    assert (kept, total) == (expected, 300) and 0 < kept < 300
    dataset = make_dataset(PAIRS, short, TARGET, batch_size=32, shuffle=False)
    sources = [s for (s, _), _ in dataset.as_numpy_iterator()]
    assert sum(len(batch) for batch in sources) == kept
    assert max(batch.shape[1] for batch in sources) <= 8


def test_a_worker_s_share_makes_the_steps_it_is_told_reading_its_pairs_again():
    from keras_attention.data.pipeline import batches_per_epoch
    from keras_attention.data.pipeline import shard

    share = shard(PAIRS, 1, 3)
    assert share == PAIRS[1::3] and len(share) == 100
    # Every worker takes the steps of the whole corpus at the global batch
    # of 3 x 16 (300 pairs: 7 steps), however few pairs its share holds:
    # 40 pairs make batches of 16, 16 and 8, read again until 7.
    steps = batches_per_epoch(300, 48)
    dataset = make_dataset(
        share[:40], SOURCE, TARGET, batch_size=16, steps_per_epoch=steps, epochs=2, seed=1
    )
    got = [(s.numpy(), d.numpy(), y.numpy()) for (s, d), y in dataset]
    assert len(got) == int(dataset.cardinality()) == 2 * steps == 14
    first_epoch = decoded_sources(got[:steps])
    assert set(first_epoch) == {source for source, _ in share[:40]}
    lengths = [len(s) for s, _, _ in got[:steps]]
    assert sorted(lengths[:3]) == [8, 16, 16] and lengths == lengths[:3] * 2 + lengths[:1]


def test_token_shares_of_hand_worked_rows():
    from keras_attention.data.pipeline import _token_shares

    def starts(tokens, count):
        return _token_shares(tf.constant(tokens, tf.int64), count).numpy().tolist()

    assert starts([1] * 8, 4) == [0, 2, 4, 6]
    assert starts([1, 1, 1, 3], 2) == [0, 3]  # 3 and 3 tokens
    # A row of more than a share is a batch of its own; every batch keeps a row.
    assert starts([1, 1, 1, 1, 100, 1, 1, 1], 4) == [0, 4, 5, 6]
    assert starts([100, 1, 1, 1, 1, 1, 1, 1], 4) == [0, 1, 2, 3]
    assert starts([1, 1, 1, 1, 1, 1, 1, 100, 100, 100], 4) == [0, 7, 8, 9]
    assert starts([5], 1) == [0]


def test_token_batches_give_a_long_line_few_rows_and_keep_the_number_of_batches():
    # 300 short pairs and one of 200 words a side, in one pool.
    pairs = [(" ".join(["a"] * (1 + i % 5)), " ".join(["b"] * (1 + i % 7))) for i in range(300)]
    pairs.append((" ".join(["a"] * 200), " ".join(["b"] * 200)))
    source = TextVectorizer.from_texts([s for s, _ in pairs], split="words")
    target = TextVectorizer.from_texts([t for _, t in pairs], split="words")
    got = {}
    for batch_by in ("pairs", "tokens"):
        dataset = make_dataset(pairs, source, target, batch_size=32, batch_by=batch_by, seed=1)
        got[batch_by] = [(s.numpy(), d.numpy()) for (s, d), _ in dataset]
        assert len(got[batch_by]) == int(dataset.cardinality()) == 10  # ceil(301 / 32)
        rows = sorted(source.decode(s).numpy().tolist() for s, _ in got[batch_by] for s in [s])
        assert sum(len(batch) for batch in rows) == 301
    padded = {by: [s.size + d.size for s, d in batches] for by, batches in got.items()}
    long_batch = [s.shape[0] for s, _ in got["tokens"] if s.shape[1] == 200]
    assert long_batch == [1]  # alone, where "pairs" pads 13 rows to 200
    assert [s.shape[0] for s, _ in got["pairs"] if s.shape[1] == 200] == [13]
    assert max(padded["tokens"]) < max(padded["pairs"]) / 10
    # Batches hold about a tenth of the tokens each (with [START] and
    # [END]); one of several pairs never twice that.
    real = [int((s != 0).sum() + (d != 0).sum()) + len(s) for s, d in got["tokens"]]
    share = sum(real) / 10
    assert abs(sorted(real)[5] - share) <= 14  # one short pair (5 + 7 + 2)
    assert max(n for n, (s, _) in zip(real, got["tokens"]) if len(s) > 1) < 2 * share
