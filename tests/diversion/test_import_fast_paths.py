"""The import's quick paths give exactly what the slow ones they stand in for give.

`encounter_rows._check_characters` checks a whole row with one ``str.isprintable`` before
looking at each value; staging tables are written as CSV by the csv module (``FORCE_NULL``
turning ``""`` back into NULL); history rows are written from ``INSERT ... RETURNING``; and the
check of a person's details across rows sends back only the rows that differ.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diversion import encounter_rows, import_checks, staging
from diversion.csv_import import LineErrors
from diversion.encounter_rows import COLUMNS, LABELS, PERSON_COLUMNS, Row, mask_of
from diversion.imports import Staging
from diversion.models import Person
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


# The person check as it was: every row of every person named more than once (or stored),
# compared in Python with the first row naming them.
_PEOPLE_SLOW_SQL = """
SELECT s.line, s.person_ref, s.first_name, s.last_name, s.date_of_birth, s.gender, s.ethnicity,
       s.mask_parse | s.mask_rules,
       p.id, p.first_name, p.last_name, p.date_of_birth, p.gender, p.ethnicity
FROM {table} s LEFT JOIN diversion_person p ON p.person_ref = s.person_ref
WHERE s.kind = 0 AND s.person_ref <> '' AND (
    p.id IS NOT NULL OR s.person_ref IN (
        SELECT person_ref FROM {table} WHERE kind = 0 AND person_ref <> ''
        GROUP BY person_ref HAVING count(*) > 1
    )
)
ORDER BY s.person_ref, s.line
"""


def _people_slow(table: str) -> tuple[list[str], list[int]]:
    errors = LineErrors(COLUMNS, unknown=-1)
    bad: list[int] = []
    earlier = None
    for row in staging.stream(_PEOPLE_SLOW_SQL.format(table=table)):
        if earlier is None or earlier[1] != row[1]:
            earlier = row
        if import_checks._person_differs(row, earlier, errors):
            bad.append(row[0])
    return errors.listed(), bad


DETAILS = st.tuples(
    st.sampled_from(["Sam", "sam", "Sam ", ""]),
    st.sampled_from(["Lee", "LEE", ""]),
    st.none() | st.sampled_from([date(2001, 1, 1), date(2002, 2, 2)]),
    st.sampled_from(["male", "female", ""]),
    st.sampled_from(["W1", "B1", ""]),
)
STAGED = st.tuples(
    st.sampled_from(["P1", "P2", "P3", ""]),
    DETAILS,
    st.sampled_from([0, 0, 0, 1]),  # kind: new, or a reference used on an earlier line
    st.sets(st.sampled_from(PERSON_COLUMNS)),  # details already reported as malformed
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(STAGED, max_size=8),
    st.dictionaries(st.sampled_from(["P1", "P2"]), DETAILS.filter(lambda d: d[2] is not None)),
)
@pytest.mark.django_db(transaction=True)
def test_person_check_reports_exactly_what_comparing_every_row_did(rows, stored):
    """Sending back only the rows that differ loses no message and marks the same rows."""
    _check_people_as_before(rows, stored)


OTHER = ("Kim", "Park", date(2003, 3, 3), "female", "B1")


@pytest.mark.parametrize("against_stored", [False, True])
@pytest.mark.parametrize("place", range(len(PERSON_COLUMNS)))
@pytest.mark.django_db(transaction=True)
def test_each_detail_that_differs_alone_is_reported(place, against_stored):
    """Each detail is compared, with the stored person and with the first row naming them."""
    first = ("Sam", "Lee", date(2001, 1, 1), "male", "W1")
    other = (*first[:place], OTHER[place], *first[place + 1 :])
    rows = [("P1", other, 0, set())] if against_stored else [("P1", first, 0, set())] * 2
    rows[-1] = ("P1", other, 0, set())
    messages = _check_people_as_before(rows, {"P1": first} if against_stored else {})
    assert len(messages) == 1
    assert f", {PERSON_COLUMNS[place]}: " in messages[0]


def _check_people_as_before(rows, stored) -> list[str]:
    """Stage ``rows``, store ``stored``, and check `_people` against the slow check."""
    with transaction.atomic():
        for ref, (first, last, born, gender, ethnicity) in stored.items():
            Person.objects.create(
                person_ref=ref,
                pseudonym=f"pseudonym-{ref}",
                first_name=first,
                last_name=last,
                date_of_birth=born,
                gender=gender,
                ethnicity=ethnicity,
            )
        table = Staging().rows
        table.create()
        for line, (ref, details, kind, bad) in enumerate(rows, start=2):
            table.add(
                (line, f"E{line}", ref, *details[:2], details[2], *details[3:], None, None, "")
                + (None, "", None, None, None, None, None, None, mask_of(bad), 0, "", kind, False)
            )
        table.flush()
        expected = _people_slow(table.name)
        errors = LineErrors(COLUMNS, unknown=-1)
        import_checks._people(table.name, errors)
        marked = staging.fetch(f"SELECT line FROM {table.name} WHERE person_bad ORDER BY line")
        assert (errors.listed(), [line for (line,) in marked]) == (expected[0], sorted(expected[1]))
        table.drop()
        transaction.set_rollback(True)
    return expected[0]
