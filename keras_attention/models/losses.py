"""The training loss: cross-entropy over next-token logits, padding ignored,
with optional label smoothing."""

import keras
from keras import ops

from keras_attention_cli.options import check_number


@keras.saving.register_keras_serializable(package="keras_attention")
class SmoothedCrossEntropy(keras.losses.Loss):
    """Cross-entropy of integer targets against logits, with label smoothing.

    Each real target token (id != 0; 0 is padding and costs nothing) is
    scored against a smoothed distribution: `1 - label_smoothing` on the
    right token, `label_smoothing` spread evenly over all `V` ids, so its
    loss is `(1 - s) * -log p(y) + s * mean_v(-log p(v))` (Szegedy et al.
    2016; OpenNMT's and Keras' `CategoricalCrossentropy`'s smoothing). The
    mean is over the real tokens, as `SparseCategoricalCrossentropy(
    from_logits=True, ignore_class=0)` takes it; with `label_smoothing=0`
    the two are equal.

    Args:
        label_smoothing: float in [0, 1). Defaults to `0.0`.
        name: str. Defaults to `"smoothed_cross_entropy"`.
        **kwargs: other `keras.losses.Loss` arguments (`dtype`).

    Example:

    >>> import numpy as np
    >>> logits = np.log(np.array([[[0.1, 0.7, 0.2]]], "float32"))
    >>> y = np.array([[1]])
    >>> round(float(SmoothedCrossEntropy(0.3)(y, logits)), 4)  # 0.7*-log .7 + 0.3*mean(-log p)
    0.6765
    """

    def __init__(self, label_smoothing=0.0, name="smoothed_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = check_number(
            "label_smoothing", label_smoothing, "a number in [0, 1)", lambda s: 0 <= s < 1
        )

    def call(self, y_true, y_pred):
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        y_true = ops.cast(y_true, "int32")
        target = -ops.squeeze(ops.take_along_axis(log_probs, y_true[..., None], axis=-1), -1)
        uniform = -ops.mean(log_probs, axis=-1)
        smoothing = self.label_smoothing
        losses = (1 - smoothing) * target + smoothing * uniform
        # Padding costs nothing, and the batch's mean (what the reduction
        # takes over every position) becomes the mean over real tokens, as
        # Keras weighs a masked loss.
        real = ops.cast(ops.not_equal(y_true, 0), losses.dtype)
        positions = ops.cast(ops.size(real), losses.dtype)
        return losses * real * positions / ops.maximum(ops.sum(real), 1.0)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
