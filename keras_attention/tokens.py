"""The reserved tokens and their ids, shared by the vectorizer, the decoders
and the scorers.

A module of its own, with no imports, so that the backend-independent
decoders read three integers without pulling in tensorflow-text.
"""

PAD, UNK, START, END = "[PAD]", "[UNK]", "[START]", "[END]"
RESERVED_TOKENS = (PAD, UNK, START, END)
PAD_ID, UNK_ID, START_ID, END_ID = range(4)
