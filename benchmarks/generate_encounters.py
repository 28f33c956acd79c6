"""Write a valid encounters CSV (SPEC §7) of synthetic history, for benchmarks and rehearsals.

    python benchmarks/generate_encounters.py --rows 10000 --seed 1 --output /tmp/encounters.csv

The file is valid only against the set-up it assumes, which it does not make itself (it never
touches a database). Before importing it, configure the boroughs like this (the commands are also
printed on standard error):

    manage.py set_borough E09000022 --role pilot --start 2025-01-01   # Lambeth
    manage.py set_borough E09000028 --role pilot --start 2025-01-01   # Southwark
    manage.py set_borough E09000008 --role comparison                 # Croydon

and keep eligibility policy version 1 as shipped (18 to 24, herbal 25 g, resin 5 g, 12 months)
as the only version. `accepted` must be given exactly where diversion would be offered, so the
generator runs the real, pure eligibility rule over the rows in (encounter_date, encounter_ref)
order, the order the import judges them in, and writes the rows in that order.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diversion.choices import ENCOUNTER_CSV_COLUMNS as COLUMNS  # noqa: E402
from diversion.eligibility import Decision, Facts, Policy, assess  # noqa: E402

PILOT_START = date(2025, 1, 1)
# GSS code -> (role, pilot start, weight): what the file assumes set_borough has configured.
BOROUGHS = {
    "E09000022": ("pilot", PILOT_START, 40),  # Lambeth
    "E09000028": ("pilot", PILOT_START, 35),  # Southwark
    "E09000008": ("comparison", None, 25),  # Croydon
}
SET_BOROUGH_COMMANDS = (
    "manage.py set_borough E09000022 --role pilot --start 2025-01-01",
    "manage.py set_borough E09000028 --role pilot --start 2025-01-01",
    "manage.py set_borough E09000008 --role comparison",
)
POLICY_V1 = Policy(
    version=1,
    min_age=18,
    max_age=24,
    quantity_limits={"cannabis_herbal": Decimal("25"), "cannabis_resin": Decimal("5")},
    prior_diversion_months=12,
)
FIRST_NAMES = (
    "Aaliyah Adam Amir Amara Ben Chloe Daniel Deshawn Ella Femi Grace Hassan Isla Jamal Jade "
    "Kai Kwame Leah Liam Maya Mohammed Nia Noah Olivia Priya Reece Ruby Sami Tariq Zara"
).split()
LAST_NAMES = (
    "Adeyemi Ahmed Brown Campbell Clarke Davies Evans Francis Green Hughes Ibrahim Johnson "
    "Khan Lewis Mensah Murphy Nowak Okafor Patel Robinson Singh Smith Taylor Walker Williams"
).split()
GENDERS = (("male", 80), ("female", 17), ("other", 1), ("not_stated", 2))
ETHNICITIES = (
    ("W1", 30), ("W2", 2), ("W3", 1), ("W4", 1), ("W9", 6), ("M1", 5), ("M2", 2), ("M3", 2),
    ("M9", 2), ("A1", 4), ("A2", 3), ("A3", 3), ("A4", 1), ("A9", 3), ("B1", 9), ("B2", 12),
    ("B9", 4), ("O2", 2), ("O9", 3), ("NS", 5),
)  # fmt: skip
FACTORS = ("supply_indicators", "other_offence", "violence_or_threats", "school_or_youth_setting")


@dataclass(frozen=True)
class _Person:
    ref: str
    first_name: str
    last_name: str
    date_of_birth: date
    gender: str
    ethnicity: str


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _quantity(rng: random.Random, substance: str) -> Decimal:
    top = {"cannabis_herbal": 32.0, "cannabis_resin": 7.0, "other": 4.0}[substance]
    places = rng.choice((0, 1, 1, 2, 3))
    amount = round(rng.uniform(0.2, top), places)
    return max(Decimal(str(amount)), Decimal("0.1"))


def _on(day: date, last_day: date, offset_days: int) -> date | None:
    when = day + timedelta(days=offset_days)
    return when if when <= last_day else None


def _attended_outcomes(rng: random.Random, day: date, last_day: date) -> dict[str, str]:
    """Return the dates of someone who attends: then completes, is withdrawn, or neither."""
    dates: dict[str, str] = {}
    attended = _on(day, last_day, rng.randint(2, 21))
    if attended is None:
        return dates
    dates["attended_on"] = attended.isoformat()
    if rng.random() < 0.75:
        completed = _on(day, last_day, (attended - day).days + rng.randint(7, 28))
        if completed is not None:
            dates["completed_on"] = completed.isoformat()
    elif rng.random() < 0.3:
        withdrawn = _on(day, last_day, (attended - day).days + rng.randint(1, 14))
        if withdrawn is not None:
            dates["withdrawn_on"] = withdrawn.isoformat()
    return dates


def _outcomes(rng: random.Random, day: date, last_day: date) -> dict[str, str]:
    """Return outcome dates in order, never after ``last_day`` (so never in the future)."""
    roll = rng.random()
    if roll < 0.7:
        return _attended_outcomes(rng, day, last_day)
    dates: dict[str, str] = {}
    if roll < 0.85:
        missed = _on(day, last_day, rng.randint(5, 21))
        if missed is not None:
            dates["did_not_attend_on"] = missed.isoformat()
    elif roll < 0.9:
        withdrawn = _on(day, last_day, rng.randint(1, 10))
        if withdrawn is not None:
            dates["withdrawn_on"] = withdrawn.isoformat()
    return dates


def _drafts(
    rng: random.Random,
    *,
    seed: int,
    rows: int,
    people: list[_Person],
    first_day: date,
    last_day: date,
) -> list[dict[str, Any]]:
    """Draw each encounter's person, borough, date, substance, quantity and exclusions."""
    span = (last_day - first_day).days
    codes = list(BOROUGHS)
    weights = [BOROUGHS[c][2] for c in codes]
    drafts = []
    for i in range(rows):
        # A fifth of encounters are of people seen before; the rest spread over the pool.
        person = (
            people[rng.randrange(max(1, len(people) // 5))]
            if rng.random() < 0.2
            else (rng.choice(people))
        )
        day = first_day + timedelta(days=rng.randint(0, span))
        if day <= person.date_of_birth:
            day = person.date_of_birth + timedelta(days=16 * 365)
            day = min(day, last_day)
        substance = _pick(rng, (("cannabis_herbal", 65), ("cannabis_resin", 25), ("other", 10)))
        roll = rng.random()
        exclusions = (
            rng.sample(FACTORS, 2) if roll < 0.02 else [rng.choice(FACTORS)] if roll < 0.1 else []
        )
        drafts.append(
            {
                "encounter_ref": f"ENC-{seed}-{i:07d}",
                "person": person,
                "borough_code": rng.choices(codes, weights=weights)[0],
                "encounter_date": day,
                "substance": substance,
                "quantity": _quantity(rng, substance),
                "exclusions": exclusions,
            }
        )
    return drafts


def generate(*, rows: int, seed: int, today: date | None = None) -> list[dict[str, str]]:
    """Return ``rows`` valid rows, sorted by (encounter_date, encounter_ref)."""
    rng = random.Random(seed)
    # Yesterday at the latest, so no date is in the future whatever the time zone.
    last_day = (today or date.today()) - timedelta(days=1)
    first_day = date(2024, 7, 1)
    people = [
        _Person(
            ref=f"PER-{seed}-{i:07d}",
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            # Born so as to be about 16 to 27 at some point in the encounter period.
            date_of_birth=date(2025, 6, 1) - timedelta(days=rng.randint(15 * 365, 27 * 365)),
            gender=_pick(rng, GENDERS),
            ethnicity=_pick(rng, ETHNICITIES),
        )
        for i in range(max(1, int(rows * 0.7)))
    ]
    drafts = _drafts(
        rng, seed=seed, rows=rows, people=people, first_day=first_day, last_day=last_day
    )
    drafts.sort(key=lambda d: (d["encounter_date"], d["encounter_ref"]))

    diverted_on: dict[str, list[date]] = defaultdict(list)
    out: list[dict[str, str]] = []
    for draft in drafts:
        person: _Person = draft["person"]
        day: date = draft["encounter_date"]
        role, start, _ = BOROUGHS[draft["borough_code"]]
        facts = Facts(
            date_of_birth=person.date_of_birth,
            encounter_date=day,
            substance=draft["substance"],
            quantity_grams=draft["quantity"],
            exclusions=tuple(draft["exclusions"]),
            previous_diversion_dates=tuple(diverted_on[person.ref]),
            borough_role=role,
            pilot_start=start,
            pilot_end=None,
            accepted=None,
        )
        decision = assess(facts, POLICY_V1).decision
        accepted = ""
        outcomes: dict[str, str] = {}
        if decision == Decision.OFFERED:
            accepted = "yes" if rng.random() < 0.7 else "no"
            if accepted == "yes":
                diverted_on[person.ref].append(day)
                outcomes = _outcomes(rng, day, last_day)
        out.append(
            {
                "encounter_ref": draft["encounter_ref"],
                "person_ref": person.ref,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "date_of_birth": person.date_of_birth.isoformat(),
                "gender": person.gender,
                "ethnicity": person.ethnicity,
                "borough_code": draft["borough_code"],
                "encounter_date": day.isoformat(),
                "substance": draft["substance"],
                "quantity_grams": f"{draft['quantity']:f}",
                "exclusions": ";".join(draft["exclusions"]),
                "accepted": accepted,
                "provider": "",
                **{c: outcomes.get(c, "") for c in COLUMNS[14:]},
            }
        )
    return out


def write(rows: list[dict[str, str]], path: Path) -> None:
    """Write rows as the encounters CSV."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    write(generate(rows=args.rows, seed=args.seed), args.output)
    print(f"Wrote {args.rows} encounters to {args.output}. It assumes:", file=sys.stderr)
    for command in SET_BOROUGH_COMMANDS:
        print(f"  {command}", file=sys.stderr)


if __name__ == "__main__":
    main()
