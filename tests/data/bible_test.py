import pytest

from keras_attention.data import bible


def test_clean_verse_drops_notes_and_headings_and_keeps_a_psalms_title():
    markup = (
        '<div type="x-milestone"/><title type="section">Heading</title>'
        '<title canonical="true" type="psalm">A Psalm by David.</title> <l level="1"/>'
        'Yahweh, <w lemma="strong:H1">how</w> many<note placement="foot"><reference>3:1 '
        "</reference>A note.</note>are &amp; “were” <w>my</w>  foes!<note>x</note> "
    )
    assert bible.clean_verse(markup) == "A Psalm by David. Yahweh, how many are & “were” my foes!"


def test_a_note_between_two_words_leaves_one_space():
    assert bible.clean_verse("God<note>1:1 Elohim</note><w>created</w>") == "God created"
    assert bible.clean_verse("earth<note>n</note>.") == "earth."


def test_split_by_chapter_keeps_each_chapter_on_one_side_and_depends_on_the_seed():
    pairs = [
        ((book, chapter, verse), f"{book} {chapter}:{verse} es", f"{book} {chapter}:{verse} en")
        for book in ("Gen", "Exod", "Matt")
        for chapter in range(1, 41)
        for verse in range(1, 4)
    ]
    splits = bible.split_by_chapter(pairs, seed=0)
    assert [len(splits[name]) for name in ("train", "dev", "test")] == [324, 18, 18]
    chapters = {
        name: {tuple(source.split()[:2]) for source, _ in pairs_} for name, pairs_ in splits.items()
    }
    assert not chapters["train"] & chapters["dev"] and not chapters["dev"] & chapters["test"]
    assert bible.split_by_chapter(pairs, seed=0) == splits
    assert bible.split_by_chapter(pairs, seed=1) != splits
    english_first = bible.split_by_chapter(pairs, seed=0, direction="eng-spa")
    assert english_first == {
        name: [(english, spanish) for spanish, english in pairs_] for name, pairs_ in splits.items()
    }
    with pytest.raises(
        ValueError, match="direction: expected one of spa-eng, eng-spa, got 'es-en'"
    ):
        bible.split_by_chapter(pairs, direction="es-en")


def test_a_folder_without_the_modules_says_how_to_get_them(tmp_path):
    (tmp_path / "mods.d").mkdir()
    pytest.importorskip("pysword")
    with pytest.raises(bible.MissingBible) as info:
        bible.read_verse_pairs(tmp_path)
    message = str(info.value)
    assert (
        "no spaRV1909eb or SpaRV1909 or SpaRV module (Debian package sword-text-sparv)" in message
    )
    assert "apt-get install sword-text-sparv sword-text-web" in message


def test_without_pysword_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pysword.modules", None)
    (tmp_path / "mods.d").mkdir()
    with pytest.raises(bible.MissingBible, match="pip install pysword"):
        bible.read_verse_pairs(tmp_path)


def test_the_debian_modules_give_aligned_verses_when_installed():
    try:
        path = bible.find_sword_path()
        pairs, skipped = bible.read_verse_pairs(path)
    except bible.MissingBible:
        pytest.skip("the SWORD modules are not installed (apt-get install sword-text-sparv ...)")
    assert len(pairs) > 30000 and skipped < 100
    reference, spanish, english = pairs[0]
    assert reference == ("Gen", 1, 1)
    assert spanish == "EN el principio crió Dios los cielos y la tierra."
    assert english == "In the beginning, God created the heavens and the earth."


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(bible)
    assert result.attempted > 0 and result.failed == 0
