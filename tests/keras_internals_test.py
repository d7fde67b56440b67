import keras
import pytest

from keras_attention import keras_internals


def test_the_installed_keras_is_one_the_workarounds_were_tested_with():
    keras_internals.check_keras_version("anything")  # the pinned Keras passes


def test_another_keras_release_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(keras, "version", lambda: "3.99.0")
    with pytest.raises(RuntimeError, match=r"resumable training .* tested only with Keras 3.15; this is Keras 3.99.0"):
        keras_internals.BackupHooks("somewhere")
    with pytest.raises(RuntimeError, match="keras-team/keras#20585"):
        keras_internals.replace_symbolic_build(object(), None)
