"""The WeightSum layer: the context vector, a weighted sum of encoder states."""

import keras
from keras import ops

from keras_attention import checks


def check_weight_shapes(layer_name, attention_weights_shape, encoder_states_shape):
    """Check that attention weights fit the encoder states they weigh."""
    checks.check_rank(
        layer_name,
        "attention_weights",
        attention_weights_shape,
        (2, 3),
        "(batch, enc_len) or (batch, dec_len, enc_len)",
    )
    checks.check_rank(
        layer_name,
        "encoder_states",
        encoder_states_shape,
        (3,),
        "(batch, enc_len, units)",
    )
    checks.check_same_size(
        layer_name,
        "the batch sizes",
        ("attention_weights.shape[0]", attention_weights_shape[0]),
        ("encoder_states.shape[0]", encoder_states_shape[0]),
    )
    checks.check_same_size(
        layer_name,
        "the last axis of `attention_weights` and the encoder length",
        ("attention_weights.shape[-1]", attention_weights_shape[-1]),
        ("encoder_states.shape[1] (enc_len)", encoder_states_shape[1]),
    )


@keras.saving.register_keras_serializable(package="keras_attention")
class WeightSum(keras.layers.Layer):
    """Context vectors: encoder states summed with attention weights.

    Computes `c = sum_i a_i * hs_i` over the encoder positions `i`, for one
    decoder step or for all of them at once (a batched matrix product).

    Args:
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        attention_weights: float tensor `(batch, enc_len)` for one decoder
            step, or `(batch, dec_len, enc_len)` for all steps, usually the
            output of `AttentionWeight`.
        encoder_states: float tensor `(batch, enc_len, units)`.
        attention_weights_mask: optional bool tensor `(batch, dec_len)`,
            `True` for real decoder steps. Taken from the Keras mask of
            `attention_weights` when not given.
        encoder_states_mask: optional bool tensor `(batch, enc_len)`, `True`
            for real encoder positions. Taken from the Keras mask of
            `encoder_states` when not given.

    Returns:
        The context, `(batch, units)` for one step or `(batch, dec_len,
        units)` for all steps.

    Masking: masked encoder positions contribute nothing whatever their
    weight; masked decoder steps get a zero context, and the decoder mask is
    the output's mask.

    Example (the worked example of the book, chapter 8):

    >>> import numpy as np
    >>> encoder_states = np.array(
    ...     [[[1., 0., 0., 1.], [1., 0., 0., 2.], [1., 1., 2., 0.], [1., 1., 0., 0.]]]
    ... )
    >>> attention_weights = np.array([[0.1, 0.055, 0.8, 0.045]])
    >>> context = WeightSum()(attention_weights, encoder_states)
    >>> np.round(keras.ops.convert_to_numpy(context), 6)
    array([[1.   , 0.845, 1.6  , 0.21 ]], dtype=float32)

    References:
        - Koki Saitoh, "Deep Learning from Scratch 2", chapter 8
          (`ch08/attention_layer.py`, `WeightSum`).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, attention_weights_shape, encoder_states_shape):
        check_weight_shapes(type(self).__name__, attention_weights_shape, encoder_states_shape)

    def _check_inputs(self, attention_weights, encoder_states):
        name = type(self).__name__
        checks.check_floating(name, "attention_weights", attention_weights)
        checks.check_floating(name, "encoder_states", encoder_states)
        check_weight_shapes(name, attention_weights.shape, encoder_states.shape)

    def call(
        self,
        attention_weights,
        encoder_states,
        attention_weights_mask=None,
        encoder_states_mask=None,
    ):
        self._check_inputs(attention_weights, encoder_states)
        single_step = len(attention_weights.shape) == 2
        if single_step:
            attention_weights = ops.expand_dims(attention_weights, axis=1)
            if attention_weights_mask is not None:
                attention_weights_mask = ops.expand_dims(attention_weights_mask, axis=1)
        if encoder_states_mask is not None:
            attention_weights = ops.where(
                ops.expand_dims(ops.cast(encoder_states_mask, "bool"), axis=-2),
                attention_weights,
                0.0,
            )
        context = ops.matmul(attention_weights, encoder_states)
        if attention_weights_mask is not None:
            context = ops.where(
                ops.expand_dims(ops.cast(attention_weights_mask, "bool"), axis=-1),
                context,
                0.0,
            )
        if single_step:
            context = ops.squeeze(context, axis=1)
        return context

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask

    def compute_output_shape(self, attention_weights_shape, encoder_states_shape):
        return tuple(attention_weights_shape[:-1]) + (encoder_states_shape[-1],)

    def compute_output_spec(self, attention_weights, encoder_states, **kwargs):
        self._check_inputs(attention_weights, encoder_states)
        return super().compute_output_spec(attention_weights, encoder_states, **kwargs)
