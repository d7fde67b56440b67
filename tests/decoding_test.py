import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_attention import decoding
from keras_attention.decoding import step_by_step_greedy
from keras_attention.tokens import END_ID

# The stub's tokens: 0-3 are reserved ([PAD], [UNK], [START], [END]).
A, B = 4, 5
VOCABULARY = 6


def stub_step_fn(tables):
    """A step function whose next-token probabilities are set by hand.

    `tables[input][last_token]` is the distribution of the next token
    after `last_token`, for one input of the batch. The state is one
    column, the input's number, which travels with its hypotheses. The
    attention weights are a one-hot of the token fed in, so they show
    which hypothesis a step belonged to.
    """
    log_tables = np.full((len(tables), VOCABULARY, VOCABULARY), decoding.IMPOSSIBLE, "float32")
    for number, table in enumerate(tables):
        for last, distribution in table.items():
            for token, probability in distribution.items():
                log_tables[number, last, token] = math.log(probability)
    log_tables = ops.convert_to_tensor(log_tables.reshape(-1, VOCABULARY))

    def step_fn(tokens, states):
        (inputs,) = states
        rows = ops.cast(inputs[:, 0], "int32") * VOCABULARY + tokens
        return ops.take(log_tables, rows, axis=0), [inputs], ops.one_hot(tokens, VOCABULARY)

    return step_fn


# Input 0: greedy takes `a` (0.6) and then ends (0.5): P(a [END]) = 0.30;
# `b` (0.4) then [END] (0.9) is better: P(b [END]) = 0.36. Input 1: greedy
# is already best.
START = decoding.START_ID
GREEDY_MISSES = {
    START: {A: 0.6, B: 0.4},
    A: {END_ID: 0.5, A: 0.3, B: 0.2},
    B: {END_ID: 0.9, A: 0.05, B: 0.05},
}
GREEDY_FINDS = {START: {A: 0.9, B: 0.1}, A: {END_ID: 0.9, B: 0.1}, B: {END_ID: 1.0}}


def stub_decode(strategy, tables=(GREEDY_MISSES, GREEDY_FINDS)):
    inputs = np.repeat(np.arange(len(tables), dtype="float32"), strategy.beam_width)[:, None]
    decoded = decoding.dynamic_decode(
        stub_step_fn(tables), [ops.convert_to_tensor(inputs)], len(tables), VOCABULARY, 6, strategy
    )
    return {key: ops.convert_to_numpy(value) for key, value in decoded.items()}


def test_beam_search_finds_the_sequence_greedy_misses():
    greedy = stub_decode(decoding.GreedySearch())
    beam = stub_decode(decoding.BeamSearch(beam_width=2))
    np.testing.assert_array_equal(greedy["token_ids"][:, 0], [[A, END_ID], [A, END_ID]])
    np.testing.assert_array_equal(beam["token_ids"][:, 0], [[B, END_ID], [A, END_ID]])
    np.testing.assert_allclose(greedy["scores"][:, 0], [math.log(0.30), math.log(0.81)], rtol=1e-5)
    np.testing.assert_allclose(beam["scores"][:, 0], [math.log(0.36), math.log(0.81)], rtol=1e-5)


def test_numpy_beam_sizes_are_taken_as_python_ints():
    beam = decoding.BeamSearch(beam_width=np.int64(3), n_best=np.int32(2))
    assert (beam.beam_width, beam.n_best) == (3, 2)
    assert type(beam.beam_width) is int and type(beam.n_best) is int


def test_n_best_lists_come_best_first_with_exact_scores():
    beam = stub_decode(decoding.BeamSearch(beam_width=3, n_best=3))
    # Input 0: b [END] 0.36 and a [END] 0.30 end at step 2; a a (0.18)
    # goes on to a a [END] (0.09), which beats a a a (0.054) over 3 tokens.
    # Input 1: a [END] 0.81; a b [END] 0.09 over 3 tokens beats b [END] 0.1
    # over 2 (-0.80 against -1.15).
    np.testing.assert_array_equal(
        beam["token_ids"],
        [
            [[B, END_ID, 0], [A, END_ID, 0], [A, A, END_ID]],
            [[A, END_ID, 0], [A, B, END_ID], [B, END_ID, 0]],
        ],
    )
    probabilities = np.log([[0.36, 0.30, 0.09], [0.81, 0.09, 0.1]])
    np.testing.assert_allclose(beam["scores"], probabilities, rtol=1e-5)
    np.testing.assert_allclose(
        beam["normalized_scores"], probabilities / [[2, 2, 3], [2, 3, 2]], rtol=1e-5
    )


def test_attention_weights_follow_their_hypotheses():
    beam = stub_decode(decoding.BeamSearch(beam_width=3, n_best=3))
    # The stub's weights at a step are a one-hot of the token fed in:
    # [START], then the hypothesis' own tokens; 0 once it has ended.
    weights = beam["attention_weights"][0]  # b [END], a [END], a a [END]
    assert weights.shape == (3, 3, VOCABULARY)
    np.testing.assert_array_equal(weights[:, 0].argmax(-1), [START, START, START])
    np.testing.assert_array_equal(weights[:, 1].argmax(-1), [B, A, A])
    assert np.all(weights[:2, 2] == 0) and weights[2, 2].argmax() == A


def test_length_penalty_zero_ranks_by_log_probability():
    # With tokens counted, a a [END] (0.6 * 0.25 * 0.5 = 0.075 over 3) can
    # never beat shorter ones; without normalisation the order is by P.
    beam = stub_decode(decoding.BeamSearch(beam_width=4, n_best=4, length_penalty=0.0))
    np.testing.assert_allclose(beam["normalized_scores"], beam["scores"])
    assert np.all(np.diff(beam["scores"], axis=1) <= 1e-6)


def test_width_one_beam_is_greedy_and_select_can_be_swapped():
    greedy = stub_decode(decoding.GreedySearch())
    np.testing.assert_array_equal(
        stub_decode(decoding.BeamSearch(beam_width=1))["token_ids"], greedy["token_ids"]
    )
    chosen = []

    def select(scores, k):
        chosen.append(k)
        return decoding.argmax_select(scores, k)

    np.testing.assert_array_equal(
        stub_decode(decoding.GreedySearch(select=select))["token_ids"], greedy["token_ids"]
    )
    assert chosen and set(chosen) == {1}


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"beam_width": 0}, "Received: beam_width=0"),
        (
            {"beam_width": 2, "n_best": 3},
            "`n_best` must be at most `beam_width` \\(2\\).*Received: n_best=3",
        ),
        ({"n_best": 0}, "Received: n_best=0"),
        ({"length_penalty": -1}, "Received: length_penalty=-1"),
        (
            {"length_penalty": float("nan")},
            r"`length_penalty` must be a number >= 0\. Received: length_penalty=nan",
        ),
        ({"length_penalty": "1"}, "Received: length_penalty='1'"),
    ],
)
def test_bad_search_options(arguments, message):
    with pytest.raises(ValueError, match=message):
        decoding.BeamSearch(**arguments)


def untrained_model(source_length=7):
    """A small Seq2Seq with weights drawn from a fixed seed, and source ids."""
    from keras_attention.models import Seq2Seq

    keras.utils.set_random_seed(0)
    model = Seq2Seq(12, 9, units=8, embedding_dim=4, cell="gru", bidirectional=True)
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.normal(0, 0.8, variable.shape).astype("float32"))
    sources = rng.integers(4, 12, (5, source_length)).astype("int32")
    sources[1, 4:] = 0
    sources[3, 2:] = 0
    return model, sources


def test_beam_search_on_a_model_runs_on_every_backend():
    model, sources = untrained_model()
    decoded = decoding.decode(model, sources, 6, decoding.BeamSearch(beam_width=3, n_best=3))
    token_ids = ops.convert_to_numpy(decoded["token_ids"])
    assert token_ids.shape[:2] == (5, 3)
    best, _ = decoding.beam_search_decode(model, sources, 6, beam_width=3)
    np.testing.assert_array_equal(ops.convert_to_numpy(best), token_ids[:, 0])
    assert np.all(np.diff(ops.convert_to_numpy(decoded["normalized_scores"]), axis=1) <= 1e-6)


@pytest.fixture(scope="module")
def untrained():
    """An untrained model decodes to arbitrary but deterministic tokens: all
    the equivalence tests need."""
    import tensorflow as tf

    from keras_attention import training
    from keras_attention.data.generators import date_pairs

    tf.keras.utils.set_random_seed(0)
    translator = training.build_translator(date_pairs(300), units=24)
    sources = [source for source, _ in date_pairs(16, seed=5)]
    return translator, translator.source_ids(tf.constant(sources)).numpy()


@pytest.mark.tensorflow_only
def test_graph_greedy_equals_step_by_step_greedy(untrained):
    translator, source_ids = untrained
    token_ids, weights = decoding.greedy_decode(translator.model, source_ids, 11)
    token_ids = token_ids.numpy()
    reference = step_by_step_greedy(translator.model, source_ids, 11)
    for row, expected in zip(token_ids, reference):
        np.testing.assert_array_equal(row[: len(expected)], expected)
        assert np.all(row[len(expected) :] == 0)
    assert weights.shape[0] == len(source_ids) and weights.shape[2] == source_ids.shape[1]


@pytest.mark.tensorflow_only
def test_weights_are_distributions_over_real_source_positions(untrained):
    translator, source_ids = untrained
    token_ids, weights = decoding.greedy_decode(translator.model, source_ids, 11)
    weights, token_ids = weights.numpy(), token_ids.numpy()
    assert np.all(weights[token_ids == 0] == 0)  # nothing after [END]
    real_steps = token_ids != 0
    np.testing.assert_allclose(weights.sum(-1)[real_steps], 1.0, rtol=1e-5)
    padding = source_ids == 0
    assert np.all(weights.transpose(1, 0, 2)[:, padding] == 0)


@pytest.mark.tensorflow_only
def test_beam_of_width_one_is_greedy(untrained):
    translator, source_ids = untrained
    greedy, _ = decoding.greedy_decode(translator.model, source_ids, 11)
    beam, _ = decoding.beam_search_decode(translator.model, source_ids, 11, beam_width=1)
    np.testing.assert_array_equal(beam.numpy(), greedy.numpy())


@pytest.mark.tensorflow_only
def test_outputs_stop_at_end(untrained):
    translator, source_ids = untrained
    token_ids = decoding.greedy_decode(translator.model, source_ids, 11)[0].numpy()
    for row in token_ids:
        ends = np.flatnonzero(row == END_ID)
        if len(ends):
            assert np.all(row[ends[0] + 1 :] == 0)


@pytest.mark.tensorflow_only
def test_empty_batch_and_empty_strings(untrained):
    translator, _ = untrained
    result = translator.translate([])
    assert result["translation"] == [] and result["token_ids"].shape[0] == 0
    result = translator.translate(["", "   "], beam_width=3)
    assert len(result["translation"]) == 2


@pytest.mark.tensorflow_only
def test_bad_beam_width(untrained):
    translator, source_ids = untrained
    with pytest.raises(ValueError, match="Received: beam_width=0"):
        decoding.beam_search_decode(translator.model, source_ids, 11, beam_width=0)


@pytest.mark.tensorflow_only
def test_the_loop_traces_with_a_fixed_batch_and_tensorflows_own_argmax():
    # What an on-device conversion needs: a static batch size and
    # tf.argmax (keras.ops.argmax adds ops without LiteRT built-ins).
    import tensorflow as tf

    model, sources = untrained_model()

    def tf_argmax(scores, k):
        return tf.expand_dims(tf.argmax(scores, axis=-1, output_type=tf.int32), -1)

    @tf.function(input_signature=[tf.TensorSpec([5, None], tf.int32)])
    def greedy(source_ids):
        return decoding.decode(model, source_ids, 6, decoding.GreedySearch(select=tf_argmax))[
            "token_ids"
        ]

    traced = greedy.get_concrete_function()
    assert traced.structured_outputs.shape[0] == 5
    np.testing.assert_array_equal(
        greedy(sources).numpy(),
        ops.convert_to_numpy(decoding.decode(model, sources, 6)["token_ids"]),
    )
