import pytest

from keras_attention import scoring
from keras_attention.text.vectorizer import TextVectorizer
from keras_attention.tokens import RESERVED_TOKENS

pytestmark = pytest.mark.tensorflow_only

PHONES = TextVectorizer(list(RESERVED_TOKENS), split="words")
CHARACTERS = TextVectorizer(list(RESERVED_TOKENS), split="characters")


def test_group_references_keeps_every_pronunciation_of_a_word_once_in_file_order():
    pairs = [("read", "R IY D"), ("cat", "K AE T"), ("read", "R EH D"), ("read", "R IY D")]
    assert scoring.group_references(pairs) == (["read", "cat"], [["R IY D", "R EH D"], ["K AE T"]])


def test_an_output_is_right_if_it_equals_any_reference():
    result = scoring.score(["R EH D", "K AE T"], [["R IY D", "R EH D"], ["K AA T"]], PHONES)
    assert result["exact_match"] == 0.5 and result["wer"] == 0.5
    # Only the second word has an edit: K AA T -> K AE T is 1 substitution over 3 phones;
    # the first word's closest reference (R EH D, 3 phones) needs none.
    assert result["token_error_rate"] == pytest.approx(1 / 6)
    assert [entry["reference"] for entry in result["per_source"]] == ["R EH D", "K AA T"]


def test_token_error_rate_on_hand_worked_pairs():
    # nationhood: N EY SH AH N HH UH D (8 phones); output drops HH and swaps UH for AH:
    # 1 deletion + 1 substitution. cat: 1 insertion over 3 phones.
    hypotheses = ["N EY SH AH N AH D", "K AE T S"]
    references = [["N EY SH AH N HH UH D"], ["K AE T"]]
    result = scoring.score(hypotheses, references, PHONES)
    assert [entry["edits"] for entry in result["per_source"]] == [2, 1]
    assert result["token_error_rate"] == pytest.approx(3 / 11)
    assert result["wer"] == 1.0


def test_the_closest_reference_sets_the_length():
    # Against "AH B" (2 phones) one insertion; against "AH B S IY D" (5) two deletions.
    result = scoring.score(["AH B S"], [["AH B S IY D", "AH B"]], PHONES)
    assert result["per_source"][0] == {"correct": False, "edits": 1, "reference": "AH B"}
    assert result["token_error_rate"] == pytest.approx(1 / 2)


def test_characters_give_the_character_error_rate():
    result = scoring.score(["1994-09-27", ""], [["1994-09-27"], ["abc"]], CHARACTERS)
    assert result["exact_match"] == 0.5
    assert result["token_error_rate"] == pytest.approx(3 / 13)  # an empty output: 3 deletions


def test_phones_are_compared_as_tokens_not_characters():
    # AH and AA differ by one character but are one phone apart: one edit over 2 phones.
    result = scoring.score(["AH T"], [["AA T"]], PHONES)
    assert result["per_source"][0]["edits"] == 1 and result["token_error_rate"] == 0.5


@pytest.mark.parametrize(
    "hypotheses, references, message",
    [
        (["a"], [["a"], ["b"]], "1 hypotheses and 2 reference lists"),
        (["a"], [[]], "at least one reference"),
        ([], [], "nothing to score"),
    ],
)
def test_mismatched_or_empty_inputs_are_refused(hypotheses, references, message):
    with pytest.raises(ValueError, match=message):
        scoring.score(hypotheses, references, PHONES)


def test_oracle_exact_match_counts_a_source_if_any_of_its_n_best_is_right():
    references = [["R IY D", "R EH D"], ["K AE T"], ["D AO G"]]
    n_best = [["R AY D", "R EH D"], ["K AE T", "K AA T"], ["D AA G", "D OW G"]]
    # read: the second hypothesis is a reference; cat: the first; dog: neither.
    assert scoring.oracle_exact_match(n_best, references, PHONES) == pytest.approx(2 / 3)
    assert scoring.oracle_exact_match(
        [row[:1] for row in n_best], references, PHONES
    ) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r"as many hypotheses; received lists of lengths \[1, 2\]"):
        scoring.oracle_exact_match(
            [["R EH D"], ["K AE T", "K AA T"], ["D AO G"]], references, PHONES
        )


def test_bleu_of_a_hand_worked_pair():
    # Hypothesis and reference both 6 words long (brevity penalty 1).
    # n-gram matches: 5/6 unigrams, 3/5 bigrams (the cat, cat sat, sat on),
    # 2/4 trigrams, 1/3 4-grams: BLEU = (5/6 * 3/5 * 1/2 * 1/3) ** (1/4).
    scores = scoring.sentence_scores(["the cat sat on the mat"], [["the cat sat on a mat"]])
    assert scores["bleu"] == pytest.approx(100 * (5 / 6 * 3 / 5 * 1 / 2 * 1 / 3) ** 0.25)
    assert scores["bleu"] == pytest.approx(53.7284965911771)


def test_chrf_is_sacrebleus_and_bounded_by_identity_and_disjointness():
    import sacrebleu

    hypotheses = ["the cat sat on the mat", "dogs bark"]
    references = [["the cat sat on a mat"], ["a dog barks"]]
    scores = scoring.sentence_scores(hypotheses, references)
    expected = sacrebleu.corpus_chrf(hypotheses, [[refs[0] for refs in references]]).score
    assert scores["chrf"] == pytest.approx(expected)
    assert 0 < scores["chrf"] < 100
    assert scoring.sentence_scores(["four words said twice"], [["four words said twice"]]) == {
        "bleu": pytest.approx(100),
        "chrf": pytest.approx(100),
    }
    assert scoring.sentence_scores(["xyz"], [["abc"]])["chrf"] == 0


def test_sources_with_fewer_references_repeat_their_first():
    # One reference repeated changes nothing: the same scores as alone.
    alone = scoring.sentence_scores(["a b c d", "e f g h"], [["a b c d"], ["e f x h"]])
    padded = scoring.sentence_scores(["a b c d", "e f g h"], [["a b c d", "a b x y"], ["e f x h"]])
    assert padded["chrf"] >= alone["chrf"] and padded["bleu"] >= alone["bleu"]
    same = scoring.sentence_scores(["a b c d", "e f g h"], [["a b c d"], ["e f x h", "e f x h"]])
    assert same == alone


def test_word_and_subword_outputs_get_bleu_and_chrf_characters_do_not():
    words = TextVectorizer.from_texts(["the cat sat on a mat"], split="words")
    scored = scoring.score(["the cat sat on the mat"], [["the cat sat on a mat"]], words)
    assert scored["bleu"] == pytest.approx(53.7284965911771)
    characters = TextVectorizer.from_texts(["abc"])
    assert "bleu" not in scoring.score(["abc"], [["abc"]], characters)
    subwords = TextVectorizer.from_texts(
        ["the cat sat on a mat"] * 20, split="subwords", max_tokens=300
    )
    # References are scored as the model would write them: normalised.
    scored = scoring.score(["the cat sat on a mat"], [["the  cat sat on a mat "]], subwords)
    assert scored["bleu"] == pytest.approx(100) and scored["exact_match"] == 1
