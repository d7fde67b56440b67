"""Translator: a trained Seq2Seq with its vocabularies, strings in and out.

It runs the tensorflow-text vectorizers (TensorFlow) around the model. On
the TensorFlow backend, a whole translation (vectorizing, the decoding loop,
detokenizing) is one `tf.function`, which is what gets exported for
serving; on JAX and PyTorch, greedy translation runs the model and its loop
on the backend between the vectorizers.
"""

import functools
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_attention import decoding
from keras_attention import models  # noqa: F401  (registers Seq2Seq for load_model)
from keras_attention.text import TextVectorizer
from keras_attention.tokens import END_ID
from keras_attention.tokens import PAD_ID
from keras_attention_cli.files import atomic_write
from keras_attention_cli.layout import MANIFEST_FILE
from keras_attention_cli.layout import MODEL_FILE
from keras_attention_cli.layout import SETTINGS_FILE
from keras_attention_cli.layout import SOURCE_VOCABULARY_FILE
from keras_attention_cli.layout import TARGET_VOCABULARY_FILE
from keras_attention_cli.layout import ModelFolderError
from keras_attention_cli.layout import check_model_folder
from keras_attention_cli.layout import manifest_text


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
        self._translate_graphs = {}

    def source_ids(self, texts):
        """Padded source ids `(batch, src_len)`, with at least one position
        so that a batch of empty texts still runs (its rows all padding)."""
        ids = tf.cast(self.source_vectorizer.encode(texts).to_tensor(), tf.int32)
        return tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])

    def translate_tensors(self, texts, beam_width=1, n_best=None):
        """A whole translation of a `tf.string` batch `(batch,)` in TensorFlow
        ops (on the TensorFlow backend): vectorizing, the decoding loop,
        detokenizing. What `translate` runs and the SavedModel serves.

        Returns:
            A dict of tensors: `translation` `(batch,)`, `token_ids`
            `(batch, out_len)` and `attention_weights` `(batch, out_len,
            src_len)` of the best hypothesis; with `n_best`, also
            `n_best_translations` `(batch, n_best)` and `n_best_scores`
            `(batch, n_best)`, best first (see `translate`).
        """
        return self._with_strings(self._decode(self.source_ids(texts), beam_width, n_best), n_best)

    def _decode(self, source_ids, beam_width, n_best):
        """The model's decoding loop, on whichever backend runs."""
        return decoding.decode(
            self.model, source_ids, self.max_output_length, _strategy(beam_width, n_best)
        )

    def _with_strings(self, decoded, n_best):
        """`decoded` (from `_decode`) as TensorFlow tensors, with strings."""
        decoded = {key: _as_tf(value) for key, value in decoded.items()}
        token_ids = decoded["token_ids"]
        result = {
            "translation": self.target_vectorizer.decode(token_ids[:, 0]),
            "token_ids": token_ids[:, 0],
            "attention_weights": decoded["attention_weights"][:, 0],
        }
        if n_best:
            shape = tf.shape(token_ids)
            strings = self.target_vectorizer.decode(tf.reshape(token_ids, [-1, shape[2]]))
            result["n_best_translations"] = tf.reshape(strings, shape[:2])
            result["n_best_scores"] = decoded["normalized_scores"]
        return result

    def translate(self, texts, beam_width=1, batch_size=1000, n_best=None):
        """Translates a list of strings; returns a dict of numpy arrays.

        Args:
            texts: list of str.
            beam_width: int, 1 for greedy decoding, more for beam search.
                Defaults to `1`.
            batch_size: int, texts decoded at once. Defaults to `1000`.
            n_best: int or None, how many hypotheses per text to return,
                best first (at most `beam_width`). Defaults to `None`: only
                the best.

        Returns:
            A dict. `translation` (a list of str), `token_ids` `(n,
            out_len)` and `attention_weights` `(n, out_len, src_len)`
            (`out_len` and `src_len` are the batch's longest; shorter rows
            are padded with 0); with `n_best`, also `n_best_translations`
            (a list of lists of str) and `n_best_scores` `(n, n_best)`, the
            normalised scores the search ranks by (log-probability over
            length), falling with rank.
        """
        _strategy(beam_width, n_best)  # bad options fail here, not inside a trace
        texts = list(texts)
        results = []
        for start in range(0, max(len(texts), 1), batch_size):
            batch = tf.constant(texts[start : start + batch_size], tf.string)
            results.append(self._translate_batch(batch, beam_width, n_best))
        output = {
            "translation": [t for result in results for t in _strings(result["translation"])],
            "token_ids": _concatenate_padded([r["token_ids"].numpy() for r in results]),
            "attention_weights": _concatenate_padded(
                [r["attention_weights"].numpy() for r in results]
            ),
        }
        if n_best:
            output["n_best_translations"] = [
                _strings(row) for result in results for row in result["n_best_translations"]
            ]
            output["n_best_scores"] = np.concatenate([r["n_best_scores"].numpy() for r in results])
        return output

    def _translate_batch(self, texts, beam_width, n_best):
        if keras.backend.backend() == "tensorflow":
            return self._translate_graph(beam_width, n_best)(texts)
        # JAX, PyTorch: the vectorizers run on TensorFlow, the model and its
        # decoding loop on the backend.
        return self._with_strings(
            self._decode(self.source_ids(texts).numpy(), beam_width, n_best), n_best
        )

    def _translate_graph(self, beam_width, n_best):
        """`translate_tensors` as a `tf.function` for one search, made the
        first time it is asked for and traced once, for batches of any size.
        TensorFlow's retracing warning counts the traces of one Python
        function, and counted every Translator's and every search's as
        retracing one method; over a `functools.partial`, each search is
        counted apart, and decoding with several beam widths or models
        warns of nothing."""
        key = (beam_width, n_best)
        if key not in self._translate_graphs:
            self._translate_graphs[key] = tf.function(
                functools.partial(self.translate_tensors, beam_width=beam_width, n_best=n_best),
                input_signature=[tf.TensorSpec([None], tf.string)],
                autograph=False,
            )
        return self._translate_graphs[key]

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
            if token_id == PAD_ID:
                break
            tokens.append(vocabulary[int(token_id)])
            if token_id == END_ID:
                break
        return tokens

    # === Saving ===

    def save(self, directory):
        """Writes the model and vocabularies into `directory`, each file
        written under a temporary name and renamed, so none is half-written,
        then the manifest of their checksums (see `keras_attention_cli.layout`)."""
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
        manifest = manifest_text(
            directory,
            source_vocabulary_size=self.source_vectorizer.size,
            target_vocabulary_size=self.target_vectorizer.size,
        )
        atomic_write(
            directory / MANIFEST_FILE,
            lambda path: Path(path).write_text(manifest, encoding="utf-8"),
        )

    @classmethod
    def load(cls, directory):
        """Loads what `save` wrote (the model in Keras safe mode).

        Raises:
            FileNotFoundError: a file is missing.
            keras_attention_cli.layout.ModelFolderError: a file does not match
                the manifest, cannot be read, or does not fit the model (a
                vocabulary of another size than the model's).
        """
        directory = Path(directory)
        check_model_folder(directory)
        settings = _read_json(directory, SETTINGS_FILE)
        source = TextVectorizer(**_read_json(directory, SOURCE_VOCABULARY_FILE))
        target = TextVectorizer(**_read_json(directory, TARGET_VOCABULARY_FILE))
        try:
            model = keras.saving.load_model(directory / MODEL_FILE, safe_mode=True)
        except Exception as error:  # noqa: BLE001  (Keras raises many kinds for a damaged file)
            raise ModelFolderError(
                f"{directory}: {MODEL_FILE} cannot be loaded: {error}"
            ) from error
        for side, vectorizer, size in (
            ("source", source, model.source_vocabulary_size),
            ("target", target, model.target_vocabulary_size),
        ):
            if vectorizer.size != size:
                raise ModelFolderError(
                    f"{directory}: {side}_vocabulary.json has {vectorizer.size} tokens but the "
                    "model was "
                    f"trained with {size}: the vocabulary belongs to another model"
                )
        return cls(model, source, target, **settings)


def _read_json(directory, name):
    try:
        return json.loads((Path(directory) / name).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFolderError(f"{directory}: {name} is not valid JSON ({error})") from None


def _strategy(beam_width, n_best):
    if beam_width == 1 and not n_best:
        return decoding.GreedySearch()
    return decoding.BeamSearch(beam_width, n_best=n_best or 1)


def _as_tf(tensor):
    """A backend tensor (JAX, PyTorch) as a TensorFlow one, for the vectorizers."""
    return tensor if tf.is_tensor(tensor) else tf.constant(keras.ops.convert_to_numpy(tensor))


def _strings(tensor):
    """A string tensor's elements as Python str."""
    return [text.decode("utf-8") for text in tensor.numpy()]


def _concatenate_padded(arrays):
    """Concatenates arrays along axis 0, zero-padding the other axes."""
    shape = [sum(a.shape[0] for a in arrays)] + [
        max(a.shape[axis] for a in arrays) for axis in range(1, arrays[0].ndim)
    ]
    out = np.zeros(shape, arrays[0].dtype)
    row = 0
    for array in arrays:
        out[(slice(row, row + array.shape[0]),) + tuple(slice(0, n) for n in array.shape[1:])] = (
            array
        )
        row += array.shape[0]
    return out
