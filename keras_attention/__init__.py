"""keras_attention: seq2seq attention layers for Keras 3.

The layers of "Deep Learning from Scratch 2", chapter 8, done properly in
Keras: `AttentionWeight`, `WeightSum`, `Attention` (one decoder step) and
`TimeAttention` (every decoder step at once), and `FusedGRU` and `FusedLSTM`
(Keras' GRU and LSTM with every step's input projection as one matmul before
the loop, which `Seq2Seq` runs), and `InputFeedingDecoder` (a decoder that
attends inside its loop and feeds what it attended to into its next step,
Luong et al.'s input feeding). They use `keras.ops` only, so
they run on the TensorFlow, JAX and PyTorch backends. Around them: the
encoder–decoder `Seq2Seq` (and `Ensemble`, several of them decoded
together), the decoding loop `dynamic_decode` with
`GreedySearch` and `BeamSearch`, and, on TensorFlow, the `Translator`
(strings in, strings out), the `Runner` (training to a model folder and what
the `keras-attention` command does), `export_saved_model` and
`export_litert` (one LiteRT file, decoding loop inside).

`import keras_attention` imports Keras and registers the layers, the models
and their metrics with it, so `keras.saving.load_model` loads a `.keras`
file that uses them, whatever was imported first. The TensorFlow-only names
(`Translator`, `Runner`, the exports) are imported on first use. The
`keras-attention` command lives in `keras_attention_cli`, which answers
`--help` without importing Keras.
"""

import importlib

from keras_attention.decoding import BeamSearch
from keras_attention.decoding import GreedySearch
from keras_attention.decoding import dynamic_decode
from keras_attention.layers import Attention
from keras_attention.layers import AttentionWeight
from keras_attention.layers import FusedGRU
from keras_attention.layers import FusedLSTM
from keras_attention.layers import InputFeedingDecoder
from keras_attention.layers import TimeAttention
from keras_attention.layers import WeightSum
from keras_attention.models import Ensemble
from keras_attention.models import Seq2Seq

__version__ = "0.1.0"

# The TensorFlow-only names and their modules, imported on first use.
_TENSORFLOW_HOMES = {
    "Translator": "keras_attention.translator",
    "Runner": "keras_attention.runner",
    "export_saved_model": "keras_attention.export",
    "export_litert": "keras_attention.litert",
}
__all__ = sorted(
    [
        "Attention",
        "AttentionWeight",
        "FusedGRU",
        "FusedLSTM",
        "InputFeedingDecoder",
        "TimeAttention",
        "WeightSum",
        "Seq2Seq",
        "Ensemble",
        "GreedySearch",
        "BeamSearch",
        "dynamic_decode",
        *_TENSORFLOW_HOMES,
    ]
)


def __getattr__(name):
    if name in _TENSORFLOW_HOMES:
        value = globals()[name] = getattr(importlib.import_module(_TENSORFLOW_HOMES[name]), name)
        return value
    raise AttributeError(f"module 'keras_attention' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
