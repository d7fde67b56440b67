"""The book's comparison on the date task, and decoding speed, in one run.

Trains, one after another in this process, the plain, peeky and attention
seq2seq models with the book's settings (embedding 16, LSTM 256, batch 128,
Adam, gradient-norm clip 5) on the 45,000 generated training pairs, and the
package's default attention model (GRU 256, same sizes). After every epoch
each is evaluated by greedy decoding on the 5,000 test pairs (exact match of
the whole output). Then, on the best attention model: seconds to decode the
test questions batched in the graph (greedy, beam 5) and one question at a
time with a Python loop over steps (the book's way; timed on a sample and
scaled to 5,000, as the table says).

Usage: python benchmarks/seq2seq.py [--epochs 3] [--step-by-step-sample 200]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_attention import decoding  # noqa: E402
from keras_attention import training  # noqa: E402
from keras_attention.data.generators import date_splits  # noqa: E402

MODELS = [
    ("plain seq2seq (LSTM)", {"kind": "plain", "cell": "lstm"}),
    ("peeky seq2seq (LSTM)", {"kind": "peeky", "cell": "lstm"}),
    ("attention seq2seq (LSTM)", {"kind": "attention", "cell": "lstm"}),
    ("attention seq2seq (default: GRU)", {"kind": "attention", "cell": "gru"}),
]


def train_and_track(train, test, epochs, model_kwargs, seed=0):
    keras.utils.set_random_seed(seed)
    translator = training.build_translator(train, units=256, embedding_dim=16, **model_kwargs)
    tracker = training.DecodedExactMatch(translator, test, label="test", print_fn=lambda *_: None)
    training.fit(translator, train, epochs=epochs, seed=seed, callbacks=[tracker], verbose=0)
    return translator, tracker.history


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--step-by-step-sample", type=int, default=200)
    args = parser.parse_args()
    train, test = date_splits()
    print(f"date task: {len(train)} train / {len(test)} test pairs; keras {keras.__version__}, "
          f"tensorflow {tf.__version__}, {os.cpu_count()} CPU cores")

    rows, translators = [], {}
    for name, kwargs in MODELS:
        translator, history = train_and_track(train, test, args.epochs, kwargs)
        translators[name] = translator
        rows.append((name, history))
        print(f"  trained {name}", flush=True)

    print("\nExact match on the 5,000 test pairs (greedy decoding) after each epoch, "
          "and training seconds per epoch")
    header = f"{'model':<34}" + "".join(f"{'epoch ' + str(e + 1):>10}" for e in range(args.epochs)) + f"{'s/epoch':>10}"
    print(header)
    print("-" * len(header))
    for name, history in rows:
        cells = "".join(f"{100 * h['exact_match']:>9.2f}%" for h in history)
        seconds = sorted(h["train_seconds"] for h in history)[len(history) // 2]
        print(f"{name:<34}{cells}{seconds:>10.1f}")

    translator = translators["attention seq2seq (default: GRU)"]
    sources = [source for source, _ in test]
    greedy = training.evaluate(translator, test)
    beam = training.evaluate(translator, test, beam_width=5)
    sample = test[: args.step_by_step_sample]
    source_ids = translator.source_ids(tf.constant([s for s, _ in sample])).numpy()
    start = time.perf_counter()
    decoding.step_by_step_greedy(translator.model, source_ids, translator.max_output_length)
    sample_seconds = time.perf_counter() - start
    per_question = sample_seconds / len(sample)
    print(f"\nDecoding the {len(sources)} test questions with the default attention model")
    print(f"{'decoder':<58}{'seconds':>10}{'exact match':>13}")
    print(f"{'batched graph greedy (tf.while_loop), batches of 1000':<58}{greedy['seconds']:>10.2f}{100 * greedy['exact_match']:>12.2f}%")
    print(f"{'batched graph beam search, width 5':<58}{beam['seconds']:>10.2f}{100 * beam['exact_match']:>12.2f}%")
    print(f"{'one question at a time, Python loop over steps':<58}{per_question * len(sources):>10.1f}{'':>13}")
    print(f"  (the last timed on {len(sample)} questions, {sample_seconds:.1f} s, scaled to {len(sources)}; "
          f"batched greedy is {per_question * len(sources) / greedy['seconds']:.0f}x faster)")


if __name__ == "__main__":
    main()
