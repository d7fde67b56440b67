"""The book's attention equations in plain numpy, forward and backward.

A transcription of "Deep Learning from Scratch 2", `ch08/attention_layer.py`
(argument order changed to ours: decoder states first), extended with the
other score functions and encoder masks in the most direct form, used as the
reference the Keras layers are checked against.
"""

import numpy as np


def softmax(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)


def masked_softmax(scores, encoder_mask):
    """Softmax over unmasked positions; an all-masked row gives zeros."""
    weights = np.zeros_like(scores)
    for index in np.ndindex(scores.shape[:-1]):
        keep = encoder_mask[index[0]].astype(bool)
        if keep.any():
            weights[index][keep] = softmax(scores[index][keep])
    return weights


def attention_weight_forward(h, hs):
    """Book: `AttentionWeight.forward(hs, h)`; h (N, H), hs (N, T, H)."""
    hr = h[:, np.newaxis, :]
    scores = np.sum(hs * hr, axis=2)
    return softmax(scores)


def attention_weight_backward(da, h, hs):
    a = attention_weight_forward(h, hs)
    # Softmax.backward
    dx = a * da
    ds = dx - a * dx.sum(axis=1, keepdims=True)
    dt = np.repeat(ds[:, :, np.newaxis], hs.shape[2], axis=2)
    dhs = dt * h[:, np.newaxis, :]
    dh = np.sum(dt * hs, axis=1)
    return dh, dhs


def weight_sum_forward(a, hs):
    """Book: `WeightSum.forward(hs, a)`; a (N, T), hs (N, T, H)."""
    return np.sum(hs * a[:, :, np.newaxis], axis=1)


def weight_sum_backward(dc, a, hs):
    dt = np.repeat(dc[:, np.newaxis, :], hs.shape[1], axis=1)
    da = np.sum(dt * hs, axis=2)
    dhs = dt * a[:, :, np.newaxis]
    return da, dhs


def attention_forward(h, hs):
    a = attention_weight_forward(h, hs)
    return weight_sum_forward(a, hs), a


def attention_backward(dc, h, hs):
    a = attention_weight_forward(h, hs)
    da, dhs0 = weight_sum_backward(dc, a, hs)
    dh, dhs1 = attention_weight_backward(da, h, hs)
    return dh, dhs0 + dhs1


def time_attention_forward(hs_dec, hs_enc):
    """Book: `TimeAttention.forward(hs_enc, hs_dec)`: a loop over steps."""
    steps = [attention_forward(hs_dec[:, t], hs_enc) for t in range(hs_dec.shape[1])]
    context = np.stack([c for c, _ in steps], axis=1)
    weights = np.stack([a for _, a in steps], axis=1)
    return context, weights


def time_attention_backward(dout, hs_dec, hs_enc):
    dhs_enc = np.zeros_like(hs_enc)
    dhs_dec = np.zeros_like(hs_dec)
    for t in range(hs_dec.shape[1]):
        dh, dhs = attention_backward(dout[:, t], hs_dec[:, t], hs_enc)
        dhs_enc += dhs
        dhs_dec[:, t] = dh
    return dhs_dec, dhs_enc


def scores(score, h, hs, **weights):
    """Scores (N, D, T) for h (N, D, H_dec) and hs (N, T, H_enc)."""
    if score == "dot":
        return np.einsum("ndh,nth->ndt", h, hs)
    if score == "scaled_dot":
        return np.einsum("ndh,nth->ndt", h, hs) / np.sqrt(hs.shape[-1])
    if score == "general":
        return np.einsum("ndh,hk,ntk->ndt", h, weights["kernel"], hs)
    if score == "cosine":
        hn = h / np.linalg.norm(h, axis=-1, keepdims=True)
        hsn = hs / np.linalg.norm(hs, axis=-1, keepdims=True)
        return np.einsum("ndh,nth->ndt", hn, hsn) * weights["inverse_temperature"]
    if score == "additive":
        query = h @ weights["decoder_kernel"]
        keys = hs @ weights["encoder_kernel"]
        hidden = np.tanh(query[:, :, np.newaxis, :] + keys[:, np.newaxis, :, :])
        return hidden @ weights["score_vector"]
    raise ValueError(score)
