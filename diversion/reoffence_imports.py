"""Import reoffence matches from police records (SPEC §7 ``import_reoffences``).

All or nothing: every row is checked first, and a file with any bad row imports nothing and
lists every error as ``line N, column: message`` (the header is line 1); the web page asks
for only the first errors and the total (``error_limit``), so a bad file cannot exhaust memory.
Rows already present with identical data change nothing, so the same file can be imported
twice safely.

Like `diversion.imports`, it streams the file through the shared CSV machinery
(`diversion.csv_import`) into a staging table, checks people, dates of birth and source
references with SQL, and stores the new rows with one ``INSERT ... SELECT`` and their history
with another, so memory does not grow with the file.
"""

from dataclasses import dataclass
from datetime import date
from typing import TextIO

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import CharField
from django.utils import timezone

from diversion.choices import ReoffenceSource
from diversion.csv_import import (
    LineErrors,
    Record,
    column_order_key,
    header_names,
    read_date,
    read_records,
)
from diversion.imports import ImportFailed
from diversion.models import Person, Reoffence
from diversion.staging import Table, execute, fetch, is_postgresql, stream
from diversion.validators import past_date_problem, reference_problem, text_problem

COLUMNS = ("person_ref", "offence_date", "offence_type", "source_ref")
TEXT_COLUMNS = ("person_ref", "offence_type", "source_ref")


def _max_length(column: str) -> int:
    """Return a text column's limit, read from the model so the two never disagree."""
    field = Reoffence._meta.get_field(column)
    if not isinstance(field, CharField) or field.max_length is None:
        raise TypeError(f"Reoffence.{column} is not a text field with a limit")
    return field.max_length


MAX_LENGTHS: dict[str, int] = {
    column: _max_length(column) for column in ("offence_type", "source_ref")
}
NOUNS: dict[str, str] = {
    "person_ref": "the person reference",
    "offence_date": "the offence date",
    "offence_type": "the type of offence",
    "source_ref": "the source reference",
}


@dataclass(frozen=True)
class ReoffenceImportResult:
    """How many rows were added, and how many were already there."""

    imported: int
    unchanged: int


class ReoffenceImportFailed(ImportFailed):
    """The file had errors, so nothing was imported.

    ``errors`` lists every one, or only the first ``error_limit`` when the import was given a
    limit; ``total`` always counts every one.
    """

    def __init__(self, errors: list[str], *, total: int | None = None) -> None:
        super().__init__(errors)
        self.total = len(errors) if total is None else total


def _header_problem(record: Record | None) -> str | None:
    """Say why the first record is not the header SPEC §7 names, or None if it is."""
    if record is None or (not record.problem and not record.cells):
        return "The file is empty; it needs a header row"
    if record.problem:
        return record.problem
    header = header_names(record)
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        return (
            f"Add the missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (the columns are {','.join(COLUMNS)})"
        )
    return None


def _date_problem(text: str, today: date) -> tuple[date | None, str | None]:
    """Read an offence date by the one rule for dates: real, not future, not before 1900."""
    if not text:
        return None, "Enter an offence date"
    offence_date, problem = read_date(text, noun="the offence date")
    if offence_date is None:
        return None, problem
    return offence_date, past_date_problem(offence_date, noun="the offence date", on=today)


def _value_problems(values: dict[str, str]) -> dict[str, str]:
    """Check each value on its own: control characters, missing and over-long values."""
    problems: dict[str, str] = {}
    for column, value in values.items():
        problem = text_problem(value, noun=NOUNS[column])
        if problem:
            problems[column] = problem
    if not values["person_ref"]:
        problems["person_ref"] = "Enter a person reference"
    elif "person_ref" not in problems:
        problem = reference_problem(values["person_ref"], noun=NOUNS["person_ref"])
        if problem:
            problems["person_ref"] = problem
    if not values["offence_type"]:
        problems["offence_type"] = "Enter the type of offence"
    for column, limit in MAX_LENGTHS.items():
        if len(values[column]) > limit:
            problems.setdefault(
                column, f"{NOUNS[column].capitalize()} must be {limit} characters or fewer"
            )
    return problems


def _check_row(record: Record, header: list[str], today: date, errors: LineErrors) -> tuple | None:
    """Check one record; note its errors and return what to stage, or None.

    A row whose person reference can be read is staged even when other values are wrong, so an
    unknown person is reported alongside the row's other problems; ``good`` says whether the
    row can be imported.
    """
    line = record.line
    if record.problem:
        errors.add(line, "file", record.problem)
        return None
    bad = len(record.cells) > len(header)
    if bad:
        errors.add(line, "row", "The row has more values than the header")
    raw = dict(zip(header, record.cells, strict=False))
    values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
    problems = _value_problems(values)
    offence_date, date_problem = _date_problem(values["offence_date"], today)
    if date_problem:
        problems.setdefault("offence_date", date_problem)
    for column in COLUMNS:
        if column in problems:
            errors.add(line, column, problems[column])
    if not values["person_ref"] or "person_ref" in problems:
        return None
    good = not (bad or problems) and offence_date is not None
    if not good:  # only its person is looked at: refused text (a NUL, say) is never staged
        return (line, values["person_ref"], None, "", "", False)
    return (
        line,
        values["person_ref"],
        offence_date,
        values["offence_type"],
        values["source_ref"],
        True,
    )


_line_number = column_order_key(COLUMNS, unknown=len(COLUMNS))


def reoffences_import(
    *,
    stream: TextIO,
    source_name: str,
    by: User | None = None,
    error_limit: int | None = None,
) -> ReoffenceImportResult:
    """Import a CSV of reoffence matches, all or nothing.

    Raise ``ReoffenceImportFailed`` listing every error (unknown person, bad or future date,
    empty offence type, a source reference already used for a different offence) and import
    nothing if any row is bad. Identical rows, whether already stored or repeated in the file,
    are counted once and change nothing. ``error_limit`` keeps only the first errors (by line)
    in memory, for pages that cannot show millions; the failure still counts them all.
    """
    errors = LineErrors(COLUMNS, unknown=len(COLUMNS), limit=error_limit)
    with transaction.atomic():
        staged, known = _tables()
        _stage(stream, staged, errors, timezone.localdate())
        _check_people(staged.name, known.name, errors)
        _check_source_refs(known.name, errors)
        if errors:
            raise ReoffenceImportFailed(errors.listed(), total=errors.total)
        result = _store(known.name, by=by, reason=f"Imported from {source_name}"[:100])
        for table in (staged, known):
            table.drop()
        for name in (HELD, ALLOWED):
            execute(f"DROP TABLE IF EXISTS {name}")
    return result


HELD = "import_reoffence_held"


def _tables() -> tuple[Table, Table]:
    staged = Table(
        "import_reoffence_row",
        [
            ("line", "int"),
            ("person_ref", "text"),
            ("offence_date", "date"),
            ("offence_type", "text"),
            ("source_ref", "text"),
            ("good", "bool"),
        ],
    )
    known = Table(
        "import_reoffence_known",
        [
            ("line", "int"),
            ("person_id", "int"),
            ("offence_date", "date"),
            ("offence_type", "text"),
            ("source_ref", "text"),
            ("conflict", "bool"),
        ],
    )
    staged.create()
    known.create()
    return staged, known


def _stage(stream: TextIO, staged: Table, errors: LineErrors, today: date) -> None:
    """Check every row on its own, noting every problem, and stage the rows to look further at."""
    records = read_records(stream)
    first = next(records, None)
    problem = _header_problem(first)
    if problem or first is None:
        errors.add(1, "header", problem or "")
        return
    header = header_names(first)
    for record in records:
        if not record.problem and not record.cells:
            continue  # a blank line
        values = _check_row(record, header, today, errors)
        if values is not None:
            staged.add(values)
    staged.flush()
    staged.index("person_ref")


def _check_people(staged: str, known: str, errors: LineErrors) -> None:
    """Refuse unknown people and offences dated on or before the person's birth."""
    people = Person._meta.db_table
    for line, person_ref in stream(
        f"SELECT s.line, s.person_ref FROM {staged} s WHERE NOT EXISTS ("  # nosec B608
        f"SELECT 1 FROM {people} p WHERE p.person_ref = s.person_ref) ORDER BY s.line"
    ):
        errors.add(line, "person_ref", f"There is no person with reference {person_ref!r}")
    for (line,) in stream(
        f"SELECT s.line FROM {staged} s JOIN {people} p ON p.person_ref = s.person_ref "  # nosec B608
        "WHERE s.good AND NOT p.date_of_birth < s.offence_date ORDER BY s.line"
    ):
        errors.add(
            line, "offence_date", "The offence date must be after the person's date of birth"
        )
    execute(
        f"INSERT INTO {known} (line, person_id, offence_date, offence_type, source_ref, "  # nosec B608
        "conflict) SELECT s.line, p.id, s.offence_date, s.offence_type, s.source_ref, %s "
        f"FROM {staged} s JOIN {people} p ON p.person_ref = s.person_ref "
        "WHERE s.good AND p.date_of_birth < s.offence_date",
        [False],
    )
    execute(f"CREATE INDEX {known}_source ON {known} (source_ref, line)")
    if is_postgresql():
        execute(f"ANALYZE {known}")


ALLOWED = "import_reoffence_allowed"
# What each source reference of the file may stand for: what is stored with it, or else what
# the first row of the file that gives it says.
_ALLOWED_SQL = """
CREATE TEMPORARY TABLE {allowed} AS
SELECT source_ref, person_id, offence_date, offence_type FROM {held}
UNION ALL
SELECT k.source_ref, k.person_id, k.offence_date, k.offence_type
FROM {known} k
JOIN (SELECT source_ref, min(line) AS line FROM {known} WHERE source_ref <> ''
      GROUP BY source_ref) f ON f.line = k.line
WHERE NOT EXISTS (SELECT 1 FROM {held} h WHERE h.source_ref = k.source_ref)
"""
_CONFLICTS_SQL = """
UPDATE {known} SET conflict = %s WHERE source_ref <> '' AND NOT EXISTS (
    SELECT 1 FROM {allowed} a WHERE a.source_ref = {known}.source_ref
    AND a.person_id = {known}.person_id AND a.offence_date = {known}.offence_date
    AND a.offence_type = {known}.offence_type
)
"""


def _check_source_refs(known: str, errors: LineErrors) -> None:
    """Refuse a source reference already recorded, or first given, for a different offence.

    A reference stored already stands for what is stored with it; otherwise the first row of
    the file that gives it decides what it stands for.
    """
    execute(f"DROP TABLE IF EXISTS {HELD}")
    execute(
        f"CREATE TEMPORARY TABLE {HELD} AS SELECT r.source_ref, r.person_id, "  # nosec B608
        f"r.offence_date, r.offence_type FROM {Reoffence._meta.db_table} r WHERE r.source_ref "
        f"IN (SELECT source_ref FROM {known} WHERE source_ref <> '')"
    )
    execute(f"CREATE INDEX {HELD}_source ON {HELD} (source_ref)")
    if is_postgresql():
        execute(f"ANALYZE {HELD}")
    execute(f"DROP TABLE IF EXISTS {ALLOWED}")
    execute(_ALLOWED_SQL.format(allowed=ALLOWED, known=known, held=HELD))
    execute(f"CREATE INDEX {ALLOWED}_key ON {ALLOWED} (source_ref, person_id, offence_date)")
    if is_postgresql():
        execute(f"ANALYZE {ALLOWED}")
    execute(_CONFLICTS_SQL.format(known=known, allowed=ALLOWED), [True])
    for line, source_ref in stream(
        f"SELECT line, source_ref FROM {known} WHERE conflict ORDER BY line"  # nosec B608
    ):
        errors.add(
            line,
            "source_ref",
            f"{source_ref!r} is already recorded for a different person, date or offence type",
        )


def _store(known: str, *, by: User | None, reason: str) -> ReoffenceImportResult:
    """Store each new match once, with its history; count the rows already recorded."""
    table = Reoffence._meta.db_table
    key = "person_id, offence_date, offence_type, source_ref"
    rows = fetch(f"SELECT count(*) FROM {known} WHERE NOT conflict")[0][0]  # nosec B608
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    user = by.pk if by is not None else None
    imported = execute(
        f"INSERT INTO {table} ({key}, source, entered_by_id, created_at) "  # nosec B608
        f"SELECT {key}, %s, %s, %s FROM {known} k WHERE NOT conflict AND NOT EXISTS ("
        f"SELECT 1 FROM {table} r WHERE r.person_id = k.person_id "
        "AND r.offence_date = k.offence_date AND r.offence_type = k.offence_type "
        f"AND r.source_ref = k.source_ref) GROUP BY {key} ORDER BY min(line)",
        [ReoffenceSource.IMPORT.value, user, now],
    )
    history = Reoffence.history.model
    columns = [f.column for f in Reoffence._meta.concrete_fields]
    execute(
        f"INSERT INTO {history._meta.db_table} ({', '.join(columns)}, history_date, "  # nosec B608
        "history_change_reason, history_type, history_user_id) "
        f"SELECT {', '.join('t.' + c for c in columns)}, %s, %s, '+', %s FROM {table} t "
        f"WHERE t.id IN (SELECT r.id FROM {table} r JOIN {known} k ON k.person_id = r.person_id "
        "AND k.offence_date = r.offence_date AND k.offence_type = r.offence_type "
        "AND k.source_ref = r.source_ref WHERE r.created_at = %s) ORDER BY t.id",
        [now, reason, user, now],
    )
    return ReoffenceImportResult(imported=imported, unchanged=rows - imported)
