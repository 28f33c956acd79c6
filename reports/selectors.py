"""Every read behind the report pages and the report's renderings.

The views and the renderings (web page, PDF, CSV, XLSX) ask here and only format what they are
given. Trends and home-page figures are aggregated by the database in a fixed number of
queries, whatever the number of weeks: weekly figures come from one ``GROUP BY`` on the ISO week
(``TruncWeek``, the Monday of the encounter date's week, on both PostgreSQL and SQLite) and the
reoffending rates from the report's own single reoffending query. Python only fills in weeks
with no encounters, works out rates from the aggregated counts, and suppresses small numbers
for people to read. A report version's own figures are already stored on it; the reads here
add the names the renderings show (boroughs, exclusion factors) and earlier weeks' totals.
"""

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, IntegerField, Min, Q, QuerySet, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from boroughs.models import Borough
from boroughs.roles import Role
from diversion.choices import Decision, Reason
from diversion.models import Encounter, ExclusionFactor
from reports import measure, trend_suppression
from reports.models import (
    ReoffenceImportJob,
    ReportBuildJob,
    ReportDownload,
    ReportStatus,
    ReportVersion,
)
from reports.suppression import (
    SUPPRESSED,
    WITHHELD,
    is_suppressed,
    suppress_report,
)
from reports.weeks import parse_week, week_of

ALL = measure.ALL
TREND_MONTHS = 12
HOME_LIST_LIMIT = 10
TREND_WEEKS = 12  # weeks of all-borough encounters on the report's trend chart
REOFFENDING_PAGE_SIZE = 25
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


def _week_counts(end: date) -> dict[str, Count]:
    """The weekly counts, with referral outcomes dated up to ``end``."""
    return {
        "encounters": Count("id"),
        "diverted": Count("id", filter=Q(decision=Decision.DIVERTED)),
        "declined": Count("id", filter=Q(decision=Decision.DECLINED)),
        "completed": Count("referral", filter=Q(referral__completed_on__lte=end)),
        "did_not_attend": Count("referral", filter=Q(referral__did_not_attend_on__lte=end)),
    }


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
        .annotate(**_week_counts(end))
        .order_by("monday")
    )
    return {week_of(_as_date(row.pop("monday"))): row for row in rows}


BoroughDates = tuple[str, date | None, date | None]  # role, pilot start, pilot end


def _weekly_counts_by_borough(
    *, start: date, end: date
) -> tuple[dict[tuple[str, str], dict[str, int]], dict[str, BoroughDates]]:
    """Count every pilot and comparison borough's weeks in one grouped query.

    Each borough's role and pilot dates come with its rows, so the trends page knows which
    weeks a borough could not divert anyone in, as any reader of the rules does.
    """
    rows = (
        Encounter.objects.filter(
            encounter_date__range=(start, end),
            borough__role__in=[Borough.Role.PILOT, Borough.Role.COMPARISON],
        )
        .annotate(monday=TruncWeek("encounter_date"))
        .values(
            "monday",
            "borough__gss_code",
            "borough__role",
            "borough__pilot_start",
            "borough__pilot_end",
        )
        .annotate(**_week_counts(end))
        .order_by("monday", "borough__gss_code")
    )
    counts, boroughs = {}, {}
    for row in rows:
        code = row.pop("borough__gss_code")
        boroughs[code] = (
            row.pop("borough__role"),
            row.pop("borough__pilot_start"),
            row.pop("borough__pilot_end"),
        )
        counts[(week_of(_as_date(row.pop("monday"))), code)] = row
    return counts, boroughs


def _could_divert(borough: BoroughDates, week: str) -> bool:
    """Say whether a borough was a pilot on any day of the week (its dates are public)."""
    role, start, end = borough
    monday, sunday = parse_week(week)
    if role != Borough.Role.PILOT or start is None:
        return False
    return start <= sunday and (end is None or end >= monday)


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


EMPTY_WEEK: dict[str, int] = dict.fromkeys(trend_suppression.WEEK_COUNTS, 0)


def _week_rows(weeks: Sequence[str], counts: Mapping[str, Mapping[str, int]]) -> list[dict]:
    """Turn counts by week into one row per week, with its rates; a week with none is 0."""
    rows = []
    for week in weeks:
        found = counts.get(week, EMPTY_WEEK)
        row: dict[str, Any] = {"week": week, **found}
        row["acceptance_rate"] = _rate(found["diverted"], found["diverted"] + found["declined"])
        row["completion_rate"] = _rate(
            found["completed"], found["completed"] + found["did_not_attend"]
        )
        rows.append(row)
    return rows


def weekly_series(*, first_week: str, last_week: str, borough: str = ALL) -> list[dict]:
    """Return each week's encounters, diversions and rates, unsuppressed, weeks with none as 0.

    Acceptance rate = diverted / (diverted + declined); completion rate = completed /
    (completed + did not attend) among referrals from that week's encounters. A rate with
    nothing to divide by is None.
    """
    start, _ = parse_week(first_week)
    _, end = parse_week(last_week)
    counts = _weekly_counts(start=start, end=end, borough=borough)
    return _week_rows(_weeks_between(first_week, last_week), counts)


@dataclass(frozen=True)
class EveryView:
    """The unsuppressed weekly rows of every view, and the weeks each borough could not divert."""

    series: dict[str, list[dict]]
    no_diversion: set[tuple[int, str]]  # (week's position, borough)


def weekly_series_every_view(*, first_week: str, last_week: str) -> EveryView:
    """Return ``weekly_series`` for ``ALL`` and every pilot and comparison borough, unsuppressed.

    Two grouped queries whatever the number of weeks or boroughs: ``ALL`` (every encounter)
    and one row per borough and week. A borough with no encounters in the weeks has no series:
    its view is all zeros.
    """
    start, _ = parse_week(first_week)
    _, end = parse_week(last_week)
    weeks = _weeks_between(first_week, last_week)
    counts, boroughs = _weekly_counts_by_borough(start=start, end=end)
    by_borough: dict[str, dict[str, dict[str, int]]] = {}
    for (week, code), found in counts.items():
        by_borough.setdefault(code, {})[week] = found
    series = {code: _week_rows(weeks, found) for code, found in by_borough.items()}
    series[ALL] = _week_rows(weeks, _weekly_counts(start=start, end=end, borough=ALL))
    no_diversion = {
        (i, code)
        for code, dates in boroughs.items()
        for i, week in enumerate(weeks)
        if not _could_divert(dates, week)
    }
    return EveryView(series=series, no_diversion=no_diversion)


def _reoffending_and_effects(last_week: str) -> dict[str, list[dict]]:
    """Every reoffending row (each N) and effects row as of the week's end, from one query."""
    _, end = parse_week(last_week)
    counts = measure._reoffending_counts_by_months(end)
    return {"reoffending": measure._reoffending(counts), "effects": measure._effects(counts)}


def reoffending_by_cohort(*, last_week: str, borough: str = ALL) -> list[dict]:
    """Return the 12-month reoffending rows (SPEC §5) per cohort month and group, unsuppressed.

    The same single query as the weekly report, as of the chosen week's end: only cohorts whose
    12-month windows have all closed, with the Wilson interval.
    """
    rows = _reoffending_and_effects(last_week)["reoffending"]
    return [r for r in rows if r["months"] == TREND_MONTHS and r["borough"] == borough]


def shown_reoffending_by_cohort(*, last_week: str, borough: str = ALL) -> list[dict]:
    """Return the 12-month rows for one view, suppressed as the weekly report suppresses them.

    Every borough, ``ALL``, every N and the effects rows are suppressed together with the
    report's rule, so no view (nor the report for the same week) gives away another's hidden
    cell: ``ALL`` against its boroughs, a cohort's size at another N, the pooled effects.
    """
    shown = suppress_report(_reoffending_and_effects(last_week))["reoffending"]
    return [r for r in shown if r["months"] == TREND_MONTHS and r["borough"] == borough]


def suppress_week_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one week of ``weekly_series`` alone (primary suppression only).

    The trends page suppresses every view together (``trend_suppression``); this is the
    one-row rule it starts from.
    """
    hidden = {
        key: SUPPRESSED for key in trend_suppression.WEEK_COUNTS if is_suppressed(row.get(key))
    }
    return trend_suppression.shown_week(row, hidden)


@dataclass(frozen=True)
class Trends:
    """What the trends page shows, already suppressed."""

    first_week: str
    last_week: str
    borough: str
    weeks: list[dict] = field(default_factory=list)
    reoffending: list[dict] = field(default_factory=list)


def trends(*, first_week: str, last_week: str, borough: str = ALL) -> Trends:
    """Return the suppressed weekly series and 12-month reoffending for the trends page.

    Every borough's view and ``ALL`` are suppressed together, so that no hidden cell of one
    view can be worked out from the others (``reports.trend_suppression``).
    """
    every = weekly_series_every_view(first_week=first_week, last_week=last_week)
    series = every.series
    if borough not in series:
        series[borough] = _week_rows(_weeks_between(first_week, last_week), {})
    weeks = trend_suppression.suppress_weekly(
        series, borough=borough, no_diversion=every.no_diversion
    )
    return Trends(
        first_week=first_week,
        last_week=last_week,
        borough=borough,
        weeks=weeks,
        reoffending=shown_reoffending_by_cohort(last_week=last_week, borough=borough),
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
    # Imported here: the renderings read through this module, so it must not import them first.
    from reports.renderings.tables import format_cell

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


# --- The report pages -------------------------------------------------------------------------


def versions_list(*, status: str = "") -> QuerySet[ReportVersion]:
    """Return versions newest week first, without their figures; a known ``status`` filters."""
    versions = _versions().order_by("-week", "-number")
    return versions.filter(status=status) if status in ReportStatus.values else versions


def recent_build_jobs(*, limit: int = 5) -> list[ReportBuildJob]:
    """Return the latest build jobs, newest first, each with its report but not its figures."""
    return list(build_jobs().order_by("-created_at")[:limit])


def build_jobs() -> QuerySet[ReportBuildJob]:
    """Return build jobs with the version each built, without the version's figures."""
    return ReportBuildJob.objects.select_related("report").defer(
        *(f"report__{name}" for name in FIGURES)
    )


def versions_with_people() -> QuerySet[ReportVersion]:
    """Return versions with the people the cover names (built, submitted, decided) joined."""
    return ReportVersion.objects.select_related("built_by", "submitted_by", "decided_by")


def other_versions(version: ReportVersion) -> list[ReportVersion]:
    """Return the week's other versions, newest first, without their figures."""
    return list(_versions().filter(week=version.week).exclude(pk=version.pk).order_by("-number"))


def approval_history(version: ReportVersion) -> list[Any]:
    """Return the version's workflow steps (those saved with a reason), oldest first."""
    return list(
        version.history.exclude(history_change_reason__isnull=True)
        .exclude(history_change_reason="")
        .select_related("history_user")
        .order_by("history_date")
    )


def recent_downloads(*, user: User, limit: int = 20) -> list[ReportDownload]:
    """Return this person's latest downloads, newest first (the model's order)."""
    return list(
        ReportDownload.objects.filter(user=user)
        .select_related("report")
        .defer(*(f"report__{name}" for name in FIGURES))[:limit]
    )


def approved_versions(*, limit: int = 12) -> list[ReportVersion]:
    """Return the latest approved versions, newest week first, without their figures."""
    return list(
        _versions().filter(status=ReportStatus.APPROVED).order_by("-week", "-number")[:limit]
    )


def reoffence_imports(*, user: User) -> QuerySet[ReoffenceImportJob]:
    """Return the uploads this person may see: their own, without the files themselves."""
    return ReoffenceImportJob.objects.filter(uploaded_by=user).defer("content")


# --- What the renderings show besides the stored figures --------------------------------------


@dataclass(frozen=True)
class Labels:
    """Names for the codes a report's figures use: boroughs (GSS code) and reasons."""

    boroughs: dict[str, str]
    reasons: dict[str, str]


LABELLED_SECTIONS = ("activity", "referrals", "reoffending", "effects")


def borough_labels(codes: Iterable[str]) -> dict[str, str]:
    """Map GSS codes to borough names; ``ALL`` to "All boroughs"."""
    wanted = {c for c in codes if c != ALL}
    names = dict(Borough.objects.filter(gss_code__in=wanted).values_list("gss_code", "name"))
    labels = {code: names.get(code, code) for code in wanted}
    labels[ALL] = "All boroughs"
    return labels


def reason_labels(reasons: Iterable[str]) -> dict[str, str]:
    """Map reason codes to plain English, naming exclusion factors by their label."""
    codes = {r.split(":", 1)[1] for r in reasons if r.startswith("exclusion:")}
    factors = dict(ExclusionFactor.objects.filter(code__in=codes).values_list("code", "label"))
    labels: dict[str, str] = dict(Reason.choices)
    for code in codes:
        labels[f"exclusion:{code}"] = f"Exclusion: {factors.get(code, code)}"
    return labels


def report_labels(data: Mapping[str, Any]) -> Labels:
    """Return the names for every borough and reason a report's figures mention."""
    codes = [r["borough"] for key in LABELLED_SECTIONS for r in data.get(key) or []]
    reasons = [r["reason"] for r in data.get("ineligibility_reasons") or []]
    return Labels(boroughs=borough_labels(codes), reasons=reason_labels(reasons))


def _shown_total_encounters(activity: Sequence[Mapping[str, Any]] | None) -> int | None:
    """Return a week's all-borough encounters as people may see them; None when hidden."""
    # Activity's relations stay within activity, so suppressing it alone hides the same cells.
    shown = suppress_report({"activity": list(activity or [])})["activity"]
    total = next((r for r in shown if r.get("borough") == ALL), None)
    value = total.get("encounters") if total else None
    return value if isinstance(value, int) else None


def weekly_encounters(version: ReportVersion) -> list[tuple[str, int | None]]:
    """Return all-borough encounters for up to 12 weeks ending with this version's week.

    Earlier weeks use their approved version, or their latest one if none is approved; the
    version shown uses its own figures. Suppressed values come back as ``None``. Only each
    version's activity section is read, not its whole figures.
    """
    weeks = list(
        ReportVersion.objects.filter(week__lt=version.week)
        .order_by("-week")
        .values_list("week", flat=True)
        .distinct()[: TREND_WEEKS - 1]
    )
    chosen: dict[str, Any] = {}
    approved: set[str] = set()
    candidates = (
        ReportVersion.objects.filter(week__in=weeks)
        .order_by("week", "-number")
        .values_list("week", "status", "data__activity")
    )
    for week, status, activity in candidates:  # newest first within each of at most 11 weeks
        is_approved = status == ReportStatus.APPROVED
        if week not in chosen or (is_approved and week not in approved):
            chosen[week] = activity
            if is_approved:
                approved.add(week)
    chosen[version.week] = version.data.get("activity")
    return [(week, _shown_total_encounters(chosen[week])) for week in sorted(chosen)]


# --- The report page's reoffending table ------------------------------------------------------

REOFFENDING_GROUPS = ("diverted", "comparison")
REOFFENDING_MONTHS = (3, 6, 12)


@dataclass(frozen=True)
class ReoffendingFilter:
    """Which reoffending rows to show: empty or None means every value of that field."""

    borough: str = ""  # a GSS code, or ALL for the all-borough rows
    months: int | None = None
    group: str = ""


def reoffending_order(boroughs: Mapping[str, str]) -> Callable[[Mapping[str, Any]], tuple]:
    """Order reoffending rows by months, cohort, diverted first, ALL first, then borough name."""
    return lambda r: (
        r["months"],
        r["cohort"],
        r["group"] != "diverted",
        r["borough"] != ALL,
        boroughs.get(r["borough"], r["borough"]),
    )


def reoffending_rows(
    data: Mapping[str, Any], *, boroughs: Mapping[str, str], only: ReoffendingFilter
) -> list[dict[str, Any]]:
    """Return the reoffending rows people may see that match ``only``, in the table's order.

    The whole report is suppressed first (primary and secondary) and only then filtered, so
    every row shown is exactly the row the full table shows: choosing a borough, period or
    group picks rows out, it never changes which cells are hidden.
    """
    rows = [
        row
        for row in suppress_report(data).get("reoffending") or []
        if (not only.borough or row["borough"] == only.borough)
        and (only.months is None or row["months"] == only.months)
        and (not only.group or row["group"] == only.group)
    ]
    return sorted(rows, key=reoffending_order(boroughs))


def reoffending_page(
    data: Mapping[str, Any],
    *,
    boroughs: Mapping[str, str],
    only: ReoffendingFilter,
    page: str | int | None,
    per_page: int = REOFFENDING_PAGE_SIZE,
) -> Page:
    """Return one page of ``reoffending_rows``.

    A page number that is no number gives the first page, and one past the end the last.
    """
    rows = reoffending_rows(data, boroughs=boroughs, only=only)
    return Paginator(rows, per_page).get_page(page)


def reoffending_boroughs(
    data: Mapping[str, Any], boroughs: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Return (code, name) of every borough with reoffending rows, by name, ALL first."""
    codes = {r["borough"] for r in data.get("reoffending") or []} - {ALL}
    named = sorted(((c, boroughs.get(c, c)) for c in codes), key=lambda pair: pair[1])
    return [(ALL, boroughs.get(ALL, "All boroughs")), *named]
