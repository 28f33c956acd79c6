"""ErrorList: the first errors by line, and how many in all, in bounded memory."""

import random

import pytest

from diversion.error_lists import ErrorList
from diversion.reoffence_imports import _line_number


def messages(lines: range) -> list[str]:
    return [f"line {n}, offence_date: Enter an offence date" for n in lines]


@pytest.mark.parametrize("limit", [None, 1, 5, 1000])
def test_keeps_the_first_errors_by_line_whatever_order_they_arrive_in(limit):
    errors = messages(range(2, 202))
    shuffled = random.Random(1).sample(errors, len(errors))
    collected = ErrorList(key=_line_number, limit=limit)
    collected.extend(shuffled)
    assert collected.total == len(collected) == 200
    assert collected.listed() == errors[:limit]


def test_errors_on_one_line_keep_column_order_then_arrival_order():
    collected = ErrorList(key=_line_number, limit=3)
    collected.extend(
        [
            "line 3, person_ref: There is no person with reference 'X'",
            "line 2, source_ref: second on source_ref",
            "line 2, person_ref: Enter a person reference",
            "line 2, source_ref: third on source_ref",
        ]
    )
    assert collected.listed() == [
        "line 2, person_ref: Enter a person reference",
        "line 2, source_ref: second on source_ref",
        "line 2, source_ref: third on source_ref",
    ]


def test_holds_no_more_than_its_limit():
    collected = ErrorList(key=_line_number, limit=100)
    collected.extend(messages(range(100_000, 0, -1)))
    assert len(collected._kept) == 100
    assert collected.total == 100_000


def test_is_false_only_when_empty():
    collected = ErrorList(key=_line_number, limit=10)
    assert not collected
    collected.append("line 2, row: The row has more values than the header")
    assert collected


@pytest.mark.parametrize("limit", [None, 1, 3])
def test_merged_lists_keep_the_first_errors_and_count_every_one(limit):
    """A list merged into another brings the count of what it did not keep too."""
    from diversion.csv_import import LineErrors

    whole = LineErrors(["person_ref", "offence_date"], unknown=-1, limit=limit)
    first, second = whole.fresh(), whole.fresh()
    for line in range(2, 12):
        (first if line % 3 else second).add(line, "offence_date", "Enter an offence date")
    whole.merge(first)
    whole.merge(second)
    expected = [f"line {n}, offence_date: Enter an offence date" for n in range(2, 12)]
    assert whole.total == 10
    assert whole.listed() == expected[:limit]
