"""The same command line, seed and `--threads` give the same model on one
core as on two (`taskset`): what a recipe needs to give the same model on
any machine.

Without `--threads`, TensorFlow runs one intra-op thread per core, a
matmul's sums are split differently on one core and on two, and this
model's weights already differ after one epoch (130,467 of 257,614, by up
to 4e-8, measured with TensorFlow 2.21): its logged losses still agree to
5 digits, so the test compares the weights themselves, bit for bit.
"""

import csv
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from keras_attention.data.generators import date_pairs
from keras_attention_cli import layout
from keras_attention_cli.tsv import write_pairs

pytestmark = [
    pytest.mark.tensorflow_only,
    pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset (util-linux)"),
]


def _train_on(cores, folder, data, threads, precision):
    """`(training log rows without their times, _weights(...))` of a
    model trained with `--threads threads --precision precision` on the CPU
    cores `cores` ("0,1")."""
    out = folder / f"model_on_{cores.replace(',', '_')}"
    command = [
        "taskset", "-c", cores, sys.executable, "-m", "keras_attention_cli", "train",
        "--data", str(data), "--out", str(out), "--epochs", "1", "--units", "128",
        "--embedding-dim", "8", "--batch-size", "64", "--seed", "3", "--threads", str(threads),
        "--precision", precision, "--no-export",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{precision}, {threads} thread{'s' if threads > 1 else ''})" in result.stdout
    with open(out / layout.TRAINING_LOG_FILE, encoding="utf-8") as log:
        rows = [{**row, "epoch_seconds": None} for row in csv.DictReader(log)]
    return rows, _weights(out)


def _weights(folder):
    """`(path, array)` of every weight of the model saved in `folder`, in
    the model's order (a second model loaded here gets other layer names)."""
    import keras

    from keras_attention.translator import Translator

    model = Translator.load(folder).model
    return [(weight.path, keras.ops.convert_to_numpy(weight)) for weight in model.weights]


# The G2P recipe's line, and its variant for CPUs with bfloat16 instructions
# (docs/g2p.md); on a CPU without them TensorFlow emulates bfloat16, and this
# checks that it is as deterministic.
@pytest.mark.parametrize("threads, precision", [(2, "float32"), (1, "mixed_bfloat16")])
def test_a_models_weights_are_the_same_on_one_core_and_on_two_with_the_same_threads(
    threads, precision, tmp_path
):
    if not {0, 1} <= os.sched_getaffinity(0):
        pytest.skip("needs cores 0 and 1")
    write_pairs(tmp_path / "train.tsv", date_pairs(1000, seed=1))
    one_log, one_core = _train_on("0", tmp_path, tmp_path / "train.tsv", threads, precision)
    two_log, two_cores = _train_on("0,1", tmp_path, tmp_path / "train.tsv", threads, precision)
    assert len(one_log) == 1
    assert one_log == two_log  # every logged number, to the last digit
    assert len(one_core) == len(two_cores) and len(one_core) > 5
    for (name, weight), (_, other) in zip(one_core, two_cores):
        np.testing.assert_array_equal(weight, other, err_msg=name)
