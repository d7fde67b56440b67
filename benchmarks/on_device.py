"""LiteRT against the SavedModel, side by side in one run: file size, words/s
at batch 1 and 64, greedy and beam search, and exact match / WER float
against int8.

The model is a folder that `keras-attention train` or `demo` wrote (by
default this script trains the demo's: the default model, 2 epochs of the
book's 45,000 date pairs). The script exports its SavedModel (beam width 5)
and LiteRT files (`export-litert`'s `convert`: greedy and beam 5, float32
and dynamic-range int8, batches of 1 and of 64), then times, in fresh
processes that take turns within each repeat:

- the SavedModel, loaded with `tf.saved_model.load` (strings in, strings
  out: its signatures `serving_default` and `beam_search`);
- the LiteRT files, run by `examples/litert_translate.py` in a process where
  TensorFlow, Keras and keras_attention cannot be imported (strings in,
  strings out: its Python tokenizer, one `invoke` per batch, its Python
  detokenizer).

Each timing is one pass over the first `--timed` test sources; the table
quotes the median of `--repeats` passes. Accuracy comes from one pass over
all the test pairs. With `--g2p-model DIR --g2p-test FILE` (a G2P model and
its test pairs, `benchmarks/g2p.py`), the WER of the G2P test words, float
against int8, is added.

Usage: python benchmarks/on_device.py [--model demo_output/model] [--work DIR]
(needs `pip install -e ".[litert]"`).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_attention import litert  # noqa: E402
from keras_attention import scoring  # noqa: E402
from keras_attention.data.generators import date_splits  # noqa: E402
from keras_attention.export import export_saved_model  # noqa: E402
from keras_attention.translator import Translator  # noqa: E402
from keras_attention_cli.tsv import read_pairs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "examples" / "litert_translate.py"
BEAM_WIDTH = 5
BATCH_SIZES = (1, 64)
QUANTIZATIONS = ("none", "dynamic-int8")

# Each timing process reads {"texts": [...], "batch_size": N, "passes": P}
# and prints {"seconds": [...], "outputs": [...]}: the outputs of its last pass.
TIME_SAVED_MODEL = r"""
import json, sys, time
import tensorflow as tf
import tensorflow_text  # noqa: F401
job = json.loads(sys.stdin.read())
signature = tf.saved_model.load(sys.argv[1]).signatures[sys.argv[2]]
texts, size = job["texts"], job["batch_size"]
def translate(batch):
    return [t.decode("utf-8") for t in signature(text=tf.constant(batch))["translation"].numpy()]
translate(texts[:size])  # the first call builds the graph's kernels
seconds = []
for _ in range(job["passes"]):
    start = time.perf_counter()
    outputs = [t for i in range(0, len(texts), size) for t in translate(texts[i : i + size])]
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "outputs": outputs}))
"""

TIME_LITERT = r"""
import json, runpy, sys, time
for name in ("tensorflow", "tensorflow_text", "keras", "keras_attention"):
    sys.modules[name] = None  # the interpreter alone
job = json.loads(sys.stdin.read())
translator = runpy.run_path(sys.argv[1])["LiteRTTranslator"](sys.argv[2])
texts = job["texts"]
translator.translate(texts[: translator.batch_size])
seconds = []
for _ in range(job["passes"]):
    start = time.perf_counter()
    outputs = translator.translate(texts)
    seconds.append(time.perf_counter() - start)
loaded = sorted(name for name in ("tensorflow", "keras", "keras_attention")
                if sys.modules.get(name))
print(json.dumps({"seconds": seconds, "outputs": outputs, "imported": loaded}))
"""


def run_timing(script, arguments, texts, batch_size, passes):
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, arguments)],
        input=json.dumps({"texts": texts, "batch_size": batch_size, "passes": passes}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"timing process failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def folder_bytes(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def train_demo_model(work):
    from keras_attention.runner import run_demo

    return run_demo(work / "demo", verbose=2).out


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="a model folder (default: train the demo's into --work)")
    parser.add_argument(
        "--work", help="folder for the exported files (default: a new temporary one)"
    )
    parser.add_argument(
        "--timed", type=int, default=1000, help="test sources per timed pass (default 1000)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed passes, alternating (default 3)"
    )
    parser.add_argument("--g2p-model", help="a G2P model folder, to add its WER float against int8")
    parser.add_argument("--g2p-test", help="the G2P test pairs (with --g2p-model)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="litert_benchmark_"))
    work.mkdir(parents=True, exist_ok=True)
    model = Path(args.model) if args.model else train_demo_model(work)
    translator = Translator.load(model)
    test_pairs = date_splits()[1]
    sources = [source for source, _ in test_pairs]

    saved_model = export_saved_model(translator, work / "saved_model", beam_width=BEAM_WIDTH)
    files = {}
    for beam in (1, BEAM_WIDTH):
        for quantize in QUANTIZATIONS:
            for batch_size in BATCH_SIZES:
                path = work / f"b{beam}_{quantize}_n{batch_size}.tflite"
                litert.export_litert(
                    translator, path, beam_width=beam, quantize=quantize, batch_size=batch_size
                )
                files[beam, quantize, batch_size] = path
    print(f"model {model}; files in {work}")

    print("\n| file | bytes | share of the float file |")
    print("|---|---|---|")
    float_bytes = files[1, "none", 1].stat().st_size
    print(f"| SavedModel variables | {folder_bytes(saved_model / 'variables'):,} | |")
    print(f"| SavedModel, whole folder | {folder_bytes(saved_model):,} | |")
    for quantize in QUANTIZATIONS:
        size = files[1, quantize, 1].stat().st_size
        print(f"| LiteRT greedy, {quantize} | {size:,} | {100 * size / float_bytes:.1f}% |")

    timed = sources[: args.timed]
    seconds = {}
    for repeat in range(args.repeats):
        for beam in (1, BEAM_WIDTH):
            signature = "serving_default" if beam == 1 else "beam_search"
            for batch_size in BATCH_SIZES:
                key = ("SavedModel", beam, "float32", batch_size)
                seconds.setdefault(key, []).append(
                    run_timing(TIME_SAVED_MODEL, [saved_model, signature], timed, batch_size, 1)[
                        "seconds"
                    ][0]
                )
                for quantize in QUANTIZATIONS:
                    key = ("LiteRT", beam, quantize, batch_size)
                    result = run_timing(
                        TIME_LITERT,
                        [RUNNER, files[beam, quantize, batch_size]],
                        timed,
                        batch_size,
                        1,
                    )
                    assert not result["imported"], result["imported"]
                    seconds.setdefault(key, []).append(result["seconds"][0])
        print(f"repeat {repeat + 1} of {args.repeats} timed", flush=True)

    print(
        f"\nwords/s, strings in and out, median of {args.repeats} passes over {len(timed)} test "
        "sources:\n"
    )
    print(
        "| decoding | batch | SavedModel | LiteRT float32 | LiteRT int8 | LiteRT float32 / "
        "SavedModel | LiteRT int8 / SavedModel |"
    )
    print("|---|---|---|---|---|---|---|")
    for beam in (1, BEAM_WIDTH):
        for batch_size in BATCH_SIZES:
            saved, floats, int8 = (
                len(timed) / statistics.median(seconds[key])
                for key in (
                    ("SavedModel", beam, "float32", batch_size),
                    ("LiteRT", beam, "none", batch_size),
                    ("LiteRT", beam, "dynamic-int8", batch_size),
                )
            )
            name = "greedy" if beam == 1 else f"beam {beam}"
            print(
                f"| {name} | {batch_size} | {saved:,.0f} | {floats:,.0f} | {int8:,.0f} | "
                f"{floats / saved:.1f}x | {int8 / saved:.1f}x |"
            )

    _, references = scoring.group_references(test_pairs)
    print(f"\nexact match on the {len(sources):,} date test pairs (LiteRT at batch 64):\n")
    print(
        "| decoding | package | LiteRT float32 | LiteRT int8 | float32 strings differing from "
        "the package | int8 strings differing |"
    )
    print("|---|---|---|---|---|---|")
    for beam in (1, BEAM_WIDTH):
        package = translator.translate(sources, beam_width=beam)["translation"]
        row = [scoring.score(package, references, translator.target_vectorizer)["exact_match"]]
        differing = []
        for quantize in QUANTIZATIONS:
            outputs = run_timing(TIME_LITERT, [RUNNER, files[beam, quantize, 64]], sources, 64, 1)[
                "outputs"
            ]
            row.append(
                scoring.score(outputs, references, translator.target_vectorizer)["exact_match"]
            )
            differing.append(sum(a != b for a, b in zip(outputs, package)))
        name = "greedy" if beam == 1 else f"beam {beam}"
        print(
            f"| {name} | {100 * row[0]:.2f}% | {100 * row[1]:.2f}% | {100 * row[2]:.2f}% | "
            f"{differing[0]} | {differing[1]} |"
        )

    if args.g2p_model:
        g2p = Translator.load(args.g2p_model)
        g2p_pairs = read_pairs(args.g2p_test)[0]
        words, g2p_references = scoring.group_references(g2p_pairs)
        print(f"\nG2P test words ({len(words):,}), WER (PER), LiteRT at batch 64:\n")
        print("| decoding | package | LiteRT float32 | LiteRT int8 |")
        print("|---|---|---|---|")
        for beam in (1, BEAM_WIDTH):
            cells = []
            package = g2p.translate(words, beam_width=beam)["translation"]
            for outputs in [package] + [
                run_timing(
                    TIME_LITERT,
                    [
                        RUNNER,
                        litert.export_litert(
                            g2p,
                            work / f"g2p_b{beam}_{q}.tflite",
                            beam_width=beam,
                            quantize=q,
                            batch_size=64,
                        )[0],
                    ],
                    words,
                    64,
                    1,
                )["outputs"]
                for q in QUANTIZATIONS
            ]:
                result = scoring.score(outputs, g2p_references, g2p.target_vectorizer)
                cells.append(
                    f"{100 * result['wer']:.2f}% ({100 * result['token_error_rate']:.2f}%)"
                )
            name = "greedy" if beam == 1 else f"beam {beam}"
            print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
