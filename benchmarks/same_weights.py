"""Which settings give the same trained weights on another machine: a table
of weight digests to compare across machines.

`train --threads 2` gives the same weights on one core as on two of the
same CPU (`tests/determinism_test.py`). Another kind of CPU may still round
differently: TensorFlow's own kernels are compiled for one instruction set
(AVX in the PyPI wheel), but oneDNN's, which the command turns on, pick the
widest the CPU has (AVX2, AVX-512) when they start. This script trains the
determinism test's small model (1,000 date pairs, 128 units, one epoch,
seed 3, `--threads 2`) once per setting and prints the SHA-256 of its
weights: run it on two machines and compare the rows. The settings:

- oneDNN on (the command's default);
- oneDNN on, capped at AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`): an AVX-512
  machine then runs the kernels an AVX2 one does;
- oneDNN off (`TF_ENABLE_ONEDNN_OPTS=0`): TensorFlow's own kernels only.

Usage: python benchmarks/same_weights.py [--work DIR]
"""

import argparse
import csv
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SETTINGS = {
    "oneDNN on (the command's default)": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "oneDNN on, capped at AVX2": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "oneDNN off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
}
TRAIN = [
    "--epochs", "1", "--units", "128", "--embedding-dim", "8", "--batch-size", "64",
    "--seed", "3", "--threads", "2", "--no-export",
]  # fmt: skip
# What tells one kind of x86 CPU from another here.
FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16")


def cpu():
    """The CPU's model name and which of `FLAGS` it has (Linux)."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown CPU"
    first = info.split("\n\n", 1)[0].splitlines()  # the first core's block
    fields = {
        key.strip(): value for key, value in (line.split(":", 1) for line in first if ":" in line)
    }
    flags = set(fields.get("flags", "").split())
    name = fields.get("model name", "unknown CPU").strip()
    return f"{name} ({', '.join(flag for flag in FLAGS if flag in flags)})"


def weights_digest(folder):
    """The SHA-256 of a model folder's weights, in the model's order."""
    from keras_attention.translator import Translator

    digest = hashlib.sha256()
    for weight in Translator.load(folder).model.get_weights():
        digest.update(weight.tobytes())
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="folder for the runs (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="same_weights_"))
    work.mkdir(parents=True, exist_ok=True)

    from keras_attention.data.generators import date_pairs
    from keras_attention_cli.tsv import write_pairs

    write_pairs(work / "train.tsv", date_pairs(1000, seed=1))
    rows = []
    for number, (setting, env) in enumerate(SETTINGS.items()):
        out = work / f"model_{number}"
        command = [
            sys.executable, "-m", "keras_attention_cli", "train",
            "--data", str(work / "train.tsv"), "--out", str(out), *TRAIN,
        ]  # fmt: skip
        print(f"{setting}: training", flush=True)
        start = time.perf_counter()
        subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        with open(out / "training_log.csv", encoding="utf-8") as log:
            loss = next(csv.DictReader(log))["loss"]
        rows.append((setting, weights_digest(out)[:16], loss, f"{seconds:.0f}"))

    import tensorflow as tf

    print(f"\n{cpu()}; TensorFlow {tf.__version__}; `train {' '.join(TRAIN)}`\n")
    print("| setting | weights SHA-256 (first 16) | epoch-1 loss | seconds |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
