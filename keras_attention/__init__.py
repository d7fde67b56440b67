"""keras_attention: seq2seq attention layers for Keras 3.

The layers of "Deep Learning from Scratch 2", chapter 8, done properly in
Keras: `AttentionWeight`, `WeightSum`, `Attention` (one decoder step) and
`TimeAttention` (every decoder step at once). They use `keras.ops` only, so
they run on the TensorFlow, JAX and PyTorch backends.

`import keras_attention` imports Keras only when Keras is already imported
or a layer is first asked for (`from keras_attention import TimeAttention`),
so that the `keras-attention` command answers `--help` without loading
TensorFlow. Importing the layers registers them with Keras, which
`keras.saving.load_model` needs: import them (or `keras_attention.layers`)
before loading a `.keras` file that uses them.
"""

import importlib
import sys

__version__ = "0.1.0"

__all__ = [
    "Attention",
    "AttentionWeight",
    "TimeAttention",
    "WeightSum",
]


def __getattr__(name):
    if name in __all__:
        return getattr(importlib.import_module("keras_attention.layers"), name)
    raise AttributeError(f"module 'keras_attention' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])


if "keras" in sys.modules:  # no cost then: register the layers right away
    importlib.import_module("keras_attention.layers")
