"""A corpus of any size: `train`'s peak memory and time on date pairs written
as shard files, at several sizes, in one run.

For each size: the pairs (dates in the demo's surface forms, drawn with
replacement, so any size can be written) go into `--shards` TSV files
`part-*.tsv`, then

    keras-attention train --data 'DIR/part-*.tsv' --dev dev.tsv --out MODEL \\
        --epochs 1 --time-budget 1 --units 64

runs in a process of its own, its peak resident memory read by the process
that waits for it; the lines it prints are timed as they come (the
vocabulary pass, the first training line, the step time of the epoch),
and the saved model translates two dates. Memory that does not grow with
the corpus shows as about the same peak at every size.

Usage: python benchmarks/corpus_memory.py --work DIR [--sizes 1000000 10000000]
       [--shards 8]
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from keras_attention_cli.tsv import write_pairs

CLI = [sys.executable, "-m", "keras_attention_cli"]
# Runs a command and prints its peak resident memory (KiB) as its last line.
PEAK_MEMORY = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print('peak_rss_kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(code)"
)
FIRST_DATE, DAYS = datetime.date(1970, 1, 1), 17532


def write_shards(folder, size, shards, seed=0):
    """`size` date pairs in `shards` files (drawn with replacement)."""
    from keras_attention.data.generators import format_date

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for shard in range(shards):
        count = size // shards + (shard < size % shards)
        days = rng.integers(DAYS, size=count)
        styles = rng.integers(3, size=count)
        cases = rng.integers(3, size=count)
        abbreviated = rng.integers(2, size=count)
        pairs = []
        for day, style, case, short in zip(days, styles, cases, abbreviated):
            date = FIRST_DATE + datetime.timedelta(days=int(day))
            source = format_date(
                date,
                ("numeric", "month", "weekday")[style],
                ("lower", "title", "upper")[case],
                abbreviated=bool(short),
            )
            pairs.append((source, date.isoformat()))
        write_pairs(folder / f"part-{shard:02d}.tsv", pairs)


def measure(work, size, shards):
    folder = work / f"dates_{size}"
    if not (folder / f"part-{shards - 1:02d}.tsv").is_file():
        started = time.perf_counter()
        write_shards(folder, size, shards)
        print(f"wrote {size:,} pairs in {shards} files in {time.perf_counter() - started:.0f} s")
    dev = work / "dev.tsv"
    if not dev.is_file():
        from keras_attention.data.generators import date_pairs

        write_pairs(dev, date_pairs(1000, seed=12345))
    out = work / f"model_{size}"
    command = CLI + [
        "train", "--data", str(folder / "part-*.tsv"), "--dev", str(dev), "--out", str(out),
        "--epochs", "1", "--time-budget", "1", "--units", "64",
    ]  # fmt: skip
    print("$", " ".join(command), flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", PEAK_MEMORY, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    result = {"size": size}
    for line in process.stdout:
        seconds = time.perf_counter() - started
        print(f"  [{seconds:6.1f} s] {line.rstrip()}", flush=True)
        if line.startswith("peak_rss_kib"):
            result["peak_rss_gib"] = int(line.split()[1]) / 2**20
        elif line.startswith("vocabularies of"):
            result["vocabulary_seconds"] = float(re.search(r"in ([\d.]+) s", line)[1])
        elif line.startswith("training the") and "first_batch_seconds" not in result:
            result["first_batch_seconds"] = seconds
        elif line.startswith("epoch 1:"):  # its training seconds
            result["training_seconds"] = float(re.search(r"([\d.]+) s training", line)[1])
        elif line.startswith("the time budget of"):  # the steps taken
            steps = int(re.search(r"after its step ([\d,]+)", line)[1].replace(",", ""))
            result["steps_per_second"] = steps / result["training_seconds"]
    if process.wait():
        raise SystemExit(f"train failed for {size:,} pairs (exit {process.returncode})")
    result["total_seconds"] = time.perf_counter() - started
    translated = subprocess.run(
        CLI + ["translate", "--model", str(out), "september 27, 1994", "1/2/03"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    result["translations"] = translated
    return result


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", required=True, help="folder for the shards and models")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = [measure(work, size, args.shards) for size in args.sizes]
    print(
        f"\ndate pairs in {args.shards} shard files, `train --epochs 1 --time-budget 1 --units 64`"
    )
    print(
        "| pairs | peak RSS | vocabulary pass | to the first batch | steps/s | train, all in "
        "| translates |"
    )
    print("|---|---|---|---|---|---|---|")
    for result in results:
        print(
            f"| {result['size']:,} | {result['peak_rss_gib']:.2f} GiB | "
            f"{result['vocabulary_seconds']:.0f} s | {result['first_batch_seconds']:.0f} s | "
            f"{result.get('steps_per_second', float('nan')):.1f} | "
            f"{result['total_seconds'] / 60:.1f} min | {' '.join(result['translations'])} |"
        )


if __name__ == "__main__":
    main()
