"""SavedModel export: strings in, strings out, with no Python code of ours.

TensorFlow-only. The SavedModel holds the tensorflow-text vectorizers, the
trained weights and the graph decoding loops. Python loaders must
`import tensorflow_text` before `tf.saved_model.load`, so that its ops are
registered; TensorFlow Serving's standard model server bundles them.
"""

import tensorflow as tf

from keras_attention.layers.checks import check_positive_int

TEXT_SPEC = tf.TensorSpec([None], tf.string, name="text")


class _ServingModule(tf.Module):
    """What gets saved: the translator and its two decoding signatures."""

    def __init__(self, translator, beam_width):
        super().__init__(name="keras_attention_serving")
        self.translator = translator
        self.beam_width = beam_width

    @tf.function(input_signature=[TEXT_SPEC])
    def serving_default(self, text):
        return self.translator._translate_ids(text, beam_width=1)

    @tf.function(input_signature=[TEXT_SPEC])
    def beam_search(self, text):
        return self.translator._translate_ids(text, beam_width=self.beam_width)


def export_saved_model(translator, path, beam_width=5):
    """Writes `translator` as a SavedModel at `path`.

    Signatures, each taking `text` (`tf.string`, `[batch]`) and returning
    `translation` (`tf.string`, `[batch]`), `token_ids` (`int32`,
    `[batch, out_len]`) and `attention_weights` (`float32`,
    `[batch, out_len, in_len]`):

    - `serving_default`: greedy decoding;
    - `beam_search`: beam search of width `beam_width` (fixed at export).
    """
    check_positive_int("beam_width", beam_width)  # before tracing anything
    module = _ServingModule(translator, beam_width)
    tf.saved_model.save(
        module, str(path),
        signatures={"serving_default": module.serving_default, "beam_search": module.beam_search},
    )
    return path
