"""The book's comparison on the date task, and decoding speed, in one run.

Trains, one after another in this process, the plain, peeky and attention
seq2seq models with the book's settings (embedding 16, one-way LSTM 256,
batch 128, Adam, gradient-norm clip 5, reversed sources) on the 45,000
generated training pairs, and the package's default attention model (GRU
256 read both ways, same sizes, its own defaults). All four train with the
package's learning-rate schedule (Adam at 0.003, cosine decay over the
run); `--book-learning-rate` trains the book's three at Adam's 0.001
without a schedule, as the book's code does. After every epoch each is
evaluated by greedy decoding on the 5,000 test pairs (exact match of
the whole output). Then, on the default model: seconds to decode the
test questions batched in the graph (greedy, beam 5) and one question at a
time with a Python loop over steps (the book's way; timed on a sample and
scaled to 5,000, as the table says).

With `--book-code DIR` (a checkout of the book's repository,
oreilly-japan/deep-learning-from-scratch-2, which this package does not
ship), the comparison also times one training epoch of the book's own numpy
attention seq2seq (its `Trainer`, `Adam`, clip 5, batch 128, reversed input
padded with spaces as in its `date.txt`) on the same 45,000 pairs, in the
same run, so that seconds per epoch compare on the same machine at the same
time.

Then (`--part backends`) the default attention model on each Keras backend
and in mixed precision, each configuration in a process of its own (a
backend is chosen per process), one after another in the same run: seconds
per training epoch and exact match after each epoch.

And (`--part seeds`, not part of `all`: about 2 minutes a seed) the
target's exact command line once per seed: exact match on the test pairs
after 2 epochs, to see how it spreads.

Usage: python benchmarks/seq2seq.py [--part all|comparison|backends|seeds] [--epochs 3]
       [--step-by-step-sample 200] [--book-code DIR] [--models plain,peeky,attention,default]
       [--book-learning-rate]
       [--seeds 0,1,2]  (--part comparison: one table per seed)
       [--train-option=--reverse-source ...]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_attention import training  # noqa: E402
from keras_attention.data.generators import date_splits  # noqa: E402
from keras_attention.decoding import step_by_step_greedy  # noqa: E402
from keras_attention_cli.tsv import write_pairs  # noqa: E402

# The book's three models: its sizes, one-way LSTM, reversed sources. The
# package's default model with its own defaults. Every model trains with the
# package's learning-rate schedule unless --book-learning-rate.
BOOK_MODEL = {"cell": "lstm", "bidirectional": False, "reverse_source": True}
BOOK_OPTIMIZER = {"learning_rate": 0.001, "cosine_decay": False}
# key (for --models), table row, model arguments
MODELS = [
    ("plain", "plain seq2seq (LSTM)", {"kind": "plain", **BOOK_MODEL}),
    ("peeky", "peeky seq2seq (LSTM)", {"kind": "peeky", **BOOK_MODEL}),
    ("attention", "attention seq2seq (LSTM)", {"kind": "attention", **BOOK_MODEL}),
    (
        "default",
        "attention seq2seq (default: GRU, both ways)",
        {"kind": "attention", "cell": "gru"},
    ),
]


def median_seconds(seconds):
    """The median of per-epoch seconds (the upper one of an even count)."""
    return sorted(seconds)[len(seconds) // 2]


def train_and_track(train, test, epochs, model_kwargs, compile_kwargs=None, seed=0):
    keras.utils.set_random_seed(seed)
    translator = training.build_translator(train, units=256, embedding_dim=16, **model_kwargs)
    tracker = training.DecodedEvaluation(translator, test, label="test", print_fn=lambda *_: None)
    training.fit(
        translator,
        train,
        epochs=epochs,
        seed=seed,
        callbacks=[tracker],
        verbose=0,
        **(compile_kwargs or {}),
    )
    return translator, tracker.history


# backend, precision, epochs: float32 for 2 epochs (the target), mixed
# precision for one more (it may take at most one more to match).
CONFIGURATIONS = [
    ("tensorflow", "float32", 2),
    ("tensorflow", "mixed_bfloat16", 3),
    ("jax", "float32", 2),
    ("torch", "float32", 2),
]


def one_configuration(precision, epochs):
    """Runs in a child process whose KERAS_BACKEND is set; prints JSON."""
    keras.mixed_precision.set_global_policy(precision)
    train, test = date_splits()
    _, history = train_and_track(train, test, epochs, {"kind": "attention", "cell": "gru"})
    print(json.dumps(history))


def compare_backends():
    print(
        "\nThe default attention model (GRU 256 read both ways, batch 128) on each backend and "
        "precision, "
        "one process each, one after another"
    )
    header = (
        f"{'backend':<12}{'precision':<16}"
        + "".join(f"{'epoch ' + str(e + 1):>10}" for e in range(3))
        + f"{'s/epoch':>10}"
    )
    print(header)
    print("-" * len(header))
    for backend, precision, epochs in CONFIGURATIONS:
        result = subprocess.run(
            [sys.executable, __file__, "--one-configuration", precision, "--epochs", str(epochs)],
            env={**os.environ, "KERAS_BACKEND": backend},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            print(f"{backend:<12}{precision:<16}failed: {result.stderr.strip().splitlines()[-1]}")
            continue
        history = json.loads(result.stdout.strip().splitlines()[-1])
        cells = "".join(f"{100 * h['exact_match']:>9.2f}%" for h in history) + " " * 10 * (
            3 - len(history)
        )
        seconds = median_seconds([h["train_seconds"] for h in history])
        print(f"{backend:<12}{precision:<16}{cells}{seconds:>10.1f}", flush=True)


def book_epoch_seconds(book_code, train):
    """Seconds for one training epoch of the book's own numpy attention
    seq2seq (ch08), run from a checkout of its repository at `book_code`."""
    sys.path.insert(0, os.path.abspath(book_code))
    from ch08.attention_seq2seq import AttentionSeq2seq
    from common.optimizer import Adam
    from common.trainer import Trainer

    width = max(len(source) for source, _ in train)
    questions = [source.ljust(width) for source, _ in train]  # its date.txt pads with spaces
    answers = ["_" + target for _, target in train]  # "_" starts every answer
    ids = {c: i for i, c in enumerate(sorted(set("".join(questions + answers))))}
    x = np.array([[ids[c] for c in question] for question in questions])[
        :, ::-1
    ]  # reversed, as ch08/train.py
    t = np.array([[ids[c] for c in answer] for answer in answers])
    np.random.seed(0)
    trainer = Trainer(AttentionSeq2seq(len(ids), 16, 256), Adam())
    start = time.perf_counter()
    trainer.fit(x, t, max_epoch=1, batch_size=128, max_grad=5.0, eval_interval=None)
    return time.perf_counter() - start


def seed_spread(seeds, extra_options):
    """The target's exact command line (`keras-attention train` on the
    training TSV, 2 epochs, the book's sizes, every other option at its
    default), once per seed, then `keras-attention evaluate` on the 5,000
    test pairs: the spread of exact match over seeds."""
    train, test = date_splits()
    print(
        f"\nkeras-attention train --epochs 2 --batch-size 128 --units 256 --embedding-dim 16 "
        f"{' '.join(extra_options)} --seed S, then evaluate on the {len(test)} test pairs"
    )
    print(f"{'seed':>6}{'exact match':>14}{'s/epoch':>10}")
    command = [sys.executable, "-m", "keras_attention_cli"]
    with tempfile.TemporaryDirectory() as folder:
        write_pairs(f"{folder}/train.tsv", train)
        write_pairs(f"{folder}/test.tsv", test)
        for seed in seeds:
            trained = subprocess.run(
                [
                    *command,
                    "train",
                    "--data",
                    f"{folder}/train.tsv",
                    "--out",
                    f"{folder}/model{seed}",
                    "--epochs",
                    "2",
                    "--batch-size",
                    "128",
                    "--units",
                    "256",
                    "--embedding-dim",
                    "16",
                    "--no-export",
                    "--seed",
                    str(seed),
                    *extra_options,
                ],
                capture_output=True,
                text=True,
            )
            evaluated = subprocess.run(
                [
                    *command,
                    "evaluate",
                    "--model",
                    f"{folder}/model{seed}",
                    "--data",
                    f"{folder}/test.tsv",
                ],
                capture_output=True,
                text=True,
            )
            if trained.returncode or evaluated.returncode:
                print(
                    f"{seed:>6}  failed: "
                    f"{(trained.stderr or evaluated.stderr).strip().splitlines()[-1]}"
                )
                continue
            exact = re.search(r"exact match: ([\d.]+)%", evaluated.stdout).group(1)
            seconds = median_seconds(
                [float(x) for x in re.findall(r"([\d.]+) s training", trained.stdout)]
            )
            print(f"{seed:>6}{exact + '%':>14}{seconds:>10.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "comparison", "backends", "seeds"), default="all")
    parser.add_argument(
        "--seeds",
        help="the seeds to train with: --part seeds, one run each (default 0,1,2); "
        "--part comparison, one table each (default 0)",
    )
    parser.add_argument(
        "--train-option",
        action="append",
        default=[],
        help="--part seeds: an extra `train` option, e.g. --train-option=--reverse-source",
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--step-by-step-sample", type=int, default=200)
    parser.add_argument(
        "--models",
        default="plain,peeky,attention,default",
        help="--part comparison: which models to train (default: all four)",
    )
    parser.add_argument(
        "--book-learning-rate",
        action="store_true",
        help="--part comparison: train the book's three models at Adam's 0.001 without a "
        "schedule, as the book's code does",
    )
    parser.add_argument(
        "--book-code",
        help="checkout of oreilly-japan/deep-learning-from-scratch-2: "
        "also time one epoch of the book's numpy attention seq2seq",
    )
    parser.add_argument("--one-configuration", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_configuration:
        return one_configuration(args.one_configuration, args.epochs)
    seeds = [int(seed) for seed in args.seeds.split(",")] if args.seeds else None
    if args.part in ("all", "comparison"):
        compare_models(args, seeds or [0])
    if args.part in ("all", "backends"):
        compare_backends()
    if args.part == "seeds":
        seed_spread(seeds or [0, 1, 2], args.train_option)


def compare_models(args, seeds):
    chosen = args.models.split(",")
    keys = [key for key, _, _ in MODELS]
    unknown = sorted(set(chosen) - set(keys))
    if unknown:
        sys.exit(f"--models: unknown {unknown}; choose from {', '.join(keys)}")
    train, test = date_splits()
    print(
        f"date task: {len(train)} train / {len(test)} test pairs; keras {keras.__version__}, "
        f"tensorflow {tf.__version__}, {os.cpu_count()} CPU cores"
    )

    translators = {}
    for seed in seeds:
        rows = []
        for key, name, model_kwargs in MODELS:
            if key not in chosen:
                continue
            compile_kwargs = BOOK_OPTIMIZER if args.book_learning_rate and key != "default" else {}
            translator, history = train_and_track(
                train, test, args.epochs, model_kwargs, compile_kwargs, seed=seed
            )
            translators[key] = translator
            rows.append((name, history))
            print(f"  trained {name} (seed {seed})", flush=True)

        print(
            f"\nSeed {seed}: exact match on the {len(test)} test pairs (greedy decoding) after "
            "each epoch, "
            "and training seconds per epoch"
        )
        header = (
            f"{'model':<45}"
            + "".join(f"{'epoch ' + str(e + 1):>10}" for e in range(args.epochs))
            + f"{'s/epoch':>10}"
        )
        print(header)
        print("-" * len(header))
        for name, history in rows:
            cells = "".join(f"{100 * h['exact_match']:>9.2f}%" for h in history)
            seconds = median_seconds([h["train_seconds"] for h in history])
            print(f"{name:<45}{cells}{seconds:>10.1f}", flush=True)
    if args.book_code:
        seconds = book_epoch_seconds(args.book_code, train)
        name, note = "the book's numpy code (attention)", "(one epoch, timed only)"
        print(f"{name:<45}{note:>{10 * args.epochs}}{seconds:>10.1f}")

    translator = translators.get("default")
    if translator is None:
        return
    sources = [source for source, _ in test]
    greedy = training.evaluate(translator, test)
    beam = training.evaluate(translator, test, beam_width=5)
    sample = test[: args.step_by_step_sample]
    source_ids = translator.source_ids(tf.constant([s for s, _ in sample])).numpy()
    start = time.perf_counter()
    step_by_step_greedy(translator.model, source_ids, translator.max_output_length)
    sample_seconds = time.perf_counter() - start
    per_question = sample_seconds / len(sample)
    print(f"\nDecoding the {len(sources)} test questions with the default attention model")
    print(f"{'decoder':<58}{'seconds':>10}{'exact match':>13}")
    print(
        f"{'batched graph greedy (tf.while_loop), batches of 1000':<58}"
        f"{greedy['seconds']:>10.2f}{100 * greedy['exact_match']:>12.2f}%"
    )
    print(
        f"{'batched graph beam search, width 5':<58}"
        f"{beam['seconds']:>10.2f}{100 * beam['exact_match']:>12.2f}%"
    )
    print(
        f"{'one question at a time, Python loop over steps':<58}"
        f"{per_question * len(sources):>10.1f}{'':>13}"
    )
    print(
        f"  (the last timed on {len(sample)} questions, {sample_seconds:.1f} s, scaled to "
        f"{len(sources)}; "
        f"batched greedy is {per_question * len(sources) / greedy['seconds']:.0f}x faster)"
    )


if __name__ == "__main__":
    main()
