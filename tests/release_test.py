"""The release: wheel and sdist build and pass twine, the wheel installs into a
fresh environment and works outside the checkout, the API reference builds."""

import importlib.util
import os
import subprocess
import sys
import sysconfig
import tarfile
import types
import zipfile
from pathlib import Path

import pytest

import keras_attention

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "keras_seq2seq_attention"  # the wheel's file-name form of keras-seq2seq-attention


def run(command, cwd, timeout=900):
    # Nothing of the checkout on the path: the installed copy must stand alone.
    env = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-3000:])
    return result.stdout


def load_builder():
    spec = importlib.util.spec_from_file_location(
        "build_api_reference", ROOT / "docs" / "build_api_reference.py"
    )
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    return builder


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_wheel_installs_into_a_fresh_environment_and_works_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--outdir", dist, ROOT], cwd=tmp_path)
    [wheel] = dist.glob("*.whl")
    [sdist] = dist.glob("*.tar.gz")
    version = wheel.name.split("-")[1]
    assert wheel.name == f"{DISTRIBUTION}-{version}-py3-none-any.whl"
    assert version == keras_attention.__version__
    run([sys.executable, "-m", "twine", "check", "--strict", wheel, sdist], cwd=tmp_path)

    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in (
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "pyproject.toml",
        "setup.py",
        "examples/quickstart.py",
        "tests/release_test.py",
        "tests/run_backends.py",
    ):
        assert required in in_sdist, required
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = archive.namelist()
    assert f"{DISTRIBUTION}-{version}.dist-info/licenses/LICENSE" in in_wheel
    assert not any(name.startswith("tests/") for name in in_wheel)

    # A fresh environment that sees this one's packages after its own (a
    # path file, not a site folder: the checkout's editable install stays
    # out), so the dependencies are not installed again: pip installed them
    # from the index for this run already (`.ci/run`). This pip installs
    # the wheel into it (it has no pip or setuptools of its own to shadow
    # this one's), and `pip check` says every dependency is a version the
    # wheel asks for.
    environment = tmp_path / "fresh"
    run([sys.executable, "-m", "venv", "--without-pip", environment], cwd=tmp_path)
    fresh_site = run(
        [
            environment / "bin" / "python",
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        cwd=tmp_path,
    ).strip()
    Path(fresh_site, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = [sys.executable, "-m", "pip", "--python", environment / "bin" / "python"]
    run([*pip, "install", "--quiet", "--no-deps", wheel], cwd=tmp_path)
    run([*pip, "check"], cwd=tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    help_text = run([environment / "bin" / "keras-attention", "--help"], cwd=outside)
    assert "usage: keras-attention" in help_text
    installed = run(
        [
            environment / "bin" / "python",
            "-c",
            (
                "import importlib.metadata, keras_attention\n"
                "from keras_attention import Attention, AttentionWeight, TimeAttention, WeightSum\n"
                "print(keras_attention.__version__, "
                "importlib.metadata.version('keras-seq2seq-attention'),"
                " keras_attention.__file__)"
            ),
        ],
        cwd=outside,
    ).split()
    assert installed[0] == installed[1] == version
    assert Path(installed[2]).is_relative_to(environment), installed[2]

    example = outside / "quickstart.py"
    example.write_text(
        (ROOT / "examples" / "quickstart.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    printed = run(
        [environment / "bin" / "python", example, "--epochs", "1", "--png", outside / "a.png"],
        cwd=outside,
    )
    assert "token accuracy on 500 test sequences:" in printed
    assert (outside / "a.png").stat().st_size > 1000


@pytest.mark.tensorflow_only
def test_api_reference_builds_with_every_public_name_and_the_command_line(tmp_path):
    run([sys.executable, ROOT / "docs" / "build_api_reference.py", "--out", tmp_path], cwd=tmp_path)
    top = (tmp_path / "keras_attention.html").read_text(encoding="utf-8")
    for name in keras_attention.__all__:
        assert f'id="{name}"' in top, name
    cli_page = (tmp_path / "keras_attention_cli" / "main.html").read_text(encoding="utf-8")
    for command in ("train", "evaluate", "translate", "plot", "export", "demo", "data"):
        assert f"keras-attention {command} --help" in cli_page, command


def test_api_reference_refuses_a_public_name_without_a_docstring():
    builder = load_builder()
    module = types.ModuleType("keras_attention.example", "A module.")

    def documented():
        """Has one."""

    def undocumented():
        pass

    class Layer:
        """Has one."""

        def method(self):
            pass

    for value in (documented, undocumented, Layer):
        value.__module__ = module.__name__
        setattr(module, value.__name__, value)
    assert builder.missing_docstrings([module]) == [
        "keras_attention.example.undocumented",
        "keras_attention.example.Layer.method",
    ]
    assert builder.missing_docstrings([types.ModuleType("keras_attention.bare")]) == [
        "keras_attention.bare"
    ]
