"""LiteRT (TensorFlow Lite) export: the model with its decoding loop inside.

TensorFlow-only. `convert` traces `decoding.decode` (greedy, or beam search)
on token ids with a fixed batch size and converts it with TensorFlow's own
`tf.lite.TFLiteConverter` into one flatbuffer of built-in LiteRT ops, so
that the LiteRT interpreter alone (`ai-edge-litert`, no TensorFlow) runs a
whole translation in one `invoke`. `export_litert` writes that file and,
beside it, the JSON a runner needs to turn strings into ids and back
(`examples/litert_translate.py` is such a runner).

Three things keep the file to built-in ops, each checked by
`check_builtin_ops` after conversion:

- the batch size is fixed (1 by default): with a dynamic batch, Keras'
  recurrent loop builds a TensorList whose element shape is unknown, which
  only the Select-TF (Flex) ops handle, and `ai-edge-litert` has none;
- the decoding strategy picks tokens with TensorFlow's own `tf.argmax` and
  `tf.math.top_k` (`keras.ops.argmax` adds a negative-zero fix with
  `BitwiseAnd`, which has no built-in kernel);
- the function is converted from its concrete function, not through the
  SavedModel path, which would keep the weights as resource variables
  (`VAR_HANDLE`/`READ_VARIABLE` ops and no weights in the file: it would
  convert "successfully" and fail only when run).
"""

import contextlib
import json
import logging
from pathlib import Path

import keras
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema

from keras_attention import decoding
from keras_attention.tokens import RESERVED_TOKENS
from keras_attention_cli.files import atomic_write
from keras_attention_cli.options import QUANTIZATIONS
from keras_attention_cli.options import check_positive_int

# Ops a file must not hold: Flex ops need TensorFlow's kernels, and resource
# variables mean the weights were left out of the file.
FORBIDDEN_OPS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")
# Version of the JSON written beside the file, for runners to check.
METADATA_FORMAT = 1


class LiteRTConversionError(RuntimeError):
    """The converted file would not run in the LiteRT interpreter alone."""


def tf_argmax_select(scores, k):
    """`decoding.argmax_select` with TensorFlow's own argmax (a built-in LiteRT op)."""
    return tf.expand_dims(tf.argmax(scores, axis=-1, output_type=tf.int32), -1)


def tf_top_k_select(scores, k):
    """`decoding.top_k_select` with TensorFlow's own top-k (a built-in LiteRT op)."""
    return tf.math.top_k(scores, k, sorted=True).indices


def search_strategy(beam_width=1, n_best=None):
    """The strategy a LiteRT file decodes with: greedy for `beam_width` 1,
    else beam search returning `n_best` (default `beam_width`) hypotheses."""
    beam_width = check_positive_int("beam_width", beam_width)
    if beam_width == 1:
        return decoding.GreedySearch(select=tf_argmax_select)
    return decoding.BeamSearch(beam_width, n_best=n_best, select=tf_top_k_select)


def decoding_function(translator, beam_width=1, n_best=None, batch_size=1):
    """The concrete function that gets converted: `source_ids` int32
    `[batch_size, None]` (0 for padding) to a dict of `token_ids` int32
    `[batch_size, steps]` and `attention_weights` float32 `[batch_size,
    steps, src_len]` of the best hypothesis; with beam search, also
    `n_best_token_ids` int32 `[batch_size, n_best, steps]` and
    `n_best_scores` float32 `[batch_size, n_best]` (normalised, best first)."""
    batch_size = check_positive_int("batch_size", batch_size)
    strategy = search_strategy(beam_width, n_best)
    model, max_length = translator.model, translator.max_output_length

    @tf.function(
        input_signature=[tf.TensorSpec([batch_size, None], tf.int32, name="source_ids")],
        autograph=False,
    )
    def translate_ids(source_ids):
        decoded = decoding.decode(model, source_ids, max_length, strategy)
        outputs = {
            "token_ids": decoded["token_ids"][:, 0],
            "attention_weights": decoded["attention_weights"][:, 0],
        }
        if beam_width > 1:
            outputs["n_best_token_ids"] = decoded["token_ids"]
            outputs["n_best_scores"] = decoded["normalized_scores"]
        return outputs

    return translate_ids.get_concrete_function()


def convert(translator, beam_width=1, n_best=None, quantize="dynamic-int8", batch_size=1):
    """The `.tflite` flatbuffer (bytes) of `translator` with its decoding loop.

    Args:
        translator: a `Translator`.
        beam_width: int, 1 for greedy decoding, more for beam search.
        n_best: int or None, hypotheses returned by beam search (at most
            `beam_width`; default `beam_width`).
        quantize: `"none"` (float32 weights), `"dynamic-int8"` (weights
            stored as int8, dynamic-range quantisation) or `"float16"`.
            Defaults to `"dynamic-int8"`.
        batch_size: int, the fixed number of inputs a call decodes.

    Raises:
        ValueError: an option is out of range, the backend is not
            TensorFlow, or a side's tokens are subwords.
        LiteRTConversionError: the converter left an op that the LiteRT
            interpreter cannot run on its own (see `check_builtin_ops`).
    """
    if quantize not in QUANTIZATIONS:
        raise ValueError(
            f"`quantize` must be one of {QUANTIZATIONS}. Received: quantize={quantize!r}"
        )
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"LiteRT export converts TensorFlow graphs: run it on the TensorFlow backend "
            f"(KERAS_BACKEND=tensorflow), not {keras.backend.backend()}"
        )
    subword_sides = [
        side
        for side, vectorizer in (
            ("source", translator.source_vectorizer),
            ("target", translator.target_vectorizer),
        )
        if vectorizer.split == "subwords"
    ]
    if subword_sides:
        raise ValueError(
            f"a model with subword {' and '.join(subword_sides)} tokens has no LiteRT export: "
            "the LiteRT runner tokenizes characters and words only; serve its SavedModel instead"
        )
    function = decoding_function(translator, beam_width, n_best, batch_size)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], translator)
    # Frozen from the concrete function: the SavedModel path would keep the
    # weights as resource variables, outside the file.
    converter.experimental_lower_to_saved_model = False
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    with _tensorflow_warnings_hidden():
        flatbuffer = converter.convert()
    check_builtin_ops(flatbuffer)
    return flatbuffer


@contextlib.contextmanager
def _tensorflow_warnings_hidden():
    """Hides TensorFlow's Python warnings while freezing the function: it
    warns that the lookup tables' initialisers cannot be serialised, which
    the decoding function does not use (it reads token ids)."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _model(flatbuffer):
    return schema.Model.GetRootAsModel(flatbuffer, 0)


def operator_names(flatbuffer):
    """The names of the operator kinds a `.tflite` flatbuffer uses, in every
    subgraph (the decoding loop's bodies included): built-in ops by their
    LiteRT name, custom and Flex ops by their custom code."""
    model = _model(flatbuffer)
    builtin_names = {
        code: name
        for name, code in vars(schema.BuiltinOperator).items()
        if not name.startswith("_")
    }
    names = []
    for index in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(index)
        custom = code.CustomCode()
        # Codes above 127 live in a second field; the first keeps 127 there.
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        names.append(custom.decode("utf-8") if custom else builtin_names[builtin])
    return sorted(set(names))


def output_order(flatbuffer):
    """The position, among the file's outputs, of each output of
    `decoding_function`, told apart by dtype and rank (the converter renames
    them and orders them its own way)."""
    model = _model(flatbuffer)
    graph = model.Subgraphs(0)
    kinds = {
        (schema.TensorType.INT32, 2): "token_ids",
        (schema.TensorType.FLOAT32, 3): "attention_weights",
        (schema.TensorType.INT32, 3): "n_best_token_ids",
        (schema.TensorType.FLOAT32, 2): "n_best_scores",
    }
    order = {}
    for position in range(graph.OutputsLength()):
        tensor = graph.Tensors(graph.Outputs(position))
        order[kinds[(tensor.Type(), tensor.ShapeSignatureLength() or tensor.ShapeLength())]] = (
            position
        )
    return order


def check_builtin_ops(flatbuffer):
    """Raises `LiteRTConversionError` if the flatbuffer holds a Flex
    (Select-TF) or custom op, or resource-variable ops."""
    bad = [
        name
        for name in operator_names(flatbuffer)
        if name.startswith("Flex") or name in FORBIDDEN_OPS or not name.isupper()
    ]
    if bad:
        raise LiteRTConversionError(
            "the LiteRT file holds ops the interpreter cannot run without TensorFlow: "
            f"{', '.join(bad)}"
        )


def runtime_metadata(
    translator, flatbuffer, beam_width=1, n_best=None, quantize="dynamic-int8", batch_size=1
):
    """What a runner needs beside `flatbuffer` (from `convert` with the same
    options), as a JSON-ready dict: the two vectorizers' settings and
    vocabularies, the reserved ids, the batch size, the maximum lengths and
    the position of each output among the file's outputs."""

    def side(vectorizer):
        return {
            "vocabulary": vectorizer.vocabulary,
            "split": vectorizer.split,
            "lowercase": vectorizer.lowercase,
            "normalization": "NFKC",
            "max_length": vectorizer.max_length,
        }

    return {
        "format": METADATA_FORMAT,
        "reserved_ids": {token: index for index, token in enumerate(RESERVED_TOKENS)},
        "source": side(translator.source_vectorizer),
        "target": side(translator.target_vectorizer),
        "max_output_length": translator.max_output_length,
        "batch_size": batch_size,
        "beam_width": beam_width,
        "n_best": search_strategy(beam_width, n_best).n_best,
        "quantize": quantize,
        "outputs": output_order(flatbuffer),
    }


def metadata_path(path):
    """The JSON file beside a `.tflite` file: `model.tflite` → `model.json`."""
    return Path(path).with_suffix(".json")


def export_litert(
    translator, path, beam_width=1, n_best=None, quantize="dynamic-int8", batch_size=1
):
    """Writes the `.tflite` file of `convert` at `path` and its runtime
    metadata (`runtime_metadata`) at `metadata_path(path)`; each is written
    under a temporary name and renamed. Returns both paths."""
    path = Path(path)
    flatbuffer = convert(translator, beam_width, n_best, quantize, batch_size)
    metadata = runtime_metadata(translator, flatbuffer, beam_width, n_best, quantize, batch_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda temporary: Path(temporary).write_bytes(flatbuffer))
    atomic_write(
        metadata_path(path),
        lambda temporary: Path(temporary).write_text(
            json.dumps(metadata, ensure_ascii=False, indent=1), encoding="utf-8"
        ),
    )
    return path, metadata_path(path)
