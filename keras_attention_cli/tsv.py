"""Reading and writing source<TAB>target pairs in UTF-8 TSV files: read
whole (`read_pairs`) or as a stream (`iter_pairs`, `Corpus`)."""

import copy
import glob
import gzip
import itertools
from pathlib import Path

import numpy as np

# Characters that make an argument a glob pattern rather than a file name.
_GLOB_CHARACTERS = frozenset("*?[")
_GZIP_MAGIC = b"\x1f\x8b"
# A `Corpus` reads this many lines from one file before the next file's turn.
BLOCK_LINES = 4096


class TsvError(ValueError):
    """A TSV file that cannot be read as pairs; the message names file and line."""


def resolve_paths(patterns):
    """The files that `patterns` name, in order: each a path, or a glob
    pattern (`corpus/part-*.tsv`) whose matches are taken sorted.

    Raises:
        TsvError: a file is missing, or a pattern matches no file.
    """
    paths = []
    for pattern in _as_list(patterns):
        if Path(pattern).is_file():
            paths.append(Path(pattern))
        elif _GLOB_CHARACTERS & set(str(pattern)):
            matches = sorted(Path(match) for match in glob.glob(str(pattern)))
            matches = [match for match in matches if match.is_file()]
            if not matches:
                raise TsvError(f"{pattern}: no file matches this pattern")
            paths += matches
        else:
            raise TsvError(f"{pattern}: no such file")
    return paths


def iter_pairs(patterns, blank_lines=None):
    """Yields the `(source, target)` pairs of UTF-8 TSV files, one line at a
    time: nothing but the current line is held.

    `patterns` is one path or pattern, or a list of them
    (`resolve_paths`); each file may be gzip-compressed (recognised by its
    first bytes). Each line is `source<TAB>target`, ended by `\n` (a `\r`
    before it is dropped). Blank lines are skipped and counted per file in
    the dict `blank_lines` when one is given; any other line without
    exactly one tab, or with an empty side, or that is not valid UTF-8,
    raises `TsvError` naming the file and line: nothing is dropped silently.
    """
    for path in resolve_paths(patterns):
        with open(path, "rb") as probe:
            compressed = probe.read(2) == _GZIP_MAGIC
        with (gzip.open if compressed else open)(path, "rb") as file:
            for number, raw in enumerate(file, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise TsvError(f"{path}:{number}: not valid UTF-8 ({error.reason})") from None
                line = line.removesuffix("\n").removesuffix("\r")
                if not line.strip():
                    if blank_lines is not None:
                        blank_lines[path] = blank_lines.get(path, 0) + 1
                    continue
                yield _parse(path, number, line)


def _parse(path, number, line):
    fields = line.split("\t")
    if len(fields) != 2:
        raise TsvError(
            f"{path}:{number}: expected 'source<TAB>target' (one tab), "
            f"found {len(fields) - 1} tabs: {line[:60]!r}"
        )
    source, target = fields
    if not source.strip() or not target.strip():
        side = "source" if not source.strip() else "target"
        raise TsvError(f"{path}:{number}: empty {side}: {line[:60]!r}")
    return source, target


def read_pairs(patterns):
    """Reads `(source, target)` pairs from UTF-8 TSV files (`iter_pairs`:
    one path or glob pattern, or a list of them; plain or gzip).

    Returns:
        `(pairs, blank_lines)`: the list of pairs and how many blank lines
        were skipped.

    Raises:
        TsvError: a malformed line (naming file and line), a missing file,
            or no pairs at all.
    """
    blank_lines = {}
    pairs = list(iter_pairs(patterns, blank_lines))
    if not pairs:
        names = ", ".join(str(pattern) for pattern in _as_list(patterns))
        raise TsvError(f"{names}: no pairs (the file is empty or blank)")
    return pairs, sum(blank_lines.values())


def _as_list(patterns):
    return [patterns] if isinstance(patterns, (str, Path)) else list(patterns)


class Corpus:
    """`(source, target)` pairs of UTF-8 TSV files, iterated as a stream.

    Args:
        patterns: a path or glob pattern, or a list of them
            (`keras_attention_cli.tsv.resolve_paths`).
        held_out: `None`, or `(share, seed)`: leave out the pairs that a
            draw seeded by `seed` and the pair's position gives to the held
            out share (`held_out_pairs` yields those).

    Building one reads every file once: a malformed line is a `TsvError`
    naming its file and line before anything trains; `len`, `total` (held
    out included), `held_out_count`, `blank_lines` and each file's pairs
    (`counts`) are counted. Plain Python (and numpy): the command checks
    its files before TensorFlow.
    """

    def __init__(self, patterns, held_out=None):
        self.paths = resolve_paths(patterns)
        self.held_out, self.share = None, None
        blank_lines = {}
        self.counts = [sum(1 for _ in iter_pairs(path, blank_lines)) for path in self.paths]
        self.total = sum(self.counts)
        self.blank_lines = sum(blank_lines.values())
        self._hold_out(held_out)

    def with_held_out(self, share, seed):
        """The same files with `share` of the pairs held out (a draw seeded
        by `seed` and each pair's position); the files are not read again."""
        corpus = copy.copy(self)
        corpus._hold_out((share, seed))
        return corpus

    def _hold_out(self, held_out):
        self.held_out, self.held_out_count = held_out, 0
        if held_out:
            for block in range(-(-self.total // BLOCK_LINES)):
                draws = self._draws(block)[: self.total - block * BLOCK_LINES]
                self.held_out_count += int(draws.sum())

    def _draws(self, block):
        """Which of the `BLOCK_LINES` positions of block `block` are held out."""
        share, seed = self.held_out
        return np.random.default_rng([seed, block]).random(BLOCK_LINES) < share

    def shard(self, index, count):
        """Share `index` of `count` (a worker's own pairs): with no pairs held
        out and at least `count` files, files `index`, `index + count`, ...
        (the other files are not read); otherwise the pairs at positions
        `index`, `index + count`, ... of the stream. The shares of `0 ..
        count - 1` are disjoint and together hold every pair (of this
        corpus: a share of a share of the lines is a share of its share)."""
        if not 0 <= index < count:
            raise ValueError(f"`index` must be in [0, count) = [0, {count}). Received: {index}")
        corpus = copy.copy(self)
        if not self.held_out_count and self.share is None and len(self.paths) >= count:
            corpus.paths, corpus.counts = self.paths[index::count], self.counts[index::count]
            corpus.total = sum(corpus.counts)
        else:
            first, step = self.share or (0, 1)
            corpus.share = (first + step * index, step * count)
        return corpus

    def __len__(self):
        """The pairs it yields (the held-out ones and, for a share of the
        lines, the other shares' not counted)."""
        kept = self.total - self.held_out_count
        if self.share is None:
            return kept
        index, count = self.share
        return max(0, -(-(kept - index) // count))

    def __iter__(self):
        pairs = (pair for pair, held in self._marked() if not held)
        if self.share is None:
            return pairs
        index, count = self.share
        return itertools.islice(pairs, index, None, count)

    def held_out_pairs(self):
        """The pairs `held_out` leaves out of iteration, in order."""
        return (pair for pair, held in self._marked() if held)

    def _marked(self):
        """Every pair, round-robin over the files, with whether it is held
        out (a draw per position, seeded, `BLOCK_LINES` draws at a time)."""
        readers = [iter_pairs(path) for path in self.paths]
        position, draws = 0, None
        while readers:
            for reader in list(readers):
                block = list(itertools.islice(reader, BLOCK_LINES))
                if len(block) < BLOCK_LINES:
                    readers.remove(reader)
                for pair in block:
                    if self.held_out and position % BLOCK_LINES == 0:
                        draws = self._draws(position // BLOCK_LINES)
                    yield pair, draws is not None and bool(draws[position % BLOCK_LINES])
                    position += 1


def write_pairs(path, pairs):
    """Writes `(source, target)` pairs as a UTF-8 TSV file."""
    lines = []
    for source, target in pairs:
        if "\t" in source or "\n" in source or "\t" in target or "\n" in target:
            raise ValueError(
                f"pairs must not contain tabs or newlines. Received: {(source, target)!r}"
            )
        lines.append(f"{source}\t{target}\n")
    Path(path).write_text("".join(lines), encoding="utf-8")


def write_splits(directory, splits):
    """Writes `{name: pairs}` as `directory/name.tsv` each; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, pairs in splits.items():
        paths[name] = directory / f"{name}.tsv"
        write_pairs(paths[name], pairs)
    return paths
