"""The attention layers, and the fused recurrent layers the model runs."""

from keras_attention.layers.attention import Attention
from keras_attention.layers.attention_weight import AttentionWeight
from keras_attention.layers.input_feeding import InputFeedingDecoder
from keras_attention.layers.recurrent import FusedGRU
from keras_attention.layers.recurrent import FusedLSTM
from keras_attention.layers.time_attention import TimeAttention
from keras_attention.layers.weight_sum import WeightSum
