"""Resumable training: Keras' BackupAndRestore, with no half-written files.

Works on every backend (it writes `.weights.h5` files and JSON only).
"""

import json
from pathlib import Path

from keras_attention.keras_internals import BackupHooks
from keras_attention_cli.files import atomic_write

METADATA_FILE = "training_metadata.json"


class EpochBackup(BackupHooks):
    """`keras.callbacks.BackupAndRestore` that backs up at the end of every
    epoch and can never leave a torn backup.

    Each backup is written as `epoch-N.weights.h5` (the model's and the
    optimizer's variables) under a temporary name and renamed; then
    `training_metadata.json`, naming that file, is written the same way. The
    metadata's rename is the commit: a process killed at any moment leaves
    either the previous backup or the new one, whole. `fit` run again with
    the same `backup_dir` restores the weights and continues at the epoch
    after the backup; with a data order that depends only on the epoch (see
    `keras_attention.data.pipeline.make_dataset`), it ends with the weights
    an uninterrupted run would have. The folder is deleted when training
    ends.
    """

    def __init__(self, backup_dir):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=True)

    def restore_backup(self):
        metadata = read_backup_metadata(self.backup_dir)
        if metadata is None:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(Path(self.backup_dir) / metadata["weights"])
        self.set_initial_epoch(metadata["epoch"])

    def write_backup(self):
        directory = Path(self.backup_dir)
        directory.mkdir(parents=True, exist_ok=True)
        weights = f"epoch-{self.current_epoch}.weights.h5"
        atomic_write(
            directory / weights, lambda path: self.model.save_weights(path, overwrite=True)
        )
        metadata = json.dumps({"epoch": self.current_epoch, "weights": weights})
        atomic_write(
            directory / METADATA_FILE,
            lambda path: Path(path).write_text(metadata, encoding="utf-8"),
        )
        for old in directory.glob("epoch-*.weights.h5"):
            if old.name != weights:
                old.unlink()


def read_backup_metadata(backup_dir):
    """`{"epoch": N, "weights": file}` of the backup in `backup_dir`, or None."""
    path = Path(backup_dir) / METADATA_FILE if backup_dir else None
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
