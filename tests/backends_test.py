"""Training and decoding (greedy, beam search with n-best lists) on the
current backend (run on TensorFlow, JAX and PyTorch), and the trip of a
model trained here to TensorFlow: the same hypotheses and scores there, and
a SavedModel exported there."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attention import decoding
from keras_attention import training
from keras_attention.data.generators import date_pairs
from keras_attention.decoding import step_by_step_greedy

# On the TensorFlow backend, in a fresh process: load the model trained on
# another backend, decode the same ids, export it and serve strings.
ON_TENSORFLOW = r"""
import json, sys
import numpy as np
import tensorflow as tf
import tensorflow_text
from keras_attention import decoding
from keras_attention.export import export_saved_model
from keras_attention.translator import Translator
folder, sources, beam_width = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
translator = Translator.load(folder)
source_ids = np.load(folder + "/source_ids.npy")
token_ids, _ = decoding.greedy_decode(translator.model, source_ids, translator.max_output_length)
beam = decoding.decode(translator.model, source_ids, translator.max_output_length,
                       decoding.BeamSearch(beam_width=beam_width, n_best=beam_width))
export_saved_model(translator, folder + "/saved_model")
served = tf.saved_model.load(folder + "/saved_model").signatures["serving_default"]
translations = served(text=tf.constant(sources))["translation"].numpy()
print(json.dumps({"token_ids": token_ids.numpy().tolist(),
                  "served": [t.decode() for t in translations],
                  "beam_token_ids": beam["token_ids"].numpy().tolist(),
                  "beam_scores": beam["scores"].numpy().tolist(),
                  "beam_normalized_scores": beam["normalized_scores"].numpy().tolist()}))
"""
BEAM_WIDTH = 3


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    pairs = date_pairs(2000, seed=1)
    translator = training.build_translator(pairs, units=32, embedding_dim=8)
    # One batch shape (no length buckets): JAX compiles the step once.
    history = training.fit(
        translator, pairs, epochs=2, batch_size=64, verbose=0, bucket_by_length=False
    )
    sources = [source for source, _ in date_pairs(24, seed=9)]
    return translator, history, sources


def test_model_fit_trains_on_this_backend(trained):
    _, history, _ = trained
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_greedy_decoding_on_this_backend_equals_the_step_by_step_loop(trained):
    translator, _, sources = trained
    source_ids = translator.source_ids(tf.constant(sources)).numpy()
    token_ids, weights = decoding.greedy_decode(
        translator.model, source_ids, translator.max_output_length
    )
    token_ids, weights = keras.ops.convert_to_numpy(token_ids), keras.ops.convert_to_numpy(weights)
    # The eager reference is slow off TensorFlow (about a second a question
    # on JAX): 3 questions are enough.
    for row, expected in zip(token_ids, step_by_step_greedy(translator.model, source_ids[:3], 11)):
        np.testing.assert_array_equal(row[: len(expected)], expected)
        assert (row[len(expected) :] == 0).all()
    assert weights.shape == (len(sources), token_ids.shape[1], source_ids.shape[1])
    np.testing.assert_allclose(weights.sum(-1)[token_ids != 0], 1.0, rtol=1e-5)
    assert translator.translate(sources)["translation"] == [
        t.decode() for t in translator.target_vectorizer.decode(token_ids).numpy()
    ]


@pytest.mark.skipif(
    keras.backend.backend() == "tensorflow",
    reason="the trip from another backend; on TensorFlow, translator_test and export_test "
    "load and serve in fresh processes",
)
def test_a_model_trained_here_loads_on_tensorflow_and_exports(trained, tmp_path):
    translator, _, sources = trained
    translator.save(tmp_path)
    source_ids = translator.source_ids(tf.constant(sources)).numpy()
    np.save(tmp_path / "source_ids.npy", source_ids)
    result = subprocess.run(
        [sys.executable, "-c", ON_TENSORFLOW, str(tmp_path), json.dumps(sources), str(BEAM_WIDTH)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    on_tensorflow = json.loads(result.stdout.strip().splitlines()[-1])
    here = translator.translate(sources)
    np.testing.assert_array_equal(np.array(on_tensorflow["token_ids"]), here["token_ids"])
    assert on_tensorflow["served"] == here["translation"]
    # Beam search and its n-best list: the same hypotheses and scores on
    # this backend as on TensorFlow, for the same weights.
    beam = decoding.decode(
        translator.model,
        source_ids,
        translator.max_output_length,
        decoding.BeamSearch(beam_width=BEAM_WIDTH, n_best=BEAM_WIDTH),
    )
    beam = {key: keras.ops.convert_to_numpy(value) for key, value in beam.items()}
    np.testing.assert_array_equal(np.array(on_tensorflow["beam_token_ids"]), beam["token_ids"])
    for key in ("scores", "normalized_scores"):
        np.testing.assert_allclose(
            np.array(on_tensorflow[f"beam_{key}"]), beam[key], atol=1e-4, rtol=0
        )
    n_best = translator.translate(sources, beam_width=BEAM_WIDTH, n_best=BEAM_WIDTH)
    np.testing.assert_allclose(n_best["n_best_scores"], beam["normalized_scores"], atol=1e-5)
