"""Helpers shared by the report tests: people and encounters made through the services, and
report versions stored straight from hand-written SPEC §6 JSON."""

import copy
from datetime import date
from decimal import Decimal

from django.utils import timezone

from boroughs.models import Borough
from diversion.services import encounter_record, person_create
from reports.models import ReportStatus, ReportVersion
from reports.services import data_sha256

LEWISHAM = "E09000023"  # pilot in the `boroughs` fixture
HACKNEY = "E09000012"  # pilot with no encounters in the `boroughs` fixture
SOUTHWARK = "E09000028"  # comparison in the `boroughs` fixture

SAMPLE = {
    "week": "2026-W10",
    "period_start": "2026-03-02",
    "period_end": "2026-03-08",
    "activity": [
        {
            "borough": LEWISHAM,
            "encounters": 10,
            "diverted": 4,
            "declined": 1,
            "not_offered": 0,
            "ineligible": 5,
        },
        {
            "borough": HACKNEY,
            "encounters": 3,
            "diverted": 0,
            "declined": 0,
            "not_offered": 3,
            "ineligible": 0,
        },
        {
            "borough": "ALL",
            "encounters": 13,
            "diverted": 4,
            "declined": 1,
            "not_offered": 3,
            "ineligible": 5,
        },
    ],
    "ineligibility_reasons": [
        {"reason": "quantity_over_limit", "count": 6},
        {"reason": "age_over_max", "count": 3},
        {"reason": "exclusion:supply_indicators", "count": 2},
    ],
    "referrals": [
        {
            "borough": LEWISHAM,
            "referred": 40,
            "attended": 30,
            "completed": 25,
            "did_not_attend": 6,
            "withdrawn": 1,
            "open": 8,
            "completion_rate": 0.8065,
        },
        {
            "borough": "ALL",
            "referred": 40,
            "attended": 30,
            "completed": 25,
            "did_not_attend": 6,
            "withdrawn": 1,
            "open": 8,
            "completion_rate": 0.8065,
        },
    ],
    "reoffending": [
        {
            "cohort": "2025-01",
            "group": "diverted",
            "borough": "ALL",
            "months": 12,
            "cohort_size": 40,
            "reoffenders": 5,
            "reoffences": 7,
            "rate": 0.125,
            "ci_low": 0.0546,
            "ci_high": 0.2611,
        },
        {
            "cohort": "2025-01",
            "group": "comparison",
            "borough": "ALL",
            "months": 12,
            "cohort_size": 30,
            "reoffenders": 3,
            "reoffences": 3,
            "rate": 0.1,
            "ci_low": 0.0346,
            "ci_high": 0.2562,
        },
        {
            "cohort": "2025-01",
            "group": "diverted",
            "borough": LEWISHAM,
            "months": 3,
            "cohort_size": 40,
            "reoffenders": 8,
            "reoffences": 9,
            "rate": 0.2,
            "ci_low": 0.105,
            "ci_high": 0.3466,
        },
    ],
}

EXTRA = {
    "disproportionality": [
        {
            "dimension": "ethnicity_group",
            "group": "Black",
            "offers": 20,
            "diversions": 15,
            "completions": 9,
            "reoffending_12m_cohort": 12,
            "reoffending_12m_reoffenders": 2,
            "reoffending_12m_rate": 0.1667,
        },
        {
            "dimension": "gender",
            "group": "female",
            "offers": 7,
            "diversions": 6,
            "completions": 5,
            "reoffending_12m_cohort": 6,
            "reoffending_12m_reoffenders": 0,
            "reoffending_12m_rate": 0.0,
        },
        {
            "dimension": "age_band",
            "group": "18-20",
            "offers": 30,
            "diversions": 25,
            "completions": 20,
            "reoffending_12m_cohort": 20,
            "reoffending_12m_reoffenders": 5,
            "reoffending_12m_rate": 0.25,
        },
    ]
}


def make_version(
    *,
    week: str = "2026-W10",
    number: int = 1,
    status: str = ReportStatus.DRAFT,
    data: dict | None = None,
    extra: dict | None = None,
    **fields,
) -> ReportVersion:
    """Store a report version directly from hand-written SPEC §6 JSON."""
    data = copy.deepcopy(data if data is not None else SAMPLE)
    data["week"] = week
    year, w = int(week[:4]), int(week[6:])
    monday = date.fromisocalendar(year, w, 1)
    return ReportVersion.objects.create(
        week=week,
        period_start=monday,
        period_end=date.fromisocalendar(year, w, 7),
        number=number,
        data=data,
        extra=copy.deepcopy(EXTRA) if extra is None else extra,
        sha256=data_sha256(data),
        built_at=timezone.now(),
        status=status,
        **fields,
    )


def person(ref: str, *, dob: date = date(2003, 5, 5), gender: str = "male", ethnicity="W1"):
    return person_create(
        first_name="Sam",
        last_name="Example",
        date_of_birth=dob,
        gender=gender,
        ethnicity=ethnicity,
        person_ref=ref,
    )


def meet(who, day: date, outcome: str, *, ref: str | None = None, borough: str | None = None):
    """Record an encounter that ends in ``outcome``, checking that it really did."""
    if borough is None:
        borough = SOUTHWARK if outcome == "not_offered" else LEWISHAM
    encounter = encounter_record(
        by=None,
        person=who,
        borough=Borough.objects.get(gss_code=borough),
        encounter_date=day,
        substance="other" if outcome == "ineligible" else "cannabis_herbal",
        quantity_grams=Decimal("1.5"),
        accepted={"diverted": True, "declined": False}.get(outcome),
        encounter_ref=ref,
    )
    assert encounter.decision == outcome
    return encounter


def cohort_counts(*, cohorts: int = 6, small: tuple[str, str, int] | None = None) -> list[tuple]:
    """Return reoffending counts as the measure's query returns them, for many cohorts.

    Cohorts 2024-01 onwards, Lewisham and Hackney and ALL, both groups, at 3, 6 and 12 months;
    the pooled rows add the cohorts up, as the query does. ``small`` = (borough, group, cohort
    index) gives that cohort 2 reoffenders at every N, a count people must not see, and that
    borough and group's other cohorts none at 3 months, so its 3-month ``effects`` row pools 2.
    """
    from reports.measure import month_key

    counts = []
    for months in (3, 6, 12):
        pooled: dict[tuple[str, str], list[int]] = {}
        for k in range(cohorts):
            mk = month_key(date(2024, 1 + k, 1))
            for g, group in enumerate(("diverted", "comparison")):
                parts = {
                    LEWISHAM: (40 + k, 6 + k + months // 3 + g),
                    HACKNEY: (30 + 2 * k, 5 + months // 3 + 2 * g),
                }
                if small is not None and small[1] == group:
                    size = parts[small[0]][0]
                    if k == small[2]:
                        parts[small[0]] = (size, 2)
                    elif months == 3:
                        parts[small[0]] = (size, 0)
                parts["ALL"] = tuple(map(sum, zip(*parts.values(), strict=True)))
                for borough, (size, reoffenders) in parts.items():
                    row = ("cohort", mk, group, borough, months, size, reoffenders, reoffenders)
                    counts.append(row)
                    total = pooled.setdefault((group, borough), [0, 0])
                    total[0] += size
                    total[1] += reoffenders
        for (group, borough), (size, reoffenders) in pooled.items():
            counts.append(("pooled", 0, group, borough, months, size, reoffenders, reoffenders))
    return counts


def cohort_report(**options) -> dict:
    """SAMPLE with ``cohort_counts``' reoffending and effects sections (108 reoffending rows)."""
    from reports.measure import _effects, _reoffending

    counts = cohort_counts(**options)
    return {
        **copy.deepcopy(SAMPLE),
        "reoffending": _reoffending(counts),
        "effects": _effects(counts),
    }
