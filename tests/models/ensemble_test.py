import keras
import numpy as np
import pytest

from keras_attention import decoding
from keras_attention.models import Ensemble
from keras_attention.models import Seq2Seq

SOURCE = np.array([[5, 6, 7, 0], [8, 0, 0, 0]], "int32")
DECODER = np.array([[2, 9, 10], [2, 11, 0]], "int32")


def log_softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def members():
    # Different cells (one state or two), directions and kinds: the
    # ensemble carries each member's states apart.
    return [
        Seq2Seq(20, 15, units=16, cell="lstm"),
        Seq2Seq(20, 15, units=8, cell="gru", bidirectional=True, score="scaled_dot"),
        Seq2Seq(20, 15, units=8, kind="plain"),
    ]


def test_the_output_is_the_mean_of_the_members_log_probabilities():
    parts = members()
    ensemble = Ensemble(parts)
    expected = np.mean(
        [log_softmax(m.predict([SOURCE, DECODER], verbose=0)) for m in parts], axis=0
    )
    np.testing.assert_allclose(
        ensemble.predict([SOURCE, DECODER], verbose=0), expected, rtol=1e-5, atol=1e-5
    )
    assert ensemble.count_params() == sum(m.count_params() for m in parts)
    assert ensemble.kind == "attention"


def test_an_ensemble_of_one_decodes_as_its_member_does():
    member = members()[0]
    for strategy in (decoding.GreedySearch(), decoding.BeamSearch(3, n_best=2)):
        alone = decoding.decode(member, SOURCE, 6, strategy)
        together = decoding.decode(Ensemble([member]), SOURCE, 6, strategy)
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(together["token_ids"]),
            keras.ops.convert_to_numpy(alone["token_ids"]),
        )
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(together["scores"]),
            keras.ops.convert_to_numpy(alone["scores"]),
            rtol=1e-5,
            atol=1e-5,
        )


def test_step_by_step_decoding_matches_the_whole_sequence_at_once():
    ensemble = Ensemble(members())
    whole = keras.ops.convert_to_numpy(ensemble([SOURCE, DECODER]))
    encoded = ensemble.encode(SOURCE)
    states = encoded["states"]
    for step in range(DECODER.shape[1]):
        log_probs, states, weights = ensemble.decode(
            DECODER[:, step : step + 1], {**encoded, "states": states}
        )
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(log_probs)[:, 0], whole[:, step], rtol=1e-4, atol=1e-5
        )
        # The mean of the two attending members' weights: still a distribution
        # over the source (a padding step attends to nothing).
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(weights)[:, 0].sum(-1),
            (DECODER[:, step] != 0).astype("float32"),
            rtol=1e-5,
        )


def test_save_and_load_give_the_same_outputs(tmp_path):
    ensemble = Ensemble(members())
    expected = ensemble.predict([SOURCE, DECODER], verbose=0)
    ensemble.save(tmp_path / "ensemble.keras")
    restored = keras.saving.load_model(tmp_path / "ensemble.keras", safe_mode=True)
    assert isinstance(restored, Ensemble) and len(restored.members) == 3
    np.testing.assert_array_equal(restored.predict([SOURCE, DECODER], verbose=0), expected)


@pytest.mark.parametrize(
    "bad, message",
    [
        ([], "`members` must be a non-empty list of Seq2Seq models. Received: members=[]"),
        (None, "Received: members=None"),
        ([Seq2Seq(20, 15, units=8), keras.layers.Dense(3)], "member 1 is a Dense"),
        (
            [Seq2Seq(20, 15, units=8), Seq2Seq(21, 15, units=8)],
            "the same source vocabulary (they are decoded together); their "
            "source_vocabulary_size values are [20, 21]",
        ),
        (
            [Seq2Seq(20, 15, units=8), Seq2Seq(20, 16, units=8)],
            "target_vocabulary_size values are [15, 16]",
        ),
    ],
)
def test_bad_members_are_refused(bad, message):
    with pytest.raises(ValueError, match=f"^Ensemble: .*{__import__('re').escape(message)}"):
        Ensemble(bad)
