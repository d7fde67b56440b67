"""LiteRT export: one .tflite file of built-in ops, decoding loop inside,
run by examples/litert_translate.py with the LiteRT interpreter alone."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from keras_attention import litert
from keras_attention.data.generators import date_splits
from keras_attention.text import TextVectorizer
from keras_attention.tokens import RESERVED_TOKENS
from keras_attention_cli import main as cli

RESERVED_IDS = {token: index for index, token in enumerate(RESERVED_TOKENS)}

pytestmark = pytest.mark.tensorflow_only

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "examples" / "litert_translate.py"
BEAM_WIDTH = 3
HOSTILE = ["", "   ", "日本語", "\x00\x01", "9/27/94" * 300]

# A fresh interpreter where TensorFlow, Keras and keras_attention cannot be
# imported runs the runner on each file, all texts through one call per
# batch, and says which modules it loaded.
RUN_WITHOUT_TENSORFLOW = r"""
import json, runpy, sys
for name in ("tensorflow", "tensorflow_text", "keras", "keras_attention", "jax", "torch"):
    sys.modules[name] = None  # any import of them now fails
runner = runpy.run_path(sys.argv[1])
texts = json.loads(sys.stdin.read())
outputs = {}
for path in sys.argv[2:]:
    translator = runner["LiteRTTranslator"](path)
    outputs[path] = translator.translate(texts)
    ids = translator.source_ids(texts[:1])
    result = translator.translate_ids(ids)
    outputs[path + ":outputs"] = sorted(result)
loaded = sorted({name.split(".")[0] for name in sys.modules if sys.modules[name] is not None})
print(json.dumps({"outputs": outputs, "modules": loaded}))
"""


def load_runner():
    """examples/litert_translate.py as a module (it needs ai_edge_litert)."""
    spec = importlib.util.spec_from_file_location("litert_translate", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def translator(date_translator):
    return date_translator


@pytest.fixture(scope="module")
def date_test_sources():
    return [source for source, _ in date_splits()[1]]


@pytest.fixture(scope="module")
def exported(translator, tmp_path_factory):
    """The files of three exports, batches of 64 (5,000 inputs run in a few
    seconds; batches of 1 are run by the command-line test): float greedy,
    int8 greedy, float beam."""
    folder = tmp_path_factory.mktemp("litert")
    files = {}
    for name, options in {
        "float": {"quantize": "none"},
        "int8": {"quantize": "dynamic-int8"},
        "beam": {"quantize": "none", "beam_width": BEAM_WIDTH},
    }.items():
        files[name], _ = litert.export_litert(
            translator, folder / f"{name}.tflite", batch_size=64, **options
        )
    return files


@pytest.fixture(scope="module")
def run_without_tensorflow(exported, date_test_sources):
    texts = date_test_sources + HOSTILE
    result = subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT_TENSORFLOW, str(RUNNER), *map(str, exported.values())],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_float_file_gives_the_packages_strings_on_the_5000_date_test_inputs(
    translator, exported, run_without_tensorflow, date_test_sources
):
    texts = date_test_sources + HOSTILE
    outputs = run_without_tensorflow["outputs"]
    assert outputs[str(exported["float"])] == translator.translate(texts)["translation"]
    assert (
        outputs[str(exported["beam"])]
        == translator.translate(texts, beam_width=BEAM_WIDTH)["translation"]
    )
    # One output per input, hostile ones included (empty, unseen, too long).
    assert all(len(outputs[str(path)]) == len(texts) for path in exported.values())


@pytest.mark.slow
def test_the_runner_loads_neither_tensorflow_nor_keras_nor_the_package(
    run_without_tensorflow, exported
):
    modules = set(run_without_tensorflow["modules"])
    assert {"ai_edge_litert", "numpy"} <= modules
    assert not modules & {
        "tensorflow",
        "tensorflow_text",
        "keras",
        "keras_attention",
        "jax",
        "torch",
    }
    assert run_without_tensorflow["outputs"][f"{exported['beam']}:outputs"] == [
        "attention_weights",
        "n_best_scores",
        "n_best_token_ids",
        "token_ids",
    ]


@pytest.mark.slow
def test_int8_file_is_about_a_third_and_mostly_agrees(
    translator, exported, run_without_tensorflow, date_test_sources
):
    # 48% for this small model in batches of 64 (41% in batches of 1: GRU
    # 64 per direction, whose small weight matrices and the graph weigh
    # more); the demo's model gives 32% (benchmarks/on_device.py).
    assert exported["int8"].stat().st_size <= 0.5 * exported["float"].stat().st_size
    floats = run_without_tensorflow["outputs"][str(exported["float"])][: len(date_test_sources)]
    int8 = run_without_tensorflow["outputs"][str(exported["int8"])][: len(date_test_sources)]
    agree = np.mean([a == b for a, b in zip(floats, int8)])
    assert agree >= 0.95, (
        f"int8 and float outputs agree on only {agree:.1%} of the date test inputs"
    )


def test_file_holds_built_in_ops_only_and_its_weights(exported):
    for path in exported.values():
        names = litert.operator_names(path.read_bytes())
        assert "WHILE" in names  # the decoding loop is inside the file
        assert not [
            name for name in names if name.startswith("Flex") or name in litert.FORBIDDEN_OPS
        ]


def test_beam_outputs_match_the_translators_n_best(translator, exported):
    runner = load_runner().LiteRTTranslator(exported["beam"])
    texts = [source for source, _ in date_splits(0, 20, seed=7)[1]]
    expected = translator.translate(texts, beam_width=BEAM_WIDTH, n_best=BEAM_WIDTH)
    for index, text in enumerate(texts):
        outputs = runner.translate_ids(runner.source_ids([text]))
        hypotheses = [runner.target.decode(row) for row in outputs["n_best_token_ids"][0]]
        assert hypotheses == expected["n_best_translations"][index]
        np.testing.assert_allclose(
            outputs["n_best_scores"][0], expected["n_best_scores"][index], atol=1e-4
        )
        weights = outputs["attention_weights"][0]
        np.testing.assert_allclose(
            weights,
            expected["attention_weights"][index][: len(weights), : weights.shape[1]],
            atol=1e-4,
        )


def test_check_refuses_flex_ops_and_resource_variables():
    # A Flex op: BitwiseAnd has no built-in kernel.
    @tf.function(input_signature=[tf.TensorSpec([2], tf.int32)])
    def bitwise(x):
        return tf.bitwise.bitwise_and(x, 3)

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [bitwise.get_concrete_function()], bitwise
    )
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS,
        tf.lite.OpsSet.SELECT_TF_OPS,
    ]
    with pytest.raises(litert.LiteRTConversionError, match="FlexBitwiseAnd"):
        litert.check_builtin_ops(converter.convert())

    # Resource variables (what the SavedModel lowering path leaves of the
    # weights; here a variable that the function also updates).
    module = tf.Module()
    module.total = tf.Variable([1.0, 2.0])

    @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
    def accumulate(x):
        module.total.assign_add(x)
        return module.total.read_value()

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [accumulate.get_concrete_function()], module
    )
    with pytest.raises(litert.LiteRTConversionError, match="VAR_HANDLE|READ_VARIABLE"):
        litert.check_builtin_ops(converter.convert())


def test_fixed_batch_pads_a_short_batch(translator, tmp_path):
    path, metadata_file = litert.export_litert(
        translator, tmp_path / "b4.tflite", quantize="none", batch_size=4
    )
    assert json.loads(metadata_file.read_text(encoding="utf-8"))["batch_size"] == 4
    texts = [source for source, _ in date_splits(0, 6, seed=3)[1]] + [""]
    assert (
        load_runner().LiteRTTranslator(path).translate(texts)
        == translator.translate(texts)["translation"]
    )


def assert_file_translates_like(translator, path):
    """`translator`'s float file, in batches of 4, gives its greedy strings."""
    path, _ = litert.export_litert(translator, path, quantize="none", batch_size=4)
    texts = [source for source, _ in date_splits(0, 8, seed=4)[1]]
    assert (
        load_runner().LiteRTTranslator(path).translate(texts)
        == translator.translate(texts)["translation"]
    )


def test_an_ensemble_exports_and_runs_like_its_translator(translator, tmp_path):
    from keras_attention.models import Ensemble
    from keras_attention.models import Seq2Seq
    from keras_attention.translator import Translator

    # The trained model and a fresh one of the same config: different weights.
    other = Seq2Seq.from_config(translator.model.get_config())
    ensemble = Translator(
        Ensemble([translator.model, other]),
        translator.source_vectorizer,
        translator.target_vectorizer,
    )
    assert_file_translates_like(ensemble, tmp_path / "ensemble.tflite")


def test_an_input_feeding_model_exports_and_runs_like_its_translator(tmp_path):
    from tests.trained import train_input_feeding_translator

    translator = train_input_feeding_translator(date_splits(200, 0, seed=5)[0])
    assert_file_translates_like(translator, tmp_path / "feeding.tflite")


@pytest.mark.parametrize(
    "split,lowercase",
    [("characters", False), ("characters", True), ("words", False), ("words", True)],
)
def test_runner_tokenizes_like_the_vectorizer(split, lowercase):
    texts = [
        "Straße",
        "ＡＢＣ ｄｅｆ",
        "ﬁne",
        "İstanbul",
        "ΣΑΣ σας",
        "e\u0301té",
        "Hello, world! (ok)",
        "a\u00a0b\tc\nd",
        "x\u2028y",
        "ǅemal",
        "½ ⅷ ²",
        "don't stop-me now.",
        "日本語のテキスト",
        "🙂👍🏽",
        "ÅÄÖ åäö",
        "\u212b",
        "Ⅻ",
        "ｶﾀｶﾅ",
        "  leading and trailing  ",
    ]
    vectorizer = TextVectorizer.from_texts(texts[::2], split=split, lowercase=lowercase)
    side = load_runner().Side(vectorizer.get_config(), RESERVED_IDS)
    expected = vectorizer.encode(tf.constant(texts)).to_list()
    assert [side.encode(text) for text in texts] == expected
    tokens = [
        [t.decode("utf-8") for t in row]
        for row in vectorizer.tokenize(tf.constant(texts)).to_list()
    ]
    assert [side.tokenize(text) for text in texts] == tokens


def test_runner_reads_every_token_of_the_models_vocabulary_as_the_vectorizer_does(translator):
    for vectorizer in (translator.source_vectorizer, translator.target_vectorizer):
        side = load_runner().Side(vectorizer.get_config(), RESERVED_IDS)
        tokens = vectorizer.vocabulary[4:]  # the reserved tokens are never read from text
        expected = vectorizer.encode(tf.constant(tokens + [t.upper() for t in tokens])).to_list()
        assert [side.encode(token) for token in tokens + [t.upper() for t in tokens]] == expected


def test_runner_decodes_like_the_vectorizer():
    vectorizer = TextVectorizer.from_texts(["AH B K", "EH D"], split="words")
    side = load_runner().Side(vectorizer.get_config(), RESERVED_IDS)
    ids = np.array([[4, 5, 3, 6, 0], [2, 6, 7, 0, 0], [3, 4, 0, 0, 0]])
    assert [side.decode(row) for row in ids] == [
        t.decode() for t in vectorizer.decode(tf.constant(ids)).numpy()
    ]


def test_runner_without_its_json_says_where_it_belongs(tmp_path, exported):
    lonely = tmp_path / "alone.tflite"
    lonely.write_bytes(exported["float"].read_bytes())
    with pytest.raises(
        FileNotFoundError,
        match="alone.json not found: it is written beside the model by export-litert",
    ):
        load_runner().LiteRTTranslator(lonely)
    (tmp_path / "alone.json").write_text(json.dumps({"format": 99}), encoding="utf-8")
    with pytest.raises(ValueError, match="metadata format 99, this runner reads 1"):
        load_runner().LiteRTTranslator(lonely)


def test_runner_reads_the_reserved_ids_from_its_json_and_refuses_ids_the_vocabulary_contradicts(
    tmp_path, exported
):
    metadata = json.loads(exported["float"].with_suffix(".json").read_text(encoding="utf-8"))
    assert metadata["reserved_ids"] == RESERVED_IDS
    copy = tmp_path / "swapped.tflite"
    copy.write_bytes(exported["float"].read_bytes())
    metadata["reserved_ids"] = {**RESERVED_IDS, "[START]": 3, "[END]": 2}
    copy.with_suffix(".json").write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(
        ValueError,
        match=r"swapped.json: reserved_ids: expected \[START\] at the id the "
        r"vocabulary has it \(2\), received 3",
    ):
        load_runner().LiteRTTranslator(copy)
    del metadata["reserved_ids"]
    copy.with_suffix(".json").write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(ValueError, match="swapped.json: 'reserved_ids'"):
        load_runner().LiteRTTranslator(copy)


def test_cli_writes_the_file_and_its_json(translator, tmp_path, capsys):
    translator.save(tmp_path / "model")
    out = tmp_path / "date.tflite"
    assert (
        cli.main(
            [
                "export-litert",
                "--model",
                str(tmp_path / "model"),
                "--out",
                str(out),
                "--beam",
                "2",
                "--quantize",
                "none",
            ]
        )
        == 0
    )
    assert f"LiteRT file written to {out}" in capsys.readouterr().out
    metadata = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert (metadata["beam_width"], metadata["n_best"], metadata["quantize"]) == (2, 2, "none")
    assert metadata["source"]["vocabulary"] == translator.source_vectorizer.vocabulary
    assert metadata["max_output_length"] == translator.max_output_length
    # Batches of 1 (the default), beam search of width 2, through the runner.
    texts = [source for source, _ in date_splits(0, 8, seed=5)[1]] + ["", "日本"]
    assert (
        load_runner().LiteRTTranslator(out).translate(texts)
        == translator.translate(texts, beam_width=2)["translation"]
    )


@pytest.mark.parametrize(
    "arguments,message",
    [
        (
            ["--out", "model.tfl"],
            "--out: expected a file name ending in .tflite, received model.tfl",
        ),
        (["--out", "missing/model.tflite"], "--out: folder missing does not exist"),
        (
            ["--out", "m.tflite", "--beam", "2", "--n-best", "3"],
            "--n-best: expected at most --beam (2): a beam search keeps only that many hypotheses, "
            "received 3",
        ),
    ],
)
def test_cli_refuses_bad_arguments_in_one_line(tmp_path, capsys, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["export-litert", "--model", str(tmp_path), *arguments]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.strip() == f"keras-attention: error: {message}"


def test_bad_options_fail_before_converting(translator):
    with pytest.raises(ValueError, match="`quantize` must be one of"):
        litert.convert(translator, quantize="int4")
    with pytest.raises(ValueError, match="batch_size"):
        litert.convert(translator, batch_size=0)
    with pytest.raises(ValueError, match="`n_best` must be at most `beam_width`"):
        litert.convert(translator, beam_width=2, n_best=3)


def test_conversion_on_another_backend_says_to_use_tensorflow(translator, monkeypatch):
    monkeypatch.setattr(litert.keras.backend, "backend", lambda: "jax")
    with pytest.raises(
        ValueError, match=r"run it on the TensorFlow backend \(KERAS_BACKEND=tensorflow\), not jax"
    ):
        litert.convert(translator)
