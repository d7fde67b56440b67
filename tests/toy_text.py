"""Made-up sentence pairs for the tests of sentence tasks (numpy only, so a
helper process that writes them starts without TensorFlow)."""

import numpy as np


def toy_sentences(count, seed):
    """Spanish-like sentences and their word-by-word English."""
    words = {
        "uno": "one", "dos": "two", "tres": "three", "perro": "dog", "gato": "cat",
        "casa": "house", "grande": "big", "rojo": "red", "come": "eats", "ve": "sees",
    }  # fmt: skip
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        chosen = rng.choice(sorted(words), size=rng.integers(2, 7))
        pairs.append((" ".join(chosen) + ".", " ".join(words[w] for w in chosen) + "."))
    return pairs
