"""The AttentionWeight layer: how much each encoder state matters now."""

import math

import keras
from keras import ops

from keras_attention import checks
from keras_attention_cli.options import SCORES
from keras_attention_cli.options import check_number
from keras_attention_cli.options import check_positive_int

# Scores that compare the two states directly need them in one space.
SAME_UNITS_SCORES = ("dot", "scaled_dot", "cosine")
# Learned inverse temperature of the cosine score starts here: cosine
# similarity lies in [-1, 1], and a softmax over such small scores is close
# to uniform, so it is sharpened from the first step.
INITIAL_COSINE_INVERSE_TEMPERATURE = 10.0
_FLOAT32_LOWEST = -3.4028234663852886e38
_EPSILON = 1e-12


def validate_score_options(layer_name, score, temperature, additive_units):
    """Check the score options of an attention layer at construction time;
    returns `(temperature, additive_units)` as a Python float and int (or
    None)."""
    if score not in SCORES:
        raise ValueError(
            f"{layer_name}: `score` must be one of {', '.join(map(repr, SCORES))}. "
            f"Received: score={score!r}"
        )
    if temperature is not None:
        if score != "cosine":
            raise ValueError(
                f"{layer_name}: `temperature` applies only to score='cosine'. "
                f"Received: temperature={temperature!r} with score={score!r}"
            )
        temperature = check_number(
            "temperature",
            temperature,
            "a positive number",
            lambda t: t > 0,
            owner=f"{layer_name}: ",
            alternative=", or None to learn it",
        )
    if additive_units is not None:
        if score != "additive":
            raise ValueError(
                f"{layer_name}: `additive_units` applies only to "
                f"score='additive'. Received: additive_units={additive_units!r} "
                f"with score={score!r}"
            )
        additive_units = check_positive_int(
            "additive_units",
            additive_units,
            owner=f"{layer_name}: ",
            alternative=", or None to use the encoder's units",
        )
    return temperature, additive_units


def check_state_shapes(layer_name, score, decoder_states_shape, encoder_states_shape):
    """Check that decoder and encoder states fit together for `score`."""
    checks.check_rank(
        layer_name,
        "decoder_states",
        decoder_states_shape,
        (2, 3),
        "(batch, units) or (batch, dec_len, units)",
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
        ("decoder_states.shape[0]", decoder_states_shape[0]),
        ("encoder_states.shape[0]", encoder_states_shape[0]),
    )
    checks.check_not_empty(layer_name, "encoder_states", encoder_states_shape, 1, "time step")
    decoder_units, encoder_units = decoder_states_shape[-1], encoder_states_shape[-1]
    if (
        score in SAME_UNITS_SCORES
        and None not in (decoder_units, encoder_units)
        and decoder_units != encoder_units
    ):
        raise ValueError(
            f"{layer_name}: score={score!r} compares decoder and encoder states "
            f"directly, so their units must be equal. Received: decoder_states "
            f"with {decoder_units} units and encoder_states with {encoder_units} "
            f"units. Use score='general' or score='additive' for states of "
            f"different sizes."
        )


def masked_softmax(scores, encoder_mask):
    """Softmax over the last axis that gives masked positions exactly 0.

    `scores` is `(batch, dec_len, enc_len)`; `encoder_mask` is `(batch,
    enc_len)` or `None`. No `-inf` is used: a row whose positions are all
    masked gets zero weights, not NaN.
    """
    if encoder_mask is None:
        return ops.softmax(scores, axis=-1)
    mask = ops.expand_dims(ops.cast(encoder_mask, "bool"), axis=-2)
    # Shift by the largest unmasked score so that exp() never overflows;
    # the softmax does not depend on the shift, so no gradient flows there.
    row_max = ops.stop_gradient(
        ops.max(ops.where(mask, scores, _FLOAT32_LOWEST), axis=-1, keepdims=True)
    )
    # The inner where keeps masked entries finite (and their gradients zero).
    exps = ops.where(mask, ops.exp(ops.where(mask, scores - row_max, 0.0)), 0.0)
    total = ops.sum(exps, axis=-1, keepdims=True)
    return exps / ops.where(total > 0.0, total, 1.0)


def _l2_normalize(states):
    return states * ops.rsqrt(
        ops.maximum(ops.sum(ops.square(states), axis=-1, keepdims=True), _EPSILON)
    )


@keras.saving.register_keras_serializable(package="keras_attention")
class AttentionWeight(keras.layers.Layer):
    """Attention weights of decoder states over encoder states.

    Scores every encoder state `hs_i` against a decoder state `h`, then turns
    the scores into weights with a softmax over the encoder positions, so the
    weights are >= 0 and sum to 1 over the unmasked positions:

    - `"dot"` (the book's): `s_i = h . hs_i`
    - `"scaled_dot"`: `s_i = h . hs_i / sqrt(units)`
    - `"general"` (Luong): `s_i = h W hs_i`, `W` learned, `(dec_units, enc_units)`
    - `"cosine"`: `s_i = cos(h, hs_i) / temperature`; the temperature is
      learned (stored as the log of its inverse, starting at 1/10) unless a
      fixed `temperature` is given
    - `"additive"` (Bahdanau): `s_i = v . tanh(W1 h + W2 hs_i)`, all learned

    Scores and the softmax are computed in float32 whatever the dtype policy,
    so `mixed_float16` states with large values neither overflow nor round
    the weights away; the weights are returned in the layer's compute dtype.

    Args:
        score: str, how to score a decoder state against an encoder state:
            one of `"dot"`, `"scaled_dot"`, `"general"`, `"cosine"`,
            `"additive"`. `"dot"`, `"scaled_dot"` and `"cosine"` need
            decoder and encoder states with the same units. Defaults to
            `"dot"`.
        temperature: float or None, only for `score="cosine"`: a fixed
            softmax temperature (> 0), or `None` to learn it. Defaults to
            `None`.
        additive_units: int or None, only for `score="additive"`: the size
            of the hidden layer `tanh(W1 h + W2 hs)`; `None` uses the
            encoder's units. Defaults to `None`.
        kernel_initializer: initializer of the learned matrices of
            `"general"` and `"additive"`. Defaults to `"glorot_uniform"`.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        decoder_states: float tensor `(batch, units)` for one decoder step,
            or `(batch, dec_len, units)` for all of them.
        encoder_states: float tensor `(batch, enc_len, units)`.
        decoder_states_mask: optional bool tensor `(batch, dec_len)`, `True`
            for real decoder steps. Taken from the Keras mask of
            `decoder_states` when not given.
        encoder_states_mask: optional bool tensor `(batch, enc_len)`, `True`
            for real encoder positions. Taken from the Keras mask of
            `encoder_states` when not given.

    Returns:
        The attention weights, `(batch, enc_len)` for one step or
        `(batch, dec_len, enc_len)` for all steps.

    Masking: masked encoder positions get exactly 0 weight, so trailing
    padding never changes the result; a row with every encoder position
    masked gets all-zero weights. Masked decoder steps get all-zero weights,
    and the decoder mask is the output's mask.

    Example:

    >>> import numpy as np
    >>> encoder_states = np.array([[[1., 0.], [0., 1.], [1., 1.]]])
    >>> decoder_state = np.array([[2., 0.]])
    >>> weights = AttentionWeight()(decoder_state, encoder_states)
    >>> np.round(keras.ops.convert_to_numpy(weights), 3)
    array([[0.468, 0.063, 0.468]], dtype=float32)

    References:
        - Koki Saitoh, "Deep Learning from Scratch 2", chapter 8
          (`ch08/attention_layer.py`, `AttentionWeight`).
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025).
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473).
    """

    def __init__(
        self,
        score="dot",
        temperature=None,
        additive_units=None,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.temperature, self.additive_units = validate_score_options(
            type(self).__name__, score, temperature, additive_units
        )
        self.score = score
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, decoder_states_shape, encoder_states_shape):
        check_state_shapes(
            type(self).__name__,
            self.score,
            decoder_states_shape,
            encoder_states_shape,
        )
        decoder_units, encoder_units = decoder_states_shape[-1], encoder_states_shape[-1]
        if self.score in ("general", "additive") and None in (decoder_units, encoder_units):
            raise ValueError(
                f"{type(self).__name__}: score={self.score!r} learns weights "
                f"sized by the units, so the last axis of both inputs must be "
                f"known. Received: decoder_states.shape={decoder_states_shape}, "
                f"encoder_states.shape={encoder_states_shape}"
            )
        # Scores are computed in float32 (see `_calculate_scores`), so the
        # learned weights are read in float32 too.
        if self.score == "general":
            self.kernel = self.add_weight(
                name="kernel",
                shape=(decoder_units, encoder_units),
                initializer=self.kernel_initializer,
                autocast=False,
            )
        elif self.score == "additive":
            hidden_units = self.additive_units or encoder_units
            self.decoder_kernel = self.add_weight(
                name="decoder_kernel",
                shape=(decoder_units, hidden_units),
                initializer=self.kernel_initializer,
                autocast=False,
            )
            self.encoder_kernel = self.add_weight(
                name="encoder_kernel",
                shape=(encoder_units, hidden_units),
                initializer=self.kernel_initializer,
                autocast=False,
            )
            self.score_vector = self.add_weight(
                name="score_vector",
                shape=(hidden_units,),
                initializer=self.kernel_initializer,
                autocast=False,
            )
        elif self.score == "cosine" and self.temperature is None:
            self.log_inverse_temperature = self.add_weight(
                name="log_inverse_temperature",
                shape=(),
                initializer=keras.initializers.Constant(
                    math.log(INITIAL_COSINE_INVERSE_TEMPERATURE)
                ),
                autocast=False,
            )

    def _calculate_scores(self, decoder_states, encoder_states):
        """Scores `(batch, dec_len, enc_len)` in float32."""
        queries = ops.cast(decoder_states, "float32")
        keys = ops.cast(encoder_states, "float32")
        if self.score == "additive":
            queries = ops.matmul(queries, self.decoder_kernel)
            keys = ops.matmul(keys, self.encoder_kernel)
            hidden = ops.tanh(ops.expand_dims(queries, axis=-2) + ops.expand_dims(keys, axis=-3))
            return ops.sum(hidden * self.score_vector, axis=-1)
        if self.score == "general":
            queries = ops.matmul(queries, self.kernel)
        elif self.score == "cosine":
            queries, keys = _l2_normalize(queries), _l2_normalize(keys)
        scores = ops.matmul(queries, ops.transpose(keys, axes=(0, 2, 1)))
        if self.score == "scaled_dot":
            scores = scores / math.sqrt(encoder_states.shape[-1])
        elif self.score == "cosine":
            if self.temperature is None:
                scores = scores * ops.exp(self.log_inverse_temperature)
            else:
                scores = scores / float(self.temperature)
        return scores

    def _check_inputs(self, decoder_states, encoder_states):
        name = type(self).__name__
        checks.check_floating(name, "decoder_states", decoder_states)
        checks.check_floating(name, "encoder_states", encoder_states)
        check_state_shapes(name, self.score, decoder_states.shape, encoder_states.shape)

    def call(
        self,
        decoder_states,
        encoder_states,
        decoder_states_mask=None,
        encoder_states_mask=None,
    ):
        self._check_inputs(decoder_states, encoder_states)
        single_step = len(decoder_states.shape) == 2
        if single_step:
            decoder_states = ops.expand_dims(decoder_states, axis=1)
            if decoder_states_mask is not None:
                decoder_states_mask = ops.expand_dims(decoder_states_mask, axis=1)
        scores = self._calculate_scores(decoder_states, encoder_states)
        attention_weights = masked_softmax(scores, encoder_states_mask)
        if decoder_states_mask is not None:
            attention_weights = ops.where(
                ops.expand_dims(ops.cast(decoder_states_mask, "bool"), axis=-1),
                attention_weights,
                0.0,
            )
        attention_weights = ops.cast(attention_weights, self.compute_dtype)
        if single_step:
            attention_weights = ops.squeeze(attention_weights, axis=1)
        return attention_weights

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask

    def compute_output_shape(self, decoder_states_shape, encoder_states_shape):
        return tuple(decoder_states_shape[:-1]) + (encoder_states_shape[1],)

    def compute_output_spec(self, decoder_states, encoder_states, **kwargs):
        self._check_inputs(decoder_states, encoder_states)
        return super().compute_output_spec(decoder_states, encoder_states, **kwargs)

    def get_config(self):
        config = {
            "score": self.score,
            "temperature": self.temperature,
            "additive_units": self.additive_units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
        return {**super().get_config(), **config}
