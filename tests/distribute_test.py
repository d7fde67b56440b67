"""tf.distribute training matches one process. Mirrored on two devices: the
same global batch, seed and data give the same per-epoch loss (relative
tolerance 1e-4; measured differences are about 2e-6) and the same weights
within 5e-3 (summing gradients across replicas rounds differently, and
Adam, dividing by the gradients' root mean square, turns a rounding of a
near-zero gradient into a step of up to the learning rate, 3e-3; measured:
2e-4 after 20 steps). Two workers read a share of the files each, so their
global batches hold other pairs than one process's: the same steps, about
the same losses; each tokenises only its own file for the vocabularies,
which the workers pool into those one process builds."""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attention import distribute
from keras_attention import models  # noqa: F401  (registers Seq2Seq for load_model)
from keras_attention.data.generators import date_pairs
from keras_attention_cli import main as cli
from keras_attention_cli.tsv import write_pairs
from tests.layer_checks import assert_same_weights
from tests.training_log import logged_losses

pytestmark = pytest.mark.tensorflow_only

TRAIN = [
    "train",
    "--units",
    "16",
    "--embedding-dim",
    "8",
    "--batch-size",
    "64",
    "--epochs",
    "2",
    "--seed",
    "3",
    "--validation-split",
    "0",
    "--no-export",
]

# The CLI in a process whose CPU is split into N logical devices (before
# TensorFlow starts using it), as a machine with N GPUs would look.
ON_CPU_DEVICES = r"""
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * int(sys.argv[1])
)
from keras_attention_cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def train_on_cpu_devices(devices, data, out, *extra, env=None):
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            ON_CPU_DEVICES,
            str(devices),
            *TRAIN,
            "--data",
            str(data),
            "--out",
            str(out),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finished(process):
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    return stdout


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "train.tsv"
    write_pairs(path, date_pairs(640, seed=2))
    return path


@pytest.fixture(scope="module")
def one_device(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("one_device") / "model"
    assert "1 replica(s)" in finished(train_on_cpu_devices(1, data, out))
    return out


def test_mirrored_on_two_devices_matches_one_device(data, one_device, tmp_path):
    out = tmp_path / "model"
    stdout = finished(train_on_cpu_devices(2, data, out, "--distribute", "mirrored"))
    assert "2 replica(s)" in stdout
    np.testing.assert_allclose(logged_losses(out), logged_losses(one_device), rtol=1e-4)
    assert_same_weights(
        keras.saving.load_model(out / "model.keras"),
        keras.saving.load_model(one_device / "model.keras"),
        atol=5e-3,
    )


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    """`data`'s pairs in two files of 320, which two workers share out."""
    folder = tmp_path_factory.mktemp("two_files")
    pairs = date_pairs(640, seed=2)
    write_pairs(folder / "part-1.tsv", pairs[:320])
    write_pairs(folder / "part-2.tsv", pairs[320:])
    return folder / "part-*.tsv"


def test_two_workers_read_a_file_each_and_train_as_one_device_and_only_the_chief_writes(
    two_files, one_device, tmp_path
):
    out = tmp_path / "model"
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = [
        train_on_cpu_devices(
            1,
            two_files,
            out,
            "--distribute",
            "multi-worker",
            env={
                **os.environ,
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": index}}
                ),
            },
        )
        for index in range(2)
    ]
    chief, other = (finished(worker) for worker in workers)
    assert "2 replica(s)" in chief and "2 replica(s)" in other
    for number, stdout in ((1, chief), (2, other)):
        assert (
            f"worker {number} of 2 reads its own share of the training pairs: "
            "320 of 640 (1 of the 2 files)" in stdout
        )
    assert "model and vocabularies written to" in chief and "the chief writes the model" in other
    # Each tokenised only its own file for the vocabularies, and together
    # they built those of all the pairs (token counts summed): one device's.
    for stdout in (chief, other):
        assert "built from 640 pairs (320 of them read by this worker)" in stdout
    for name in ("source_vocabulary.json", "target_vocabulary.json"):
        assert (out / name).read_text(encoding="utf-8") == (one_device / name).read_text(
            encoding="utf-8"
        )
    # Each step's global batch of 64 is 32 pairs from each file, where one
    # device takes 64 from both: the same steps, other batches, about the
    # same losses (measured: within 4e-5 relative).
    assert "10/10" in chief and "10/10" in other
    np.testing.assert_allclose(logged_losses(out), logged_losses(one_device), rtol=1e-2)
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "manifest.json",
        "model.keras",
        "source_vocabulary.json",
        "target_vocabulary.json",
        "training_log.csv",
        "translator.json",
    ]


@pytest.mark.parametrize(
    "tf_config, fragment",
    [
        (None, "reads the cluster from TF_CONFIG, which is not set"),
        ("{cluster", "TF_CONFIG is not valid JSON"),
        ('{"cluster": {}}', "TF_CONFIG needs a 'cluster' with a 'worker' list"),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
            "must name a job of the cluster (['worker'])",
        ),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
            "task index must be in [0, 1). Received: 1",
        ),
    ],
)
def test_bad_tf_config_is_one_line_from_the_cli(tmp_path, capsys, monkeypatch, tf_config, fragment):
    data = tmp_path / "train.tsv"
    write_pairs(data, date_pairs(10, seed=1))
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    assert (
        cli.main(
            [
                "train",
                "--data",
                str(data),
                "--out",
                str(tmp_path / "x"),
                "--distribute",
                "multi-worker",
            ]
        )
        == 2
    )
    error = capsys.readouterr().err
    assert (
        error.startswith("keras-attention: error: --distribute multi-worker: ")
        and fragment in error
    )
    assert len(error.strip().splitlines()) == 1


class _Strategy:
    def __init__(self, cluster, task_type, task_id):
        self.cluster_resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(cluster), task_type=task_type, task_id=task_id
        )


@pytest.mark.parametrize(
    "cluster, task_type, task_id, chief",
    [
        ({"worker": ["a:1", "b:1"]}, "worker", 0, True),
        ({"worker": ["a:1", "b:1"]}, "worker", 1, False),
        ({"chief": ["c:1"], "worker": ["a:1"]}, "worker", 0, False),
        ({"chief": ["c:1"], "worker": ["a:1"]}, "chief", 0, True),
    ],
)
def test_only_the_chief_writes_the_model_folder(tmp_path, cluster, task_type, task_id, chief):
    strategy = _Strategy(cluster, task_type, task_id)
    assert distribute.is_chief(strategy) is chief
    backup = distribute.backup_folder(tmp_path / "out", strategy)
    assert (backup == tmp_path / "out" / "backup") is chief
    assert distribute.is_chief(tf.distribute.get_strategy())
