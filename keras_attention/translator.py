"""Translator: a trained Seq2Seq with its vocabularies, strings in and out.

It runs the tensorflow-text vectorizers (TensorFlow) around the model. On
the TensorFlow backend, a whole translation (vectorizing, the decoding loop,
detokenizing) is one `tf.function`, which is what gets exported for
serving; on JAX and PyTorch, greedy translation runs the model and its loop
on the backend between the vectorizers.
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_attention import decoding
from keras_attention import models  # noqa: F401  (registers Seq2Seq for load_model)
from keras_attention.files import atomic_write
from keras_attention.text import TextVectorizer

MODEL_FILE = "model.keras"
SOURCE_VOCABULARY_FILE = "source_vocabulary.json"
TARGET_VOCABULARY_FILE = "target_vocabulary.json"
SETTINGS_FILE = "translator.json"


class Translator(tf.Module):
    """Translates strings with a trained `Seq2Seq` and its vectorizers.

    Args:
        model: a trained `Seq2Seq`.
        source_vectorizer: `TextVectorizer` of the inputs.
        target_vectorizer: `TextVectorizer` of the outputs.
        max_output_length: int or None, the most output tokens; `None` uses
            the target vectorizer's `max_length` plus one for `[END]`.
    """

    def __init__(self, model, source_vectorizer, target_vectorizer, max_output_length=None):
        super().__init__(name="translator")
        self.model = model
        self.source_vectorizer = source_vectorizer
        self.target_vectorizer = target_vectorizer
        self.max_output_length = int(max_output_length or target_vectorizer.max_length + 1)
        self._translate_graph = tf.function(self._translate_ids, reduce_retracing=True)

    def source_ids(self, texts):
        """Padded source ids `(batch, src_len)`, with at least one position
        so that a batch of empty texts still runs (its rows all padding)."""
        ids = tf.cast(self.source_vectorizer.encode(texts).to_tensor(), tf.int32)
        return tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])

    def _translate_ids(self, texts, beam_width=1):
        source_ids = self.source_ids(texts)
        if beam_width == 1:
            token_ids, weights = decoding.greedy_decode(self.model, source_ids, self.max_output_length)
        else:
            token_ids, weights = decoding.beam_search_decode(
                self.model, source_ids, self.max_output_length, beam_width=beam_width
            )
        return {
            "translation": self.target_vectorizer.decode(token_ids),
            "token_ids": token_ids,
            "attention_weights": weights,
        }

    def translate(self, texts, beam_width=1, batch_size=1000):
        """Translates a list of strings; returns a dict of numpy arrays.

        Keys: `translation` (a list of str), `token_ids` `(n, out_len)` and
        `attention_weights` `(n, out_len, src_len)` (`out_len` and `src_len`
        are the batch's longest; shorter rows are padded with 0).
        """
        texts = list(texts)
        results = []
        for start in range(0, max(len(texts), 1), batch_size):
            batch = tf.constant(texts[start : start + batch_size], tf.string)
            results.append(self._translate_batch(batch, beam_width))
        translations = [
            t.decode("utf-8") for result in results for t in result["translation"].numpy()
        ]
        return {
            "translation": translations,
            "token_ids": _concatenate_padded([r["token_ids"].numpy() for r in results]),
            "attention_weights": _concatenate_padded(
                [r["attention_weights"].numpy() for r in results]
            ),
        }

    def _translate_batch(self, texts, beam_width):
        if keras.backend.backend() == "tensorflow":
            return self._translate_graph(texts, beam_width=beam_width)
        # JAX, PyTorch: the vectorizers run on TensorFlow, the model and its
        # greedy loop on the backend.
        if beam_width != 1:
            raise NotImplementedError(
                f"beam search runs on the TensorFlow backend; the backend is {keras.backend.backend()!r}. "
                f"Received: beam_width={beam_width}"
            )
        token_ids, weights = decoding.greedy_decode(
            self.model, self.source_ids(texts).numpy(), self.max_output_length
        )
        token_ids = keras.ops.convert_to_numpy(token_ids)
        return {
            "translation": self.target_vectorizer.decode(token_ids),
            "token_ids": tf.constant(token_ids),
            "attention_weights": tf.constant(keras.ops.convert_to_numpy(weights)),
        }

    def source_tokens(self, text):
        """The tokens the model reads for `text` (after normalising and truncating)."""
        tokens = self.source_vectorizer.tokenize(tf.constant([text]))[0].numpy()
        if self.source_vectorizer.max_length:
            tokens = tokens[: self.source_vectorizer.max_length]
        return [t.decode("utf-8") for t in tokens]

    def target_tokens(self, token_ids):
        """The output tokens of one row of `token_ids`, up to and with `[END]`."""
        vocabulary = self.target_vectorizer.vocabulary
        tokens = []
        for token_id in token_ids:
            if token_id == decoding.PAD_ID:
                break
            tokens.append(vocabulary[int(token_id)])
            if token_id == decoding.END_ID:
                break
        return tokens

    # === Saving ===

    def save(self, directory):
        """Writes the model and vocabularies into `directory`, each file
        written under a temporary name and renamed, so none is half-written."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(directory / MODEL_FILE, lambda path: self.model.save(path))
        atomic_write(directory / SOURCE_VOCABULARY_FILE, self.source_vectorizer.save)
        atomic_write(directory / TARGET_VOCABULARY_FILE, self.target_vectorizer.save)
        atomic_write(
            directory / SETTINGS_FILE,
            lambda path: Path(path).write_text(
                json.dumps({"max_output_length": self.max_output_length}), encoding="utf-8"
            ),
        )

    @classmethod
    def load(cls, directory):
        """Loads what `save` wrote (the model in Keras safe mode)."""
        directory = Path(directory)
        missing = [
            name for name in (MODEL_FILE, SOURCE_VOCABULARY_FILE, TARGET_VOCABULARY_FILE, SETTINGS_FILE)
            if not (directory / name).is_file()
        ]
        if missing:
            raise FileNotFoundError(
                f"{directory} is not a trained model folder: missing {', '.join(missing)}"
            )
        settings = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
        return cls(
            keras.saving.load_model(directory / MODEL_FILE, safe_mode=True),
            TextVectorizer.load(directory / SOURCE_VOCABULARY_FILE),
            TextVectorizer.load(directory / TARGET_VOCABULARY_FILE),
            **settings,
        )


def _concatenate_padded(arrays):
    """Concatenates arrays along axis 0, zero-padding the other axes."""
    shape = [sum(a.shape[0] for a in arrays)] + [
        max(a.shape[axis] for a in arrays) for axis in range(1, arrays[0].ndim)
    ]
    out = np.zeros(shape, arrays[0].dtype)
    row = 0
    for array in arrays:
        out[(slice(row, row + array.shape[0]),) + tuple(slice(0, n) for n in array.shape[1:])] = array
        row += array.shape[0]
    return out
