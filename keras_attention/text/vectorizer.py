"""TextVectorizer: strings to token ids and back, inside the TensorFlow graph.

TensorFlow-only by design: it is what the SavedModel runs on raw strings.
"""

import base64
import collections
import io
import json
import random
import re
from pathlib import Path

import tensorflow as tf
import tensorflow_text as tf_text

from keras_attention.tokens import END_ID
from keras_attention.tokens import PAD_ID
from keras_attention.tokens import RESERVED_TOKENS
from keras_attention.tokens import START_ID
from keras_attention.tokens import UNK_ID
from keras_attention_cli.options import SPLITS
from keras_attention_cli.options import OptionError
from keras_attention_cli.options import check_int
from keras_attention_cli.options import check_positive_int

# A word is a run of letters, digits and marks in any script; every other
# non-space character (punctuation, symbols) is a token of its own.
_WORD_DELIMITERS = r"\s+|[^\p{L}\p{N}\p{M}\s]"
_KEPT_DELIMITERS = r"[^\p{L}\p{N}\p{M}\s]"
# A subword vocabulary's size when none is given, and the most texts its
# SentencePiece model is trained on (drawn at random beyond that).
DEFAULT_SUBWORDS = 8000
SENTENCEPIECE_SAMPLE = 1_000_000


class TextVectorizer(tf.Module):
    """Turns strings into token ids and token ids back into strings.

    Normalises Unicode (NFKC, with `tensorflow_text.normalize_utf8`), folds
    case if asked (`tensorflow_text.case_fold_utf8`), splits into characters
    (`tensorflow_text.UnicodeCharTokenizer`), words (letters/digits runs,
    each punctuation mark a token of its own, `tensorflow_text.regex_split`)
    or subwords (a SentencePiece model, run by
    `tensorflow_text.SentencepieceTokenizer`: reversible, so decoding gives
    back natural text with its spaces), and looks tokens up in a vocabulary
    whose first ids are reserved: 0 padding, 1 unknown, 2 start, 3 end.
    Invalid UTF-8 bytes become U+FFFD before anything else, so no input
    string makes it fail.

    Args:
        vocabulary: list of str, the tokens; must start with the reserved
            tokens `[PAD]`, `[UNK]`, `[START]`, `[END]`. For subwords, the
            SentencePiece model's pieces in id order.
        split: `"characters"`, `"words"` or `"subwords"`. Defaults to
            `"characters"`.
        lowercase: bool, whether to fold case. Defaults to `False`.
        max_length: int or None, the most tokens kept of a text (longer
            texts are truncated at the end); `None` keeps all. Defaults to
            `None`.
        sentencepiece_model: bytes (or their base64 text, as `get_config`
            writes them), the serialized SentencePiece model; only, and
            required, with `split="subwords"`. `from_texts` trains one.

    Example:

    >>> vectorizer = TextVectorizer.from_texts(["I am a student"], split="words")
    >>> ids = vectorizer.encode(["I am a student"], add_end=True)
    >>> vectorizer.decode(ids.to_tensor()).numpy()[0].decode()
    'I am a student'
    """

    def __init__(
        self, vocabulary, split="characters", lowercase=False, max_length=None,
        sentencepiece_model=None,
    ):  # fmt: skip
        super().__init__(name="text_vectorizer")
        vocabulary = list(vocabulary)
        if tuple(vocabulary[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
            raise ValueError(
                f"`vocabulary` must start with the reserved tokens {list(RESERVED_TOKENS)}. "
                f"Received: vocabulary[:4]={vocabulary[:4]}"
            )
        if len(set(vocabulary)) != len(vocabulary):
            duplicates = [t for t, n in collections.Counter(vocabulary).items() if n > 1]
            raise ValueError(
                f"`vocabulary` must not repeat tokens. Received duplicates: {duplicates[:10]}"
            )
        if split not in SPLITS:
            raise ValueError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
        if max_length is not None:
            max_length = check_positive_int("max_length", max_length, alternative=" or None")
        if (split == "subwords") != (sentencepiece_model is not None):
            raise ValueError(
                "`sentencepiece_model` must be given with split='subwords', and only then. "
                f"Received: split={split!r}, sentencepiece_model="
                f"{'None' if sentencepiece_model is None else 'a model'}"
            )
        self.sentencepiece_model = None
        if sentencepiece_model is not None:
            if isinstance(sentencepiece_model, str):
                sentencepiece_model = base64.b64decode(sentencepiece_model)
            self.sentencepiece_model = bytes(sentencepiece_model)
            pieces = int(self._sentencepiece.vocab_size())
            if pieces != len(vocabulary):
                raise ValueError(
                    f"`vocabulary` must list the SentencePiece model's {pieces} pieces. "
                    f"Received: {len(vocabulary)} tokens"
                )
        self.vocabulary = vocabulary
        self.split = split
        self.lowercase = bool(lowercase)
        self.max_length = max_length
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(vocabulary), tf.range(len(vocabulary), dtype=tf.int64)
            ),
            default_value=UNK_ID,
        )
        self._tokens = tf.constant(vocabulary)
        self._char_tokenizer = tf_text.UnicodeCharTokenizer()
        # The tokens of the longest text `from_texts` built it from, when it
        # measured them; not saved.
        self.longest_seen = None

    @property
    def _sentencepiece(self):
        """A `tensorflow_text.SentencepieceTokenizer` of the model, made anew
        where it is used: in the graph being traced, or eagerly.

        tensorflow-text keeps the model in a resource owned by the kernel
        that made it (its own TODO, b/318839908). One made once, eagerly,
        would live in the eager kernel cache, which `tf.random.set_seed`
        (and so `keras.utils.set_random_seed`) clears: every later use would
        fail with "Resource ... SentencepieceOp ... does not exist". Made in
        each traced graph, it lives with that graph's kernels, which make it
        again if they are cleared; the SavedModel holds the model in each
        signature's graph.
        """
        return tf_text.SentencepieceTokenizer(model=self.sentencepiece_model, out_type=tf.int32)

    @property
    def size(self):
        return len(self.vocabulary)

    @classmethod
    def from_texts(
        cls,
        texts,
        split="characters",
        lowercase=False,
        max_length=None,
        max_tokens=None,
        gather=None,
    ):
        """Builds the vocabulary from training texts, most frequent first.

        For subwords, trains a SentencePiece unigram model of `max_tokens`
        pieces on the texts (normalised as `tokenize` normalises them; at
        most `SENTENCEPIECE_SAMPLE` of them, drawn at random), with every
        character and a byte fallback, so that any text round-trips.

        Memory is bounded by the vocabulary, not the texts: they are read
        4,096 at a time in one pass (two for subwords without
        `max_length`: the second measures the longest; a one-shot iterator
        is then held as a list), and the SentencePiece sample is a
        reservoir of at most `SENTENCEPIECE_SAMPLE` texts.

        Args:
            texts: iterable of str (a list, or any object that can be
                iterated again).
            split, lowercase: as in the constructor.
            max_length: int or None; `None` takes the longest text seen.
            max_tokens: int or None, the largest vocabulary (reserved tokens
                included); rarer tokens become `[UNK]`. For subwords, the
                number of pieces (default `DEFAULT_SUBWORDS`).
            gather: None, or a function that takes a summary of `texts`
                (what JSON can write) and returns the summaries of every
                share of the texts, this one among them, in the same order
                wherever it is called (`distribute.gather_across_workers`):
                the vocabulary is then built from all the shares, each
                caller reading only its own (the token counts summed, the
                SentencePiece samples drawn from each share by its size),
                and is the same for every caller.
        """
        if max_tokens is not None:
            max_tokens = check_int(
                "max_tokens",
                max_tokens,
                len(RESERVED_TOKENS) + 1,
                f"an int above the {len(RESERVED_TOKENS)} reserved tokens",
                alternative=", or None",
            )
        if split == "subwords":
            if max_length is None and iter(texts) is texts:  # read twice
                texts = list(texts)
            return cls._from_texts_by_sentencepiece(
                texts, lowercase, max_length, max_tokens, gather
            )
        probe = cls(list(RESERVED_TOKENS), split=split, lowercase=lowercase)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
        def count(chunk):
            # In the graph: Python sees each distinct token once a chunk.
            tokens = probe.tokenize(chunk)
            distinct, _, counts = tf.unique_with_counts(tokens.flat_values)
            return distinct, counts, tf.reduce_max(tokens.row_lengths())

        counts, longest, seen = collections.Counter(), 0, 0
        for chunk in chunks(texts):
            seen += len(chunk)
            distinct, chunk_counts, chunk_longest = count(tf.constant(chunk))
            longest = max(longest, int(chunk_longest))
            for token, number in zip(distinct.numpy(), chunk_counts.numpy()):
                counts[token.decode("utf-8")] += int(number)
        if gather is not None:
            shares = gather({"counts": counts, "longest": longest, "seen": seen})
            counts = collections.Counter()
            for share in shares:
                counts.update(share["counts"])
            longest = max(share["longest"] for share in shares)
            seen = sum(share["seen"] for share in shares)
        if not seen:
            raise ValueError("`texts` must hold at least one text to build a vocabulary from.")
        ordered = sorted(
            (t for t in counts if t not in RESERVED_TOKENS), key=lambda t: (-counts[t], t)
        )
        if max_tokens is not None:
            ordered = ordered[: max(0, max_tokens - len(RESERVED_TOKENS))]
        vectorizer = cls(
            list(RESERVED_TOKENS) + ordered,
            split=split,
            lowercase=lowercase,
            max_length=max_length or max(longest, 1),
        )
        vectorizer.longest_seen = longest
        return vectorizer

    @classmethod
    def _from_texts_by_sentencepiece(cls, texts, lowercase, max_length, max_tokens, gather):
        """`from_texts` for subwords: trains the SentencePiece model."""
        try:
            import sentencepiece
        except ImportError as error:
            raise ImportError(
                "split='subwords' learns its vocabulary with the `sentencepiece` package: "
                "pip install sentencepiece"
            ) from error
        size = DEFAULT_SUBWORDS if max_tokens is None else max_tokens
        probe = cls(list(RESERVED_TOKENS), lowercase=lowercase)
        sample = _Reservoir(SENTENCEPIECE_SAMPLE)
        for chunk in chunks(texts):
            sample.extend(
                text.decode("utf-8") for text in probe.normalize(tf.constant(chunk)).numpy()
            )
        if gather is not None:
            sample = _Reservoir.merged(gather({"texts": sample.texts, "seen": sample.seen}))
        if not sample.seen:
            raise ValueError("`texts` must hold at least one text to build a vocabulary from.")
        model = io.BytesIO()
        sentencepiece.SetRandomGeneratorSeed(0)  # which texts it samples
        try:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(sample.texts),
                model_writer=model,
                model_type="unigram",
                vocab_size=size,
                # The reserved tokens are SentencePiece's own control pieces,
                # at the same ids.
                pad_id=PAD_ID, unk_id=UNK_ID, bos_id=START_ID, eos_id=END_ID,
                pad_piece=RESERVED_TOKENS[PAD_ID], unk_piece=RESERVED_TOKENS[UNK_ID],
                bos_piece=RESERVED_TOKENS[START_ID], eos_piece=RESERVED_TOKENS[END_ID],
                # NFKC again changes nothing; the text is normalised already.
                normalization_rule_name="nfkc",
                character_coverage=1.0,
                byte_fallback=True,
                split_digits=True,
                hard_vocab_limit=False,
                input_sentence_size=SENTENCEPIECE_SAMPLE,
                shuffle_input_sentence=True,
                num_threads=1,  # the same model on any machine
                minloglevel=2,
            )  # fmt: skip
        except RuntimeError as error:
            needed = re.search(r"(\d+) vs (\d+)", str(error))
            if needed is None:
                raise
            raise OptionError(
                "max_tokens",
                f"at least {needed.group(2)} for subwords of these texts (every character and "
                "256 byte pieces)",
                size,
            ) from None
        proto = model.getvalue()
        trained = tf_text.SentencepieceTokenizer(model=proto)
        pieces = trained.id_to_string(tf.range(trained.vocab_size()))
        vectorizer = cls(
            [piece.decode("utf-8") for piece in pieces.numpy()],
            split="subwords",
            lowercase=lowercase,
            sentencepiece_model=proto,
        )
        if max_length is None:
            longest = 0
            for chunk in chunks(texts):
                tokens = vectorizer.encode(tf.constant(chunk))
                longest = max(longest, int(tf.reduce_max(tokens.row_lengths())))
            if gather is not None:
                longest = max(gather(longest))
            max_length = vectorizer.longest_seen = max(longest, 1)
        vectorizer.max_length = max_length
        return vectorizer

    def normalize(self, texts):
        """`tf.string` `[batch]`, invalid UTF-8 replaced, NFKC-normalised and
        case-folded if `lowercase`: what every split cuts."""
        texts = tf.strings.unicode_transcode(
            tf.convert_to_tensor(texts, tf.string),
            "UTF-8",
            "UTF-8",
            errors="replace",
            replace_control_characters=False,
        )
        texts = tf_text.normalize_utf8(texts, "NFKC")
        if self.lowercase:
            texts = tf_text.case_fold_utf8(texts)
        return texts

    def tokenize(self, texts):
        """`tf.string` `[batch]` to a ragged `[batch, None]` of token strings
        (subwords: SentencePiece's pieces, `▁` marking a word's start)."""
        texts = self.normalize(texts)
        if self.split == "subwords":
            return self._sentencepiece.id_to_string(self._sentencepiece.tokenize(texts))
        if self.split == "words":
            return tf_text.regex_split(texts, _WORD_DELIMITERS, _KEPT_DELIMITERS)
        codepoints = self._char_tokenizer.tokenize(texts)
        return codepoints.with_flat_values(
            tf.strings.unicode_encode(tf.expand_dims(codepoints.flat_values, -1), "UTF-8")
        )

    def encode(self, texts, add_start=False, add_end=False, truncate=True):
        """`tf.string` `[batch]` to ragged int64 ids, truncated to `max_length`
        (unless `truncate` is False)."""
        if self.split == "subwords":
            ids = tf.cast(self._sentencepiece.tokenize(self.normalize(texts)), tf.int64)
        else:
            tokens = self.tokenize(texts)
            ids = tokens.with_flat_values(self._table.lookup(tokens.flat_values))
        if truncate and self.max_length is not None:
            ids = ids[:, : self.max_length]
        batch = ids.nrows()
        if add_start:
            ids = tf.concat([tf.fill([batch, 1], tf.constant(START_ID, tf.int64)), ids], axis=1)
        if add_end:
            ids = tf.concat([ids, tf.fill([batch, 1], tf.constant(END_ID, tf.int64))], axis=1)
        return ids

    def decode(self, ids):
        """Dense ids `[batch, length]` to strings `[batch]`.

        Reading stops at the first `[END]`; padding and start tokens are
        dropped; characters are joined with nothing, words with a space,
        subwords by SentencePiece (spaces where its pieces mark them, byte
        pieces put back together).
        """
        ids = tf.cast(ids, tf.int64)
        before_end = tf.cumsum(tf.cast(ids == END_ID, tf.int32), axis=1, exclusive=True) == 0
        keep = before_end & (ids != PAD_ID) & (ids != START_ID) & (ids != END_ID)
        if self.split == "subwords":
            return self._sentencepiece.detokenize(
                tf.cast(tf.ragged.boolean_mask(ids, keep), tf.int32)
            )
        tokens = tf.ragged.boolean_mask(tf.gather(self._tokens, ids), keep)
        return tf.strings.reduce_join(tokens, axis=1, separator=self._separator)

    @property
    def _separator(self):
        """What `decode` joins character or word tokens with."""
        return "" if self.split == "characters" else " "

    def as_written(self, texts):
        """`tf.string` `[batch]` as `decode` would write them back if every
        token were in the vocabulary: normalised, and tokens joined as
        `decode` joins them (subwords: spaces as SentencePiece restores
        them). What outputs are scored against."""
        if self.split == "subwords":
            return self._sentencepiece.detokenize(
                self._sentencepiece.tokenize(self.normalize(texts))
            )
        return tf.strings.reduce_join(self.tokenize(texts), axis=1, separator=self._separator)

    def get_config(self):
        """The constructor's arguments (vocabulary, split, case folding) as a
        JSON-ready dict (a SentencePiece model as base64 text)."""
        config = {
            "vocabulary": self.vocabulary,
            "split": self.split,
            "lowercase": self.lowercase,
            "max_length": self.max_length,
        }
        if self.sentencepiece_model is not None:
            config["sentencepiece_model"] = base64.b64encode(self.sentencepiece_model).decode()
        return config

    def save(self, path):
        """Writes `get_config()` to `path` as UTF-8 JSON."""
        Path(path).write_text(
            json.dumps(self.get_config(), ensure_ascii=False, indent=1), encoding="utf-8"
        )

    @classmethod
    def load(cls, path):
        """The vectorizer that `save` wrote to `path`."""
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def chunks(items, size=4096):
    """`items` (texts, pairs) as lists of at most `size`, read as they come."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Reservoir:
    """A uniform sample of at most `size` texts from a stream of unknown
    length (Algorithm R, seeded): all of them, in order, when there are no
    more than `size`."""

    def __init__(self, size, seed=0):
        self.size, self.texts, self.seen = size, [], 0
        self._random = random.Random(seed)

    def extend(self, texts):
        for text in texts:
            self.seen += 1
            if len(self.texts) < self.size:
                self.texts.append(text)
            else:
                slot = self._random.randrange(self.seen)
                if slot < self.size:
                    self.texts[slot] = text

    @classmethod
    def merged(cls, shares, size=None, seed=0):
        """One sample of at most `size` texts from the samples of several
        shares of a stream (`{"texts", "seen"}` each): all their texts when
        they fit, otherwise from each share a seeded draw in proportion to
        the texts it saw."""
        size = size or SENTENCEPIECE_SAMPLE
        sample = cls(size, seed)
        sample.seen = sum(share["seen"] for share in shares)
        if sum(len(share["texts"]) for share in shares) <= size:
            sample.texts = [text for share in shares for text in share["texts"]]
            return sample
        for share in shares:
            take = min(len(share["texts"]), round(size * share["seen"] / sample.seen))
            sample.texts.extend(sample._random.sample(share["texts"], take))
        return sample
