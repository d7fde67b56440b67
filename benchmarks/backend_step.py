"""Training-step time of the G2P recipe's model on this Keras backend and
device: the package's fused recurrent layers against Keras' own, in the same
model, side by side in one process.

The model is `Seq2Seq` as the README's G2P `train` line makes it (read from
the line, as `g2p.py`'s probe does: today a bidirectional GRU encoder of 2
layers, 512 units, embeddings of 128, Luong's attentional layer of 512,
scaled dot scores) on made-up padded batches (sources and targets of 4 to
16 tokens, so every batch has masks), trained with `train_on_batch` as
`fit` runs it on the backend (`jit` on JAX, `tf.function` on TensorFlow,
eager on PyTorch). The contenders:

- `fused`: the package (`FusedGRU` or `FusedLSTM` in the encoder and
  decoder);
- `keras`: the same model with `keras.layers.GRU` or `LSTM` put in their place (with
  masks, Keras runs its generic loop on JAX and PyTorch, and cuDNN on
  TensorFlow with a GPU).

They take turns within each repeat; the table gives each one's median
milliseconds a step, target tokens a second, and the ratio. A matmul of
`(batch, units) x (units, gates * units)`, the decoder's recurrent step, and a large one
(4096 cubed) give the device's float32 FLOP/s, for scale. Needs only Keras,
numpy and a backend: it runs where TensorFlow is not installed.

Usage: KERAS_BACKEND=jax python benchmarks/backend_step.py [--steps 20] [--repeats 5]
"""

import argparse
import statistics
import time

import keras
import numpy as np
import recipes  # benchmarks/recipes.py

from keras_attention.models import Seq2Seq
from keras_attention.models import seq2seq as seq2seq_module
from keras_attention_cli.main import build_parser
from keras_attention_cli.main import config_from_flags
from keras_attention_cli.options import ModelConfig

G2P_SECTION = "## Grapheme-to-phoneme (CMUdict)"
SOURCE_VOCABULARY, TARGET_VOCABULARY = 32, 44


def recipe_network():
    """The `Seq2Seq` options of the README's G2P `train` line."""
    line = recipes.recipe_train_line(G2P_SECTION)
    args = build_parser().parse_args(["train", *recipes.with_files(line, "-", "-", "-")])
    return config_from_flags(ModelConfig, args).network()


def padded_batches(count, batch_size, length, seed=0):
    """`count` batches of (source, decoder input) ids and next-token targets,
    each row 4 to `length` real tokens then padding (id 0)."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        arrays = []
        for vocabulary in (SOURCE_VOCABULARY, TARGET_VOCABULARY):
            ids = rng.integers(1, vocabulary, size=(batch_size, length))
            real = rng.integers(4, length + 1, size=(batch_size, 1))
            arrays.append(np.where(np.arange(length) < real, ids, 0).astype("int32"))
        source, decoder = arrays
        targets = np.where(decoder > 0, np.roll(decoder, -1, axis=1), 0)
        batches.append(((source, decoder), targets))
    return batches


def recipe_model(network, recurrent_layers):
    saved = dict(seq2seq_module.FUSED)
    seq2seq_module.FUSED.update(recurrent_layers)
    try:
        model = Seq2Seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, **network)
    finally:
        seq2seq_module.FUSED.update(saved)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    return model


def seconds_a_step(model, batches):
    start = time.perf_counter()
    for inputs, targets in batches:
        float(model.train_on_batch(inputs, targets))  # waits for the device
    return (time.perf_counter() - start) / len(batches)


def matmul_flops(rows, inner, columns, repeats=20):
    a = keras.random.normal((rows, inner), seed=1)
    b = keras.random.normal((inner, columns), seed=2)
    keras.ops.convert_to_numpy(keras.ops.sum(keras.ops.matmul(a, b)))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        keras.ops.convert_to_numpy(keras.ops.sum(keras.ops.matmul(a, b)))
        seconds.append(time.perf_counter() - start)
    return 2 * rows * inner * columns / statistics.median(seconds)


def device_name():
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return str(jax.devices()[0])
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name if gpus else "cpu"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="steps a repeat (default 20)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--length", type=int, default=16, help="padded length (default 16)")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    batches = padded_batches(args.steps, args.batch_size, args.length)
    target_tokens = sum(int((targets > 0).sum()) for _, targets in batches) / len(batches)
    network = recipe_network()
    contenders = {
        "fused": recipe_model(network, {}),
        "keras": recipe_model(network, {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}),
    }
    for model in contenders.values():
        seconds_a_step(model, batches[:2])  # compile
    seconds = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, model in contenders.items():
            seconds[name].append(seconds_a_step(model, batches))

    print(f"backend {keras.backend.backend()}, device {device_name()}")
    # The widest recurrent kernel, the decoder's: (units, gates * units).
    kernel = max(
        (w for w in contenders["fused"].weights if w.path.endswith("recurrent_kernel")),
        key=lambda w: w.shape[0],
    )
    step_shape = (args.batch_size, *kernel.shape)
    print(
        f"float32 matmul: {matmul_flops(*step_shape) / 1e12:.2f} TFLOP/s at "
        f"{step_shape[0]}x{step_shape[1]} by {step_shape[1]}x{step_shape[2]}, "
        f"{matmul_flops(4096, 4096, 4096) / 1e12:.2f} TFLOP/s at 4096 cubed"
    )
    print(f"batch {args.batch_size}, padded length {args.length}, {args.repeats} repeats")
    print(f"{'layers':<8}{'ms/step':>10}{'target tok/s':>15}{'vs fused':>10}")
    fused = statistics.median(seconds["fused"])
    for name, times in seconds.items():
        median = statistics.median(times)
        print(
            f"{name:<8}{1000 * median:>10.1f}{target_tokens / median:>15,.0f}"
            f"{median / fused:>10.2f}"
        )


if __name__ == "__main__":
    main()
