"""The same command line and seed give the same training on one core as
on two (`taskset`): what a recipe needs to give the same model on any
machine, checked on a small model."""

import csv
import os
import shutil
import subprocess
import sys

import pytest

from keras_attention.data.generators import date_pairs
from keras_attention_cli.tsv import write_pairs

pytestmark = [
    pytest.mark.tensorflow_only,
    pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset (util-linux)"),
]


def _train_on(cores, folder, data):
    out = folder / f"model_on_{cores.replace(',', '_')}"
    command = [
        "taskset",
        "-c",
        cores,
        sys.executable,
        "-m",
        "keras_attention_cli",
        "train",
        "--data",
        str(data),
        "--out",
        str(out),
        "--epochs",
        "2",
        "--units",
        "32",
        "--embedding-dim",
        "8",
        "--batch-size",
        "64",
        "--seed",
        "3",
        "--no-export",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out / "training_log.csv", encoding="utf-8") as log:
        return [
            {k: v for k, v in row.items() if k != "epoch_seconds"} for row in csv.DictReader(log)
        ]


def test_a_small_models_training_log_is_the_same_on_one_core_and_on_two(tmp_path):
    if not {0, 1} <= os.sched_getaffinity(0):
        pytest.skip("needs cores 0 and 1")
    write_pairs(tmp_path / "train.tsv", date_pairs(1000, seed=1))
    one_core = _train_on("0", tmp_path, tmp_path / "train.tsv")
    two_cores = _train_on("0,1", tmp_path, tmp_path / "train.tsv")
    assert len(one_core) == 2
    for one, two in zip(one_core, two_cores):
        assert one.keys() == two.keys()
        for key in one:
            assert float(one[key]) == pytest.approx(float(two[key]), rel=1e-5), key
