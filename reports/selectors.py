"""Reads for the analyst and approver pages: trends across weeks and the home pages.

Every figure is aggregated by the database in a fixed number of queries, whatever the number
of weeks: weekly figures come from one ``GROUP BY`` on the ISO week (``TruncWeek``, the Monday
of the encounter date's week, on both PostgreSQL and SQLite) and the reoffending rates from the
report's own single reoffending query. Python only fills in weeks with no encounters, works out
rates from the aggregated counts, and suppresses small numbers for people to read.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Case, Count, IntegerField, Min, Q, QuerySet, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from boroughs.models import Borough
from boroughs.roles import Role
from diversion.choices import Decision
from diversion.models import Encounter
from reports import measure
from reports.models import ReportStatus, ReportVersion
from reports.renderings.tables import format_cell
from reports.suppression import (
    WITHHELD,
    is_suppressed,
    suppress_activity_row,
    suppress_referral_row,
    suppress_reoffending_row,
    suppress_report,
)
from reports.weeks import parse_week, week_of

ALL = measure.ALL
TREND_MONTHS = 12
HOME_LIST_LIMIT = 10
# A version's figures can run to hundreds of kilobytes; lists of versions never need them.
FIGURES = ("data", "extra")


# --- Trends across weeks ----------------------------------------------------------------------


def trend_boroughs() -> list[tuple[str, str]]:
    """Return (GSS code, name) for every pilot and comparison borough, by name."""
    return list(
        Borough.objects.filter(role__in=[Borough.Role.PILOT, Borough.Role.COMPARISON])
        .order_by("name")
        .values_list("gss_code", "name")
    )


def trend_first_week() -> str | None:
    """Return the ISO week of the earliest pilot start, or None when no borough is a pilot."""
    start = Borough.objects.filter(role=Borough.Role.PILOT).aggregate(first=Min("pilot_start"))
    return week_of(start["first"]) if start["first"] else None


def _weeks_between(first: str, last: str) -> list[str]:
    """Return every ISO week from ``first`` to ``last`` inclusive."""
    monday, _ = parse_week(first)
    end, _ = parse_week(last)
    return [week_of(monday + timedelta(weeks=i)) for i in range((end - monday).days // 7 + 1)]


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _weekly_counts(*, start: date, end: date, borough: str) -> dict[str, dict[str, int]]:
    """Count encounters and referral outcomes per ISO week in one grouped query.

    Outcomes are those dated up to ``end``, so every week is seen as it stood at the end of the
    chosen week, as the weekly report sees its referrals.
    """
    encounters = Encounter.objects.filter(encounter_date__range=(start, end))
    if borough != ALL:
        encounters = encounters.filter(borough__gss_code=borough)
    rows = (
        encounters.annotate(monday=TruncWeek("encounter_date"))
        .values("monday")
        .annotate(
            encounters=Count("id"),
            diverted=Count("id", filter=Q(decision=Decision.DIVERTED)),
            declined=Count("id", filter=Q(decision=Decision.DECLINED)),
            completed=Count("referral", filter=Q(referral__completed_on__lte=end)),
            did_not_attend=Count("referral", filter=Q(referral__did_not_attend_on__lte=end)),
        )
        .order_by("monday")
    )
    return {week_of(_as_date(row.pop("monday"))): row for row in rows}


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def weekly_series(*, first_week: str, last_week: str, borough: str = ALL) -> list[dict]:
    """Return each week's encounters, diversions and rates, unsuppressed, weeks with none as 0.

    Acceptance rate = diverted / (diverted + declined); completion rate = completed /
    (completed + did not attend) among referrals from that week's encounters. A rate with
    nothing to divide by is None.
    """
    start, _ = parse_week(first_week)
    _, end = parse_week(last_week)
    counts = _weekly_counts(start=start, end=end, borough=borough)
    empty: dict[str, int] = {
        "encounters": 0,
        "diverted": 0,
        "declined": 0,
        "completed": 0,
        "did_not_attend": 0,
    }
    rows = []
    for week in _weeks_between(first_week, last_week):
        found = counts.get(week, empty)
        row: dict[str, Any] = {"week": week, **found}
        row["acceptance_rate"] = _rate(found["diverted"], found["diverted"] + found["declined"])
        row["completion_rate"] = _rate(
            found["completed"], found["completed"] + found["did_not_attend"]
        )
        rows.append(row)
    return rows


def reoffending_by_cohort(*, last_week: str, borough: str = ALL) -> list[dict]:
    """Return the 12-month reoffending rows (SPEC §5) per cohort month and group, unsuppressed.

    The same single query as the weekly report, as of the chosen week's end: only cohorts whose
    12-month windows have all closed, with the Wilson interval.
    """
    _, end = parse_week(last_week)
    rows = measure._reoffending(measure._reoffending_counts_by_months(end))
    return [r for r in rows if r["months"] == TREND_MONTHS and r["borough"] == borough]


def _withheld_unless_all_shown(rate: float | None, parts: Sequence[int]) -> float | str | None:
    """Withhold a rate when any count it is made from is suppressed.

    Checking each term, not just the numerator and the sum, stops a rate shown beside one of
    its terms giving away the other.
    """
    if rate is None:
        return None
    return WITHHELD if any(is_suppressed(part) for part in parts) else rate


def suppress_week_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one week of ``weekly_series`` for people to read."""
    shown = {
        **suppress_activity_row(row),
        **suppress_referral_row(
            {
                "completed": row["completed"],
                "did_not_attend": row["did_not_attend"],
                "completion_rate": row["completion_rate"],
            }
        ),
    }
    shown["acceptance_rate"] = _withheld_unless_all_shown(
        row["acceptance_rate"], (row["diverted"], row["declined"])
    )
    shown["completion_rate"] = _withheld_unless_all_shown(
        shown["completion_rate"], (row["completed"], row["did_not_attend"])
    )
    return shown


@dataclass(frozen=True)
class Trends:
    """What the trends page shows, already suppressed."""

    first_week: str
    last_week: str
    borough: str
    weeks: list[dict] = field(default_factory=list)
    reoffending: list[dict] = field(default_factory=list)


def trends(*, first_week: str, last_week: str, borough: str = ALL) -> Trends:
    """Return the suppressed weekly series and 12-month reoffending for the trends page."""
    weeks = weekly_series(first_week=first_week, last_week=last_week, borough=borough)
    reoffending = reoffending_by_cohort(last_week=last_week, borough=borough)
    return Trends(
        first_week=first_week,
        last_week=last_week,
        borough=borough,
        weeks=[suppress_week_row(row) for row in weeks],
        reoffending=[suppress_reoffending_row(row) for row in reoffending],
    )


# --- Home pages -------------------------------------------------------------------------------


def _versions() -> QuerySet[ReportVersion]:
    return ReportVersion.objects.defer(*FIGURES)


def waiting_text(*, since: datetime, now: datetime) -> str:
    """Say how long something has waited, in whole days: "waiting 3 days"."""
    days = max((now - since).days, 0)
    if days == 0:
        return "waiting less than a day"
    return f"waiting {days} day{'' if days == 1 else 's'}"


def awaiting_decision(*, now: datetime | None = None) -> list[ReportVersion]:
    """Return submitted versions, oldest first, each with ``waiting`` saying for how long."""
    now = now or timezone.now()
    versions = list(
        _versions()
        .filter(status=ReportStatus.SUBMITTED)
        .select_related("submitted_by")
        # Django orders NULLs last ascending on PostgreSQL and first on SQLite; none is null.
        .order_by("submitted_at", "week", "number")
    )
    for version in versions:
        # Shown beside each version on the page; not a field.
        setattr(version, "waiting", waiting_text(since=version.submitted_at or now, now=now))  # noqa: B010
    return versions


def _headline_version() -> ReportVersion | None:
    """Return the newest week's approved version, or its latest version if none is approved."""
    approved_first = Case(
        When(status=ReportStatus.APPROVED, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        ReportVersion.objects.only("week", "number", "status", "data")
        .order_by("-week", approved_first, "-number")
        .first()
    )


def headline(version: ReportVersion | None) -> dict | None:
    """Return a version's all-borough activity and 12-month effect, suppressed, to show.

    The whole report is suppressed first (primary and secondary), so the headline shows
    exactly what the report page shows for these rows.
    """
    if version is None:
        return None
    data = suppress_report(version.data or {})
    activity = next((r for r in data.get("activity", []) if r.get("borough") == ALL), None)
    effect = next(
        (
            r
            for r in data.get("effects", [])
            if r.get("borough") == ALL and r.get("months") == TREND_MONTHS
        ),
        None,
    )
    return {
        "version": version,
        "activity": activity,
        "effect": effect,
        "difference": _difference_text(effect) if effect else "",
    }


def _difference_text(effect: Mapping[str, Any]) -> str:
    """Say the diverted minus comparison difference and its interval in words."""
    if effect.get("risk_difference") in (None, WITHHELD):
        return "The difference is withheld because a number it is made from is below 5."
    low, high = (format_cell(effect[key], "rate") for key in ("rd_low", "rd_high"))
    difference = format_cell(effect["risk_difference"], "rate")
    return f"Difference (diverted minus comparison): {difference}, 95% interval {low} to {high}."


def analyst_home(*, limit: int = HOME_LIST_LIMIT) -> dict[str, Any]:
    """Return the analyst's work: drafts, returned, submitted, latest approved, headline."""
    by_status = _versions().order_by("-week", "-number")
    return {
        "drafts": list(by_status.filter(status=ReportStatus.DRAFT)[:limit]),
        "returned": list(
            by_status.filter(status=ReportStatus.RETURNED).select_related("decided_by")[:limit]
        ),
        "submitted": list(
            by_status.filter(status=ReportStatus.SUBMITTED).select_related("submitted_by")[:limit]
        ),
        "latest_approved": by_status.filter(status=ReportStatus.APPROVED).first(),
        "headline": headline(_headline_version()),
    }


def reports_home_context(*, user: User, roles: Collection[str] = ()) -> dict:
    """Return what analysts' and approvers' home pages show, under one key per role."""
    context: dict[str, Any] = {}
    if Role.ANALYST in roles:
        context["analyst_home"] = analyst_home()
    if Role.APPROVER in roles:
        context["approver_home"] = {"awaiting": awaiting_decision()}
    return context
