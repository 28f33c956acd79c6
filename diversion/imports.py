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

from dataclasses import dataclass
from datetime import date
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from diversion.choices import ENCOUNTER_CSV_COLUMNS
from diversion.csv_import import LineErrors, read_records
from diversion.encounter_rows import (
    OUTCOME_COLUMNS,
    Lookups,
    Row,
    header_of,
    mask_of,
    parse_row,
    record_values,
    rule_problems,
)
from diversion.import_checks import check_across_rows
from diversion.import_judging import judge_rows
from diversion.import_store import store_judged
from diversion.services import new_pseudonym
from diversion.staging import Table, tune_session

COLUMNS: tuple[str, ...] = ENCOUNTER_CSV_COLUMNS


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


def encounters_import(*, stream: TextIO, source_name: str) -> ImportResult:
    """Check, judge and store every encounter in a CSV file, or raise `ImportFailed`.

    Nothing is stored unless the whole file is good. Rows already stored with identical data
    are left as they are.
    """
    errors = LineErrors(COLUMNS, unknown=-1)
    today = timezone.localdate()
    with transaction.atomic():
        tune_session()
        staging = Staging()
        staging.create()
        lookups = Lookups()
        pending = _stage_file(stream, staging, lookups, today, errors)
        unchanged = check_across_rows(staging.rows.name, pending, lookups, errors)
        decisions = judge_rows(staging, lookups, today, errors)
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
    stream: TextIO, staging: Staging, lookups: Lookups, today: date, errors: LineErrors
) -> dict[int, list[tuple[str, str]]]:
    """Read every row, note its own problems, and stage it; return each row's rule problems.

    A record the csv module cannot read is reported on the line it starts on, and reading goes
    on, so every problem in the file is listed at once. Text that is not UTF-8 stops reading:
    then only the problems with the file's records are listed, with that one.
    """
    records = read_records(stream)
    record_errors = errors.fresh()
    row_errors = errors.fresh()
    pending: dict[int, list[tuple[str, str]]] = {}
    line = 0  # the line the last record read starts on
    try:
        names = header_of(next(records, None), record_errors)
        if names is None:
            raise ImportFailed(record_errors.listed())
        for record in records:
            line = record.line
            values = record_values(record, names, record_errors)
            if values:
                row = parse_row(line, values, lookups, row_errors)
                problems = rule_problems(row, lookups, today)
                if problems:
                    pending[line] = problems
                _stage_row(staging, row, problems, lookups)
    except UnicodeDecodeError:
        record_errors.add(line + 1, "file", "The file must be saved as UTF-8 text")
        raise ImportFailed(record_errors.listed()) from None
    for table in (staging.rows, staging.exclusions):
        table.flush()
    errors.merge(record_errors)
    errors.merge(row_errors)
    return pending


def _stage_row(
    staging: Staging, row: Row, problems: list[tuple[str, str]], lookups: Lookups
) -> None:
    """Write one read row to the staging tables; refused values are staged empty."""
    mask_parse = mask_of(row.bad_columns)
    mask_rules = mask_of({column for column, _message in problems})
    staging.rows.add(
        (
            row.line,
            row.encounter_ref,
            row.person_ref,
            row.first_name,
            row.last_name,
            row.date_of_birth,
            row.value("gender"),
            row.value("ethnicity"),
            row.borough.pk if row.borough else None,
            row.encounter_date,
            row.value("substance"),
            row.quantity,
            "" if "exclusions" in row.bad_columns else ";".join(row.exclusions),
            row.accepted,
            row.provider.pk if row.provider else None,
            *(row.outcomes[column] for column in OUTCOME_COLUMNS),
            mask_parse,
            mask_rules,
            new_pseudonym(),
            0,
            False,
        )
    )
    if not (mask_parse or mask_rules):
        _stage_exclusions(staging, row, lookups)


def _stage_exclusions(staging: Staging, row: Row, lookups: Lookups) -> None:
    for position, code in enumerate(row.exclusions, start=1):
        staging.exclusions.add((row.line, position, lookups.factor_ids[code]))
