"""Forward + backward time of TimeAttention against its alternatives.

Measured side by side in one process, on the TensorFlow backend, each step
compiled with `tf.function` (as `model.fit` runs it):

- `TimeAttention(return_attention_weights=True)`, every step at once;
- `keras.layers.Attention(score_mode="dot")` with
  `return_attention_scores=True`, Keras' own dot-product attention;
- a Python loop of `Attention` over the decoder steps (the book's form).

The contenders take turns within each repeat, so machine noise hits them
alike; the table shows medians and ratios to TimeAttention.

Usage: python benchmarks/layers.py [--repeats 30]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_attention import Attention  # noqa: E402
from keras_attention import TimeAttention  # noqa: E402

SHAPES = [(128, 11, 29, 256), (64, 64, 64, 512)]  # batch, dec_len, enc_len, units


def time_attention_fn():
    layer = TimeAttention(return_attention_weights=True)
    return lambda decoder_states, encoder_states: layer(decoder_states, encoder_states)


def keras_attention_fn():
    layer = keras.layers.Attention(score_mode="dot")
    return lambda decoder_states, encoder_states: layer(
        [decoder_states, encoder_states], return_attention_scores=True
    )


def step_loop_fn():
    layer = Attention(return_attention_weights=True)

    def run(decoder_states, encoder_states):
        steps = [
            layer(decoder_states[:, step], encoder_states)
            for step in range(decoder_states.shape[1])
        ]
        return (
            tf.stack([context for context, _ in steps], axis=1),
            tf.stack([weights for _, weights in steps], axis=1),
        )

    return run


CONTENDERS = {
    "TimeAttention": time_attention_fn,
    "keras.layers.Attention": keras_attention_fn,
    "Attention, loop over steps": step_loop_fn,
}


def forward_backward(attention):
    """A compiled step: outputs, a loss over both, gradients to both inputs."""

    @tf.function
    def step(decoder_states, encoder_states, context_grad, weights_grad):
        with tf.GradientTape() as tape:
            tape.watch([decoder_states, encoder_states])
            context, weights = attention(decoder_states, encoder_states)
            loss = tf.reduce_sum(context * context_grad) + tf.reduce_sum(weights * weights_grad)
        return tape.gradient(loss, [decoder_states, encoder_states])

    return step


def measure(shape, repeats, warmup=3):
    batch, dec_len, enc_len, units = shape
    rng = np.random.default_rng(0)
    inputs = [
        tf.constant(rng.normal(size=size).astype("float32"))
        for size in [
            (batch, dec_len, units),
            (batch, enc_len, units),
            (batch, dec_len, units),
            (batch, dec_len, enc_len),
        ]
    ]
    steps = {name: forward_backward(make()) for name, make in CONTENDERS.items()}
    # Same gradients from every contender, before timing anything.
    reference = [g.numpy() for g in steps["TimeAttention"](*inputs)]
    for name, step in steps.items():
        for got, want in zip(step(*inputs), reference):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-3, atol=1e-3, err_msg=name)
    for _ in range(warmup):
        for step in steps.values():
            [g.numpy() for g in step(*inputs)]
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            [g.numpy() for g in step(*inputs)]
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(
        f"keras {keras.__version__}, tensorflow {tf.__version__}, "
        f"{os.cpu_count()} CPU cores; median of {args.repeats} forward+backward "
        f"steps under tf.function"
    )
    header = (
        f"{'(batch, dec_len, enc_len, units)':<34}{'layer':<28}"
        f"{'median ms':>10}{'x TimeAttention':>17}"
    )
    print(header)
    print("-" * len(header))
    for shape in SHAPES:
        medians = measure(shape, args.repeats)
        base = medians["TimeAttention"]
        for name, seconds in medians.items():
            print(f"{str(shape):<34}{name:<28}{seconds * 1e3:>10.2f}{seconds / base:>17.2f}")


if __name__ == "__main__":
    main()
