"""The import's quick paths give exactly what the slow ones they stand in for give.

`encounter_rows._check_characters` checks a whole row with one ``str.isprintable`` before
looking at each value; staging tables are written as CSV by the csv module (``FORCE_NULL``
turning ``""`` back into NULL), and on PostgreSQL in a thread of their own; history rows are
written from ``INSERT ... RETURNING``.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diversion import encounter_rows, staging
from diversion.csv_import import LineErrors
from diversion.encounter_rows import COLUMNS, LABELS, Row
from diversion.validators import text_problem

# Printable text with, now and then, a character a value must not hold.
TRICKY = "\x00\x07\t\n\r\u200b\u200e\u2028\ufeff\ue000\U000e0001\x7f\x85"
VALUES = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(TRICKY), max_size=8)


def _slow(raw: dict[str, str]) -> tuple[list[str], set[str]]:
    """The check as it was: `text_problem` on every value."""
    errors = LineErrors(COLUMNS, unknown=-1)
    bad = set()
    for column, value in raw.items():
        problem = text_problem(value, noun=LABELS[column])
        if problem:
            errors.add(7, column, problem)
            bad.add(column)
    return errors.listed(), bad


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({column: VALUES for column in COLUMNS}))
def test_checking_a_row_at_once_finds_the_same_characters_as_value_by_value(raw):
    errors = LineErrors(COLUMNS, unknown=-1)
    row = Row(line=7, raw=raw)
    encounter_rows._check_characters(row, errors)
    assert (errors.listed(), row.bad_columns) == _slow(raw)


@pytest.mark.parametrize(
    "value",
    ["Sam", "", "O'Brien", "Zoë", "a\u200bb", "tab\there", "line\nbreak", "\ufeffPER-1", "\x85"],
)
def test_each_tricky_value_is_judged_as_before(value):
    raw = dict.fromkeys(COLUMNS, "x") | {"first_name": value}
    errors = LineErrors(COLUMNS, unknown=-1)
    row = Row(line=7, raw=raw)
    encounter_rows._check_characters(row, errors)
    assert (errors.listed(), row.bad_columns) == _slow(raw)


ROWS = [
    (1, "ENC-1", "", None, None, None, None),
    (2, "", 'say "hi", then go', date(2025, 3, 1), Decimal("2.500"), True, 0),
    (3, "line\nbreak\r\nand comma,", "NULL", date(1900, 1, 1), Decimal("0.001"), False, -5),
    (4, "\\N", "\\", None, Decimal("99999.999"), None, 2**30),
    (5, "Zoë 🌿", '""', date(2026, 12, 31), None, True, None),
]
KINDS = [
    ("line", "int"),
    ("a", "text"),
    ("b", "text"),
    ("day", "date"),
    ("grams", "grams"),
    ("yes", "bool"),
    ("n", "int"),
]


def _read_back(table: staging.Table) -> list[tuple[object, ...]]:
    rows = staging.fetch(f"SELECT * FROM {table.name} ORDER BY line")  # nosec B608
    return [
        (line, a, b, staging.as_date(day), staging.as_grams(grams), staging.as_bool(yes), n)
        for line, a, b, day, grams, yes, n in rows
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chunk", [1, 2, 10_000])
def test_staged_rows_read_back_exactly_as_written(monkeypatch, chunk):
    """Empty text stays empty text and None stays NULL, however the rows are chunked."""
    monkeypatch.setattr(staging, "CHUNK", chunk)
    with transaction.atomic():
        table = staging.Table("test_staged_values", KINDS)
        table.create()
        for values in ROWS:
            table.add(values)
        table.flush()
        assert _read_back(table) == ROWS
        table.drop()


@pytest.mark.django_db(transaction=True)
def test_tuning_twice_on_one_connection_is_harmless():
    """``temp_buffers`` cannot change once temporary tables are used: the second try is let be."""
    for _ in range(2):
        with transaction.atomic():
            staging.tune_session()
            table = staging.Table("test_staged_values", [("line", "int")])
            table.create()
            table.add((1,))
            table.flush()
            assert staging.fetch(f"SELECT line FROM {table.name}") == [(1,)]  # nosec B608
            table.drop()


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.text(max_size=6), st.none() | st.dates(min_value=date(1900, 1, 1))),
        max_size=5,
    )
)
@pytest.mark.django_db(transaction=True)
def test_any_text_and_dates_round_trip(values):
    rows = [(line, text, day) for line, (text, day) in enumerate(values)]
    rows = [(line, text.replace("\x00", ""), day) for line, text, day in rows]
    with transaction.atomic():
        table = staging.Table("test_staged_values", [("line", "int"), ("a", "text"), ("d", "date")])
        table.create()
        for row in rows:
            table.add(row)
        table.flush()
        read = staging.fetch(f"SELECT line, a, d FROM {table.name} ORDER BY line")  # nosec B608
        assert [(line, a, staging.as_date(d)) for line, a, d in read] == rows
        table.drop()
