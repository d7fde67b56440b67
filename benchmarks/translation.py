"""Spanish → English Bible verses: the README's recipe against Apertium, a
translation memory and OpenNMT-py, in one run.

One split (`keras-attention data bible --seed S`: the Reina-Valera 1909 and
the World English Bible by verse, 90/5/5 by chapter, as extracted), then, one
after another on the same machine, each scored on the test verses with
sacreBLEU's BLEU and chrF (default settings, against the English as written):

- Apertium (Debian's `apertium-eng-spa`): `apertium -u spa-eng`, rule-based.
- A translation memory: the English of the training verse whose Spanish is
  most similar (cosine of TF-IDF word vectors).
- The recipe: the `keras-attention train --data ...` line of README.md's
  "Translating sentences" section, run as written with this run's files;
  greedy and beam-5 decoding; the dev BLEU after each epoch
  (`bleu_by_epoch.csv`, `bleu_by_epoch.png`); the SavedModel's sentences/s.
- OpenNMT-py (`--onmt-venv`: a virtual environment of its own with
  `pip install OpenNMT-py==3.5.1 "numpy<2" sentencepiece`): its
  bidirectional RNN encoder and global attention (GRU, the recipe's sizes),
  on the recipe's own SentencePiece models, trained for the minutes the
  recipe's `train` took on this machine (stopped then; its last checkpoint
  is scored), beam 5.

`--direction eng-spa` runs the same on English → Spanish (Apertium
`eng-spa`), the split unchanged.

Usage: python benchmarks/translation.py --work DIR [--seed 0] [--sword-path P]
       [--direction spa-eng|eng-spa] [--onmt-venv DIR] [--train-option=--epochs=2 ...]
"""

import argparse
import csv
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_attention_cli.main import prefer_onednn  # noqa: E402  (imports no TensorFlow)
from keras_attention_cli.options import BIBLE_DIRECTIONS  # noqa: E402

prefer_onednn()

import recipes  # noqa: E402  (benchmarks/recipes.py)
from recipes import CLI  # noqa: E402
from recipes import run  # noqa: E402

README_SECTION = "## Translating sentences"
LANGUAGES = {"spa-eng": "Spanish → English", "eng-spa": "English → Spanish"}


def read_split(data, name):
    from keras_attention_cli.tsv import read_pairs

    pairs, _ = read_pairs(data / f"{name}.tsv")
    return [source for source, _ in pairs], [target for _, target in pairs]


def scores(hypotheses, references):
    """BLEU and chrF of outputs against one reference each."""
    from keras_attention.scoring import sentence_scores

    return sentence_scores(hypotheses, [[reference] for reference in references])


def apertium(sources, direction):
    """Apertium's translation of every source (`direction`: its language
    pair, spa-eng or eng-spa), and its seconds."""
    if not shutil.which("apertium"):
        raise SystemExit("apertium is not installed: apt-get install apertium-eng-spa")
    start = time.perf_counter()
    # One verse a line; a newline inside a verse would shift the lines.
    result = subprocess.run(
        ["apertium", "-u", direction],
        input="".join(" ".join(source.split()) + "\n" for source in sources),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    outputs = result.stdout.split("\n")[: len(sources)]
    if len(outputs) != len(sources):
        raise SystemExit(f"apertium gave {len(outputs)} lines for {len(sources)} verses")
    return [" ".join(output.split()) for output in outputs], seconds


def translation_memory(train_sources, train_targets, sources):
    """The target of the most similar training source, for every source:
    TF-IDF vectors of lowercased words, cosine similarity."""
    import numpy as np
    from scipy import sparse

    def words(text):
        return re.findall(r"\w+", text.lower())

    index = {}
    for text in train_sources:
        for word in set(words(text)):
            index[word] = index.get(word, 0) + 1
    vocabulary = {word: i for i, word in enumerate(index)}
    idf = np.array([math.log(len(train_sources) / index[word]) + 1 for word in vocabulary])

    def matrix(texts):
        rows, columns, values = [], [], []
        for row, text in enumerate(texts):
            counts = {}
            for word in words(text):
                if word in vocabulary:
                    counts[vocabulary[word]] = counts.get(vocabulary[word], 0) + 1
            for column, count in counts.items():
                rows.append(row)
                columns.append(column)
                values.append(count * idf[column])
        weights = sparse.csr_matrix((values, (rows, columns)), shape=(len(texts), len(vocabulary)))
        norms = np.sqrt(np.asarray(weights.multiply(weights).sum(axis=1))).ravel()
        return sparse.diags(1 / np.maximum(norms, 1e-12)) @ weights

    similarity = matrix(sources) @ matrix(train_sources).T
    best = np.asarray(similarity.argmax(axis=1)).ravel()
    return [train_targets[i] for i in best]


def recipe(work, data, test_sources, test_references, extra):
    import numpy as np

    from keras_attention.translator import Translator

    model = work / "model"
    line, train_seconds, epochs = recipes.train_recipe(README_SECTION, work, data, extra)
    translator = Translator.load(model)
    pairs = list(zip(test_sources, test_references))
    decoded = {}
    for beam, result in recipes.decode_at_beams(translator, pairs).items():
        decoded[beam] = {
            "bleu": result["bleu"],
            "chrf": result["chrf"],
            "sentences_per_second": result["per_second"],
        }
        (work / f"recipe_beam{beam}.txt").write_text(
            "".join(f"{t}\n" for t in result["translations"]), encoding="utf-8"
        )
    serving_speed = recipes.serving_per_second(model / "saved_model", test_sources, 64)
    return {
        "train_line": line,
        "extra": list(extra),
        "train_seconds": train_seconds,
        "epochs_run": len(epochs),
        "seconds_per_epoch": float(np.median([float(row["epoch_seconds"]) for row in epochs])),
        "greedy": decoded[1],
        "beam5": decoded[5],
        "saved_model_sentences_per_second": serving_speed,
        "curve": [
            {
                "epoch": int(float(row["epoch"])) + 1,
                "minutes": float(minutes) / 60,
                "dev_bleu": float(row["dev_bleu"]),
                "dev_chrf": float(row["dev_chrf"]),
            }
            for row, minutes in zip(
                epochs, np.cumsum([float(row["epoch_seconds"]) for row in epochs])
            )
        ],
    }


ONMT_CONFIG = """\
save_data: {folder}/run
src_vocab: {folder}/vocab.src
tgt_vocab: {folder}/vocab.tgt
overwrite: true
data:
    corpus_1:
        path_src: {folder}/train.es
        path_tgt: {folder}/train.en
        transforms: [sentencepiece, filtertoolong]
    valid:
        path_src: {folder}/dev.es
        path_tgt: {folder}/dev.en
        transforms: [sentencepiece, filtertoolong]
src_subword_model: {folder}/source.model
tgt_subword_model: {folder}/target.model
src_seq_length: {max_source_length}
tgt_seq_length: {max_target_length}
src_vocab_size: {vocabulary_size}
tgt_vocab_size: {vocabulary_size}
encoder_type: brnn
decoder_type: rnn
rnn_type: GRU
layers: 1
hidden_size: {units}
word_vec_size: {embedding_dim}
global_attention: general
dropout: [{dropout}]
batch_size: {batch_size}
batch_type: sents
# The default pools 262,144 examples before the first batch: this corpus's
# 28,000 read nine times over. Data read in the training process.
bucket_size: 16384
num_workers: 0
optim: adam
learning_rate: 0.001
max_grad_norm: 5
train_steps: 1000000
valid_steps: 1000000
save_checkpoint_steps: 50
keep_checkpoint: 2
save_model: {folder}/model
seed: {seed}
report_every: 10
"""


def opennmt(work, data, onmt_venv, minutes, seed):
    """OpenNMT-py's RNN with global attention, on the recipe's SentencePiece
    models, trained for `minutes` and scored with beam 5 on the test verses."""
    from keras_attention.translator import Translator
    from keras_attention_cli.options import ModelConfig

    bin_dir = Path(onmt_venv) / "bin"
    if not (bin_dir / "onmt_train").is_file():
        return {"error": f"no onmt_train in {bin_dir} (pip install OpenNMT-py there)"}
    folder = work / "opennmt"
    folder.mkdir(exist_ok=True)
    translator = Translator.load(work / "model")
    config = json.loads((work / "model" / "config.json").read_text(encoding="utf-8"))["model"]
    model_config = ModelConfig(**config)
    for side, vectorizer in (
        ("source", translator.source_vectorizer),
        ("target", translator.target_vectorizer),
    ):
        (folder / f"{side}.model").write_bytes(vectorizer.sentencepiece_model)
    for name in ("train", "dev", "test"):
        sources, targets = read_split(data, name)
        (folder / f"{name}.es").write_text("".join(f"{s}\n" for s in sources), encoding="utf-8")
        (folder / f"{name}.en").write_text("".join(f"{t}\n" for t in targets), encoding="utf-8")
    (folder / "config.yaml").write_text(
        ONMT_CONFIG.format(
            folder=folder,
            max_source_length=model_config.max_source_length,
            max_target_length=model_config.max_target_length,
            vocabulary_size=translator.target_vectorizer.size,
            units=model_config.units,
            embedding_dim=model_config.embedding_dim,
            dropout=model_config.dropout,
            batch_size=64,
            seed=seed,
        ),
        encoding="utf-8",
    )
    run(
        [bin_dir / "onmt_build_vocab", "-config", folder / "config.yaml", "-n_sample", "-1"],
        folder / "vocab.log",
    )
    print(f"OpenNMT-py: training for {minutes:.1f} min", flush=True)
    start = time.perf_counter()
    with open(folder / "train.log", "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(bin_dir / "onmt_train"), "-config", str(folder / "config.yaml")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.wait(timeout=minutes * 60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
    train_seconds = time.perf_counter() - start
    checkpoints = sorted(
        folder.glob("model_step_*.pt"), key=lambda path: int(path.stem.rsplit("_", 1)[1])
    )
    if not checkpoints:
        return {"error": f"no checkpoint after {minutes:.1f} min; see {folder / 'train.log'}"}
    steps = int(checkpoints[-1].stem.rsplit("_", 1)[1])
    results = {"train_seconds": train_seconds, "steps": steps}
    for name in ("dev", "test"):
        start = time.perf_counter()
        run(
            [
                bin_dir / "onmt_translate",
                "-model",
                checkpoints[-1],
                "-src",
                folder / f"{name}.es",
                "-output",
                folder / f"{name}.out",
                "-beam_size",
                "5",
                "-batch_size",
                "64",
                "-max_length",
                "256",
                "-transforms",
                "sentencepiece",
                "-src_subword_model",
                folder / "source.model",
                "-tgt_subword_model",
                folder / "target.model",
            ],  # fmt: skip
            folder / f"translate_{name}.log",
        )
        seconds = time.perf_counter() - start
        outputs = (folder / f"{name}.out").read_text(encoding="utf-8").split("\n")
        _, references = read_split(data, name)
        outputs = [" ".join(output.split()) for output in outputs[: len(references)]]
        measured = scores(outputs, references)
        if name == "dev":
            results["dev_bleu"] = measured["bleu"]
        else:
            results.update(measured, sentences_per_second=len(references) / seconds)
    return results


def plot(curve, peers, direction, path):
    """The recipe's dev BLEU after each epoch, the peers' dev BLEU as lines."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 4))
    axes = figure.subplots()
    axes.plot(
        [point["minutes"] for point in curve],
        [point["dev_bleu"] for point in curve],
        marker="o",
        label="the recipe (greedy, after each epoch)",
    )
    for (name, bleu), style in zip(peers.items(), ("--", ":", "-.")):
        axes.axhline(bleu, linestyle=style, color="gray", label=name)
    axes.set_xlabel("training minutes (2-core CPU)")
    axes.set_ylabel("dev BLEU")
    axes.set_title(f"{LANGUAGES[direction]} Bible verses (dev set)", fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", help="folder for everything (default: a new temporary one)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    parser.add_argument("--sword-path", help="as `keras-attention data bible --sword-path`")
    parser.add_argument(
        "--direction",
        choices=BIBLE_DIRECTIONS,
        default=BIBLE_DIRECTIONS[0],
        help="as `keras-attention data bible --direction` (default spa-eng)",
    )
    parser.add_argument("--onmt-venv", help="virtual environment with OpenNMT-py installed")
    parser.add_argument(
        "--train-option",
        action="append",
        default=[],
        help="extra train argument, e.g. --train-option=--epochs=2",
    )
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="translation_benchmark_"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    command = CLI + ["data", "bible", "--out", data, "--seed", args.seed]
    command += ["--direction", args.direction]
    if args.sword_path:
        command += ["--sword-path", args.sword_path]
    run(command, work / "data.log")
    train_sources, train_targets = read_split(data, "train")
    dev_sources, dev_references = read_split(data, "dev")
    test_sources, test_references = read_split(data, "test")
    print(f"{len(test_sources):,} test verses", flush=True)
    results = {"seed": args.seed, "direction": args.direction, "test_verses": len(test_sources)}

    outputs, seconds = apertium(test_sources, args.direction)
    dev_outputs, _ = apertium(dev_sources, args.direction)
    results["apertium"] = {
        **scores(outputs, test_references),
        "sentences_per_second": len(test_sources) / seconds,
        "dev_bleu": scores(dev_outputs, dev_references)["bleu"],
    }
    print("apertium:", results["apertium"], flush=True)
    results["translation_memory"] = {
        **scores(translation_memory(train_sources, train_targets, test_sources), test_references),
        "dev_bleu": scores(
            translation_memory(train_sources, train_targets, dev_sources), dev_references
        )["bleu"],
    }
    print("translation memory:", results["translation_memory"], flush=True)
    results["recipe"] = recipe(work, data, test_sources, test_references, args.train_option)
    print("recipe:", {k: v for k, v in results["recipe"].items() if k != "curve"}, flush=True)
    if args.onmt_venv:
        results["opennmt"] = opennmt(
            work, data, args.onmt_venv, results["recipe"]["train_seconds"] / 60, args.seed
        )
        print("opennmt-py:", results["opennmt"], flush=True)
    (work / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    with open(work / "bleu_by_epoch.csv", "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, ["epoch", "minutes", "dev_bleu", "dev_chrf"])
        writer.writeheader()
        writer.writerows(results["recipe"]["curve"])
    peers = {
        "Apertium": results["apertium"]["dev_bleu"],
        "translation memory": results["translation_memory"]["dev_bleu"],
    }
    if "dev_bleu" in results.get("opennmt", {}):
        peers["OpenNMT-py (last checkpoint, beam 5)"] = results["opennmt"]["dev_bleu"]
    plot(results["recipe"]["curve"], peers, args.direction, work / "bleu_by_epoch.png")
    print_table(results)
    print(f"\nresults, curve and plot in {work}")


def print_table(results):
    recipe_result = results["recipe"]
    rows = [
        ("Apertium (rule-based)", results["apertium"], "-"),
        ("translation memory (most similar training verse)", results["translation_memory"], "-"),
    ]
    onmt = results.get("opennmt")
    if onmt and "bleu" in onmt:
        rows.append(
            (
                f"OpenNMT-py brnn GRU + global attention, beam 5 ({onmt['steps']} steps)",
                onmt,
                f"{onmt['train_seconds'] / 60:.1f}",
            )
        )
    minutes = f"{recipe_result['train_seconds'] / 60:.1f}"
    rows += [
        ("the recipe, greedy", recipe_result["greedy"], minutes),
        ("the recipe, beam 5", recipe_result["beam5"], minutes),
    ]
    print(
        f"\n{LANGUAGES[results['direction']]}, {results['test_verses']:,} test verses "
        f"(seed {results['seed']})"
    )
    print("| system | BLEU | chrF | training minutes | sentences/s |")
    print("|---|---|---|---|---|")
    for name, result, train_minutes in rows:
        speed = result.get("sentences_per_second")
        print(
            f"| {name} | {result['bleu']:.2f} | {result['chrf']:.2f} | {train_minutes} | "
            f"{'-' if speed is None else f'{speed:.1f}'} |"
        )
    if onmt and "error" in onmt:
        print(f"OpenNMT-py: {onmt['error']}")
    speed = recipe_result["saved_model_sentences_per_second"]
    print(
        f"the recipe: {recipe_result['epochs_run']} epochs, "
        f"{recipe_result['seconds_per_epoch']:.0f} s an epoch (median), its SavedModel "
        f"{speed:.1f} sentences/s (greedy, batches of 64)"
    )


if __name__ == "__main__":
    main()
