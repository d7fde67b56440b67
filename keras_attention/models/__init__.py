"""Encoder–decoder models built from the attention layers."""

from keras_attention.models.seq2seq import Seq2Seq
