"""Every option of the package: its choices, its default and its check, in
plain Python (no Keras, no TensorFlow), so that the command line checks its
arguments before it imports either.

One frozen dataclass per concern, each checked once, when it is made:

- `ModelConfig`: the network and its tokens (cell, units, layers, score,
  dropout, splits, ...), taken by `training.build_translator` (and its
  checks by `Seq2Seq`);
- `TrainingConfig`: how long and how to train (epochs, batch, learning
  rate and schedule, patience, ensemble, precision, distribution,
  threads), taken by `Runner.train`, which writes both into the model
  folder (`config.json`);
- `DecodingConfig`: beam width, n-best and length penalty (its checks run
  by `decoding.BeamSearch` too); `hypotheses` is the one place where
  `n_best`'s default (the beam width) is decided.

The command line builds them from its flags, and an `OptionError` names the
option, so it can name the flag (`--units`). Adding an option touches its
config class, its check in `__post_init__`, its flag and its documentation.

A bad value raises `OptionError` (a `ValueError`) in Keras' style:
`` `units` must be a positive integer. Received: units=0``.
"""

import dataclasses
import math
import numbers

KINDS = ("attention", "peeky", "plain")
CELLS = ("gru", "lstm")
SCORES = ("dot", "scaled_dot", "general", "cosine", "additive")
SPLITS = ("characters", "words", "subwords")
# What `patience` can watch in the dev decodings after every epoch; BLEU and
# chrF (sacreBLEU's) need word or subword targets.
MONITORS = ("wer", "bleu", "chrf")
# What a training batch holds about the same amount of (`batch_by`).
BATCH_UNITS = ("pairs", "tokens")
DISTRIBUTIONS = ("none", "mirrored", "multi-worker")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# How `export-litert` stores the weights (the first is its default).
QUANTIZATIONS = ("dynamic-int8", "none", "float16")
# `data bible --direction`: which side is the source (Apertium's names).
BIBLE_DIRECTIONS = ("spa-eng", "eng-spa")


class OptionError(ValueError):
    """A bad option value. `option` is its name (`"units"`), `expected` what
    it must be and `received` what it was, so that the command line can say
    it with the flag's name."""

    def __init__(self, option, expected, received, owner=""):
        self.option, self.expected, self.received = option, expected, received
        super().__init__(f"{owner}`{option}` must be {expected}. Received: {option}={received!r}")


def check_int(name, value, minimum, expected, owner="", alternative=""):
    """Return `value` as a Python int; raise `OptionError` unless it is an
    integer (Python or NumPy, not a bool) >= `minimum`, saying it must be
    `expected` (`"an int >= 0"`) and `alternative` (`", or None to ..."`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise OptionError(name, f"{expected}{alternative}", value, owner)
    return int(value)


def check_positive_int(name, value, owner="", alternative=""):
    """Return `value` as a Python int; raise `OptionError` unless it is an
    integer >= 1 (a Python or NumPy integer: bools are refused).

    `owner` prefixes the message (`"Seq2Seq: "`); `alternative` names what
    else is accepted (`", or None to ..."`).
    """
    return check_int(name, value, 1, "a positive integer", owner, alternative)


def check_number(name, value, expected, within, owner="", alternative=""):
    """Return `value` as a Python float; raise `OptionError` unless it is a
    finite real number (a Python or NumPy int or float: bools, NaN and
    infinities are refused) for which `within(value)` holds, saying it
    must be `expected` (`"a number >= 0"`)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not within(value)
    ):
        raise OptionError(name, f"{expected}{alternative}", value, owner)
    return float(value)


def check_choice(name, value, choices, owner=""):
    """Return `value`; raise `OptionError` unless it is one of `choices`."""
    if value not in choices:
        raise OptionError(name, f"one of {choices}", value, owner)
    return value


def check_bool(name, value, owner=""):
    """Return `value`; raise `OptionError` unless it is `True` or `False`."""
    if not isinstance(value, bool):
        raise OptionError(name, "True or False", value, owner)
    return value


def check_network(owner="", **network):
    """The network options of `ModelConfig` and `Seq2Seq` (`kind`, `cell`,
    `score`, `units`, `embedding_dim`, `bidirectional`, `reverse_source`,
    `encoder_layers`, `dropout`, `attentional_units`, `attentional_norm`,
    `input_feeding`), checked, as a dict of Python values; `owner` prefixes
    the messages. `attentional_norm` and `input_feeding` may be left out
    (False)."""
    checked = {
        "kind": check_choice("kind", network["kind"], KINDS, owner),
        "cell": check_choice("cell", network["cell"], CELLS, owner),
        "score": check_choice("score", network["score"], SCORES, owner),
        "units": check_positive_int("units", network["units"], owner),
        "embedding_dim": check_positive_int("embedding_dim", network["embedding_dim"], owner),
        "bidirectional": check_bool("bidirectional", network["bidirectional"], owner),
        "reverse_source": check_bool("reverse_source", network["reverse_source"], owner),
        "encoder_layers": check_positive_int("encoder_layers", network["encoder_layers"], owner),
        "dropout": check_number(
            "dropout", network["dropout"], "a number in [0, 1)", lambda d: 0 <= d < 1, owner
        ),
        "attentional_units": check_int(
            "attentional_units",
            network["attentional_units"],
            0,
            "an int >= 0",
            owner,
            alternative=" (0: no attentional layer)",
        ),
        "attentional_norm": check_bool(
            "attentional_norm", network.get("attentional_norm", False), owner
        ),
        "input_feeding": check_bool("input_feeding", network.get("input_feeding", False), owner),
    }
    if checked["attentional_norm"] and not checked["attentional_units"]:
        raise OptionError(
            "attentional_norm",
            "False unless attentional_units > 0 (it normalises the attentional layer's "
            f"pre-activations; here attentional_units={checked['attentional_units']})",
            checked["attentional_norm"],
            owner,
        )
    if checked["input_feeding"] and (
        checked["kind"] != "attention" or not checked["attentional_units"]
    ):
        raise OptionError(
            "input_feeding",
            "False unless kind='attention' and attentional_units > 0 (the vector it feeds back "
            f"is the attentional layer's; here kind={checked['kind']!r}, attentional_units="
            f"{checked['attentional_units']})",
            checked["input_feeding"],
            owner,
        )
    if checked["bidirectional"] and checked["units"] % 2:
        raise OptionError(
            "units",
            "an even number when `bidirectional` (each direction gets half)",
            checked["units"],
            owner,
        )
    return checked


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The network and its tokens.

    Args:
        kind: str, `"attention"` (default), or the book's `"peeky"` and
            `"plain"` comparison models.
        cell: str, `"gru"` (default) or `"lstm"`.
        score: str, the attention score, one of `SCORES`. Defaults to `"dot"`.
        units: int, the recurrent size (split between the directions of a
            bidirectional encoder, so even then). Defaults to `256`.
        embedding_dim: int. Defaults to `16`, the book's.
        bidirectional: bool, the encoder reads both ways. Defaults to `True`.
        reverse_source: bool, the encoder reads each source backwards, as
            the book does. Defaults to `False`.
        encoder_layers: int, stacked recurrent layers. Defaults to `1`.
        dropout: float in [0, 1), from embeddings, encoder layers and the
            output layer's input in training. Defaults to `0.0`.
        attentional_units: int >= 0, the size of Luong's tanh layer before
            the output layer; 0, the book's model, for none. Defaults to `0`.
        attentional_norm: bool, layer-normalise the attentional layer's
            pre-activations before its tanh (`tanh(LayerNorm(W [c; h]))`;
            needs `attentional_units`). Defaults to `False`.
        input_feeding: bool, each decoder step reads the previous step's
            attentional vector (needs `attentional_units`). Defaults to
            `False`.
        split: str, the tokens of both sides: `"characters"` (default),
            `"words"` or `"subwords"` (a SentencePiece model learned from
            the training texts).
        source_split, target_split: str or None, one side's tokens
            (default: `split`).
        lowercase: bool, fold the case of both sides. Defaults to `False`.
        vocabulary_size: int or None, each side's most tokens (the reserved
            ones included): rarer words or characters become `[UNK]`; for
            subwords, the pieces SentencePiece learns (`None`: 8000).
            Defaults to `None`: every token seen, or 8000 subwords.
        max_source_length, max_target_length: int, the most tokens of a
            source or target: longer training pairs are left out (and
            counted), longer inputs truncated when translating. Defaults
            to `256`.
    """

    kind: str = "attention"
    cell: str = "gru"
    score: str = "dot"
    units: int = 256
    embedding_dim: int = 16
    bidirectional: bool = True
    reverse_source: bool = False
    encoder_layers: int = 1
    dropout: float = 0.0
    attentional_units: int = 0
    attentional_norm: bool = False
    input_feeding: bool = False
    split: str = "characters"
    source_split: str | None = None
    target_split: str | None = None
    lowercase: bool = False
    vocabulary_size: int | None = None
    max_source_length: int = 256
    max_target_length: int = 256

    def __post_init__(self):
        owner = "ModelConfig: "
        checked = check_network(owner, **self.network())
        checked["split"] = check_choice("split", self.split, SPLITS, owner)
        for side in ("source_split", "target_split"):
            value = getattr(self, side)
            checked[side] = None if value is None else check_choice(side, value, SPLITS, owner)
        checked["lowercase"] = check_bool("lowercase", self.lowercase, owner)
        if self.vocabulary_size is not None:
            checked["vocabulary_size"] = check_int(
                "vocabulary_size", self.vocabulary_size, 5,
                "an int above the 4 reserved tokens", owner, alternative=", or None",
            )  # fmt: skip
        for side in ("max_source_length", "max_target_length"):
            checked[side] = check_positive_int(side, getattr(self, side), owner)
        for name, value in checked.items():  # NumPy numbers kept as Python ones
            object.__setattr__(self, name, value)

    def network(self):
        """The options `Seq2Seq` takes, as a dict."""
        return {name: getattr(self, name) for name in _NETWORK_OPTIONS}


_NETWORK_OPTIONS = (
    "kind", "cell", "score", "units", "embedding_dim", "bidirectional", "reverse_source",
    "encoder_layers", "dropout", "attentional_units", "attentional_norm", "input_feeding",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How long and how to train.

    Args:
        epochs: int, at most this many epochs. Defaults to `2`.
        batch_size: int, pairs per batch (the global batch under a
            distribution). Defaults to `128`.
        batch_by: str, one of `BATCH_UNITS`: a batch holds `batch_size`
            `"pairs"` (default), or about `batch_size` times a mean pair's
            `"tokens"`: many short pairs or few long ones, as many batches
            an epoch either way (`data.pipeline.make_dataset`).
        learning_rate: float, the peak rate: it rises over the `warmup`
            share of the steps, then follows a cosine to 5% of itself.
            Defaults to `0.003`.
        warmup: float in [0, 1). Defaults to `0.0`.
        clip_norm: float or None, the global gradient norm clipped to.
            Defaults to `5.0`.
        label_smoothing: float in [0, 1), the share of each target's
            probability spread over the whole vocabulary in the loss.
            Defaults to `0.0`.
        time_budget: float or None, minutes: train for this long (at most
            `epochs` epochs), the schedule following the time spent.
            Defaults to `None`.
        validation_split: float in [0, 1), the share of the pairs held out
            when no dev pairs are given. Defaults to `0.02`.
        patience: int or None, with dev pairs: stop when the dev score
            (`monitor`) has not improved for this many epochs and keep the
            best epoch's weights. Defaults to `None`.
        monitor: str, one of `MONITORS`, the dev score that `patience`
            watches and that picks the best epoch: `"wer"` (default), or
            sacreBLEU's `"bleu"` or `"chrf"` (word or subword targets).
        average_epochs: int, the trained weights are the mean of the
            weights after each of the last this many epochs (checkpoint
            averaging); `1` keeps the last epoch's. Not with `patience`.
            Defaults to `1`.
        seed: int, for the split, the weights and the shuffling. Defaults
            to `0`.
        ensemble: int, models trained one after the other (seeds `seed`,
            `seed + 1`, ...) and decoded together. Defaults to `1`.
        jobs: int, how many of the `ensemble` members train at the same
            time, each in a process of its own with `threads` threads
            (`keras_attention.member_jobs`): on a CPU whose training step
            gains little from a second thread, two members on two cores
            take about the time of one. The members are the same whatever
            `jobs`. Defaults to `1`: one after the other, in this process.
        precision: str, one of `PRECISIONS`. Defaults to `"float32"`.
        distribution: str, one of `DISTRIBUTIONS`: `"none"` (default),
            `"mirrored"` (every local device) or `"multi-worker"` (the
            cluster in `TF_CONFIG`).
        threads: int or None, the intra-op thread count to train with (on
            a CPU): a matmul's sums are split among this many threads, so
            the same seed and count give the same weights on one core or
            on many, where one thread per core (TensorFlow's default)
            gives weights that differ in the last bits from the first step
            on. The process must already run with this count
            (`process_state.intra_op_threads`): the command line's
            `--threads` sets it before TensorFlow starts; in Python set
            `TF_NUM_INTRAOP_THREADS` before TensorFlow runs an op (or call
            `tf.config.threading.set_intra_op_parallelism_threads`;
            `torch.set_num_threads` on the PyTorch backend). `Runner.train`
            raises otherwise. Defaults to `None`: whatever the process
            runs with.
    """

    epochs: int = 2
    batch_size: int = 128
    batch_by: str = "pairs"
    learning_rate: float = 0.003
    warmup: float = 0.0
    clip_norm: float | None = 5.0
    label_smoothing: float = 0.0
    time_budget: float | None = None
    validation_split: float = 0.02
    patience: int | None = None
    monitor: str = "wer"
    average_epochs: int = 1
    seed: int = 0
    ensemble: int = 1
    jobs: int = 1
    precision: str = "float32"
    distribution: str = "none"
    threads: int | None = None

    def __post_init__(self):
        owner = "TrainingConfig: "
        positive = ("a positive number", lambda value: value > 0)
        share = ("a number in [0, 1)", lambda value: 0 <= value < 1)
        checked = {
            "epochs": check_positive_int("epochs", self.epochs, owner),
            "batch_size": check_positive_int("batch_size", self.batch_size, owner),
            "batch_by": check_choice("batch_by", self.batch_by, BATCH_UNITS, owner),
            "learning_rate": check_number("learning_rate", self.learning_rate, *positive, owner),
            "warmup": check_number("warmup", self.warmup, *share, owner),
            "clip_norm": None if self.clip_norm is None else check_number(
                "clip_norm", self.clip_norm, *positive, owner, alternative=", or None not to clip"
            ),
            "label_smoothing": check_number(
                "label_smoothing", self.label_smoothing, *share, owner
            ),
            "time_budget": None if self.time_budget is None else check_number(
                "time_budget", self.time_budget, "a positive number of minutes", positive[1], owner,
                alternative=", or None",
            ),
            "validation_split": check_number(
                "validation_split", self.validation_split, *share, owner
            ),
            "patience": None if self.patience is None else check_positive_int(
                "patience", self.patience, owner, alternative=", or None"
            ),
            "monitor": check_choice("monitor", self.monitor, MONITORS, owner),
            "average_epochs": check_positive_int("average_epochs", self.average_epochs, owner),
            "seed": check_int("seed", self.seed, -(2**63), "an int", owner),
            "ensemble": check_positive_int("ensemble", self.ensemble, owner),
            "jobs": check_positive_int("jobs", self.jobs, owner),
            "precision": check_choice("precision", self.precision, PRECISIONS, owner),
            "distribution": check_choice("distribution", self.distribution, DISTRIBUTIONS, owner),
            "threads": None if self.threads is None else check_positive_int(
                "threads", self.threads, owner, alternative=", or None"
            ),
        }  # fmt: skip
        if checked["average_epochs"] > 1 and checked["patience"] is not None:
            raise OptionError(
                "average_epochs",
                "1 with `patience` (early stopping keeps the best epoch's weights, not a mean)",
                checked["average_epochs"],
                owner,
            )
        if checked["jobs"] > checked["ensemble"]:
            raise OptionError(
                "jobs",
                f"at most `ensemble` ({checked['ensemble']}): the members are what trains at the "
                "same time",
                checked["jobs"],
                owner,
            )
        if checked["jobs"] > 1 and checked["distribution"] != "none":
            raise OptionError(
                "jobs",
                f"1 under the {checked['distribution']} distribution (it trains each member on "
                "all its devices)",
                checked["jobs"],
                owner,
            )
        if checked["jobs"] > 1 and checked["threads"] is None:
            raise OptionError(
                "threads",
                f"a count with `jobs` {checked['jobs']} (each member's process runs with that "
                "many threads)",
                None,
                owner,
            )
        if checked["time_budget"] is not None and checked["distribution"] == "multi-worker":
            raise OptionError(
                "time_budget",
                "None under the multi-worker distribution (each worker's clock would stop it at a "
                "different step; give `epochs` alone)",
                checked["time_budget"],
                owner,
            )
        for name, value in checked.items():
            object.__setattr__(self, name, value)


def check_training_run(training, pairs, has_dev, resume, target_split=None):
    """The rules between a `TrainingConfig` and what it trains on: `pairs`
    (how many), whether dev pairs are given, whether it resumes, and the
    targets' split (None: not known yet, as when resuming).
    Raises `OptionError` naming the option that cannot work."""
    if training.monitor != "wer" and target_split == "characters":
        raise OptionError(
            "monitor",
            "'wer' with character targets (BLEU and chrF score word or subword targets)",
            training.monitor,
        )
    if training.patience and not has_dev:
        raise OptionError(
            "patience",
            "None without dev pairs to watch (`dev`)",
            training.patience,
        )
    if training.ensemble > 1 and resume:
        raise OptionError(
            "ensemble",
            "1 when resuming (an ensemble is trained member after member from scratch)",
            training.ensemble,
        )
    if not has_dev and not resume:
        held_out = int(round(pairs * training.validation_split))
        if held_out and pairs - held_out < 1:
            raise OptionError(
                "validation_split",
                f"small enough to leave pairs to train on (of {pairs})",
                training.validation_split,
            )


def check_decoding(beam_width, n_best, length_penalty, owner=""):
    """The options of a search (`DecodingConfig`, `decoding.BeamSearch`),
    checked, as a dict of Python values; `n_best` may be None."""
    beam_width = check_positive_int("beam_width", beam_width, owner)
    if n_best is not None:
        n_best = check_positive_int("n_best", n_best, owner, alternative=", or None")
        if n_best > beam_width:
            raise OptionError(
                "n_best",
                f"at most `beam_width` ({beam_width}): a beam search keeps only that many "
                "hypotheses",
                n_best,
                owner,
            )
    length_penalty = check_number(
        "length_penalty", length_penalty, "a number >= 0", lambda p: p >= 0, owner
    )
    return {"beam_width": beam_width, "n_best": n_best, "length_penalty": length_penalty}


@dataclasses.dataclass(frozen=True)
class DecodingConfig:
    """How to decode: greedy, or beam search.

    Args:
        beam_width: int, 1 for greedy decoding. Defaults to `1`.
        n_best: int or None, the hypotheses per input a search returns (at
            most `beam_width`). Defaults to `None`: `beam_width` of them.
        length_penalty: float >= 0, the exponent of the length that a
            hypothesis's log-probability is divided by. Defaults to `1.0`.
    """

    beam_width: int = 1
    n_best: int | None = None
    length_penalty: float = 1.0

    def __post_init__(self):
        checked = check_decoding(
            self.beam_width, self.n_best, self.length_penalty, "DecodingConfig: "
        )
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @property
    def hypotheses(self):
        """How many hypotheses per input a search returns: `n_best`, or the
        beam width."""
        return hypotheses(self.beam_width, self.n_best)


def hypotheses(beam_width, n_best):
    """How many hypotheses a search of `beam_width` returns for `n_best`:
    the one default of `n_best` (None: all `beam_width` of them)."""
    return beam_width if n_best is None else n_best


def with_options(model=None, training=None, **options):
    """`(ModelConfig, TrainingConfig)`: `model` and `training` (fresh ones
    when None) with `options` replacing their fields (`units=64`,
    `epochs=5`). A name neither has raises `TypeError` naming it."""
    configs = (model or ModelConfig(), training or TrainingConfig())
    names = [set(option_names(type(config))) for config in configs]
    unknown = sorted(set(options).difference(*names))
    if unknown:
        raise TypeError(
            f"unknown option(s) {unknown}: expected options of ModelConfig or TrainingConfig"
        )
    model, training = (
        dataclasses.replace(config, **{name: options[name] for name in own & set(options)})
        for config, own in zip(configs, names)
    )
    return model, training


def config_dict(config):
    """A config as a JSON-ready dict."""
    return dataclasses.asdict(config)


def option_names(config_class):
    """The option names of a config class, in order."""
    return [field.name for field in dataclasses.fields(config_class)]
