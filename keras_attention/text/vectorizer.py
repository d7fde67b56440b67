"""TextVectorizer: strings to token ids and back, inside the TensorFlow graph.

TensorFlow-only by design: it is what the SavedModel runs on raw strings.
"""

import collections
import json
from pathlib import Path

import tensorflow as tf
import tensorflow_text as tf_text

from keras_attention.tokens import END_ID
from keras_attention.tokens import PAD_ID
from keras_attention.tokens import RESERVED_TOKENS
from keras_attention.tokens import START_ID
from keras_attention.tokens import UNK_ID
from keras_attention_cli.options import SPLITS
from keras_attention_cli.options import check_int
from keras_attention_cli.options import check_positive_int

# A word is a run of letters, digits and marks in any script; every other
# non-space character (punctuation, symbols) is a token of its own.
_WORD_DELIMITERS = r"\s+|[^\p{L}\p{N}\p{M}\s]"
_KEPT_DELIMITERS = r"[^\p{L}\p{N}\p{M}\s]"


class TextVectorizer(tf.Module):
    """Turns strings into token ids and token ids back into strings.

    Normalises Unicode (NFKC, with `tensorflow_text.normalize_utf8`), folds
    case if asked (`tensorflow_text.case_fold_utf8`), splits into characters
    (`tensorflow_text.UnicodeCharTokenizer`) or words (letters/digits runs,
    each punctuation mark a token of its own, `tensorflow_text.regex_split`),
    and looks tokens up in a vocabulary whose first ids are reserved:
    0 padding, 1 unknown, 2 start, 3 end. Invalid UTF-8 bytes become U+FFFD
    before anything else, so no input string makes it fail.

    Args:
        vocabulary: list of str, the tokens; must start with the reserved
            tokens `[PAD]`, `[UNK]`, `[START]`, `[END]`.
        split: `"characters"` or `"words"`. Defaults to `"characters"`.
        lowercase: bool, whether to fold case. Defaults to `False`.
        max_length: int or None, the most tokens kept of a text (longer
            texts are truncated at the end); `None` keeps all. Defaults to
            `None`.

    Example:

    >>> vectorizer = TextVectorizer.from_texts(["I am a student"], split="words")
    >>> ids = vectorizer.encode(["I am a student"], add_end=True)
    >>> vectorizer.decode(ids.to_tensor()).numpy()[0].decode()
    'I am a student'
    """

    def __init__(self, vocabulary, split="characters", lowercase=False, max_length=None):
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

    @property
    def size(self):
        return len(self.vocabulary)

    @classmethod
    def from_texts(
        cls, texts, split="characters", lowercase=False, max_length=None, max_tokens=None
    ):
        """Builds the vocabulary from training texts, most frequent first.

        Args:
            texts: iterable of str.
            split, lowercase: as in the constructor.
            max_length: int or None; `None` takes the longest text seen.
            max_tokens: int or None, the largest vocabulary (reserved tokens
                included); rarer tokens become `[UNK]`.
        """
        texts = list(texts)
        if not texts:
            raise ValueError("`texts` must hold at least one text to build a vocabulary from.")
        if max_tokens is not None:
            max_tokens = check_int(
                "max_tokens",
                max_tokens,
                len(RESERVED_TOKENS) + 1,
                f"an int above the {len(RESERVED_TOKENS)} reserved tokens",
                alternative=", or None",
            )
        probe = cls(list(RESERVED_TOKENS), split=split, lowercase=lowercase)
        counts, longest = collections.Counter(), 0
        for start in range(0, len(texts), 4096):
            tokens = probe.tokenize(tf.constant(texts[start : start + 4096]))
            longest = max(longest, int(tf.reduce_max(tokens.row_lengths())))
            counts.update(t.decode("utf-8") for t in tokens.flat_values.numpy())
        ordered = sorted(
            (t for t in counts if t not in RESERVED_TOKENS), key=lambda t: (-counts[t], t)
        )
        if max_tokens is not None:
            ordered = ordered[: max(0, max_tokens - len(RESERVED_TOKENS))]
        return cls(
            list(RESERVED_TOKENS) + ordered,
            split=split,
            lowercase=lowercase,
            max_length=max_length or max(longest, 1),
        )

    def tokenize(self, texts):
        """`tf.string` `[batch]` to a ragged `[batch, None]` of token strings."""
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
        if self.split == "words":
            return tf_text.regex_split(texts, _WORD_DELIMITERS, _KEPT_DELIMITERS)
        codepoints = self._char_tokenizer.tokenize(texts)
        return codepoints.with_flat_values(
            tf.strings.unicode_encode(tf.expand_dims(codepoints.flat_values, -1), "UTF-8")
        )

    def encode(self, texts, add_start=False, add_end=False):
        """`tf.string` `[batch]` to ragged int64 ids, truncated to `max_length`."""
        tokens = self.tokenize(texts)
        if self.max_length is not None:
            tokens = tokens[:, : self.max_length]
        ids = tokens.with_flat_values(self._table.lookup(tokens.flat_values))
        batch = ids.nrows()
        if add_start:
            ids = tf.concat([tf.fill([batch, 1], tf.constant(START_ID, tf.int64)), ids], axis=1)
        if add_end:
            ids = tf.concat([ids, tf.fill([batch, 1], tf.constant(END_ID, tf.int64))], axis=1)
        return ids

    def decode(self, ids):
        """Dense ids `[batch, length]` to strings `[batch]`.

        Reading stops at the first `[END]`; padding and start tokens are
        dropped; characters are joined with nothing, words with a space.
        """
        ids = tf.cast(ids, tf.int64)
        before_end = tf.cumsum(tf.cast(ids == END_ID, tf.int32), axis=1, exclusive=True) == 0
        keep = before_end & (ids != PAD_ID) & (ids != START_ID) & (ids != END_ID)
        tokens = tf.ragged.boolean_mask(tf.gather(self._tokens, ids), keep)
        separator = "" if self.split == "characters" else " "
        return tf.strings.reduce_join(tokens, axis=1, separator=separator)

    def get_config(self):
        """The constructor's arguments (vocabulary, split, case folding) as a dict."""
        return {
            "vocabulary": self.vocabulary,
            "split": self.split,
            "lowercase": self.lowercase,
            "max_length": self.max_length,
        }

    def save(self, path):
        """Writes `get_config()` to `path` as UTF-8 JSON."""
        Path(path).write_text(
            json.dumps(self.get_config(), ensure_ascii=False, indent=1), encoding="utf-8"
        )

    @classmethod
    def load(cls, path):
        """The vectorizer that `save` wrote to `path`."""
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
