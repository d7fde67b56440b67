import json
import math

import keras
import numpy as np
import pytest
from keras.src.backend import get_keras_mask

from keras_attention import AttentionWeight
from keras_attention import TimeAttention
from tests import numpy_reference
from tests.gradients import assert_gradients_match
from tests.gradients import gradients
from tests.layer_checks import numpy_of
from tests.layer_checks import random_states
from tests.layer_checks import run_layer_test

SCORES = ["dot", "scaled_dot", "general", "cosine", "additive"]


def decoder_encoder_states(batch=2, dec_len=3, enc_len=5, dec_units=4, enc_units=4, seed=0):
    return random_states((batch, dec_len, dec_units), (batch, enc_len, enc_units), seed)


def reference_weights(layer, decoder_states, encoder_states, encoder_mask=None):
    """The numpy reference, with the layer's own learned weights."""
    weights = {}
    if layer.score == "general":
        weights["kernel"] = numpy_of(layer.kernel)
    elif layer.score == "additive":
        weights.update(
            decoder_kernel=numpy_of(layer.decoder_kernel),
            encoder_kernel=numpy_of(layer.encoder_kernel),
            score_vector=numpy_of(layer.score_vector),
        )
    elif layer.score == "cosine":
        weights["inverse_temperature"] = (
            1 / layer.temperature
            if layer.temperature
            else math.exp(numpy_of(layer.log_inverse_temperature))
        )
    scores = numpy_reference.scores(
        layer.score,
        decoder_states.astype("float64"),
        encoder_states.astype("float64"),
        **weights,
    )
    if encoder_mask is None:
        return numpy_reference.softmax(scores)
    return numpy_reference.masked_softmax(scores, encoder_mask)


def test_hand_worked_dot_weights():
    encoder_states = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], "float32")
    decoder_state = np.array([[2.0, 0.0]], "float32")
    weights = numpy_of(AttentionWeight()(decoder_state, encoder_states))
    # scores (2, 0, 2): weights e^2, 1, e^2 over (2 e^2 + 1)
    total = 2 * math.exp(2) + 1
    np.testing.assert_allclose(
        weights, [[math.exp(2) / total, 1 / total, math.exp(2) / total]], rtol=1e-6
    )


@pytest.mark.parametrize("score", SCORES)
def test_every_score_matches_numpy_reference(score):
    decoder_states, encoder_states = decoder_encoder_states(
        dec_units=4, enc_units=4 if score in ("dot", "scaled_dot", "cosine") else 6
    )
    layer = AttentionWeight(score=score)
    weights = numpy_of(layer(decoder_states, encoder_states))
    assert weights.shape == (2, 3, 5)
    np.testing.assert_allclose(
        weights,
        reference_weights(layer, decoder_states, encoder_states),
        rtol=1e-5,
        atol=1e-6,
    )
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)


def test_cosine_with_fixed_temperature():
    decoder_states, encoder_states = decoder_encoder_states()
    layer = AttentionWeight(score="cosine", temperature=0.25)
    weights = numpy_of(layer(decoder_states, encoder_states))
    assert layer.trainable_weights == []
    np.testing.assert_allclose(
        weights,
        reference_weights(layer, decoder_states, encoder_states),
        rtol=1e-5,
        atol=1e-6,
    )


def test_cosine_learned_temperature_starts_sharp():
    layer = AttentionWeight(score="cosine")
    decoder_states, encoder_states = decoder_encoder_states()
    layer(decoder_states, encoder_states)
    assert len(layer.trainable_weights) == 1
    np.testing.assert_allclose(math.exp(numpy_of(layer.log_inverse_temperature)), 10.0, rtol=1e-6)


def test_one_step_matches_the_book_and_all_steps():
    decoder_states, encoder_states = decoder_encoder_states()
    layer = AttentionWeight()
    one_step = numpy_of(layer(decoder_states[:, 1], encoder_states))
    assert one_step.shape == (2, 5)
    np.testing.assert_allclose(
        one_step,
        numpy_reference.attention_weight_forward(decoder_states[:, 1], encoder_states),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        one_step, numpy_of(layer(decoder_states, encoder_states))[:, 1], rtol=1e-6
    )


def test_gradients_match_the_book_backward_pass():
    decoder_states, encoder_states = decoder_encoder_states(seed=3)
    h = decoder_states[:, 0]
    upstream = np.random.default_rng(4).normal(size=(2, 5)).astype("float32")
    assert_gradients_match(
        AttentionWeight(),
        [h, encoder_states],
        upstream,
        numpy_reference.attention_weight_backward(upstream, h, encoder_states),
        atol=1e-6,
    )


@pytest.mark.parametrize("score", SCORES)
def test_padded_positions_get_exactly_zero_weight(score):
    decoder_states, encoder_states = decoder_encoder_states()
    mask = np.array([[True, True, True, False, False], [True] * 5])
    layer = AttentionWeight(score=score)
    weights = numpy_of(layer(decoder_states, encoder_states, encoder_states_mask=mask))
    assert np.all(weights[0, :, 3:] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        weights,
        reference_weights(layer, decoder_states, encoder_states, mask),
        rtol=1e-5,
        atol=1e-6,
    )


def test_more_trailing_padding_changes_nothing():
    decoder_states, encoder_states = decoder_encoder_states()
    layer = AttentionWeight()
    mask = np.ones((2, 5), bool)
    mask[0, 4:] = False
    short = numpy_of(layer(decoder_states, encoder_states, encoder_states_mask=mask))
    rng = np.random.default_rng(5)
    longer_states = np.concatenate(
        [encoder_states, rng.normal(size=(2, 7, 4)).astype("float32")], axis=1
    )
    longer_mask = np.concatenate([mask, np.zeros((2, 7), bool)], axis=1)
    longer = numpy_of(layer(decoder_states, longer_states, encoder_states_mask=longer_mask))
    np.testing.assert_allclose(longer[..., :5], short, rtol=1e-6, atol=1e-7)
    assert np.all(longer[..., 5:] == 0.0)


def test_fully_padded_row_gives_zero_weights_and_finite_gradients():
    decoder_states, encoder_states = decoder_encoder_states()
    mask = np.array([[False] * 5, [True, True, False, False, False]])
    layer = AttentionWeight()
    weights = numpy_of(layer(decoder_states, encoder_states, encoder_states_mask=mask))
    assert np.all(weights[0] == 0.0)
    np.testing.assert_allclose(weights[1].sum(axis=-1), 1.0, rtol=1e-6)
    grads = gradients(
        lambda h, hs: keras.ops.sum(
            keras.ops.multiply(
                layer(h, hs, encoder_states_mask=mask), np.arange(5, dtype="float32")
            )
        ),
        decoder_states,
        encoder_states,
    )
    for grad in grads:
        assert np.all(np.isfinite(grad))
    assert np.all(grads[0][0] == 0.0)


def test_huge_scores_stay_finite_with_a_padded_position():
    decoder_states = np.full((1, 1, 4), 1e15, "float32")
    encoder_states = np.full((1, 3, 4), 1e15, "float32")
    encoder_states[0, 1] = -1e15
    mask = np.array([[True, True, False]])
    weights = numpy_of(
        AttentionWeight(score="scaled_dot")(
            decoder_states, encoder_states, encoder_states_mask=mask
        )
    )
    np.testing.assert_array_equal(weights, [[[1.0, 0.0, 0.0]]])


def test_masked_decoder_steps_get_zero_weights():
    decoder_states, encoder_states = decoder_encoder_states()
    decoder_mask = np.array([[True, True, False], [True, False, False]])
    weights = numpy_of(
        AttentionWeight()(decoder_states, encoder_states, decoder_states_mask=decoder_mask)
    )
    assert np.all(weights[0, 2] == 0) and np.all(weights[1, 1:] == 0)
    np.testing.assert_allclose(weights[0, :2].sum(axis=-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_with_large_states(policy):
    # Dot products of these states reach ~1e7, past float16's 65504.
    rng = np.random.default_rng(6)
    decoder_states = (300 * rng.normal(size=(2, 3, 64))).astype("float32")
    encoder_states = (300 * rng.normal(size=(2, 5, 64))).astype("float32")
    mask = np.array([[True] * 4 + [False], [True] * 5])
    expected = numpy_of(AttentionWeight()(decoder_states, encoder_states, encoder_states_mask=mask))
    weights = AttentionWeight(dtype=policy)(
        decoder_states, encoder_states, encoder_states_mask=mask
    )
    assert keras.backend.standardize_dtype(weights.dtype) == policy.split("_")[1]
    weights = numpy_of(keras.ops.cast(weights, "float32"))
    assert np.all(np.isfinite(weights))
    # The states themselves are rounded to the policy's precision, which can
    # move such large scores by a few units; the weights stay one-hot-like.
    assert np.all(weights[0, :, 4] == 0.0)
    np.testing.assert_array_equal(weights.argmax(-1), expected.argmax(-1))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-2)


@pytest.mark.parametrize("score", SCORES)
def test_layer_contract(score):
    dec_units = 4
    enc_units = 4 if score in ("dot", "scaled_dot", "cosine") else 6
    run_layer_test(
        AttentionWeight,
        {"score": score},
        input_shapes=[(2, 3, dec_units), (2, 5, enc_units)],
        expected_output_shapes=[(2, 3, 5)],
    )


def test_layer_contract_one_step():
    run_layer_test(
        AttentionWeight,
        {},
        input_shapes=[(2, 4), (2, 5, 4)],
        expected_output_shapes=[(2, 5)],
    )


def test_keras_masks_from_embedding_and_lstm_are_honoured():
    encoder_ids = keras.Input((None,), dtype="int32")
    decoder_ids = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(10, 4, mask_zero=True)
    encoder_states = keras.layers.LSTM(4, return_sequences=True)(embedding(encoder_ids))
    decoder_states = keras.layers.GRU(4, return_sequences=True)(embedding(decoder_ids))
    weights = AttentionWeight()(decoder_states, encoder_states)
    assert get_keras_mask(weights) is not None
    model = keras.Model([encoder_ids, decoder_ids], weights)
    source = np.array([[3, 4, 5, 0, 0], [6, 0, 0, 0, 0]], "int32")
    target = np.array([[1, 2, 0], [1, 2, 3]], "int32")
    result = numpy_of(model([source, target]))
    assert np.all(result[0, :, 3:] == 0) and np.all(result[1, :, 1:] == 0)
    assert np.all(result[0, 2] == 0)  # padded decoder step
    np.testing.assert_allclose(result[0, :2].sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(result[1].sum(-1), 1.0, rtol=1e-6)


# === Bad input ===


def test_unknown_score_lists_the_choices():
    with pytest.raises(ValueError) as info:
        AttentionWeight(score="dott")
    message = str(info.value)
    assert "Received: score='dott'" in message
    for score in SCORES:
        assert repr(score) in message


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"score": "dot", "temperature": 0.5}, "`temperature` applies only to score='cosine'"),
        ({"score": "cosine", "temperature": 0}, "Received: temperature=0"),
        ({"score": "cosine", "temperature": "hot"}, "must be a positive number"),
        ({"score": "cosine", "temperature": float("inf")}, "Received: temperature=inf"),
        ({"score": "general", "additive_units": 8}, "`additive_units` applies only"),
        ({"score": "additive", "additive_units": 0}, "Received: additive_units=0"),
    ],
)
def test_bad_options_fail_clearly(kwargs, fragment):
    with pytest.raises(ValueError, match=None) as info:
        AttentionWeight(**kwargs)
    assert fragment in str(info.value)


@pytest.mark.parametrize("layer_class", [AttentionWeight, TimeAttention])
def test_numpy_additive_units_are_kept_as_a_python_int(layer_class):
    layer = layer_class(score="additive", additive_units=np.int64(6))
    assert type(layer.get_config()["additive_units"]) is int
    assert type(layer_class.from_config(layer.get_config()).additive_units) is int


@pytest.mark.parametrize(
    "decoder_shape, encoder_shape, fragments",
    [
        ((2, 3, 4, 1), (2, 5, 4), ["`decoder_states` must have rank 2 or 3", "(2, 3, 4, 1)"]),
        ((4,), (2, 5, 4), ["`decoder_states` must have rank 2 or 3", "(4,)"]),
        ((2, 3, 4), (2, 4), ["`encoder_states` must have rank 3", "(2, 4)"]),
        (
            (3, 3, 4),
            (2, 5, 4),
            ["batch sizes", "decoder_states.shape[0] is 3", "encoder_states.shape[0] is 2"],
        ),
        ((2, 3, 4), (2, 0, 4), ["at least one time step", "(2, 0, 4)"]),
    ],
)
def test_bad_shapes_fail_clearly(decoder_shape, encoder_shape, fragments):
    with pytest.raises(ValueError) as info:
        AttentionWeight()(np.ones(decoder_shape, "float32"), np.ones(encoder_shape, "float32"))
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize("score", ["dot", "scaled_dot", "cosine"])
def test_mismatched_units_name_both_sizes_and_the_way_out(score):
    with pytest.raises(ValueError) as info:
        AttentionWeight(score=score)(np.ones((2, 3, 4), "float32"), np.ones((2, 5, 6), "float32"))
    message = str(info.value)
    for fragment in ["4 units", "6 units", "'general'", "'additive'"]:
        assert fragment in message


@pytest.mark.parametrize("score", ["general", "additive"])
def test_general_and_additive_accept_different_units(score):
    weights = AttentionWeight(score=score)(
        np.ones((2, 3, 4), "float32"), np.ones((2, 5, 6), "float32")
    )
    assert tuple(weights.shape) == (2, 3, 5)


@pytest.mark.parametrize("argument", ["decoder_states", "encoder_states"])
def test_integer_states_fail_clearly(argument):
    inputs = {
        "decoder_states": np.ones((2, 3, 4), "float32"),
        "encoder_states": np.ones((2, 5, 4), "float32"),
    }
    inputs[argument] = inputs[argument].astype("int32")
    with pytest.raises(TypeError, match=f"`{argument}` must be a floating.*int32"):
        AttentionWeight()(**inputs)


def test_integer_states_fail_clearly_in_a_functional_model():
    with pytest.raises(TypeError, match="`encoder_states` must be a floating"):
        AttentionWeight()(keras.Input((3, 4)), keras.Input((5, 4), dtype="int32"))


def test_mismatched_units_fail_clearly_in_a_functional_model():
    with pytest.raises(ValueError, match="4 units.*6 units"):
        AttentionWeight()(keras.Input((None, 4)), keras.Input((None, 6)))


@pytest.mark.parametrize("layer_class", [AttentionWeight, TimeAttention])
def test_a_numpy_temperature_is_kept_as_a_python_float(layer_class):
    layer = layer_class(score="cosine", temperature=np.float32(0.25))
    config = layer.get_config()
    assert type(config["temperature"]) is float and config["temperature"] == 0.25
    json.dumps(config)
    assert type(layer_class.from_config(config).temperature) is float
