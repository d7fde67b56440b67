import json

import keras
import pytest

from keras_attention import training
from keras_attention.data.generators import date_pairs
from tests.layer_checks import assert_same_weights

pytestmark = pytest.mark.tensorflow_only  # training.fit runs a tf.data pipeline

PAIRS = date_pairs(320, seed=1)


class Interrupted(Exception):
    pass


class InterruptAt(keras.callbacks.Callback):
    """Stops training the way a crash would: mid-epoch, with an exception."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch = epoch, batch

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.current_epoch, batch) == (self.epoch, self.batch):
            raise Interrupted(f"interrupted at epoch {self.epoch}, batch {self.batch}")


def train(epochs, backup_dir=None, callbacks=()):
    keras.utils.set_random_seed(0)
    translator = training.build_translator(PAIRS, units=16, embedding_dim=8)
    history = training.fit(
        translator,
        PAIRS,
        epochs=epochs,
        batch_size=32,
        verbose=0,
        backup_dir=backup_dir,
        callbacks=callbacks,
    )
    return translator, history


def test_interrupted_training_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    backup = tmp_path / "backup"
    reference, _ = train(epochs=3)
    with pytest.raises(Interrupted):
        train(epochs=3, backup_dir=backup, callbacks=[InterruptAt(epoch=2, batch=4)])
    # The last whole backup, after epoch 2 of 3, and nothing half-written.
    assert json.loads((backup / "training_metadata.json").read_text()) == {
        "epoch": 2,
        "weights": "epoch-2.weights.h5",
    }
    assert sorted(p.name for p in backup.iterdir()) == [
        "epoch-2.weights.h5",
        "training_metadata.json",
    ]

    resumed, history = train(epochs=3, backup_dir=backup)
    assert len(history.history["loss"]) == 1  # only the third epoch ran again
    assert not backup.exists()  # deleted once training ends
    assert_same_weights(resumed.model, reference.model, atol=1e-6)
    # Adam's state came back too (its step count drives the learning-rate schedule).
    assert int(resumed.model.optimizer.iterations) == int(reference.model.optimizer.iterations)
