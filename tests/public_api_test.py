import doctest

import keras
import pytest

import keras_attention
from keras_attention.layers import attention
from keras_attention.layers import attention_weight
from keras_attention.layers import input_feeding
from keras_attention.layers import recurrent
from keras_attention.layers import time_attention
from keras_attention.layers import weight_sum
from keras_attention.models import ensemble
from keras_attention.models import losses
from keras_attention.models import seq2seq

LAYERS = [
    "Attention", "AttentionWeight", "FusedGRU", "FusedLSTM", "InputFeedingDecoder",
    "TimeAttention", "WeightSum",
]  # fmt: skip


def test_every_public_name_imports_and_the_layers_are_registered():
    assert keras_attention.__all__ == sorted(
        LAYERS
        + [
            "BeamSearch",
            "GreedySearch",
            "Ensemble",
            "Runner",
            "Seq2Seq",
            "Translator",
            "dynamic_decode",
            "export_litert",
            "export_saved_model",
        ]
    )
    for name in keras_attention.__all__:
        assert getattr(keras_attention, name).__name__ == name
    for name in LAYERS + ["Seq2Seq", "Ensemble"]:
        layer_class = getattr(keras_attention, name)
        assert keras.saving.get_registered_name(layer_class) == f"keras_attention>{name}"
        assert keras.saving.get_registered_object(f"keras_attention>{name}") is layer_class


@pytest.mark.parametrize(
    "module",
    [
        attention,
        attention_weight,
        input_feeding,
        recurrent,
        time_attention,
        weight_sum,
        seq2seq,
        ensemble,
        losses,
    ],  # fmt: skip
    ids=lambda module: module.__name__,
)
def test_docstring_examples_run(module):
    result = doctest.testmod(
        module,
        extraglobs={
            "keras": keras,
            **{n: getattr(keras_attention, n) for n in keras_attention.__all__},
        },
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.tensorflow_only
def test_vectorizer_docstring_example_runs():
    from keras_attention.text import vectorizer

    result = doctest.testmod(vectorizer, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# A user's script: nothing but `import keras_attention` before loading; it
# loads each model of a folder (one process for all: registration happens
# at import, whatever is loaded first).
LOAD_IN_A_FRESH_PROCESS = r"""
import sys
from pathlib import Path
import numpy as np
import keras_attention
import keras
for saved in sorted(Path(sys.argv[1]).glob("*.keras")):
    model = keras.saving.load_model(saved)
    inputs = np.load(saved.with_suffix(".npz"))
    outputs = model([inputs[name] for name in sorted(inputs.files)])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    np.save(saved.with_suffix(".npy"), keras.ops.convert_to_numpy(outputs[0]))
"""


def _two_input_model(layer, first_shape, second_shape):
    first, second = keras.Input(first_shape), keras.Input(second_shape)
    return keras.Model([first, second], layer(first, second))


FRESH_PROCESS_MODELS = {  # a model holding each class, and its inputs' shapes
    "TimeAttention": (
        lambda: _two_input_model(keras_attention.TimeAttention(), (3, 4), (5, 4)),
        [(2, 3, 4), (2, 5, 4)],
    ),
    "Attention": (
        lambda: _two_input_model(keras_attention.Attention(), (4,), (5, 4)),
        [(2, 4), (2, 5, 4)],
    ),
    "AttentionWeight": (
        lambda: _two_input_model(keras_attention.AttentionWeight(), (4,), (5, 4)),
        [(2, 4), (2, 5, 4)],
    ),
    "WeightSum": (
        lambda: _two_input_model(keras_attention.WeightSum(), (5,), (5, 4)),
        [(2, 5), (2, 5, 4)],
    ),
    "Seq2Seq": (lambda: keras_attention.Seq2Seq(7, 9, units=8, embedding_dim=4), "token ids"),
}


def test_a_fresh_process_that_imports_only_keras_attention_loads_saved_models(tmp_path):
    import subprocess
    import sys

    import numpy as np

    rng, expected = np.random.default_rng(0), {}
    for name, (build, shapes) in FRESH_PROCESS_MODELS.items():
        model = build()
        if shapes == "token ids":  # source and target ids
            inputs = [
                rng.integers(1, 7, (2, 5)).astype("int32"),
                rng.integers(1, 9, (2, 3)).astype("int32"),
            ]
        else:
            inputs = [rng.standard_normal(shape).astype("float32") for shape in shapes]
        outputs = model(inputs)
        expected[name] = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        model.save(tmp_path / f"{name}.keras")
        np.savez(
            tmp_path / f"{name}.npz",
            **{f"input_{index}": value for index, value in enumerate(inputs)},
        )
    result = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_FRESH_PROCESS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for name, outputs in expected.items():
        np.testing.assert_allclose(
            np.load(tmp_path / f"{name}.npy"),
            keras.ops.convert_to_numpy(outputs[0]),
            rtol=1e-5,
            atol=1e-6,
            err_msg=name,
        )
