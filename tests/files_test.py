import os

import pytest

from keras_attention_cli.files import atomic_folder
from keras_attention_cli.files import atomic_write


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_gives_the_mode_of_a_new_file_and_leaves_no_temporary(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        atomic_write(
            tmp_path / "model.weights.h5", lambda temporary: open(temporary, "w").write("x")
        )
        assert os.umask(umask) == umask  # it never changed the umask
    finally:
        os.umask(previous)
    assert (tmp_path / "model.weights.h5").read_text() == "x"
    assert (tmp_path / "model.weights.h5").stat().st_mode & 0o777 == mode
    assert os.listdir(tmp_path) == ["model.weights.h5"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    (tmp_path / "a.json").write_text("old")

    def fail(temporary):
        assert temporary.endswith(".json")  # writers that insist on a suffix get it
        open(temporary, "w").write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "a.json", fail)
    assert os.listdir(tmp_path) == ["a.json"] and (tmp_path / "a.json").read_text() == "old"


def _write_folder(text):
    def write(folder):
        folder.mkdir()
        (folder / "file.txt").write_text(text, encoding="utf-8")

    return write


def test_atomic_folder_writes_a_new_folder_or_replaces_the_one_there(tmp_path):
    folder = tmp_path / "members" / "vocabularies"
    folder.parent.mkdir()
    (folder.parent / "vocabularies.partial").mkdir()  # what a killed writer left
    atomic_folder(folder, _write_folder("first"))
    atomic_folder(folder, _write_folder("second"))  # a resumed run writes it again
    assert (folder / "file.txt").read_text(encoding="utf-8") == "second"
    assert sorted(path.name for path in folder.parent.iterdir()) == ["vocabularies"]


def test_a_failed_folder_write_leaves_the_old_folder(tmp_path):
    folder = tmp_path / "vocabularies"
    atomic_folder(folder, _write_folder("first"))

    def failing(partial):
        partial.mkdir()
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_folder(folder, failing)
    assert (folder / "file.txt").read_text(encoding="utf-8") == "first"
