"""The TimeAttention layer: attention for every decoder step at once."""

import keras

from keras_attention.layers.base_attention import BaseAttention


@keras.saving.register_keras_serializable(package="keras_attention")
class TimeAttention(BaseAttention):
    """Attention for every decoder step at once, fully vectorised.

    Given all decoder states `(batch, dec_len, dec_units)` and all encoder
    states `(batch, enc_len, enc_units)`, computes the attention weights
    `(batch, dec_len, enc_len)` and the contexts `(batch, dec_len,
    enc_units)` with batched matrix products: no loop over time steps. Each
    decoder step gives the same result as `Attention` at that step.

    Args:
        score: str, the score function of `AttentionWeight`: `"dot"`,
            `"scaled_dot"`, `"general"`, `"cosine"` or `"additive"`.
            Defaults to `"dot"`.
        return_attention_weights: bool, whether to return the weights too,
            e.g. as a second output of a functional model to plot them.
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
        decoder_states: float tensor `(batch, dec_len, dec_units)`.
        encoder_states: float tensor `(batch, enc_len, enc_units)`.
        decoder_states_mask: optional bool tensor `(batch, dec_len)`, `True`
            for real decoder steps; taken from the Keras mask of
            `decoder_states` when not given.
        encoder_states_mask: optional bool tensor `(batch, enc_len)`, `True`
            for real encoder positions; taken from the Keras mask of
            `encoder_states` when not given.

    Returns:
        The context `(batch, dec_len, enc_units)`, or `(context,
        attention_weights)` with weights `(batch, dec_len, enc_len)` if
        `return_attention_weights=True`.

    Masking: masks carried from `Embedding(mask_zero=True)` through
    `LSTM`/`GRU(return_sequences=True)` are used with no extra code.
    Masked encoder positions get exactly 0 weight, so trailing padding never
    changes the result, and an all-padding encoder row gives zero weights and
    a zero context. Masked decoder steps output zeros, and the decoder mask
    is the mask of both outputs.

    Example:

    >>> encoder_inputs = keras.Input((None,), dtype="int32")
    >>> decoder_inputs = keras.Input((None,), dtype="int32")
    >>> encoder_states = keras.layers.LSTM(16, return_sequences=True)(
    ...     keras.layers.Embedding(20, 8, mask_zero=True)(encoder_inputs))
    >>> decoder_states = keras.layers.LSTM(16, return_sequences=True)(
    ...     keras.layers.Embedding(20, 8, mask_zero=True)(decoder_inputs))
    >>> context, weights = TimeAttention(return_attention_weights=True)(
    ...     decoder_states, encoder_states)
    >>> logits = keras.layers.Dense(20)(
    ...     keras.layers.Concatenate()([context, decoder_states]))
    >>> model = keras.Model([encoder_inputs, decoder_inputs], [logits, weights])
    >>> tuple(weights.shape)
    (None, None, None)

    References:
        - Koki Saitoh, "Deep Learning from Scratch 2", chapter 8
          (`ch08/attention_layer.py`, `TimeAttention`).
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025).
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473).
    """

    decoder_rank = 3
    decoder_layout = "(batch, dec_len, units) (all decoder steps; use Attention for one step)"
