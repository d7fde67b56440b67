import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_quickstart_example_trains_and_plots(tmp_path):
    png = tmp_path / "attention.png"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "quickstart.py"),
            "--epochs",
            "4",
            "--png",
            str(png),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = float(result.stdout.split("token accuracy on 500 test sequences:")[1].split()[0])
    assert accuracy > 0.9
    assert png.stat().st_size > 1000


# The example runs as a serving process would: keras_attention not importable.
RUN_WITHOUT_PACKAGE = (
    "import runpy, sys; sys.modules['keras_attention'] = None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


@pytest.mark.tensorflow_only
def test_serve_savedmodel_example_translates_without_the_package(tmp_path):
    from keras_attention import training
    from keras_attention.data.generators import date_pairs
    from keras_attention.export import export_saved_model

    translator = training.build_translator(date_pairs(200, seed=1), units=8, embedding_dim=4)
    export_saved_model(translator, tmp_path / "saved_model")
    texts = ["september 27, 1994", "9/27/94", ""]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_WITHOUT_PACKAGE,
            str(ROOT / "examples" / "serve_savedmodel.py"),
            str(tmp_path / "saved_model"),
            "--signature",
            "beam_search",
            *texts,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected = translator.translate(texts, beam_width=5)["translation"]
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"{text}\t{out}" for text, out in zip(texts, expected)]
    assert lines[3].startswith("attention_weights: (3, ")


@pytest.mark.tensorflow_only
def test_no_script_shadows_a_module_tensorflow_imports():
    # `python benchmarks/x.py` puts benchmarks/ first on the import path; a
    # script there named like a module TensorFlow imports, or tries to (a
    # `litert.py` did), would be imported in its place and break
    # TensorFlow's import. Both folders in one process: one import.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path[:0] = sys.argv[1:]; "
            "import tensorflow as tf, tensorflow.lite; tf.ones(1)",
            str(ROOT / "benchmarks"),
            str(ROOT / "examples"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
