"""Data: built-in task generators, TSV pairs, tf.data pipelines."""
