import keras
import numpy as np
import pytest

from keras_attention.models import Seq2Seq

SOURCE = np.array([[5, 6, 7, 0], [8, 0, 0, 0]], "int32")
DECODER = np.array([[2, 9, 10], [2, 11, 0]], "int32")


@pytest.mark.parametrize("kind", ["attention", "peeky", "plain"])
@pytest.mark.parametrize("cell, bidirectional", [("lstm", False), ("gru", True)])
def test_every_kind_builds_trains_and_reloads(kind, cell, bidirectional, tmp_path):
    model = Seq2Seq(20, 15, kind=kind, units=16, embedding_dim=8, cell=cell, bidirectional=bidirectional)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    history = model.fit([SOURCE, DECODER], np.roll(DECODER, -1, 1), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    logits = model.predict([SOURCE, DECODER], verbose=0)
    assert logits.shape == (2, 3, 15)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert isinstance(restored, Seq2Seq) and restored.get_config() == model.get_config()
    np.testing.assert_array_equal(restored.predict([SOURCE, DECODER], verbose=0), logits)


def test_source_padding_does_not_change_the_logits():
    model = Seq2Seq(20, 15, units=16)
    logits = model.predict([SOURCE, DECODER], verbose=0)
    longer = model.predict([np.pad(SOURCE, ((0, 0), (0, 6))), DECODER], verbose=0)
    np.testing.assert_allclose(longer, logits, rtol=1e-5, atol=1e-6)


def test_one_step_decoding_matches_the_full_decoder():
    model = Seq2Seq(20, 15, units=16, cell="lstm")
    full = keras.ops.convert_to_numpy(model([SOURCE[:1], DECODER[:1]]))
    encoded = model.encode(SOURCE[:1])
    for step in range(DECODER.shape[1]):
        logits, states, weights = model.decode(DECODER[:1, step : step + 1], encoded)
        encoded = {**encoded, "states": states}
        np.testing.assert_allclose(keras.ops.convert_to_numpy(logits)[:, 0], full[:, step], rtol=1e-5, atol=1e-5)
    assert tuple(weights.shape) == (1, 1, 4)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"kind": "transformer"}, "Received: kind='transformer'"),
        ({"cell": "rnn"}, "Received: cell='rnn'"),
        ({"score": "luong"}, "Received: score='luong'"),
        ({"units": 0}, "Received: units=0"),
        ({"bidirectional": True, "units": 15}, "must be even. Received: units=15"),
    ],
)
def test_bad_arguments_fail_clearly(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        Seq2Seq(20, 15, **kwargs)
    assert fragment in str(info.value)


def test_a_mixed_precision_model_reloads_in_mixed_precision(tmp_path):
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = Seq2Seq(20, 15, units=16)
    keras.config.set_dtype_policy("float32")  # loading must not depend on it
    assert model.get_config()["dtype"] == "mixed_bfloat16"
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert {layer.dtype_policy.name for layer in restored.layers[2:-1]} == {"mixed_bfloat16"}
    assert restored.get_layer("logits").dtype_policy.name == "float32"
    logits = restored.predict([SOURCE, DECODER], verbose=0)
    np.testing.assert_array_equal(logits, model.predict([SOURCE, DECODER], verbose=0))
