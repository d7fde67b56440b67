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
