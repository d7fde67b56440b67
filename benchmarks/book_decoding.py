"""The book's decoding: one question at a time, a Python loop over steps.

Eager and slow by design: the reference that `keras_attention.decoding`'s
graph loop is tested against (`tests/decoding_test.py`,
`tests/backends_test.py`) and timed against (`benchmarks/seq2seq.py`). Runs
on every backend.
"""

import numpy as np
from keras import ops

from keras_attention import decoding
from keras_attention.tokens import END_ID
from keras_attention.tokens import START_ID


def step_by_step_greedy(model, source_ids, max_length):
    """The book's decoding: one question at a time, a Python loop over steps.

    Returns what `keras_attention.decoding.greedy_decode` must, row by row.

    Returns:
        A list of int32 numpy arrays, one per question, ending at `[END]`.
    """
    outputs = []
    for row in np.asarray(source_ids):
        encoded = model.encode(ops.convert_to_tensor(row[np.newaxis], "int32"))
        states, token, output = encoded["states"], START_ID, []
        for _ in range(max_length):
            log_probs, states, _ = decoding.model_step(model, ops.convert_to_tensor([token], "int32"), encoded, states)
            token = int(np.argmax(ops.convert_to_numpy(log_probs)[0]))
            output.append(token)
            if token == END_ID:
                break
        outputs.append(np.array(output, np.int32))
    return outputs
