"""keras_attention: seq2seq attention layers for Keras 3.

The layers of "Deep Learning from Scratch 2", chapter 8, done properly in
Keras: `AttentionWeight`, `WeightSum`, `Attention` (one decoder step) and
`TimeAttention` (every decoder step at once). They use `keras.ops` only, so
they run on the TensorFlow, JAX and PyTorch backends.
"""

from keras_attention.layers import Attention
from keras_attention.layers import AttentionWeight
from keras_attention.layers import TimeAttention
from keras_attention.layers import WeightSum

__version__ = "0.1.0"

__all__ = [
    "Attention",
    "AttentionWeight",
    "TimeAttention",
    "WeightSum",
]
