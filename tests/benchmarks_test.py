"""The benchmarks' recipe runs (`benchmarks/g2p.py` and `translation.py`),
each on a few made-up pairs with the README's train line shrunk by extra
options: the line is read from the README, trained, decoded at both beams,
its members alone, its SavedModel timed, its curve plotted. The peers
(Phonetisaurus, Apertium, OpenNMT-py) are not run here."""

import json
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keras_attention_cli.tsv import write_pairs
from tests.toy_text import toy_sentences

pytestmark = [pytest.mark.tensorflow_only, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]

# Run as the scripts run (benchmarks/ first on the import path), in a
# process of their own: they set TensorFlow's environment when imported.
RUN_RECIPES = """
import json, sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import g2p
import translation

from keras_attention import scoring
from keras_attention_cli.tsv import read_pairs

work = Path(sys.argv[2])
g2p_data = work / "g2p_data"
words, references = scoring.group_references(read_pairs(g2p_data / "test.tsv")[0])
shrink = ["--units", "8", "--embedding-dim", "4", "--epochs", "1", "--threads", "1"]
g2p_result = g2p.recipe(
    work / "g2p", g2p_data, words, references, shrink + ["--attentional-units", "8"]
)
g2p.plot(g2p_result["curve"], None, work / "g2p" / "wer_by_minutes.png",
         g2p_result["beam5"]["wer"], g2p_result["dev_wer_greedy"])
verses = read_pairs(work / "bible_data" / "test.tsv")[0]
translation_result = translation.recipe(
    work / "bible", work / "bible_data", [s for s, _ in verses], [t for _, t in verses],
    shrink + ["--vocabulary-size", "300", "--batch-size", "16"],
)
print(json.dumps({"g2p": g2p_result, "translation": translation_result}))
"""


def _lexicon(count, seed):
    """Made-up words and their 'phones': each letter's upper case, a word
    with a doubled letter also with the letter once (a second pronunciation)."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        word = "".join(rng.choice(list(string.ascii_lowercase[:8]), size=rng.integers(2, 7)))
        pairs.append((word, " ".join(word.upper())))
        squeezed = "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])
        if squeezed != word:
            pairs.append((word, " ".join(squeezed.upper())))
    return pairs


def _is_a_readme_line(line, data):
    """Whether `line` is one of README.md's lines, as written, training on `data`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    return line in readme and line.startswith(f"keras-attention train --data {data}/")


def test_the_recipe_runs_of_both_benchmarks_train_decode_time_and_plot(tmp_path):
    for name, (train, dev, test) in {
        "g2p_data": (_lexicon(300, 1), _lexicon(30, 2), _lexicon(30, 3)),
        "bible_data": (toy_sentences(300, 1), toy_sentences(20, 2), toy_sentences(20, 3)),
    }.items():
        (tmp_path / name).mkdir()
        for split, pairs in (("train", train), ("dev", dev), ("test", test)):
            write_pairs(tmp_path / name / f"{split}.tsv", pairs)
    for folder in ("g2p", "bible"):
        (tmp_path / folder).mkdir()
    result = subprocess.run(
        [sys.executable, "-c", RUN_RECIPES, str(ROOT / "benchmarks"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.loads(result.stdout.splitlines()[-1])

    g2p = results["g2p"]
    # The README's line, as written; the options after it shrink the model.
    assert _is_a_readme_line(g2p["train_line"], "g2p_data")
    assert "--ensemble 2" in g2p["train_line"]
    assert (g2p["members"], g2p["epochs_run"], g2p["best_epochs"]) == (2, 2, [1, 1])
    assert len(g2p["members_alone"]) == 2
    for decoded in [g2p["greedy"], g2p["beam5"], *[m[b] for m in g2p["members_alone"] for b in m]]:
        assert 0 <= decoded["wer"] <= 1 and 0 <= decoded["per"]
        assert decoded["words_per_second"] > 0
    assert g2p["saved_model_words_per_second"] > 0
    assert [(point["member"], point["epoch"]) for point in g2p["curve"]] == [(1, 1), (2, 1)]
    assert 0 < g2p["curve"][0]["minutes"] < g2p["curve"][1]["minutes"]
    assert (tmp_path / "g2p" / "wer_by_minutes.png").stat().st_size > 0

    bible = results["translation"]
    assert _is_a_readme_line(bible["train_line"], "bible_data")
    assert bible["epochs_run"] == 1
    for decoded in (bible["greedy"], bible["beam5"]):
        assert 0 <= decoded["bleu"] <= 100 and 0 <= decoded["chrf"] <= 100
        assert decoded["sentences_per_second"] > 0
    assert bible["saved_model_sentences_per_second"] > 0
    assert [point["epoch"] for point in bible["curve"]] == [1]
    assert (tmp_path / "bible" / "recipe_beam5.txt").read_text(encoding="utf-8").count("\n") == 20
