"""Encoder–decoder models built from the attention layers.

Importing this package registers `Seq2Seq`, `Ensemble`, the loss and the metrics with Keras, so
saved models load by name.
"""

from keras_attention.models.ensemble import Ensemble
from keras_attention.models.losses import SmoothedCrossEntropy
from keras_attention.models.metrics import MaskedTokenAccuracy
from keras_attention.models.metrics import SequenceExactMatch
from keras_attention.models.seq2seq import Seq2Seq
