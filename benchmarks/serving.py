"""Translations per second of an exported SavedModel against the package's
own in-process decoding, side by side in one run.

For batch sizes 1, 32 and 256, greedy and beam search (width 5), it times
`signatures[...]` of the SavedModel loaded with `tf.saved_model.load` and
`Translator.translate` of the same trained model; the two take turns within
each repeat, so machine noise hits both alike. The first-call latency after
load is measured in fresh processes (load, then one translation of one
text), for the SavedModel and for the package.

Usage: python benchmarks/serving.py [--model demo_output/model] [--repeats 7]
(the model folder is what `keras-attention train` or `demo` writes).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tensorflow_text  # noqa: E402, F401

from keras_attention.data.generators import date_pairs  # noqa: E402
from keras_attention.export import export_saved_model  # noqa: E402
from keras_attention.translator import Translator  # noqa: E402

BATCH_SIZES = (1, 32, 256)
BEAM_WIDTH = 5

FIRST_CALL = r"""
import json, sys, time
start = time.perf_counter()
import tensorflow as tf
import tensorflow_text
kind, path = sys.argv[1], sys.argv[2]
imported = time.perf_counter()
if kind == "saved_model":
    model = tf.saved_model.load(path)
    signature = model.signatures["serving_default"]
    translate = lambda texts: signature(text=tf.constant(texts))["translation"]  # noqa: E731
else:
    from keras_attention.translator import Translator
    model = Translator.load(path)
    translate = lambda texts: model.translate(texts)["translation"]
loaded = time.perf_counter()
translate(["september 27, 1994"])
first = time.perf_counter()
translate(["9/27/94"])
second = time.perf_counter()
print(json.dumps({"load": loaded - imported, "first": first - loaded, "second": second - first}))
"""


def first_call_seconds(kind, path):
    result = subprocess.run(
        [sys.executable, "-c", FIRST_CALL, kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo_output/model", help="a trained model folder")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    translator = Translator.load(args.model)
    with tempfile.TemporaryDirectory() as folder:
        path = export_saved_model(
            translator, os.path.join(folder, "saved_model"), beam_width=BEAM_WIDTH
        )
        served = tf.saved_model.load(str(path))
        texts = [source for source, _ in date_pairs(max(BATCH_SIZES), seed=123)]

        print(
            f"first call after load (fresh process, median of 3; device: CPU, {os.cpu_count()} "
            "cores)"
        )
        print(f"{'':<22}{'load s':>10}{'first call s':>14}{'second call s':>15}")
        for kind, location in (("saved_model", path), ("package", args.model)):
            runs = [first_call_seconds(kind, location) for _ in range(3)]
            medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(
                f"{kind:<22}{medians['load']:>10.2f}{medians['first']:>14.2f}{medians['second']:>15.3f}"
            )

        print(f"\ntranslations per second (median of {args.repeats})")
        print(f"{'decoding':<10}{'batch':>7}{'SavedModel':>13}{'package':>11}{'ratio':>8}")
        for name, beam_width in (("greedy", 1), (f"beam {BEAM_WIDTH}", BEAM_WIDTH)):
            signature = served.signatures["serving_default" if beam_width == 1 else "beam_search"]
            for batch_size in BATCH_SIZES:
                batch = texts[:batch_size]
                contenders = {
                    "saved_model": lambda signature=signature, batch=batch: signature(
                        text=tf.constant(batch)
                    )["translation"].numpy(),
                    "package": lambda batch=batch, beam_width=beam_width: translator.translate(
                        batch, beam_width=beam_width
                    )["translation"],
                }
                for run in contenders.values():
                    run()  # trace and warm up
                times = {key: [] for key in contenders}
                for _ in range(args.repeats):
                    for key, run in contenders.items():
                        start = time.perf_counter()
                        run()
                        times[key].append(time.perf_counter() - start)
                rates = {key: batch_size / statistics.median(value) for key, value in times.items()}
                print(
                    f"{name:<10}{batch_size:>7}{rates['saved_model']:>13.1f}{rates['package']:>11.1f}"
                    f"{rates['saved_model'] / rates['package']:>7.2f}x"
                )


if __name__ == "__main__":
    main()
