import keras
import pytest

from keras_attention import keras_internals


def test_the_installed_keras_is_one_the_workarounds_were_tested_with():
    keras_internals.check_keras_version("anything")  # the pinned Keras passes


def test_another_keras_release_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(keras, "version", lambda: "3.99.0")
    with pytest.raises(
        RuntimeError,
        match=r"resumable training .* tested only with Keras 3.15; this is Keras 3.99.0",
    ):
        keras_internals.BackupHooks("somewhere")
    with pytest.raises(RuntimeError, match="keras-team/keras#20585"):
        keras_internals.replace_symbolic_build(object(), None)


def _dependency_range(distribution):
    """The version range `pyproject.toml` gives `distribution`."""
    from pathlib import Path

    from packaging.requirements import Requirement

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads(
        (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    )
    for line in pyproject["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.name == distribution:
            return requirement.specifier
    raise AssertionError(f"{distribution} is not a dependency")


@pytest.mark.parametrize("newer", ["3.16.0", "3.20.1", "4.0.0"])
def test_a_newer_keras_is_excluded_by_the_range_that_pip_installs(monkeypatch, newer):
    # A newer Keras would fail at the workarounds' first use, so the range
    # must keep pip from installing it.
    monkeypatch.setattr(keras, "version", lambda: newer)
    with pytest.raises(RuntimeError, match=f"this is Keras {newer}"):
        keras_internals.check_keras_version("anything")
    assert not _dependency_range("keras").contains(newer)


def test_every_keras_the_range_allows_is_one_the_workarounds_were_tested_with():
    allowed = _dependency_range("keras")
    for minor in range(10, 30):
        for patch in (0, 9):
            version = f"3.{minor}.{patch}"
            assert allowed.contains(version) == (f"3.{minor}" in keras_internals.TESTED_KERAS), (
                version
            )
