import doctest

import keras
import pytest

import keras_attention
from keras_attention.layers import attention
from keras_attention.layers import attention_weight
from keras_attention.layers import time_attention
from keras_attention.layers import weight_sum
from keras_attention.models import ensemble
from keras_attention.models import seq2seq


LAYERS = ["Attention", "AttentionWeight", "TimeAttention", "WeightSum"]


def test_every_public_name_imports_and_the_layers_are_registered():
    assert keras_attention.__all__ == sorted(
        LAYERS + ["BeamSearch", "GreedySearch", "Ensemble", "Runner", "Seq2Seq", "Translator", "dynamic_decode",
                  "export_litert", "export_saved_model"]
    )
    for name in keras_attention.__all__:
        assert getattr(keras_attention, name).__name__ == name
    for name in LAYERS + ["Seq2Seq", "Ensemble"]:
        layer_class = getattr(keras_attention, name)
        assert keras.saving.get_registered_name(layer_class) == f"keras_attention>{name}"
        assert keras.saving.get_registered_object(f"keras_attention>{name}") is layer_class


@pytest.mark.parametrize(
    "module", [attention, attention_weight, time_attention, weight_sum, seq2seq, ensemble],
    ids=lambda module: module.__name__,
)
def test_docstring_examples_run(module):
    result = doctest.testmod(
        module,
        extraglobs={"keras": keras, **{n: getattr(keras_attention, n) for n in keras_attention.__all__}},
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.tensorflow_only
def test_vectorizer_docstring_example_runs():
    from keras_attention.text import vectorizer

    result = doctest.testmod(vectorizer, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
