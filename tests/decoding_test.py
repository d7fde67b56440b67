import numpy as np
import pytest
import tensorflow as tf

from keras_attention import decoding
from keras_attention import training
from keras_attention.data.generators import date_pairs
from keras_attention.text.vectorizer import END_ID

pytestmark = pytest.mark.tensorflow_only


@pytest.fixture(scope="module")
def untrained():
    """An untrained model decodes to arbitrary but deterministic tokens: all
    the equivalence tests need."""
    tf.keras.utils.set_random_seed(0)
    translator = training.build_translator(date_pairs(300), units=24)
    sources = [source for source, _ in date_pairs(16, seed=5)]
    return translator, translator.source_ids(tf.constant(sources)).numpy()


def test_graph_greedy_equals_step_by_step_greedy(untrained):
    translator, source_ids = untrained
    token_ids, weights = decoding.greedy_decode(translator.model, source_ids, 11)
    token_ids = token_ids.numpy()
    reference = decoding.step_by_step_greedy(translator.model, source_ids, 11)
    for row, expected in zip(token_ids, reference):
        np.testing.assert_array_equal(row[: len(expected)], expected)
        assert np.all(row[len(expected):] == 0)
    assert weights.shape[0] == len(source_ids) and weights.shape[2] == source_ids.shape[1]


def test_weights_are_distributions_over_real_source_positions(untrained):
    translator, source_ids = untrained
    token_ids, weights = decoding.greedy_decode(translator.model, source_ids, 11)
    weights, token_ids = weights.numpy(), token_ids.numpy()
    real_steps = token_ids != 0
    np.testing.assert_allclose(weights.sum(-1)[real_steps], 1.0, rtol=1e-5)
    padding = source_ids == 0
    assert np.all(weights.transpose(1, 0, 2)[:, padding] == 0)


def test_beam_of_width_one_is_greedy(untrained):
    translator, source_ids = untrained
    greedy, _ = decoding.greedy_decode(translator.model, source_ids, 11)
    beam, _ = decoding.beam_search_decode(translator.model, source_ids, 11, beam_width=1)
    np.testing.assert_array_equal(beam.numpy(), greedy.numpy())


def test_outputs_stop_at_end(untrained):
    translator, source_ids = untrained
    token_ids = decoding.greedy_decode(translator.model, source_ids, 11)[0].numpy()
    for row in token_ids:
        ends = np.flatnonzero(row == END_ID)
        if len(ends):
            assert np.all(row[ends[0] + 1:] == 0)


def test_empty_batch_and_empty_strings(untrained):
    translator, _ = untrained
    result = translator.translate([])
    assert result["translation"] == [] and result["token_ids"].shape[0] == 0
    result = translator.translate(["", "   "], beam_width=3)
    assert len(result["translation"]) == 2


def test_bad_beam_width(untrained):
    translator, source_ids = untrained
    with pytest.raises(ValueError, match="Received: beam_width=0"):
        decoding.beam_search_decode(translator.model, source_ids, 11, beam_width=0)
