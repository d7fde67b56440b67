import math

import keras
import numpy as np
import pytest

from keras_attention.models import SmoothedCrossEntropy
from tests.layer_checks import numpy_of

# Two rows of three positions over 3 ids; the second row's last is padding.
PROBS = np.array(
    [
        [[0.1, 0.7, 0.2], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]],
        [[0.3, 0.3, 0.4], [0.1, 0.8, 0.1], [0.9, 0.05, 0.05]],
    ],
    "float32",
)
TARGETS = np.array([[1, 2, 1], [2, 1, 0]])


def hand_worked(smoothing):
    """The loss written out: the mean over the five real tokens."""
    losses = []
    for row, targets in zip(PROBS, TARGETS):
        for probs, target in zip(row, targets):
            if target:
                uniform = sum(-math.log(p) for p in probs) / 3
                losses.append((1 - smoothing) * -math.log(probs[target]) + smoothing * uniform)
    return sum(losses) / len(losses)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
def test_it_is_the_hand_worked_mean_over_real_tokens(smoothing):
    got = float(numpy_of(SmoothedCrossEntropy(smoothing)(TARGETS, np.log(PROBS))))
    assert got == pytest.approx(hand_worked(smoothing), rel=1e-5)


def test_without_smoothing_it_is_keras_masked_cross_entropy():
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    logits = np.random.default_rng(0).normal(size=(2, 3, 3)).astype("float32")
    np.testing.assert_allclose(
        numpy_of(SmoothedCrossEntropy(0.0)(TARGETS, logits)),
        numpy_of(keras_loss(TARGETS, logits)),
        rtol=1e-6,
    )


def test_smoothing_prefers_a_less_confident_prediction():
    confident = np.log(np.array([[[0.001, 0.998, 0.001]]], "float32"))
    hedged = np.log(np.array([[[0.05, 0.9, 0.05]]], "float32"))
    loss, target = SmoothedCrossEntropy(0.2), np.array([[1]])
    assert float(numpy_of(loss(target, hedged))) < float(numpy_of(loss(target, confident)))


def test_config_round_trips():
    loss = SmoothedCrossEntropy(0.1)
    assert SmoothedCrossEntropy.from_config(loss.get_config()).label_smoothing == 0.1


@pytest.mark.parametrize("value", [-0.1, 1.0, "0.1", True])
def test_a_bad_smoothing_is_refused(value):
    with pytest.raises(ValueError, match="`label_smoothing` must be a number in \\[0, 1\\)"):
        SmoothedCrossEntropy(value)
