import json
import subprocess
import sys

import keras
import pytest

from keras_attention import training
from keras_attention.data.generators import date_pairs
from keras_attention.export import export_saved_model

pytestmark = pytest.mark.tensorflow_only

# Runs in a fresh interpreter where keras_attention cannot be imported: only
# TensorFlow and tensorflow-text serve the model.
LOAD_AND_TRANSLATE = r"""
import json, sys
sys.modules["keras_attention"] = None  # any import of it now fails
import tensorflow as tf
import tensorflow_text  # registers the tensorflow-text ops the graph uses
try:
    import keras_attention
    raise SystemExit("keras_attention was importable")
except ImportError:
    pass
model = tf.saved_model.load(sys.argv[1])
texts = json.loads(sys.stdin.read())
result = {}
for name in ("serving_default", "beam_search"):
    outputs = model.signatures[name](text=tf.constant(texts, tf.string))
    result[name] = {
        "translation": [t.decode("utf-8") for t in outputs["translation"].numpy()],
        "attention_weights_shape": list(outputs["attention_weights"].shape),
        "token_ids_dtype": outputs["token_ids"].dtype.name,
    }
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def small_translator():
    keras.utils.set_random_seed(0)
    pairs = date_pairs(1500, seed=4)
    translator = training.build_translator(pairs, units=32, embedding_dim=8)
    training.fit(translator, pairs, epochs=1, batch_size=64, verbose=0)
    return translator


def test_saved_model_serves_the_same_strings_without_the_package(small_translator, tmp_path):
    path = export_saved_model(small_translator, tmp_path / "saved_model", beam_width=3)
    texts = [source for source, _ in date_pairs(40, seed=9)] + ["", "   ", "日本", "9/27/94" * 500]
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_TRANSLATE, str(path)],
        input=json.dumps(texts), capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    expected_greedy = small_translator.translate(texts)["translation"]
    expected_beam = small_translator.translate(texts, beam_width=3)["translation"]
    assert served["serving_default"]["translation"] == expected_greedy
    assert served["beam_search"]["translation"] == expected_beam
    shape = served["serving_default"]["attention_weights_shape"]
    assert shape[0] == len(texts) and shape[2] == small_translator.source_vectorizer.max_length
    assert served["serving_default"]["token_ids_dtype"] == "int32"


def test_bad_beam_width_is_refused(small_translator, tmp_path):
    with pytest.raises(ValueError, match="Received: beam_width=0"):
        export_saved_model(small_translator, tmp_path / "saved_model", beam_width=0)
