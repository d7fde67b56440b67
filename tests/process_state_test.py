"""The intra-op thread count training checks (`TrainingConfig.threads`):
the count this process runs with passes, another is refused saying how to
set it, on every backend."""

import os

import keras
import pytest

from keras_attention.process_state import check_threads
from keras_attention.process_state import intra_op_threads
from keras_attention_cli.options import OptionError


def test_no_count_asked_is_always_accepted():
    check_threads(None)


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="JAX's count is not known")
def test_the_count_this_process_runs_with_passes_and_another_is_refused():
    running = intra_op_threads()
    assert isinstance(running, int) and running >= 1
    check_threads(running)
    with pytest.raises(OptionError) as raised:
        check_threads(running + 1)
    message = str(raised.value)
    assert message.startswith(
        f"`threads` must be the intra-op thread count this process runs with, {running}: set "
    )
    assert message.endswith(f"Received: threads={running + 1}")
    how = {"torch": f"torch.set_num_threads({running + 1})"}.get(
        keras.backend.backend(), f"TF_NUM_INTRAOP_THREADS={running + 1}"
    )
    assert how in message


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's default")
def test_tensorflow_runs_one_thread_per_core_unless_told_otherwise():
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() or os.environ.get(
        "TF_NUM_INTRAOP_THREADS"
    ):
        pytest.skip("this process sets its own count")
    assert intra_op_threads() == len(os.sched_getaffinity(0))


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the JAX backend")
def test_a_count_on_jax_is_refused_naming_the_backend():
    with pytest.raises(OptionError, match=r"`threads` must be None \(no `threads`\) on the jax"):
        check_threads(2)
