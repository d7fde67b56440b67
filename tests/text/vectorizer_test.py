import json
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from keras_attention.text import TextVectorizer
from keras_attention.tokens import END_ID
from keras_attention.tokens import PAD_ID
from keras_attention.tokens import START_ID
from keras_attention.tokens import UNK_ID

pytestmark = pytest.mark.tensorflow_only


def nfkc(text):
    return unicodedata.normalize("NFKC", text)


def decode(vectorizer, ids):
    return [t.decode("utf-8") for t in vectorizer.decode(ids).numpy()]


def test_reserved_ids_come_first():
    vectorizer = TextVectorizer.from_texts(["abc"])
    assert vectorizer.vocabulary[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    assert (PAD_ID, UNK_ID, START_ID, END_ID) == (0, 1, 2, 3)


@pytest.mark.parametrize(
    "text", ["나는 학생이다", "I am a student", "september 27, 1994", "日本語テキスト"]
)
def test_character_round_trip(text):
    vectorizer = TextVectorizer.from_texts([text])
    ids = vectorizer.encode([text], add_start=True, add_end=True)
    assert ids[0, 0] == START_ID and ids[0, -1] == END_ID
    assert decode(vectorizer, ids.to_tensor()) == [text]


def test_word_round_trip_with_korean():
    vectorizer = TextVectorizer.from_texts(["나는 학생이다", "I am a student"], split="words")
    tokens = vectorizer.tokenize(tf.constant(["나는 학생이다"])).to_list()[0]
    assert [t.decode() for t in tokens] == ["나는", "학생이다"]
    ids = vectorizer.encode(["나는 학생이다", "I am a student"], add_end=True).to_tensor()
    assert decode(vectorizer, ids) == ["나는 학생이다", "I am a student"]


def test_words_split_punctuation_into_tokens():
    vectorizer = TextVectorizer.from_texts(["Hello, world!"], split="words")
    tokens = vectorizer.tokenize(tf.constant(["Hello, world!"])).to_list()[0]
    assert [t.decode() for t in tokens] == ["Hello", ",", "world", "!"]


def test_nfkc_normalisation_and_case_folding():
    vectorizer = TextVectorizer.from_texts(["abc 12"], lowercase=True)
    # Full-width digits and letters are NFKC-equal to ASCII ones.
    ids = vectorizer.encode(["ＡＢＣ １２"]).to_tensor()
    assert decode(vectorizer, ids) == ["abc 12"]


def test_unknown_tokens_map_to_unk_and_decoding_stops_at_end():
    vectorizer = TextVectorizer.from_texts(["ab"], max_length=10)
    ids = vectorizer.encode(["abz"]).to_tensor().numpy()[0]
    assert ids[-1] == UNK_ID
    after_end = tf.constant([[START_ID, ids[0], END_ID, ids[1], PAD_ID]])
    assert decode(vectorizer, after_end) == ["a"]


def test_max_length_truncates():
    vectorizer = TextVectorizer.from_texts(["abcd"], max_length=2)
    assert vectorizer.encode(["abcd"], add_end=True).to_list() == [
        [vectorizer.vocabulary.index("a"), vectorizer.vocabulary.index("b"), END_ID]
    ]
    assert TextVectorizer.from_texts(["abcd", "ab"]).max_length == 4


def test_invalid_utf8_nul_and_empty_strings_never_fail():
    vectorizer = TextVectorizer.from_texts(["abc"])
    ids = vectorizer.encode(tf.constant([b"a\xffb", b"a\x00b", b""]))
    assert ids.row_lengths().numpy().tolist() == [3, 3, 0]
    assert ids.to_list()[0][1] == UNK_ID


def test_save_and_load_round_trip(tmp_path):
    vectorizer = TextVectorizer.from_texts(["나는 학생이다"], split="words", lowercase=True)
    vectorizer.save(tmp_path / "vocabulary.json")
    loaded = TextVectorizer.load(tmp_path / "vocabulary.json")
    assert loaded.get_config() == vectorizer.get_config()


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"vocabulary": ["a", "b"]}, "must start with the reserved tokens"),
        ({"vocabulary": ["[PAD]", "[UNK]", "[START]", "[END]", "a", "a"]}, "duplicates: ['a']"),
        (
            {"vocabulary": ["[PAD]", "[UNK]", "[START]", "[END]"], "split": "bytes"},
            "Received: split='bytes'",
        ),
        (
            {"vocabulary": ["[PAD]", "[UNK]", "[START]", "[END]"], "max_length": 0},
            "Received: max_length=0",
        ),
    ],
)
def test_bad_arguments_fail_clearly(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        TextVectorizer(**kwargs)
    assert fragment in str(info.value)


def test_no_texts_fails_clearly():
    with pytest.raises(ValueError, match="at least one text"):
        TextVectorizer.from_texts([])


def test_max_tokens_keeps_the_most_frequent_and_reads_the_rest_as_unknown():
    vectorizer = TextVectorizer.from_texts(["aaab", "aab", "c"], max_tokens=5)
    assert vectorizer.vocabulary == ["[PAD]", "[UNK]", "[START]", "[END]", "a"]
    assert vectorizer.encode(tf.constant(["abc"])).to_list() == [[4, UNK_ID, UNK_ID]]
    with pytest.raises(ValueError, match="Received: max_tokens=4"):
        TextVectorizer.from_texts(["a"], max_tokens=4)


# Every script and kind of character a subword vocabulary must carry back.
MIXED_SCRIPTS = [
    "Dios es amor: ¿cuánto? ¡Mucho! El niño comió pingüino.",
    "나는 학생이다",
    "東京は日本の首都です。",
    "Привет, мир! Это тест.",
    "Prices: 1,234.56 € in 2026 (−5 %)",
    "Emoji 😀👍 and «quotes» — dashes… “curly”",
]


@pytest.fixture(scope="module")
def subwords():
    return TextVectorizer.from_texts(MIXED_SCRIPTS * 10, split="subwords", max_tokens=400)


def test_subwords_round_trip_every_script(subwords):
    assert subwords.vocabulary[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    ids = subwords.encode(MIXED_SCRIPTS, add_start=True, add_end=True)
    assert ids[0, 0] == START_ID and ids[0, -1] == END_ID
    # Back as written, after the NFKC normalisation every split applies ("…" is "...").
    assert decode(subwords, ids.to_tensor()) == [nfkc(text) for text in MIXED_SCRIPTS]
    # Pieces mark a word's start with "▁"; several characters can be one piece.
    pieces = [t.decode() for t in subwords.tokenize(["Dios es amor"]).to_list()[0]]
    assert "".join(pieces).replace("▁", " ").strip() == "Dios es amor"


def test_subwords_carry_unseen_characters_as_bytes(subwords):
    unseen = "Straße ẞ 🦀 ∑ ᚠ"
    ids = subwords.encode([unseen])
    assert UNK_ID not in ids.flat_values.numpy()
    assert decode(subwords, ids.to_tensor()) == [nfkc(unseen)]
    tokens = [t.decode() for t in subwords.tokenize([unseen]).flat_values.numpy()]
    assert "<0xF0>" in tokens  # the crab's first UTF-8 byte


def test_subwords_survive_saving_loading_and_a_reset_seed(subwords, tmp_path):
    subwords.save(tmp_path / "vocabulary.json")
    loaded = TextVectorizer.load(tmp_path / "vocabulary.json")
    assert loaded.get_config() == subwords.get_config()
    expected = subwords.encode(MIXED_SCRIPTS).to_list()
    # tf.random.set_seed clears the eager kernel cache, where tensorflow-text
    # keeps a tokenizer's model if it is made once, eagerly.
    tf.random.set_seed(7)
    assert loaded.encode(MIXED_SCRIPTS).to_list() == expected
    graph_encode = tf.function(lambda texts: loaded.encode(texts).to_tensor())
    first = graph_encode(tf.constant(MIXED_SCRIPTS)).numpy()
    tf.random.set_seed(8)
    np.testing.assert_array_equal(graph_encode(tf.constant(MIXED_SCRIPTS)).numpy(), first)


def test_subwords_are_the_same_model_from_the_same_texts(subwords):
    again = TextVectorizer.from_texts(MIXED_SCRIPTS * 10, split="subwords", max_tokens=400)
    assert again.get_config() == subwords.get_config()


def test_a_stream_of_texts_builds_what_a_list_builds(subwords):
    words = TextVectorizer.from_texts(MIXED_SCRIPTS * 3, split="words")
    assert TextVectorizer.from_texts(iter(MIXED_SCRIPTS * 3), split="words").get_config() == (
        words.get_config()
    )
    # Subwords read the texts twice (the second pass measures the longest).
    streamed = TextVectorizer.from_texts(
        (text for text in MIXED_SCRIPTS * 10), split="subwords", max_tokens=400
    )
    assert streamed.get_config() == subwords.get_config()
    with pytest.raises(ValueError, match="at least one text"):
        TextVectorizer.from_texts(iter([]), split="subwords")


def test_the_sentencepiece_sample_is_a_seeded_uniform_reservoir():
    from keras_attention.text.vectorizer import _Reservoir

    small = _Reservoir(5)
    small.extend(["a", "b", "c"])
    assert small.texts == ["a", "b", "c"] and small.seen == 3
    draws = []
    for seed in range(400):
        reservoir = _Reservoir(10, seed=seed)
        reservoir.extend(range(100))
        assert len(reservoir.texts) == 10 and reservoir.seen == 100
        draws += reservoir.texts
    again = _Reservoir(10, seed=0)
    again.extend(range(100))
    assert again.texts == draws[:10]
    # Each of the 100 is kept with probability 1/10: 40 times in 400 draws.
    counts = np.bincount(draws, minlength=100)
    assert 15 < counts.min() and counts.max() < 70 and abs(counts[:50].sum() - 2000) < 200


def shares_gathered(texts, halves=2, **kwargs):
    """`from_texts` on the first share of `texts`, gathering what it built
    from every share (as workers do), each share read by its own call."""
    shares = [texts[index::halves] for index in range(halves)]
    # The other shares first, each as a worker that keeps what it sends,
    # call after call (subwords gather twice: samples, then lengths).
    summaries = {index: [] for index in range(1, halves)}
    for index in range(1, halves):

        def keep(summary, index=index):
            summaries[index].append(summary)
            return [summary]

        TextVectorizer.from_texts(shares[index], gather=keep, **kwargs)
    sent = []

    def gather(summary):
        sent.append(summary)
        others = [summaries[index][len(sent) - 1] for index in range(1, halves)]
        return [summary, *others]

    return TextVectorizer.from_texts(shares[0], gather=gather, **kwargs), sent


@pytest.mark.parametrize("split", ["characters", "words"])
def test_workers_that_read_their_own_shares_build_the_vocabulary_of_all(split):
    texts = MIXED_SCRIPTS * 2 + ["only in the second share: Ωμέγα"]
    whole = TextVectorizer.from_texts(texts, split=split, max_tokens=60)
    pooled, sent = shares_gathered(texts, split=split, max_tokens=60)
    assert pooled.get_config() == whole.get_config()
    assert pooled.longest_seen == whole.longest_seen
    # What a worker sends is its own share's: counts, not texts.
    assert sent[0]["seen"] == len(texts[0::2]) and "Ωμέγα" not in json.dumps(sent[0])


def test_workers_pool_their_subword_samples():
    texts = MIXED_SCRIPTS * 10
    whole = TextVectorizer.from_texts(texts, split="subwords", max_tokens=400)
    pooled, sent = shares_gathered(texts, split="subwords", max_tokens=400)
    # All texts fit one sample: the pooled one holds them all, and the model
    # learns the same pieces (their order in the sample differs).
    assert sorted(pooled.vocabulary) == sorted(whole.vocabulary)
    assert pooled.max_length == whole.max_length
    # Its own share's sample, then its longest text in pieces.
    assert len(sent[0]["texts"]) == 30 and isinstance(sent[1], int)


def test_a_pooled_sample_draws_from_each_share_by_its_size():
    from keras_attention.text.vectorizer import _Reservoir

    shares = [{"texts": ["a"] * 10, "seen": 300}, {"texts": ["b"] * 10, "seen": 100}]
    merged = _Reservoir.merged(shares, size=8)
    assert merged.seen == 400 and sorted(merged.texts) == ["a"] * 6 + ["b"] * 2
    fits = _Reservoir.merged(shares, size=20)
    assert fits.texts == ["a"] * 10 + ["b"] * 10


def test_subword_vocabulary_too_small_names_the_size_needed():
    with pytest.raises(ValueError) as info:
        TextVectorizer.from_texts(MIXED_SCRIPTS, split="subwords", max_tokens=100)
    message = str(info.value)
    assert "`max_tokens` must be at least" in message and "Received: max_tokens=100" in message


def test_subwords_need_their_model_and_only_they():
    reserved = ["[PAD]", "[UNK]", "[START]", "[END]"]
    with pytest.raises(ValueError, match="must be given with split='subwords'"):
        TextVectorizer(reserved, split="subwords")
    with pytest.raises(ValueError, match="must be given with split='subwords'"):
        TextVectorizer(reserved, split="words", sentencepiece_model=b"model")


def test_subwords_as_written_is_what_decoding_writes(subwords):
    written = subwords.as_written(tf.constant(["  Dios   es amor  ", "Ｆｕｌｌ"])).numpy()
    assert [t.decode() for t in written] == ["Dios es amor", "Full"]  # NFKC, spaces collapsed
