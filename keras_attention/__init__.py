"""keras_attention: seq2seq attention layers for Keras 3.

The layers of "Deep Learning from Scratch 2", chapter 8, done properly in
Keras: `AttentionWeight`, `WeightSum`, `Attention` (one decoder step) and
`TimeAttention` (every decoder step at once). They use `keras.ops` only, so
they run on the TensorFlow, JAX and PyTorch backends. Around them: the
encoder–decoder `Seq2Seq` (and `Ensemble`, several of them decoded
together), the decoding loop `dynamic_decode` with
`GreedySearch` and `BeamSearch`, and, on TensorFlow, the `Translator`
(strings in, strings out), the `Runner` (training to a model folder and what
the `keras-attention` command does), `export_saved_model` and
`export_litert` (one LiteRT file, decoding loop inside).

`import keras_attention` imports Keras only when Keras is already imported
or a name is first asked for (`from keras_attention import TimeAttention`),
so that the `keras-attention` command answers `--help` without loading
TensorFlow. Importing the layers registers them with Keras, which
`keras.saving.load_model` needs: import them (or `keras_attention.layers`)
before loading a `.keras` file that uses them.
"""

import importlib
import sys

__version__ = "0.1.0"

# Each public name and the module it lives in, imported on first use.
_HOMES = {
    "Attention": "keras_attention.layers",
    "AttentionWeight": "keras_attention.layers",
    "TimeAttention": "keras_attention.layers",
    "WeightSum": "keras_attention.layers",
    "Seq2Seq": "keras_attention.models",
    "Ensemble": "keras_attention.models",
    "GreedySearch": "keras_attention.decoding",
    "BeamSearch": "keras_attention.decoding",
    "dynamic_decode": "keras_attention.decoding",
    "Translator": "keras_attention.translator",
    "Runner": "keras_attention.runner",
    "export_saved_model": "keras_attention.export",
    "export_litert": "keras_attention.litert",
}
__all__ = sorted(_HOMES)


def __getattr__(name):
    if name in _HOMES:
        value = globals()[name] = getattr(importlib.import_module(_HOMES[name]), name)
        return value
    raise AttributeError(f"module 'keras_attention' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])


if "keras" in sys.modules:  # no cost then: register the layers right away
    importlib.import_module("keras_attention.layers")
