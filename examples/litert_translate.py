"""Translate with a `.tflite` file from `keras-attention export-litert`,
with the LiteRT interpreter alone: no TensorFlow, no Keras, no keras_attention.

    python examples/litert_translate.py MODEL.tflite [TEXT ...]

Texts come as arguments, or one per line on standard input; one output is
printed per text, in order. The JSON file beside the model (`MODEL.json`)
holds the vocabularies and lengths; strings become ids the way the model's
vectorizer makes them (Unicode NFKC, case folding when the model folds
case, characters or words), and the whole decoding loop, greedy or beam
search, runs inside the file: one `invoke` per batch.

Needs `ai-edge-litert` and numpy (`pip install "keras-seq2seq-attention[litert]"`,
or `pip install ai-edge-litert numpy` on a device).
"""

import argparse
import json
import sys
import unicodedata
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

METADATA_FORMAT = 1
# The reserved tokens, whose ids the metadata's `reserved_ids` gives.
PAD, UNK, START, END = "[PAD]", "[UNK]", "[START]", "[END]"
# RE2's `\s`, which the vectorizer's word split uses: ASCII whitespace only.
WHITESPACE = frozenset("\t\n\f\r ")


def is_word_character(character):
    """A letter, digit or mark in any script (`\\p{L}\\p{N}\\p{M}`)."""
    return unicodedata.category(character)[0] in "LNM"


def normalize(text, lowercase):
    """NFKC, then case folding (tensorflow-text's `case_fold_utf8`, which
    is NFKC_Casefold: folding, then NFKC again)."""
    text = unicodedata.normalize("NFKC", text)
    if lowercase:
        text = unicodedata.normalize("NFKC", text.casefold())
    return text


def split_words(text):
    """Runs of letters, digits and marks; every other non-space character
    is a token of its own; whitespace separates."""
    tokens, word = [], []
    for character in text:
        if is_word_character(character):
            word.append(character)
            continue
        if word:
            tokens.append("".join(word))
            word = []
        if character not in WHITESPACE:
            tokens.append(character)
    if word:
        tokens.append("".join(word))
    return tokens


class Side:
    """One side's vocabulary and tokenisation, from the metadata: its
    `settings` and the file's `reserved_ids` (`{"[PAD]": 0, ...}`), which
    must name each reserved token where the vocabulary has it."""

    def __init__(self, settings, reserved_ids):
        self.vocabulary = settings["vocabulary"]
        self.ids = {token: index for index, token in enumerate(self.vocabulary)}
        for token in (PAD, UNK, START, END):
            if token not in reserved_ids or self.ids.get(token) != reserved_ids[token]:
                raise ValueError(
                    f"reserved_ids: expected {token} at the id the vocabulary has it "
                    f"({self.ids.get(token)}), received {reserved_ids.get(token)}"
                )
        self.pad_id, self.unk_id = reserved_ids[PAD], reserved_ids[UNK]
        self.start_id, self.end_id = reserved_ids[START], reserved_ids[END]
        self.split, self.lowercase = settings["split"], settings["lowercase"]
        self.max_length = settings["max_length"]

    def tokenize(self, text):
        text = normalize(text, self.lowercase)
        return split_words(text) if self.split == "words" else list(text)

    def encode(self, text):
        tokens = self.tokenize(text)
        if self.max_length:
            tokens = tokens[: self.max_length]
        return [self.ids.get(token, self.unk_id) for token in tokens]

    def decode(self, ids):
        tokens = []
        for token_id in ids:
            token_id = int(token_id)
            if token_id == self.end_id:
                break
            if token_id not in (self.pad_id, self.start_id):
                tokens.append(self.vocabulary[token_id])
        return ("" if self.split == "characters" else " ").join(tokens)


class LiteRTTranslator:
    """Strings in, strings out, with a `.tflite` file and its JSON.

    Args:
        model_path: the `.tflite` file; its metadata is the `.json` beside it.
        num_threads: int or None, the interpreter's threads.
    """

    def __init__(self, model_path, num_threads=None):
        model_path = Path(model_path)
        metadata_file = model_path.with_suffix(".json")
        if not metadata_file.is_file():
            raise FileNotFoundError(
                f"{metadata_file} not found: it is written beside the model by export-litert"
            )
        metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
        if metadata.get("format") != METADATA_FORMAT:
            raise ValueError(
                f"{metadata_file}: metadata format {metadata.get('format')!r}, this runner reads "
                f"{METADATA_FORMAT}"
            )
        self.metadata = metadata
        try:
            reserved_ids = metadata["reserved_ids"]
            self.source = Side(metadata["source"], reserved_ids)
            self.target = Side(metadata["target"], reserved_ids)
        except (KeyError, ValueError) as error:
            raise ValueError(f"{metadata_file}: {error}") from None
        self.batch_size = metadata["batch_size"]
        self.interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
        self._input = self.interpreter.get_input_details()[0]["index"]
        details = self.interpreter.get_output_details()
        self._outputs = {
            name: details[position]["index"] for name, position in metadata["outputs"].items()
        }
        self._width = None

    def source_ids(self, texts):
        """Ids `[batch_size, width]`, int32, padded with PAD (at least one
        column, and empty rows filling up a short batch)."""
        rows = [self.source.encode(text) for text in texts]
        width = max([1] + [len(row) for row in rows])
        ids = np.full((self.batch_size, width), self.source.pad_id, np.int32)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = row
        return ids

    def translate_ids(self, source_ids):
        """One `invoke` of the file (the whole decoding loop): its outputs
        (`token_ids`, `attention_weights`; with beam search also
        `n_best_token_ids`, `n_best_scores`) as numpy arrays."""
        if source_ids.shape[1] != self._width:  # the source length is dynamic
            self.interpreter.resize_tensor_input(self._input, source_ids.shape, strict=True)
            self.interpreter.allocate_tensors()
            self._width = source_ids.shape[1]
        self.interpreter.set_tensor(self._input, source_ids)
        self.interpreter.invoke()
        return {name: self.interpreter.get_tensor(index) for name, index in self._outputs.items()}

    def translate(self, texts):
        """A list of output strings, one per text, in order."""
        texts = list(texts)
        outputs = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            token_ids = self.translate_ids(self.source_ids(batch))["token_ids"]
            outputs.extend(self.target.decode(row) for row in token_ids[: len(batch)])
        return outputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="the .tflite file (its .json beside it)")
    parser.add_argument(
        "texts", nargs="*", help="texts to translate (default: standard input, one per line)"
    )
    parser.add_argument("--threads", type=int, default=None, help="interpreter threads")
    args = parser.parse_args(argv)
    translator = LiteRTTranslator(args.model, num_threads=args.threads)
    if args.texts:
        texts = args.texts
    else:
        stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
        texts = [line.rstrip("\r\n") for line in stdin]
    for output in translator.translate(texts):
        print(output)


if __name__ == "__main__":
    main()
