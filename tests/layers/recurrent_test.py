"""FusedGRU and FusedLSTM against Keras' GRU and LSTM on the same weights."""

import keras
import numpy as np
import pytest

from keras_attention.layers import FusedGRU
from keras_attention.layers import FusedLSTM
from tests.gradients import gradients
from tests.layer_checks import numpy_of

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(3, 6, 5)).astype("float32")
UPSTREAM = RNG.normal(size=(3, 6, 4)).astype("float32")
# A full row, one padded after 3 steps, one after 1.
MASK = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]], bool)

PAIRS = [(FusedGRU, keras.layers.GRU), (FusedLSTM, keras.layers.LSTM)]
VARIANTS = [
    {},
    {"go_backwards": True},
    {"use_bias": False},
    {"zero_output_for_mask": True},
]


def twins(fused_class, keras_class, **kwargs):
    """A fused layer and Keras' own with the same (random) weights."""
    fused = fused_class(4, return_sequences=True, return_state=True, **kwargs)
    plain = keras_class(4, return_sequences=True, return_state=True, **kwargs)
    fused(INPUTS), plain(INPUTS)
    weights = [RNG.normal(scale=0.5, size=w.shape).astype("float32") for w in fused.weights]
    fused.set_weights(weights), plain.set_weights(weights)
    return fused, plain


@pytest.mark.parametrize("mask", [None, MASK], ids=["unmasked", "masked"])
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(v) or "default")
@pytest.mark.parametrize("fused_class, keras_class", PAIRS, ids=["gru", "lstm"])
def test_outputs_states_and_input_gradients_equal_keras(fused_class, keras_class, variant, mask):
    fused, plain = twins(fused_class, keras_class, **variant)
    for got, want in zip(fused(INPUTS, mask=mask), plain(INPUTS, mask=mask)):
        np.testing.assert_allclose(numpy_of(got), numpy_of(want), rtol=1e-5, atol=1e-6)
    (got,), (want,) = (
        gradients(
            lambda x, layer=layer: keras.ops.sum(
                keras.ops.multiply(layer(x, mask=mask)[0], UPSTREAM)
            ),
            INPUTS,
        )
        for layer in (fused, plain)
    )
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    if mask is not None:  # padding gets no gradient
        assert not got[~MASK].any()


def test_gru_without_reset_after_equals_keras():
    fused, plain = twins(FusedGRU, keras.layers.GRU, reset_after=False)
    for got, want in zip(fused(INPUTS, mask=MASK), plain(INPUTS, mask=MASK)):
        np.testing.assert_allclose(numpy_of(got), numpy_of(want), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fused_class, keras_class", PAIRS, ids=["gru", "lstm"])
def test_one_training_step_changes_the_weights_as_keras_does(fused_class, keras_class):
    """Weight gradients, through `fit`: one SGD step from the same weights,
    bidirectional, over masked (zero-padded) inputs."""
    tokens = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 0, 0], [5, 0, 0, 0, 0]], "int32")
    targets = RNG.normal(size=(3, 4)).astype("float32")
    models = []
    for layer_class in (fused_class, keras_class):
        keras.utils.set_random_seed(1)
        model = keras.Sequential(
            [
                keras.Input((5,), dtype="int32"),
                keras.layers.Embedding(10, 6, mask_zero=True),
                keras.layers.Bidirectional(layer_class(4, return_sequences=True)),
                layer_class(4),
            ]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    for model in models:
        model.fit(tokens, targets, batch_size=3, epochs=1, verbose=0, shuffle=False)
    for got, want in zip(*(model.get_weights() for model in models)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    before = models[0].predict(tokens, verbose=0)
    assert not np.allclose(before, 0)


@pytest.mark.parametrize("fused_class", [FusedGRU, FusedLSTM])
def test_saved_and_loaded_it_gives_the_same_outputs(fused_class, tmp_path):
    model = keras.Sequential([keras.Input((6, 5)), fused_class(4, return_sequences=True)])
    path = tmp_path / "fused.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0]) is fused_class
    np.testing.assert_allclose(
        numpy_of(loaded(INPUTS)), numpy_of(model(INPUTS)), rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("fused_class", [FusedGRU, FusedLSTM])
def test_input_dropout_is_one_mask_for_all_steps_and_off_in_inference(fused_class):
    layer = fused_class(4, dropout=0.5, return_sequences=True, seed=3)
    inference = numpy_of(layer(INPUTS))
    np.testing.assert_allclose(numpy_of(layer(INPUTS)), inference)
    assert not np.allclose(numpy_of(layer(INPUTS, training=True)), inference)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"recurrent_dropout": 0.2}, "`recurrent_dropout` is not supported"),
        ({"unroll": True}, "`unroll` is not supported"),
    ],
)
@pytest.mark.parametrize("fused_class", [FusedGRU, FusedLSTM])
def test_what_it_cannot_do_is_refused_with_the_keras_layer_to_use(fused_class, kwargs, message):
    with pytest.raises(ValueError, match=message) as raised:
        fused_class(4, **kwargs)
    assert f"keras.layers.{fused_class.__name__[5:]}" in str(raised.value)
