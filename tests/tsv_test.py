import pytest

from keras_attention_cli.tsv import TsvError
from keras_attention_cli.tsv import read_pairs
from keras_attention_cli.tsv import write_pairs


def test_round_trip_with_unicode(tmp_path):
    pairs = [("나는 학생이다", "I am a student"), ("9/27/94", "1994-09-27")]
    write_pairs(tmp_path / "pairs.tsv", pairs)
    assert read_pairs(tmp_path / "pairs.tsv") == (pairs, 0)


def test_blank_lines_are_skipped_and_counted(tmp_path):
    (tmp_path / "pairs.tsv").write_text("a\tb\n\n  \nc\td\n", encoding="utf-8")
    assert read_pairs(tmp_path / "pairs.tsv") == ([("a", "b"), ("c", "d")], 2)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (
            "a\tb\nno tab here\n",
            "pairs.tsv:2: expected 'source<TAB>target' (one tab), found 0 tabs",
        ),
        ("a\tb\nx\ty\tz\n", "pairs.tsv:2: expected 'source<TAB>target' (one tab), found 2 tabs"),
        ("a\tb\n\tb\n", "pairs.tsv:2: empty source"),
        ("a\tb\nc\t \n", "pairs.tsv:2: empty target"),
        ("", "pairs.tsv: no pairs"),
        ("\n\n", "pairs.tsv: no pairs"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, content, fragment):
    (tmp_path / "pairs.tsv").write_text(content, encoding="utf-8")
    with pytest.raises(TsvError) as info:
        read_pairs(tmp_path / "pairs.tsv")
    assert fragment in str(info.value)


def test_invalid_utf8_names_the_line(tmp_path):
    (tmp_path / "pairs.tsv").write_bytes(b"a\tb\nc\td\n\xff\te\n")
    with pytest.raises(TsvError, match="pairs.tsv:3: not valid UTF-8"):
        read_pairs(tmp_path / "pairs.tsv")


def test_missing_file(tmp_path):
    with pytest.raises(TsvError, match="no such file"):
        read_pairs(tmp_path / "missing.tsv")


def test_writing_a_tab_inside_a_pair_is_refused(tmp_path):
    with pytest.raises(ValueError, match="tabs or newlines"):
        write_pairs(tmp_path / "pairs.tsv", [("a\tb", "c")])


def _shards(tmp_path, pairs, count=3):
    """`pairs` written as `count` shards, the last gzip-compressed."""
    import gzip

    folder = tmp_path / "corpus"
    folder.mkdir()
    for index in range(count):
        path = folder / f"part-{index}.tsv"
        write_pairs(path, pairs[index::count])
        if index == count - 1:
            (folder / f"part-{index}.tsv.gz").write_bytes(gzip.compress(path.read_bytes()))
            path.unlink()
    return folder


def test_shards_globs_and_gzip_read_the_same_pairs_as_one_file(tmp_path):
    pairs = [(f"source {i}", f"target {i}") for i in range(10)]
    folder = _shards(tmp_path, pairs)
    expected = sorted(pairs)
    assert sorted(read_pairs(str(folder / "part-*"))[0]) == expected
    listed = [folder / "part-0.tsv", str(folder / "part-[12]*")]
    assert sorted(read_pairs(listed)[0]) == expected
    # Files in the order given, a pattern's matches sorted by name.
    assert read_pairs(str(folder / "part-*"))[0][:4] == pairs[0::3]


def test_a_malformed_line_in_the_third_shard_names_its_file_and_line(tmp_path):
    import gzip

    folder = _shards(tmp_path, [(f"s{i}", f"t{i}") for i in range(9)])
    third = folder / "part-2.tsv.gz"
    third.write_bytes(gzip.compress(gzip.decompress(third.read_bytes()) + b"no tab\n"))
    with pytest.raises(TsvError, match=r"part-2\.tsv\.gz:4: expected 'source<TAB>target'"):
        read_pairs(str(folder / "*.tsv*"))


def test_a_pattern_that_matches_nothing_says_so(tmp_path):
    with pytest.raises(TsvError, match=r"part-\*\.tsv: no file matches this pattern"):
        read_pairs(str(tmp_path / "part-*.tsv"))


def test_only_newlines_end_lines(tmp_path):
    # Windows line ends are read; a line separator inside a text is text.
    (tmp_path / "pairs.tsv").write_bytes("a\u2028b\tc\r\nd\te\x85f\n".encode())
    assert read_pairs(tmp_path / "pairs.tsv")[0] == [("a\u2028b", "c"), ("d", "e\x85f")]


def test_a_corpus_reads_its_files_round_robin_and_holds_out_a_seeded_share(tmp_path, monkeypatch):
    from keras_attention_cli import tsv

    monkeypatch.setattr(tsv, "BLOCK_LINES", 2)
    write_pairs(tmp_path / "a.tsv", [(f"a{i}", "x") for i in range(5)])
    write_pairs(tmp_path / "b.tsv", [(f"b{i}", "y") for i in range(3)])
    (tmp_path / "c.tsv").write_text("\n\n", encoding="utf-8")  # blank lines only
    corpus = tsv.Corpus(str(tmp_path / "*.tsv"))
    assert (len(corpus), corpus.total, corpus.blank_lines) == (8, 8, 2)
    # Two lines from each file in turn; read anew each time.
    order = ["a0", "a1", "b0", "b1", "a2", "a3", "b2", "a4"]
    assert [source for source, _ in corpus] == order == [source for source, _ in corpus]

    held = corpus.with_held_out(0.5, seed=3)
    kept, out = [s for s, _ in held], [s for s, _ in held.held_out_pairs()]
    assert sorted(kept + out) == sorted(order) and 0 < len(out) < 8
    assert (len(held), held.held_out_count) == (len(kept), len(out))
    again = corpus.with_held_out(0.5, seed=3)
    assert [s for s, _ in again.held_out_pairs()] == out
    assert len(corpus) == 8  # the corpus it came from is unchanged


def test_a_corpus_checks_every_line_when_made(tmp_path):
    from keras_attention_cli.tsv import Corpus

    write_pairs(tmp_path / "a.tsv", [("a", "b")])
    (tmp_path / "b.tsv").write_text("c\td\nbroken\n", encoding="utf-8")
    with pytest.raises(TsvError, match=r"b\.tsv:2: expected 'source<TAB>target'"):
        Corpus([tmp_path / "a.tsv", tmp_path / "b.tsv"])


def test_shards_of_a_corpus_are_disjoint_and_hold_every_pair(tmp_path):
    from keras_attention_cli.tsv import Corpus

    write_pairs(tmp_path / "a.tsv", [(f"a{i}", "x") for i in range(5)])
    write_pairs(tmp_path / "b.tsv", [(f"b{i}", "y") for i in range(3)])
    write_pairs(tmp_path / "c.tsv", [(f"c{i}", "z") for i in range(2)])
    corpus = Corpus(str(tmp_path / "*.tsv"))
    every = sorted(source for source, _ in corpus)

    # Enough files: a share is whole files, and the others are not read.
    by_files = [corpus.shard(index, 2) for index in range(2)]
    assert [[path.name for path in share.paths] for share in by_files] == [
        ["a.tsv", "c.tsv"],
        ["b.tsv"],
    ]
    assert [len(share) for share in by_files] == [7, 3]
    assert sorted(s for share in by_files for s, _ in share) == every

    # Fewer files than shares, or pairs held out: every count-th pair.
    for source in (corpus, corpus.with_held_out(0.3, seed=1)):
        shares = [source.shard(index, 4) for index in range(4)]
        read = [[s for s, _ in share] for share in shares]
        assert [len(share) for share in shares] == [len(pairs) for pairs in read]
        assert sorted(sum(read, [])) == sorted(s for s, _ in source)
        assert all(len(pairs) < len(source) for pairs in read)
    assert [s for s, _ in corpus.shard(1, 4)] == [s for s, _ in corpus][1::4]
    # A share of a share of the lines is a share of that share.
    share = corpus.shard(1, 4)
    halves = [[s for s, _ in share.shard(index, 2)] for index in range(2)]
    assert halves == [[s for s, _ in share][0::2], [s for s, _ in share][1::2]]
    assert [len(share.shard(index, 2)) for index in range(2)] == [len(h) for h in halves]
    with pytest.raises(ValueError, match=r"`index` must be in \[0, count\) = \[0, 2\)"):
        corpus.shard(2, 2)
