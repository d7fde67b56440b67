import json

import numpy as np
import pytest
import tensorflow as tf

from keras_attention.data.generators import date_pairs
from keras_attention.process_state import intra_op_threads
from keras_attention.runner import Runner
from keras_attention_cli import layout
from keras_attention_cli.options import ModelConfig
from keras_attention_cli.options import TrainingConfig
from keras_attention_cli.options import config_dict
from tests.toy_text import toy_sentences

pytestmark = pytest.mark.tensorflow_only


def test_a_runner_does_from_python_what_the_command_line_does(tmp_path):
    lines = []
    runner = Runner(tmp_path / "model", report=lines.append)
    train, dev = date_pairs(400, seed=1), date_pairs(40, seed=2)
    runner.train(
        train, dev=dev, epochs=2, patience=1, units=8, embedding_dim=4, batch_size=64,
        batch_by="tokens",
    )  # fmt: skip
    assert any(line.startswith("epoch 1: loss") for line in lines)
    assert any(line.startswith("keeping the weights of epoch") for line in lines)
    for name in (
        *layout.MODEL_FILES,
        layout.MANIFEST_FILE,
        layout.TRAINING_LOG_FILE,
        layout.SAVED_MODEL_FOLDER,
    ):
        assert (tmp_path / "model" / name).exists(), name
    # The run's configs, for the record: the options given and the defaults.
    written = json.loads((tmp_path / "model" / layout.CONFIG_FILE).read_text(encoding="utf-8"))
    assert written["model"] == config_dict(ModelConfig(units=8, embedding_dim=4))
    assert written["training"] == config_dict(
        TrainingConfig(epochs=2, patience=1, batch_size=64, batch_by="tokens")
    )

    # A fresh runner on the folder loads what the first wrote.
    again = Runner(tmp_path / "model")
    evaluated = again.evaluate(dev, beam_width=2, n_best=2)
    assert evaluated["oracle_exact_match"] >= evaluated["exact_match"]
    translated = again.translate(["1/2/03"], beam_width=2, n_best=2)
    assert translated["n_best_translations"][0][0] == translated["translation"][0]
    assert again.export(tmp_path / "exported", beam_width=2).joinpath("saved_model.pb").is_file()
    assert again.plot("1/2/03", tmp_path / "a.png") == again.translate(["1/2/03"])["translation"][0]
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"


def test_files_train_the_model_their_pairs_train(tmp_path):
    import csv
    import gzip

    from keras_attention_cli.tsv import write_pairs

    train, dev = date_pairs(120, seed=1), date_pairs(12, seed=2)
    for index in range(2):
        write_pairs(tmp_path / f"part-{index}.tsv", train[index * 60 : (index + 1) * 60])
    write_pairs(tmp_path / "dev.tsv", dev)
    (tmp_path / "dev.tsv.gz").write_bytes(gzip.compress((tmp_path / "dev.tsv").read_bytes()))
    options = dict(epochs=1, units=8, embedding_dim=4, batch_size=32, export=False)
    logs = []
    for name, data, dev_data in (
        ("from_pairs", train, dev),
        ("from_files", str(tmp_path / "part-*.tsv"), [tmp_path / "dev.tsv.gz"]),
    ):
        Runner(tmp_path / name, report=lambda line: None).train(data, dev=dev_data, **options)
        with open(tmp_path / name / layout.TRAINING_LOG_FILE, encoding="utf-8") as file:
            logs.append([{**row, "epoch_seconds": None} for row in csv.DictReader(file)])
    assert logs[0] == logs[1]


def test_runner_refuses_options_that_cannot_work_together(tmp_path):
    runner = Runner(tmp_path / "model")
    with pytest.raises(
        ValueError, match=r"`patience` must be None without dev pairs to watch \(`dev`\)"
    ):
        runner.train(date_pairs(10), patience=2)
    with pytest.raises(ValueError, match="`validation_split` must be small enough to leave pairs"):
        runner.train(date_pairs(1), validation_split=0.99)
    with pytest.raises(ValueError, match=r"`batch_by` must be one of \('pairs', 'tokens'\)"):
        runner.train(date_pairs(10), batch_by="rows")
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['unit'\]"):
        runner.train(date_pairs(10), unit=8)
    with pytest.raises(ValueError, match="`threads` must be a positive integer, or None"):
        runner.train(date_pairs(10), threads=0)
    # A count other than the one TensorFlow runs with here: it is fixed
    # when TensorFlow starts, so the error says how to set it.
    other = intra_op_threads() + 1
    with pytest.raises(
        ValueError,
        match=rf"`threads` must be the intra-op thread count this process runs with, "
        rf"{other - 1}: set TF_NUM_INTRAOP_THREADS={other} in the environment",
    ):
        runner.train(date_pairs(10), threads=other)
    assert not runner.out.exists()  # refused before anything was written


def test_early_stopping_ends_training_before_the_epochs_asked_and_the_runner_says_so(tmp_path):
    lines = []
    runner = Runner(tmp_path / "model", report=lines.append)
    # At this learning rate nothing is learned: the dev WER stays where it
    # began, and no epoch after the first improves on it.
    runner.train(
        date_pairs(200, seed=1),
        dev=date_pairs(20, seed=2),
        epochs=6,
        patience=2,
        learning_rate=1e-12,
        units=8,
        embedding_dim=4,
        batch_size=64,
        export=False,
    )
    assert [line for line in lines if line.startswith("epoch ")][-1].startswith("epoch 3:")
    assert "the dev WER has not improved for 2 epochs: training stopped after epoch 3 of 6" in lines
    assert "keeping the weights of epoch 3, the lowest dev WER (100.00%)" in lines


def test_a_spent_time_budget_ends_training_and_the_runner_says_so(tmp_path):
    lines = []
    runner = Runner(tmp_path / "model", report=lines.append)
    runner.train(
        date_pairs(200, seed=1),
        epochs=30,
        time_budget=1e-8,  # minutes
        units=8,
        embedding_dim=4,
        batch_size=64,
        export=False,
    )
    # The first batch spends it: epoch 1 ends there, and the folder holds the model.
    assert [line for line in lines if line.startswith("epoch ")][-1].startswith("epoch 1:")
    assert (
        "the time budget of 1e-08 min ran out in epoch 1, after its step 1: training stopped there"
        in lines
    )
    assert (tmp_path / "model" / layout.TRAINING_LOG_FILE).read_text().count("\n") == 2


def test_an_ensemble_trains_member_after_member_and_decodes_with_all_of_them(tmp_path):
    import csv

    from keras_attention.models import Ensemble

    lines = []
    runner = Runner(tmp_path / "model", report=lines.append)
    train, dev = date_pairs(300, seed=1), date_pairs(30, seed=2)
    runner.train(
        train,
        dev=dev,
        epochs=2,
        patience=1,
        ensemble=2,
        seed=5,
        time_budget=600,
        units=8,
        embedding_dim=4,
        batch_size=64,
    )
    assert [line.split(":")[0] for line in lines if line.startswith("ensemble member")] == [
        "ensemble member 1 of 2 (seed 5)",
        "ensemble member 2 of 2 (seed 6)",
    ]
    assert sum(line.startswith("keeping the weights of epoch") for line in lines) == 2
    assert any(
        line.startswith("the ensemble of 2 (greedy decoding): dev exact match") for line in lines
    )
    with open(tmp_path / "model" / layout.TRAINING_LOG_FILE, encoding="utf-8") as log:
        rows = list(csv.DictReader(log))
    assert [(row["member"], row["best_epoch"]) for row in rows][0] == ("1", "1")
    assert [row["member"] for row in rows] == ["1"] * 2 + ["2"] * 2
    assert not (tmp_path / "model" / layout.BACKUP_FOLDER).exists()

    again = Runner(tmp_path / "model")
    assert isinstance(again.translator.model, Ensemble) and len(again.translator.model.members) == 2
    # The members differ from each other: they were trained from different seeds.
    first, second = (member.get_weights()[0] for member in again.translator.model.members)
    assert first.shape == second.shape and not np.allclose(first, second)
    translated = again.translate(["1/2/03"], beam_width=5)["translation"]  # the export's beam
    saved_model = tf.saved_model.load(str(tmp_path / "model" / layout.SAVED_MODEL_FOLDER))
    served = saved_model.signatures["beam_search"](text=tf.constant(["1/2/03"]))
    assert served["translation"].numpy()[0].decode() == translated[0]
    with pytest.raises(ValueError, match="holds an ensemble, which cannot be resumed"):
        Runner(tmp_path / "model").train(train, resume=True)
    with pytest.raises(ValueError, match="`ensemble` must be 1 when resuming"):
        Runner(tmp_path / "model").train(train, resume=True, ensemble=2)
    with pytest.raises(ValueError, match="`ensemble` must be"):
        Runner(tmp_path / "other").train(train, ensemble=0)


def _log_rows(folder):
    import csv

    with open(folder / layout.TRAINING_LOG_FILE, encoding="utf-8") as log:
        return [{**row, "epoch_seconds": None} for row in csv.DictReader(log)]


def _small_ensemble(members):
    """Training pairs and `Runner.train` options of a small ensemble of two
    epochs a member, with the thread count that `jobs` needs."""
    train, dev = date_pairs(200, seed=1), date_pairs(20, seed=2)
    return train, dict(
        dev=dev, epochs=2, ensemble=members, seed=5, units=8, embedding_dim=4, batch_size=64,
        export=False, threads=intra_op_threads(),
    )  # fmt: skip


@pytest.mark.slow
def test_members_trained_two_at_a_time_are_the_members_trained_one_after_the_other(tmp_path):
    import keras

    train, options = _small_ensemble(members=3)
    Runner(tmp_path / "in_turn", report=lambda line: None).train(train, **options)
    lines = []
    Runner(tmp_path / "at_once", report=lines.append).train(train, jobs=2, **options)
    assert (
        f"training 3 ensemble member(s) 2 at a time, each in a process of its own with "
        f"{intra_op_threads()} thread(s)" in lines[1]
    )
    # Each child's lines come back, prefixed with its member's number.
    for member in (1, 2, 3):
        assert any(
            line.startswith(f"member {member} | ensemble member {member} of 3 (seed {4 + member})")
            for line in lines
        )
        assert any(line.startswith(f"member {member} | epoch 2: loss") for line in lines)
    assert any(line.startswith("the ensemble of 3 (greedy decoding)") for line in lines)
    at_once, in_turn = (
        keras.saving.load_model(tmp_path / name / layout.MODEL_FILE)
        for name in ("at_once", "in_turn")
    )
    for got, want in zip(at_once.get_weights(), in_turn.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    assert _log_rows(tmp_path / "at_once") == _log_rows(tmp_path / "in_turn")
    assert [row["member"] for row in _log_rows(tmp_path / "at_once")] == [
        "1",
        "1",
        "2",
        "2",
        "3",
        "3",
    ]
    written = json.loads((tmp_path / "at_once" / layout.CONFIG_FILE).read_text(encoding="utf-8"))
    assert written["training"]["jobs"] == 2
    assert written["intra_op_threads"] == intra_op_threads()
    assert not (tmp_path / "at_once" / layout.BACKUP_FOLDER).exists()


def _train_two_at_a_time(folder, report=lambda line: None):
    Runner(folder, report=report).train(
        date_pairs(50, seed=1), epochs=1, ensemble=2, jobs=2, threads=intra_op_threads(),
        units=8, embedding_dim=4, export=False,
    )  # fmt: skip


def _fail_members(monkeypatch):
    """Makes every member's process print a line, say why it fails on
    stderr and exit with 1."""
    import sys

    from keras_attention import member_jobs

    failing = "import sys; print('the last words'); sys.exit('a traceback, say')"
    monkeypatch.setattr(member_jobs, "child_command", lambda spec: [sys.executable, "-c", failing])


def test_a_member_whose_process_fails_stops_the_run_and_is_quoted(tmp_path, monkeypatch):
    _fail_members(monkeypatch)
    with pytest.raises(RuntimeError) as raised:
        _train_two_at_a_time(tmp_path / "model")
    message = str(raised.value)
    assert message.startswith("ensemble member ")
    assert "process failed (exit status 1); the same command resumes the run" in message
    assert message.endswith("Its last lines:\nthe last words\na traceback, say")
    assert not (tmp_path / "model" / layout.MODEL_FILE).exists()


@pytest.mark.slow
def test_a_run_whose_members_failed_resumes_with_the_same_command(tmp_path, monkeypatch):
    # The failed run leaves its backup (the vocabularies the members share).
    _fail_members(monkeypatch)
    with pytest.raises(RuntimeError):
        _train_two_at_a_time(tmp_path / "model")
    assert (tmp_path / "model" / layout.BACKUP_FOLDER / "vocabularies").is_dir()
    monkeypatch.undo()
    lines = []
    _train_two_at_a_time(tmp_path / "model", report=lines.append)
    assert (tmp_path / "model" / layout.MODEL_FILE).is_file()
    assert any(line.startswith("the ensemble of 2") for line in lines) or any(
        line.startswith("model and vocabularies written to") for line in lines
    )
    assert not (tmp_path / "model" / layout.BACKUP_FOLDER).exists()


@pytest.mark.slow
def test_models_trained_apart_assemble_into_the_ensemble_train_trains(tmp_path):
    import keras

    train, dev = date_pairs(200, seed=1), date_pairs(20, seed=2)
    options = dict(
        dev=dev, epochs=1, units=8, embedding_dim=4, batch_size=64, export=False,
    )  # fmt: skip
    quiet = dict(report=lambda line: None)
    Runner(tmp_path / "ensemble", **quiet).train(train, ensemble=2, seed=5, **options)
    for seed in (5, 6):
        Runner(tmp_path / f"seed_{seed}", **quiet).train(train, seed=seed, **options)
    lines = []
    assembled = Runner(tmp_path / "assembled", report=lines.append)
    assembled.assemble([tmp_path / "seed_5", tmp_path / "seed_6"], export=False)
    assert lines == [f"an ensemble of 2 models from 2 folders written to {tmp_path / 'assembled'}"]
    # Trained apart with seeds 5 and 6, they are the members `--ensemble 2 --seed 5` trains.
    got, want = (
        keras.saving.load_model(tmp_path / name / layout.MODEL_FILE)
        for name in ("assembled", "ensemble")
    )
    for got_weight, want_weight in zip(got.get_weights(), want.get_weights(), strict=True):
        np.testing.assert_array_equal(got_weight, want_weight)
    again = Runner(tmp_path / "assembled").translate(["1/2/03", "march 4, 1999"], beam_width=3)
    trained = Runner(tmp_path / "ensemble").translate(["1/2/03", "march 4, 1999"], beam_width=3)
    assert again["translation"] == trained["translation"]
    # An ensemble's members are taken one by one: three models.
    Runner(tmp_path / "three", **quiet).assemble(
        [tmp_path / "ensemble", tmp_path / "seed_5"], export=False
    )
    assert len(Runner(tmp_path / "three").translator.model.members) == 3

    Runner(tmp_path / "other", **quiet).train(date_pairs(200, seed=9), seed=5, **options)
    with pytest.raises(ValueError) as raised:
        Runner(tmp_path / "bad", **quiet).assemble([tmp_path / "seed_5", tmp_path / "other"])
    assert str(raised.value).startswith(
        f"{tmp_path / 'other'}'s source vocabulary is not {tmp_path / 'seed_5'}'s: an ensemble's "
        "members decode together"
    ) or str(raised.value).startswith(f"{tmp_path / 'other'}'s target vocabulary")
    with pytest.raises(ValueError, match="an ensemble needs two models or more; .* hold 1"):
        Runner(tmp_path / "bad", **quiet).assemble([tmp_path / "seed_5"])
    assert not (tmp_path / "bad").exists()


class Interrupted(Exception):
    pass


def _interrupted_at_epoch_start(count, train, monkeypatch):
    """Calls `train`, interrupting it as its `count`-th epoch (counted
    over the members) begins, then lets epochs run again."""
    from keras_attention import training

    began = training.DecodedEvaluation.on_epoch_begin
    calls = []

    def interrupting(self, epoch, logs=None):
        calls.append(epoch)
        if len(calls) == count:
            raise Interrupted
        began(self, epoch, logs)

    monkeypatch.setattr(training.DecodedEvaluation, "on_epoch_begin", interrupting)
    with pytest.raises(Interrupted):
        train()
    monkeypatch.setattr(training.DecodedEvaluation, "on_epoch_begin", began)


def test_an_interrupted_ensemble_resumes_at_the_member_it_was_training(tmp_path, monkeypatch):
    import csv

    from tests.layer_checks import assert_same_weights

    train, dev = date_pairs(300, seed=1), date_pairs(30, seed=2)
    options = dict(dev=dev, epochs=3, ensemble=2, seed=5, units=8, embedding_dim=4, export=False)
    options.update(batch_size=64)
    Runner(tmp_path / "reference", report=lambda line: None).train(train, **options)

    out = tmp_path / "model"
    # In member 2's second epoch: after member 1's three epochs and member 2's first.
    _interrupted_at_epoch_start(
        5, lambda: Runner(out, report=lambda line: None).train(train, **options), monkeypatch
    )
    assert (out / layout.BACKUP_FOLDER / "member_1_finished" / layout.MANIFEST_FILE).is_file()
    assert not (out / layout.MODEL_FILE).exists()

    lines = []
    Runner(out, report=lines.append).train(train, **options)
    assert any("ensemble member 1 of 2 (seed 5): trained already, loaded" in line for line in lines)
    assert any(line.startswith("resuming interrupted training from the backup") for line in lines)
    assert [line.split(":")[0] for line in lines if line.startswith("epoch ")] == [
        "epoch 2",
        "epoch 3",
    ]
    with open(out / layout.TRAINING_LOG_FILE, encoding="utf-8") as log:
        rows = [(row["member"], row["epoch"]) for row in csv.DictReader(log)]
    assert rows == [("1", "0"), ("1", "1"), ("1", "2"), ("2", "0"), ("2", "1"), ("2", "2")]
    assert not (out / layout.BACKUP_FOLDER).exists()
    import keras

    assert_same_weights(
        keras.saving.load_model(out / layout.MODEL_FILE),
        keras.saving.load_model(tmp_path / "reference" / layout.MODEL_FILE),
        atol=1e-5,
    )


@pytest.mark.slow
def test_an_interrupted_ensemble_resumes_with_other_jobs_and_keeps_every_log_row(
    tmp_path, monkeypatch
):
    import sys

    import keras

    from keras_attention import member_jobs

    train, options = _small_ensemble(members=2)
    Runner(tmp_path / "reference", report=lambda line: None).train(train, **options)
    reference = keras.saving.load_model(tmp_path / "reference" / layout.MODEL_FILE)

    def resumed(out, lines):
        assert any(
            "ensemble member 1 of 2 (seed 5): trained already, loaded" in line for line in lines
        )
        assert not any("from a run with other options" in line for line in lines)
        assert _log_rows(out) == _log_rows(tmp_path / "reference")
        assert not (out / layout.BACKUP_FOLDER).exists()
        model = keras.saving.load_model(out / layout.MODEL_FILE)
        for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
            np.testing.assert_allclose(got, want, atol=1e-5)

    # Two at a time, member 2's process failing once member 1 is finished;
    # then one after the other.
    out = tmp_path / "jobs_2_then_1"
    finished = out / layout.BACKUP_FOLDER / "member_1_finished" / layout.MANIFEST_FILE
    wait_and_fail = (
        f"import pathlib, sys, time\nwhile not pathlib.Path({str(finished)!r}).is_file(): "
        "time.sleep(0.2)\nsys.exit('member 2 fails')"
    )
    real_command = member_jobs.child_command
    monkeypatch.setattr(
        member_jobs,
        "child_command",
        lambda spec: (
            [sys.executable, "-c", wait_and_fail]
            if spec.name.startswith("member_2")
            else real_command(spec)
        ),
    )
    with pytest.raises(RuntimeError, match="ensemble member 2's process failed"):
        Runner(out, report=lambda line: None).train(train, jobs=2, **options)
    monkeypatch.setattr(member_jobs, "child_command", real_command)
    lines = []
    Runner(out, report=lines.append).train(train, **options)
    resumed(out, lines)

    # One after the other, interrupted in member 2's second epoch; then two at a time.
    out = tmp_path / "jobs_1_then_2"
    _interrupted_at_epoch_start(
        4, lambda: Runner(out, report=lambda line: None).train(train, **options), monkeypatch
    )
    lines = []
    Runner(out, report=lines.append).train(train, jobs=2, **options)
    assert any(
        line.startswith("member 2 | resuming interrupted training from the backup")
        for line in lines
    )
    resumed(out, lines)


def test_a_backup_left_by_a_run_with_other_options_is_not_resumed(tmp_path):
    backup = tmp_path / "model" / layout.BACKUP_FOLDER
    backup.mkdir(parents=True)
    (backup / "run.json").write_text('{"model": {"units": 64}}', encoding="utf-8")
    (backup / "training_metadata.json").write_text(
        '{"epoch": 1, "weights": "epoch-1.weights.h5"}', encoding="utf-8"
    )
    lines = []
    Runner(tmp_path / "model", report=lines.append).train(
        date_pairs(100, seed=1), epochs=1, units=8, embedding_dim=4, export=False
    )
    assert (
        f"the backup in {backup} is from a run with other options: removed, training "
        "starts over" in lines
    )
    assert not any(line.startswith("resuming") for line in lines)
    assert not backup.exists()


def test_subword_sentences_train_watch_bleu_and_leave_out_overlong_pairs(tmp_path):
    lines = []
    runner = Runner(tmp_path / "model", report=lines.append)
    overlong = [("muy " * 80, "very " * 80), ("corto.", "short " * 90)]
    train = toy_sentences(300, seed=1) + overlong
    dev = toy_sentences(20, seed=2)
    runner.train(
        train, dev=dev, split="subwords", vocabulary_size=300, units=16, embedding_dim=8,
        epochs=2, patience=1, monitor="bleu", max_source_length=40, max_target_length=40,
    )  # fmt: skip
    assert (
        "left out 2 of 302 training pairs longer than 40 source or 40 target tokens "
        "(--max-source-length, --max-target-length)" in lines
    )
    assert any("on 300 pairs, 20 in the dev set" in line for line in lines)
    assert any(
        ", BLEU " in line and ", chrF " in line for line in lines if line.startswith("epoch")
    )
    assert any(line.startswith("keeping the weights of epoch") and "dev BLEU" for line in lines)
    log = (tmp_path / "model" / layout.TRAINING_LOG_FILE).read_text(encoding="utf-8")
    assert "dev_bleu" in log.splitlines()[0] and "dev_chrf" in log.splitlines()[0]
    translator = runner.translator
    assert translator.source_vectorizer.split == translator.target_vectorizer.split == "subwords"
    assert translator.target_vectorizer.max_length == 40
    evaluated = Runner(tmp_path / "model").evaluate(dev, beam_width=2)
    assert 0 <= evaluated["bleu"] <= 100 and 0 <= evaluated["chrf"] <= 100


def test_bleu_cannot_be_watched_on_character_targets(tmp_path):
    with pytest.raises(ValueError, match="`monitor` must be 'wer' with character targets"):
        Runner(tmp_path / "model").train(date_pairs(10), dev=date_pairs(5), monitor="bleu")


def test_out_of_memory_in_a_step_is_one_error_naming_the_shape(tmp_path, monkeypatch):
    import keras

    def exhausted(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[498560,13376] and type float"
        )

    monkeypatch.setattr(keras.Model, "fit", exhausted)
    with pytest.raises(RuntimeError) as info:
        Runner(tmp_path / "model").train(date_pairs(20), units=8, embedding_dim=4)
    assert str(info.value) == (
        "out of memory in a training step allocating a tensor of shape [498560, 13376]: lower "
        "`batch_size`, or `max_source_length` and `max_target_length` (longer pairs are left "
        "out)"
    )
