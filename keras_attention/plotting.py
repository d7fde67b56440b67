"""Attention heatmaps: input tokens across, output tokens down."""

import textwrap

import numpy as np


def plot_attention(attention_weights, source_tokens, output_tokens, path, title=None):
    """Writes a PNG heatmap of one translation's attention weights.

    Args:
        attention_weights: array `(out_len, src_len)` (or larger; the top-left
            `len(output_tokens) x len(source_tokens)` block is drawn).
        source_tokens: list of str, the input tokens (columns).
        output_tokens: list of str, the output tokens (rows).
        path: where to write the PNG.
        title: optional str.
    """
    # The object API draws without pyplot's global state: the user's
    # backend and open figures are left alone.
    from matplotlib.figure import Figure

    weights = np.asarray(attention_weights, np.float32)
    if weights.ndim != 2:
        raise ValueError(
            f"`attention_weights` must be (out_len, src_len). Received shape {weights.shape}"
        )
    if not source_tokens or not output_tokens:
        raise ValueError("Nothing to plot: `source_tokens` and `output_tokens` must not be empty.")
    weights = weights[: len(output_tokens), : len(source_tokens)]
    shown = [token if token.strip() else "␣" for token in source_tokens]
    figure = Figure(
        figsize=(max(4, 0.35 * len(source_tokens) + 1.5), max(3, 0.35 * len(output_tokens) + 1.5))
    )
    axes = figure.subplots()
    image = axes.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    # A column is about 4 characters wide: longer input tokens (words,
    # subword pieces) are written upwards so that neighbours do not overlap.
    upright = max(len(token) for token in shown) > 3
    axes.set_xticks(range(len(shown)), shown, fontsize=9, rotation=90 if upright else 0)
    axes.set_yticks(range(len(output_tokens)), output_tokens, fontsize=9)
    axes.set_xlabel("input tokens")
    axes.set_ylabel("output tokens")
    if title:  # wrapped to the figure's width (about 12 characters an inch at this size)
        width = max(20, int(figure.get_figwidth() * 12))
        axes.set_title("\n".join(textwrap.wrap(title, width)), fontsize=10)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="attention weight")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


def plot_translation(translator, text, path):
    """Translates `text` (greedy) with a `Translator` and writes the heatmap
    of its attention weights to `path`; returns the translation.

    Raises:
        ValueError: `text` has no tokens the model reads.
    """
    result = translator.translate([text])
    source_tokens = translator.source_tokens(text)
    if not source_tokens:
        raise ValueError("nothing to plot: the text has no tokens")
    output_tokens = translator.target_tokens(result["token_ids"][0])
    plot_attention(
        result["attention_weights"][0],
        source_tokens,
        output_tokens,
        path,
        title=f"{text!r} → {result['translation'][0]!r}",
    )
    return result["translation"][0]
