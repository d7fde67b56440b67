import numpy as np
import pytest

from keras_attention import Attention
from keras_attention import AttentionWeight
from keras_attention import WeightSum
from tests import numpy_reference
from tests.gradients import assert_gradients_match
from tests.layer_checks import numpy_of
from tests.layer_checks import random_states
from tests.layer_checks import run_layer_test


def one_step_states(seed=0, batch=3, enc_len=6, units=4):
    return random_states((batch, units), (batch, enc_len, units), seed)


def test_matches_the_book_forward():
    decoder_state, encoder_states = one_step_states()
    context, weights = Attention(return_attention_weights=True)(decoder_state, encoder_states)
    expected_context, expected_weights = numpy_reference.attention_forward(
        decoder_state, encoder_states
    )
    np.testing.assert_allclose(numpy_of(context), expected_context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy_of(weights), expected_weights, rtol=1e-5, atol=1e-6)


def test_is_attention_weight_then_weight_sum():
    decoder_state, encoder_states = one_step_states()
    layer = Attention(score="general")
    context = numpy_of(layer(decoder_state, encoder_states))
    weights = AttentionWeight(score="general")
    weights.build(decoder_state.shape, encoder_states.shape)
    weights.set_weights(layer.get_weights())
    expected = WeightSum()(weights(decoder_state, encoder_states), encoder_states)
    np.testing.assert_allclose(context, numpy_of(expected), rtol=1e-6)


def test_gradients_match_the_book_backward_pass():
    decoder_state, encoder_states = one_step_states(seed=7)
    upstream = np.random.default_rng(8).normal(size=(3, 4)).astype("float32")
    assert_gradients_match(
        Attention(),
        [decoder_state, encoder_states],
        upstream,
        numpy_reference.attention_backward(upstream, decoder_state, encoder_states),
    )


def test_fully_padded_encoder_row_gives_zero_context():
    decoder_state, encoder_states = one_step_states()
    mask = np.ones((3, 6), bool)
    mask[1] = False
    context, weights = Attention(return_attention_weights=True)(
        decoder_state, encoder_states, encoder_states_mask=mask
    )
    context, weights = numpy_of(context), numpy_of(weights)
    assert np.all(context[1] == 0) and np.all(weights[1] == 0)
    assert np.all(np.isfinite(context))


@pytest.mark.parametrize("score", ["dot", "general", "additive"])
def test_layer_contract(score):
    run_layer_test(
        Attention,
        {"score": score, "return_attention_weights": True},
        input_shapes=[(2, 4), (2, 5, 4)],
        expected_output_shapes=[(2, 4), (2, 5)],
    )


def test_all_decoder_steps_point_to_time_attention():
    with pytest.raises(ValueError) as info:
        Attention()(np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32"))
    message = str(info.value)
    assert "`decoder_states` must have rank 2" in message
    assert "TimeAttention" in message and "(2, 3, 4)" in message


def test_unknown_score_names_this_layer():
    with pytest.raises(ValueError, match=r"^Attention: `score` must be one of"):
        Attention(score="luong")
