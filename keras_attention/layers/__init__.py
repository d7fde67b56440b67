"""The attention layers."""

from keras_attention.layers.attention import Attention
from keras_attention.layers.attention_weight import AttentionWeight
from keras_attention.layers.time_attention import TimeAttention
from keras_attention.layers.weight_sum import WeightSum
