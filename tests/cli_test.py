import subprocess
import sys
from pathlib import Path

import pytest

from keras_attention import cli
from keras_attention.data.generators import date_pairs
from keras_attention.data.tsv import write_pairs

pytestmark = pytest.mark.tensorflow_only


def run_cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "keras_attention.cli", *args],
        capture_output=True, text=True, input=stdin, timeout=900,
    )


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--data", "missing.tsv", "--out", "x"], "missing.tsv: no such file"),
        (["train", "--data", "{empty}", "--out", "x"], "no pairs"),
        (["train", "--data", "{bad}", "--out", "x"], "bad.tsv:2: expected 'source<TAB>target'"),
        (["train", "--data", "{good}", "--out", "x", "--cell", "rnn"], "invalid choice: 'rnn'"),
        (["train", "--data", "{good}", "--out", "x", "--score", "luong"], "invalid choice: 'luong'"),
        (["train", "--data", "{good}", "--out", "x", "--epochs", "0"], "expected a positive integer, received '0'"),
        (["train", "--data", "{good}", "--out", "x", "--validation-split", "1.5"], "expected a number in [0, 1)"),
        (["train", "--out", "x"], "the following arguments are required: --data"),
        (["evaluate", "--model", "{nowhere}", "--data", "{good}"], "is not a trained model folder"),
        (["translate", "--model", "{nowhere}", "hello"], "is not a trained model folder"),
        (["translate", "--model", "{nowhere}", "--beam", "-2", "hello"], "expected a positive integer"),
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


@pytest.mark.slow
def test_train_evaluate_translate_plot_and_resume(tmp_path):
    train, test = date_pairs(2000, seed=1), date_pairs(100, seed=2)
    write_pairs(tmp_path / "train.tsv", train)
    (tmp_path / "test.tsv").write_text(
        "\n".join(f"{s}\t{t}" for s, t in test) + "\n\n", encoding="utf-8"
    )
    out = tmp_path / "model"
    common = ["--units", "32", "--embedding-dim", "8", "--batch-size", "64", "--seed", "1"]
    result = run_cli("train", "--data", str(tmp_path / "train.tsv"), "--out", str(out),
                     "--epochs", "1", *common)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "epoch 1: loss" in result.stdout and "exact match (greedy decoding)" in result.stdout
    assert (out / "model.keras").is_file() and (out / "source_vocabulary.json").is_file()

    result = run_cli("evaluate", "--model", str(out), "--data", str(tmp_path / "test.tsv"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "skipped 1 blank line(s)" in result.stdout
    assert "exact match:" in result.stdout and "token accuracy:" in result.stdout

    sources = [source for source, _ in test[:3]]
    by_argument = run_cli("translate", "--model", str(out), *sources)
    by_stdin = run_cli("translate", "--model", str(out), stdin="\n".join(sources) + "\n")
    by_beam = run_cli("translate", "--model", str(out), "--beam", "3", *sources)
    for result in (by_argument, by_stdin, by_beam):
        assert result.returncode == 0, result.stderr[-3000:]
        assert len(result.stdout.splitlines()) == 3
    assert by_argument.stdout == by_stdin.stdout

    png = tmp_path / "attention.png"
    result = run_cli("plot", "--model", str(out), "--png", str(png), sources[0])
    assert result.returncode == 0, result.stderr[-3000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    saved_model = tmp_path / "saved_model"
    result = run_cli("export", "--model", str(out), "--out", str(saved_model), "--beam", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (saved_model / "saved_model.pb").is_file()
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "saved_model_cli"), "show", "--all", "--dir", str(saved_model)],
        capture_output=True, text=True, timeout=300,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "signature_def['serving_default']" in shown.stdout
    assert "signature_def['beam_search']" in shown.stdout

    before = (out / "model.keras").stat().st_mtime_ns
    result = run_cli("train", "--data", str(tmp_path / "train.tsv"), "--out", str(out),
                     "--epochs", "1", "--resume", *common)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming the model in" in result.stdout
    assert (out / "model.keras").stat().st_mtime_ns > before


@pytest.mark.slow
def test_demo_runs_end_to_end_on_a_small_date_task(tmp_path):
    out = tmp_path / "demo"
    result = run_cli("demo", "--out", str(out), "--epochs", "1", "--train-size", "3000",
                     "--test-size", "200")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "epoch 1: loss" in result.stdout and "test exact match (greedy decoding)" in result.stdout
    assert "tuesday, september 27, 1994" in result.stdout
    assert (out / "dates_train.tsv").read_text(encoding="utf-8").count("\n") == 3000
    assert (out / "model" / "model.keras").is_file()
    assert (out / "model" / "saved_model" / "saved_model.pb").is_file()
    assert (out / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
