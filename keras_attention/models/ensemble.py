"""Ensemble: several Seq2Seq models over the same vocabularies, decoded together."""

import keras
from keras import ops

from keras_attention.models.seq2seq import Seq2Seq


@keras.saving.register_keras_serializable(package="keras_attention")
class Ensemble(keras.Model):
    """Seq2Seq models trained apart, predicting together.

    At every decoder step each member gives log-probabilities of the next
    token; the ensemble's output is their mean, a log of the members'
    normalised geometric mean once a softmax is taken (as the decoding
    loop does). Members trained from different seeds make different
    mistakes, and the mean keeps what they agree on (Sutskever et al. 2014
    decoded with five LSTMs so); `docs/g2p.md` measures what two members
    gain on CMUdict grapheme-to-phoneme.

    It has the interface of a `Seq2Seq` that decoding uses: `encode` and
    `decode` (so `decoding.decode`, `Translator`, the SavedModel export and
    the attention heatmap take it as they take one model), `source_` and
    `target_vocabulary_size`, and a call on `[source_ids, decoder_ids]`
    returning the mean log-probabilities `(batch, dec_len, vocabulary)`.
    Its attention weights are the mean of its attending members'.

    Args:
        members: list of `Seq2Seq`, at least one, with equal source and
            target vocabulary sizes (trained on the same vocabularies).
        **kwargs: standard model arguments (`name`, ...).

    Example:

    >>> import numpy as np
    >>> ensemble = Ensemble([Seq2Seq(20, 15, units=8), Seq2Seq(20, 15, units=8, cell="gru")])
    >>> ensemble.predict([np.array([[5, 6, 7, 0]]), np.array([[2, 8, 9]])], verbose=0).shape
    (1, 3, 15)
    """

    def __init__(self, members, **kwargs):
        members = _validate(members)
        kwargs.setdefault("name", "ensemble")
        super().__init__(**kwargs)
        self.members = members
        self.source_vocabulary_size = members[0].source_vocabulary_size
        self.target_vocabulary_size = members[0].target_vocabulary_size
        self._state_counts = [member.state_count for member in members]
        self.built = True  # every member is a built functional model

    @property
    def kind(self):
        """`"attention"` when any member attends, else the first member's kind."""
        kinds = {member.kind for member in self.members}
        return "attention" if "attention" in kinds else self.members[0].kind

    def call(self, inputs):
        source_ids, decoder_ids = inputs
        log_probs, _, _ = self.decode(decoder_ids, self.encode(source_ids))
        return log_probs

    def encode(self, source_ids):
        """Runs every member's encoder.

        Returns:
            A dict: `members` (each member's `encode` result without its
            `states`), `states` (every member's decoder state list, one
            after the other, as the decoding loop carries them) and
            `encoder_mask` `(batch, src_len)`.
        """
        encoded = [member.encode(source_ids) for member in self.members]
        return {
            "members": [
                {key: value for key, value in part.items() if key != "states"} for part in encoded
            ],
            "states": [state for part in encoded for state in part["states"]],
            "encoder_mask": encoded[0]["encoder_mask"],
        }

    def decode(self, decoder_ids, encoded):
        """Runs every member's decoder over `decoder_ids` `(batch, dec_len)`.

        `encoded` is what `encode` returned, with `states` the members'
        state lists one after the other.

        Returns:
            `(log_probs, states, attention_weights)`: the mean of the
            members' log-softmax outputs `(batch, dec_len, vocabulary)`
            (float32), their next states (one list, as in `encode`), and
            the mean of the attending members' weights (`None` when no
            member attends).
        """
        log_probs, states, weights, start = [], [], [], 0
        for member, part, count in zip(self.members, encoded["members"], self._state_counts):
            logits, member_states, member_weights = member.decode(
                decoder_ids, {**part, "states": encoded["states"][start : start + count]}
            )
            start += count
            log_probs.append(ops.log_softmax(ops.cast(logits, "float32"), axis=-1))
            states.extend(member_states)
            if member_weights is not None:
                weights.append(ops.cast(member_weights, "float32"))
        mean_weights = ops.mean(ops.stack(weights), axis=0) if weights else None
        return ops.mean(ops.stack(log_probs), axis=0), states, mean_weights

    def get_config(self):
        return {
            "members": [keras.saving.serialize_keras_object(member) for member in self.members],
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["members"] = [
            keras.saving.deserialize_keras_object(member) for member in config["members"]
        ]
        return cls(**config)


def _validate(members):
    if not isinstance(members, (list, tuple)) or not members:
        raise ValueError(
            f"Ensemble: `members` must be a non-empty list of Seq2Seq models. "
            f"Received: members={members!r}"
        )
    for index, member in enumerate(members):
        if not isinstance(member, Seq2Seq):
            raise ValueError(
                f"Ensemble: `members` must hold Seq2Seq models only; member {index} is a "
                f"{type(member).__name__}"
            )
    for side in ("source", "target"):
        sizes = [getattr(member, f"{side}_vocabulary_size") for member in members]
        if len(set(sizes)) > 1:
            raise ValueError(
                f"Ensemble: every member must have the same {side} vocabulary (they are decoded "
                f"together); their {side}_vocabulary_size values are {sizes}"
            )
    return list(members)
