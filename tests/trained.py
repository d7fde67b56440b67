"""A small trained date model, shared by the files that test what is built
from one (the SavedModel, the LiteRT file): trained once per test run, by
whichever worker process asks first, and loaded from disk by the others."""

import fcntl

import keras

from keras_attention import training
from keras_attention.data.generators import date_pairs
from keras_attention.translator import Translator
from keras_attention_cli.layout import MANIFEST_FILE


def train_date_translator():
    """A Translator trained on 10,000 date pairs (seed 4) for 3 epochs.

    Big enough to learn most dates (97.9% exact match on 1,000 other pairs
    with the both-ways default; 3 epochs of 6,000 pairs gave 10%, 2 of
    8,000 2%), so that comparing exact match between what is built from it
    and the package means something.
    """
    keras.utils.set_random_seed(0)
    pairs = date_pairs(10_000, seed=4)
    translator = training.build_translator(pairs, units=128, embedding_dim=16)
    training.fit(translator, pairs, epochs=3, batch_size=64, verbose=0)
    return translator


def train_input_feeding_translator(pairs):
    """A small Translator with input feeding and the normalised attentional
    layer (what the exports must carry besides the plain model), trained
    one epoch on `pairs`."""
    translator = training.build_translator(
        pairs, units=16, embedding_dim=8, attentional_units=12, attentional_norm=True,
        input_feeding=True,
    )  # fmt: skip
    training.fit(translator, pairs, epochs=1, batch_size=32, verbose=0)
    return translator


def shared_date_translator(folder):
    """`train_date_translator()`, saved in `folder` by the first process of
    the run that gets here (the others wait on a lock), loaded by the rest."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        model = folder / "date_model"
        if not (model / MANIFEST_FILE).exists():
            train_date_translator().save(model)
    return Translator.load(model)
