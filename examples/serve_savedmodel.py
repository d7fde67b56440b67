r"""Load an exported SavedModel and translate with it: TensorFlow and
tensorflow-text only, no keras_attention (what a serving process has).

Export one first, e.g. with `keras-attention demo`, which writes
`demo_output/model/saved_model`, then:

    python examples/serve_savedmodel.py demo_output/model/saved_model "september 27, 1994" 9/27/94
    python examples/serve_savedmodel.py demo_output/model/saved_model \
        --signature beam_search 9/27/94

With no texts it translates a few dates of the book's task.
"""

import argparse

import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers NormalizeUTF8, which the graph uses)

EXAMPLES = ["september 27, 1994", "9/27/94", "Tuesday, Sep 27, 1994", "JUNE 1, 2017"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("saved_model", help="folder written by `keras-attention export`")
    parser.add_argument("texts", nargs="*", default=EXAMPLES, help="texts to translate")
    parser.add_argument(
        "--signature", choices=["serving_default", "beam_search"], default="serving_default"
    )
    args = parser.parse_intermixed_args(argv)

    served = tf.saved_model.load(args.saved_model)
    outputs = served.signatures[args.signature](text=tf.constant(args.texts, tf.string))
    for text, translation in zip(args.texts, outputs["translation"].numpy()):
        print(f"{text}\t{translation.decode('utf-8')}")
    print(f"attention_weights: {outputs['attention_weights'].shape} (batch, out_len, in_len)")


if __name__ == "__main__":
    main()
