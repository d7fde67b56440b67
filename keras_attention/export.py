"""SavedModel export: strings in, strings out, with no Python code of ours.

TensorFlow-only. The SavedModel holds the tensorflow-text vectorizers, the
trained weights and the graph decoding loops. Its graph uses core TensorFlow
ops except tensorflow-text's `NormalizeUTF8` (and `CaseFoldUTF8`,
`RegexSplitWithOffsets` for lowercased or word-level vectorizers), which
TensorFlow Serving's model server links; anything else that loads it must
load tensorflow-text's op library first (`import tensorflow_text`).
"""

import os
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from keras_attention.decoding import BeamSearch

TEXT_SPEC = tf.TensorSpec([None], tf.string, name="text")


class _ServingModule(tf.Module):
    """What gets saved: the translator and its two decoding signatures."""

    def __init__(self, translator, beam_width, n_best):
        super().__init__(name="keras_attention_serving")
        # Held outside TensorFlow's object tracking: tracked, the translator
        # would bring the model's optimizer (Adam's two slots per weight)
        # and a second copy of every weight into the SavedModel, 4 times
        # the weights' size. What the graph needs is tracked below.
        self._held = _Untracked(translator)
        self.beam_width, self.n_best = beam_width, n_best
        # Keras 3 variables are not TensorFlow trackables: without listing
        # their tf.Variables here, the SavedModel's checkpoint lacks the
        # weights and TensorFlow Serving's (TF1-style) loader fails with
        # "Could not find variable" (keras-team/keras#20095). Python's
        # `tf.saved_model.load` would still work, hiding the problem.
        self.model_variables = [variable.value for variable in translator.model.variables]
        # The vectorizers' lookup tables.
        self.vectorizers = [translator.source_vectorizer, translator.target_vectorizer]

    @property
    def translator(self):
        return self._held.value

    @tf.function(input_signature=[TEXT_SPEC], autograph=False)
    def serving_default(self, text):
        return self.translator.translate_tensors(_checked_batch(text), beam_width=1)

    @tf.function(input_signature=[TEXT_SPEC], autograph=False)
    def beam_search(self, text):
        return self.translator.translate_tensors(
            _checked_batch(text), beam_width=self.beam_width, n_best=self.n_best
        )


class _Untracked:
    """Holds a value where `tf.Module` attribute tracking does not look."""

    def __init__(self, value):
        self.value = value


def _checked_batch(text):
    """`text` after a run-time check that it is a 1-D batch.

    A signature's callers can feed any shape (TensorFlow Serving does not
    check it), and the static shape `[None]` lets Grappler fold `tf.rank` to
    1, so the rank is read from a round trip through serialisation, whose
    result has no static shape.
    """
    shape = tf.io.parse_tensor(tf.io.serialize_tensor(tf.shape(text)), tf.int32)
    check = tf.debugging.Assert(
        tf.equal(tf.size(shape), 1),
        [
            "keras_attention serving: `text` must be a 1-D batch of strings, shape [batch]; "
            "received a tensor of shape",
            shape,
        ],
        summarize=10,
    )
    with tf.control_dependencies([check]):
        return tf.identity(text)


def export_saved_model(translator, path, beam_width=5, n_best=None):
    """Writes `translator` as a SavedModel at `path`.

    Signatures, each taking `text` (`tf.string`, `[batch]`) and returning
    `translation` (`tf.string`, `[batch]`), `token_ids` (`int32`,
    `[batch, out_len]`) and `attention_weights` (`float32`,
    `[batch, out_len, in_len]`):

    - `serving_default`: greedy decoding;
    - `beam_search`: beam search of width `beam_width` (fixed at export),
      which also returns the `n_best` best hypotheses per text, best first:
      `n_best_translations` (`tf.string`, `[batch, n_best]`) and
      `n_best_scores` (`float32`, `[batch, n_best]`, the normalised scores
      the search ranks by). `n_best` is fixed at export too; it defaults
      to `beam_width` and may not exceed it.
    """
    # Bad options fail before tracing anything; None becomes the beam width.
    n_best = BeamSearch(beam_width, n_best=n_best).n_best
    module = _ServingModule(translator, beam_width, n_best)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside `path` and renamed into place: never half-written.
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        tf.saved_model.save(
            module,
            str(temporary),
            signatures={
                "serving_default": module.serving_default,
                "beam_search": module.beam_search,
            },
        )
        if path.exists():
            previous = temporary.with_name(f"{temporary.name}.previous")
            os.replace(path, previous)
            os.replace(temporary, path)
            shutil.rmtree(previous)
        else:
            os.replace(temporary, path)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary)
    return path
