import numpy as np
import pytest

from keras_attention_cli.options import OptionError
from keras_attention_cli.options import check_int
from keras_attention_cli.options import check_number
from keras_attention_cli.options import check_positive_int


@pytest.mark.parametrize("value", [1, 7, np.int64(7), np.int32(7), np.uint8(7)], ids=repr)
def test_a_python_or_numpy_integer_passes_as_a_python_int(value):
    checked = check_positive_int("units", value)
    assert checked == int(value) and type(checked) is int


@pytest.mark.parametrize(
    "value", [0, -3, np.int64(0), True, np.bool_(True), 7.0, np.float32(7), "7", None], ids=repr
)
def test_anything_else_is_refused_naming_the_argument_and_the_value(value):
    with pytest.raises(ValueError) as error:
        check_positive_int("units", value, owner="Seq2Seq: ", alternative=", or None")
    assert (
        str(error.value)
        == f"Seq2Seq: `units` must be a positive integer, or None. Received: units={value!r}"
    )


def test_check_int_takes_its_own_minimum():
    assert check_int("attentional_units", np.int16(0), 0, "an int >= 0") == 0
    with pytest.raises(
        ValueError,
        match=r"`attentional_units` must be an int >= 0\. Received: attentional_units=-1",
    ):
        check_int("attentional_units", -1, 0, "an int >= 0")


@pytest.mark.parametrize("value", [0.5, 2, np.float32(0.5), np.float64(0.5), np.int64(2)], ids=repr)
def test_a_python_or_numpy_real_number_passes_as_a_python_float(value):
    checked = check_number("temperature", value, "a positive number", lambda t: t > 0)
    assert checked == float(value) and type(checked) is float


@pytest.mark.parametrize(
    "value",
    [
        0,
        -0.5,
        float("nan"),
        np.float32("nan"),
        float("inf"),
        -float("inf"),
        True,
        np.bool_(False),
        "0.5",
        None,
    ],
    ids=repr,
)
def test_any_other_number_is_refused_naming_the_argument_and_the_value(value):
    with pytest.raises(ValueError) as error:
        check_number(
            "temperature",
            value,
            "a positive number",
            lambda t: t > 0,
            owner="AttentionWeight: ",
            alternative=", or None to learn it",
        )
    assert str(error.value) == (
        "AttentionWeight: `temperature` must be a positive number, or None to learn it. "
        f"Received: temperature={value!r}"
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"average_epochs": 0}, "`average_epochs` must be a positive integer"),
        (
            {"average_epochs": 3, "patience": 2},
            "`average_epochs` must be 1 with `patience` (early stopping keeps the best epoch's "
            "weights, not a mean). Received: average_epochs=3",
        ),
        ({"jobs": 0}, "`jobs` must be a positive integer. Received: jobs=0"),
        (
            {"ensemble": 2, "jobs": 3, "threads": 1},
            "`jobs` must be at most `ensemble` (2): the members are what trains at the same time. "
            "Received: jobs=3",
        ),
        (
            {"ensemble": 2, "jobs": 2},
            "`threads` must be a count with `jobs` 2 (each member's process runs with that many "
            "threads). Received: threads=None",
        ),
        (
            {"ensemble": 2, "jobs": 2, "threads": 1, "distribution": "mirrored"},
            "`jobs` must be 1 under the mirrored distribution (it trains each member on all its "
            "devices). Received: jobs=2",
        ),
    ],
)
def test_training_options_that_cannot_work_are_refused_naming_the_option(options, message):
    from keras_attention_cli.options import TrainingConfig

    with pytest.raises(OptionError) as raised:
        TrainingConfig(**options)
    assert message in str(raised.value)
