"""Argument and input checks shared by the layers, models, data and decoding.

Each check raises an error that names the argument, what was expected and
what was received, in the style of Keras' own messages.
"""

from keras import backend


def check_rank(layer_name, arg_name, shape, ranks, layout):
    """Raise `ValueError` unless `len(shape)` is one of `ranks`."""
    if len(shape) not in ranks:
        raise ValueError(
            f"{layer_name}: `{arg_name}` must have rank "
            f"{' or '.join(str(rank) for rank in ranks)}, shaped {layout}. "
            f"Received: {arg_name}.shape={tuple(shape)}"
        )


def check_floating(layer_name, arg_name, tensor):
    """Raise `TypeError` unless `tensor` holds floating point values."""
    dtype = backend.standardize_dtype(tensor.dtype)
    if "float" not in dtype:
        raise TypeError(
            f"{layer_name}: `{arg_name}` must be a floating point tensor of "
            f"hidden states (e.g. the output of an LSTM or GRU), not token "
            f"ids. Received: {arg_name}.dtype={dtype}"
        )


def check_same_size(layer_name, what, first, second):
    """Raise `ValueError` if two known sizes of the same axis differ.

    `first` and `second` are `(description, size)` pairs; `None` sizes are
    unknown until run time and pass.
    """
    (first_name, first_size), (second_name, second_size) = first, second
    if first_size is None or second_size is None:
        return
    if first_size != second_size:
        raise ValueError(
            f"{layer_name}: {what} must match, but {first_name} is "
            f"{first_size} and {second_name} is {second_size}."
        )


def check_not_empty(layer_name, arg_name, shape, axis, axis_name):
    """Raise `ValueError` if a known axis has length zero."""
    if shape[axis] == 0:
        raise ValueError(
            f"{layer_name}: `{arg_name}` must have at least one {axis_name}. "
            f"Received: {arg_name}.shape={tuple(shape)}"
        )
