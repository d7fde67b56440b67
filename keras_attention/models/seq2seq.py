"""Seq2Seq: the functional encoder–decoder, with or without attention."""

import types

import keras
from keras import ops

from keras_attention.keras_internals import no_object_sharing
from keras_attention.layers import InputFeedingDecoder
from keras_attention.layers import TimeAttention
from keras_attention.layers.input_feeding import attentional_layers
from keras_attention.layers.input_feeding import attentional_vector
from keras_attention.layers.recurrent import FUSED
from keras_attention.layers.recurrent import STATES_PER_CELL
from keras_attention_cli.options import check_network
from keras_attention_cli.options import check_positive_int


@keras.saving.register_keras_serializable(package="keras_attention")
class Seq2Seq(keras.Model):
    """A functional encoder–decoder over token ids, trained with `model.fit`.

    Encoder: `Embedding(mask_zero=True)` → LSTM/GRU (optionally
    bidirectional, optionally reading the source backwards) over the source,
    keeping every state. Decoder:
    `Embedding(mask_zero=True)` → LSTM/GRU started from the encoder's final
    state, then, by `kind`:

    - `"attention"`: `TimeAttention(decoder_states, encoder_states)` →
      concatenate(context, decoder states) → `Dense` over the vocabulary;
    - `"peeky"` (the book's comparison model): the encoder's final hidden
      state is concatenated to every decoder input and to the `Dense` input;
    - `"plain"`: decoder states → `Dense`.

    With `attentional_units`, a `Dense(attentional_units, "tanh")` without
    bias comes between what is merged and the output `Dense`: for
    `"attention"`, Luong et al.'s (2015) attentional vector
    `tanh(W [context; state])`, so that the output layer reads a nonlinear
    mix of where the decoder looks and what it has output, not a sum of
    the two's separate logits. With `input_feeding` as well, the decoder
    is an `InputFeedingDecoder`: it attends inside its recurrent loop and
    reads that vector back at its next step, so it knows where it looked.

    Inputs are `[source_ids, decoder_ids]`, int `(batch, src_len)` and
    `(batch, dec_len)`, 0 for padding; the output is the next-token logits
    `(batch, dec_len, target_vocabulary_size)`. `encode` and `decode` run
    the two halves on their own, for decoding one step at a time.

    Its keyword defaults are the book's (a one-way LSTM, embedding 16); the
    package's recommended defaults, which `training.build_translator` and
    the `keras-attention` command use (a GRU read both ways), are
    the defaults of `keras_attention_cli.options.ModelConfig`.

    Args:
        source_vocabulary_size: int, number of source token ids.
        target_vocabulary_size: int, number of target token ids.
        kind: `"attention"`, `"peeky"` or `"plain"`. Defaults to
            `"attention"`.
        embedding_dim: int, embedding size. Defaults to `16`.
        units: int, hidden size of the encoder and the decoder. Defaults to
            `256`.
        cell: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        score: str, the `TimeAttention` score function (`kind="attention"`
            only). Defaults to `"dot"`.
        bidirectional: bool, whether the encoder reads both ways (each
            direction gets `units // 2`, so `units` must be even). Defaults
            to `False`.
        reverse_source: bool, whether the encoder reads the source from its
            last token to its first (the book reverses its inputs), so that
            its final state, which starts the decoder, has just read the
            source's beginning. Its states are put back in source order, so
            attention weights still index source positions. Defaults to
            `False`.
        encoder_layers: int, recurrent layers stacked in the encoder, each
            reading the states of the one below; the top one's final state
            starts the decoder. Defaults to `1`.
        dropout: float in [0, 1), the share of units dropped (in training
            only) from the embeddings, from every encoder layer's input and
            output, and from what the output layer reads. Defaults to `0.0`.
        attentional_units: int, the size of the tanh layer before the output
            layer; `0` (the book's model) for none. Defaults to `0`.
        attentional_norm: bool, whether that layer is
            `tanh(LayerNorm(W [context; state]))`: its pre-activations
            layer-normalised, so that they do not saturate the tanh (which,
            plain, stalls training on subword targets;
            `layers.input_feeding.attentional_layers`). Needs
            `attentional_units`. Defaults to `False`.
        input_feeding: bool, whether each decoder step reads the previous
            step's attentional vector (Luong et al. 2015; `kind="attention"`
            and `attentional_units` only): the decoder state then carries
            it too. Defaults to `False`.
        dtype: the dtype policy of every layer but the output `Dense`,
            which computes in float32 (e.g. `"mixed_bfloat16"`); saved in
            the config. Defaults to `None`: the global policy at
            construction.
        **kwargs: standard model arguments (`name`, ...).

    Example:

    >>> import numpy as np
    >>> model = Seq2Seq(20, 15, units=32)
    >>> logits = model.predict([np.array([[5, 6, 7, 0]]), np.array([[2, 8, 9]])], verbose=0)
    >>> logits.shape
    (1, 3, 15)
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        kind="attention",
        embedding_dim=16,
        units=256,
        cell="lstm",
        score="dot",
        bidirectional=False,
        reverse_source=False,
        encoder_layers=1,
        dropout=0.0,
        attentional_units=0,
        attentional_norm=False,
        input_feeding=False,
        dtype=None,
        **kwargs,
    ):
        network = check_network(
            "Seq2Seq: ", kind=kind, cell=cell, score=score, units=units,
            embedding_dim=embedding_dim, bidirectional=bidirectional,
            reverse_source=reverse_source, encoder_layers=encoder_layers, dropout=dropout,
            attentional_units=attentional_units, attentional_norm=attentional_norm,
            input_feeding=input_feeding,
        )  # fmt: skip
        (
            units, embedding_dim, encoder_layers, dropout, attentional_units, attentional_norm,
            input_feeding,
        ) = (
            network[name]
            for name in (
                "units", "embedding_dim", "encoder_layers", "dropout", "attentional_units",
                "attentional_norm", "input_feeding",
            )
        )  # fmt: skip
        source_vocabulary_size, target_vocabulary_size = (
            check_positive_int(name, value, owner="Seq2Seq: ")
            for name, value in [
                ("source_vocabulary_size", source_vocabulary_size),
                ("target_vocabulary_size", target_vocabulary_size),
            ]
        )
        rnn = FUSED[cell]
        # One dtype policy for every layer, kept in the config, so that a
        # model trained in mixed precision reloads in mixed precision.
        policy = (
            keras.dtype_policies.get(dtype) if dtype is not None else keras.config.dtype_policy()
        )

        # === Layers ===
        # Kept in a namespace until the model exists: on the torch backend
        # a layer is a torch Module, which cannot own sub-modules before
        # its own __init__. `_encode` and `_decode` read the same names from
        # the namespace now and from the model later.
        parts = types.SimpleNamespace(
            kind=kind,
            bidirectional=bidirectional,
            reverse_source=bool(reverse_source),
            input_feeding=input_feeding,
        )
        parts.source_embedding = keras.layers.Embedding(
            source_vocabulary_size,
            embedding_dim,
            mask_zero=True,
            name="source_embedding",
            dtype=policy,
        )

        def encoder_layer(name):
            if bidirectional:
                # Bidirectional copies its layer through Keras' serialization,
                # whose object sharing (open while a model loads) can hand it
                # another Bidirectional's layer: built outside it
                # (keras_internals).
                with no_object_sharing():
                    return keras.layers.Bidirectional(
                        rnn(units // 2, return_sequences=True, return_state=True, dtype=policy),
                        name=name,
                        dtype=policy,
                    )
            return rnn(units, return_sequences=True, return_state=True, name=name, dtype=policy)

        # The first layer keeps the name it had before layers could stack,
        # so models saved then still load.
        parts.encoder = encoder_layer("encoder")
        parts.upper_encoders = [encoder_layer(f"encoder_{n}") for n in range(2, encoder_layers + 1)]
        # One Dropout (it has no weights) on every embedding and recurrent
        # output, and on what the output layer reads.
        parts.dropout = (
            keras.layers.Dropout(dropout, name="dropout", dtype=policy) if dropout else None
        )
        parts.target_embedding = keras.layers.Embedding(
            target_vocabulary_size,
            embedding_dim,
            mask_zero=True,
            name="target_embedding",
            dtype=policy,
        )
        if input_feeding:  # attention and the attentional layer inside the decoder
            parts.decoder = InputFeedingDecoder(
                units, attentional_units, cell=cell, score=score,
                attentional_norm=attentional_norm, name="decoder", dtype=policy,
            )  # fmt: skip
            parts.attention = parts.concatenate = None
            parts.attentional = parts.attentional_normalization = None
        else:
            parts.decoder = rnn(
                units, return_sequences=True, return_state=True, name="decoder", dtype=policy
            )
            parts.attention = (
                TimeAttention(
                    score=score, return_attention_weights=True, name="attention", dtype=policy
                )
                if kind == "attention"
                else None
            )
            # Plain models join nothing (and an unused layer would stay unbuilt).
            parts.concatenate = (
                None if kind == "plain" else keras.layers.Concatenate(name="merge", dtype=policy)
            )
            # Plain models and the book's have no attentional layer.
            parts.attentional, parts.attentional_normalization = (
                attentional_layers(attentional_units, attentional_norm, policy)
                if attentional_units
                else (None, None)
            )
        parts.logits = keras.layers.Dense(
            # The output layer computes in float32 whatever the policy, as
            # Keras advises for mixed precision: with bfloat16 logits the
            # date task stalled near 90% exact match; with these it matches
            # float32 (benchmarks/seq2seq.py --part backends).
            target_vocabulary_size,
            name="logits",
            dtype="float32",
        )

        # === Functional Model ===
        source_ids = keras.Input((None,), dtype="int32", name="source_ids")
        decoder_ids = keras.Input((None,), dtype="int32", name="decoder_ids")
        logits, _, _ = _decode(parts, decoder_ids, _encode(parts, source_ids))
        kwargs.setdefault("name", f"{kind}_seq2seq")
        super().__init__(inputs=[source_ids, decoder_ids], outputs=logits, **kwargs)
        for name, value in vars(parts).items():
            setattr(self, name, value)

        # === Config ===
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.score = score
        self.encoder_layers = encoder_layers
        self.dropout_rate = dropout
        self.attentional_units = attentional_units
        self.attentional_norm = attentional_norm
        self.layers_dtype = policy.name

    @property
    def state_count(self):
        """How many tensors the decoder state holds: the cell's (an LSTM's
        hidden and cell states, a GRU's hidden state), then, with input
        feeding, the attentional vector."""
        return STATES_PER_CELL[self.cell] + int(self.input_feeding)

    def encode(self, source_ids):
        """Runs the encoder.

        Returns:
            A dict: `encoder_states` `(batch, src_len, units)`,
            `encoder_mask` `(batch, src_len)`, `states` (the decoder's
            initial state list) and `summary` (the final hidden state, which
            the peeky decoder sees at every step).
        """
        encoded = _encode(self, source_ids)
        if self.input_feeding:  # the state carries the vector the first step reads
            fed = self.decoder.first_attentional_vector(ops.shape(source_ids)[0])
            encoded["states"] = [*encoded["states"], fed]
        return encoded

    def decode(self, decoder_ids, encoded):
        """Runs the decoder over `decoder_ids` `(batch, dec_len)`.

        `encoded` is what `encode` returned, with `states` the decoder state
        to start from (the encoder's, or the last step's when decoding one
        step at a time).

        Returns:
            `(logits, states, attention_weights)`; the weights are `None`
            unless `kind="attention"`.
        """
        return _decode(self, decoder_ids, encoded)

    def get_config(self):
        return {
            "source_vocabulary_size": self.source_vocabulary_size,
            "target_vocabulary_size": self.target_vocabulary_size,
            "kind": self.kind,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "score": self.score,
            "bidirectional": self.bidirectional,
            "reverse_source": self.reverse_source,
            "encoder_layers": self.encoder_layers,
            "dropout": self.dropout_rate,
            "attentional_units": self.attentional_units,
            "attentional_norm": self.attentional_norm,
            "input_feeding": self.input_feeding,
            "dtype": self.layers_dtype,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _encode(parts, source_ids):
    """The encoder, on the layers of `parts` (a `Seq2Seq` or its namespace)."""
    mask = ops.not_equal(source_ids, 0)
    encoder_states = parts.source_embedding(source_ids)
    # Reversed, the padding comes first; the mask makes the recurrent
    # layers skip it, so the final state is the one after the first token.
    read_mask = ops.flip(mask, axis=1) if parts.reverse_source else mask
    if parts.reverse_source:
        encoder_states = ops.flip(encoder_states, axis=1)
    for encoder in [parts.encoder, *parts.upper_encoders]:
        outputs = encoder(_dropout(parts, encoder_states), mask=read_mask)
        encoder_states, final = outputs[0], list(outputs[1:])
    if parts.reverse_source:
        encoder_states = ops.flip(encoder_states, axis=1)
    encoder_states = _dropout(parts, encoder_states)
    if parts.bidirectional:
        half = len(final) // 2
        final = [
            ops.concatenate([forward, backward], axis=-1)
            for forward, backward in zip(final[:half], final[half:])
        ]
    return {
        "encoder_states": encoder_states,
        "encoder_mask": mask,
        "states": final,
        "summary": final[0],
    }


def _decode(parts, decoder_ids, encoded):
    """The decoder, on the layers of `parts` (a `Seq2Seq` or its namespace)."""
    embedded = _dropout(parts, parts.target_embedding(decoder_ids))
    if parts.input_feeding:
        features, attention_weights, states = parts.decoder(
            embedded,
            encoded["encoder_states"],
            encoded["states"],
            encoder_states_mask=encoded["encoder_mask"],
        )
        return parts.logits(_dropout(parts, features)), list(states), attention_weights
    if parts.kind == "peeky":
        embedded = parts.concatenate([embedded, _repeat_over_time(encoded["summary"], embedded)])
    outputs = parts.decoder(embedded, initial_state=encoded["states"])
    decoder_states, states = outputs[0], list(outputs[1:])
    attention_weights = None
    if parts.kind == "attention":
        context, attention_weights = parts.attention(
            decoder_states,
            encoded["encoder_states"],
            encoder_states_mask=encoded["encoder_mask"],
        )
        features = parts.concatenate([context, decoder_states])
    elif parts.kind == "peeky":
        features = parts.concatenate(
            [decoder_states, _repeat_over_time(encoded["summary"], decoder_states)]
        )
    else:
        features = decoder_states
    if parts.attentional is not None:
        features = attentional_vector(parts.attentional, parts.attentional_normalization, features)
    return parts.logits(_dropout(parts, features)), states, attention_weights


def _dropout(parts, tensor):
    return parts.dropout(tensor) if parts.dropout is not None else tensor


def _repeat_over_time(vector, sequence):
    """`vector` `(batch, units)` repeated along the time axis of `sequence`."""
    return ops.expand_dims(vector, 1) + ops.zeros_like(sequence[..., :1])
