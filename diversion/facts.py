"""Gather an encounter's facts for the eligibility rule, the same way for every caller.

Officers' encounters, answers, imports and demo data all judge encounters with
`diversion.eligibility.assess`. Each used to build `eligibility.Facts` itself, so a fact taken
from the wrong place in one of them (say, the borough's dates) would make that path decide
differently. `encounter_facts` is the one place that says where each fact comes from. Like the
rule it stays pure: callers fetch the person's diversion dates (from the database, or from the
rows judged so far) and pass them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Protocol

from diversion.eligibility import Facts


class PersonFacts(Protocol):
    """What the rule needs to know about the person: a stored person or an import row."""

    @property
    def date_of_birth(self) -> date: ...


class BoroughFacts(Protocol):
    """What the rule needs to know about the borough: its role and pilot dates."""

    @property
    def role(self) -> str: ...

    @property
    def pilot_start(self) -> date | None: ...

    @property
    def pilot_end(self) -> date | None: ...


def encounter_facts(
    *,
    person: PersonFacts,
    borough: BoroughFacts,
    encounter_date: date,
    substance: str,
    quantity_grams: Decimal,
    exclusions: Iterable[str],
    diversion_dates: Iterable[date],
    accepted: bool | None,
) -> Facts:
    """Build the facts one encounter is judged on.

    `diversion_dates` are the dates of the person's other encounters decided `diverted`, any
    date: the rule itself applies SPEC §3's window, (date - N months) < d <= date. They are
    sorted so the same diversions always give equal facts, whatever order they were found in.
    """
    return Facts(
        date_of_birth=person.date_of_birth,
        encounter_date=encounter_date,
        substance=substance,
        quantity_grams=quantity_grams,
        exclusions=tuple(exclusions),
        previous_diversion_dates=tuple(sorted(diversion_dates)),
        borough_role=borough.role,
        pilot_start=borough.pilot_start,
        pilot_end=borough.pilot_end,
        accepted=accepted,
    )
