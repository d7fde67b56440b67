"""A layer check in the spirit of Keras' own `run_layer_test`.

`run_layer_test` builds a layer from its arguments and checks what every
Keras layer owes its users: a config that round-trips, eager and symbolic
calls with the shapes it promises, gradients that reach the layers before it
in one `fit` step, mixed precision, and masks carried through a model.
"""

import keras
import numpy as np

# Keras exposes no public getter; this is the one its own layers use.
from keras.src.backend import get_keras_mask

MIXED_POLICIES = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
# How far a mixed precision output may stray from float32, per policy.
MIXED_TOLERANCE = {"mixed_float16": 2e-2, "mixed_bfloat16": 6e-2}


def numpy_of(tensor):
    return keras.ops.convert_to_numpy(tensor)


def assert_same_weights(got, expected, atol):
    """Every weight of model `got` within `atol` of `expected`'s, in order."""
    for a, b in zip(got.weights, expected.weights):
        np.testing.assert_allclose(numpy_of(a), numpy_of(b), rtol=0, atol=atol, err_msg=a.path)


def random_states(decoder_shape, encoder_shape, seed=0):
    """Normal random decoder and encoder states, float32, drawn in that order."""
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=decoder_shape).astype("float32"),
        rng.normal(size=encoder_shape).astype("float32"),
    )


def random_inputs(input_shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype("float32") for shape in input_shapes]


def as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def check_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    serialized = keras.saving.serialize_keras_object(layer)
    restored = keras.saving.deserialize_keras_object(serialized, safe_mode=True)
    assert type(restored) is type(layer)
    assert restored.get_config() == config


def check_eager_call(layer_class, init_kwargs, inputs, expected_output_shapes):
    layer = layer_class(**init_kwargs)
    outputs = as_list(layer(*inputs))
    assert [tuple(o.shape) for o in outputs] == expected_output_shapes
    computed = layer.compute_output_shape(*[x.shape for x in inputs])
    computed = list(computed) if isinstance(computed[0], tuple) else [computed]
    assert [tuple(s) for s in computed] == expected_output_shapes
    for output in outputs:
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(output)))
    return layer, outputs


def check_symbolic_call(layer_class, init_kwargs, input_shapes, expected_output_shapes):
    symbolic_inputs = [keras.Input(shape[1:], batch_size=None) for shape in input_shapes]
    outputs = as_list(layer_class(**init_kwargs)(*symbolic_inputs))
    assert [tuple(o.shape) for o in outputs] == [
        (None,) + shape[1:] for shape in expected_output_shapes
    ]


def check_fit_step(layer_class, init_kwargs, inputs):
    """One `fit` step moves the weights of a Dense in front of the layer."""
    symbolic_inputs = [keras.Input(x.shape[1:]) for x in inputs]
    projected = keras.layers.Dense(inputs[0].shape[-1], name="projection")(symbolic_inputs[0])
    outputs = as_list(layer_class(**init_kwargs)(projected, *symbolic_inputs[1:]))
    model = keras.Model(symbolic_inputs, outputs[0])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = model.get_layer("projection").get_weights()[0].copy()
    target = np.ones(tuple(outputs[0].shape[1:]), "float32")[np.newaxis].repeat(
        len(inputs[0]), axis=0
    )
    history = model.fit(inputs, target, epochs=1, batch_size=len(inputs[0]), verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = model.get_layer("projection").get_weights()[0]
    assert not np.allclose(before, after), "no gradient reached the layer's input"


def check_mixed_precision(layer_class, init_kwargs, inputs, reference_layer):
    reference = as_list(reference_layer(*inputs))
    for policy, compute_dtype in MIXED_POLICIES.items():
        layer = layer_class(**init_kwargs, dtype=policy)
        layer.build(*[x.shape for x in inputs])
        layer.set_weights(reference_layer.get_weights())
        outputs = as_list(layer(*inputs))
        for output, expected in zip(outputs, reference):
            assert keras.backend.standardize_dtype(output.dtype) == compute_dtype
            values = keras.ops.convert_to_numpy(keras.ops.cast(output, "float32"))
            assert np.all(np.isfinite(values))
            np.testing.assert_allclose(
                values,
                keras.ops.convert_to_numpy(expected),
                atol=MIXED_TOLERANCE[policy],
                rtol=MIXED_TOLERANCE[policy],
                err_msg=f"under {policy}",
            )


def check_masking(layer, inputs):
    """Masks carried into a model reach the layer and its outputs.

    Every sequence input (rank 3) gets one more time step of zeros, masked by
    `keras.layers.Masking`. The outputs must then hold exactly the unpadded
    results, exact zeros everywhere else (padded encoder positions get no
    weight, padded decoder steps output zeros), and carry the decoder's mask.
    """
    symbolic_inputs = [
        keras.Input((None,) + x.shape[2:]) if x.ndim == 3 else keras.Input(x.shape[1:])
        for x in inputs
    ]
    masked_inputs = [
        keras.layers.Masking(0.0)(x) if len(x.shape) == 3 else x for x in symbolic_inputs
    ]
    outputs = as_list(layer(*masked_inputs))
    if len(symbolic_inputs[0].shape) == 3:
        for output in outputs:
            assert get_keras_mask(output) is not None
    model = keras.Model(symbolic_inputs, outputs)
    padded = [
        np.concatenate([x, np.zeros_like(x[:, :1])], axis=1) if x.ndim == 3 else x for x in inputs
    ]
    results = [keras.ops.convert_to_numpy(o) for o in as_list(model(padded))]
    expected = [keras.ops.convert_to_numpy(o) for o in as_list(layer(*inputs))]
    for result, unpadded in zip(results, expected):
        real_part = tuple(slice(0, size) for size in unpadded.shape)
        np.testing.assert_allclose(result[real_part], unpadded, rtol=1e-5, atol=1e-6)
        padding_part = np.ones(result.shape, bool)
        padding_part[real_part] = False
        assert np.all(result[padding_part] == 0.0)


def run_layer_test(
    layer_class,
    init_kwargs,
    input_shapes,
    expected_output_shapes,
    run_fit_step=True,
    run_mixed_precision=True,
    run_masking=True,
):
    """Checks a layer the way Keras checks its own layers.

    Args:
        layer_class: the layer class.
        init_kwargs: dict, arguments of the layer's constructor.
        input_shapes: list of shapes, one per positional call argument.
        expected_output_shapes: list of output shapes, one per output.
        run_fit_step: bool, whether to check one `fit` step.
        run_mixed_precision: bool, whether to check mixed precision.
        run_masking: bool, whether to check masks carried through a model
            (for layers called on decoder and encoder states).
    """
    inputs = random_inputs(input_shapes)
    layer, _ = check_eager_call(layer_class, init_kwargs, inputs, expected_output_shapes)
    check_config_round_trip(layer)
    check_symbolic_call(layer_class, init_kwargs, input_shapes, expected_output_shapes)
    if run_fit_step:
        check_fit_step(layer_class, init_kwargs, inputs)
    if run_mixed_precision:
        check_mixed_precision(layer_class, init_kwargs, inputs, layer)
    if run_masking:
        check_masking(layer, inputs)
