import matplotlib
import numpy as np
import pytest

from keras_attention.plotting import plot_attention


def test_plot_attention_writes_a_png_and_leaves_the_users_backend_alone(tmp_path):
    matplotlib.use("svg")  # a user's choice, which plotting must not switch
    import matplotlib.pyplot as plt

    weights = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]], np.float32)
    path = plot_attention(weights, ["a", " ", "c"], ["x", "y"], tmp_path / "heatmap.png", title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.get_backend() == "svg"
    assert plt.get_fignums() == []  # no pyplot figure left open


@pytest.mark.parametrize(
    "weights, sources, outputs, message",
    [
        (np.zeros((2, 3, 1)), ["a"], ["b"], r"must be \(out_len, src_len\)"),
        (np.zeros((2, 3)), [], ["b"], "must not be empty"),
    ],
)
def test_plot_attention_refuses_bad_input(tmp_path, weights, sources, outputs, message):
    with pytest.raises(ValueError, match=message):
        plot_attention(weights, sources, outputs, tmp_path / "x.png")
