import keras
import numpy as np
import pytest

from keras_attention import Attention
from keras_attention import TimeAttention
from tests import numpy_reference
from tests.gradients import assert_gradients_match
from tests.layer_checks import numpy_of
from tests.layer_checks import random_states
from tests.layer_checks import run_layer_test

SCORES = ["dot", "scaled_dot", "general", "cosine", "additive"]


def all_step_states(seed=0, batch=2, dec_len=4, enc_len=6, units=5):
    return random_states((batch, dec_len, units), (batch, enc_len, units), seed)


def test_matches_the_book_time_attention_forward():
    decoder_states, encoder_states = all_step_states()
    context, weights = TimeAttention(return_attention_weights=True)(decoder_states, encoder_states)
    expected_context, expected_weights = numpy_reference.time_attention_forward(
        decoder_states, encoder_states
    )
    np.testing.assert_allclose(numpy_of(context), expected_context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy_of(weights), expected_weights, rtol=1e-5, atol=1e-6)


def test_gradients_match_the_book_backward_pass():
    decoder_states, encoder_states = all_step_states(seed=9)
    upstream = np.random.default_rng(10).normal(size=(2, 4, 5)).astype("float32")
    assert_gradients_match(
        TimeAttention(),
        [decoder_states, encoder_states],
        upstream,
        numpy_reference.time_attention_backward(upstream, decoder_states, encoder_states),
    )


@pytest.mark.parametrize("score", SCORES)
def test_each_step_equals_attention_at_that_step(score):
    decoder_states, encoder_states = all_step_states()
    time_attention = TimeAttention(score=score, return_attention_weights=True)
    context, weights = time_attention(decoder_states, encoder_states)
    attention = Attention(score=score, return_attention_weights=True)
    attention.build(decoder_states[:, 0].shape, encoder_states.shape)
    attention.set_weights(time_attention.get_weights())
    for step in range(decoder_states.shape[1]):
        step_context, step_weights = attention(decoder_states[:, step], encoder_states)
        np.testing.assert_allclose(
            numpy_of(context)[:, step], numpy_of(step_context), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(
            numpy_of(weights)[:, step], numpy_of(step_weights), rtol=1e-5, atol=1e-6
        )


def test_trailing_padding_never_changes_the_context():
    decoder_states, encoder_states = all_step_states()
    layer = TimeAttention(score="general", return_attention_weights=True)
    mask = np.ones((2, 6), bool)
    mask[1, 3:] = False
    context, weights = layer(decoder_states, encoder_states, encoder_states_mask=mask)
    padding = np.random.default_rng(11).normal(size=(2, 9, 5)).astype("float32")
    longer_context, longer_weights = layer(
        decoder_states,
        np.concatenate([encoder_states, padding], axis=1),
        encoder_states_mask=np.concatenate([mask, np.zeros((2, 9), bool)], axis=1),
    )
    np.testing.assert_allclose(numpy_of(longer_context), numpy_of(context), rtol=1e-6, atol=1e-6)
    assert np.all(numpy_of(longer_weights)[..., 6:] == 0)
    assert np.all(numpy_of(weights)[1, :, 3:] == 0)


def test_fully_padded_encoder_row_gives_zero_context_never_nan():
    decoder_states, encoder_states = all_step_states()
    mask = np.ones((2, 6), bool)
    mask[0] = False
    context, weights = TimeAttention(return_attention_weights=True)(
        decoder_states, encoder_states, encoder_states_mask=mask
    )
    context, weights = numpy_of(context), numpy_of(weights)
    assert np.all(context[0] == 0) and np.all(weights[0] == 0)
    assert np.all(np.isfinite(context)) and np.all(np.isfinite(weights))


def test_padded_decoder_steps_output_zeros():
    decoder_states, encoder_states = all_step_states()
    decoder_mask = np.array([[True, True, True, False], [True, False, False, False]])
    context, weights = TimeAttention(return_attention_weights=True)(
        decoder_states, encoder_states, decoder_states_mask=decoder_mask
    )
    context, weights = numpy_of(context), numpy_of(weights)
    assert np.all(context[0, 3] == 0) and np.all(context[1, 1:] == 0)
    assert np.all(weights[0, 3] == 0) and np.all(weights[1, 1:] == 0)
    assert np.all(context[0, :3] != 0)


def encoder_decoder(vocabulary=12, units=8, score="dot"):
    """A small functional encoder–decoder whose second output is the weights."""
    encoder_ids = keras.Input((None,), dtype="int32", name="encoder_ids")
    decoder_ids = keras.Input((None,), dtype="int32", name="decoder_ids")
    encoder_states, state_h, state_c = keras.layers.LSTM(
        units, return_sequences=True, return_state=True
    )(keras.layers.Embedding(vocabulary, 6, mask_zero=True)(encoder_ids))
    decoder_states = keras.layers.LSTM(units, return_sequences=True)(
        keras.layers.Embedding(vocabulary, 6, mask_zero=True)(decoder_ids),
        initial_state=[state_h, state_c],
    )
    context, weights = TimeAttention(score=score, return_attention_weights=True)(
        decoder_states, encoder_states
    )
    logits = keras.layers.Dense(vocabulary)(keras.layers.Concatenate()([context, decoder_states]))
    return keras.Model([encoder_ids, decoder_ids], [logits, weights])


SOURCE_IDS = np.array([[3, 4, 5, 6, 0, 0], [7, 8, 0, 0, 0, 0]], "int32")
TARGET_IDS = np.array([[1, 9, 10, 0], [1, 11, 2, 3]], "int32")


def test_keras_masks_flow_through_a_functional_encoder_decoder():
    model = encoder_decoder()
    assert tuple(model.outputs[1].shape) == (None, None, None)
    _, weights = model.predict([SOURCE_IDS, TARGET_IDS], verbose=0)
    assert weights.shape == (2, 4, 6)
    assert np.all(weights[0, :, 4:] == 0) and np.all(weights[1, :, 2:] == 0)
    assert np.all(weights[0, 3] == 0)  # padded decoder step
    np.testing.assert_allclose(weights[0, :3].sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(weights[1].sum(-1), 1.0, rtol=1e-5)
    # More trailing padding on the source changes nothing.
    longer = np.pad(SOURCE_IDS, ((0, 0), (0, 5)))
    _, longer_weights = model.predict([longer, TARGET_IDS], verbose=0)
    np.testing.assert_allclose(longer_weights[..., :6], weights, rtol=1e-5, atol=1e-7)


def test_trains_with_fit_and_weights_output():
    model = encoder_decoder()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True), None],
    )
    targets = np.roll(TARGET_IDS, -1, axis=1)
    history = model.fit(
        [SOURCE_IDS, TARGET_IDS],
        [targets, np.zeros((2, 4, 6))],
        epochs=5,
        batch_size=2,
        verbose=0,
    )
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


@pytest.mark.parametrize("score", SCORES)
def test_saves_and_reloads_in_safe_mode_with_identical_outputs(score, tmp_path):
    model = encoder_decoder(score=score)
    expected = model.predict([SOURCE_IDS, TARGET_IDS], verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    results = restored.predict([SOURCE_IDS, TARGET_IDS], verbose=0)
    for result, original in zip(results, expected):
        np.testing.assert_array_equal(result, original)


@pytest.mark.parametrize("score", SCORES)
def test_layer_contract(score):
    run_layer_test(
        TimeAttention,
        {"score": score, "return_attention_weights": True},
        input_shapes=[(2, 3, 4), (2, 5, 4)],
        expected_output_shapes=[(2, 3, 4), (2, 3, 5)],
    )


def test_layer_contract_context_only():
    run_layer_test(
        TimeAttention,
        {},
        input_shapes=[(2, 3, 4), (2, 5, 4)],
        expected_output_shapes=[(2, 3, 4)],
    )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_with_large_states(policy):
    rng = np.random.default_rng(12)
    decoder_states = (300 * rng.normal(size=(2, 3, 64))).astype("float32")
    encoder_states = (300 * rng.normal(size=(2, 5, 64))).astype("float32")
    mask = np.array([[True] * 4 + [False], [True] * 5])
    context, weights = TimeAttention(return_attention_weights=True, dtype=policy)(
        decoder_states, encoder_states, encoder_states_mask=mask
    )
    expected, _ = TimeAttention(return_attention_weights=True)(
        decoder_states, encoder_states, encoder_states_mask=mask
    )
    context = numpy_of(keras.ops.cast(context, "float32"))
    assert np.all(np.isfinite(context))
    assert np.all(numpy_of(keras.ops.cast(weights, "float32"))[0, :, 4] == 0)
    # Weights are near one-hot here, so the context is close to one encoder
    # state, up to the policy's rounding of 300-sized values.
    np.testing.assert_allclose(context, numpy_of(expected), rtol=2e-2, atol=3.0)


def test_one_step_points_to_attention():
    with pytest.raises(ValueError) as info:
        TimeAttention()(np.ones((2, 4), "float32"), np.ones((2, 5, 4), "float32"))
    message = str(info.value)
    assert "`decoder_states` must have rank 3" in message
    assert "use Attention for one step" in message and "(2, 4)" in message


def test_mismatched_batch_fails_clearly():
    with pytest.raises(
        ValueError, match="decoder_states.shape\\[0\\] is 3.*encoder_states.shape\\[0\\] is 2"
    ):
        TimeAttention()(np.ones((3, 4, 5), "float32"), np.ones((2, 6, 5), "float32"))


def test_integer_decoder_states_fail_clearly():
    with pytest.raises(TypeError, match="`decoder_states` must be a floating.*int32"):
        TimeAttention()(keras.Input((None, 4), dtype="int32"), keras.Input((None, 4)))
