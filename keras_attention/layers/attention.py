"""The Attention layer: attention for one decoder step."""

import keras

from keras_attention.layers.base_attention import BaseAttention


@keras.saving.register_keras_serializable(package="keras_attention")
class Attention(BaseAttention):
    """Attention for one decoder step: `AttentionWeight` then `WeightSum`.

    Given the decoder's hidden state `h` at one step, `(batch, units)`, and
    all encoder states `hs`, `(batch, enc_len, units)`, computes the
    attention weights `a = softmax(score(h, hs))`, `(batch, enc_len)`, and
    the context `c = sum_i a_i * hs_i`, `(batch, enc_units)`. Use it inside
    a step-by-step decoder loop; `TimeAttention` does every step at once.

    Args:
        score: str, the score function of `AttentionWeight`: `"dot"`,
            `"scaled_dot"`, `"general"`, `"cosine"` or `"additive"`.
            Defaults to `"dot"`.
        return_attention_weights: bool, whether to return the weights too.
            Defaults to `False`.
        temperature: float or None, only for `score="cosine"`: a fixed
            softmax temperature, or `None` to learn it. Defaults to `None`.
        additive_units: int or None, only for `score="additive"`: the hidden
            size of the additive score; `None` uses the encoder's units.
            Defaults to `None`.
        kernel_initializer: initializer of the learned score matrices.
            Defaults to `"glorot_uniform"`.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        decoder_states: float tensor `(batch, dec_units)`, one decoder step.
        encoder_states: float tensor `(batch, enc_len, enc_units)`.
        decoder_states_mask: optional bool tensor `(batch,)`; `False` gives
            that row zero weights and a zero context.
        encoder_states_mask: optional bool tensor `(batch, enc_len)`, `True`
            for real positions; taken from the Keras mask of
            `encoder_states` when not given.

    Returns:
        The context `(batch, enc_units)`, or `(context, attention_weights)`
        with weights `(batch, enc_len)` if `return_attention_weights=True`.

    Masking: masked encoder positions get exactly 0 weight; an encoder row
    that is all padding gives zero weights and a zero context, never NaN.

    Example:

    >>> import numpy as np
    >>> encoder_states = np.random.rand(2, 5, 8).astype("float32")
    >>> decoder_state = np.random.rand(2, 8).astype("float32")
    >>> context, weights = Attention(return_attention_weights=True)(
    ...     decoder_state, encoder_states)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 8), (2, 5))

    References:
        - Koki Saitoh, "Deep Learning from Scratch 2", chapter 8
          (`ch08/attention_layer.py`, `Attention`).
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025).
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473).
    """

    decoder_rank = 2
    decoder_layout = "(batch, units) (one decoder step; use TimeAttention for all steps)"
