"""FusedGRU and FusedLSTM: Keras' GRU and LSTM with every step's input
projection done before the recurrent loop, as one matmul.

`keras.layers.GRU` and `LSTM`, away from cuDNN, multiply each step's input
by the input kernel inside the loop: one small matmul per step, forward and
backward. The input projection does not depend on the state, so cuDNN does
it for all steps at once; these layers do the same with `keras.ops` (so on
every backend): `x @ kernel + input_bias` over the whole sequence, then a
loop (the backend's, as Keras' layers run it) that only adds the state's
projection. Same weights,
same config, same outputs and gradients as Keras' layers (tests compare
them, with masks, both ways, on three backends); drop-in replacements.

Not supported: `recurrent_dropout` (it would need a mask inside the loop)
and `unroll`, which are refused when the layer is made.
"""

import keras
from keras import ops

from keras_attention.keras_internals import recurrent_loop


def _check_supported(layer):
    for name in ("recurrent_dropout", "unroll"):
        if getattr(layer, name):
            raise ValueError(
                f"{type(layer).__name__}: `{name}` is not supported (use keras.layers."
                f"{type(layer).__name__[len('Fused') :]} for it). Received: "
                f"{name}={getattr(layer, name)!r}"
            )


def projected_inputs(layer, sequences, training=False, kernel=None):
    """`sequences @ kernel + input_bias` `(batch, time, gates * units)`, with
    the cell's input dropout (one mask for all steps, as Keras' cell).
    `kernel` defaults to the cell's; a layer that adds other inputs inside
    the loop passes the rows of its kernel that `sequences` meets."""
    cell = layer.cell
    if training and 0.0 < cell.dropout < 1.0:
        sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
    projected = ops.matmul(sequences, cell.kernel if kernel is None else kernel)
    input_bias = _input_bias(cell)
    return projected if input_bias is None else projected + input_bias


def _input_bias(cell):
    if not cell.use_bias:
        return None
    # A GRU with `reset_after` keeps two biases (input, recurrent) as rows.
    return cell.bias[0] if len(cell.bias.shape) == 2 else cell.bias


class _InputProjectedLoop:
    """What the two layers share: the refusals, the projection before the
    loop, and the loop over `_step(projected_t, states)`, which each layer
    defines with its cell's weights."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        _check_supported(self)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        projected = projected_inputs(self, sequences, training)
        return recurrent_loop(self, self._step, projected, _states(initial_state), first_mask(mask))


@keras.saving.register_keras_serializable(package="keras_attention")
class FusedGRU(_InputProjectedLoop, keras.layers.GRU):
    """`keras.layers.GRU` with the input projection of all steps as one
    matmul before the loop. Takes `keras.layers.GRU`'s arguments, except
    `recurrent_dropout` and `unroll`.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    >>> fused = FusedGRU(4, return_sequences=True)
    >>> plain = keras.layers.GRU(4, return_sequences=True)
    >>> _ = fused(x), plain(x)
    >>> plain.set_weights(fused.get_weights())
    >>> float(keras.ops.max(keras.ops.abs(fused(x) - plain(x)))) < 1e-6
    True
    """

    def _step(self, x, states):
        cell, (h,) = self.cell, states
        x_z, x_r, x_h = ops.split(x, 3, axis=-1)
        if cell.reset_after:
            inner = ops.matmul(h, cell.recurrent_kernel)
            if cell.use_bias:
                inner = inner + cell.bias[1]  # the recurrent bias
            inner_z, inner_r, inner_h = ops.split(inner, 3, axis=-1)
            z = cell.recurrent_activation(x_z + inner_z)
            r = cell.recurrent_activation(x_r + inner_r)
            candidate = cell.activation(x_h + r * inner_h)
        else:
            units = cell.units
            inner = ops.matmul(h, cell.recurrent_kernel[:, : 2 * units])
            inner_z, inner_r = ops.split(inner, 2, axis=-1)
            z = cell.recurrent_activation(x_z + inner_z)
            r = cell.recurrent_activation(x_r + inner_r)
            candidate = cell.activation(
                x_h + ops.matmul(r * h, cell.recurrent_kernel[:, 2 * units :])
            )
        h = z * h + (1 - z) * candidate
        return h, [h]


@keras.saving.register_keras_serializable(package="keras_attention")
class FusedLSTM(_InputProjectedLoop, keras.layers.LSTM):
    """`keras.layers.LSTM` with the input projection of all steps as one
    matmul before the loop. Takes `keras.layers.LSTM`'s arguments, except
    `recurrent_dropout` and `unroll`."""

    def _step(self, x, states):
        cell, (h, c) = self.cell, states
        gates = x + ops.matmul(h, cell.recurrent_kernel)
        i, f, candidate, o = ops.split(gates, 4, axis=-1)
        activate = cell.recurrent_activation
        c = activate(f) * c + activate(i) * cell.activation(candidate)
        h = activate(o) * cell.activation(c)
        return h, [h, c]


# The fused layer of each of `options.CELLS`, and the states it carries
# (an LSTM its hidden and cell states, a GRU its hidden state).
FUSED = {"lstm": FusedLSTM, "gru": FusedGRU}
STATES_PER_CELL = {"lstm": 2, "gru": 1}


def _states(initial_state):
    return list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]


def first_mask(mask):
    """The mask of the first input, when Keras passes one per input."""
    return mask[0] if isinstance(mask, (list, tuple)) else mask
