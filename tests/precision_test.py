import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (the SavedModel's ops)

from keras_attention.data.generators import date_pairs
from keras_attention.translator import Translator
from keras_attention_cli import main as cli
from keras_attention_cli.tsv import write_pairs
from tests.training_log import logged_losses

pytestmark = pytest.mark.tensorflow_only


# mixed_float16 (loss scaling) is covered layer by layer in tests/layers;
# bfloat16 is what a CPU trains in.
@pytest.mark.parametrize("precision", ["mixed_bfloat16"])
def test_train_in_mixed_precision_saves_serves_and_reloads(tmp_path, precision):
    write_pairs(tmp_path / "train.tsv", date_pairs(400, seed=1))
    out = tmp_path / "model"
    assert (
        cli.main(
            [
                "train",
                "--data",
                str(tmp_path / "train.tsv"),
                "--out",
                str(out),
                "--epochs",
                "2",
                "--units",
                "16",
                "--embedding-dim",
                "8",
                "--batch-size",
                "32",
                "--precision",
                precision,
            ]
        )
        == 0
    )
    losses = logged_losses(out)
    assert len(losses) == 2 and np.isfinite(losses).all() and losses[1] < losses[0]
    assert keras.config.dtype_policy().name == "float32"  # the saved layers keep their own policy
    translator = Translator.load(out)
    assert translator.model.get_layer("decoder").dtype_policy.name == precision
    served = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    texts = ["september 27, 1994", "9/27/94"]
    assert [
        t.decode() for t in served(text=tf.constant(texts))["translation"].numpy()
    ] == translator.translate(texts)["translation"]


def test_runner_train_leaves_the_dtype_policy_and_the_random_states_as_it_found_them(tmp_path):
    import random

    from keras_attention.runner import Runner

    keras.config.set_dtype_policy("mixed_float16")
    random.seed(7)
    np.random.seed(7)
    tf.random.set_seed(7)
    expected = (random.random(), np.random.random(), float(tf.random.uniform(())))
    random.seed(7)
    np.random.seed(7)
    tf.random.set_seed(7)
    try:
        Runner(tmp_path / "model", report=lambda line: None).train(
            date_pairs(64, seed=1),
            epochs=1,
            units=8,
            embedding_dim=4,
            batch_size=32,
            precision="mixed_bfloat16",
            export=False,
            seed=3,
            verbose=0,
        )
        assert keras.config.dtype_policy().name == "mixed_float16"
        assert (random.random(), np.random.random(), float(tf.random.uniform(()))) == expected
    finally:
        keras.config.set_dtype_policy("float32")


def test_runner_train_puts_the_dtype_policy_back_when_training_fails(tmp_path):
    from keras_attention.runner import Runner

    with pytest.raises(ValueError, match="validation_split"):
        Runner(tmp_path / "model", report=lambda line: None).train(
            [("a", "b")],
            validation_split=0.9,
            precision="mixed_bfloat16",
            export=False,
            verbose=0,
        )
    assert keras.config.dtype_policy().name == "float32"
