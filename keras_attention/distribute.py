"""tf.distribute strategies for training: one device, every local device, or
several worker processes (TensorFlow-only).

Build the model and call `training.fit` inside `strategy.scope()`; the
pipeline's batches are global batches, which `model.fit` splits across the
replicas, so `--batch-size` means the same with any number of devices.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_attention.keras_internals import replace_symbolic_build
from keras_attention_cli.layout import BACKUP_FOLDER
from keras_attention_cli.options import DISTRIBUTIONS


class ClusterError(ValueError):
    """A strategy that cannot start here: an unknown name, or a `TF_CONFIG`
    that does not describe a cluster with this process in it."""


def make_strategy(name):
    """`"none"`: TensorFlow's default (one device); `"mirrored"`: every local
    GPU, or the CPU; `"multi-worker"`: `MultiWorkerMirroredStrategy`, with
    the cluster and this process's task read from the `TF_CONFIG`
    environment variable."""
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        check_tf_config(os.environ.get("TF_CONFIG"))
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ClusterError(
        f"`distribution` must be one of {DISTRIBUTIONS}. Received: distribution={name!r}"
    )


def check_tf_config(text):
    """Raises ValueError, saying what is wrong, unless `text` is a TF_CONFIG
    with a cluster of workers and this process's task in it."""
    example = (
        'for example {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    if not text:
        raise ClusterError(
            f"multi-worker training reads the cluster from TF_CONFIG, which is not set; {example}"
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ClusterError(f"TF_CONFIG is not valid JSON ({error}); {example}") from None
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster.get("worker"):
        raise ClusterError(f"TF_CONFIG needs a 'cluster' with a 'worker' list; {example}")
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise ClusterError(
            f"TF_CONFIG's 'task' must name a job of the cluster ({sorted(cluster)}); {example}"
        )
    index = task.get("index")
    if not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise ClusterError(
            f"TF_CONFIG's task index must be in [0, {len(cluster[task['type']])}). Received: "
            f"{index!r}"
        )


def is_chief(strategy):
    """Whether this process writes the model folder: always, except in a
    cluster, where only the chief does (worker 0 if there is no chief)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not cluster:
        return True
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster


def backup_folder(out, strategy):
    """Where this process backs training up: `out/backup` for the chief; for
    the other workers a folder of their own in the temporary directory, named
    by `out` and the task, so that a restarted worker finds it again."""
    if is_chief(strategy):
        return Path(out) / BACKUP_FOLDER
    resolver = strategy.cluster_resolver
    key = hashlib.sha1(str(Path(out).resolve()).encode("utf-8")).hexdigest()[:12]
    return (
        Path(tempfile.gettempdir())
        / f"keras-attention-backup-{key}-{resolver.task_type}-{resolver.task_id}"
    )


def input_pipeline(strategy):
    """`(index, count)`: which of the workers' input pipelines this process
    runs, as `strategy.distribute_datasets_from_function` numbers them
    (the chief first); `(0, 1)` outside a cluster."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return 0, 1
    # The context that function passes, from the function itself (an empty
    # dataset: nothing is read).
    contexts = []

    def capture(context):
        contexts.append(context)
        return tf.data.Dataset.range(0)

    strategy.distribute_datasets_from_function(capture)
    return contexts[0].input_pipeline_id, contexts[0].num_input_pipelines


def gather_across_workers(strategy, value):
    """Every worker's `value` (anything JSON can write), in the workers'
    order, the same list on every worker; `[value]` outside a cluster.

    How workers that each read only their own share of the training pairs
    agree on what is built from all of them (the vocabularies): each sends
    a summary of its share and merges them all the same way. A collective:
    every worker must call it, in the same order.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return [value]
    index, count = input_pipeline(strategy)
    devices = strategy.num_replicas_in_sync // count  # each worker's replicas

    def summed(array):
        """The sum over workers of `array` (int64), each worker's once."""
        per_replica = strategy.run(lambda: tf.constant(array))
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
        return total.numpy() // devices

    payload = json.dumps(value).encode("utf-8")
    # Collectives move numbers: the bytes as int64 words (padded with 0),
    # each worker's in its own row of a sum that is 0 elsewhere.
    words = np.frombuffer(payload + b"\0" * (-len(payload) % 8), np.int64)
    sizes = np.zeros(count, np.int64)
    sizes[index] = words.size
    sizes = summed(sizes)
    rows = np.zeros([count, sizes.max()], np.int64)
    rows[index, : words.size] = words
    rows = summed(rows)
    return [
        json.loads(row[:size].tobytes().rstrip(b"\0").decode("utf-8"))
        for row, size in zip(rows, sizes)
    ]


def under_multi_worker():
    """Whether the current `tf.distribute` strategy spans several workers."""
    return isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)


def fit_under_multi_worker(model):
    """Lets `model.fit` start under `MultiWorkerMirroredStrategy`.

    Keras 3's TensorFlow trainer builds the optimizer and compiled metrics
    before the first step from a batch it averages across workers
    (`_maybe_symbolic_build`), and averages every step's scalar logs across
    workers along an axis they do not have; under
    `MultiWorkerMirroredStrategy` both fail (keras-team/keras#20585). This
    builds from this worker's own first batch (only the shapes matter) and
    gives the logs that axis. A no-op under any other strategy.
    """
    if not under_multi_worker():
        return
    strategy = tf.distribute.get_strategy()

    def local_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(
                    lambda value: (
                        strategy.experimental_local_results(value)[0]
                        if isinstance(value, tf.distribute.DistributedValues)
                        else value
                    ),
                    next(batches),
                )
                break
        with strategy.scope():
            keras_build(data_batch=data_batch)

    def train_step(data):
        # Keras averages each step's logs across workers with
        # `strategy.reduce("MEAN", value, axis=0)`, which needs an axis:
        # give each scalar one of length 1.
        return {
            name: tf.reshape(value, [1])
            for name, value in type(model).train_step(model, data).items()
        }

    keras_build = replace_symbolic_build(model, local_symbolic_build)
    model.train_step = train_step
