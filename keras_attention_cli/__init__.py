"""The `keras-attention` command, in plain Python up to the point where it
calls the library.

`import keras_attention` imports Keras and registers every serialisable
class of the package with it, so that `keras.saving.load_model` finds them
whatever the user imported first. The command must answer `--help` and
argument errors without loading TensorFlow, so it lives here, outside that
package, with the plain-Python modules it uses before TensorFlow loads and
shares with the library: `options` (every option: its choices, default and
check, as one config object per concern), `layout` (the files of a model
folder), `tsv` (pairs in and out) and `files` (reading and atomic
writing). `console` filters what TensorFlow prints while the command runs.
"""
