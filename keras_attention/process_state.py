"""Seeds and the dtype policy, set for a block and put back after it.

Keras keeps both process-wide (`keras.utils.set_random_seed`,
`keras.config.set_dtype_policy`). Training needs them set, but a library
call must leave the user's process as it found it: `seeded` sets them for
the block and restores the random states of Python, NumPy, Keras,
TensorFlow and PyTorch (whichever are loaded) and the dtype policy when it
ends, by an exception too.
"""

import contextlib
import random
import sys

import keras
import numpy as np

from keras_attention import keras_internals


def _tensorflow_seed():
    """TensorFlow's global seed, or None (unset, or TensorFlow not loaded)."""
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.framework import random_seed

    return random_seed.get_seed(None)[0]


@contextlib.contextmanager
def seeded(seed, dtype_policy=None):
    """Sets every random seed to `seed` (as `keras.utils.set_random_seed`)
    and, if given, the global dtype policy (a name such as
    `"mixed_bfloat16"`) for the block; then restores what was there."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    keras_seed = keras_internals.global_seed_state()
    tensorflow_seed = _tensorflow_seed()
    torch_state = None
    if keras.backend.backend() == "torch":
        import torch

        torch_state = torch.get_rng_state()
    policy = keras.config.dtype_policy()
    try:
        keras.utils.set_random_seed(seed)
        if dtype_policy is not None:
            keras.config.set_dtype_policy(dtype_policy)
        yield
    finally:
        keras.config.set_dtype_policy(policy)
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        keras_internals.set_global_seed_state(keras_seed)
        if "tensorflow" in sys.modules:
            import tensorflow as tf

            tf.random.set_seed(tensorflow_seed)
        if torch_state is not None:
            import torch

            torch.set_rng_state(torch_state)
