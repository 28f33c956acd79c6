"""Import historical encounters from the CSV of SPEC §7, all or nothing.

The whole file is checked before anything is stored, so a file with any bad row changes nothing
and every problem is listed at once as ``line N, column: message``. Rows are judged in
(encounter_date, encounter_ref) order with the policy in force on each date, so a person's
earlier diversion in the same file counts against their later encounters exactly as it would
have done had an officer logged them one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple, TextIO, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from boroughs.models import Borough
from diversion import eligibility
from diversion.choices import (
    ENCOUNTER_CSV_COLUMNS,
    Decision,
    EncounterSource,
    Ethnicity,
    Gender,
    Substance,
)
from diversion.csvfiles import Record, read_records
from diversion.facts import encounter_facts
from diversion.models import (
    Encounter,
    EncounterExclusion,
    EncounterReason,
    ExclusionFactor,
    Person,
    Provider,
    Referral,
)
from diversion.policies import PolicyBook
from diversion.services import (
    OUTCOME_FIELDS,
    exclusion_rows,
    new_pseudonym,
    outcome_date_errors,
    reason_rows,
    referral_due_dates_set,
)
from diversion.validators import (
    birth_date_problem,
    born_before,
    iso_date_problem,
    parse_grams,
    parse_iso_date,
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
BATCH_SIZE = 1000
_T = TypeVar("_T")
# Sets of the fixed vocabularies, made once (TextChoices.values builds a new list each time).
GENDERS = frozenset(Gender.values)
ETHNICITIES = frozenset(Ethnicity.values)
SUBSTANCES = frozenset(Substance.values)
DECIDED_TEXT = {"ineligible": "not eligible", "not_offered": "not offered diversion"}
LOOKUP_CHUNK = 900  # below SQLite's oldest limit on query parameters


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


@dataclass
class _Row:
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

    @property
    def has_errors(self) -> bool:
        return bool(self.bad_columns)

    def comparable(self) -> tuple:
        """Return the 18 columns normalised, to compare with a stored encounter."""
        return (
            self.encounter_ref,
            self.person_ref,
            self.first_name,
            self.last_name,
            self.date_of_birth,
            self.gender,
            self.ethnicity,
            self.borough.gss_code if self.borough else None,
            self.encounter_date,
            self.substance,
            self.quantity.normalize() if self.quantity is not None else None,
            self.exclusions,
            self.accepted,
            self.provider.pk if self.provider else None,
            *(self.outcomes.get(c) for c in OUTCOME_COLUMNS),
        )


class _Errors:
    """Errors collected across the file, listed by line then by column."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int, str]] = []

    def add(self, line: int, column: str, message: str) -> None:
        order = COLUMNS.index(column) if column in COLUMNS else -1
        self._items.append((line, order, f"line {line}, {column}: {message}"))

    def __bool__(self) -> bool:
        return bool(self._items)

    def messages(self) -> list[str]:
        return [text for _, _, text in sorted(self._items, key=lambda item: item[:2])]


def _chunks(values: list, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _Lookups:
    """Everything the checks need from the database, read once."""

    def __init__(self) -> None:
        self.boroughs = {b.gss_code: b for b in Borough.objects.all()}
        self.factors = set(ExclusionFactor.objects.values_list("code", flat=True))
        self.providers = {p.name: p for p in Provider.objects.all()}
        self.providers_folded = {name.casefold(): p for name, p in self.providers.items()}
        self.policies = PolicyBook()

    def provider(self, name: str) -> Provider | None:
        return self.providers.get(name) or self.providers_folded.get(name.casefold())


def _bad(row: _Row, errors: _Errors, column: str, message: str) -> None:
    errors.add(row.line, column, message)
    row.bad_columns.add(column)


def _read_date(row: _Row, column: str, errors: _Errors) -> date | None:
    value = row.raw[column]
    if not value or column in row.bad_columns:
        return None
    try:
        return parse_iso_date(value)
    except ValueError:
        _bad(row, errors, column, iso_date_problem(value, noun=LABELS[column]) or "")
        return None


def _read_quantity(row: _Row, errors: _Errors) -> Decimal | None:
    value = row.raw["quantity_grams"]
    if not value or "quantity_grams" in row.bad_columns:
        return None
    try:
        return parse_grams(value, noun="quantity")
    except ValidationError as error:
        _bad(row, errors, "quantity_grams", error.messages[0])
        return None


def _check_text(row: _Row, errors: _Errors) -> None:
    """Refuse control characters anywhere, bad references, missing and over-long values."""
    for column, value in row.raw.items():
        problem = text_problem(value, noun=LABELS[column])
        if problem:
            _bad(row, errors, column, problem)
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


def _read_codes(row: _Row, errors: _Errors) -> None:
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


def _read_links(row: _Row, lookups: _Lookups, errors: _Errors) -> None:
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


def _parse_row(line: int, raw: dict[str, str], lookups: _Lookups, errors: _Errors) -> _Row:
    """Read one row's values, noting every value that is missing or not of the right form.

    A reference that fails its checks is left empty on the row, so it is never looked up.
    """
    row = _Row(line=line, raw=raw)
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


def _stored_encounters(refs: list[str]) -> dict[str, tuple]:
    """Return stored encounters as the 18 columns, normalised like `_Row.comparable`.

    Read as plain values, not model instances, so re-importing a large file stays quick.
    """
    found: dict[str, tuple] = {}
    for chunk in _chunks(refs):
        exclusions: dict[str, list[str]] = defaultdict(list)
        for ref, code in (
            EncounterExclusion.objects.filter(encounter__encounter_ref__in=chunk)
            .order_by("encounter_id", "position")
            .values_list("encounter__encounter_ref", "factor__code")
        ):
            exclusions[ref].append(code)
        for values in Encounter.objects.filter(encounter_ref__in=chunk).values_list(
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
            found[ref] = (
                *values[:10],
                values[10].normalize(),
                tuple(exclusions.get(ref, ())),
                *values[11:],
            )
    return found


def _stored_people(refs: list[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    for chunk in _chunks(refs):
        found.update({p.person_ref: p for p in Person.objects.filter(person_ref__in=chunk)})
    return found


def _stored_diversions(people: Iterable[Person]) -> dict[int, list[date]]:
    """Return the dates each person was diverted, from encounters already stored."""
    dates: dict[int, list[date]] = defaultdict(list)
    for chunk in _chunks([p.pk for p in people]):
        for person_id, day in Encounter.objects.filter(
            person_id__in=chunk, decision=Decision.DIVERTED
        ).values_list("person_id", "encounter_date"):
            dates[person_id].append(day)
    return dates


def _check_header(header: list[str], errors: _Errors) -> list[str]:
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


def _read_rows(stream: TextIO, errors: _Errors) -> list[tuple[int, dict[str, str]]] | None:
    """Read the header and the rows as (line, values), or return None if the header is bad.

    A record the csv module cannot read is reported on the line it starts on, and reading
    goes on, so every problem in the file is listed at once.
    """
    records = read_records(stream)
    line = 0  # the line the last record read starts on
    try:
        header = next(records, None)
        if header is None or (not header.problem and not header.cells):
            errors.add(
                1,
                "header",
                f"The file is empty: the first row must name the columns {', '.join(COLUMNS)}",
            )
            return None
        if header.problem:
            errors.add(1, "header", header.problem)
            return None
        names = _check_header(header.cells, errors)
        if errors:
            return None
        rows: list[tuple[int, dict[str, str]]] = []
        for record in records:
            line = record.line
            values = _record_values(record, names, errors)
            if values:
                rows.append((record.line, values))
    except UnicodeDecodeError:
        errors.add(line + 1, "file", "The file must be saved as UTF-8 text")
        return None
    return rows


def _record_values(record: Record, names: list[str], errors: _Errors) -> dict[str, str] | None:
    """Return a record's values by column, or None for a blank or broken record."""
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
    return {name: cell.strip() for name, cell in zip(names, cells, strict=True)}


def _not_offered_because(row: _Row, assessment: eligibility.Assessment) -> str:
    borough = _checked(row.borough)
    if assessment.reasons:
        return f"the encounter was not eligible ({', '.join(assessment.reasons)})"
    if borough.role == Borough.Role.COMPARISON:
        return f"{borough.name} is a comparison borough"
    return f"the pilot in {borough.name} was not running on {row.encounter_date:%Y-%m-%d}"


@dataclass
class _Judged:
    row: _Row
    assessment: eligibility.Assessment
    policy_id: int


def encounters_import(*, stream: TextIO, source_name: str) -> ImportResult:
    """Check, judge and store every encounter in a CSV file, or raise `ImportFailed`.

    Nothing is stored unless the whole file is good. Rows already stored with identical data
    are left as they are.
    """
    errors = _Errors()
    raw_rows = _read_rows(stream, errors)
    if raw_rows is None:
        raise ImportFailed(errors.messages())
    today = timezone.localdate()
    with transaction.atomic():
        lookups = _Lookups()
        rows = [_parse_row(line, raw, lookups, errors) for line, raw in raw_rows]
        stored = _stored_encounters(list({r.encounter_ref for r in rows if r.encounter_ref}))
        people = _stored_people(list({r.person_ref for r in rows if r.person_ref}))

        new_rows, unchanged = _new_rows(rows, stored, people, lookups, today, errors)

        judged = _judge(new_rows, people, lookups, today, errors)
        if errors:
            raise ImportFailed(errors.messages())
        return _store(judged=judged, people=people, unchanged=unchanged, source_name=source_name)


def _new_rows(
    rows: list[_Row],
    stored: dict[str, tuple],
    people: dict[str, Person],
    lookups: _Lookups,
    today: date,
    errors: _Errors,
) -> tuple[list[_Row], int]:
    """Return the rows to judge and how many are already stored unchanged, noting errors."""
    first_line: dict[str, int] = {}
    first_person: dict[str, _Row] = {}
    new_rows: list[_Row] = []
    unchanged = 0
    for row in rows:
        ref = row.encounter_ref
        if ref and ref in first_line:
            errors.add(
                row.line,
                "encounter_ref",
                f"Encounter reference {ref!r} is also used on line {first_line[ref]}",
            )
            continue
        if ref:
            first_line[ref] = row.line
        if ref in stored:
            if not row.has_errors and _same_as_stored(row, stored[ref], errors):
                unchanged += 1
            continue
        _check_business_rules(row, lookups, today, errors)
        _check_person(row, people, first_person, errors)
        new_rows.append(row)
    return new_rows, unchanged


def _same_as_stored(row: _Row, theirs: tuple, errors: _Errors) -> bool:
    """Say whether a row repeats its stored encounter exactly; a row that differs is an error."""
    differs = [
        column
        for column, mine, stored in zip(COLUMNS, row.comparable(), theirs, strict=True)
        if mine != stored
    ]
    if differs:
        errors.add(
            row.line,
            "encounter_ref",
            f"Encounter {row.encounter_ref!r} is already recorded with different data "
            f"(in {', '.join(differs)}); an import cannot change it",
        )
    return not differs


def _check_business_rules(row: _Row, lookups: _Lookups, today: date, errors: _Errors) -> None:
    """Check a new row's values against each other, the calendar and the boroughs."""

    def bad(column: str, message: str) -> None:
        errors.add(row.line, column, message)
        row.bad_columns.add(column)

    if row.borough is not None and row.borough.role == Borough.Role.NONE:
        bad(
            "borough_code",
            f"{row.borough.name} ({row.borough.gss_code}) is not taking part in the pilot, "
            "so encounters cannot be recorded there",
        )
    if row.encounter_date is not None:
        problem = past_date_problem(row.encounter_date, noun="encounter date", on=today)
        if problem:
            bad("encounter_date", problem)
    if row.date_of_birth is not None:
        problem = birth_date_problem(row.date_of_birth, noun="date of birth", on=today)
        if problem:
            bad("date_of_birth", problem)
        elif row.encounter_date is not None and not born_before(
            date_of_birth=row.date_of_birth, day=row.encounter_date
        ):
            bad("date_of_birth", "Date of birth must be before the encounter date")
    if row.encounter_date is not None and "encounter_date" not in row.bad_columns:
        try:
            lookups.policies.in_force(row.encounter_date)
        except ValidationError:
            bad(
                "encounter_date",
                f"No eligibility policy was in force on {row.encounter_date:%Y-%m-%d}",
            )


def _check_person(
    row: _Row, people: dict[str, Person], first_person: dict[str, _Row], errors: _Errors
) -> None:
    """Check a person's details match every other row and any record of the same person."""
    if not row.person_ref:
        return
    stored = people.get(row.person_ref)
    earlier = first_person.setdefault(row.person_ref, row)
    for column in PERSON_COLUMNS:
        mine = getattr(row, column)
        if mine in (None, "") or column in row.bad_columns:
            continue  # already reported as missing or not of the right form
        if stored is not None:
            if mine != getattr(stored, column):
                errors.add(
                    row.line,
                    column,
                    f"{LABELS[column]} differs from the person already recorded with person "
                    f"reference {row.person_ref!r}",
                )
                row.bad_columns.add(column)
        elif earlier is not row:
            theirs = getattr(earlier, column)
            if theirs not in (None, "") and column not in earlier.bad_columns and mine != theirs:
                errors.add(
                    row.line,
                    column,
                    f"{LABELS[column]} differs from line {earlier.line} for person reference "
                    f"{row.person_ref!r}: a person's details must be the same on every row",
                )
                row.bad_columns.add(column)


def _judge(
    rows: list[_Row],
    people: dict[str, Person],
    lookups: _Lookups,
    today: date,
    errors: _Errors,
) -> list[_Judged]:
    """Decide each good row in (encounter_date, encounter_ref) order, then check its answers."""
    diverted_on: dict[str, list[date]] = defaultdict(list)
    ref_by_pk = {p.pk: ref for ref, p in people.items()}
    for person_id, days in _stored_diversions(people.values()).items():
        diverted_on[ref_by_pk[person_id]].extend(days)
    judged: list[_Judged] = []
    good = sorted(
        (r for r in rows if not r.has_errors), key=lambda r: (r.encounter_date, r.encounter_ref)
    )
    for row in good:
        encounter_date = _checked(row.encounter_date)
        policy, rule = lookups.policies.in_force(encounter_date)
        facts = encounter_facts(
            person=_Born(_checked(row.date_of_birth)),
            borough=_checked(row.borough),
            encounter_date=encounter_date,
            substance=row.substance,
            quantity_grams=_checked(row.quantity),
            exclusions=row.exclusions,
            diversion_dates=diverted_on[row.person_ref],
            accepted=row.accepted,
        )
        assessment = eligibility.assess(facts, rule)
        problems = _answer_problems(row, assessment, today)
        for column, message in problems:
            errors.add(row.line, column, message)
        if assessment.decision == eligibility.Decision.DIVERTED:
            # Counts against the person's later rows even if its outcome dates are wrong.
            diverted_on[row.person_ref].append(encounter_date)
        if not problems:
            judged.append(_Judged(row=row, assessment=assessment, policy_id=policy.pk))
    return judged


def _answer_problems(
    row: _Row, assessment: eligibility.Assessment, today: date
) -> list[tuple[str, str]]:
    """Check the columns that depend on the decision: accepted, provider and outcomes."""
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
    elif not offered and row.raw["accepted"]:
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
        for column in ("provider", *OUTCOME_COLUMNS):
            if row.raw[column]:
                problems.append(
                    (
                        column,
                        f"Leave {column} empty: only a diverted encounter has a referral, "
                        f"and this one was {decided}",
                    )
                )
        return problems
    outcome_errors = outcome_date_errors(
        encounter_date=_checked(row.encounter_date), today=today, **row.outcomes
    )
    problems.extend(outcome_errors.items())
    return problems


def _checked(value: _T | None) -> _T:
    """Return a value every good row has; only rows without errors are judged and stored."""
    if value is None:
        raise ValueError("A row with errors reached a step meant for good rows")
    return value


class _Born(NamedTuple):
    """The person facts the rule reads from an import row (its date of birth, once checked)."""

    date_of_birth: date


def _new_people(judged: list[_Judged], people: dict[str, Person]) -> dict[str, Person]:
    """Return the people to create, by reference: the first row that names each one."""
    new_people: dict[str, Person] = {}
    for item in judged:
        row = item.row
        if row.person_ref not in people and row.person_ref not in new_people:
            new_people[row.person_ref] = Person(
                person_ref=row.person_ref,
                pseudonym=new_pseudonym(),
                first_name=row.first_name,
                last_name=row.last_name,
                date_of_birth=_checked(row.date_of_birth),
                gender=row.gender,
                ethnicity=row.ethnicity,
            )
    return new_people


def _encounter(item: _Judged, person: Person, now: datetime) -> Encounter:
    """Build the encounter a judged row records, its decision already made."""
    return Encounter(
        encounter_ref=item.row.encounter_ref,
        person=person,
        borough=item.row.borough,
        encounter_date=_checked(item.row.encounter_date),
        occurred_at=None,
        substance=item.row.substance,
        quantity_grams=_checked(item.row.quantity),
        decision=item.assessment.decision.value,
        accepted=item.row.accepted if item.assessment.offered else None,
        age_at_encounter=item.assessment.age,
        policy_id=item.policy_id,
        officer=None,
        source=EncounterSource.IMPORT,
        decided_at=now,
        answered_at=now if item.assessment.offered else None,
    )


def _store_details(
    judged: list[_Judged], encounters: list[Encounter], reason: str
) -> dict[str, int]:
    """Store each encounter's reasons, exclusions and referral; return decisions counted."""
    factor_ids = dict(ExclusionFactor.objects.values_list("code", "pk"))
    reasons: list[EncounterReason] = []
    links: list[EncounterExclusion] = []
    referrals: list[Referral] = []
    decisions: dict[str, int] = defaultdict(int)
    for item, encounter in zip(judged, encounters, strict=True):
        decisions[encounter.decision] += 1
        reasons.extend(reason_rows(encounter.pk, item.assessment.reasons))
        links.extend(exclusion_rows(encounter.pk, (factor_ids[c] for c in item.row.exclusions)))
        if encounter.decision == Decision.DIVERTED:
            referral = Referral(
                encounter=encounter, provider=item.row.provider, **item.row.outcomes
            )
            referral_due_dates_set(referral, encounter=encounter)
            referrals.append(referral)
    EncounterReason.objects.bulk_create(reasons, batch_size=BATCH_SIZE)
    EncounterExclusion.objects.bulk_create(links, batch_size=BATCH_SIZE)
    bulk_create_with_history(
        referrals, Referral, batch_size=BATCH_SIZE, default_change_reason=reason
    )
    return dict(decisions)


def _store(
    *, judged: list[_Judged], people: dict[str, Person], unchanged: int, source_name: str
) -> ImportResult:
    """Store the judged rows in bulk, each model with its history."""
    reason = f"import_encounters {source_name}"[:100]
    now = timezone.now()
    new_people = _new_people(judged, people)
    created = bulk_create_with_history(
        list(new_people.values()), Person, batch_size=BATCH_SIZE, default_change_reason=reason
    )
    by_ref = {**people, **{p.person_ref: p for p in created}}
    encounters = bulk_create_with_history(
        [_encounter(item, by_ref[item.row.person_ref], now) for item in judged],
        Encounter,
        batch_size=BATCH_SIZE,
        default_change_reason=reason,
    )
    return ImportResult(
        imported=len(encounters),
        unchanged=unchanged,
        people_created=len(created),
        decisions=_store_details(judged, encounters, reason),
    )
