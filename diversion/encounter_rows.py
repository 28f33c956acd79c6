"""One row of an encounters CSV (SPEC §7): read its values, and check them on their own.

`diversion.imports` streams a file through these functions: each row is read and checked
against the calendar, the boroughs and the lists of codes without looking at any other row,
then written to a staging table. The checks across rows, and the judging, come after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple, TypeVar

from django.core.exceptions import ValidationError

from boroughs.models import Borough
from diversion import eligibility
from diversion.choices import ENCOUNTER_CSV_COLUMNS, Ethnicity, Gender, Substance
from diversion.csv_import import LineErrors, Record, read_date, read_grams
from diversion.models import ExclusionFactor, Provider
from diversion.policies import PolicyBook
from diversion.services import OUTCOME_FIELDS, outcome_date_errors
from diversion.validators import (
    birth_date_problem,
    born_before,
    past_date_problem,
    reference_problem,
    text_problem,
)

COLUMNS: tuple[str, ...] = ENCOUNTER_CSV_COLUMNS
OUTCOME_COLUMNS: tuple[str, ...] = OUTCOME_FIELDS
PERSON_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "ethnicity",
)

# What to ask for when a required value is missing ("Enter a date of birth").
REQUIRED: dict[str, str] = {
    "encounter_ref": "an encounter reference",
    "person_ref": "a person reference",
    "first_name": "a first name",
    "last_name": "a last name",
    "date_of_birth": "a date of birth",
    "gender": "a gender",
    "ethnicity": "an ethnicity code",
    "borough_code": "a borough code",
    "encounter_date": "an encounter date",
    "substance": "a substance",
    "quantity_grams": "a quantity in grams",
}
LABELS: dict[str, str] = {
    "encounter_ref": "Encounter reference",
    "person_ref": "Person reference",
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "gender": "Gender",
    "ethnicity": "Ethnicity",
    "borough_code": "Borough code",
    "encounter_date": "Encounter date",
    "substance": "Substance",
    "quantity_grams": "Quantity",
    "exclusions": "Exclusions",
    "accepted": "Accepted",
    "provider": "Provider",
    "attended_on": "Attended date",
    "completed_on": "Completed date",
    "did_not_attend_on": "Did not attend date",
    "withdrawn_on": "Withdrawn date",
}
MAX_LENGTHS: dict[str, int] = {
    "encounter_ref": 64,
    "person_ref": 64,
    "first_name": 100,
    "last_name": 100,
}
REFERENCE_COLUMNS: tuple[str, ...] = ("encounter_ref", "person_ref")
_T = TypeVar("_T")
# Sets of the fixed vocabularies, made once (TextChoices.values builds a new list each time).
GENDERS = frozenset(Gender.values)
ETHNICITIES = frozenset(Ethnicity.values)
SUBSTANCES = frozenset(Substance.values)
DECIDED_TEXT = {"ineligible": "not eligible", "not_offered": "not offered diversion"}
BIT = {column: 1 << place for place, column in enumerate(COLUMNS)}


def mask_of(columns: set[str]) -> int:
    """Return a set of columns as bits, in the order of `COLUMNS`, for a staging table."""
    bits = 0
    for column in columns:
        bits |= BIT[column]
    return bits


def columns_of(mask: int) -> set[str]:
    return {column for column, bit in BIT.items() if mask & bit}


@dataclass
class Row:
    """One data row, its values read and checked for form (not yet judged)."""

    line: int
    raw: dict[str, str]
    encounter_ref: str = ""
    person_ref: str = ""
    first_name: str = ""
    last_name: str = ""
    date_of_birth: date | None = None
    gender: str = ""
    ethnicity: str = ""
    borough: Borough | None = None
    encounter_date: date | None = None
    substance: str = ""
    quantity: Decimal | None = None
    exclusions: tuple[str, ...] = ()
    accepted: bool | None = None
    provider: Provider | None = None
    outcomes: dict[str, date | None] = field(default_factory=dict)
    bad_columns: set[str] = field(default_factory=set)

    def value(self, column: str) -> str:
        """Return a text column's value, or "" when it was refused (so it is never compared)."""
        return "" if column in self.bad_columns else getattr(self, column)


class Lookups:
    """Everything the checks need from the database, read once."""

    def __init__(self) -> None:
        self.boroughs = {b.gss_code: b for b in Borough.objects.all()}
        self.boroughs_by_id = {b.pk: b for b in self.boroughs.values()}
        self.factor_ids = dict(ExclusionFactor.objects.values_list("code", "pk"))
        self.factors = set(self.factor_ids)
        self.providers = {p.name: p for p in Provider.objects.all()}
        self.providers_folded = {name.casefold(): p for name, p in self.providers.items()}
        self.policies = PolicyBook()

    def provider(self, name: str) -> Provider | None:
        return self.providers.get(name) or self.providers_folded.get(name.casefold())


def _bad(row: Row, errors: LineErrors, column: str, message: str) -> None:
    errors.add(row.line, column, message)
    row.bad_columns.add(column)


def _read_date(row: Row, column: str, errors: LineErrors) -> date | None:
    if column in row.bad_columns:
        return None
    value, problem = read_date(row.raw[column], noun=LABELS[column])
    if problem:
        _bad(row, errors, column, problem)
    return value


def _read_quantity(row: Row, errors: LineErrors) -> Decimal | None:
    if "quantity_grams" in row.bad_columns:
        return None
    value, problem = read_grams(row.raw["quantity_grams"], noun="quantity")
    if problem:
        _bad(row, errors, "quantity_grams", problem)
    return value


def _check_characters(row: Row, errors: LineErrors) -> None:
    """Refuse control and invisible characters in any value.

    A row whose text is printable as a whole has no value `text_problem` refuses (it looks
    further only at text ``str.isprintable`` refuses), so the common row costs one check.
    """
    if "".join(row.raw.values()).isprintable():
        return
    for column, value in row.raw.items():
        problem = text_problem(value, noun=LABELS[column])
        if problem:
            _bad(row, errors, column, problem)


def _check_text(row: Row, errors: LineErrors) -> None:
    """Refuse control characters anywhere, bad references, missing and over-long values."""
    _check_characters(row, errors)
    for column, what in REQUIRED.items():
        if not row.raw[column] and column not in row.bad_columns:
            _bad(row, errors, column, f"Enter {what}")
    for column in REFERENCE_COLUMNS:
        value = row.raw[column]
        if value and column not in row.bad_columns:
            problem = reference_problem(value, noun=LABELS[column])
            if problem:
                _bad(row, errors, column, problem)
    for column, limit in MAX_LENGTHS.items():
        if len(row.raw[column]) > limit and column not in row.bad_columns:
            _bad(row, errors, column, f"{LABELS[column]} must be {limit} characters or fewer")


def _read_codes(row: Row, errors: LineErrors) -> None:
    """Read the columns that hold a code from a fixed list."""
    raw = row.raw
    if raw["gender"] and raw["gender"] not in GENDERS:
        _bad(
            row,
            errors,
            "gender",
            f"Gender must be male, female, other or not_stated, not {raw['gender']!r}",
        )
    if raw["ethnicity"] and raw["ethnicity"] not in ETHNICITIES:
        _bad(
            row,
            errors,
            "ethnicity",
            "Ethnicity must be a police self-defined ethnicity code "
            f"({', '.join(Ethnicity.values)}), not {raw['ethnicity']!r}",
        )
    if raw["substance"] and raw["substance"] not in SUBSTANCES:
        _bad(
            row,
            errors,
            "substance",
            f"Substance must be cannabis_herbal, cannabis_resin or other, not {raw['substance']!r}",
        )
    row.gender, row.ethnicity, row.substance = raw["gender"], raw["ethnicity"], raw["substance"]
    accepted = raw["accepted"].lower()
    if accepted in ("yes", "no"):
        row.accepted = accepted == "yes"
    elif accepted:
        _bad(row, errors, "accepted", f"Accepted must be yes or no, not {raw['accepted']!r}")


def _read_links(row: Row, lookups: Lookups, errors: LineErrors) -> None:
    """Find the borough, exclusion factors and provider a row names."""
    raw = row.raw
    code = raw["borough_code"].upper()
    if code:
        row.borough = lookups.boroughs.get(code)
        if row.borough is None:
            _bad(
                row,
                errors,
                "borough_code",
                f"There is no London borough with GSS code {raw['borough_code']!r}. "
                "Codes run from E09000001 (City of London) to E09000033 (Westminster)",
            )
    codes = [c.strip() for c in raw["exclusions"].split(";") if c.strip()]
    for unknown in dict.fromkeys(c for c in codes if c not in lookups.factors):
        _bad(row, errors, "exclusions", f"There is no exclusion factor with the code {unknown!r}")
    row.exclusions = tuple(dict.fromkeys(codes))
    if raw["provider"]:
        row.provider = lookups.provider(raw["provider"])
        if row.provider is None:
            _bad(row, errors, "provider", f"There is no provider called {raw['provider']!r}")


def parse_row(line: int, raw: dict[str, str], lookups: Lookups, errors: LineErrors) -> Row:
    """Read one row's values, noting every value that is missing or not of the right form.

    A reference that fails its checks is left empty on the row, so it is never looked up.
    """
    row = Row(line=line, raw=raw)
    _check_text(row, errors)
    for column in ("encounter_ref", "person_ref", "first_name", "last_name"):
        setattr(row, column, "" if column in row.bad_columns else raw[column])
    row.date_of_birth = _read_date(row, "date_of_birth", errors)
    row.encounter_date = _read_date(row, "encounter_date", errors)
    for column in OUTCOME_COLUMNS:
        row.outcomes[column] = _read_date(row, column, errors)
    _read_codes(row, errors)
    row.quantity = _read_quantity(row, errors)
    _read_links(row, lookups, errors)
    return row


def check_header(header: list[str], errors: LineErrors) -> list[str]:
    """Return the header's column names, noting any that are missing, unknown or repeated."""
    names = [name.strip().lstrip("\ufeff").strip().lower() for name in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    repeated = [c for c in COLUMNS if names.count(c) > 1]
    if missing:
        errors.add(1, "header", f"The header is missing the columns: {', '.join(missing)}")
    if unknown:
        shown = ", ".join(repr(n[:60]) for n in unknown)
        errors.add(1, "header", f"The header has columns that are not recognised: {shown}")
    if repeated:
        errors.add(1, "header", f"The header repeats the columns: {', '.join(repeated)}")
    return names


def header_of(record: Record | None, errors: LineErrors) -> list[str] | None:
    """Return the column names of the header record, or None (and why) if it is not usable."""
    if record is None or (not record.problem and not record.cells):
        errors.add(
            1,
            "header",
            f"The file is empty: the first row must name the columns {', '.join(COLUMNS)}",
        )
        return None
    if record.problem:
        errors.add(1, "header", record.problem)
        return None
    names = check_header(record.cells, errors)
    return None if errors else names


def record_values(record: Record, names: list[str], errors: LineErrors) -> dict[str, str] | None:
    """Return a record's values by column, or None for a blank or broken record."""
    cells = record_cells(record, names, errors)
    return None if cells is None else dict(zip(names, cells, strict=True))


def record_cells(record: Record, names: list[str], errors: LineErrors) -> list[str] | None:
    """Return a record's values in the header's order, or None for a blank or broken record.

    A list is what the import sends to its worker processes: far cheaper to pickle than a dict.
    """
    cells = record.cells
    if record.problem:
        errors.add(record.line, "file", record.problem)
        return None
    if not any(cell.strip() for cell in cells):
        return None  # a blank line is skipped
    if len(cells) != len(names):
        column = names[len(cells)] if len(cells) < len(names) else names[-1]
        errors.add(
            record.line,
            column,
            f"This row has {len(cells)} values but the header has {len(names)} columns",
        )
        return None
    return [cell.strip() for cell in cells]


def rule_problems(row: Row, lookups: Lookups, today: date) -> list[tuple[str, str]]:
    """Check a row's values against each other, the calendar and the boroughs.

    Only rows new to the database are held to these rules, and whether a row is new is known
    only once the whole file is staged, so the problems are returned rather than reported.
    """
    problems: list[tuple[str, str]] = []
    if row.borough is not None and row.borough.role == Borough.Role.NONE:
        problems.append(
            (
                "borough_code",
                f"{row.borough.name} ({row.borough.gss_code}) is not taking part in the pilot, "
                "so encounters cannot be recorded there",
            )
        )
    day = row.encounter_date
    day_problem = past_date_problem(day, noun="encounter date", on=today) if day else None
    if day_problem:
        problems.append(("encounter_date", day_problem))
    if row.date_of_birth is not None:
        problem = birth_date_problem(row.date_of_birth, noun="date of birth", on=today)
        if problem:
            problems.append(("date_of_birth", problem))
        elif day is not None and not born_before(date_of_birth=row.date_of_birth, day=day):
            problems.append(("date_of_birth", "Date of birth must be before the encounter date"))
    if day is not None and not day_problem:
        try:
            lookups.policies.in_force(day)
        except ValidationError:
            problems.append(
                ("encounter_date", f"No eligibility policy was in force on {day:%Y-%m-%d}")
            )
    return problems


class Judged(NamedTuple):
    """A staged row that passed every check, as the rule and the answer checks read it."""

    line: int
    encounter_ref: str
    person_ref: str
    date_of_birth: date
    borough: Borough
    encounter_date: date
    substance: str
    quantity: Decimal
    exclusions: tuple[str, ...]
    accepted: bool | None
    provider_id: int | None
    outcomes: dict[str, date | None]


def _not_offered_because(row: Judged, assessment: eligibility.Assessment) -> str:
    borough = row.borough
    if assessment.reasons:
        return f"the encounter was not eligible ({', '.join(assessment.reasons)})"
    if borough.role == Borough.Role.COMPARISON:
        return f"{borough.name} is a comparison borough"
    return f"the pilot in {borough.name} was not running on {row.encounter_date:%Y-%m-%d}"


def answer_problems(
    row: Judged, assessment: eligibility.Assessment, today: date
) -> list[tuple[str, str]]:
    """Check the columns that depend on the decision: accepted, provider and outcomes.

    A judged row has no refused value, so a column was given exactly when its value is set.
    """
    problems: list[tuple[str, str]] = []
    offered = assessment.offered
    if offered and row.accepted is None:
        problems.append(
            (
                "accepted",
                "Enter yes or no: diversion was offered at this encounter, so say whether "
                "the person accepted it",
            )
        )
    elif not offered and row.accepted is not None:
        problems.append(
            (
                "accepted",
                "Leave accepted empty: diversion was not offered because "
                + _not_offered_because(row, assessment),
            )
        )
    if assessment.decision != eligibility.Decision.DIVERTED:
        if offered:
            decided = "declined" if row.accepted is False else "offered, with no answer"
        else:
            decided = DECIDED_TEXT.get(assessment.decision.value, assessment.decision.value)
        given = {
            "provider": row.provider_id is not None,
            **{c: v is not None for c, v in row.outcomes.items()},
        }
        problems.extend(
            (
                column,
                f"Leave {column} empty: only a diverted encounter has a referral, "
                f"and this one was {decided}",
            )
            for column in ("provider", *OUTCOME_COLUMNS)
            if given[column]
        )
        return problems
    outcome_errors = outcome_date_errors(
        encounter_date=row.encounter_date, today=today, **row.outcomes
    )
    problems.extend(outcome_errors.items())
    return problems
