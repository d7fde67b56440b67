import datetime
import re

from keras_attention.data.generators import addition_pairs
from keras_attention.data.generators import date_pairs
from keras_attention.data.generators import date_splits
from keras_attention.data.generators import format_date

DATE = datetime.date(1994, 9, 27)  # a Tuesday


def test_the_book_surface_forms():
    assert format_date(DATE, "numeric") == "9/27/94"
    assert format_date(DATE, "month") == "september 27, 1994"
    assert format_date(DATE, "month", "title", abbreviated=True) == "Sep 27, 1994"
    assert format_date(DATE, "weekday", "upper") == "TUESDAY, SEPTEMBER 27, 1994"
    assert format_date(DATE, "weekday", "title", abbreviated=True) == "Tue, Sep 27, 1994"


def test_pairs_are_distinct_seeded_and_correct():
    pairs = date_pairs(3000, seed=3)
    assert pairs == date_pairs(3000, seed=3)
    assert len({source for source, _ in pairs}) == 3000
    for source, target in pairs:
        date = datetime.date.fromisoformat(target)
        assert 1970 <= date.year <= 2017
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", target)
        if "/" in source:
            month, day, year = source.split("/")
            assert (int(month), int(day), int(year)) == (date.month, date.day, date.year % 100)
        else:
            assert str(date.year) in source and f" {date.day}," in source


def test_splits_have_the_book_sizes_and_no_shared_source():
    train, test = date_splits(train_size=900, test_size=100)
    assert len(train) == 900 and len(test) == 100
    assert not {s for s, _ in train} & {s for s, _ in test}


def test_addition():
    for source, target in addition_pairs(200, seed=1):
        a, b = source.split("+")
        assert int(a) + int(b) == int(target)
