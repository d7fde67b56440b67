"""Generators for the book's toy tasks: date formats and addition."""

import datetime

import numpy as np

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FIRST_DATE = datetime.date(1970, 1, 1)
LAST_DATE = datetime.date(2017, 12, 31)


def _cased(text, case):
    return {"lower": text.lower(), "title": text.title(), "upper": text.upper()}[case]


def format_date(date, style, case="lower", abbreviated=False):
    """One surface form of `date`, as in the book's date data set.

    Args:
        date: `datetime.date`.
        style: `"numeric"` (`9/27/94`), `"month"` (`september 27, 1994`) or
            `"weekday"` (`tuesday, september 27, 1994`).
        case: `"lower"`, `"title"` or `"upper"`, for the named forms.
        abbreviated: bool, `sep` for `september` (and `tue` for `tuesday`).
    """
    if style == "numeric":
        return f"{date.month}/{date.day}/{date.year % 100:02d}"
    month = MONTHS[date.month - 1]
    weekday = WEEKDAYS[date.weekday()]
    if abbreviated:
        month, weekday = month[:3], weekday[:3]
    text = f"{month} {date.day}, {date.year}"
    if style == "weekday":
        text = f"{weekday}, {text}"
    elif style != "month":
        raise ValueError(
            f"`style` must be 'numeric', 'month' or 'weekday'. Received: style={style!r}"
        )
    return _cased(text, case)


def date_pairs(count=50000, seed=0):
    """`count` distinct (surface form, `YYYY-MM-DD`) pairs, 1970–2017.

    Sources are distinct, so a train/test split of them never tests a
    string seen in training.
    """
    rng = np.random.default_rng(seed)
    days = (LAST_DATE - FIRST_DATE).days + 1
    pairs, seen = [], set()
    while len(pairs) < count:
        date = FIRST_DATE + datetime.timedelta(days=int(rng.integers(days)))
        style = ("numeric", "month", "weekday")[rng.integers(3)]
        case = ("lower", "title", "upper")[rng.integers(3)]
        source = format_date(date, style, case, abbreviated=bool(rng.integers(2)))
        if source not in seen:
            seen.add(source)
            pairs.append((source, date.isoformat()))
    return pairs


def date_splits(train_size=45000, test_size=5000, seed=0):
    """The book's date task: 45,000 train and 5,000 test pairs by default."""
    pairs = date_pairs(train_size + test_size, seed=seed)
    return pairs[:train_size], pairs[train_size:]


def date_task_splits(train_size=45000, dev_size=1000, test_size=5000, seed=0):
    """`{"train", "dev", "test"}` date pairs, all sources distinct; train and
    test are `date_splits`' own (the demo's), dev the pairs after them."""
    pairs = date_pairs(train_size + test_size + dev_size, seed=seed)
    test_end = train_size + test_size
    return {
        "train": pairs[:train_size],
        "dev": pairs[test_end:],
        "test": pairs[train_size:test_end],
    }


def addition_pairs(count=50000, max_digits=3, seed=0):
    """(`'16+75'`, `'91'`) pairs with operands of up to `max_digits` digits."""
    rng = np.random.default_rng(seed)
    high = 10**max_digits
    pairs = []
    for a, b in rng.integers(0, high, size=(count, 2)):
        pairs.append((f"{a}+{b}", str(a + b)))
    return pairs
