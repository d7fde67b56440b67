"""Training speed measured against the machine: the FLOP/s a training step
achieves, as a share of what a large float32 matmul reaches on the same CPU.

Prints one table. The model's useful FLOPs are counted from its shapes and
each batch's real (unpadded) token counts: per source token, the encoder's
recurrent layers; per target token, the decoder's recurrent layer, the
attention (scores and weighted sum over the batch's real source length),
the attentional layer and the output layer; forward times 3 for forward and
backward. What padding costs is not useful work, so it lowers the share.

    python benchmarks/training_speed.py                    # the G2P recipe's model
    python benchmarks/training_speed.py --units 256 --embedding-dim 16 \\
        --encoder-layers 1 --attentional-units 0 --task dates
    python benchmarks/training_speed.py --against 142c4b6  # old and new code, side by side
    python benchmarks/training_speed.py --against 142c4b6 --precision mixed_bfloat16 \\
        --batch-size 256 --old-options="--precision float32 --batch-size 128"

With `--against REF`, the same probe runs alternately (`--rounds` times
each) on this checkout and on a `git worktree` of commit REF (the package
imported from there), and one table compares the medians: the machine's
speed drifts, so alternating is fairer than one run after the other.
`--old-options` gives the old side options of its own (a recipe's old
precision or batch size), read after the shared ones.

Words for G2P are made up (letters in, phones out, lengths as CMUdict's) so
that the probe needs no data; the date task is the package's own.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the command runs

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_attention import training  # noqa: E402
from keras_attention.data.generators import date_pairs  # noqa: E402
from keras_attention.data.pipeline import make_dataset  # noqa: E402
from keras_attention_cli.options import ModelConfig  # noqa: E402

GATES = {"gru": 3, "lstm": 4}


def matmul_flops(rows, inner, columns, repeats=20):
    """Median FLOP/s of `tf.matmul` of float32 `(rows, inner) x (inner, columns)`."""
    a = tf.random.normal((rows, inner))
    b = tf.random.normal((inner, columns))
    product = tf.function(lambda: tf.matmul(a, b))
    product().numpy()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        product().numpy()
        seconds.append(time.perf_counter() - start)
    return 2 * rows * inner * columns / statistics.median(seconds)


def recurrent_flops(inputs, units, gates):
    """Forward FLOPs of one recurrent step per token: input and state projections."""
    return 2 * gates * units * (inputs + units)


def forward_flops(config, target_vocabulary, source_tokens, target_tokens, attended):
    """Forward FLOPs of a batch from its real token counts; `attended` is the
    sum over target tokens of their row's real source length."""
    gates = GATES[config.cell]
    directions = 2 if config.bidirectional else 1
    per_direction = config.units // directions
    encoder, inputs = 0, config.embedding_dim
    for _ in range(config.encoder_layers):
        encoder += directions * recurrent_flops(inputs, per_direction, gates)
        inputs = config.units
    fed = config.attentional_units if getattr(config, "input_feeding", False) else 0
    decoder = recurrent_flops(config.embedding_dim + fed, config.units, gates)
    merged = 2 * config.units if config.kind != "plain" else config.units
    attentional = 2 * merged * config.attentional_units if config.attentional_units else 0
    output_inputs = config.attentional_units or merged
    output = 2 * output_inputs * target_vocabulary
    attention = 2 * 2 * config.units * attended if config.kind == "attention" else 0
    return source_tokens * encoder + target_tokens * (decoder + attentional + output) + attention


def recurrent_matmuls(config, batch_size):
    """The `(rows, inner, columns)` of each recurrent step's matmuls, by
    role: the state's projection forward, and backward the state's gradient
    (through the transposed kernel) and the kernel's gradient (summed over
    the batch). Each runs once a step, so its rate bounds what the loop can
    reach."""
    columns = GATES[config.cell] * config.units
    encoder_units = config.units // (2 if config.bidirectional else 1)
    return {
        "encoder step": (batch_size, encoder_units, GATES[config.cell] * encoder_units),
        "decoder step": (batch_size, config.units, columns),
        "decoder step's state gradient": (batch_size, columns, config.units),
        "decoder step's kernel gradient": (config.units, batch_size, columns),
    }


class EpochTimer(keras.callbacks.Callback):
    """Seconds from each epoch's start to its end (`seconds`), as the
    training log's `epoch_seconds` counts them, and apart from them what
    `fit` took to return after its last epoch (`tails`, set by `fitted`).
    The tail is tf.data's, not the step's: deleting an autotuned iterator
    can wait for the tuning thread's next wake-up (`pipeline`), and the
    probe's epochs, timed around `fit`, once looked bimodal for it."""

    def __init__(self):
        super().__init__()
        self.seconds, self.tails = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)

    def on_train_end(self, logs=None):
        self._ended = time.perf_counter()

    def fitted(self):
        """Call when `fit` has returned."""
        self.tails.append(time.perf_counter() - self._ended)


def made_up_words(count, seed=0):
    """G2P-like pairs: 4-12 letters in, about as many phones out."""
    rng = random.Random(seed)
    phones = (
        "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
        "UH UW V W Y Z ZH"
    ).split()
    pairs = []
    for _ in range(count):
        length = rng.randint(4, 12)
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length))
        # Phones about as many as letters, give or take (silent letters, x -> K S).
        count = max(2, length + rng.randint(-3, 1))
        pairs.append((word, " ".join(rng.choice(phones) for _ in range(count))))
    return pairs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=["g2p", "dates"], default="g2p")
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--encoder-layers", type=int, default=2)
    parser.add_argument("--attentional-units", type=int, default=512)
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--pairs", type=int, default=12800, help="pairs trained on (default 12800)")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument(
        "--input-feeding", action="store_true", help="the decoder reads its attentional vector"
    )
    parser.add_argument("--precision", default="float32", help="a Keras dtype policy")
    parser.add_argument(
        "--threads", type=int, help="intra-op threads, as `train --threads` (default: one a core)"
    )
    parser.add_argument(
        "--jit-compile",
        action="store_true",
        help="XLA: the step compiled with jit_compile, batches padded to a few fixed widths",
    )
    parser.add_argument("--against", metavar="REF", help="compare with the code of commit REF")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side with --against")
    parser.add_argument(
        "--old-options", default="", help="with --against: the old side's own probe options"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line, not a table")
    args = parser.parse_args(argv)
    if args.against:
        compare(args)
        return

    if args.task == "g2p":
        pairs, split = made_up_words(args.pairs), {"target_split": "words"}
    else:
        pairs, split = date_pairs(args.pairs, seed=0), {}
    config = ModelConfig(
        units=args.units, embedding_dim=args.embedding_dim, encoder_layers=args.encoder_layers,
        attentional_units=args.attentional_units, cell=args.cell, score="scaled_dot",
        dropout=args.dropout, **split,
        # Only when asked: older commits' ModelConfig (--against) has no such field.
        **({"input_feeding": True} if args.input_feeding else {}),
    )  # fmt: skip
    if args.threads:
        # What `process_state.use_threads` does, spelled out: with --against the
        # package is an older commit's, which may not have it.
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    keras.mixed_precision.set_global_policy(args.precision)
    translator = training.build_translator(pairs, config)
    dataset = make_dataset(
        pairs, translator.source_vectorizer, translator.target_vectorizer, args.batch_size,
        fixed_shapes=args.jit_compile,
    )  # fmt: skip
    batches = list(dataset)
    useful = 0
    for (source_ids, decoder_ids), _ in batches:
        source_lengths = np.count_nonzero(source_ids.numpy(), axis=1)
        target_lengths = np.count_nonzero(decoder_ids.numpy(), axis=1)
        useful += 3 * forward_flops(
            config, translator.target_vectorizer.size, source_lengths.sum(),
            target_lengths.sum(), (source_lengths * target_lengths).sum(),
        )  # fmt: skip
    real_share = {
        side: sum(int(np.count_nonzero(ids[side].numpy())) for ids, _ in batches)
        / sum(int(np.prod(ids[side].shape)) for ids, _ in batches)
        for side in (0, 1)
    }

    training.compile_for_training(translator.model)
    translator.model.jit_compile = args.jit_compile
    translator.model.fit(dataset.take(2), epochs=1, verbose=0, shuffle=False)  # trace the step
    timer = EpochTimer()
    for _ in range(2):
        translator.model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
        timer.fitted()
    epoch_seconds = timer.seconds
    seconds = statistics.median(epoch_seconds)
    achieved = useful / seconds
    large = matmul_flops(4096, 4096, 4096)
    tail = max(timer.tails)
    if args.json:
        print(
            json.dumps(
                {"epoch_seconds": seconds, "achieved": achieved, "large": large, "tail": tail}
            )
        )
        return

    # Timed only for the table: --against compares epochs, not shapes.
    shapes = recurrent_matmuls(config, args.batch_size)
    rates = {role: matmul_flops(*shape) for role, shape in shapes.items()}

    print(
        f"{args.task} model: {translator.model.count_params():,} parameters, {len(batches)} "
        f"batches of {args.batch_size}, {os.cpu_count()} CPU cores; real tokens per padded one: "
        f"sources {real_share[0]:.2f}, decoder {real_share[1]:.2f}"
    )
    print("| measure | value |")
    print("|---|---|")
    print(f"| float32 matmul 4096x4096x4096 | {large / 1e9:.0f} GFLOP/s |")
    for role, (rows, inner, columns) in shapes.items():
        print(
            f"| float32 matmul, {role} ({rows}x{inner} by {inner}x{columns}) | "
            f"{rates[role] / 1e9:.0f} GFLOP/s |"
        )
    print(f"| training epoch (median of {len(epoch_seconds)}) | {seconds:.1f} s |")
    print(f"| `fit`'s return after its last epoch (longest of {len(timer.tails)}) | {tail:.2f} s |")
    print(
        f"| the epoch if every useful FLOP ran at the fastest of the recurrent shapes | "
        f"{useful / max(rates.values()):.1f} s |"
    )
    print(
        f"| useful work an epoch (forward and backward, no padding) | {useful / 1e12:.2f} TFLOP |"
    )
    print(f"| achieved | {achieved / 1e9:.0f} GFLOP/s |")
    print(f"| share of the large matmul | {100 * achieved / large:.0f}% |")
    print(f"| share of the decoder step's matmul | {100 * achieved / rates['decoder step']:.0f}% |")


def compare(args):
    """Runs the probe alternately on this checkout and on commit `args.against`."""
    root = Path(__file__).resolve().parent.parent
    probe = [
        f"--{name.replace('_', '-')}={value}"
        for name, value in vars(args).items()
        if name not in ("against", "rounds", "old_options", "json", "jit_compile", "input_feeding")
        and value is not None
    ] + [
        f"--{name.replace('_', '-')}"
        for name in ("jit_compile", "input_feeding")
        if vars(args)[name]
    ]
    with tempfile.TemporaryDirectory() as temporary:
        old = Path(temporary) / "old"
        subprocess.run(
            ["git", "-C", str(root), "worktree", "add", "--detach", str(old), args.against],
            check=True,
            capture_output=True,
        )
        try:
            runs = {"old": [], "new": []}
            for round_ in range(args.rounds):
                for side, tree in (("old", old), ("new", root)):
                    own = args.old_options.split() if side == "old" else []
                    result = subprocess.run(
                        [sys.executable, __file__, *probe, *own, "--json"],
                        env=dict(os.environ, PYTHONPATH=str(tree)),
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    runs[side].append(json.loads(result.stdout.strip().splitlines()[-1]))
                    print(
                        f"round {round_ + 1} {side}: {runs[side][-1]['epoch_seconds']:.1f} s, "
                        f"`fit`'s tail {runs[side][-1]['tail']:.2f} s",
                        file=sys.stderr,
                    )
        finally:
            subprocess.run(
                ["git", "-C", str(root), "worktree", "remove", "--force", str(old)], check=False
            )
    median = {
        side: {key: statistics.median(run[key] for run in got) for key in got[0]}
        for side, got in runs.items()
    }
    print(f"{args.task} model, {args.pairs} pairs, {args.rounds} runs of each side, alternating:")
    shared = " ".join(f"`{option}`" for option in probe)
    print(f"both sides: {shared}; the old side's own: `{args.old_options or 'none'}`")
    print(
        "| code | training epoch (median) | achieved | share of the large matmul | "
        "`fit`'s return after its last epoch (longest) |"
    )
    print("|---|---|---|---|---|")
    for side, name in (("old", args.against), ("new", "this checkout")):
        m = median[side]
        tail = max(run["tail"] for run in runs[side])
        print(
            f"| {name} | {m['epoch_seconds']:.1f} s | {m['achieved'] / 1e9:.0f} GFLOP/s | "
            f"{100 * m['achieved'] / m['large']:.0f}% | {tail:.2f} s |"
        )
    print(f"speed-up: {median['old']['epoch_seconds'] / median['new']['epoch_seconds']:.2f}x")


if __name__ == "__main__":
    main()
