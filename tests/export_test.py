import json
import random
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the ops the SavedModel's graph uses)

from keras_attention.data.generators import date_pairs
from keras_attention.export import export_saved_model
from keras_attention_cli import main as cli
from keras_attention_cli.tsv import write_pairs

pytestmark = pytest.mark.tensorflow_only

ROOT = Path(__file__).resolve().parent.parent
BEAM_WIDTH = 3

# Runs in a fresh interpreter where keras_attention cannot be imported: only
# TensorFlow and tensorflow-text serve the models. Reads `{name: [saved
# model, texts]}` from stdin and prints `{name: outputs}`: every model of
# the file in one process, so the tests pay TensorFlow's import once.
LOAD_AND_TRANSLATE = r"""
import json, sys
sys.modules["keras_attention"] = None  # any import of it now fails
import tensorflow as tf
import tensorflow_text  # registers the tensorflow-text ops the graph uses
try:
    import keras_attention
    raise SystemExit("keras_attention was importable")
except ImportError:
    pass

def serve(path, texts):
    model = tf.saved_model.load(path)
    result = {}
    for name in ("serving_default", "beam_search"):
        outputs = model.signatures[name](text=tf.constant(texts, tf.string))
        result[name] = {
            "translation": [t.decode("utf-8") for t in outputs["translation"].numpy()],
            "attention_weights_shape": list(outputs["attention_weights"].shape),
            "token_ids_dtype": outputs["token_ids"].dtype.name,
        }
        if name == "beam_search":
            result[name]["n_best_translations"] = [
                [t.decode("utf-8") for t in row] for row in outputs["n_best_translations"].numpy()
            ]
            result[name]["n_best_scores"] = outputs["n_best_scores"].numpy().tolist()
    return result

jobs = json.loads(sys.stdin.read())
print(json.dumps({name: serve(path, texts) for name, (path, texts) in jobs.items()}))
"""

# saved_model_cli's own program, in a process that has loaded tensorflow-text's
# op library first (the installed `saved_model_cli` script never does).
SAVED_MODEL_CLI = (
    "import tensorflow_text; from tensorflow.python.tools.saved_model_cli import main; main()"
)


def serve_in_a_fresh_process(jobs, folder):
    """`LOAD_AND_TRANSLATE`'s outputs for `jobs` (`{name: (saved_model,
    texts)}`), run in `folder`."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_TRANSLATE],
        input=json.dumps({name: [str(path), texts] for name, (path, texts) in jobs.items()}),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def small_translator(date_translator):
    return date_translator


@pytest.fixture(scope="module")
def saved_model(small_translator, tmp_path_factory):
    return export_saved_model(
        small_translator, tmp_path_factory.mktemp("export") / "saved_model", beam_width=BEAM_WIDTH
    )


@pytest.fixture(scope="module")
def served(saved_model):
    return tf.saved_model.load(str(saved_model))


@pytest.fixture(scope="module")
def date_test_pairs():
    return date_pairs(500, seed=11)


@pytest.fixture(scope="module")
def subword_translator():
    from keras_attention import training
    from tests.toy_text import toy_sentences

    keras.utils.set_random_seed(0)  # module fixtures run before each test's own seeding
    pairs = toy_sentences(200, seed=3) + [("나는 학생이다 😀", "I am a student 😀")] * 5
    translator = training.build_translator(
        pairs, split="subwords", vocabulary_size=300, units=16, embedding_dim=8
    )
    training.fit(translator, pairs, epochs=1, batch_size=32, verbose=0)
    return translator


@pytest.fixture(scope="module")
def input_feeding_translator():
    from tests.trained import train_input_feeding_translator

    keras.utils.set_random_seed(0)  # module fixtures run before each test's own seeding
    return train_input_feeding_translator(date_pairs(300, seed=5))


SUBWORD_TEXTS = ["uno gato rojo.", "나는 학생이다 😀", "Straße 🦀", "", "dos " * 300]
HOSTILE_DATES = ["", "   ", "日本", "9/27/94" * 500]


@pytest.fixture(scope="module")
def served_fresh(
    saved_model, date_test_pairs, subword_translator, input_feeding_translator, tmp_path_factory
):
    """What a fresh process without the package serves, for the date model
    (500 test sources and hostile texts), the subword model and the
    input-feeding model: `{name: outputs}` (`LOAD_AND_TRANSLATE`)."""
    folder = tmp_path_factory.mktemp("served_fresh")
    dates = [source for source, _ in date_test_pairs] + HOSTILE_DATES
    jobs = {
        "dates": (saved_model, dates),
        "subwords": (export_saved_model(subword_translator, folder / "subwords", beam_width=2),
                     SUBWORD_TEXTS),
        "input_feeding": (
            export_saved_model(input_feeding_translator, folder / "input_feeding", beam_width=2),
            [source for source, _ in date_pairs(6, seed=6)],
        ),
    }  # fmt: skip
    served = serve_in_a_fresh_process(jobs, folder)
    return {name: dict(served[name], texts=texts) for name, (_, texts) in jobs.items()}


def test_fresh_process_without_the_package_gives_the_same_strings_and_exact_match(
    small_translator, served_fresh, date_test_pairs, tmp_path, capsys
):
    served, test_pairs = served_fresh["dates"], date_test_pairs
    texts = served["texts"]
    assert (
        served["serving_default"]["translation"] == small_translator.translate(texts)["translation"]
    )
    n_best = small_translator.translate(texts, beam_width=BEAM_WIDTH, n_best=BEAM_WIDTH)
    assert served["beam_search"]["translation"] == n_best["translation"]
    # The n-best list (n_best defaults to the beam width at export).
    assert served["beam_search"]["n_best_translations"] == n_best["n_best_translations"]
    np.testing.assert_allclose(
        served["beam_search"]["n_best_scores"], n_best["n_best_scores"], rtol=1e-5, atol=1e-6
    )
    assert all(
        row[0] == best for row, best in zip(n_best["n_best_translations"], n_best["translation"])
    )
    assert np.all(np.diff(n_best["n_best_scores"], axis=1) <= 1e-6)
    shape = served["serving_default"]["attention_weights_shape"]
    assert shape[0] == len(texts) and shape[2] == small_translator.source_vectorizer.max_length
    assert served["serving_default"]["token_ids_dtype"] == "int32"

    # The same exact match as `keras-attention evaluate` on the same pairs.
    small_translator.save(tmp_path / "model")
    write_pairs(tmp_path / "test.tsv", test_pairs)
    capsys.readouterr()
    code = cli.main(["evaluate", "--model", str(tmp_path / "model"),
                     "--data", str(tmp_path / "test.tsv")])  # fmt: skip
    evaluated = capsys.readouterr()
    assert code == 0, evaluated.err[-3000:]
    reported = float(re.search(r"exact match: ([\d.]+)%", evaluated.out).group(1))
    greedy = served["serving_default"]["translation"][: len(test_pairs)]
    served_exact = 100 * np.mean([out == target for out, (_, target) in zip(greedy, test_pairs)])
    assert f"{served_exact:.2f}" == f"{reported:.2f}"
    assert 5 < reported  # a model that has learned something, so the comparison means something


def _run_saved_model_cli(*args):
    return subprocess.run(
        [sys.executable, "-c", SAVED_MODEL_CLI, *args], capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize("signature", ["serving_default", "beam_search"])
def test_saved_model_cli_runs_the_signatures_as_tensorflow_serving_loads_them(
    small_translator, saved_model, signature
):
    # `saved_model_cli run` loads with the TF1 loader, as TensorFlow Serving's
    # C++ server does; it failed with "Could not find variable" before the
    # export tracked the Keras variables.
    texts = ["september 27, 1994", "1/2/03", ""]
    result = _run_saved_model_cli(
        "run",
        "--dir",
        str(saved_model),
        "--tag_set",
        "serve",
        "--signature_def",
        signature,
        "--input_exprs",
        f"text={texts!r}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.split("Result for output key translation:")[1].strip().splitlines()[0]
    expected = small_translator.translate(
        texts, beam_width=1 if signature == "serving_default" else BEAM_WIDTH
    )
    assert printed == str(
        np.array([t.encode("utf-8") for t in expected["translation"]], dtype=object)
    )


def test_saved_model_cli_show_lists_both_signatures(saved_model):
    shown = _run_saved_model_cli("show", "--all", "--dir", str(saved_model))
    assert shown.returncode == 0, shown.stderr[-3000:]
    for name in ("serving_default", "beam_search"):
        assert f"signature_def['{name}']" in shown.stdout
    assert "dtype: DT_STRING" in shown.stdout and "name: serving_default_text:0" in shown.stdout


# Lists the graph's ops that core TensorFlow does not register, in a process
# that has not loaded tensorflow-text.
NON_CORE_OPS = r"""
import json, sys
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.framework import op_def_registry
saved = saved_model_pb2.SavedModel()
with open(sys.argv[1] + "/saved_model.pb", "rb") as f:
    saved.ParseFromString(f.read())
graph = saved.meta_graphs[0].graph_def
ops = {node.op for node in graph.node}
ops |= {node.op for function in graph.library.function for node in function.node_def}
print(json.dumps(sorted(op for op in ops if op_def_registry.get(op) is None)))
"""


def test_the_graph_uses_core_ops_except_nfkc_normalisation(saved_model):
    result = subprocess.run(
        [sys.executable, "-c", NON_CORE_OPS, str(saved_model)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["NormalizeUTF8"]


def _fuzz_inputs(max_length, count=1200, seed=0):
    """Random bytes (mostly invalid UTF-8), random Unicode from every plane,
    NUL and control characters, whitespace, and edge lengths."""
    rng = random.Random(seed)
    planes = [
        (0x20, 0x7F),
        (0x80, 0x2FF),
        (0x300, 0x36F),
        (0x590, 0x6FF),
        (0x1100, 0x11FF),
        (0x3000, 0x30FF),
        (0xAC00, 0xD7A3),
        (0xFF00, 0xFFEF),
        (0x1F300, 0x1FAFF),
        (0x10000, 0x10FFFF),
        (0x0, 0x1F),
    ]
    edge_lengths = [0, 1, max_length - 1, max_length, max_length + 1, 10_000]
    inputs = []
    for i in range(count):
        kind = i % 5
        length = rng.choice(edge_lengths) if i % 7 == 0 else rng.randint(0, 80)
        if kind == 0:
            inputs.append(bytes(rng.randrange(256) for _ in range(length)))
        elif kind == 1:
            low, high = rng.choice(planes)
            chars = [chr(rng.randint(low, high)) for _ in range(length)]
            inputs.append(
                "".join(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF).encode("utf-8")
            )
        elif kind == 2:
            inputs.append(
                rng.choice(["\x00", "\t", " ", "\u3000", "\n", "\u200b"]).encode("utf-8") * length
            )
        elif kind == 3:
            source = date_pairs(1, seed=i)[0][0]
            cut = rng.randint(0, len(source))
            inputs.append((source[:cut] + "\x00" + source[cut:]).encode("utf-8"))
        else:
            inputs.append(("9/27/94 " * (length // 8 + 1))[:length].encode("utf-8"))
    return inputs


def test_fuzzed_inputs_give_one_valid_utf8_output_each_and_match_the_package(
    small_translator, served
):
    inputs = _fuzz_inputs(small_translator.source_vectorizer.max_length)
    assert len(inputs) >= 1000
    rng = random.Random(1)
    for signature in ("serving_default", "beam_search"):
        start = 0
        while start < len(inputs):
            size = rng.choice([1, 2, 7, 64, 200])  # wildly mixed lengths share a batch
            batch = inputs[start : start + size]
            outputs = served.signatures[signature](text=tf.constant(batch, tf.string))
            translations = outputs["translation"].numpy()
            assert translations.shape == (len(batch),)
            for text in translations:
                text.decode("utf-8")  # strict: raises on invalid UTF-8
            assert outputs["token_ids"].shape[0] == len(batch)
            weights = outputs["attention_weights"].numpy()
            assert weights.shape[0] == len(batch) and np.isfinite(weights).all()
            assert (weights.sum(axis=-1) <= 1 + 1e-4).all()
            start += size
    expected = small_translator.translate(inputs)["translation"]
    outputs = served.signatures["serving_default"](text=tf.constant(inputs))
    assert [t.decode("utf-8") for t in outputs["translation"].numpy()] == expected


def test_zero_strings_and_long_inputs(small_translator, served):
    outputs = served.signatures["serving_default"](text=tf.constant([], tf.string))
    assert outputs["translation"].shape == (0,) and outputs["token_ids"].shape[0] == 0
    max_length = small_translator.source_vectorizer.max_length
    long_text = "tuesday, september 27, 1994" + "x" * 10_000
    outputs = served.signatures["beam_search"](
        text=tf.constant([long_text, long_text[:max_length]])
    )
    first, truncated = outputs["translation"].numpy()
    assert first == truncated  # documented: characters past max_length are dropped


@pytest.mark.parametrize(
    "bad, error, fragment",
    [
        (
            tf.constant([1, 2]),
            tf.errors.InvalidArgumentError,
            "expected to be a string tensor but is a int32",
        ),
        (
            tf.constant([["a", "b"]]),
            tf.errors.InvalidArgumentError,
            "`text` must be a 1-D batch of strings, shape [batch]; received a tensor of shape] "
            "[1 2]",
        ),
        (
            tf.constant("a"),
            tf.errors.InvalidArgumentError,
            "`text` must be a 1-D batch of strings, shape [batch]; received a tensor of shape] []",
        ),
    ],
)
def test_wrong_dtype_or_rank_is_refused_clearly(served, bad, error, fragment):
    for signature in ("serving_default", "beam_search"):
        with pytest.raises(error) as raised:
            served.signatures[signature](text=bad)
        assert fragment in str(raised.value)


def _documented_json_blocks(section):
    text = (ROOT / "docs" / "serving.md").read_text(encoding="utf-8")
    body = re.split(r"\n##+ ", text.split(f"## {section}\n", 1)[1])[0]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", body, re.S)]


def _json_value(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value.tolist()


def test_documented_rest_request_gives_the_documented_response_shape(served):
    request, documented = _documented_json_blocks("TensorFlow Serving")
    # TensorFlow Serving's row format: with one named input, `instances` is
    # the list of its values; the response lists one dict of outputs each.
    outputs = served.signatures[request["signature_name"]](text=tf.constant(request["instances"]))
    columns = {name: value.numpy() for name, value in outputs.items()}
    response = {
        "predictions": [
            {name: _json_value(column[row]) for name, column in columns.items()}
            for row in range(len(request["instances"]))
        ]
    }
    assert (
        len(response["predictions"]) == len(documented["predictions"]) == len(request["instances"])
    )
    for got, shown, _text in zip(
        response["predictions"], documented["predictions"], request["instances"]
    ):
        assert sorted(got) == sorted(shown) == ["attention_weights", "token_ids", "translation"]
        assert isinstance(got["translation"], str) and isinstance(shown["translation"], str)
        for prediction in (got, shown):
            assert all(isinstance(i, int) for i in prediction["token_ids"])
            assert len(prediction["attention_weights"]) == len(prediction["token_ids"])
            longest = max(len(t) for t in request["instances"])
            assert {len(row) for row in prediction["attention_weights"]} == {longest}


def test_bad_beam_width_is_refused(small_translator, tmp_path):
    with pytest.raises(ValueError, match="Received: beam_width=0"):
        export_saved_model(small_translator, tmp_path / "saved_model", beam_width=0)
    with pytest.raises(ValueError, match=r"at most `beam_width` \(2\).*Received: n_best=3"):
        export_saved_model(small_translator, tmp_path / "saved_model", beam_width=2, n_best=3)


def test_n_best_is_fixed_at_export(small_translator, tmp_path):
    served = tf.saved_model.load(
        str(export_saved_model(small_translator, tmp_path / "saved_model", beam_width=3, n_best=2))
    )
    outputs = served.signatures["beam_search"](text=tf.constant(["1/2/03", "may 5, 2001", ""]))
    assert outputs["n_best_translations"].shape == (3, 2) and outputs["n_best_scores"].shape == (
        3,
        2,
    )
    assert (
        outputs["n_best_translations"].dtype == tf.string
        and outputs["n_best_scores"].dtype == tf.float32
    )


def test_keras_model_export_serves_the_training_model(small_translator, tmp_path):
    model = small_translator.model
    model.export(str(tmp_path / "keras_export"))
    reloaded = tf.saved_model.load(str(tmp_path / "keras_export"))
    source_ids = small_translator.source_ids(["september 27, 1994", "1/2/03"]).numpy()
    decoder_ids = np.array([[2, 5, 6, 7], [2, 8, 0, 0]], "int32")
    expected = model.predict([source_ids, decoder_ids], verbose=0)
    np.testing.assert_allclose(
        reloaded.serve([source_ids, decoder_ids]).numpy(), expected, atol=1e-5
    )


def test_saved_model_holds_each_weight_once_and_no_optimizer_state(small_translator, saved_model):
    saved = dict(tf.train.list_variables(str(saved_model / "variables" / "variables")))
    assert not [name for name in saved if "optimizer" in name]
    stored = sum(
        int(np.prod(shape))
        for name, shape in saved.items()
        if name != "_CHECKPOINTABLE_OBJECT_GRAPH"
    )
    weights = sum(int(np.prod(variable.shape)) for variable in small_translator.model.variables)
    assert stored == weights


@pytest.mark.parametrize("name", ["subwords", "input_feeding"])
def test_subword_and_input_feeding_models_serve_the_same_strings_without_the_package(
    name, served_fresh, subword_translator, input_feeding_translator
):
    translator = {"subwords": subword_translator, "input_feeding": input_feeding_translator}[name]
    served, texts = served_fresh[name], served_fresh[name]["texts"]
    assert served["serving_default"]["translation"] == translator.translate(texts)["translation"]
    beam = translator.translate(texts, beam_width=2, n_best=2)
    assert served["beam_search"]["n_best_translations"] == beam["n_best_translations"]
