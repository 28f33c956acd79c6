"""Import historical encounters from the CSV of SPEC §7, all or nothing, in bounded memory.

The whole file is checked before anything is stored, so a file with any bad row changes nothing
and every problem is listed at once as ``line N, column: message``. Rows are judged in
(encounter_date, encounter_ref) order with the policy in force on each date, so a person's
earlier diversion in the same file counts against their later encounters exactly as it would
have done had an officer logged them one by one.

The file is never held in memory: each row is read and checked on its own as the file streams
(`diversion.encounter_rows`) and written to a staging table (`diversion.staging`); the checks
across rows are SQL over that table (`diversion.import_checks`); rows are judged from one
ordered cursor (`diversion.import_judging`) and stored with set-based ``INSERT ... SELECT``
(`diversion.import_store`), all inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from typing import TextIO, TypeVar

from django.db import transaction
from django.utils import timezone

from diversion.choices import ENCOUNTER_CSV_COLUMNS
from diversion.csv_import import LineErrors, Record, read_records
from diversion.encounter_rows import (
    OUTCOME_COLUMNS,
    Lookups,
    header_of,
    record_cells,
    record_values,
)
from diversion.import_checks import check_across_rows
from diversion.import_judging import judge_rows
from diversion.import_store import store_judged
from diversion.parallel_parse import Job, staged_batches
from diversion.staged_rows import staged_row
from diversion.staging import Table, is_postgresql, tune_session

COLUMNS: tuple[str, ...] = ENCOUNTER_CSV_COLUMNS
_V = TypeVar("_V", dict[str, str], list[str])  # a row's values: by column, or in order


class ImportFailed(Exception):
    """The file had problems, so nothing was imported; ``errors`` lists every one."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    """What an import stored."""

    imported: int
    unchanged: int
    people_created: int
    decisions: dict[str, int]

    def summary(self) -> str:
        """Say what happened in one sentence."""
        noun = "encounter" if self.imported == 1 else "encounters"
        return f"Imported {self.imported} {noun} ({self.unchanged} already present and unchanged)."


class Staging:
    """The import's temporary tables: the rows as read, their exclusions, and the judgements."""

    def __init__(self) -> None:
        self.rows = Table(
            "import_encounter_row",
            [
                ("line", "int"),
                ("encounter_ref", "text"),
                ("person_ref", "text"),
                ("first_name", "text"),
                ("last_name", "text"),
                ("date_of_birth", "date"),
                ("gender", "text"),
                ("ethnicity", "text"),
                ("borough_id", "int"),
                ("encounter_date", "date"),
                ("substance", "text"),
                ("quantity", "grams"),
                ("exclusions", "text"),
                ("accepted", "bool"),
                ("provider_id", "int"),
                *((column, "date") for column in OUTCOME_COLUMNS),
                ("mask_parse", "int"),
                ("mask_rules", "int"),
                ("pseudonym", "text"),
                ("kind", "int"),
                ("person_bad", "bool"),
            ],
        )
        self.exclusions = Table(
            "import_encounter_exclusion",
            [("line", "int"), ("position", "int"), ("factor_id", "int")],
        )
        self.judged = Table(
            "import_encounter_judged",
            [
                ("line", "int"),
                ("decision", "text"),
                ("offered", "bool"),
                ("age", "int"),
                ("policy_id", "int"),
            ],
        )
        self.reasons = Table(
            "import_encounter_reason", [("line", "int"), ("position", "int"), ("code", "text")]
        )
        self.tables = (self.rows, self.exclusions, self.judged, self.reasons)

    def create(self) -> None:
        for table in self.tables:
            table.create()

    def drop(self) -> None:
        for table in self.tables:
            table.drop()


def encounters_import(*, stream: TextIO, source_name: str, workers: int = 1) -> ImportResult:
    """Check, judge and store every encounter in a CSV file, or raise `ImportFailed`.

    Nothing is stored unless the whole file is good. Rows already stored with identical data
    are left as they are. ``workers`` above 1 checks rows in that many processes: only for a
    caller that may start processes (not a daemonic Celery worker, which falls back to one).
    """
    errors = LineErrors(COLUMNS, unknown=-1)
    today = timezone.localdate()
    with transaction.atomic():
        tune_session()
        staging = Staging()
        staging.create()
        lookups = Lookups()
        pending = _stage_file(stream, staging, lookups, today, errors, workers)
        unchanged = check_across_rows(staging.rows.name, pending, lookups, errors)
        decisions = judge_rows(staging, lookups, today, errors, workers)
        if errors:
            raise ImportFailed(errors.listed())
        people_created = store_judged(
            staging,
            reason=f"import_encounters {source_name}"[:100],
            judged_rows=sum(decisions.values()),
        )
        staging.drop()
    return ImportResult(
        imported=sum(decisions.values()),
        unchanged=unchanged,
        people_created=people_created,
        decisions=decisions,
    )


def _stage_file(
    stream: TextIO,
    staging: Staging,
    lookups: Lookups,
    today: date,
    errors: LineErrors,
    workers: int = 1,
) -> dict[int, list[tuple[str, str]]]:
    """Read every row, note its own problems, and stage it; return each row's rule problems.

    A record the csv module cannot read is reported on the line it starts on, and reading goes
    on, so every problem in the file is listed at once. Text that is not UTF-8 stops reading:
    then only the problems with the file's records are listed, with that one. With more than
    one worker the rows are checked in other processes (`diversion.parallel_parse`), with the
    same result.
    """
    records = read_records(stream)
    record_errors = errors.fresh()
    row_errors = errors.fresh()
    pending: dict[int, list[tuple[str, str]]] = {}
    read = _Read()
    try:
        names = header_of(next(records, None), record_errors)
        if names is None:
            raise ImportFailed(record_errors.listed())
        if workers > 1:
            rows = _values(records, names, record_errors, read, record_cells)
            job = Job(lookups=lookups, today=today, names=names, as_copy_text=is_postgresql())
            _stage_in_batches(rows, staging, job, row_errors, pending, workers)
        else:
            for line, values in _values(records, names, record_errors, read, record_values):
                staged = staged_row(line, values, lookups, today, row_errors)
                if staged.problems:
                    pending[line] = staged.problems
                staging.rows.add(staged.values)
                for exclusion in staged.exclusions:
                    staging.exclusions.add(exclusion)
    except UnicodeDecodeError:
        record_errors.add(read.line + 1, "file", "The file must be saved as UTF-8 text")
        raise ImportFailed(record_errors.listed()) from None
    for table in (staging.rows, staging.exclusions):
        table.flush()
    errors.merge(record_errors)
    errors.merge(row_errors)
    return pending


class _Read:
    """How far reading got: the line the last record read starts on."""

    line = 0


def _values(
    records: Iterator[Record],
    names: list[str],
    errors: LineErrors,
    read: _Read,
    values_of: Callable[[Record, list[str], LineErrors], _V | None],
) -> Iterator[tuple[int, _V]]:
    """Yield each data row's line and values, noting the records that are broken or ragged."""
    for record in records:
        read.line = record.line
        values = values_of(record, names, errors)
        if values:
            yield record.line, values


def _stage_in_batches(
    rows: Iterator[tuple[int, list[str]]],
    staging: Staging,
    job: Job,
    row_errors: LineErrors,
    pending: dict[int, list[tuple[str, str]]],
    workers: int,
) -> None:
    """Stage rows checked in worker processes, applying each batch in file order."""
    with closing(staged_batches(rows, job=job, workers=workers)) as batches:
        for batch in batches:
            pending.update(batch.pending)
            for error in batch.errors:
                row_errors.append(error)
            staging.rows.add_batch(batch.rows)
            staging.exclusions.add_batch(batch.exclusions)
