"""The checks of an encounters import that look across rows, as SQL over the staging table.

Each row is first read on its own (`diversion.encounter_rows`); these checks then find, in file
order: a reference used on an earlier line (``kind`` 1), a row already stored (``kind`` 2,
unchanged or an error), and, among the new rows (``kind`` 0), a person described differently
from the stored person or from the first row that names them (``person_bad``). Only the rows
each check concerns come back to Python, a batch at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from diversion.csv_import import LineErrors
from diversion.encounter_rows import (
    COLUMNS,
    LABELS,
    OUTCOME_COLUMNS,
    PERSON_COLUMNS,
    Lookups,
    columns_of,
)
from diversion.models import Encounter, EncounterExclusion
from diversion.staging import as_bool, as_date, as_grams, execute, is_postgresql, stream

NEW, REPEATED, STORED = 0, 1, 2
LOOKUP_CHUNK = 900  # below SQLite's oldest limit on query parameters
UPDATE_CHUNK = 900


def check_across_rows(
    table: str, pending: dict[int, list[tuple[str, str]]], lookups: Lookups, errors: LineErrors
) -> int:
    """Run every check across rows, noting errors; return how many rows are stored unchanged."""
    execute(f"CREATE INDEX {table}_ref ON {table} (encounter_ref, line)")
    execute(f"CREATE INDEX {table}_person ON {table} (person_ref, line)")
    execute(f"CREATE INDEX {table}_line ON {table} (line)")
    if is_postgresql():
        execute(f"ANALYZE {table}")
    _repeated_references(table, errors)
    unchanged = _stored_rows(table, lookups, errors)
    _rule_problems(table, pending, errors)
    _people(table, errors)
    return unchanged


def _repeated_references(table: str, errors: LineErrors) -> None:
    """Refuse a reference already used on an earlier line of the file."""
    execute(
        f"UPDATE {table} SET kind = %s WHERE encounter_ref <> '' AND EXISTS ("  # nosec B608
        f"SELECT 1 FROM {table} earlier WHERE earlier.encounter_ref = {table}.encounter_ref "
        f"AND earlier.line < {table}.line)",
        [REPEATED],
    )
    for line, ref, first in stream(
        f"SELECT s.line, s.encounter_ref, (SELECT min(f.line) FROM {table} f "  # nosec B608
        f"WHERE f.encounter_ref = s.encounter_ref) FROM {table} s WHERE s.kind = %s",
        [REPEATED],
    ):
        errors.add(
            line, "encounter_ref", f"Encounter reference {ref!r} is also used on line {first}"
        )


def _stored_rows(table: str, lookups: Lookups, errors: LineErrors) -> int:
    """Compare each row whose reference is stored with what is stored; return the unchanged."""
    encounters = Encounter._meta.db_table
    execute(
        f"UPDATE {table} SET kind = %s WHERE kind = %s AND encounter_ref <> '' "  # nosec B608
        f"AND EXISTS (SELECT 1 FROM {encounters} e WHERE e.encounter_ref = {table}.encounter_ref)",
        [STORED, NEW],
    )
    columns = ", ".join(
        [
            "line",
            "encounter_ref",
            "person_ref",
            "first_name",
            "last_name",
            "date_of_birth",
            "gender",
            "ethnicity",
            "borough_id",
            "encounter_date",
            "substance",
            "quantity",
            "exclusions",
            "accepted",
            "provider_id",
            *OUTCOME_COLUMNS,
        ]
    )
    rows = stream(
        f"SELECT {columns} FROM {table} WHERE kind = %s AND mask_parse = 0",  # nosec B608
        [STORED],
    )
    unchanged = 0
    for batch in _batches(rows, LOOKUP_CHUNK):
        stored = _stored_encounters([row[1] for row in batch])
        for row in batch:
            mine = _comparable(row, lookups)
            differs = [
                column for column, a, b in zip(COLUMNS, mine, stored[row[1]], strict=True) if a != b
            ]
            if differs:
                errors.add(
                    row[0],
                    "encounter_ref",
                    f"Encounter {row[1]!r} is already recorded with different data "
                    f"(in {', '.join(differs)}); an import cannot change it",
                )
            else:
                unchanged += 1
    return unchanged


def _comparable(row: tuple[Any, ...], lookups: Lookups) -> tuple[Any, ...]:
    """Return a staged row as the 18 columns normalised, like `_stored_encounters`."""
    borough = lookups.boroughs_by_id.get(row[8]) if row[8] is not None else None
    quantity = as_grams(row[11])
    return (
        row[1],
        row[2],
        row[3],
        row[4],
        as_date(row[5]),
        row[6],
        row[7],
        borough.gss_code if borough else None,
        as_date(row[9]),
        row[10],
        quantity.normalize() if quantity is not None else None,
        tuple(code for code in row[12].split(";") if code),
        as_bool(row[13]),
        row[14],
        *(as_date(value) for value in row[15:19]),
    )


def _stored_encounters(refs: list[str]) -> dict[str, tuple[Any, ...]]:
    """Return stored encounters as the 18 columns, normalised like `_comparable`.

    Read as plain values, not model instances, so re-importing a large file stays quick.
    """
    found: dict[str, tuple[Any, ...]] = {}
    exclusions: dict[str, list[str]] = defaultdict(list)
    for ref, code in (
        EncounterExclusion.objects.filter(encounter__encounter_ref__in=refs)
        .order_by("encounter_id", "position")
        .values_list("encounter__encounter_ref", "factor__code")
    ):
        exclusions[ref].append(code)
    for values in Encounter.objects.filter(encounter_ref__in=refs).values_list(
        "encounter_ref",
        "person__person_ref",
        "person__first_name",
        "person__last_name",
        "person__date_of_birth",
        "person__gender",
        "person__ethnicity",
        "borough__gss_code",
        "encounter_date",
        "substance",
        "quantity_grams",
        "accepted",
        "referral__provider_id",
        *(f"referral__{c}" for c in OUTCOME_COLUMNS),
    ):
        ref = values[0]
        quantity: Decimal = values[10]
        found[ref] = (
            *values[:10],
            quantity.normalize(),
            tuple(exclusions.get(ref, ())),
            *values[11:],
        )
    return found


def _rule_problems(
    table: str, pending: dict[int, list[tuple[str, str]]], errors: LineErrors
) -> None:
    """Report each row's own rule problems, but only on rows new to the database."""
    if not pending:
        return
    not_new = {
        line
        for (line,) in stream(
            f"SELECT line FROM {table} WHERE kind <> %s AND mask_rules <> 0",  # nosec B608
            [NEW],
        )
    }
    for line, problems in pending.items():
        if line not in not_new:
            for column, message in problems:
                errors.add(line, column, message)


_PEOPLE_SQL = """
WITH named AS (
    SELECT s.line, s.person_ref, s.first_name, s.last_name, s.date_of_birth, s.gender,
           s.ethnicity, s.mask_parse | s.mask_rules AS masks,
           p.id AS stored, p.first_name AS p_first_name, p.last_name AS p_last_name,
           p.date_of_birth AS p_date_of_birth, p.gender AS p_gender, p.ethnicity AS p_ethnicity
    FROM {table} s LEFT JOIN {people} p ON p.person_ref = s.person_ref
    WHERE s.kind = 0 AND s.person_ref <> '' AND (
        p.id IS NOT NULL OR s.person_ref IN (
            SELECT person_ref FROM {table} WHERE kind = 0 AND person_ref <> ''
            GROUP BY person_ref HAVING count(*) > 1
        )
    )
),
beside_first AS (
    SELECT n.*, {first}
    FROM named n
    WINDOW w AS (PARTITION BY n.person_ref ORDER BY n.line)
)
SELECT line, person_ref, first_name, last_name, date_of_birth, gender, ethnicity, masks,
       stored, p_first_name, p_last_name, p_date_of_birth, p_gender, p_ethnicity,
       e_line, e_first_name, e_last_name, e_date_of_birth, e_gender, e_ethnicity, e_masks
FROM beside_first
WHERE (stored IS NOT NULL AND ({differs_from_stored}))
   OR (stored IS NULL AND ({differs_from_first}))
ORDER BY person_ref, line
"""


def _people(table: str, errors: LineErrors) -> None:
    """Check each person's details match the stored person, or the first row naming them.

    Only rows that differ in some detail come back (in a good file, none): the comparison that
    words each message stays in Python (`_person_differs`), but comparing every row of every
    person named more than once took seconds of Python at a million rows (issue 8).
    """
    from diversion.models import Person

    sql = _PEOPLE_SQL.format(
        table=table,
        people=Person._meta.db_table,
        first=", ".join(
            f"first_value(n.{column}) OVER w AS e_{column}"
            for column in ("line", *PERSON_COLUMNS, "masks")
        ),
        differs_from_stored=_any_differs("p_"),
        differs_from_first=_any_differs("e_"),
    )
    bad_lines: list[int] = []
    for row in stream(sql):
        earlier = (row[14], row[1], *row[15:])
        if _person_differs(row[:14], earlier, errors):
            bad_lines.append(row[0])
        if len(bad_lines) >= UPDATE_CHUNK:
            _mark_person_bad(table, bad_lines)
            bad_lines = []
    _mark_person_bad(table, bad_lines)


def _any_differs(prefix: str) -> str:
    """SQL true when any of a row's person details differs from the ``prefix``ed ones.

    Null-safe, and exact: two texts are equal only if their characters are, as in Python.
    """
    distinct = "IS DISTINCT FROM" if is_postgresql() else "IS NOT"
    return " OR ".join(f"{column} {distinct} {prefix}{column}" for column in PERSON_COLUMNS)


def _person_differs(row: tuple[Any, ...], earlier: tuple[Any, ...], errors: LineErrors) -> bool:
    """Note each detail of a row that differs from the person it names; say if any did."""
    line, person_ref = row[0], row[1]
    mine = _details(row[2:7])
    bad = columns_of(row[7])
    stored = row[8] is not None
    theirs = _details(row[9:14]) if stored else _details(earlier[2:7])
    earlier_bad = columns_of(earlier[7])
    differs = False
    for column, my_value, their_value in zip(PERSON_COLUMNS, mine, theirs, strict=True):
        if my_value in (None, "") or column in bad:
            continue  # already reported as missing or not of the right form
        if stored:
            message = (
                f"{LABELS[column]} differs from the person already recorded with person "
                f"reference {person_ref!r}"
            )
        elif earlier[0] == line or their_value in (None, "") or column in earlier_bad:
            continue
        else:
            message = (
                f"{LABELS[column]} differs from line {earlier[0]} for person reference "
                f"{person_ref!r}: a person's details must be the same on every row"
            )
        if my_value != their_value:
            errors.add(line, column, message)
            differs = True
    return differs


def _details(values: tuple[Any, ...]) -> tuple[Any, ...]:
    first_name, last_name, born, gender, ethnicity = values
    return (first_name, last_name, as_date(born), gender, ethnicity)


def _mark_person_bad(table: str, lines: list[int]) -> None:
    if lines:
        marks = ", ".join(["%s"] * len(lines))
        execute(
            f"UPDATE {table} SET person_bad = %s WHERE line IN ({marks})",  # nosec B608
            [True, *lines],
        )


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
