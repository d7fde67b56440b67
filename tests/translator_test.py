import logging
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_attention import training
from keras_attention.translator import Translator

pytestmark = pytest.mark.tensorflow_only

KOREAN_ENGLISH = [
    ("나는 학생이다", "I am a student"),
    ("나는 선생님이다", "I am a teacher"),
    ("너는 학생이다", "you are a student"),
    ("너는 선생님이다", "you are a teacher"),
]


@pytest.fixture(scope="module")
def korean_translator():
    keras.utils.set_random_seed(0)
    translator = training.build_translator(
        KOREAN_ENGLISH, split="words", units=32, embedding_dim=16
    )
    training.fit(
        translator, KOREAN_ENGLISH * 160, epochs=3, batch_size=8, verbose=0, learning_rate=0.01
    )
    return translator


def test_a_tiny_word_level_model_learns_korean_to_english(korean_translator):
    result = korean_translator.translate([source for source, _ in KOREAN_ENGLISH])
    assert result["translation"] == [target for _, target in KOREAN_ENGLISH]
    assert training.evaluate(korean_translator, KOREAN_ENGLISH)["exact_match"] == 1.0


def test_attention_weights_cover_the_source_tokens(korean_translator):
    result = korean_translator.translate(["나는 학생이다"])
    weights = result["attention_weights"][0]
    assert weights.shape[1] == 2  # two source words
    output_steps = len(korean_translator.target_tokens(result["token_ids"][0]))
    np.testing.assert_allclose(weights[:output_steps].sum(-1), 1.0, rtol=1e-5)
    assert korean_translator.source_tokens("나는 학생이다") == ["나는", "학생이다"]


def test_save_load_and_continue_training(korean_translator, tmp_path):
    korean_translator.save(tmp_path / "model")
    loaded = Translator.load(tmp_path / "model")
    sources = [source for source, _ in KOREAN_ENGLISH]
    expected = korean_translator.translate(sources)
    result = loaded.translate(sources)
    assert result["translation"] == expected["translation"]
    np.testing.assert_allclose(
        result["attention_weights"], expected["attention_weights"], atol=1e-6
    )
    # Training goes on from the loaded weights: the loss starts where it was.
    history = training.fit(
        loaded, KOREAN_ENGLISH * 4, epochs=1, batch_size=8, verbose=0, learning_rate=1e-4
    )
    assert history.history["loss"][0] < 0.1
    assert loaded.translate(sources)["translation"] == expected["translation"]
    assert not list((tmp_path / "model").glob(".*"))  # no temporary files left behind


def test_a_fresh_process_loads_a_saved_translator_by_itself(korean_translator, tmp_path):
    korean_translator.save(tmp_path / "model")
    script = (
        "import sys\n"
        "from keras_attention.translator import Translator\n"
        "print(Translator.load(sys.argv[1]).translate(['나는 학생이다'])['translation'][0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "model")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "I am a student"


def test_several_translators_and_searches_in_one_process_warn_of_no_retracing(
    korean_translator, caplog
):
    # Each translator and search is traced once, as it must be; TensorFlow's
    # warning counted them all as retracing one method ("5 out of the last
    # 5 calls to <bound method Translator.translate_tensors ...>").
    parts = (korean_translator.source_vectorizer, korean_translator.target_vectorizer)
    translators = [Translator(korean_translator.model, *parts) for _ in range(5)]
    logger = logging.getLogger("tensorflow")
    logger.addHandler(caplog.handler)
    try:
        for translator in translators:
            translator.translate(["나는 학생이다"])
        for width in (2, 3):
            translators[0].translate(["나는 학생이다", "너는 선생님이다"], beam_width=width)
            translators[0].translate(["너는 학생이다"], beam_width=width)
    finally:
        logger.removeHandler(caplog.handler)
    assert [r.getMessage() for r in caplog.records if "retracing" in r.getMessage()] == []
    # One trace a search, whatever the batch's size.
    assert translators[0]._translate_graph(2, None).experimental_get_tracing_count() == 1


def test_loading_a_folder_without_a_model_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing model.keras"):
        Translator.load(tmp_path)


G2P = [("read", "R IY D"), ("read", "R EH D"), ("cat", "K AE T"), ("nation", "N EY SH AH N")]


def test_tokens_per_side_round_trip_through_save_and_load(tmp_path):
    translator = training.build_translator(
        G2P, source_split="characters", target_split="words", units=8, embedding_dim=4
    )
    translator.save(tmp_path)
    for loaded in (translator, Translator.load(tmp_path)):
        assert loaded.source_vectorizer.split == "characters"
        assert loaded.target_vectorizer.split == "words"
        assert loaded.source_tokens("nation") == list("nation")
        assert set(loaded.target_vectorizer.vocabulary[4:]) == {
            "R",
            "IY",
            "D",
            "EH",
            "K",
            "AE",
            "T",
            "N",
            "EY",
            "SH",
            "AH",
        }
        # Phones are tokens: encoded one id each and written back joined with one space.
        ids = loaded.target_vectorizer.encode(["N  EY SH AH N"], add_end=True).to_tensor()
        assert ids.shape == (1, 6)
        assert loaded.target_vectorizer.decode(ids).numpy()[0].decode() == "N EY SH AH N"
        # Outputs are whole phones from the vocabulary, separated by single spaces.
        output = loaded.translate(["nation"])["translation"][0]
        assert output == " ".join(output.split())
        assert set(output.split()) <= set(loaded.target_vectorizer.vocabulary)


def test_split_sets_both_sides_unless_a_side_says_otherwise():
    both = training.build_translator(KOREAN_ENGLISH, split="words", units=8, embedding_dim=4)
    assert (both.source_vectorizer.split, both.target_vectorizer.split) == ("words", "words")
    mixed = training.build_translator(
        KOREAN_ENGLISH, split="words", source_split="characters", units=8, embedding_dim=4
    )
    assert (mixed.source_vectorizer.split, mixed.target_vectorizer.split) == ("characters", "words")


def test_n_best_lists_start_with_the_best_and_fall_in_score(korean_translator):
    sources = [source for source, _ in KOREAN_ENGLISH]
    result = korean_translator.translate(sources, beam_width=4, n_best=3)
    assert [row[0] for row in result["n_best_translations"]] == result["translation"]
    assert (
        result["translation"] == korean_translator.translate(sources, beam_width=4)["translation"]
    )
    assert all(len(set(row)) == 3 for row in result["n_best_translations"])
    scores = result["n_best_scores"]
    assert (
        scores.shape == (4, 3) and np.all(np.diff(scores, axis=1) <= 1e-6) and np.all(scores <= 0)
    )


def test_n_best_above_the_beam_width_is_refused(korean_translator):
    with pytest.raises(ValueError, match=r"at most `beam_width` \(2\).*Received: n_best=3"):
        korean_translator.translate(["나는 학생이다"], beam_width=2, n_best=3)
    with pytest.raises(ValueError, match=r"at most `beam_width` \(1\).*Received: n_best=2"):
        korean_translator.translate(["나는 학생이다"], n_best=2)
