"""InputFeedingDecoder against a numpy transcription of its equations."""

import keras
import numpy as np
import pytest

from keras_attention import InputFeedingDecoder
from keras_attention import Seq2Seq
from keras_attention import decoding
from keras_attention_cli.options import OptionError
from tests import numpy_reference
from tests.gradients import gradients
from tests.layer_checks import numpy_of

RNG = np.random.default_rng(0)
UNITS, ATTENTIONAL = 4, 3
EMBEDDED = RNG.normal(size=(2, 4, 5)).astype("float32")
ENCODER_STATES = RNG.normal(size=(2, 3, UNITS)).astype("float32")
# The second row: a target of 2 steps, a source of 2 positions.
DECODER_MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)
ENCODER_MASK = np.array([[1, 1, 1], [1, 1, 0]], bool)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def cell_step(cell, x, states, kernel, recurrent_kernel, bias):
    """Keras' GRU (`reset_after`, gates z, r, h) or LSTM (gates i, f, c, o)."""
    if cell == "gru":
        (h,) = states
        x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
        h_z, h_r, h_h = np.split(h @ recurrent_kernel + bias[1], 3, axis=-1)
        z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
        h = z * h + (1 - z) * np.tanh(x_h + r * h_h)
        return [h]
    h, c = states
    i, f, candidate, o = np.split(x @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(candidate)
    return [sigmoid(o) * np.tanh(c), c]


def layer_norm(x, gamma, beta, epsilon=1e-3):
    """Keras' `LayerNormalization` over the last axis (its default epsilon)."""
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + epsilon) * gamma + beta


def reference(cell, score, embedded, encoder_states, states, weights, mask, encoder_mask):
    """The decoder, step by step: `h_t = cell([x_t; h~_{t-1}], h_{t-1})`,
    `c_t, a_t` = attention of `h_t`, `h~_t = tanh(W [c_t; h_t])` (with a
    gain and bias after the attentional kernel, `tanh(LayerNorm(W [c_t;
    h_t]))`); masked steps keep the states and output zeros."""
    kernel, recurrent_kernel, bias, attentional_kernel, *norm = weights
    batch, steps, _ = embedded.shape
    fed = np.zeros((batch, ATTENTIONAL))
    vectors = np.zeros((batch, steps, ATTENTIONAL))
    attention = np.zeros((batch, steps, encoder_states.shape[1]))
    for t in range(steps):
        x = np.concatenate([embedded[:, t], fed], axis=-1)
        new_states = cell_step(cell, x, states, kernel, recurrent_kernel, bias)
        h = new_states[0]
        a = numpy_reference.masked_softmax(
            numpy_reference.scores(score, h[:, None], encoder_states)[:, 0], encoder_mask
        )
        context = np.einsum("nt,nth->nh", a, encoder_states)
        pre_activations = np.concatenate([context, h], axis=-1) @ attentional_kernel
        new_fed = np.tanh(layer_norm(pre_activations, *norm) if norm else pre_activations)
        real = mask[:, t : t + 1]
        states = [np.where(real, new, old) for new, old in zip(new_states, states)]
        fed = np.where(real, new_fed, fed)
        vectors[:, t], attention[:, t] = new_fed * real, a * real
    return vectors, attention, [*states, fed]


def decoder_with_random_weights(cell, score="scaled_dot", attentional_norm=False):
    decoder = InputFeedingDecoder(
        UNITS, ATTENTIONAL, cell=cell, score=score, attentional_norm=attentional_norm
    )
    decoder(EMBEDDED, ENCODER_STATES, initial_states(cell))
    decoder.set_weights([RNG.normal(scale=0.5, size=w.shape) for w in decoder.get_weights()])
    return decoder


def initial_states(cell):
    count = 2 if cell == "lstm" else 1
    return [RNG.normal(size=(2, UNITS)).astype("float32") for _ in range(count)]


@pytest.mark.parametrize(
    "score, attentional_norm", [("dot", False), ("scaled_dot", False), ("scaled_dot", True)]
)
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_outputs_and_states_equal_the_numpy_equations_with_masks(cell, score, attentional_norm):
    decoder = decoder_with_random_weights(cell, score, attentional_norm)
    assert len(decoder.get_weights()) == 4 + 2 * attentional_norm  # the norm's gain and bias
    states = initial_states(cell)
    vectors, weights, last = decoder(
        EMBEDDED, ENCODER_STATES, states, encoder_states_mask=ENCODER_MASK, mask=DECODER_MASK
    )
    expected = reference(
        cell, score, EMBEDDED.astype("float64"), ENCODER_STATES.astype("float64"),
        [s.astype("float64") for s in states], decoder.get_weights(), DECODER_MASK, ENCODER_MASK,
    )  # fmt: skip
    np.testing.assert_allclose(numpy_of(vectors), expected[0], atol=1e-5)
    np.testing.assert_allclose(numpy_of(weights), expected[1], atol=1e-5)
    assert len(last) == len(expected[2]) == decoder.state_count
    for got, want in zip(last, expected[2]):
        np.testing.assert_allclose(numpy_of(got), want, atol=1e-5)
    # Padding: the masked source position gets no weight.
    assert np.all(numpy_of(weights)[1, :, 2] == 0)


def test_the_first_step_reads_zeros_and_later_steps_read_the_fed_vector():
    decoder = decoder_with_random_weights("gru")
    states = initial_states("gru")
    fed_zero, _, _ = decoder(EMBEDDED, ENCODER_STATES, [*states, np.zeros((2, ATTENTIONAL))])
    left_out, _, _ = decoder(EMBEDDED, ENCODER_STATES, states)
    np.testing.assert_allclose(numpy_of(fed_zero), numpy_of(left_out), atol=1e-6)
    # The fed-back rows of the kernel reach step 2 onwards, never step 1.
    kernel = decoder.recurrent.cell.kernel
    weights = numpy_of(kernel)
    kernel.assign(np.concatenate([weights[:5], weights[5:] + 1.0]))
    changed, _, _ = decoder(EMBEDDED, ENCODER_STATES, states)
    np.testing.assert_allclose(numpy_of(changed)[:, 0], numpy_of(left_out)[:, 0], atol=1e-6)
    assert np.abs(numpy_of(changed)[:, 1:] - numpy_of(left_out)[:, 1:]).min() > 0


@pytest.mark.parametrize("mask", [None, DECODER_MASK], ids=["unmasked", "masked"])
def test_one_step_at_a_time_equals_the_whole_sequence(mask):
    decoder = decoder_with_random_weights("lstm")
    states = initial_states("lstm")
    whole, whole_weights, whole_last = decoder(EMBEDDED, ENCODER_STATES, states, mask=mask)
    steps, step_weights = [], []
    for t in range(EMBEDDED.shape[1]):
        vectors, weights, states = decoder(
            EMBEDDED[:, t : t + 1], ENCODER_STATES, states,
            mask=None if mask is None else mask[:, t : t + 1],
        )  # fmt: skip
        steps.append(numpy_of(vectors)), step_weights.append(numpy_of(weights))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), numpy_of(whole), atol=1e-6)
    np.testing.assert_allclose(
        np.concatenate(step_weights, axis=1), numpy_of(whole_weights), atol=1e-6
    )
    for got, want in zip(states, whole_last):
        np.testing.assert_allclose(numpy_of(got), numpy_of(want), atol=1e-6)


def test_gradients_equal_finite_differences_of_the_numpy_equations():
    decoder = decoder_with_random_weights("gru")
    states = initial_states("gru")
    upstream = RNG.normal(size=(2, 4, ATTENTIONAL))
    weights = decoder.get_weights()

    def numpy_loss(embedded):
        vectors, _, _ = reference(
            "gru", "scaled_dot", embedded, ENCODER_STATES.astype("float64"),
            [s.astype("float64") for s in states], weights, DECODER_MASK, ENCODER_MASK,
        )  # fmt: skip
        return float(np.sum(vectors * upstream))

    (got,) = gradients(
        lambda embedded: keras.ops.sum(
            keras.ops.multiply(
                decoder(
                    embedded,
                    ENCODER_STATES,
                    states,
                    encoder_states_mask=ENCODER_MASK,
                    mask=DECODER_MASK,
                )[0],
                upstream.astype("float32"),
            )
        ),  # fmt: skip
        EMBEDDED,
    )
    expected = np.zeros_like(EMBEDDED, dtype="float64")
    point = EMBEDDED.astype("float64")
    for index in np.ndindex(point.shape):
        step = np.zeros_like(point)
        step[index] = 1e-5
        expected[index] = (numpy_loss(point + step) - numpy_loss(point - step)) / 2e-5
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert np.all(got[1, 2:] == 0)  # padded steps get no gradient


def test_bad_arguments_fail_clearly():
    with pytest.raises(ValueError, match="`attentional_units` must be a positive integer"):
        InputFeedingDecoder(4, 0)
    with pytest.raises(ValueError, match=r"`cell` must be one of .*Received: cell='rnn'"):
        InputFeedingDecoder(4, 3, cell="rnn")
    decoder = InputFeedingDecoder(UNITS, ATTENTIONAL)
    with pytest.raises(ValueError, match=r"`embedded` must have rank 3.*Received: embedded.shape"):
        decoder(EMBEDDED[:, 0], ENCODER_STATES, initial_states("gru"))
    with pytest.raises(ValueError, match="`initial_state` must hold the gru cell's 1 state"):
        decoder(EMBEDDED, ENCODER_STATES, initial_states("gru") * 3)


@pytest.mark.parametrize(
    "options, named",
    [
        ({"attentional_units": 0}, "attentional_units=0"),
        ({"attentional_units": 4, "kind": "plain"}, "kind='plain'"),
    ],
)
def test_seq2seq_refuses_input_feeding_without_an_attentional_vector(options, named):
    with pytest.raises(OptionError, match=rf"`input_feeding` must be False unless.*{named}"):
        Seq2Seq(10, 10, units=8, input_feeding=True, **options)


def test_a_seq2seq_with_input_feeding_decodes_as_step_by_step_and_reloads(tmp_path):
    model = Seq2Seq(
        12, 9, units=8, cell="gru", bidirectional=True, attentional_units=6,
        input_feeding=True, score="scaled_dot",
    )  # fmt: skip
    model.set_weights([RNG.normal(scale=0.5, size=w.shape) for w in model.get_weights()])
    assert model.state_count == 2
    source = np.array([[5, 6, 7, 8], [4, 9, 0, 0]], "int32")
    tokens, weights = decoding.greedy_decode(model, source, 6)
    for row, expected in zip(numpy_of(tokens), decoding.step_by_step_greedy(model, source, 6)):
        np.testing.assert_array_equal(row[: len(expected)], expected)
    assert np.all(numpy_of(weights)[1, :, 2:] == 0)  # no weight on padding
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.input_feeding and loaded.get_config()["input_feeding"] is True
    decoder_ids = np.array([[2, 5, 6], [2, 7, 0]], "int32")
    np.testing.assert_allclose(
        numpy_of(loaded([source, decoder_ids])), numpy_of(model([source, decoder_ids])), atol=1e-6
    )
