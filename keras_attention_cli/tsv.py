"""Reading and writing source<TAB>target pairs in UTF-8 TSV files."""

from pathlib import Path

from keras_attention_cli.files import read_utf8


class TsvError(ValueError):
    """A TSV file that cannot be read as pairs; the message names file and line."""


def read_pairs(path):
    """Reads `(source, target)` pairs from a UTF-8 TSV file.

    Each line is `source<TAB>target`. Blank lines are skipped and counted;
    any other line without exactly one tab, or with an empty side, is an
    error naming the file and line number: nothing is dropped silently.

    Returns:
        `(pairs, blank_lines)`: the list of pairs and how many blank lines
        were skipped.
    """
    path = Path(path)
    text = read_utf8(path, TsvError)
    pairs, blank_lines = [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            blank_lines += 1
            continue
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
        pairs.append((source, target))
    if not pairs:
        raise TsvError(f"{path}: no pairs (the file is empty or blank)")
    return pairs, blank_lines


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
