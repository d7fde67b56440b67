"""Test configuration: markers, backend-specific skips, clean global state."""

import keras
import numpy as np
import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "tensorflow_only: needs the TensorFlow backend (tf.data, "
        "tensorflow-text, SavedModel); skipped on the others",
    )
    config.addinivalue_line("markers", "slow: end-to-end check that trains a model; few of them")


def pytest_collection_modifyitems(config, items):
    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(
        reason=f"needs the TensorFlow backend, running on {keras.backend.backend()}"
    )
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def clean_keras_state():
    """Each test starts with float32, a fresh session and fixed seeds.

    The session is cleared without `gc.collect()` (`free_memory=False`):
    with TensorFlow loaded a full collection takes about 0.3 s, a minute and
    a half of every backend's run; Python's own collections still run."""
    keras.config.set_dtype_policy("float32")
    keras.utils.clear_session(free_memory=False)
    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def date_translator(tmp_path_factory, worker_id):
    """The small trained date model of `tests/trained.py`, one training per
    run: the worker processes of pytest-xdist share the run's temporary
    folder (TensorFlow backend only)."""
    from tests.trained import shared_date_translator

    root = tmp_path_factory.getbasetemp()
    return shared_date_translator((root if worker_id == "master" else root.parent) / "shared")
