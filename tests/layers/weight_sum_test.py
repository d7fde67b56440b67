import keras
import numpy as np
import pytest

from keras_attention import WeightSum
from tests import numpy_reference
from tests.gradients import assert_gradients_match
from tests.layer_checks import numpy_of
from tests.layer_checks import run_layer_test

# The worked example of the book, chapter 8.
WORKED_STATES = np.array([[[1, 0, 0, 1], [1, 0, 0, 2], [1, 1, 2, 0], [1, 1, 0, 0]]], "float32")
WORKED_WEIGHTS = np.array([[0.1, 0.055, 0.8, 0.045]], "float32")
WORKED_CONTEXT = [1.0, 0.845, 1.6, 0.21]


def test_worked_example_gives_the_book_context():
    context = numpy_of(WeightSum()(WORKED_WEIGHTS, WORKED_STATES))
    assert context.shape == (1, 4)
    np.testing.assert_allclose(context[0], WORKED_CONTEXT, rtol=0, atol=1e-7)


# Keras' dtype promotion gives float32 for float64 matmuls on the torch
# backend (`result_type("float64", "float64") == "float32"`), and JAX has no
# float64 unless x64 is enabled, so float64 exactness is TensorFlow's alone.
@pytest.mark.tensorflow_only
def test_worked_example_is_exact_in_float64():
    context = numpy_of(
        WeightSum(dtype="float64")(
            np.array([[0.1, 0.055, 0.8, 0.045]]), WORKED_STATES.astype("float64")
        )
    )
    np.testing.assert_allclose(context[0], WORKED_CONTEXT, rtol=0, atol=1e-15)


def test_all_decoder_steps_at_once_match_each_step():
    rng = np.random.default_rng(0)
    encoder_states = rng.normal(size=(2, 5, 3)).astype("float32")
    weights = rng.dirichlet(np.ones(5), size=(2, 4)).astype("float32")
    context = numpy_of(WeightSum()(weights, encoder_states))
    assert context.shape == (2, 4, 3)
    for step in range(4):
        np.testing.assert_allclose(
            context[:, step],
            numpy_reference.weight_sum_forward(weights[:, step], encoder_states),
            rtol=1e-5,
            atol=1e-6,
        )


def test_gradients_match_the_book_backward_pass():
    rng = np.random.default_rng(1)
    encoder_states = rng.normal(size=(3, 6, 4)).astype("float32")
    weights = rng.dirichlet(np.ones(6), size=3).astype("float32")
    upstream = rng.normal(size=(3, 4)).astype("float32")
    assert_gradients_match(
        WeightSum(),
        [weights, encoder_states],
        upstream,
        numpy_reference.weight_sum_backward(upstream, weights, encoder_states),
        rtol=1e-5,
        atol=1e-6,
    )


def test_masked_encoder_positions_contribute_nothing():
    encoder_states = WORKED_STATES.copy()
    encoder_states[0, 3] = 1e6  # garbage in a padded position
    mask = np.array([[True, True, True, False]])
    context = numpy_of(WeightSum()(WORKED_WEIGHTS, encoder_states, encoder_states_mask=mask))
    np.testing.assert_allclose(context[0], [0.955, 0.8, 1.6, 0.21], rtol=0, atol=1e-6)


def test_masked_decoder_steps_give_zero_context():
    rng = np.random.default_rng(2)
    encoder_states = rng.normal(size=(2, 3, 4)).astype("float32")
    weights = rng.dirichlet(np.ones(3), size=(2, 2)).astype("float32")
    decoder_mask = np.array([[True, False], [False, False]])
    context = numpy_of(WeightSum()(weights, encoder_states, attention_weights_mask=decoder_mask))
    assert np.all(context[0, 1] == 0) and np.all(context[1] == 0)
    assert np.any(context[0, 0] != 0)


def test_layer_contract():
    run_layer_test(
        WeightSum,
        {},
        input_shapes=[(2, 3, 5), (2, 5, 4)],
        expected_output_shapes=[(2, 3, 4)],
        run_masking=False,
    )
    run_layer_test(
        WeightSum,
        {},
        input_shapes=[(2, 5), (2, 5, 4)],
        expected_output_shapes=[(2, 4)],
        run_masking=False,
    )


@pytest.mark.parametrize(
    "weights_shape, states_shape, error, fragments",
    [
        (
            (2, 3, 5, 1),
            (2, 5, 4),
            ValueError,
            ["`attention_weights` must have rank 2 or 3", "(2, 3, 5, 1)"],
        ),
        ((2, 5), (2, 5), ValueError, ["`encoder_states` must have rank 3", "(2, 5)"]),
        ((2, 3, 6), (2, 5, 4), ValueError, ["attention_weights.shape[-1] is 6", "(enc_len) is 5"]),
        (
            (3, 5),
            (2, 5, 4),
            ValueError,
            ["batch sizes", "attention_weights.shape[0] is 3", "encoder_states.shape[0] is 2"],
        ),
    ],
)
def test_bad_shapes_fail_clearly(weights_shape, states_shape, error, fragments):
    with pytest.raises(error) as info:
        WeightSum()(np.ones(weights_shape, "float32"), np.ones(states_shape, "float32"))
    for fragment in fragments:
        assert fragment in str(info.value)


def test_integer_encoder_states_fail_clearly():
    with pytest.raises(TypeError, match=r"`encoder_states` must be a floating.*int32"):
        WeightSum()(WORKED_WEIGHTS, WORKED_STATES.astype("int32"))


def test_bad_shapes_fail_clearly_in_a_functional_model():
    with pytest.raises(ValueError, match="attention_weights.shape\\[-1\\] is 6"):
        WeightSum()(keras.Input((3, 6)), keras.Input((5, 4)))
