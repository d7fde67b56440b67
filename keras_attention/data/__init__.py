"""Data: the built-in tasks (dates, CMUdict) and the tf.data pipeline.

TSV pairs are read and written by `keras_attention_cli.tsv`, which the
command uses before it imports Keras.
"""
