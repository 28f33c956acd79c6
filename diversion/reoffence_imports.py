"""Import reoffence matches from police records (SPEC §7 ``import_reoffences``).

All or nothing: every row is checked first, and a file with any bad row imports nothing and
lists every error as ``line N, column: message`` (the header is line 1); the web page asks
for only the first errors and the total (``error_limit``), so a bad file cannot exhaust memory.
Rows already present with identical data change nothing, so the same file can be imported
twice safely.
"""

import csv
import re
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from diversion.choices import ReoffenceSource
from diversion.error_lists import ErrorList
from diversion.formula_safety import is_plain_reference
from diversion.imports import ImportFailed
from diversion.models import Person, Reoffence

COLUMNS = ("person_ref", "offence_date", "offence_type", "source_ref")
COLUMN_ORDER = {column: place for place, column in enumerate(COLUMNS)}
PERSON_BATCH = 5000
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
OFFENCE_TYPE_MAX = Reoffence._meta.get_field("offence_type").max_length
SOURCE_REF_MAX = Reoffence._meta.get_field("source_ref").max_length


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


def _read(stream: TextIO, errors: ErrorList, today: date, mentioned: dict[int, str]) -> list[_Row]:
    """Check every row on its own; return the good ones and note every problem.

    ``mentioned`` collects every row's person reference, good row or not, so an unknown
    person is reported alongside the row's other problems.
    """
    reader = csv.DictReader(stream)
    header = [(name or "").strip().lstrip("\ufeff") for name in (reader.fieldnames or [])]
    if not header:
        errors.append("line 1, header: The file is empty; it needs a header row")
        return []
    reader.fieldnames = header
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        errors.append(
            f"line 1, header: Add the missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (the columns are {','.join(COLUMNS)})"
        )
        return []
    rows: list[_Row] = []
    for raw in reader:
        line = reader.line_num
        row_errors: list[str] = []
        if raw.get(None):
            row_errors.append(f"line {line}, row: The row has more values than the header")
        values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
        if not values["person_ref"]:
            row_errors.append(f"line {line}, person_ref: Enter a person reference")
        elif not is_plain_reference(values["person_ref"]):
            row_errors.append(
                f"line {line}, person_ref: The person reference must be only letters, digits "
                "and hyphens"
            )
        else:
            mentioned[line] = values["person_ref"]
        offence_date = None
        text = values["offence_date"]
        if not text:
            row_errors.append(f"line {line}, offence_date: Enter an offence date")
        else:
            try:
                if not ISO_DATE.match(text):
                    raise ValueError(text)
                offence_date = date.fromisoformat(text)
            except ValueError:
                row_errors.append(
                    f"line {line}, offence_date: Enter a real date in the form YYYY-MM-DD, "
                    f"not {text!r}"
                )
            else:
                if offence_date > today:
                    row_errors.append(
                        f"line {line}, offence_date: The offence date must be today or in the past"
                    )
        if not values["offence_type"]:
            row_errors.append(f"line {line}, offence_type: Enter the type of offence")
        elif len(values["offence_type"]) > OFFENCE_TYPE_MAX:
            row_errors.append(
                f"line {line}, offence_type: The type of offence must be "
                f"{OFFENCE_TYPE_MAX} characters or fewer"
            )
        if len(values["source_ref"]) > SOURCE_REF_MAX:
            row_errors.append(
                f"line {line}, source_ref: The source reference must be "
                f"{SOURCE_REF_MAX} characters or fewer"
            )
        errors.extend(row_errors)
        if not row_errors:
            rows.append(
                _Row(
                    line=line,
                    person_ref=values["person_ref"],
                    offence_date=offence_date,
                    offence_type=values["offence_type"],
                    source_ref=values["source_ref"],
                )
            )
    return rows


def reoffences_import(
    *,
    stream: TextIO,
    source_name: str,
    by: AbstractBaseUser | None = None,
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
    known = [r for r in rows if r.person_ref in people]

    # What is already stored for these people, and who already holds each source reference.
    existing = Reoffence.objects.filter(person_id__in={people[r.person_ref] for r in known})
    stored = set(existing.values_list("person_id", "offence_date", "offence_type", "source_ref"))
    refs = {r.source_ref for r in known if r.source_ref}
    holders: dict[str, set[tuple]] = {}
    for person_id, offence_date, offence_type, source_ref in Reoffence.objects.filter(
        source_ref__in=refs
    ).values_list("person_id", "offence_date", "offence_type", "source_ref"):
        holders.setdefault(source_ref, set()).add((person_id, offence_date, offence_type))

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
