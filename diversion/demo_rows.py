"""The rows the demo generator yields and the writers store: plain data, no database.

Kept apart from ``diversion.demo`` (the generator) so that ``diversion.demo_copy`` (the
PostgreSQL writer) can read them without importing the generator that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

# Encounters per block: the unit generated, and written, at a time (diversion.demo).
BLOCK_SIZE = 5000


@dataclass(slots=True)
class PersonRow:
    index: int
    person_ref: str
    pseudonym: str
    first_name: str
    last_name: str
    date_of_birth: date
    gender: str
    ethnicity: str


@dataclass(slots=True)
class ReferralRow:
    provider_id: int | None
    appointment_on: date
    attended_on: date | None
    completed_on: date | None
    did_not_attend_on: date | None
    withdrawn_on: date | None
    flagged_at: datetime | None
    due_on: date | None  # referral_status.due_dates, as the services store them
    overdue_from: date | None


@dataclass(slots=True)
class EncounterRow:
    person_index: int
    encounter_ref: str
    borough_id: int
    encounter_date: date
    occurred_at: datetime
    substance: str
    quantity_grams: Decimal
    otherwise_disposal: str
    exclusions: tuple[str, ...]
    decision: str
    accepted: bool | None
    age: int
    policy_id: int
    reasons: tuple[str, ...]
    referral: ReferralRow | None


@dataclass(slots=True)
class ReoffenceRow:
    person_index: int
    offence_date: date
    offence_type: str
    source_ref: str


@dataclass(slots=True)
class Chunk:
    people: list[PersonRow] = field(default_factory=list)
    encounters: list[EncounterRow] = field(default_factory=list)
    reoffences: list[ReoffenceRow] = field(default_factory=list)
