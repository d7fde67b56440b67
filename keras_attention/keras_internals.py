"""Every use of a private or undocumented Keras name, in one place.

Each is a workaround for something public Keras cannot do yet:

- `BackupHooks`: `keras.callbacks.BackupAndRestore`'s `_load_model` and
  `_save_model`, its `_current_epoch` and the model's `_initial_epoch`, so
  that `backup.EpochBackup` can write its backups atomically.
- `replace_symbolic_build`: `Model._symbolic_build` and
  `_maybe_symbolic_build`, which fail under `MultiWorkerMirroredStrategy`
  (keras-team/keras#20585; used by `distribute.fit_under_multi_worker`).
- `global_seed_state` and `set_global_seed_state`: the global seed and
  seed generator that `keras.utils.set_random_seed` sets, which Keras has
  no public getter for, so that `process_state.seeded` can put them back.
- `set_logged_keys`: `keras.callbacks.CSVLogger.keys`, which Keras fills
  with a `val_` twin of every column when an epoch has no `val_` value.
- `recurrent_loop`: the backend's `rnn`, the masked loop that Keras'
  recurrent layers run, for `layers.FusedGRU`/`FusedLSTM`'s own step
  (`keras.ops.scan` has no masks, and on TensorFlow it stacks every carry).
- `no_object_sharing`: the maps of `keras.src.saving.serialization_lib`'s
  `ObjectSharingScope`, which `keras.saving.load_model` opens. Inside it,
  `keras.layers.Bidirectional`'s constructor records the layer it copies
  by `id()`; once that layer is freed, another Bidirectional built in the
  same load can get its id and be handed the first one's backward layer as
  its forward layer (it then refuses: both go backwards). `Seq2Seq` builds
  its Bidirectional encoders outside the scope, so a model with several
  (two encoder layers, or an ensemble) loads every time, not only when
  CPython happens not to reuse an id.

(keras-team/keras#20095, Keras variables that TensorFlow's SavedModel does
not track, is worked around with the public `Variable.value` in `export`.)

They were written for and tested with the Keras releases in
`TESTED_KERAS`, and `pyproject.toml` allows exactly those (a test checks
that the two agree), so pip does not install a Keras they were not tested
with; on any other (installed by hand), each fails at its first use with a
message that says so, rather than misbehaving silently.
"""

import contextlib

import keras

TESTED_KERAS = ("3.15",)


def check_keras_version(workaround):
    """Raises `RuntimeError` unless the installed Keras is one `workaround`
    (a short description) was tested with."""
    installed = ".".join(keras.version().split(".")[:2])
    if installed not in TESTED_KERAS:
        raise RuntimeError(
            f"keras_attention: {workaround} uses private Keras names tested only with Keras "
            f"{', '.join(TESTED_KERAS)}; this is Keras {keras.version()}. Install "
            f"keras=={TESTED_KERAS[-1]}.* "
            f"or a keras_attention release that supports it."
        )


class BackupHooks(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` whose restore and backup are the public-named
    `restore_backup()` and `write_backup()` of a subclass, with the epoch
    read through `current_epoch` and set through `set_initial_epoch`."""

    def __init__(self, *args, **kwargs):
        check_keras_version("resumable training (BackupAndRestore's _load_model/_save_model)")
        super().__init__(*args, **kwargs)

    def _load_model(self):
        self.restore_backup()

    def _save_model(self):
        self.write_backup()

    @property
    def current_epoch(self):
        """The epoch just finished, as `BackupAndRestore` counts it."""
        return self._current_epoch

    def set_initial_epoch(self, epoch):
        """Makes `fit` continue at `epoch`."""
        self.model._initial_epoch = epoch

    def restore_backup(self):
        """Restores the backup, if any, into `self.model`."""
        raise NotImplementedError

    def write_backup(self):
        """Backs the training state up."""
        raise NotImplementedError


def replace_symbolic_build(model, build):
    """Makes `model.fit` build its optimizer and metrics with `build(iterator,
    data_batch)` instead of Keras' own; returns Keras' `_symbolic_build`
    (call it with `data_batch=`) for `build` to use
    (keras-team/keras#20585)."""
    check_keras_version("multi-worker training (keras-team/keras#20585)")
    model._maybe_symbolic_build = build
    return model._symbolic_build


def set_logged_keys(logger, keys):
    """Sets the columns a `keras.callbacks.CSVLogger` writes."""
    check_keras_version("the training log's columns (CSVLogger.keys)")
    logger.keys = keys


def global_seed_state():
    """Keras' global random seed and global `SeedGenerator`, as an opaque
    value for `set_global_seed_state`."""
    check_keras_version("restoring the global seed (keras.src.backend.common.global_state)")
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    return (
        global_state.get_global_attribute(rng_utils.GLOBAL_RANDOM_SEED),
        global_state.get_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR),
    )


def set_global_seed_state(state):
    """Puts back what `global_seed_state` returned."""
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    seed, generator = state
    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, generator)


def recurrent_loop(layer, step, sequences, initial_states, mask):
    """Runs `step(inputs_t, states) -> (output, states)` over the time axis
    of `sequences` as `layer` (a `keras.layers.RNN`) runs its cell: with its
    `go_backwards`, `zero_output_for_mask` and `return_sequences`; returns
    `(last_output, outputs, states)`, what `RNN.inner_loop` returns."""
    check_keras_version("the fused recurrent layers (keras.src.backend.rnn)")
    from keras.src import backend

    return backend.rnn(
        step,
        sequences,
        initial_states,
        go_backwards=layer.go_backwards,
        mask=mask,
        unroll=False,
        input_length=sequences.shape[1],
        zero_output_for_mask=layer.zero_output_for_mask,
        return_all_outputs=layer.return_sequences,
    )


# The global attributes of `serialization_lib.ObjectSharingScope`.
_OBJECT_SHARING_MAPS = ("shared_objects/id_to_obj_map", "shared_objects/id_to_config_map")


@contextlib.contextmanager
def no_object_sharing():
    """Runs its block outside any `ObjectSharingScope` that is open (Keras
    opens one while loading a model), putting the scope back after: for
    layers built anew, none of them shared."""
    check_keras_version("loading without object sharing (keras.src.saving.serialization_lib)")
    from keras.src.backend.common import global_state

    opened = [global_state.get_global_attribute(name) for name in _OBJECT_SHARING_MAPS]
    for name in _OBJECT_SHARING_MAPS:
        global_state.set_global_attribute(name, None)
    try:
        yield
    finally:
        for name, value in zip(_OBJECT_SHARING_MAPS, opened):
            global_state.set_global_attribute(name, value)
