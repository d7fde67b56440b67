import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (the SavedModel's ops)

from keras_attention_cli import main as cli
from keras_attention.data.generators import date_pairs
from keras_attention.data.tsv import write_pairs
from keras_attention.translator import Translator
from tests.training_log import logged_losses

pytestmark = pytest.mark.tensorflow_only


# mixed_float16 (loss scaling) is covered layer by layer in tests/layers;
# bfloat16 is what a CPU trains in.
@pytest.mark.parametrize("precision", ["mixed_bfloat16"])
def test_train_in_mixed_precision_saves_serves_and_reloads(tmp_path, precision):
    write_pairs(tmp_path / "train.tsv", date_pairs(400, seed=1))
    out = tmp_path / "model"
    assert cli.main(["train", "--data", str(tmp_path / "train.tsv"), "--out", str(out), "--epochs", "2",
                     "--units", "16", "--embedding-dim", "8", "--batch-size", "32",
                     "--precision", precision]) == 0
    losses = logged_losses(out)
    assert len(losses) == 2 and np.isfinite(losses).all() and losses[1] < losses[0]
    keras.config.set_dtype_policy("float32")  # the saved layers keep their own policy
    translator = Translator.load(out)
    assert translator.model.get_layer("decoder").dtype_policy.name == precision
    served = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    texts = ["september 27, 1994", "9/27/94"]
    assert [t.decode() for t in served(text=tf.constant(texts))["translation"].numpy()] == \
        translator.translate(texts)["translation"]
