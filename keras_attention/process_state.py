"""The process-wide state training depends on: seeds and the dtype policy,
set for a block and put back after it; the intra-op thread count, checked.

Keras keeps the first two process-wide (`keras.utils.set_random_seed`,
`keras.config.set_dtype_policy`). Training needs them set, but a library
call must leave the user's process as it found it: `seeded` sets them for
the block and restores the random states of Python, NumPy, Keras,
TensorFlow and PyTorch (whichever are loaded) and the dtype policy when it
ends, by an exception too.

The intra-op thread count decides how a CPU matmul splits its sums, so it
decides the last bits of every training step: one thread per core (the
default) trains different weights on a 1-core and a 2-core machine from
the same seed. TensorFlow fixes the count when it runs its first op, for
the rest of the process, so a library call cannot set it for a block:
`check_threads` says how to set it instead, and `use_threads` sets it for
a process that is the caller's own (the command line).
"""

import contextlib
import os
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


def intra_op_threads():
    """The intra-op thread count the backend's CPU kernels run with in this
    process, or None where it is not known (JAX: XLA's own flags).

    TensorFlow's is the count set through `tf.config.threading`, else
    `TF_NUM_INTRAOP_THREADS` (as TensorFlow reads it when it starts: one set
    later is not seen), else one per core this process may run on.
    """
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return torch.get_num_threads()
    if backend != "tensorflow":
        return None
    import tensorflow as tf

    configured = tf.config.threading.get_intra_op_parallelism_threads()
    if configured > 0:
        return configured
    from_environment = os.environ.get("TF_NUM_INTRAOP_THREADS", "").strip()
    if from_environment.isdigit() and int(from_environment) > 0:
        return int(from_environment)
    return usable_cores()


def usable_cores():
    """How many cores this process may run on (its affinity, where the OS says)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def use_threads(threads):
    """Sets the intra-op thread count of this process to `threads` (a
    positive int; None leaves it), on the TensorFlow or PyTorch backend;
    for a process the caller owns. TensorFlow takes it only before it runs
    its first op; `check_threads` then says it did not."""
    if threads is None:
        return
    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(threads)
        return
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # already running: check_threads says so
        tf.config.threading.set_intra_op_parallelism_threads(threads)


def check_threads(threads):
    """Raises `OptionError` for `threads` (a `TrainingConfig.threads`)
    unless it is None or the count this process runs with
    (`intra_op_threads`), saying how to set it."""
    from keras_attention_cli.options import OptionError

    if threads is None:
        return
    running = intra_op_threads()
    if running is None:
        raise OptionError(
            "threads",
            f"None (no `threads`) on the {keras.backend.backend()} backend (its thread count is "
            "not known here; TensorFlow's and PyTorch's are)",
            threads,
        )
    if running == threads:
        return
    how = (
        f"torch.set_num_threads({threads})"
        if keras.backend.backend() == "torch"
        else f"TF_NUM_INTRAOP_THREADS={threads} in the environment, or call "
        f"tf.config.threading.set_intra_op_parallelism_threads({threads}), before TensorFlow "
        "runs its first op (it cannot change after)"
    )
    raise OptionError(
        "threads",
        f"the intra-op thread count this process runs with, {running}: set {how}",
        threads,
    )
