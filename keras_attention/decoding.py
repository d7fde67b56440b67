"""Decoding: one loop inside the graph, several search strategies.

`dynamic_decode` is the one loop, a `keras.ops.while_loop` (a
`tf.while_loop` on TensorFlow, so a whole translation is one graph under
`tf.function` and in the exported SavedModel; `lax.while_loop` on JAX; a
Python loop on PyTorch). It takes a step function, which turns the last
tokens and the decoder state into log-probabilities of the next token, and
a strategy: `GreedySearch`, or `BeamSearch` with length normalisation and an
n-best list. Each strategy picks tokens with a `select` function the caller
can swap (TensorFlow's own `tf.argmax` for a LiteRT conversion, say). Every
buffer has a fixed shape, so the loop also traces with a fixed batch size.

`decode` runs it on a `Seq2Seq` with `model_step`; `greedy_decode` and
`beam_search_decode` are its two common cases. (The book's way, a Python
loop one question at a time, is `step_by_step_greedy`: the
reference the graph loop is tested and timed against.)
"""

import keras
import numpy as np
from keras import ops

from keras_attention.tokens import END_ID
from keras_attention.tokens import PAD_ID
from keras_attention.tokens import START_ID
from keras_attention_cli.options import check_decoding
from keras_attention_cli.options import hypotheses

# A finite stand-in for log(0): keeps beam scores free of inf and NaN.
IMPOSSIBLE = -1e9


def argmax_select(scores, k):
    """The index of the best score per row, `(batch, 1)` int32 (`k` is 1)."""
    return ops.expand_dims(ops.cast(ops.argmax(scores, axis=-1), "int32"), -1)


def top_k_select(scores, k):
    """The indices of the `k` best scores per row, best first, `(batch, k)` int32."""
    return ops.cast(ops.top_k(scores, k, sorted=True)[1], "int32")


class GreedySearch:
    """Takes the most likely token at every step.

    Args:
        select: function `(scores (batch, candidates), k) -> indices (batch,
            k)`, best first. Defaults to `argmax_select`.
    """

    beam_width = 1
    n_best = 1
    length_penalty = 0.0

    def __init__(self, select=argmax_select):
        self.select = select


class BeamSearch:
    """Keeps the `beam_width` best hypotheses per input at every step.

    Hypotheses are ranked by their normalised score, `log P(y) / len(y) **
    length_penalty` (`[END]` counted in the length), so that longer outputs
    are not penalised merely for having more factors below 1. A hypothesis
    ends at `[END]` and then carries on unchanged.

    Args:
        beam_width: int, hypotheses kept per input. Defaults to `5`.
        n_best: int or None, how many of them, best first, `dynamic_decode`
            returns; at most `beam_width`. Defaults to `None`: all
            `beam_width` (the one default, `options.DecodingConfig`'s).
        length_penalty: float >= 0, the exponent of the length in the
            normalised score (0: plain log-probability). Defaults to `1.0`.
        select: function `(scores (batch, candidates), k) -> indices (batch,
            k)`, best first. Defaults to `top_k_select`.
    """

    def __init__(self, beam_width=5, n_best=None, length_penalty=1.0, select=top_k_select):
        checked = check_decoding(beam_width, n_best, length_penalty)
        self.beam_width, self.length_penalty = checked["beam_width"], checked["length_penalty"]
        self.n_best = hypotheses(self.beam_width, checked["n_best"])
        self.select = select


def dynamic_decode(step_fn, initial_states, batch_size, source_length, max_length, strategy):
    """Runs `strategy` with `step_fn` for at most `max_length` steps.

    Args:
        step_fn: function `(tokens (rows,), states) -> (log_probs (rows,
            vocabulary), states, attention_weights (rows, source_length))`,
            where `rows` is `batch_size * strategy.beam_width` (hypothesis
            `k` of input `b` is row `b * beam_width + k`) and `states` is a
            list of `(rows, ...)` tensors.
        initial_states: the list of states of the first step, `(rows, ...)`.
        batch_size: int or scalar tensor, the number of inputs.
        source_length: int or scalar tensor, the last axis of the weights.
        max_length: int, the most output tokens (`[END]` included).
        strategy: `GreedySearch` or `BeamSearch`.

    Returns:
        A dict, hypotheses best first along axis 1, `n = strategy.n_best`,
        `steps` the number of steps run (at least 1):
        `token_ids` int32 `(batch, n, steps)` (0 after `[END]`),
        `attention_weights` float32 `(batch, n, steps, source_length)` (0
        after `[END]`), `scores` float32 `(batch, n)` (the sum of the
        tokens' log-probabilities) and `normalized_scores` float32
        `(batch, n)` (what the search ranks by).
    """
    beams = strategy.beam_width
    rows = batch_size * beams
    positions = ops.arange(max_length, dtype="int32")
    # Row of each input's first hypothesis, to turn beam numbers into rows.
    first_rows = ops.expand_dims(ops.arange(batch_size, dtype="int32") * beams, 1)

    def body(step, tokens, states, scores, lengths, finished, token_ids, weights):
        log_probs, states, step_weights = step_fn(tokens, states)
        vocabulary = ops.shape(log_probs)[-1]
        log_probs = ops.reshape(log_probs, (batch_size, beams, vocabulary))
        # An ended hypothesis carries on unchanged, through padding only.
        only_padding = ops.where(ops.arange(vocabulary) == PAD_ID, 0.0, IMPOSSIBLE)
        log_probs = ops.where(ops.expand_dims(finished, -1), only_padding, log_probs)
        candidate_scores = ops.expand_dims(scores, -1) + log_probs
        candidate_lengths = lengths + ops.cast(ops.logical_not(finished), "int32")
        normalized = candidate_scores
        if strategy.length_penalty:
            normalized = normalized / ops.expand_dims(
                ops.power(ops.cast(candidate_lengths, "float32"), strategy.length_penalty), -1
            )
        best = strategy.select(ops.reshape(normalized, (batch_size, -1)), beams)
        beam, next_tokens = ops.floor_divide(best, vocabulary), ops.mod(best, vocabulary)
        # Gathers from flattened tensors: a few plain ops a step, where
        # take_along_axis costs many on some backends.
        parents = ops.reshape(first_rows + beam, (rows,))
        flat_best = ops.reshape(first_rows * vocabulary + best, (rows,))
        scores = ops.reshape(
            ops.take(ops.reshape(candidate_scores, (-1,)), flat_best), (batch_size, beams)
        )
        lengths = ops.reshape(
            ops.take(ops.reshape(candidate_lengths, (-1,)), parents), (batch_size, beams)
        )
        ended = ops.reshape(ops.take(ops.reshape(finished, (-1,)), parents), (batch_size, beams))
        next_tokens = ops.where(ended, PAD_ID, next_tokens)
        finished = ops.logical_or(ended, next_tokens == END_ID)
        next_tokens = ops.reshape(next_tokens, (rows,))
        if beams > 1:  # with one hypothesis per input, rows never move
            states = [ops.take(state, parents, axis=0) for state in states]
            token_ids = ops.take(token_ids, parents, axis=0)
            weights = ops.take(weights, parents, axis=0)
            step_weights = ops.take(step_weights, parents, axis=0)
        # Written into fixed-size buffers with a one-hot of the step: shapes
        # stay fixed (as JAX's loop requires) and only plain ops are used.
        at_step = ops.cast(positions == step, "int32")
        token_ids = token_ids + at_step[None, :] * next_tokens[:, None]
        real = ops.cast(next_tokens != PAD_ID, "float32")[:, None, None]
        weights = (
            weights + real * ops.cast(at_step, "float32")[None, :, None] * step_weights[:, None, :]
        )
        return step + 1, next_tokens, states, scores, lengths, finished, token_ids, weights

    def not_finished(step, tokens, states, scores, lengths, finished, token_ids, weights):
        # Always one step, so that even an empty batch has an output shape.
        return ops.logical_and(
            step < max_length, ops.logical_or(step == 0, ops.logical_not(ops.all(finished)))
        )

    # Only the first hypothesis is alive at the start, so the beams differ.
    first_scores = ops.where(ops.arange(beams) == 0, 0.0, IMPOSSIBLE)[None, :] + ops.zeros(
        (batch_size, 1)
    )
    steps, _, _, scores, lengths, _, token_ids, weights = ops.while_loop(
        not_finished,
        body,
        (
            ops.convert_to_tensor(0, "int32"),
            ops.full((rows,), START_ID, "int32"),
            list(initial_states),
            first_scores,
            ops.zeros((batch_size, beams), "int32"),
            ops.zeros((batch_size, beams), "bool"),
            ops.zeros((rows, max_length), "int32"),
            ops.zeros((rows, max_length, source_length), "float32"),
        ),
    )
    n = strategy.n_best
    normalized = scores
    if strategy.length_penalty:
        normalized = scores / ops.power(
            ops.cast(ops.maximum(lengths, 1), "float32"), strategy.length_penalty
        )
    token_ids = ops.reshape(token_ids, (batch_size, beams, max_length))
    weights = ops.reshape(weights, (batch_size, beams, max_length, source_length))
    return {
        "token_ids": token_ids[:, :n, :steps],
        "attention_weights": weights[:, :n, :steps],
        "scores": scores[:, :n],
        "normalized_scores": normalized[:, :n],
    }


def model_step(model, tokens, encoded, states):
    """One decoder step of a `Seq2Seq`, the step function of `decode`.

    Args:
        model: a `Seq2Seq`.
        tokens: int `(rows,)`, the last output tokens (`[START]` first).
        encoded: what `model.encode` returned, repeated to `rows` rows.
        states: the decoder state list, `(rows, units)` each.

    Returns:
        `(log_probs, states, attention_weights)`: float32 `(rows,
        vocabulary)` with padding and `[START]` impossible, the next states,
        and float32 `(rows, src_len)` (zeros for models without attention).
    """
    logits, states, weights = model.decode(
        ops.expand_dims(tokens, 1), {**encoded, "states": states}
    )
    logits = ops.cast(logits[:, -1], "float32")
    # Padding and [START] are never outputs: a padding token fed back would
    # be masked out of the decoder, and [START] only ever begins a sequence.
    vocabulary = ops.arange(ops.shape(logits)[-1])
    never_output = ops.logical_or(vocabulary == PAD_ID, vocabulary == START_ID)
    log_probs = ops.log_softmax(ops.where(never_output[None, :], IMPOSSIBLE, logits), axis=-1)
    if weights is None:  # plain and peeky models attend to nothing
        weights = ops.zeros_like(ops.cast(encoded["encoder_mask"], "float32"))[:, None]
    return log_probs, states, ops.cast(weights[:, -1], "float32")


def decode(model, source_ids, max_length, strategy=None):
    """Decodes a batch with a `Seq2Seq` and `strategy` (default greedy).

    Args:
        model: a `Seq2Seq`.
        source_ids: int tensor `(batch, src_len)`, 0 for padding.
        max_length: int, the most output tokens (`[END]` included).
        strategy: `GreedySearch` or `BeamSearch`. Defaults to greedy.

    Returns:
        What `dynamic_decode` returns.
    """
    strategy = strategy or GreedySearch()
    source_ids = ops.cast(source_ids, "int32")
    encoded = model.encode(source_ids)
    if strategy.beam_width > 1:
        encoded = keras.tree.map_structure(
            lambda t: ops.repeat(t, strategy.beam_width, axis=0), encoded
        )

    def step_fn(tokens, states):
        return model_step(model, tokens, encoded, states)

    return dynamic_decode(
        step_fn,
        encoded["states"],
        ops.shape(source_ids)[0],
        ops.shape(source_ids)[1],
        max_length,
        strategy,
    )


def greedy_decode(model, source_ids, max_length):
    """Greedy decoding of a batch, stopping at `[END]` or `max_length` steps.

    Returns:
        `(token_ids, attention_weights)`: int32 `(batch, out_len)` (0 after
        `[END]`) and float32 `(batch, out_len, src_len)`, where `out_len` is
        the number of steps run (at least 1).
    """
    decoded = decode(model, source_ids, max_length, GreedySearch())
    return decoded["token_ids"][:, 0], decoded["attention_weights"][:, 0]


def beam_search_decode(model, source_ids, max_length, beam_width=5):
    """Beam search of width `beam_width` (see `BeamSearch`).

    Returns:
        `(token_ids, attention_weights)` of the best hypothesis, as in
        `greedy_decode`.
    """
    decoded = decode(model, source_ids, max_length, BeamSearch(beam_width))
    return decoded["token_ids"][:, 0], decoded["attention_weights"][:, 0]


def step_by_step_greedy(model, source_ids, max_length):
    """The book's decoding: one question at a time, a Python loop over steps.

    Eager and slow by design: the reference that `greedy_decode`'s graph
    loop is tested and timed against (`benchmarks/seq2seq.py`). It returns
    what `greedy_decode` must, row by row.

    Returns:
        A list of int32 numpy arrays, one per question, ending at `[END]`.
    """
    outputs = []
    for row in np.asarray(source_ids):
        encoded = model.encode(ops.convert_to_tensor(row[np.newaxis], "int32"))
        states, token, output = encoded["states"], START_ID, []
        for _ in range(max_length):
            log_probs, states, _ = model_step(
                model, ops.convert_to_tensor([token], "int32"), encoded, states
            )
            token = int(np.argmax(ops.convert_to_numpy(log_probs)[0]))
            output.append(token)
            if token == END_ID:
                break
        outputs.append(np.array(output, np.int32))
    return outputs
