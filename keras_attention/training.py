"""Training and evaluating a Translator from (source, target) pairs.

TensorFlow-only (tf.data, tensorflow-text): what `keras-attention train`,
`evaluate` and `demo` run, and the API behind them.
"""

import dataclasses
import functools
import math
import re
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_attention import scoring
from keras_attention.backup import EpochBackup
from keras_attention.backup import read_backup_metadata
from keras_attention.data.pipeline import batches_per_epoch
from keras_attention.data.pipeline import count_within_max_lengths
from keras_attention.data.pipeline import make_dataset
from keras_attention.data.pipeline import shard
from keras_attention.distribute import fit_under_multi_worker
from keras_attention.distribute import under_multi_worker
from keras_attention.keras_internals import set_logged_keys
from keras_attention.models import Seq2Seq
from keras_attention.models.losses import SmoothedCrossEntropy
from keras_attention.models.metrics import MaskedTokenAccuracy
from keras_attention.models.metrics import SequenceExactMatch
from keras_attention.text import TextVectorizer
from keras_attention.translator import Translator
from keras_attention_cli.files import atomic_write
from keras_attention_cli.options import ModelConfig
from keras_attention_cli.options import OptionError
from keras_attention_cli.options import TrainingConfig
from keras_attention_cli.options import check_number
from keras_attention_cli.options import check_positive_int


def build_translator(train_pairs, config=None, gather=None, **options):
    """A fresh Translator with vocabularies built from `train_pairs`.

    Args:
        train_pairs: `(source, target)` str pairs: a list, or any iterable
            that can be read again.
        config: `options.ModelConfig`: the network and how each side is cut
            into tokens (`split`; `source_split` and `target_split` override
            it for one side, as G2P's characters in, phones out). Defaults
            to `ModelConfig()`.
        gather: None, or (under a multi-worker strategy, where
            `train_pairs` is this worker's share) how the workers pool what
            they read into the same vocabularies:
            `TextVectorizer.from_texts`'s `gather`.
        **options: `ModelConfig` options that replace `config`'s
            (`units=64`).
    """
    config = dataclasses.replace(config or ModelConfig(), **options)
    vectorizers = []
    for side, split, limit in (
        (0, config.source_split or config.split, config.max_source_length),
        (1, config.target_split or config.split, config.max_target_length),
    ):
        try:
            vectorizer = TextVectorizer.from_texts(
                _Column(train_pairs, side),
                split=split,
                lowercase=config.lowercase,
                max_tokens=config.vocabulary_size,
                gather=gather,
            )
        except OptionError as error:  # named as the model's option
            raise OptionError("vocabulary_size", error.expected, error.received) from None
        # Longer pairs are left out of training (`within_max_lengths`).
        vectorizer.max_length = min(vectorizer.max_length, limit)
        vectorizers.append(vectorizer)
    model = Seq2Seq(vectorizers[0].size, vectorizers[1].size, **config.network())
    return Translator(model, *vectorizers)


class _Column:
    """One side of `(source, target)` pairs, read anew each time it is
    iterated (a vocabulary is built in one or two passes over it)."""

    def __init__(self, pairs, side):
        self.pairs, self.side = pairs, side

    def __iter__(self):
        return (pair[self.side] for pair in self.pairs)


def within_max_lengths(translator, pairs):
    """`(kept, total)`: how many of `pairs` fit the translator's
    vectorizers (at most `max_length` tokens on each side, what
    `ModelConfig.max_source_length` and `max_target_length` set), which
    training keeps, of how many; one streaming pass.

    A corpus as extracted holds a few lines hundreds of times longer than
    the rest (a glossary in one verse); one of them in a batch would pad
    the whole batch to its length.
    """
    return count_within_max_lengths(
        pairs, translator.source_vectorizer, translator.target_vectorizer
    )


# What `evaluate` scores; BLEU and chrF for word and subword targets only.
SCORES = ("exact_match", "wer", "token_error_rate", "bleu", "chrf")
# The scores where more is better.
HIGHER_IS_BETTER = ("exact_match", "bleu", "chrf")

# The defaults of `compile_for_training`, `fit` and `TimeBudget`.
_TRAINING = TrainingConfig()
# Where the cosine decay of the learning rate ends, as a share of its peak.
FINAL_LEARNING_RATE_SHARE = 0.05


def _check_schedule(learning_rate, warmup):
    """The peak learning rate and the warm-up share, checked, as floats:
    the schedule of `compile_for_training` and of `TimeBudget`."""
    return (
        check_number("learning_rate", learning_rate, "a positive number", lambda r: r > 0),
        check_number("warmup", warmup, "a number in [0, 1)", lambda w: 0 <= w < 1),
    )


def compile_for_training(
    model,
    learning_rate=_TRAINING.learning_rate,
    total_steps=None,
    clip_norm=_TRAINING.clip_norm,
    cosine_decay=True,
    warmup=_TRAINING.warmup,
    label_smoothing=_TRAINING.label_smoothing,
):
    """Adam with gradient-norm clipping; loss and metrics ignore padding.

    The loss is the cross-entropy of the next tokens, with `label_smoothing`
    (`models.SmoothedCrossEntropy`; without it, Keras' own
    `SparseCategoricalCrossentropy`).

    Over `total_steps`, the learning rate rises linearly from 0 to
    `learning_rate` during the first `warmup` share of them, then decays
    along a cosine to 5% of it. Without `total_steps`, or with
    `cosine_decay=False` (as the book trains), it stays at `learning_rate`.
    `clip_norm=None` does not clip.
    """
    learning_rate, warmup = _check_schedule(learning_rate, warmup)
    if clip_norm is not None:
        clip_norm = check_number(
            "clip_norm",
            clip_norm,
            "a positive number",
            lambda n: n > 0,
            alternative=", or None not to clip",
        )
    if total_steps and cosine_decay:
        warmup_steps = int(warmup * total_steps)
        learning_rate = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup_steps else learning_rate,
            decay_steps=total_steps - warmup_steps,
            alpha=FINAL_LEARNING_RATE_SHARE,
            warmup_target=learning_rate if warmup_steps else None,
            warmup_steps=warmup_steps,
        )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=clip_norm),
        loss=SmoothedCrossEntropy(label_smoothing)
        if label_smoothing
        else keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[MaskedTokenAccuracy(), SequenceExactMatch()],
    )
    if model.built:
        # Without a distribution strategy, Keras builds the optimizer in the
        # first training step; creating its slots there makes `tf.function`
        # trace the step a second time (seconds, for nothing).
        model.optimizer.build(model.trainable_variables)


def fit(
    translator,
    train_pairs,
    epochs,
    batch_size=_TRAINING.batch_size,
    seed=0,
    validation_pairs=None,
    callbacks=(),
    verbose=1,
    bucket_by_length=True,
    backup_dir=None,
    time_budget=None,
    average_epochs=1,
    kept=None,
    batch_by=_TRAINING.batch_by,
    **compile_kwargs,
):
    """Trains `translator.model` with `model.fit` on teacher-forced batches.

    `train_pairs` is a list of pairs or a stream (`keras_attention_cli.tsv.Corpus`),
    read anew every epoch (`data.pipeline.make_dataset`); pairs over the
    vectorizers' `max_length` are left out. `kept`, when known, is how
    many pairs that leaves (`within_max_lengths`; counted otherwise).
    `batch_by` (`"pairs"` or `"tokens"`) says what a batch holds
    `batch_size` (mean pairs') worth of.

    `compile_kwargs` (`learning_rate`, `clip_norm`, `cosine_decay`,
    `warmup`, `label_smoothing`) go to `compile_for_training`.
    With `time_budget` (minutes), a `TimeBudget` sets the learning rate
    from the time spent instead of the steps taken, and training stops
    when the budget is spent (or after `epochs`, whichever comes first);
    training resumed from a backup starts a new budget.
    With `average_epochs` > 1, an `EpochAverage` leaves the model with the
    mean of its weights after each of the last `average_epochs` epochs.
    With `backup_dir`, an `EpochBackup` backs the training state up there
    after every epoch; if a backup is already there (training was
    interrupted), training continues from it and ends where an
    uninterrupted run would have. Under a `tf.distribute` strategy, call it
    inside `strategy.scope()`, where the model was built; `batch_size` is
    then the global batch, split across the replicas. Under a multi-worker
    strategy each worker reads only its own share of `train_pairs`
    (`pipeline.shard`) and batches it per replica (`batch_size` must be a
    multiple of the replicas); every worker takes the steps of an epoch of
    all the pairs.

    Returns:
        The `History` of `model.fit`, with a `time_budget` attribute: the
        `TimeBudget` (its `stopped_epoch` says whether it stopped
        training), or `None`; and `average`: the `EpochAverage` (its
        `averaged` lists the epochs averaged), or `None`.
    """
    backed_up = read_backup_metadata(backup_dir)
    initial_epoch = backed_up["epoch"] if backed_up else 0
    # A backup taken after the last epoch leaves no epoch to run; the data
    # still needs one, which `fit` then skips.
    first_epoch = min(initial_epoch, epochs - 1)
    batches = functools.partial(
        make_dataset,
        source_vectorizer=translator.source_vectorizer,
        target_vectorizer=translator.target_vectorizer,
        seed=seed,
        bucket_by_length=bucket_by_length,
        batch_by=batch_by,
        epochs=epochs,
        initial_epoch=first_epoch,
        fixed_shapes=keras.backend.backend() == "jax",  # JAX compiles a step per shape
    )
    if under_multi_worker():
        dataset, steps_per_epoch = _worker_batches(
            batches, translator, train_pairs, batch_size, kept, bucket_by_length
        )
    else:
        dataset = batches(train_pairs, batch_size=batch_size, kept=kept)
        steps_per_epoch = int(dataset.cardinality()) // (epochs - first_epoch)
    callbacks, budget = list(callbacks), None
    if time_budget is not None:
        if under_multi_worker():
            # Each worker's clock would stop it at its own step, and the
            # others would wait for it forever.
            raise ValueError(
                "`time_budget` cannot be used under a multi-worker strategy: each "
                "worker would stop at a different step; pass `epochs` instead"
            )
        budget = TimeBudget(
            time_budget * 60,
            **{
                key: compile_kwargs[key]
                for key in ("learning_rate", "warmup")
                if key in compile_kwargs
            },
        )
        callbacks.insert(0, budget)
        # A plain rate, which the budget sets before every batch.
        compile_kwargs.update(learning_rate=budget.peak, cosine_decay=False)
    compile_for_training(translator.model, total_steps=steps_per_epoch * epochs, **compile_kwargs)
    validation = None
    if validation_pairs:
        validation = make_dataset(
            validation_pairs,
            translator.source_vectorizer,
            translator.target_vectorizer,
            batch_size=max(batch_size, 256),
            shuffle=False,
            drop_longer=False,
        )
    fit_under_multi_worker(translator.model)
    if backup_dir:
        callbacks.insert(0, EpochBackup(backup_dir))
    average = None
    if check_positive_int("average_epochs", average_epochs) > 1:
        # Before the backup, so that a backed-up epoch's copy is on disk.
        average = EpochAverage(average_epochs, backup_dir=backup_dir)
        callbacks.insert(0, average)
    if verbose:
        # The bar (1) or the one line per epoch (2) first, so that it ends
        # its line before a callback prints.
        callbacks.insert(0, keras.callbacks.ProgbarLogger())
    try:
        history = translator.model.fit(
            dataset,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            initial_epoch=initial_epoch,
            validation_data=validation,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # the pipeline shuffles, every epoch
        )
    except tf.errors.ResourceExhaustedError as error:
        raise TrainingOutOfMemory.from_error(error) from None
    history.time_budget, history.average = budget, average
    return history


def _worker_batches(batches, translator, train_pairs, batch_size, kept, bucket_by_length):
    """`(dataset, steps_per_epoch)` under a multi-worker strategy: each
    worker reads its own share of `train_pairs` (`pipeline.shard`) and
    batches it per replica, so that a step's batches together are one
    global batch of `batch_size`; every worker takes the steps an epoch of
    all the pairs makes in one process."""
    strategy = tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"`batch_size` must be a multiple of the {replicas} replicas under a multi-worker "
            f"strategy (each takes an equal part of the global batch). Received: "
            f"batch_size={batch_size}"
        )
    if kept is None:
        kept, _ = within_max_lengths(translator, train_pairs)
    steps_per_epoch = batches_per_epoch(kept, batch_size, bucket_by_length)

    def worker_dataset(context):
        share = shard(train_pairs, context.input_pipeline_id, context.num_input_pipelines)
        if not len(share):
            raise ValueError(
                f"worker {context.input_pipeline_id + 1} of {context.num_input_pipelines} has no "
                "training pair: give the workers more pairs than there are workers"
            )
        local_replicas = replicas // context.num_input_pipelines
        return batches(
            share,
            batch_size=context.get_per_replica_batch_size(batch_size),
            steps_per_epoch=steps_per_epoch * local_replicas,
        )

    return strategy.distribute_datasets_from_function(worker_dataset), steps_per_epoch


class TrainingOutOfMemory(RuntimeError):
    """A training step ran out of memory. `shape` is the shape of the
    tensor it could not allocate (a list of ints, or None if TensorFlow's
    message did not say)."""

    def __init__(self, shape):
        self.shape = shape
        allocating = f" allocating a tensor of shape {shape}" if shape else ""
        super().__init__(
            f"out of memory in a training step{allocating}: lower `batch_size`, or "
            "`max_source_length` and `max_target_length` (longer pairs are left out)"
        )

    @classmethod
    def from_error(cls, error):
        """The error for TensorFlow's `ResourceExhaustedError`."""
        found = re.search(r"shape\s*\[([\d,\s]+)\]", str(error.message))
        return cls([int(size) for size in found.group(1).split(",")] if found else None)


def evaluate(translator, pairs, beam_width=1, n_best=None):
    """Decodes every distinct source once and scores it against its references.

    A source on several lines (a word with several pronunciations) is one
    question whose output is right if it equals any of its lines' targets.

    Returns:
        A dict: `exact_match` (share of sources whose output equals one of
        its references), `wer` (the share that match none), `token_error_rate`
        (edit distance to the closest reference over its length, summed over
        the sources: PER for phones, CER for characters); for word or
        subword targets `bleu` and `chrf` (sacreBLEU's, 0-100); `sources` and
        `translations` (one per distinct source, in order of first
        appearance), `seconds` (decoding time); with `n_best`,
        `oracle_exact_match` (the share of sources where any of the `n_best`
        best hypotheses is right) and `n_best_translations`.
    """
    sources, references = scoring.group_references(pairs)
    start = time.perf_counter()
    translated = translator.translate(sources, beam_width=beam_width, n_best=n_best)
    seconds = time.perf_counter() - start
    translations = translated["translation"]
    result = scoring.score(translations, references, translator.target_vectorizer)
    evaluated = {
        **{key: result[key] for key in SCORES if key in result},
        "sources": sources,
        "translations": translations,
        "seconds": seconds,
    }
    if n_best:
        evaluated["n_best_translations"] = translated["n_best_translations"]
        evaluated["oracle_exact_match"] = scoring.oracle_exact_match(
            translated["n_best_translations"], references, translator.target_vectorizer
        )
    return evaluated


class TimeBudget(keras.callbacks.Callback):
    """Trains for a wall-clock time instead of a number of steps.

    Before every batch, it sets the learning rate from the share of
    `seconds` spent since training began: a linear rise from 0 over the
    first `warmup` share, then a cosine decay to 5% of `learning_rate`
    when the budget is spent (the schedule of `compile_for_training`, with
    time in place of steps). After the first batch that ends past the
    budget, it stops training: that epoch ends there (its callbacks, such
    as a `DecodedEvaluation`, still run) and no other begins. Time spent
    between batches (evaluating after an epoch) counts too, so a machine
    twice as fast trains about twice as many steps in the same minutes.
    The optimizer's learning rate must be a plain value (not a schedule):
    `fit(..., time_budget=...)` compiles it so.

    Args:
        seconds: positive number, the training time.
        learning_rate: the peak learning rate. Defaults to
            `TrainingConfig().learning_rate`.
        warmup: share in [0, 1) of the time over which it rises. Defaults
            to `TrainingConfig().warmup`.
        clock: function returning seconds, for tests. Defaults to
            `time.monotonic`.

    Attributes:
        stopped_epoch: the epoch (from 1) in which the budget ran out, or
            `None`.
        stopped_step: the steps of that epoch taken when it ran out.
    """

    def __init__(
        self,
        seconds,
        learning_rate=_TRAINING.learning_rate,
        warmup=_TRAINING.warmup,
        clock=time.monotonic,
    ):
        super().__init__()
        seconds = check_number(
            "time_budget", seconds, "a positive number of seconds", lambda s: s > 0
        )
        learning_rate, warmup = _check_schedule(learning_rate, warmup)
        self.seconds, self.peak, self.warmup, self.clock = seconds, learning_rate, warmup, clock
        self.stopped_epoch, self.stopped_step, self._started, self._epoch = None, None, None, 0

    def learning_rate_at(self, share):
        """The learning rate after `share` (in [0, 1]) of the budget."""
        share = min(max(share, 0.0), 1.0)
        if share < self.warmup:
            return self.peak * share / self.warmup
        decay = (share - self.warmup) / (1 - self.warmup)
        final = FINAL_LEARNING_RATE_SHARE
        return self.peak * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi * decay)))

    def spent(self):
        """The share of the budget spent so far (0 before training begins)."""
        return 0.0 if self._started is None else (self.clock() - self._started) / self.seconds

    def on_train_begin(self, logs=None):
        self._started = self.clock()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.learning_rate_at(self.spent())

    def on_train_batch_end(self, batch, logs=None):
        if self.spent() >= 1 and not self.model.stop_training:
            self.model.stop_training = True
            self.stopped_epoch, self.stopped_step = self._epoch + 1, batch + 1


class EpochAverage(keras.callbacks.Callback):
    """Checkpoint averaging: when training ends, sets the model's weights
    to the mean of its weights after each of the last `epochs` epochs.

    After each epoch it keeps a copy of the weights (the last `epochs`
    copies); with `backup_dir` (training backed up by an `EpochBackup`
    there), it also writes them (NumPy `.npz` files, the model's weights
    only) under `backup_dir/average/`, so that
    training resumed from the backup averages the same epochs as an
    uninterrupted run (`fit` puts it before the `EpochBackup`, so that an
    epoch backed up has its copy written).

    Args:
        epochs: int >= 1, how many epochs' weights to average.
        backup_dir: str, `Path` or None.

    Attributes:
        averaged: the epochs (from 1) whose weights were averaged, once
            training has ended.
    """

    def __init__(self, epochs, backup_dir=None):
        super().__init__()
        self.epochs = check_positive_int("average_epochs", epochs)
        self.folder = Path(backup_dir) / "average" if backup_dir else None
        self.kept, self.averaged = {}, []

    def on_train_begin(self, logs=None):
        # Training resumed from a backup: the copies of the epochs before it.
        for path in self.folder.glob("epoch-*.npz") if self.folder is not None else ():
            with np.load(path) as saved:
                self.kept[_epoch_of(path)] = [saved[f"arr_{i}"] for i in range(len(saved.files))]

    def on_epoch_end(self, epoch, logs=None):
        self.kept[epoch + 1] = self.model.get_weights()
        for old in sorted(self.kept)[: -self.epochs]:
            del self.kept[old]
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            weights = self.kept[epoch + 1]
            atomic_write(
                self.folder / f"epoch-{epoch + 1}.npz",
                lambda temporary: np.savez(temporary, *weights),
            )
            for old in self.folder.glob("epoch-*.npz"):
                if _epoch_of(old) not in self.kept:
                    old.unlink()

    def on_train_end(self, logs=None):
        self.averaged = sorted(self.kept)
        if len(self.averaged) > 1:
            copies = [self.kept[epoch] for epoch in self.averaged]
            self.model.set_weights(
                [np.mean(weights, axis=0).astype(weights[0].dtype) for weights in zip(*copies)]
            )


def _epoch_of(path):
    """N of an `epoch-N.npz` file."""
    return int(path.name.split("-")[1].split(".")[0])


class DecodedEvaluation(keras.callbacks.Callback):
    """After each epoch, decodes held-out pairs greedily and scores them.

    This is the real measure (each prediction fed back), unlike the
    teacher-forced `exact_match` of the progress bar. It adds
    `{label}_exact_match`, `{label}_wer` and `{label}_token_error_rate`
    (and for word or subword targets `{label}_bleu` and `{label}_chrf`) to
    the epoch's logs (so the training log and `EarlyStopping` see them),
    `best_epoch`, the epoch (from 1) with the best `monitor` score so far
    (the lowest WER, the highest BLEU or chrF), the last of equals (the one
    trained longest: on a task the model has mastered, several epochs reach
    a WER of 0 on the dev set), and `epoch_seconds`, the epoch's training
    time (decoding excluded). `history` keeps one dict per epoch.
    """

    def __init__(self, translator, pairs, label="validation", print_fn=print, monitor="wer"):
        super().__init__()
        self.translator, self.pairs, self.label, self.print_fn = translator, pairs, label, print_fn
        self.monitor = monitor
        self.history = []
        self.best_epoch, self.best_score = None, None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        result = evaluate(self.translator, self.pairs)
        if self.monitor not in result:
            raise ValueError(
                f"`monitor` must be 'wer' with character targets: BLEU and chrF score word or "
                f"subword targets. Received: monitor={self.monitor!r}"
            )
        score = result[self.monitor]
        sign = 1 if self.monitor in HIGHER_IS_BETTER else -1
        if self.best_score is None or sign * score >= sign * self.best_score:
            self.best_epoch, self.best_score = epoch + 1, score
        scores = {key: result[key] for key in SCORES if key in result}
        self.history.append({"epoch": epoch + 1, "train_seconds": seconds, **scores})
        logs = logs if logs is not None else {}
        for key, value in scores.items():
            logs[f"{self.label}_{key}"] = value
        logs["best_epoch"] = self.best_epoch
        logs["epoch_seconds"] = seconds
        self.print_fn(
            f"epoch {epoch + 1}: loss {logs.get('loss', float('nan')):.4f}, {self.label} "
            f"(greedy decoding, {len(result['sources'])} sources): {describe_scores(result)}; "
            f"{seconds:.1f} s training; best epoch so far {self.best_epoch}"
        )


def describe_scores(result):
    """`evaluate`'s scores in one line: `exact match 98.00%, WER 2.00%,
    token error rate 0.31%` (and `, BLEU 21.3, chrF 45.6`)."""
    line = (
        f"exact match {100 * result['exact_match']:.2f}%, WER {100 * result['wer']:.2f}%, "
        f"token error rate {100 * result['token_error_rate']:.2f}%"
    )
    if "bleu" in result:
        line += f", BLEU {result['bleu']:.2f}, chrF {result['chrf']:.2f}"
    return line


def early_stopping(label, patience, monitor="wer"):
    """Stops when `{label}_{monitor}` (from a `DecodedEvaluation` placed
    before it) has not improved for `patience` epochs, and at the end of
    training puts back the weights of the epoch with the best score,
    stopped early or not: of epochs with equal scores, the last (see
    `LastOfBestStopping`)."""
    return LastOfBestStopping(
        monitor=f"{label}_{monitor}",
        mode="max" if monitor in HIGHER_IS_BETTER else "min",
        patience=patience,
        restore_best_weights=True,
        verbose=0,
    )


class LastOfBestStopping(keras.callbacks.EarlyStopping):
    """`keras.callbacks.EarlyStopping` that, of epochs tied at the best
    value, keeps the weights of the last one (trained longest), where Keras
    keeps the first; only a strict improvement restarts the patience."""

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs) if self.monitor_op is not None else None
        tied = current is not None and self.best_weights is not None and current == self.best
        super().on_epoch_end(epoch, logs)
        if tied and epoch >= self.start_from_epoch:
            self.best_epoch = epoch
            self.best_weights = self.model.get_weights()


class TrainingLog(keras.callbacks.CSVLogger):
    """`keras.callbacks.CSVLogger` with one column per logged value.

    Keras' own logger, when an epoch's logs hold no `val_` value, adds a
    `val_` twin of every column, which then reads NA in every row; here the
    columns are exactly the first epoch's logs.
    """

    def on_epoch_end(self, epoch, logs=None):
        if self.keys is None:
            set_logged_keys(self, sorted(logs or {}))
        super().on_epoch_end(epoch, logs)
