"""Spanish → English (or English → Spanish) Bible verses from SWORD modules.

The Reina-Valera 1909 (`spaRV1909eb`, Debian's `sword-text-sparv`) and the
World English Bible (`engWEB2015eb`, Debian's `sword-text-web`), read with
`pysword` (MIT; `pip install pysword`) and aligned by book, chapter and
verse. The text is kept as the modules write it, markup removed: footnotes
and non-canonical headings are dropped, a psalm's canonical title kept.
Nothing is filtered by length: the over-long verses of a corpus as
extracted are the training side's to handle (`max_source_length`).
"""

import contextlib
import functools
import html
import os
import random
import re
import types
import zlib
from pathlib import Path

from keras_attention_cli.options import BIBLE_DIRECTIONS

# The module names each side may have (the Debian packages' first).
SPANISH_MODULES = ("spaRV1909eb", "SpaRV1909", "SpaRV")
ENGLISH_MODULES = ("engWEB2015eb", "WEB")
# Where SWORD modules live when no path is given (as the SWORD library looks).
DEFAULT_SWORD_PATHS = ("~/.sword", "/usr/share/sword", "/usr/local/share/sword")
SHARES = (0.9, 0.05, 0.05)
SPLIT_NAMES = ("train", "dev", "test")
INSTALL_HINT = (
    "apt-get install sword-text-sparv sword-text-web (without root: apt-get download "
    "sword-text-sparv sword-text-web, dpkg -x each .deb into a folder DIR, then pass "
    "--sword-path DIR/usr/share/sword)"
)

_NOTE = re.compile(r"<note\b[^>]*>.*?</note>", re.DOTALL)
_TITLE = re.compile(r"<title\b(?P<attributes>[^>]*)>(?P<text>.*?)</title>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
# Where a footnote sat between two words with no space, one is put back.
_GAP = "\x00"


class MissingBible(LookupError):
    """A SWORD module, or the `pysword` package, is not there; the message
    says how to get it."""


def clean_verse(markup):
    """A verse's OSIS markup as plain text: footnotes and headings other
    than a psalm's canonical title removed, tags stripped, entities
    decoded, whitespace collapsed.

    >>> clean_verse('<w lemma="x">In</w> the <w>beginning</w>, God<note>1:1 Elohim</note>'
    ...             '<w>created</w> the earth. ')
    'In the beginning, God created the earth.'
    """
    text = _NOTE.sub(_GAP, markup)
    text = _TITLE.sub(
        lambda match: match["text"] + " " if 'canonical="true"' in match["attributes"] else "",
        text,
    )
    text = html.unescape(_TAG.sub("", text))
    text = re.sub(rf"(?<=\w){_GAP}(?=\w)", " ", text).replace(_GAP, "")
    return " ".join(text.split())


def find_sword_path(sword_path=None):
    """The folder holding both modules: `sword_path`, or `$SWORD_PATH`, or
    the first of `DEFAULT_SWORD_PATHS` that has a `mods.d` folder."""
    if sword_path is not None:
        return Path(sword_path).expanduser()
    candidates = [os.environ["SWORD_PATH"]] if os.environ.get("SWORD_PATH") else []
    candidates += DEFAULT_SWORD_PATHS
    for candidate in candidates:
        if (Path(candidate).expanduser() / "mods.d").is_dir():
            return Path(candidate).expanduser()
    raise MissingBible(
        f"no SWORD modules found (looked in {', '.join(candidates)}): {INSTALL_HINT}"
    )


def read_verse_pairs(sword_path=None):
    """Every verse that both Bibles have, in canonical order.

    Returns:
        `(pairs, skipped)`: a list of `((book, chapter, verse), spanish,
        english)` and the number of verses left out because one side was
        empty or missing.

    Raises:
        MissingBible: `pysword` is not installed, or a module is missing.
    """
    try:
        from pysword.modules import SwordModules
    except ImportError:
        raise MissingBible(
            "reading SWORD modules needs the `pysword` package: pip install pysword (or pip "
            'install "keras-seq2seq-attention[translation]")'
        ) from None
    path = find_sword_path(sword_path)
    modules = SwordModules(str(path))
    try:
        found = modules.parse_modules()
    except Exception as error:  # pysword raises bare exceptions for a bad folder
        raise MissingBible(f"{path}: not a SWORD module folder ({error}): {INSTALL_HINT}") from None
    bibles = []
    for names, package in (
        (SPANISH_MODULES, "sword-text-sparv"),
        (ENGLISH_MODULES, "sword-text-web"),
    ):
        name = next((name for name in names if name in found), None)
        if name is None:
            raise MissingBible(
                f"{path}: no {' or '.join(names)} module (Debian package {package}); found "
                f"{sorted(found) or 'none'}: {INSTALL_HINT}"
            )
        bibles.append(modules.get_bible_from_module(name))
    pairs, skipped = [], 0
    with _blocks_decompressed_once():
        for books in bibles[0].get_structure().get_books().values():
            for book in books:
                for chapter, verses in enumerate(book.chapter_lengths, start=1):
                    for verse in range(1, verses + 1):
                        texts = [_verse(bible, book.osis_name, chapter, verse) for bible in bibles]
                        if all(texts):
                            pairs.append(((book.osis_name, chapter, verse), *texts))
                        else:
                            skipped += 1
    return pairs, skipped


@contextlib.contextmanager
def _blocks_decompressed_once():
    """pysword decompresses a verse's whole block (a book) for every verse
    it reads: 31,000 verses took over a minute. For the block, its module
    sees a `zlib` whose `decompress` remembers the last few blocks."""
    import pysword.bible

    original = pysword.bible.zlib
    pysword.bible.zlib = types.SimpleNamespace(
        decompress=functools.lru_cache(maxsize=4)(zlib.decompress)
    )
    try:
        yield
    finally:
        pysword.bible.zlib = original


def _verse(bible, book, chapter, verse):
    """One verse's plain text, or "" where the module has none."""
    try:
        markup = list(bible.get_iter(books=[book], chapters=[chapter], verses=[verse], clean=False))
    except (ValueError, IndexError, KeyError):  # not in this module's versification
        return ""
    return clean_verse(" ".join(markup))


def split_by_chapter(pairs, seed=0, direction="spa-eng"):
    """`{"train", "dev", "test"}` lists of `(source, target)` pairs,
    `(spanish, english)` for `direction="spa-eng"` and the other way round
    for `"eng-spa"`: the chapters shuffled with `seed` and cut 90/5/5, so
    that no chapter is on two sides (neighbouring verses repeat each
    other). Verses keep their order within a split; the split is the same
    in both directions."""
    if direction not in BIBLE_DIRECTIONS:
        raise ValueError(
            f"direction: expected one of {', '.join(BIBLE_DIRECTIONS)}, got {direction!r}"
        )
    chapters = sorted({reference[:2] for reference, _, _ in pairs})
    random.Random(seed).shuffle(chapters)
    ends = [round(len(chapters) * sum(SHARES[: i + 1])) for i in range(len(SHARES))]
    split_of = {}
    for index, chapter in enumerate(chapters):
        split_of[chapter] = next(i for i, end in enumerate(ends) if index < end)
    splits = {name: [] for name in SPLIT_NAMES}
    for reference, spanish, english in pairs:
        pair = (spanish, english) if direction == "spa-eng" else (english, spanish)
        splits[SPLIT_NAMES[split_of[reference[:2]]]].append(pair)
    return splits
