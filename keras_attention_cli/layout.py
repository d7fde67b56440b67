"""The files and folders of a model folder (what `keras-attention train`
writes), named in one place, and its manifest, in plain Python: the command
line checks a folder before it imports TensorFlow.

The manifest, written last and atomically by `Translator.save`, records a
format version and the SHA-256 of every file `Translator.load` reads, so
that a file damaged or swapped after training (a truncated model, a
vocabulary copied from another model) is refused with a message that says
which, instead of loading into nonsense. A folder written before manifests
existed has none and still loads.
"""

import hashlib
import json
from pathlib import Path

MODEL_FILE = "model.keras"
SOURCE_VOCABULARY_FILE = "source_vocabulary.json"
TARGET_VOCABULARY_FILE = "target_vocabulary.json"
SETTINGS_FILE = "translator.json"
MANIFEST_FILE = "manifest.json"
TRAINING_LOG_FILE = "training_log.csv"
# The run's `ModelConfig` and `TrainingConfig`, for the record (not loaded).
CONFIG_FILE = "config.json"
BACKUP_FOLDER = "backup"
SAVED_MODEL_FOLDER = "saved_model"
# What `Translator.load` reads.
MODEL_FILES = (MODEL_FILE, SOURCE_VOCABULARY_FILE, TARGET_VOCABULARY_FILE, SETTINGS_FILE)
MANIFEST_FORMAT = 1


class ModelFolderError(ValueError):
    """A model folder that cannot be loaded as it is; the message starts
    with the folder and says what is wrong."""


def check_model_folder(directory, checksums=True):
    """Raises `FileNotFoundError` naming what is missing unless `directory`
    holds every file of `MODEL_FILES`, and `ModelFolderError` if its
    manifest is unreadable or (with `checksums`, which reads every file) a
    file no longer matches it."""
    directory = Path(directory)
    missing = [name for name in MODEL_FILES if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{directory} is not a trained model folder: missing {', '.join(missing)}"
        )
    manifest = read_manifest(directory)
    if manifest is None or not checksums:
        return
    for name in MODEL_FILES:
        recorded = manifest["files"].get(name)
        if recorded is None:
            raise ModelFolderError(f"{directory}: {MANIFEST_FILE} does not list {name}")
        if file_digest(directory / name) != recorded:
            raise ModelFolderError(
                f"{directory}: {name} is not the file this model was saved with (its SHA-256 "
                "differs "
                f"from {MANIFEST_FILE}'s): it was damaged or replaced; save the model again"
            )


def read_manifest(directory):
    """The manifest of `directory` as a dict, or None if it has none."""
    path = Path(directory) / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFolderError(
            f"{path.parent}: {MANIFEST_FILE} is not valid JSON ({error})"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ModelFolderError(f"{path.parent}: {MANIFEST_FILE} has no 'files' table")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ModelFolderError(
            f"{path.parent}: {MANIFEST_FILE} has format {manifest.get('format')!r}; this version "
            "of "
            f"keras_attention reads format {MANIFEST_FORMAT}"
        )
    return manifest


def manifest_text(directory, **facts):
    """The manifest of the files of `MODEL_FILES` now in `directory`, with
    `facts` (vocabulary sizes, ...) beside them, as JSON text."""
    files = {name: file_digest(Path(directory) / name) for name in MODEL_FILES}
    return json.dumps({"format": MANIFEST_FORMAT, **facts, "files": files}, indent=1)


def file_digest(path):
    """The SHA-256 of the file at `path`, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
