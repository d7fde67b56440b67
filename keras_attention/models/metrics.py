"""Metrics that ignore padding: token accuracy and whole-sequence exact match."""

import keras
from keras import ops


def _correct_and_real(y_true, y_pred):
    y_true = ops.cast(y_true, "int32")
    real = ops.not_equal(y_true, 0)
    correct = ops.logical_and(
        ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true), real
    )
    return correct, real


@keras.saving.register_keras_serializable(package="keras_attention")
class MaskedTokenAccuracy(keras.metrics.Mean):
    """Share of non-padding target tokens (id != 0) predicted right."""

    def __init__(self, name="token_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        correct, real = _correct_and_real(y_true, y_pred)
        super().update_state(ops.cast(correct, "float32"), sample_weight=ops.cast(real, "float32"))


@keras.saving.register_keras_serializable(package="keras_attention")
class SequenceExactMatch(keras.metrics.Mean):
    """Share of sequences whose every non-padding token is predicted right.

    Under teacher forcing (as in `fit`); the decoders' exact match, which
    feeds each prediction back, is measured by `evaluate`.
    """

    def __init__(self, name="exact_match", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        correct, real = _correct_and_real(y_true, y_pred)
        wrong = ops.sum(ops.cast(ops.logical_and(real, ops.logical_not(correct)), "int32"), axis=-1)
        super().update_state(ops.cast(ops.equal(wrong, 0), "float32"), sample_weight=sample_weight)
