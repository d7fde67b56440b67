import keras
import numpy as np
import pytest

from keras_attention import training
from keras_attention.models import Seq2Seq


def compiled(**kwargs):
    model = Seq2Seq(12, 10, units=8, embedding_dim=4)
    training.compile_for_training(model, learning_rate=0.004, **kwargs)
    return model.optimizer


def learning_rate_at(optimizer, step):
    optimizer.iterations.assign(step)
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def test_the_learning_rate_decays_along_a_cosine_to_five_percent():
    optimizer = compiled(total_steps=100)
    rates = [learning_rate_at(optimizer, step) for step in (0, 50, 100)]
    np.testing.assert_allclose(rates, [0.004, 0.004 * (0.05 + 0.95 * 0.5), 0.004 * 0.05], rtol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"total_steps": 100, "cosine_decay": False}])
def test_the_learning_rate_is_constant_without_steps_or_decay(kwargs):
    optimizer = compiled(**kwargs)
    assert [learning_rate_at(optimizer, step) for step in (0, 100)] == pytest.approx([0.004, 0.004])


def test_a_warmup_rises_linearly_to_the_peak_then_the_cosine_decays():
    optimizer = compiled(total_steps=100, warmup=0.1)
    rates = [learning_rate_at(optimizer, step) for step in (0, 5, 10, 55, 100)]
    np.testing.assert_allclose(
        rates, [0.0, 0.002, 0.004, 0.004 * (0.05 + 0.95 * 0.5), 0.004 * 0.05], rtol=1e-5, atol=1e-9
    )
