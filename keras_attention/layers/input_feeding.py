"""InputFeedingDecoder: a decoder that attends inside its recurrent loop and
feeds what it attended to into its next step."""

import keras
from keras import ops

from keras_attention import checks
from keras_attention.keras_internals import recurrent_loop
from keras_attention.layers.attention import Attention
from keras_attention.layers.recurrent import FUSED
from keras_attention.layers.recurrent import STATES_PER_CELL
from keras_attention.layers.recurrent import first_mask
from keras_attention.layers.recurrent import projected_inputs
from keras_attention_cli.options import CELLS
from keras_attention_cli.options import SCORES
from keras_attention_cli.options import check_bool
from keras_attention_cli.options import check_choice
from keras_attention_cli.options import check_positive_int


@keras.saving.register_keras_serializable(package="keras_attention")
class TanhLayerNormalization(keras.layers.LayerNormalization):
    """`tanh(LayerNormalization(x))`: the attentional layer's nonlinearity
    when its pre-activations are normalised (`attentional_layers`). Takes
    `keras.layers.LayerNormalization`'s arguments; keeps masks as it does.

    Example:

    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0, 3.0]], "float32")  # mean 2, variance 2/3
    >>> out = TanhLayerNormalization()(x)  # tanh((x - 2) / sqrt(2/3 + 0.001))
    >>> np.round(keras.ops.convert_to_numpy(out), 4)
    array([[-0.8408,  0.    ,  0.8408]], dtype=float32)
    """

    def call(self, inputs):
        return ops.tanh(super().call(inputs))


def attentional_layers(units, normalized=False, dtype=None):
    """The layers of Luong's attentional vector `tanh(W [context; state])`,
    `(dense, norm)`, applied in that order.

    Without `normalized`: `Dense(units, "tanh", use_bias=False)` and `None`.
    With it, `tanh(LayerNorm(W [context; state]))`: the Dense without its
    tanh, then a `TanhLayerNormalization`. Adam drives the plain layer's
    pre-activations large (a standard deviation of 3.6-7.5 in a few hundred
    steps on subword targets; half its units beyond 0.99), where the
    tanh's gradient vanishes and subword training stalls near the unigram
    loss; normalised, each position's pre-activations have unit variance
    (times the learned gain), so the tanh stays where it learns.
    The Dense is named `"attentional"` either way (models saved before the
    option load as they were), the norm `"attentional_norm"`."""
    dense = keras.layers.Dense(
        units, activation=None if normalized else "tanh", use_bias=False, name="attentional",
        dtype=dtype,
    )  # fmt: skip
    norm = TanhLayerNormalization(name="attentional_norm", dtype=dtype) if normalized else None
    return dense, norm


def attentional_vector(dense, norm, merged):
    """The attentional vector of `merged` (`[context; state]`) by the
    `(dense, norm)` of `attentional_layers`."""
    vector = dense(merged)
    return vector if norm is None else norm(vector)


@keras.saving.register_keras_serializable(package="keras_attention")
class InputFeedingDecoder(keras.layers.Layer):
    """A recurrent decoder with attention and input feeding (Luong et al.
    2015, section 3.3).

    At each step `t` the recurrent cell reads the target embedding `x_t`
    together with the previous step's attentional vector `h~_{t-1}`, then
    attends with its new state `h_t`:

        h_t = cell([x_t; h~_{t-1}], h_{t-1})
        c_t, a_t = Attention(h_t, encoder_states)
        h~_t = tanh(W [c_t; h_t])      (tanh(LayerNorm(W [c_t; h_t])) with
                                       attentional_norm)

    so each step knows where it looked before (`h~_0` is zeros). The book's
    decoder (`TimeAttention` after the recurrent layer) attends once for all
    steps, after the loop; this one attends inside it, one step at a time,
    which costs a slower loop. The embedding's share of the input
    projection is still one matmul before the loop, as in `FusedGRU`.

    Args:
        units: int, the recurrent size.
        attentional_units: int, the size of `h~` (the output).
        cell: `"gru"` or `"lstm"`. Defaults to `"gru"`.
        score: str, the `Attention` score function. Defaults to `"dot"`.
        attentional_norm: bool, whether `W [c_t; h_t]` is layer-normalised
            before its tanh (`attentional_layers`). Defaults to `False`.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        embedded: float tensor `(batch, dec_len, embedding_dim)`; its Keras
            mask (or `mask`) marks the real steps.
        encoder_states: float tensor `(batch, enc_len, enc_units)`.
        initial_state: list of the cell's states, `(batch, units)` each
            (an LSTM's hidden and cell states, a GRU's hidden state), with
            or without `h~` `(batch, attentional_units)` last (zeros when
            left out).
        encoder_states_mask: optional bool tensor `(batch, enc_len)`.
        mask: optional bool tensor `(batch, dec_len)`.

    Returns:
        `(attentional_vectors, attention_weights, states)`: `(batch,
        dec_len, attentional_units)`, `(batch, dec_len, enc_len)` (zeros at
        masked steps) and the last states, the cell's then `h~`, to start
        the next call from.

    Example:

    >>> import numpy as np
    >>> decoder = InputFeedingDecoder(8, 6)
    >>> embedded = np.ones((2, 3, 4), "float32")
    >>> encoder_states = np.ones((2, 5, 8), "float32")
    >>> vectors, weights, states = decoder(embedded, encoder_states, [np.zeros((2, 8), "float32")])
    >>> tuple(vectors.shape), tuple(weights.shape), [tuple(s.shape) for s in states]
    ((2, 3, 6), (2, 3, 5), [(2, 8), (2, 6)])
    """

    def __init__(
        self, units, attentional_units, cell="gru", score="dot", attentional_norm=False, **kwargs
    ):
        super().__init__(**kwargs)
        owner = "InputFeedingDecoder: "
        self.units = check_positive_int("units", units, owner)
        self.attentional_units = check_positive_int("attentional_units", attentional_units, owner)
        self.cell = check_choice("cell", cell, CELLS, owner)
        self.score = check_choice("score", score, SCORES, owner)
        self.attentional_norm = check_bool("attentional_norm", attentional_norm, owner)
        self.supports_masking = True

        # === Layers ===
        self.recurrent = FUSED[cell](
            units, return_sequences=True, return_state=True, zero_output_for_mask=True,
            name="recurrent",
            dtype=self.dtype_policy,
        )  # fmt: skip
        self.attention = Attention(
            score=score, return_attention_weights=True, name="attention", dtype=self.dtype_policy
        )
        self.attentional, self.attentional_normalization = attentional_layers(
            attentional_units, attentional_norm, self.dtype_policy
        )

    @property
    def state_count(self):
        """How many state tensors a call returns: the cell's, then `h~`."""
        return STATES_PER_CELL[self.cell] + 1

    def first_attentional_vector(self, batch_size):
        """The `h~_0` the first step reads: zeros `(batch_size, attentional_units)`."""
        return ops.zeros((batch_size, self.attentional_units), self.compute_dtype)

    def build(self, embedded_shape, encoder_states_shape, initial_state_shape):
        self._check_ranks(embedded_shape, encoder_states_shape)
        batch = embedded_shape[0]
        self.recurrent.build((batch, None, embedded_shape[-1] + self.attentional_units))
        self.attention.build((batch, self.units), encoder_states_shape)
        self.attentional.build((batch, encoder_states_shape[-1] + self.units))
        if self.attentional_normalization is not None:
            self.attentional_normalization.build((batch, self.attentional_units))

    def _check_ranks(self, embedded_shape, encoder_states_shape):
        layout = "(batch, dec_len, embedding_dim)"
        checks.check_rank("InputFeedingDecoder", "embedded", embedded_shape, (3,), layout)
        layout = "(batch, enc_len, enc_units)"
        checks.check_rank(
            "InputFeedingDecoder", "encoder_states", encoder_states_shape, (3,), layout
        )

    def call(
        self, embedded, encoder_states, initial_state, encoder_states_mask=None, mask=None,
        training=False,
    ):  # fmt: skip
        states = list(initial_state)
        if len(states) not in (self.state_count - 1, self.state_count):
            raise ValueError(
                f"InputFeedingDecoder: `initial_state` must hold the {self.cell} cell's "
                f"{self.state_count - 1} state(s), optionally followed by the attentional "
                f"vector. Received: {len(states)} tensors"
            )
        if len(states) < self.state_count:
            states.append(self.first_attentional_vector(ops.shape(embedded)[0]))
        kernel = self.recurrent.cell.kernel
        width = embedded.shape[-1]
        # The embedding's part of the input projection, for all steps at once;
        # the fed-back vector's part is added inside the loop.
        projected = projected_inputs(self.recurrent, embedded, training, kernel=kernel[:width])
        fed_kernel = kernel[width:]

        def step(projected_t, states):
            *cell_states, fed = states
            hidden, cell_states = self.recurrent._step(
                projected_t + ops.matmul(fed, fed_kernel), cell_states
            )
            context, weights = self.attention(
                hidden, encoder_states, encoder_states_mask=encoder_states_mask
            )
            attentional = attentional_vector(
                self.attentional,
                self.attentional_normalization,
                ops.concatenate([context, hidden], axis=-1),
            )
            # One output per step: the vector, then the weights.
            return ops.concatenate([attentional, weights], axis=-1), [*cell_states, attentional]

        mask = first_mask(mask)
        if embedded.shape[1] == 1:
            # One step (decoding): no loop, whose buffer of outputs would have
            # an unknown width (the source length), which LiteRT cannot hold.
            outputs, new_states = step(projected[:, 0], states)
            outputs = ops.expand_dims(outputs, 1)
            if mask is not None:  # a masked step keeps the states
                real = ops.expand_dims(mask[:, 0], -1)
                new_states = [ops.where(real, new, old) for new, old in zip(new_states, states)]
            states = new_states
        else:
            _, outputs, states = recurrent_loop(self.recurrent, step, projected, states, mask)
        if mask is not None:  # the loop repeats the last output at masked steps
            outputs = outputs * ops.cast(ops.expand_dims(mask, -1), outputs.dtype)
        return (
            outputs[..., : self.attentional_units],
            outputs[..., self.attentional_units :],
            states,
        )

    def compute_mask(self, embedded, previous_mask=None):
        mask = first_mask(previous_mask)
        return [mask, mask, [None] * self.state_count]

    def compute_output_spec(self, embedded, encoder_states, initial_state, **kwargs):
        self._check_ranks(embedded.shape, encoder_states.shape)
        batch, steps = embedded.shape[0], embedded.shape[1]
        dtype = self.compute_dtype
        return (
            keras.KerasTensor((batch, steps, self.attentional_units), dtype),
            keras.KerasTensor((batch, steps, encoder_states.shape[1]), dtype),
            [keras.KerasTensor((batch, self.units), dtype)] * (self.state_count - 1)
            + [keras.KerasTensor((batch, self.attentional_units), dtype)],
        )

    def get_config(self):
        config = {
            "units": self.units,
            "attentional_units": self.attentional_units,
            "cell": self.cell,
            "score": self.score,
            "attentional_norm": self.attentional_norm,
        }
        return {**super().get_config(), **config}
