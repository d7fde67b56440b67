"""Batches by pairs or by tokens, side by side, on sentences with a few long
lines: what one long line costs a training step.

A made-up sentence corpus (words drawn from a Zipf law over `--vocabulary`
made-up words; about 25 words a sentence, and 1 pair in 100 of 150-250
words, as a verse that carries a glossary) is written once; then, for each
of `--batch-by pairs` and `--batch-by tokens` in turn (`--rounds` times,
alternating),

    keras-attention train --data train.tsv --out MODEL --split words \\
        --batch-size 64 --units 128 --embedding-dim 64 --epochs 1 --batch-by B

runs in a process of its own, its peak resident memory read by the process
that waits for it. The table also gives each way's largest batch (rows x
padded source and target width, from the pipeline itself) and its logits,
`rows x target width x target vocabulary` floats: the tensor that grows with
a long line.

Usage: python benchmarks/batch_by.py --work DIR [--pairs 5000] [--rounds 2]
"""

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from keras_attention_cli.layout import TRAINING_LOG_FILE
from keras_attention_cli.tsv import read_pairs
from keras_attention_cli.tsv import write_pairs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_memory import PEAK_MEMORY  # noqa: E402  (benchmarks/corpus_memory.py)
from recipes import CLI  # noqa: E402

WAYS = ("pairs", "tokens")


def made_up_sentences(count, vocabulary, seed=0):
    """`count` pairs of made-up sentences: a fixed word-for-word mapping
    with neighbouring words swapped, about 25 words long, 1 in 100 long."""
    rng = np.random.default_rng(seed)
    syllables = [c + v for c in "bcdfglmnprstv" for v in "aeiou"]

    def words(seed):
        drawn = np.random.default_rng(seed).integers(len(syllables), size=(vocabulary, 3))
        return ["".join(syllables[i] for i in row[: 2 + row[0] % 2]) + str(n % 7) for n, row in
                enumerate(drawn)]  # fmt: skip

    source_words, target_words = words(1), words(2)
    ranks = np.arange(1, vocabulary + 1)
    zipf = (1 / ranks) / (1 / ranks).sum()
    pairs = []
    for _ in range(count):
        if rng.random() < 0.01:
            length = int(rng.integers(150, 251))
        else:
            length = int(np.clip(rng.lognormal(np.log(22), 0.5), 3, 120))
        ids = rng.choice(vocabulary, size=length, p=zipf)
        swapped = ids.copy()
        swapped[1::2], swapped[: length // 2 * 2 : 2] = ids[: length // 2 * 2 : 2], ids[1::2]
        pairs.append(
            (" ".join(source_words[i] for i in ids), " ".join(target_words[i] for i in swapped))
        )
    return pairs


def largest_batch(pairs, batch_by, batch_size):
    """`(rows, source width, target width, target vocabulary)` of the batch
    with the most padded tokens in an epoch of the training pipeline."""
    from keras_attention.data.pipeline import make_dataset
    from keras_attention.text import TextVectorizer

    source = TextVectorizer.from_texts([s for s, _ in pairs], split="words", max_length=256)
    target = TextVectorizer.from_texts([t for _, t in pairs], split="words", max_length=256)
    shapes = [
        (int(s.shape[0]), int(s.shape[1]), int(d.shape[1]))
        for (s, d), _ in make_dataset(pairs, source, target, batch_size, batch_by=batch_by)
    ]
    return (*max(shapes, key=lambda shape: shape[0] * (shape[1] + shape[2])), target.size)


def train(work, data, batch_by):
    out = work / f"model_{batch_by}"
    command = CLI + [
        "train", "--data", str(data), "--out", str(out), "--split", "words", "--batch-size", "64",
        "--units", "128", "--embedding-dim", "64", "--epochs", "1", "--batch-by", batch_by,
    ]  # fmt: skip
    print("$", " ".join(command), flush=True)
    result = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, *command],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    if result.returncode:
        raise SystemExit(f"train --batch-by {batch_by} failed:\n{result.stdout[-3000:]}")
    with open(out / TRAINING_LOG_FILE, encoding="utf-8") as file:
        epoch = list(csv.DictReader(file))[-1]
    return {
        "peak_rss_gib": int(re.search(r"peak_rss_kib (\d+)", result.stdout)[1]) / 2**20,
        "seconds": float(epoch["epoch_seconds"]),
        "loss": float(epoch["loss"]),
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", required=True, help="folder for the corpus and the models")
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--vocabulary", type=int, default=8000, help="made-up words a side")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each way, alternating")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"sentences_{args.pairs}.tsv"
    if not data.is_file():
        write_pairs(data, made_up_sentences(args.pairs, args.vocabulary))
    pairs, _ = read_pairs(data)
    runs = {way: [] for way in WAYS}
    for round_ in range(args.rounds):
        for way in WAYS:
            started = time.perf_counter()
            runs[way].append(train(work, data, way))
            print(
                f"round {round_ + 1} {way}: {runs[way][-1]} ({time.perf_counter() - started:.0f} s)"
            )
    lengths = [len(t.split()) for _, t in pairs]
    print(
        f"\n{len(pairs):,} made-up sentence pairs, target words: median "
        f"{statistics.median(lengths):.0f}, longest {max(lengths)}; {args.rounds} runs of each "
        f"way, alternating, {os.cpu_count()} CPU cores"
    )
    print(
        "| batches by | largest batch (rows x source + target width) | its logits "
        "| peak RSS (median) | epoch (median) | loss |"
    )
    print("|---|---|---|---|---|---|")
    for way in WAYS:
        rows, source_width, target_width, vocabulary = largest_batch(pairs, way, 64)
        median = {key: statistics.median(run[key] for run in runs[way]) for key in runs[way][0]}
        logits = rows * target_width * vocabulary * 4 / 2**20
        print(
            f"| {way} | {rows} x ({source_width} + {target_width}) | {logits:,.0f} MiB | "
            f"{median['peak_rss_gib']:.2f} GiB | {median['seconds']:.1f} s | "
            f"{median['loss']:.3f} |"
        )


if __name__ == "__main__":
    main()
