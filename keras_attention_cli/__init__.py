"""The `keras-attention` command, in plain Python up to the point where it
calls the library.

`import keras_attention` imports Keras and registers every serialisable
class of the package with it, so that `keras.saving.load_model` finds them
whatever the user imported first. The command must answer `--help` and
argument errors without loading TensorFlow, so it lives here, outside that
package, with the two plain-Python modules it reads before TensorFlow loads
and shares with the library: `options` (the choices and defaults of every
option) and `layout` (the files of a model folder). `console` filters what
TensorFlow prints while the command runs.
"""
