"""Turn one read row of an encounters file into what the import stages for it.

The serial import and the worker processes of `diversion.parallel_parse` both go through
`staged_row`, so a row is checked and laid out for the staging tables in one place, whichever
process does it. It reads only the row, the `Lookups` and ``today``: never the database.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from diversion.csv_import import LineErrors
from diversion.encounter_rows import (
    OUTCOME_COLUMNS,
    Lookups,
    Row,
    mask_of,
    parse_row,
    rule_problems,
)
from diversion.services import new_pseudonym

Problems = list[tuple[str, str]]


class StagedRow(NamedTuple):
    """One row as the staging tables take it, and the rule problems judged later."""

    values: tuple[Any, ...]
    exclusions: list[tuple[int, int, int]]
    problems: Problems


def staged_row(
    line: int, values: dict[str, str], lookups: Lookups, today: date, errors: LineErrors
) -> StagedRow:
    """Check one row's values, noting its own problems in ``errors``, and lay it out.

    Refused values are staged empty; exclusions are staged only for a row with no problem.
    """
    row = parse_row(line, values, lookups, errors)
    problems = rule_problems(row, lookups, today)
    mask_parse = mask_of(row.bad_columns)
    mask_rules = mask_of({column for column, _message in problems})
    staged = (
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
    exclusions = [] if (mask_parse or mask_rules) else _exclusions(row, lookups)
    return StagedRow(staged, exclusions, problems)


def _exclusions(row: Row, lookups: Lookups) -> list[tuple[int, int, int]]:
    return [
        (row.line, position, lookups.factor_ids[code])
        for position, code in enumerate(row.exclusions, start=1)
    ]
