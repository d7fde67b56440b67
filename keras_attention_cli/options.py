"""The choices the package offers and the one set of defaults, in plain
Python (no Keras, no TensorFlow), so that the command line can parse and
check its arguments without importing either.

`DEFAULTS` is what `training.build_translator`, `training.fit` and the CLI
use. `Seq2Seq`'s own keyword defaults stay the book's (one-way LSTM,
embedding 16): it is the layer-level model a reader of the book builds.
"""

KINDS = ("attention", "peeky", "plain")
CELLS = ("gru", "lstm")
SCORES = ("dot", "scaled_dot", "general", "cosine", "additive")
SPLITS = ("characters", "words")
STRATEGIES = ("none", "mirrored", "multi-worker")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# How `export-litert` stores the weights (the first is its default).
QUANTIZATIONS = ("dynamic-int8", "none", "float16")

# The defaults: a GRU, whose 3 gates cost 3/4 of an LSTM's 4 per step, read
# both ways (the book's own suggestion in its chapter 8: `units` split
# between the directions, so fewer weights than one direction of `units`),
# and a cosine-decayed learning rate. On the date task they reached 100.00%
# exact match after 2 epochs with seeds 0, 1 and 2; reading one way, 92.88% /
# 97.78% / 56.54% (`benchmarks/seq2seq.py --part seeds` measures them).
DEFAULTS = {
    "kind": "attention",
    "cell": "gru",
    "score": "dot",
    "units": 256,
    "embedding_dim": 16,
    "batch_size": 128,
    "learning_rate": 0.003,
    "clip_norm": 5.0,
    "bidirectional": True,
    "reverse_source": False,
    "warmup": 0.0,
    "encoder_layers": 1,
    "dropout": 0.0,
    "attentional_units": 0,
    "split": "characters",
}
