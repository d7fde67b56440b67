import os

import pytest

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
