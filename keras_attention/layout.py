"""The files and folders of a model folder (what `keras-attention train`
writes), named in one place, in plain Python: the command line checks a
folder before it imports TensorFlow."""

from pathlib import Path

MODEL_FILE = "model.keras"
SOURCE_VOCABULARY_FILE = "source_vocabulary.json"
TARGET_VOCABULARY_FILE = "target_vocabulary.json"
SETTINGS_FILE = "translator.json"
TRAINING_LOG_FILE = "training_log.csv"
BACKUP_FOLDER = "backup"
SAVED_MODEL_FOLDER = "saved_model"
# What `Translator.load` needs.
MODEL_FILES = (MODEL_FILE, SOURCE_VOCABULARY_FILE, TARGET_VOCABULARY_FILE, SETTINGS_FILE)


def check_model_folder(directory):
    """Raises `FileNotFoundError`, naming what is missing, unless
    `directory` holds every file of `MODEL_FILES`."""
    missing = [name for name in MODEL_FILES if not (Path(directory) / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} is not a trained model folder: missing {', '.join(missing)}")
