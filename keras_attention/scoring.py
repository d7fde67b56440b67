"""Scoring outputs against one or several references: exact match, WER,
token error rate, and for word or subword outputs sacreBLEU's BLEU and chrF.

TensorFlow-only: the edit distance is `tf.edit_distance`, over the tokens
a `TextVectorizer` cuts (phones for a word-level side, characters for a
character-level one).
"""

import numpy as np
import tensorflow as tf


def group_references(pairs):
    """`(source, target)` pairs to `(sources, references)`, one entry per source.

    A source on several lines (a word with several pronunciations) appears
    once, at its first line, with every distinct target of its lines in
    file order.
    """
    references = {}
    for source, target in pairs:
        targets = references.setdefault(source, [])
        if target not in targets:
            targets.append(target)
    return list(references), list(references.values())


def score(hypotheses, references, vectorizer):
    """Scores one output per source against that source's references.

    Outputs and references are compared as the vectorizer writes them
    (normalised, joined with its separator), so a reference counts as the
    model could have produced it.

    Args:
        hypotheses: list of str, one output per source.
        references: list of lists of str, every accepted output per source.
        vectorizer: the `TextVectorizer` of the outputs' side.

    Returns:
        A dict: `exact_match` (share of sources whose output equals one of
        its references), `wer` (1 - exact match: the share whose output
        matches none), `token_error_rate` (over all sources, the edit
        distance to the closest reference summed, over those references'
        lengths summed: PER for phones, CER for characters),
        `per_source` (list of dicts: `correct`, `edits`, `reference`, the
        closest reference); for word or subword outputs, also `bleu` and
        `chrf` (`sentence_scores`, 0-100).
    """
    if len(hypotheses) != len(references):
        raise ValueError(
            f"`hypotheses` and `references` must be as long: one output per source. "
            f"Received: {len(hypotheses)} hypotheses and {len(references)} reference lists"
        )
    if any(not refs for refs in references):
        raise ValueError("every source needs at least one reference; received an empty list")
    if not hypotheses:
        raise ValueError("nothing to score: `hypotheses` is empty")
    owners = np.repeat(np.arange(len(references)), [len(refs) for refs in references])
    flat_references = [ref for refs in references for ref in refs]
    reference_tokens = vectorizer.tokenize(tf.constant(flat_references))
    hypothesis_tokens = tf.gather(vectorizer.tokenize(tf.constant(list(hypotheses))), owners)
    distances = tf.edit_distance(
        hypothesis_tokens.to_sparse(), reference_tokens.to_sparse(), normalize=False
    ).numpy()
    lengths = reference_tokens.row_lengths().numpy()
    per_source, edits, length = [], 0.0, 0
    starts = np.concatenate([[0], np.cumsum([len(refs) for refs in references])])
    for index, _refs in enumerate(references):
        start, end = starts[index], starts[index + 1]
        # The closest reference; between equally close ones, the first.
        best = start + int(np.argmin(distances[start:end]))
        edits += distances[best]
        length += lengths[best]
        per_source.append(
            {
                "correct": bool(distances[best] == 0),
                "edits": int(distances[best]),
                "reference": flat_references[best],
            }
        )
    exact_match = float(np.mean([entry["correct"] for entry in per_source]))
    scores = {
        "exact_match": exact_match,
        "wer": 1.0 - exact_match,
        "token_error_rate": float(edits / max(length, 1)),
        "per_source": per_source,
    }
    if vectorizer.split != "characters":
        written = iter(
            text.decode("utf-8")
            for text in vectorizer.as_written(tf.constant(flat_references)).numpy()
        )
        scores.update(
            sentence_scores(hypotheses, [[next(written) for _ in refs] for refs in references])
        )
    return scores


def sentence_scores(hypotheses, references):
    """sacreBLEU's corpus BLEU and chrF (its default settings: BLEU with
    the 13a tokenizer, chrF with character 6-grams), 0-100.

    Args:
        hypotheses: list of str, one output per source.
        references: list (one per source) of lists of str; sources with
            fewer references than others repeat their first, which changes
            neither score.

    Returns:
        A dict: `bleu`, `chrf` (floats).
    """
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(
            f"`hypotheses` and `references` must be as long. Received: {len(hypotheses)} "
            f"hypotheses and {len(references)} reference lists"
        )
    streams = max(len(refs) for refs in references)
    columns = [[refs[min(i, len(refs) - 1)] for refs in references] for i in range(streams)]
    return {
        "bleu": float(sacrebleu.corpus_bleu(hypotheses, columns).score),
        "chrf": float(sacrebleu.corpus_chrf(hypotheses, columns).score),
    }


def oracle_exact_match(n_best_hypotheses, references, vectorizer):
    """The share of sources where any of the n-best outputs equals one of
    the references (an upper bound on what rescoring the list could reach).

    Args:
        n_best_hypotheses: list (one per source) of lists of str, the same
            length each.
        references: list of lists of str, as in `score`.
        vectorizer: the `TextVectorizer` of the outputs' side.
    """
    ranks = {len(row) for row in n_best_hypotheses}
    if len(ranks) != 1:
        raise ValueError(
            f"every source needs as many hypotheses; received lists of lengths {sorted(ranks)}"
        )
    correct = np.zeros(len(n_best_hypotheses), bool)
    for rank in range(ranks.pop()):
        result = score([row[rank] for row in n_best_hypotheses], references, vectorizer)
        correct |= [entry["correct"] for entry in result["per_source"]]
    return float(np.mean(correct))
