"""Greedy and beam-search decoding as loops inside the graph.

Greedy decoding (`greedy_decode`) is written with `keras.ops` and runs on
every backend: a `keras.ops.while_loop`, which is a `tf.while_loop` on
TensorFlow (so the whole translation runs as one graph under `tf.function`
and in the exported SavedModel), a `lax.while_loop` on JAX and a Python loop
on PyTorch. Beam search (`beam_search_decode`) is TensorFlow's. 
`step_by_step_greedy` is the book's way (a Python loop, one question at a
time), kept as the reference that the graph decoders are checked and timed
against.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_attention.layers.checks import check_positive_int
from keras_attention.text.vectorizer import END_ID
from keras_attention.text.vectorizer import PAD_ID
from keras_attention.text.vectorizer import START_ID

# A finite stand-in for log(0): keeps beam scores free of inf and NaN.
_IMPOSSIBLE = -1e9


def _step(model, tokens, encoded, states):
    """One decoder step: `tokens` `(batch,)` → log-probs, states, weights."""
    logits, states, weights = model.decode(ops.expand_dims(tokens, 1), {**encoded, "states": states})
    logits = ops.cast(logits[:, -1], "float32")
    # Padding and [START] are never outputs: a padding token fed back would
    # be masked out of the decoder, and [START] only ever begins a sequence.
    vocabulary = ops.arange(ops.shape(logits)[-1])
    never_output = ops.logical_or(vocabulary == PAD_ID, vocabulary == START_ID)
    log_probs = ops.log_softmax(ops.where(never_output[None, :], _IMPOSSIBLE, logits), axis=-1)
    if weights is None:  # plain and peeky models attend to nothing
        weights = ops.zeros_like(ops.cast(encoded["encoder_mask"], "float32"))[:, None]
    return log_probs, states, ops.cast(weights[:, -1], "float32")


def greedy_decode(model, source_ids, max_length):
    """Greedy decoding of a batch, stopping at `[END]` or `max_length` steps.

    Args:
        model: a `Seq2Seq`.
        source_ids: int tensor `(batch, src_len)`, 0 for padding.
        max_length: int, the most output tokens (`[END]` included).

    Returns:
        `(token_ids, attention_weights)`: int32 `(batch, out_len)` (0 after
        `[END]`) and float32 `(batch, out_len, src_len)`, where `out_len` is
        the number of steps run (at least 1).
    """
    source_ids = ops.cast(source_ids, "int32")
    encoded = model.encode(source_ids)
    batch, src_len = ops.shape(source_ids)[0], ops.shape(source_ids)[1]
    positions = ops.arange(max_length, dtype="int32")

    def body(step, tokens, states, done, token_ids, weights):
        log_probs, states, step_weights = _step(model, tokens, encoded, states)
        next_tokens = ops.where(done, PAD_ID, ops.cast(ops.argmax(log_probs, axis=-1), "int32"))
        # Written into fixed-size buffers with a one-hot of the step: shapes
        # stay fixed (as JAX's loop requires) and only plain ops are used.
        at_step = ops.cast(positions == step, "int32")
        token_ids = token_ids + at_step[None, :] * next_tokens[:, None]
        weights = weights + ops.cast(at_step, "float32")[None, :, None] * step_weights[:, None, :]
        return step + 1, next_tokens, states, ops.logical_or(done, next_tokens == END_ID), token_ids, weights

    def not_finished(step, tokens, states, done, token_ids, weights):
        # Always one step, so that even an empty batch has an output shape.
        return ops.logical_and(step < max_length, ops.logical_or(step == 0, ops.logical_not(ops.all(done))))

    steps, _, _, _, token_ids, weights = ops.while_loop(
        not_finished, body,
        (
            ops.convert_to_tensor(0, "int32"), ops.full((batch,), START_ID, "int32"),
            encoded["states"], ops.zeros((batch,), "bool"),
            ops.zeros((batch, max_length), "int32"), ops.zeros((batch, max_length, src_len), "float32"),
        ),
    )
    return token_ids[:, :steps], weights[:, :steps]


def beam_search_decode(model, source_ids, max_length, beam_width=5, length_penalty=1.0):
    """Beam search over a batch, with length normalisation.

    Keeps the `beam_width` best hypotheses per input, ranked by
    `log P(y) / len(y) ** length_penalty` (`[END]` counted), so that longer
    outputs are not penalised merely for having more factors below 1. A
    hypothesis ends at `[END]`; search stops when every one has ended or at
    `max_length` steps.

    Returns:
        `(token_ids, attention_weights)` of the best hypothesis, as in
        `greedy_decode`.
    """
    check_positive_int("beam_width", beam_width)
    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            "beam_search_decode runs on the TensorFlow backend (it is what the SavedModel "
            f"serves); the backend is {keras.backend.backend()!r}. greedy_decode runs on every backend."
        )
    source_ids = tf.cast(source_ids, tf.int32)
    batch, k = tf.shape(source_ids)[0], beam_width
    src_len = tf.shape(source_ids)[1]
    encoded = model.encode(source_ids)
    encoded = tf.nest.map_structure(lambda t: tf.repeat(t, k, axis=0), encoded)

    def reorder(tensor, beam_indices):
        """Gathers `(batch * k, ...)` rows by the chosen beams `(batch, k)`."""
        shaped = tf.reshape(tensor, tf.concat([[batch, k], tf.shape(tensor)[1:]], 0))
        return tf.reshape(tf.gather(shaped, beam_indices, batch_dims=1), tf.shape(tensor))

    def body(step, tokens, states, scores, lengths, finished, sequences, weights):
        log_probs, states, step_weights = _step(model, tf.reshape(tokens, [-1]), encoded, states)
        vocabulary = tf.shape(log_probs)[-1]
        log_probs = tf.reshape(log_probs, [batch, k, vocabulary])
        # An ended hypothesis carries on unchanged, through padding only.
        only_padding = tf.one_hot(PAD_ID, vocabulary, on_value=0.0, off_value=_IMPOSSIBLE)
        log_probs = tf.where(finished[..., tf.newaxis], only_padding, log_probs)
        candidate_scores = scores[..., tf.newaxis] + log_probs
        candidate_lengths = lengths + tf.cast(~finished, tf.int32)
        normalised = candidate_scores / tf.pow(
            tf.cast(candidate_lengths, tf.float32), length_penalty
        )[..., tf.newaxis]
        _, best = tf.math.top_k(tf.reshape(normalised, [batch, -1]), k=k)
        beam_indices, next_tokens = best // vocabulary, best % vocabulary
        scores = tf.gather(tf.reshape(candidate_scores, [batch, -1]), best, batch_dims=1)
        lengths = tf.gather(candidate_lengths, beam_indices, batch_dims=1)
        finished = tf.gather(finished, beam_indices, batch_dims=1)
        next_tokens = tf.where(finished, PAD_ID, next_tokens)
        finished = finished | (next_tokens == END_ID)
        states = [reorder(state, beam_indices) for state in states]
        sequences = tf.concat(
            [tf.gather(sequences, beam_indices, batch_dims=1), next_tokens[..., tf.newaxis]], axis=2
        )
        step_weights = tf.reshape(step_weights, [batch, k, 1, src_len])
        weights = tf.concat(
            [tf.gather(weights, beam_indices, batch_dims=1), step_weights], axis=2
        )
        return step + 1, next_tokens, states, scores, lengths, finished, sequences, weights

    def not_finished(step, tokens, states, scores, lengths, finished, sequences, weights):
        return (step < max_length) & ~tf.reduce_all(finished)

    # Only the first beam is alive at the start, so the k beams differ.
    first_scores = tf.tile(
        tf.concat([[0.0], tf.fill([k - 1], _IMPOSSIBLE)], 0)[tf.newaxis], [batch, 1]
    )
    loop_vars = (
        tf.constant(0), tf.fill([batch, k], START_ID), encoded["states"], first_scores,
        tf.zeros([batch, k], tf.int32), tf.zeros([batch, k], tf.bool),
        tf.zeros([batch, k, 0], tf.int32), tf.zeros([batch, k, 0, src_len], tf.float32),
    )
    invariants = (
        tf.TensorShape([]), tf.TensorShape([None, None]),
        [tf.TensorShape([None, s.shape[-1]]) for s in encoded["states"]],
        tf.TensorShape([None, None]), tf.TensorShape([None, None]), tf.TensorShape([None, None]),
        tf.TensorShape([None, None, None]), tf.TensorShape([None, None, None, None]),
    )
    *_, sequences, weights = tf.while_loop(
        not_finished, body, loop_vars, shape_invariants=invariants
    )
    # Beams are kept sorted by normalised score: the first is the best.
    return sequences[:, 0], weights[:, 0]


def step_by_step_greedy(model, source_ids, max_length):
    """The book's decoding: one question at a time, a Python loop over steps.

    Eager and slow by design; the reference for `greedy_decode`. Runs on
    every backend.

    Returns:
        A list of int32 numpy arrays, one per question, ending at `[END]`.
    """
    outputs = []
    for row in np.asarray(source_ids):
        encoded = model.encode(ops.convert_to_tensor(row[np.newaxis], "int32"))
        states, token, output = encoded["states"], START_ID, []
        for _ in range(max_length):
            log_probs, states, _ = _step(model, ops.convert_to_tensor([token], "int32"), encoded, states)
            token = int(np.argmax(ops.convert_to_numpy(log_probs)[0]))
            output.append(token)
            if token == END_ID:
                break
        outputs.append(np.array(output, np.int32))
    return outputs
