"""Drop TimeAttention into a functional encoder–decoder, train it, look at it.

The task: reverse a sequence of digits ('3 1 4' → '4 1 3'), of varying
length, padded with 0. Attention solves it by looking, at output step t, at
input position n - 1 - t: the heatmap shows an anti-diagonal.

Usage: python examples/quickstart.py [--epochs 6] [--png attention.png]
"""

import argparse

import keras
import numpy as np

from keras_attention import TimeAttention

PAD, START = 0, 1
DIGITS = range(2, 12)  # token ids of the digits 0-9
VOCABULARY = 12


def make_data(count, max_len=8, seed=0):
    """Sources, teacher-forced decoder inputs and targets, all padded with 0."""
    rng = np.random.default_rng(seed)
    sources = np.zeros((count, max_len), "int32")
    decoder_inputs = np.zeros((count, max_len + 1), "int32")
    targets = np.zeros((count, max_len + 1), "int32")
    for row in range(count):
        length = rng.integers(3, max_len + 1)
        digits = rng.choice(list(DIGITS), size=length)
        sources[row, :length] = digits
        decoder_inputs[row, : length + 1] = [START, *digits[::-1]]
        targets[row, :length] = digits[::-1]
    return sources, decoder_inputs, targets


def build_model(units=64, embedding_dim=16):
    # === Encoder ===
    source_ids = keras.Input((None,), dtype="int32", name="source_ids")
    encoder_states, state_h, state_c = keras.layers.LSTM(
        units, return_sequences=True, return_state=True, name="encoder"
    )(keras.layers.Embedding(VOCABULARY, embedding_dim, mask_zero=True)(source_ids))
    # === Decoder, with attention over every encoder state ===
    decoder_ids = keras.Input((None,), dtype="int32", name="decoder_ids")
    decoder_states = keras.layers.LSTM(units, return_sequences=True, name="decoder")(
        keras.layers.Embedding(VOCABULARY, embedding_dim, mask_zero=True)(decoder_ids),
        initial_state=[state_h, state_c],
    )
    context, attention_weights = TimeAttention(return_attention_weights=True, name="attention")(
        decoder_states, encoder_states
    )
    logits = keras.layers.Dense(VOCABULARY, name="logits")(
        keras.layers.Concatenate()([context, decoder_states])
    )
    training_model = keras.Model([source_ids, decoder_ids], logits)
    inspection_model = keras.Model([source_ids, decoder_ids], [logits, attention_weights])
    return training_model, inspection_model


def plot_attention(weights, source, output, png):
    from matplotlib.figure import Figure  # no pyplot: no global backend or figures

    figure = Figure(figsize=(4, 4))
    axes = figure.subplots()
    axes.imshow(weights[: len(output), : len(source)], cmap="Greys_r", vmin=0, vmax=1)
    axes.set_xticks(range(len(source)), source)
    axes.set_yticks(range(len(output)), output)
    axes.set_xlabel("input")
    axes.set_ylabel("output")
    axes.set_title("TimeAttention weights")
    figure.tight_layout()
    figure.savefig(png, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--png", default="attention.png")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)

    sources, decoder_inputs, targets = make_data(6000)
    test_sources, test_decoder_inputs, test_targets = make_data(500, seed=1)
    training_model, inspection_model = build_model()
    training_model.compile(
        optimizer=keras.optimizers.Adam(0.005),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD),
    )
    training_model.fit(
        [sources, decoder_inputs], targets, batch_size=64, epochs=args.epochs, verbose=2
    )

    logits, weights = inspection_model.predict([test_sources, test_decoder_inputs], verbose=0)
    predicted = logits.argmax(-1)
    real = test_targets != PAD
    token_accuracy = (predicted == test_targets)[real].mean()
    print(f"teacher-forced token accuracy on 500 test sequences: {token_accuracy:.3f}")

    length = int((test_sources[0] != PAD).sum())
    source = [str(t - 2) for t in test_sources[0, :length]]
    output = [str(t - 2) for t in predicted[0, :length]]
    print(f"{' '.join(source)} -> {' '.join(output)}")
    plot_attention(weights[0], source, output, args.png)
    print(f"attention heatmap written to {args.png}")


if __name__ == "__main__":
    main()
