"""The runner: training to a model folder, and what a trained folder does.

What `keras-attention` runs, as a library (in the spirit of OpenNMT-tf's
`Runner`): the command line only parses arguments, calls a `Runner`, and
prints. The runner owns the folder (`keras_attention_cli.layout` names its
files): the held-out split, the seed, the precision, the `tf.distribute`
strategy, resuming, the per-epoch backup, the training log, saving and the
SavedModel export. TensorFlow-only, like `training`.
"""

import csv
import dataclasses
import functools
import json
import random
import shutil
import time
from pathlib import Path

import keras

from keras_attention import distribute
from keras_attention import training
from keras_attention.backup import read_backup_metadata
from keras_attention.data.pipeline import shard
from keras_attention.models import Ensemble
from keras_attention.models import Seq2Seq
from keras_attention.plotting import plot_translation
from keras_attention.process_state import check_threads
from keras_attention.process_state import intra_op_threads
from keras_attention.process_state import seeded
from keras_attention.translator import Translator
from keras_attention_cli import layout
from keras_attention_cli.files import atomic_folder
from keras_attention_cli.files import atomic_write
from keras_attention_cli.options import check_training_run
from keras_attention_cli.options import config_dict
from keras_attention_cli.options import with_options
from keras_attention_cli.tsv import Corpus
from keras_attention_cli.tsv import read_pairs

# The options of the run a backup folder belongs to.
RUN_FILE = "run.json"


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """What every model of one `Runner.train` call trains with: the
    training pairs (a list or a `Corpus`), the pairs scored after each
    epoch and their label (`"dev"` or `"validation"`), the
    `TrainingConfig`, the backup folder, whether this process is the chief
    (writes the folder), the Keras verbosity and the replica count."""

    train: object
    validation: list
    label: str
    options: object
    backup: Path
    chief: bool
    verbose: int
    replicas: int


def finished_member_folder(backup, member):
    """Where ensemble member `member` (from 0) is saved once trained, until
    the ensemble is written."""
    return Path(backup) / f"member_{member + 1}_finished"


def member_log(backup, member):
    """Where ensemble member `member` (from 0) writes its training-log rows,
    in its own process or in the runner's, until the ensemble is written."""
    return Path(backup) / f"member_{member + 1}_log.csv"


def write_ensemble_log(out, backup, members):
    """Writes the training log of an ensemble into the folder `out`: the
    rows of members `members` (numbers from 0, in order), each from its
    `member_log` in `backup`."""
    rows, fields = [], None
    for member in members:
        with open(member_log(backup, member), encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            fields = fields or reader.fieldnames
            rows.extend(reader)

    def write(path):
        with open(path, "w", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(Path(out) / layout.TRAINING_LOG_FILE, write)


class Runner:
    """Trains a model into a folder, and evaluates, translates, exports and
    plots with the model in it.

    Args:
        out: str or `Path`, the model folder.
        report: function of one str, called with each progress line.
            Defaults to `print`.

    Example:

    ```python
    runner = Runner("my_model")
    runner.train(pairs, epochs=2)              # writes my_model/
    runner.evaluate(test_pairs, beam_width=5)  # {"exact_match": ..., "wer": ..., ...}
    runner.translate(["9/27/94"], beam_width=5, n_best=3)
    ```
    """

    def __init__(self, out, report=print):
        self.out = Path(out)
        self.report = report
        self._translator = None

    @property
    def translator(self):
        """The folder's `Translator`, loaded on first use."""
        if self._translator is None:
            self._translator = Translator.load(self.out)
        return self._translator

    def train(
        self, pairs, dev=None, model=None, training=None, resume=False, export=True, verbose=2,
        **options,
    ):  # fmt: skip
        """Trains on `pairs` and writes the model into the folder.

        Args:
            pairs: list of `(source, target)` str pairs, or the TSV files
                that hold them, read as a stream every epoch (memory does not
                grow with them): a path or glob pattern, a list of them
                (plain or gzip), or a `keras_attention_cli.tsv.Corpus`.
            dev: pairs (or files, as `pairs`) to score (greedy, WER) after
                every epoch; without them, `training.validation_split` of
                `pairs` is held out.
            model: `options.ModelConfig`, the network and its tokens
                (ignored with `resume`). Defaults to `ModelConfig()`.
            training: `options.TrainingConfig`: epochs, batch, schedule,
                patience, ensemble, precision, distribution, seed. Defaults
                to `TrainingConfig()`. With `ensemble` > 1, the models are
                trained one after the other, or `jobs` at a time in
                processes of their own (seeds `seed`, `seed + 1`, ...; each
                with `epochs`, `patience` and an equal share of
                `time_budget` per round of `jobs`, and its own backup
                folder), then saved as one `models.Ensemble` that decodes
                with all of them. Each
                finished member is kept in the backup folder until then, so
                that a run interrupted and started again with the same
                options loads the finished members and resumes the one it
                was training, whatever its `jobs` (without `time_budget`,
                `jobs` changes when the members train, not what they
                learn). A backup left by a run with other options is
                removed (and reported), not resumed.
            resume: bool, continue training the model already in the folder.
            export: bool, also write the SavedModel (TensorFlow backend).
            verbose: 1 (a progress bar) or 2 (one line per epoch).
            **options: options of `ModelConfig` or `TrainingConfig` that
                replace `model`'s or `training`'s (`units=64, epochs=5`).

        Both configs are written into the folder's `config.json`. The seeds
        and the dtype policy it sets are put back when it returns.

        Returns:
            The trained `Translator`.

        Raises:
            options.OptionError: an option, or options that cannot work
                together (`patience` without `dev`, ...).
        """
        model, training_options = with_options(model, training, **options)
        pairs = pairs if isinstance(pairs, Corpus) else _pairs_of(pairs, stream=True)
        dev = None if dev is None else _pairs_of(dev)
        check_training_run(
            training_options, len(pairs), bool(dev), resume,
            target_split=None if resume else model.target_split or model.split,
        )  # fmt: skip
        if training_options.jobs == 1:  # with more, the members' processes set it
            check_threads(training_options.threads)
        with seeded(training_options.seed, dtype_policy=training_options.precision):
            wrote = self._train(pairs, dev, model, training_options, resume, verbose)
            if wrote and export:
                self.export_if_tensorflow()
        return self._translator

    def _train(self, pairs, dev, model, options, resume, verbose):
        """`train`'s work, the trained translator kept as `self._translator`;
        returns whether this process wrote the folder (the chief does)."""
        strategy = distribute.make_strategy(options.distribution)
        if dev:
            validation, train, label = dev, pairs, "dev"
        elif isinstance(pairs, Corpus):
            train = pairs.with_held_out(options.validation_split, options.seed)
            validation, label = list(train.held_out_pairs()), "validation"
        else:
            held_out = int(round(len(pairs) * options.validation_split))
            shuffled = list(pairs)
            random.Random(options.seed).shuffle(shuffled)
            validation, train, label = shuffled[:held_out], shuffled[held_out:], "validation"
        chief = distribute.is_chief(strategy)
        backup = distribute.backup_folder(self.out, strategy)
        self._check_backup_is_this_run(backup, model, options)
        own, gather = self._own_share(strategy, train)
        run = TrainingRun(
            train, validation, label, options, backup, chief, verbose,
            strategy.num_replicas_in_sync,
        )  # fmt: skip
        with strategy.scope():
            if options.ensemble > 1:
                translator = self._train_ensemble(strategy, own, gather, model, run)
            else:
                translator = self._train_one(strategy, own, gather, model, resume, run)
        self._translator = translator
        if not chief:
            shutil.rmtree(backup, ignore_errors=True)  # this worker's finished members
            self.report("training done; the chief writes the model")
            return False
        translator.save(self.out)
        self._write_config(model, options, resume)
        if options.ensemble > 1:
            shutil.rmtree(backup, ignore_errors=True)  # the finished members
        self.report(f"model and vocabularies written to {self.out}")
        return True

    def _train_one(self, strategy, own, gather, model, resume, run):
        """Trains the one model of a run without an ensemble: a fresh one,
        or with `resume` the folder's own."""
        if resume:
            translator = Translator.load(self.out)
            if isinstance(translator.model, Ensemble):
                raise ValueError(
                    f"{self.out} holds an ensemble, which cannot be resumed: "
                    f"its members were trained one after the other"
                )
            self.report(f"resuming the model in {self.out}")
        else:
            translator = self._build_translator(own, model, gather, run.train)
        kept = self._within_max_lengths(translator, run.train, own, gather)
        self._report_share(strategy, run.train, own)
        self._report_training(translator, kept, run)
        interrupted = self._say_if_interrupted(run.backup)
        self._fit(
            translator, kept, run, member=0, backup=run.backup,
            log=self.out / layout.TRAINING_LOG_FILE, append_log=resume or interrupted,
        )  # fmt: skip
        return translator

    def _train_ensemble(self, strategy, own, gather, model, run):
        """Trains the `ensemble` members of a run (seeds `seed`, `seed + 1`,
        ...), fresh models of `model` on the same vocabularies: one after
        the other here, or `jobs` at a time in child processes
        (`member_jobs`), the same members either way. Members a run
        interrupted finished are loaded from the backup. Returns the
        `Translator` of their `Ensemble`."""
        options, backup = run.options, run.backup
        vocabularies = self._build_translator(own, model, gather, run.train)
        kept = self._within_max_lengths(vocabularies, run.train, own, gather)
        self._report_share(strategy, run.train, own)
        pending = []
        for member in range(options.ensemble):
            finished = finished_member_folder(backup, member)
            if (finished / layout.MANIFEST_FILE).is_file():
                self.report(
                    f"ensemble member {member + 1} of {options.ensemble} "
                    f"(seed {options.seed + member}): trained already, loaded from {finished}"
                )
            else:
                pending.append(member)

        def write_log(members):
            if run.chief:  # the process that writes the folder, and the members' logs
                write_ensemble_log(self.out, backup, members)

        if options.jobs > 1 and pending:
            from keras_attention import member_jobs

            member_jobs.train_members(self, vocabularies, pending, kept, run)
        else:
            for member in pending:
                self._train_member(vocabularies, member, kept, run)
                write_log(range(member + 1))  # the finished members' rows, as they finish
        write_log(range(options.ensemble))
        translator = _ensemble_of(
            [
                Translator.load(finished_member_folder(backup, member))
                for member in range(options.ensemble)
            ]
        )
        if run.validation:
            self.report(
                f"the ensemble of {options.ensemble} (greedy decoding): "
                + _greedy_scores(translator, run.validation, run.label)
            )
        return translator

    def _train_member(self, vocabularies, member, kept, run):
        """Trains ensemble member `member` (from 0): a fresh model of
        `vocabularies`' config from seed `seed + member`, on its
        vocabularies, saved whole into its finished folder in the backup;
        its log rows go to its `member_log` there. What a `member_jobs`
        child runs too, so that a run resumes whatever its `jobs`."""
        options = run.options
        keras.utils.set_random_seed(options.seed + member)
        translator = Translator(
            Seq2Seq.from_config(vocabularies.model.get_config()),
            vocabularies.source_vectorizer,
            vocabularies.target_vectorizer,
        )
        self._report_training(translator, kept, run, member=member)
        backup = run.backup / f"member_{member + 1}"
        interrupted = self._say_if_interrupted(backup)
        self._fit(
            translator, kept, run, member=member, backup=backup,
            log=member_log(run.backup, member), append_log=interrupted,
        )  # fmt: skip
        atomic_folder(finished_member_folder(run.backup, member), translator.save)

    def _build_translator(self, own, model, gather, train):
        """`training.build_translator` of this worker's pairs `own`, its
        vocabularies reported."""
        started = time.perf_counter()
        translator = training.build_translator(own, model, gather=gather)
        read = f" ({len(own):,} of them read by this worker)" if gather else ""
        self.report(
            f"vocabularies of {translator.source_vectorizer.size:,} source and "
            f"{translator.target_vectorizer.size:,} target tokens built from "
            f"{len(train):,} pairs{read} in {time.perf_counter() - started:.1f} s"
        )
        return translator

    def _report_training(self, translator, kept, run, member=None):
        """The line that says what is trained, how, and on what."""
        options = run.options
        self.report(
            (
                f"ensemble member {member + 1} of {options.ensemble} "
                f"(seed {options.seed + member}): "
                if member is not None
                else ""
            )
            + f"training the {translator.model.kind} seq2seq model "
            f"({translator.model.cell}, "
            f"{translator.model.count_params():,} parameters, {options.precision}"
            f"{_threads_said()}) on "
            f"{kept:,} pairs, "
            f"{len(run.validation)} {'in the dev set' if run.label == 'dev' else 'held out'}, "
            f"{run.replicas} replica(s)"
        )

    def _say_if_interrupted(self, backup):
        """Whether `backup` holds an interrupted training's state, saying so."""
        interrupted = read_backup_metadata(backup) is not None
        if interrupted:
            self.report(f"resuming interrupted training from the backup in {backup}")
        return interrupted

    @staticmethod
    def _own_share(strategy, train):
        """`(pairs, gather)`: under a multi-worker strategy, this worker's
        share of `train` (the one `training.fit` batches) and how the
        workers pool what each built from its own share
        (`distribute.gather_across_workers`); `(train, None)` otherwise."""
        index, count = distribute.input_pipeline(strategy)
        if count == 1:
            return train, None
        return shard(train, index, count), functools.partial(
            distribute.gather_across_workers, strategy
        )

    def _within_max_lengths(self, translator, pairs, own, gather):
        """How many training pairs fit the vectorizers' maximum lengths
        (training leaves the others out), saying how many do not; no pass
        over the pairs when the vocabularies were just built from them and
        saw no text longer than that. Under a multi-worker strategy each
        worker counts its own share `own` and they add up their counts
        (`gather`; `_own_share`)."""
        sides = (translator.source_vectorizer, translator.target_vectorizer)
        if all(
            side.longest_seen is not None and side.longest_seen <= side.max_length for side in sides
        ):
            return len(pairs)
        kept, total = training.within_max_lengths(translator, own)
        if gather is not None:
            kept, total = (sum(counts) for counts in zip(*gather([kept, total])))
        if kept < total:
            self.report(
                f"left out {total - kept:,} of {total:,} training pairs longer than "
                f"{translator.source_vectorizer.max_length} source or "
                f"{translator.target_vectorizer.max_length} target tokens "
                "(--max-source-length, --max-target-length)"
            )
        if not kept:
            raise ValueError(
                "no training pair is within the maximum lengths: raise `max_source_length` or "
                "`max_target_length`"
            )
        return kept

    def _report_share(self, strategy, train, share):
        """Under a multi-worker strategy, says which share of the training
        pairs this worker reads (`share`, `_own_share`'s: the one
        `training.fit` batches)."""
        index, count = distribute.input_pipeline(strategy)
        if count == 1:
            return
        by = (
            f"{len(share.paths)} of the {len(train.paths)} files"
            if isinstance(share, Corpus) and share.share is None  # whole files
            else f"one pair in {count}"
        )
        self.report(
            f"worker {index + 1} of {count} reads its own share of the training pairs: "
            f"{len(share):,} of {len(train):,} ({by})"
        )

    def _check_backup_is_this_run(self, backup, model, options):
        """Removes a backup (epoch backups, finished ensemble members) that
        an interrupted run with other options left, saying so; records this
        run's options in it otherwise."""
        recorded = config_dict(options)
        if options.time_budget is None:
            # How many members train at once changes when they train, not
            # what they learn (`member_jobs`); a budget is shared per round.
            del recorded["jobs"]
        run = json.dumps({"model": config_dict(model), "training": recorded}, indent=1)
        path = backup / RUN_FILE
        if backup.is_dir() and (not path.is_file() or path.read_text(encoding="utf-8") != run):
            self.report(
                f"the backup in {backup} is from a run with other options: removed, training "
                "starts over"
            )
            shutil.rmtree(backup)
        backup.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda temporary: Path(temporary).write_text(run, encoding="utf-8"))

    def _write_config(self, model, options, resume):
        """Writes the run's configs into `config.json`; a resumed run keeps
        the model config already there."""
        path = self.out / layout.CONFIG_FILE
        written = {"model": config_dict(model)}
        if resume:
            written = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        written["training"] = config_dict(options)
        # What `threads` None ran with; the members' processes' count with `jobs`.
        written["intra_op_threads"] = options.threads if options.jobs > 1 else intra_op_threads()
        text = json.dumps(written, indent=1)
        atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))

    def _fit(self, translator, kept, run, member, backup, log, append_log):
        """Trains one model (member `member` of an ensemble, from 0) on
        `run`'s pairs, reporting its epochs, early stopping and time budget;
        its rows go to the training log `log` (an ensemble's members get a
        `member` column)."""
        options, validation, label = run.options, run.validation, run.label
        patience, epochs = options.patience, options.epochs
        evaluation = training.DecodedEvaluation(
            translator, validation, label=label, print_fn=self.report, monitor=options.monitor
        )
        callbacks = [evaluation] if validation else []
        stopping = training.early_stopping(label, patience, options.monitor) if patience else None
        if stopping is not None:
            callbacks.append(stopping)
        if run.chief:
            Path(log).parent.mkdir(parents=True, exist_ok=True)
            if options.ensemble > 1:
                callbacks.append(
                    keras.callbacks.LambdaCallback(
                        on_epoch_end=lambda epoch, logs: logs.update(member=member + 1)
                    )
                )
            callbacks.append(training.TrainingLog(str(log), append=append_log))
        # The members train in rounds of `jobs`; each round has an equal share.
        rounds = -(-options.ensemble // options.jobs)
        time_budget = options.time_budget / rounds if options.time_budget else None
        history = training.fit(
            translator,
            run.train,
            epochs=epochs,
            batch_size=options.batch_size,
            batch_by=options.batch_by,
            seed=options.seed + member,
            callbacks=callbacks,
            learning_rate=options.learning_rate,
            warmup=options.warmup,
            clip_norm=options.clip_norm,
            label_smoothing=options.label_smoothing,
            backup_dir=backup,
            verbose=run.verbose,
            time_budget=time_budget,
            average_epochs=options.average_epochs,
            kept=kept,
        )
        if history.time_budget is not None and history.time_budget.stopped_epoch is not None:
            self.report(
                f"the time budget of {time_budget:g} min ran out in epoch "
                f"{history.time_budget.stopped_epoch}, after its step "
                f"{history.time_budget.stopped_step:,}: training stopped there"
            )
        monitored = {"wer": "WER", "bleu": "BLEU", "chrf": "chrF"}[options.monitor]
        if stopping is not None and stopping.stopped_epoch and stopping.stopped_epoch + 1 < epochs:
            self.report(
                f"the {label} {monitored} has not improved for {patience} epochs: training "
                f"stopped after epoch {stopping.stopped_epoch + 1} of {epochs}"
            )
        averaged = history.average.averaged if history.average is not None else []
        if len(averaged) > 1:
            scored = (
                " (greedy decoding): " + _greedy_scores(translator, validation, label)
                if validation
                else ""
            )
            self.report(
                f"the weights are the mean of epochs {averaged[0]}-{averaged[-1]}'s{scored}"
            )
        if patience and evaluation.best_epoch is not None:  # None: no epoch ran
            best = evaluation.best_score
            self.report(
                f"keeping the weights of epoch {evaluation.best_epoch}, the "
                f"{'lowest' if options.monitor == 'wer' else 'highest'} {label} {monitored} ("
                + (f"{100 * best:.2f}%" if options.monitor == "wer" else f"{best:.2f}")
                + ")"
            )

    def assemble(self, folders, export=True):
        """Writes into the folder one ensemble of the models in `folders`
        (folders `train` wrote: the members of an ensemble among them are
        taken one by one), as `train --ensemble` writes it: a
        `models.Ensemble` that decodes with all of them. Returns its
        `Translator`.

        Members can so be trained apart (on other machines, or added to an
        ensemble later). With dev pairs given, the model `train` trains
        with seed `s + k` is member `k` of the ensemble it trains with seed
        `s`, on the same kind of CPU with the same `threads`.

        Args:
            folders: list of model folders (str or `Path`), two or more
                models in all, on the same vocabularies (trained on the
                same pairs with the same token options).
            export: bool, also write the SavedModel (TensorFlow backend).

        Raises:
            ValueError: fewer than two models, or a folder whose
                vocabularies are not the first folder's.
        """
        folders = [Path(folder) for folder in folders]
        translators = [Translator.load(folder) for folder in folders]
        first = translators[0] if translators else None
        for folder, translator in zip(folders[1:], translators[1:]):
            for side in ("source", "target"):
                mine, theirs = (
                    getattr(one, f"{side}_vectorizer").get_config() for one in (translator, first)
                )
                if mine != theirs:
                    raise ValueError(
                        f"{folder}'s {side} vocabulary is not {folders[0]}'s: an ensemble's "
                        "members decode together, so they must be trained on the same "
                        "vocabularies (the same training pairs and token options)"
                    )
        count = len(_member_models(translators))
        if count < 2:
            raise ValueError(
                f"an ensemble needs two models or more; the folders {[str(f) for f in folders]} "
                f"hold {count}"
            )
        translator = _ensemble_of(translators)
        translator.save(self.out)
        written = {"assembled_from": [str(folder) for folder in folders]}
        text = json.dumps(written, indent=1)
        path = self.out / layout.CONFIG_FILE
        atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))
        self._translator = translator
        self.report(
            f"an ensemble of {count} models from {len(folders)} folders written to {self.out}"
        )
        if export:
            self.export_if_tensorflow()
        return translator

    def evaluate(self, pairs, beam_width=1, n_best=None):
        """`training.evaluate` with the folder's model."""
        return training.evaluate(self.translator, pairs, beam_width=beam_width, n_best=n_best)

    def translate(self, texts, beam_width=1, n_best=None):
        """`Translator.translate` with the folder's model."""
        return self.translator.translate(texts, beam_width=beam_width, n_best=n_best)

    def plot(self, text, png):
        """Writes the attention heatmap of `text` to `png`; returns the translation."""
        return plot_translation(self.translator, text, png)

    def export(self, path=None, beam_width=5, n_best=None):
        """Writes the SavedModel (default: the folder's `saved_model`); returns its path."""
        from keras_attention.export import export_saved_model

        return export_saved_model(
            self.translator,
            path or self.out / layout.SAVED_MODEL_FOLDER,
            beam_width=beam_width,
            n_best=n_best,
        )

    def export_litert(self, path, beam_width=1, n_best=None, quantize="dynamic-int8", batch_size=1):
        """Writes the LiteRT file of the folder's model, decoding loop
        included, and its JSON beside it (`litert.export_litert`, TensorFlow
        backend only); returns both paths."""
        from keras_attention.litert import export_litert

        return export_litert(
            self.translator,
            path,
            beam_width=beam_width,
            n_best=n_best,
            quantize=quantize,
            batch_size=batch_size,
        )

    def export_if_tensorflow(self):
        """`export()` on the TensorFlow backend; on the others, says how to export later."""
        path = self.out / layout.SAVED_MODEL_FOLDER
        if keras.backend.backend() != "tensorflow":
            self.report(
                f"no SavedModel: it is exported on the TensorFlow backend "
                f"(keras-attention export --model {self.out} --out {path})"
            )
            return None
        self.export()
        self.report(f"SavedModel (strings in, strings out) written to {path}")
        return path


def run_demo(
    out="demo_output", epochs=2, train_size=45000, test_size=5000, seed=0, report=print, verbose=2
):
    """The book's date task end to end: data, training (exact match on the
    test pairs after every epoch), saving, export, a few translations and
    the attention heatmap, all under `out`. Returns the `Runner` of
    `out/model`."""
    from keras_attention.data.generators import date_splits
    from keras_attention_cli.tsv import write_pairs

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train, test = date_splits(train_size, test_size, seed=seed)
    write_pairs(out / "dates_train.tsv", train)
    write_pairs(out / "dates_test.tsv", test)
    report(f"date task: {len(train)} train / {len(test)} test pairs written to {out}/dates_*.tsv")
    with seeded(seed):
        translator = training.build_translator(train)
        report(
            f"training an attention seq2seq ({translator.model.cell}, "
            f"{translator.model.count_params():,} parameters{_threads_said()}) for {epochs} "
            "epochs"
        )
        callbacks = [training.DecodedEvaluation(translator, test, label="test", print_fn=report)]
        training.fit(
            translator, train, epochs=epochs, seed=seed, callbacks=callbacks, verbose=verbose
        )
    runner = Runner(out / "model", report=report)
    runner._translator = translator
    translator.save(runner.out)
    report(f"model written to {runner.out}")
    runner.export_if_tensorflow()
    examples = [source for source, _ in test[:6]] + ["tuesday, september 27, 1994"]
    for source, translation in zip(examples, translator.translate(examples)["translation"]):
        report(f"  {source:<30} -> {translation}")
    png = out / "attention.png"
    runner.plot("tuesday, september 27, 1994", png)
    report(f"attention heatmap written to {png}")
    report(f"demo finished in {time.perf_counter() - started:.0f} s")
    return runner


def _member_models(translators):
    """`translators`' models, an ensemble's members taken one by one."""
    return [member for one in translators for member in getattr(one.model, "members", [one.model])]


def _ensemble_of(translators):
    """The `Translator` of one `Ensemble` of `translators`' models
    (`_member_models`), on the first one's vocabularies and output length;
    they must all share its vocabularies."""
    first = translators[0]
    return Translator(
        Ensemble(_member_models(translators)),
        first.source_vectorizer,
        first.target_vectorizer,
        max_output_length=first.max_output_length,
    )


def _greedy_scores(translator, pairs, label):
    """`pairs` decoded greedily and scored, as the runner reports it."""
    return f"{label} {training.describe_scores(training.evaluate(translator, pairs))}"


def _threads_said():
    """`", 2 threads"`: the intra-op thread count training runs with, for
    its report line (nothing where the backend does not say)."""
    threads = intra_op_threads()
    return "" if threads is None else f", {threads} thread{'s' if threads > 1 else ''}"


def _pairs_of(pairs_or_files, stream=False):
    """`pairs_or_files` as pairs: a list as it is; files (a path or
    pattern, or a list of them) as a `Corpus` read as a stream when
    `stream`, read into a list otherwise."""
    named = isinstance(pairs_or_files, (str, Path))
    items = [pairs_or_files] if named else list(pairs_or_files)
    if items and all(isinstance(item, (str, Path)) for item in items):
        if stream:
            return Corpus(items)
        return read_pairs(items)[0]
    return items
