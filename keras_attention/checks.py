"""Argument and input checks shared by the layers, models, data and decoding.

Each check raises an error that names the argument, what was expected and
what was received, in the style of Keras' own messages.
"""

import math
import numbers

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


def check_positive_int(name, value, owner="", alternative=""):
    """Return `value` as a Python int; raise `ValueError` unless it is an
    integer >= 1 (a Python or NumPy integer: bools are refused).

    `owner` prefixes the message (`"Seq2Seq: "`); `alternative` names what
    else is accepted (`", or None to ..."`).
    """
    return check_int(name, value, 1, "a positive integer", owner, alternative)


def check_int(name, value, minimum, expected, owner="", alternative=""):
    """Return `value` as a Python int; raise `ValueError` unless it is an
    integer (Python or NumPy, not a bool) >= `minimum`, saying it must be
    `expected` (`"an int >= 0"`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"{owner}`{name}` must be {expected}{alternative}. Received: {name}={value!r}"
        )
    return int(value)


def check_number(name, value, expected, within, owner="", alternative=""):
    """Return `value` as a Python float; raise `ValueError` unless it is a
    finite real number (a Python or NumPy int or float: bools, NaN and
    infinities are refused) for which `within(value)` holds, saying it
    must be `expected` (`"a number >= 0"`)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not within(value)
    ):
        raise ValueError(
            f"{owner}`{name}` must be {expected}{alternative}. Received: {name}={value!r}"
        )
    return float(value)
