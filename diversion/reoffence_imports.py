"""Import reoffence matches from police records (SPEC §7 ``import_reoffences``).

All or nothing: every row is checked first, and a file with any bad row imports nothing and
lists every error as ``line N, column: message`` (the header is line 1); the web page asks
for only the first errors and the total (``error_limit``), so a bad file cannot exhaust memory.
Rows already present with identical data change nothing, so the same file can be imported
twice safely.
"""

from dataclasses import dataclass
from datetime import date
from typing import TextIO

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import CharField
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from diversion.choices import ReoffenceSource
from diversion.csvfiles import Record, read_records
from diversion.error_lists import ErrorList
from diversion.imports import ImportFailed
from diversion.models import Person, Reoffence
from diversion.validators import (
    born_before,
    iso_date_problem,
    parse_iso_date,
    past_date_problem,
    reference_problem,
    text_problem,
)

COLUMNS = ("person_ref", "offence_date", "offence_type", "source_ref")
COLUMN_ORDER = {column: place for place, column in enumerate(COLUMNS)}
PERSON_BATCH = 5000
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


@dataclass(frozen=True)
class _Row:
    line: int
    person_ref: str
    offence_date: date
    offence_type: str
    source_ref: str


def _header_problem(record: Record | None) -> str | None:
    """Say why the first record is not the header SPEC §7 names, or None if it is."""
    if record is None or (not record.problem and not record.cells):
        return "The file is empty; it needs a header row"
    if record.problem:
        return record.problem
    header = [name.strip().lstrip("\ufeff") for name in record.cells]
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
    try:
        offence_date = parse_iso_date(text)
    except ValueError:
        return None, iso_date_problem(text, noun="the offence date")
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


def _check_row(
    record: Record, header: list[str], today: date, mentioned: dict[int, str]
) -> tuple[_Row | None, list[str]]:
    """Check one record; return the row if it is good, and its errors."""
    line = record.line
    if record.problem:
        return None, [f"line {line}, file: {record.problem}"]
    errors: list[str] = []
    if len(record.cells) > len(header):
        errors.append(f"line {line}, row: The row has more values than the header")
    raw = dict(zip(header, record.cells, strict=False))
    values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
    problems = _value_problems(values)
    offence_date, date_problem = _date_problem(values["offence_date"], today)
    if date_problem:
        problems.setdefault("offence_date", date_problem)
    if values["person_ref"] and "person_ref" not in problems:
        mentioned[line] = values["person_ref"]
    errors.extend(
        f"line {line}, {column}: {problems[column]}" for column in COLUMNS if column in problems
    )
    if errors or offence_date is None:
        return None, errors
    return _Row(line=line, offence_date=offence_date, **{c: values[c] for c in TEXT_COLUMNS}), []


def _read(stream: TextIO, errors: ErrorList, today: date, mentioned: dict[int, str]) -> list[_Row]:
    """Check every row on its own; return the good ones and note every problem.

    ``mentioned`` collects every row's readable person reference, good row or not, so an
    unknown person is reported alongside the row's other problems.
    """
    records = read_records(stream)
    first = next(records, None)
    problem = _header_problem(first)
    if problem or first is None:
        errors.append(f"line 1, header: {problem}")
        return []
    header = [name.strip().lstrip("\ufeff") for name in first.cells]
    rows: list[_Row] = []
    for record in records:
        if not record.problem and not record.cells:
            continue  # a blank line
        row, row_errors = _check_row(record, header, today, mentioned)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    return rows


def _born_before_offence(rows: list[_Row], people: dict[str, int], errors: ErrorList) -> list[_Row]:
    """Return the rows of known people, noting any offence dated on or before their birth."""
    births = dict(
        Person.objects.filter(pk__in=set(people.values())).values_list("id", "date_of_birth")
    )
    known: list[_Row] = []
    for row in rows:
        if row.person_ref not in people:
            continue
        if born_before(date_of_birth=births[people[row.person_ref]], day=row.offence_date):
            known.append(row)
        else:
            errors.append(
                f"line {row.line}, offence_date: The offence date must be after the person's "
                "date of birth"
            )
    return known


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
    errors = ErrorList(key=_line_number, limit=error_limit)
    mentioned: dict[int, str] = {}
    rows = _read(stream, errors, timezone.localdate(), mentioned)

    people = _person_ids(set(mentioned.values()))
    for line, person_ref in mentioned.items():
        if person_ref not in people:
            errors.append(
                f"line {line}, person_ref: There is no person with reference {person_ref!r}"
            )
    known = _born_before_offence(rows, people, errors)

    # What is already stored for these people, and who already holds each source reference.
    existing = Reoffence.objects.filter(person_id__in={people[r.person_ref] for r in known})
    stored = set(existing.values_list("person_id", "offence_date", "offence_type", "source_ref"))
    holders = _source_ref_holders({r.source_ref for r in known if r.source_ref})

    new: dict[tuple, _Row] = {}
    unchanged = 0
    for row in known:
        key = (people[row.person_ref], row.offence_date, row.offence_type, row.source_ref)
        details = key[:3]
        if row.source_ref:
            seen = holders.setdefault(row.source_ref, set())
            if seen and details not in seen:
                errors.append(
                    f"line {row.line}, source_ref: {row.source_ref!r} is already recorded for a "
                    "different person, date or offence type"
                )
                continue
            seen.add(details)
        if key in stored or key in new:
            unchanged += 1
        else:
            new[key] = row

    if errors:
        raise ReoffenceImportFailed(errors.listed(), total=errors.total)
    objects = [
        Reoffence(
            person_id=person_id,
            offence_date=offence_date,
            offence_type=offence_type,
            source_ref=source_ref,
            source=ReoffenceSource.IMPORT,
            entered_by=by,
        )
        for (person_id, offence_date, offence_type, source_ref) in new
    ]
    with transaction.atomic():
        bulk_create_with_history(
            objects,
            Reoffence,
            batch_size=1000,
            default_user=by,
            default_change_reason=f"Imported from {source_name}"[:100],
        )
    return ReoffenceImportResult(imported=len(objects), unchanged=unchanged)


def _source_ref_holders(refs: set[str]) -> dict[str, set[tuple]]:
    """Map each stored source reference to the (person, date, offence type) it records."""
    holders: dict[str, set[tuple]] = {}
    for person_id, offence_date, offence_type, source_ref in Reoffence.objects.filter(
        source_ref__in=refs
    ).values_list("person_id", "offence_date", "offence_type", "source_ref"):
        holders.setdefault(source_ref, set()).add((person_id, offence_date, offence_type))
    return holders


def _person_ids(refs: set[str]) -> dict[str, int]:
    """Map the known person references to ids, a batch at a time.

    One query with hundreds of thousands of parameters costs seconds and hundreds of megabytes
    to build; batches keep a file full of unknown references cheap.
    """
    ordered = sorted(refs)
    people: dict[str, int] = {}
    for start in range(0, len(ordered), PERSON_BATCH):
        batch = ordered[start : start + PERSON_BATCH]
        people.update(Person.objects.filter(person_ref__in=batch).values_list("person_ref", "id"))
    return people


def _line_number(error: str) -> tuple[int, int]:
    """Order errors by line, then by the column's place in the file.

    Called once per error, millions of times for a bad file, so it splits strings rather than
    running a regular expression.
    """
    head, _, rest = error.partition(", ")
    number = head.removeprefix("line ")
    if number == head or not number.isdecimal():
        return (0, 0)
    column = rest.partition(":")[0]
    return int(number), COLUMN_ORDER.get(column, len(COLUMNS))
