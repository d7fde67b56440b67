"""What `Attention` and `TimeAttention` share: AttentionWeight, then WeightSum."""

import keras

from keras_attention import checks
from keras_attention.layers.attention_weight import AttentionWeight
from keras_attention.layers.attention_weight import validate_score_options
from keras_attention.layers.weight_sum import WeightSum


class BaseAttention(keras.layers.Layer):
    """Attention weights then context, for decoder states of one rank.

    Subclasses set `decoder_rank` (2: one step, 3: every step) and
    `decoder_layout`, the shape written out for error messages. The
    arguments are documented on the subclasses.
    """

    decoder_rank = None
    decoder_layout = None

    def __init__(
        self,
        score="dot",
        return_attention_weights=False,
        temperature=None,
        additive_units=None,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        temperature, additive_units = validate_score_options(
            type(self).__name__, score, temperature, additive_units
        )
        self.score = score
        self.return_attention_weights = bool(return_attention_weights)
        self.temperature = temperature
        self.additive_units = additive_units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

        # === Layers ===
        self.attention_weight = AttentionWeight(
            score=score,
            temperature=temperature,
            additive_units=additive_units,
            kernel_initializer=kernel_initializer,
            dtype=self.dtype_policy,
            name="attention_weight",
        )
        self.weight_sum = WeightSum(dtype=self.dtype_policy, name="weight_sum")

    def build(self, decoder_states_shape, encoder_states_shape):
        self._check_decoder_rank(decoder_states_shape)
        self.attention_weight.build(decoder_states_shape, encoder_states_shape)
        self.weight_sum.build(
            self.attention_weight.compute_output_shape(decoder_states_shape, encoder_states_shape),
            encoder_states_shape,
        )

    def _check_decoder_rank(self, decoder_states_shape):
        checks.check_rank(
            type(self).__name__,
            "decoder_states",
            decoder_states_shape,
            (self.decoder_rank,),
            self.decoder_layout,
        )

    def call(
        self,
        decoder_states,
        encoder_states,
        decoder_states_mask=None,
        encoder_states_mask=None,
    ):
        self._check_decoder_rank(decoder_states.shape)
        attention_weights = self.attention_weight(
            decoder_states,
            encoder_states,
            decoder_states_mask=decoder_states_mask,
            encoder_states_mask=encoder_states_mask,
        )
        context = self.weight_sum(
            attention_weights,
            encoder_states,
            attention_weights_mask=decoder_states_mask,
            encoder_states_mask=encoder_states_mask,
        )
        if self.return_attention_weights:
            return context, attention_weights
        return context

    def compute_mask(self, inputs, previous_mask=None):
        if self.return_attention_weights:
            return [previous_mask, previous_mask]
        return previous_mask

    def compute_output_shape(self, decoder_states_shape, encoder_states_shape):
        context_shape = tuple(decoder_states_shape[:-1]) + (encoder_states_shape[-1],)
        if self.return_attention_weights:
            weights_shape = self.attention_weight.compute_output_shape(
                decoder_states_shape, encoder_states_shape
            )
            return context_shape, weights_shape
        return context_shape

    def compute_output_spec(self, decoder_states, encoder_states, **kwargs):
        self._check_decoder_rank(decoder_states.shape)
        self.attention_weight._check_inputs(decoder_states, encoder_states)
        return super().compute_output_spec(decoder_states, encoder_states, **kwargs)

    def get_config(self):
        config = {
            "score": self.score,
            "return_attention_weights": self.return_attention_weights,
            "temperature": self.temperature,
            "additive_units": self.additive_units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
        return {**super().get_config(), **config}
