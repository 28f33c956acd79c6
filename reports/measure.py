"""The weekly report's figures (SPEC §5 and §6), computed by the database.

Every count is an aggregate in SQL: ORM ``values().annotate(Count(filter=Q))`` for activity,
reasons and referrals, and one raw SQL query (common table expressions and a window function,
valid on both PostgreSQL and SQLite) for the reoffending measure, per cohort and pooled over
cohorts for ``effects``. Python only shapes the few aggregated rows into the SPEC JSON and does
the interval arithmetic (``reports.statistics``) on the counts. The public functions read inside
``config.db_router.reporting_reads()``: from the read replica when one is configured, and in
one snapshot, so every section of a report counts the same data.

Month arithmetic in SQL, portably. SPEC §5 asks whether an event date ``d`` satisfies
``index < d <= index + N months`` with the end clamped to the month's end. Write each date as the
integer ``key = (year * 12 + month) * 100 + day``. Keys order like dates, and
``d <= index + N months`` holds exactly when ``key(d) <= key(index) + 100 * N``: either d's month
comes before the index month + N (its day, at most 31, cannot make up 100), or it is that very
month and ``day(d) <= day(index)``, which is what clamping means (31 August + 6 months is the
last day of February, and every February day is <= 31). So the window needs no calendar table
and no date functions beyond extracting year, month and day, which both databases have.
"""

import calendar
from datetime import date

from django.db.models import Case, CharField, Count, F, Q, Value, When

from boroughs.models import Borough
from config.db_router import reporting_beside, reporting_connection, reporting_reads
from diversion.choices import AGE_BANDS, ETHNICITY_GROUPS, OTHER_AGE_BAND, Decision, Gender
from diversion.eligibility import add_months
from diversion.models import Encounter, EncounterReason, Person, Referral, Reoffence
from reports.statistics import Z, effect_estimates, wilson_bounds
from reports.weeks import parse_week

ALL = "ALL"
MONTHS = (3, 6, 12)
QUALIFYING = (Decision.DIVERTED, Decision.DECLINED, Decision.NOT_OFFERED)
OFFERED = (Decision.DIVERTED, Decision.DECLINED, Decision.OFFERED)
ETHNICITY_GROUP_ORDER = ("White", "Mixed", "Asian", "Black", "Other", "Not stated")
AGE_BAND_ORDER = (*(band for band, _, _ in AGE_BANDS), OTHER_AGE_BAND)


def _rate(numerator: int, denominator: int) -> float | None:
    """Return numerator / denominator rounded to 4 places, or None when there is no base."""
    return round(numerator / denominator, 4) if denominator else None


def wilson_interval(successes: int, n: int, z: float = Z) -> tuple[float, float]:
    """Return the Wilson score interval for a proportion, rounded to 4 places (n > 0).

    For a figure to show; arithmetic that goes on to use the bounds takes the unrounded
    ``reports.statistics.wilson_bounds`` instead.
    """
    low, high = wilson_bounds(successes, n, z=z)
    return round(low, 4), round(high, 4)


# --- Month keys -----------------------------------------------------------------------------


def month_key(day: date) -> int:
    """Return year * 12 + month, the integer the SQL groups cohorts by."""
    return day.year * 12 + day.month


def month_of_key(key: int) -> tuple[int, int]:
    """Return (year, month) for a month key."""
    return (key - 1) // 12, (key - 1) % 12 + 1


def cohort_label(key: int) -> str:
    """Return a month key as the cohort's ``YYYY-MM``."""
    year, month = month_of_key(key)
    return f"{year:04d}-{month:02d}"


def last_reportable_cohort(period_end: date, months: int) -> int | None:
    """Return the month key of the latest cohort whose N-month windows have all closed.

    A cohort is reportable when (last day of its month) + N months <= period end; that holds
    for every earlier cohort too, so the reportable cohorts are all those up to this one.
    """
    key = month_key(period_end) - months
    for candidate in (key, key - 1):
        year, month = month_of_key(candidate)
        if year < 1:
            return None
        month_end = date(year, month, calendar.monthrange(year, month)[1])
        if add_months(month_end, months) <= period_end:
            return candidate
    return None  # unreachable: the month before always qualifies


def _month_end(key: int) -> date:
    year, month = month_of_key(key)
    return date(year, month, calendar.monthrange(year, month)[1])


def _last_cohort_day(key: int | None) -> date:
    """Return the last day of cohort ``key``, or a day no index date is on or before (None)."""
    return _month_end(key) if key is not None else date.min


def _day_key_sql(column: str) -> str:
    """Return SQL for the date key (year * 12 + month) * 100 + day on this database."""
    if reporting_connection().vendor == "postgresql":
        part = "CAST(EXTRACT({} FROM {}) AS INTEGER)"
        year, month, day = (part.format(p, column) for p in ("YEAR", "MONTH", "DAY"))
    else:
        # SQLite stores dates as YYYY-MM-DD text; %% because the query takes parameters.
        part = "CAST(strftime('%%{}', {}) AS INTEGER)"
        year, month, day = (part.format(p, column) for p in ("Y", "m", "d"))
    return f"(({year} * 12 + {month}) * 100 + {day})"


def _at_sql(column: str, months: int = 0) -> str:
    """Return SQL placing a date, or the end of the N-month window from it, on one scale.

    PostgreSQL adds months to a date clamping to the month's end, exactly as SPEC §5 does, so
    events compare as plain dates and only the index rows need any arithmetic. Elsewhere the
    date keys above do the same job.
    """
    if reporting_connection().vendor == "postgresql":
        return f"CAST({column} + INTERVAL '{months} months' AS DATE)" if months else column
    key = _day_key_sql(column)
    return f"({key} + {100 * months})" if months else key


def _per_index_sql(*, cutoff: date, period_end: date) -> tuple[str, list]:
    """Return the CTEs ending in ``per_index``: one row per index encounter with its events.

    Its columns are (person_id, borough_id, age, grp, d0, n3, n6, n12): the person, their
    index encounter's borough, the age on its date, ``diverted`` or ``comparison``, its date,
    and the person's events in the 3, 6 and 12 months after it. ``cutoff`` is the last day of
    the latest cohort reportable at 3 months. The cohort's month key is worked out only after
    these rows are counted by day (`_reoffending_counts_by_months`): a few thousand days rather
    than one key per person.
    """
    if reporting_connection().vendor == "postgresql":
        return _per_index_sql_postgresql(cutoff=cutoff, period_end=period_end)
    return _per_index_sql_portable(cutoff=cutoff, period_end=period_end)


def _per_index_sql_postgresql(*, cutoff: date, period_end: date) -> tuple[str, list]:
    """Return `_per_index_sql` for PostgreSQL: one sort of every event, then one pass.

    Each event row (encounter or reoffence) carries, if it could be an index encounter (a
    qualifying decision, dated up to the cutoff), its reference, borough, decision and age as a
    text array. A window gives each person's earliest such date; grouping by person then
    takes the smallest array on that date (arrays compare by their first element, so that is
    the earliest by ``encounter_ref``, as SPEC §5's tie-break asks, compared by code point as
    the import and Python compare it, whatever the database's collation) and counts the events
    in each window. Beside the portable version's ranking, join and second grouping, this reads
    the table once and sorts once, and gives the same rows. (Grouping by person alone would
    spare the incremental sort, but PostgreSQL then expects 200 rows instead of about 470,000
    and joins the group comparison to people by 220,000 index probes: slower overall.)
    """
    encounters = Encounter._meta.db_table
    reoffences = Reoffence._meta.db_table
    windows = ",\n".join(
        f"           COUNT(*) FILTER (WHERE m.d > m.d0 AND m.d <= {_at_sql('m.d0', n)}) AS n{n}"
        for n in MONTHS
    )
    sql = f"""
WITH ev AS (
    SELECT e.person_id, e.encounter_date AS d,
           CASE WHEN e.decision IN (%s, %s, %s) AND e.encounter_date <= %s
                THEN ARRAY[e.encounter_ref COLLATE "C", CAST(e.borough_id AS TEXT), e.decision,
                           CAST(e.age_at_encounter AS TEXT)]
           END AS candidate
    FROM {encounters} e
    WHERE e.encounter_date <= %s
    UNION ALL
    SELECT ro.person_id, ro.offence_date, NULL
    FROM {reoffences} ro
    WHERE ro.offence_date <= %s
),
marked AS (
    SELECT ev.person_id, ev.d, ev.candidate,
           MIN(ev.d) FILTER (WHERE ev.candidate IS NOT NULL)
               OVER (PARTITION BY ev.person_id) AS d0
    FROM ev
),
per_person AS (
    SELECT m.person_id, m.d0,
           MIN(m.candidate) FILTER (WHERE m.d = m.d0) AS first,
{windows}
    FROM marked m
    WHERE m.d0 IS NOT NULL
    GROUP BY m.person_id, m.d0
),
per_index AS (
    SELECT pp.person_id,
           CAST(pp.first[2] AS BIGINT) AS borough_id, CAST(pp.first[4] AS INTEGER) AS age,
           CASE WHEN pp.first[3] = %s THEN 'diverted' ELSE 'comparison' END AS grp,
           pp.d0, pp.n3, pp.n6, pp.n12
    FROM per_person pp
)
"""  # nosec B608: table names and fixed SQL only; values are parameters
    params = [*(str(d) for d in QUALIFYING), cutoff, period_end, period_end, str(Decision.DIVERTED)]
    return sql, params


def _per_index_sql_portable(*, cutoff: date, period_end: date) -> tuple[str, list]:
    """Return `_per_index_sql` in SQL that SQLite runs too.

    ``cutoff`` is the last day of the latest cohort reportable at 3 months; a person's earliest
    qualifying encounter lies on or before it exactly when their earliest one among those dated
    up to it does, so ranking only those is enough. Events are counted in ``hits`` for the
    index rows that have any (a minority), and every other index row gets zeros, which spares
    the database grouping every person.
    """
    encounters = Encounter._meta.db_table
    reoffences = Reoffence._meta.db_table
    sql = f"""
WITH ranked AS (
    SELECT e.id, e.person_id, e.borough_id, e.decision, e.encounter_date, e.age_at_encounter,
           ROW_NUMBER() OVER (
               PARTITION BY e.person_id ORDER BY e.encounter_date, e.encounter_ref
           ) AS rn
    FROM {encounters} e
    WHERE e.decision IN (%s, %s, %s) AND e.encounter_date <= %s
),
idx AS (
    SELECT r.id, r.person_id, r.borough_id, r.age_at_encounter AS age,
           CASE WHEN r.decision = %s THEN 'diverted' ELSE 'comparison' END AS grp,
           r.encounter_date AS d0,
           {_at_sql("r.encounter_date")} AS at0,
           {_at_sql("r.encounter_date", 3)} AS end3,
           {_at_sql("r.encounter_date", 6)} AS end6,
           {_at_sql("r.encounter_date", 12)} AS end12
    FROM ranked r
    WHERE r.rn = 1
),
events AS (
    SELECT ev.person_id, {_at_sql("ev.encounter_date")} AS at
    FROM {encounters} ev
    WHERE ev.encounter_date <= %s
    UNION ALL
    SELECT ro.person_id, {_at_sql("ro.offence_date")} AS at
    FROM {reoffences} ro
    WHERE ro.offence_date <= %s
),
hits AS (
    SELECT idx.id,
           SUM(CASE WHEN ev.at <= idx.end3 THEN 1 ELSE 0 END) AS n3,
           SUM(CASE WHEN ev.at <= idx.end6 THEN 1 ELSE 0 END) AS n6,
           COUNT(*) AS n12
    FROM idx
    JOIN events ev ON ev.person_id = idx.person_id AND ev.at > idx.at0 AND ev.at <= idx.end12
    GROUP BY idx.id
),
per_index AS (
    SELECT idx.person_id, idx.borough_id, idx.age, idx.grp, idx.d0,
           COALESCE(h.n3, 0) AS n3, COALESCE(h.n6, 0) AS n6, COALESCE(h.n12, 0) AS n12
    FROM idx
    LEFT JOIN hits h ON h.id = idx.id
)
"""  # nosec B608
    # (B608: only table names and fixed SQL are put in the text; values go as parameters.)
    params = [*(str(d) for d in QUALIFYING), cutoff, str(Decision.DIVERTED), period_end, period_end]
    return sql, params


# PostgreSQL compiles a query whose estimated cost is high enough (JIT). The per-person
# statement's estimate is inflated by its CTEs, so compiling took about 3 of its 8 seconds at
# 1,000,000 encounters and saved less. Sent in the same string, SET LOCAL lasts only until the
# end of the transaction: the report's read transaction (config.db_router.reporting_reads).
NO_JIT = "SET LOCAL jit = off; "


def _reoffending_counts(sql: str, params: list) -> list[tuple]:
    connection = reporting_connection()
    prefix = NO_JIT if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return cursor.fetchall()


# --- SPEC §6 sections -------------------------------------------------------------------------


def _decision_counts() -> dict:
    return {
        "encounters": Count("id"),
        "diverted": Count("id", filter=Q(decision=Decision.DIVERTED)),
        "declined": Count("id", filter=Q(decision=Decision.DECLINED)),
        "not_offered": Count("id", filter=Q(decision=Decision.NOT_OFFERED)),
        "ineligible": Count("id", filter=Q(decision=Decision.INELIGIBLE)),
    }


def _activity(start: date, end: date) -> list[dict]:
    """Encounters dated in the week by decision: every pilot and comparison borough, and ALL."""
    codes = Borough.objects.filter(
        role__in=[Borough.Role.PILOT, Borough.Role.COMPARISON]
    ).values_list("gss_code", flat=True)
    week = Encounter.objects.filter(encounter_date__range=(start, end))
    counts = {
        row.pop("borough__gss_code"): row
        for row in week.values("borough__gss_code").annotate(**_decision_counts()).order_by()
    }
    empty = dict.fromkeys(_decision_counts(), 0)
    rows = [{"borough": code, **counts.get(code, empty)} for code in sorted(codes)]
    rows.append({"borough": ALL, **week.aggregate(**_decision_counts())})
    return rows


def _ineligibility_reasons(start: date, end: date) -> list[dict]:
    """Ineligible encounters in the week per reason; reasons nobody broke are left out."""
    rows = (
        EncounterReason.objects.filter(
            encounter__decision=Decision.INELIGIBLE,
            encounter__encounter_date__range=(start, end),
        )
        .values("code")
        .annotate(count=Count("encounter_id", distinct=True))
        .order_by("code")
    )
    return [{"reason": row["code"], "count": row["count"]} for row in rows]


def _referral_counts(end: date) -> dict:
    return {
        "referred": Count("id"),
        "attended": Count("id", filter=Q(attended_on__lte=end)),
        "completed": Count("id", filter=Q(completed_on__lte=end)),
        "did_not_attend": Count("id", filter=Q(did_not_attend_on__lte=end)),
        "withdrawn": Count("id", filter=Q(withdrawn_on__lte=end)),
    }


def _referral_row(borough: str, counts: dict) -> dict:
    closed = counts["completed"] + counts["did_not_attend"]
    return {
        "borough": borough,
        **counts,
        "open": counts["referred"]
        - counts["completed"]
        - counts["did_not_attend"]
        - counts["withdrawn"],
        "completion_rate": _rate(counts["completed"], closed),
    }


def _referrals(end: date) -> list[dict]:
    """Referrals as they stood at the period end: every pilot borough, and ALL."""
    codes = Borough.objects.filter(role=Borough.Role.PILOT).values_list("gss_code", flat=True)
    referrals = Referral.objects.filter(encounter__encounter_date__lte=end)
    counts = {
        row.pop("encounter__borough__gss_code"): row
        for row in referrals.values("encounter__borough__gss_code")
        .annotate(**_referral_counts(end))
        .order_by()
    }
    empty = dict.fromkeys(_referral_counts(end), 0)
    rows = [_referral_row(code, counts.get(code, empty)) for code in sorted(codes)]
    # Every referral's encounter has a borough, so the per-borough counts (all boroughs, not
    # only the pilot ones listed) add up to ALL without a second pass over the referrals.
    total = {name: sum(row[name] for row in counts.values()) for name in empty}
    rows.append(_referral_row(ALL, total))
    return rows


def _groups_sql() -> str:
    """Return the SELECT counting 12-month cohorts by ethnicity, gender and age band.

    Its parameter is the last day of the latest cohort reportable at 12 months
    (`_last_cohort_day`).
    """
    band = _age_band_sql("p.age")
    return f"""UNION ALL
SELECT 'groups', 0, pe.ethnicity, pe.gender, 12, COUNT(*),
       SUM(CASE WHEN p.n12 > 0 THEN 1 ELSE 0 END), 0, {band}
FROM per_index p
JOIN {Person._meta.db_table} pe ON pe.id = p.person_id
WHERE p.d0 <= %s
GROUP BY pe.ethnicity, pe.gender, {band}
"""  # nosec B608: table names and fixed SQL only; values are parameters


def _reoffending_counts_by_months(end: date, *, groups: bool = False) -> list[tuple]:
    """Return reoffending counts per reportable (cohort, months) and pooled per months.

    One statement, so the per-person work runs once for both sections. Each row is
    ``(kind, cohort key, group, borough, months, size, reoffenders, reoffences)``: ``kind`` is
    ``cohort`` for one cohort's figures (the ``reoffending`` section) and ``pooled`` for every
    cohort reportable at that N added together (the ``effects`` section, cohort key 0). A
    cohort appears at N only when reportable at N (SPEC §5); ``borough`` is a GSS code or ALL.

    With ``groups``, rows of kind ``groups`` carry disproportionality's 12-month figures from the
    same per-person work, with a ninth column (`_split_groups` separates them).
    """
    cutoffs = {n: last_reportable_cohort(end, n) for n in MONTHS}
    if cutoffs[3] is None:
        return []
    ctes, params = _per_index_sql(cutoff=_month_end(cutoffs[3]), period_end=end)
    measures = """
           COUNT(*) AS size,
           SUM(CASE WHEN p.n3 > 0 THEN 1 ELSE 0 END) AS r3, SUM(p.n3) AS o3,
           SUM(CASE WHEN p.n6 > 0 THEN 1 ELSE 0 END) AS r6, SUM(p.n6) AS o6,
           SUM(CASE WHEN p.n12 > 0 THEN 1 ELSE 0 END) AS r12, SUM(p.n12) AS o12"""
    columns = ("size", "r3", "o3", "r6", "o6", "r12", "o12")
    sums = ", ".join(f"SUM({column})" for column in columns)
    by_months = "\n    UNION ALL\n".join(
        f"    SELECT mk, grp, borough, {n} AS months, size, r{n} AS reoffenders,"  # nosec B608: fixed SQL
        f" o{n} AS reoffences FROM by_cohort WHERE mk <= %s"
        for n in MONTHS
    )
    band = ", ''" if groups else ""
    # The per-person rows are counted by index day, group and borough id first: the month key
    # and the borough's code are then worked out for those few thousand rows, not for each
    # person. ALL adds up the boroughs' rows (every index encounter has a borough) rather than
    # reading the per-person rows a second time.
    sql = f"""{ctes},
by_day AS (
    SELECT p.d0, p.grp, p.borough_id, {measures}
    FROM per_index p
    GROUP BY p.d0, p.grp, p.borough_id
),
by_borough AS (
    SELECT {_day_key_sql("d.d0")} / 100 AS mk, d.grp, b.gss_code AS borough,
           {", ".join(f"SUM({column}) AS {column}" for column in columns)}
    FROM by_day d JOIN {Borough._meta.db_table} b ON b.id = d.borough_id
    GROUP BY {_day_key_sql("d.d0")} / 100, d.grp, b.gss_code
),
by_cohort AS (
    SELECT mk, grp, borough, size, r3, o3, r6, o6, r12, o12 FROM by_borough
    UNION ALL
    SELECT mk, grp, '{ALL}', {sums}
    FROM by_borough
    GROUP BY mk, grp
),
reportable AS (
{by_months}
)
SELECT 'cohort', mk, grp, borough, months, size, reoffenders, reoffences{band} FROM reportable
UNION ALL
SELECT 'pooled', 0, grp, borough, months, SUM(size), SUM(reoffenders), SUM(reoffences){band}
FROM reportable
GROUP BY grp, borough, months
{_groups_sql() if groups else ""}"""  # nosec B608
    # (B608: only table names and fixed SQL are put in the text; values go as parameters.)
    # A window that has not closed for any cohort yet gets key 0, which no cohort is below.
    params = [*params, *(cutoffs[n] or 0 for n in MONTHS)]
    return _reoffending_counts(sql, [*params, _last_cohort_day(cutoffs[12])] if groups else params)


def _split_groups(rows: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Split combined rows into the reoffending counts and disproportionality's group rows."""
    counts = [row[:8] for row in rows if row[0] != "groups"]
    groups = [(row[2], row[3], row[8], row[5], row[6]) for row in rows if row[0] == "groups"]
    return counts, groups


def _reoffending(counts: list[tuple]) -> list[dict]:
    """SPEC §5 rows for every reportable (cohort, months), group and index borough, and ALL."""
    rows = []
    for kind, mk, group, borough, months, size, reoffenders, reoffences in counts:
        if kind != "cohort":
            continue
        size, reoffenders = int(size), int(reoffenders)
        low, high = wilson_interval(reoffenders, size)
        rows.append(
            {
                "cohort": cohort_label(mk),
                "group": group,
                "borough": borough,
                "months": int(months),
                "cohort_size": size,
                "reoffenders": reoffenders,
                "reoffences": int(reoffences),
                "rate": _rate(reoffenders, size),
                "ci_low": low,
                "ci_high": high,
            }
        )
    rows.sort(
        key=lambda r: (r["cohort"], r["months"], r["group"], r["borough"] == ALL, r["borough"])
    )
    return rows


def _effects(counts: list[tuple]) -> list[dict]:
    """SPEC §6 ``effects``: diverted against comparison, pooled over reportable cohorts.

    One row per index borough (and ALL) and N where both groups have at least one person; the
    database has pooled the counts, so this only does the interval arithmetic on them.
    """
    pooled: dict[tuple[str, int], dict[str, tuple[int, int]]] = {}
    for kind, _mk, group, borough, months, size, reoffenders, _reoffences in counts:
        if kind == "pooled":
            pooled.setdefault((borough, int(months)), {})[group] = (int(size), int(reoffenders))
    rows = []
    for (borough, months), groups in pooled.items():
        (n1, r1), (n0, r0) = groups.get("diverted", (0, 0)), groups.get("comparison", (0, 0))
        if n1 == 0 or n0 == 0:
            continue
        rows.append(
            {
                "borough": borough,
                "months": months,
                "diverted_size": n1,
                "diverted_reoffenders": r1,
                "comparison_size": n0,
                "comparison_reoffenders": r0,
                **effect_estimates(r1=r1, n1=n1, r0=r0, n0=n0),
            }
        )
    rows.sort(key=lambda r: (r["months"], r["borough"] == ALL, r["borough"]))
    return rows


def report_data(*, week: str) -> dict:
    """Return the SPEC §6 JSON for an ISO week, unsuppressed, every figure from the database."""
    start, end = parse_week(week)
    with reporting_reads():
        return _report(week, start, end, _reoffending_counts_by_months(end), _referrals(end))


def report_with_disproportionality(*, week: str) -> tuple[dict, list[dict]]:
    """Return `report_data` and `disproportionality` for a week, equal to calling both.

    The per-person reoffending work is the heaviest part of each, and the same for both (the
    12-month cohorts are a subset of the 3-month ones), so one statement does it once. Most
    of that statement's time is one database process working through the sorted per-person
    rows, so the referral and offer counts, the next heaviest reads, run meanwhile on a second
    connection in the same snapshot (`reporting_beside`).
    """
    start, end = parse_week(week)
    with reporting_reads():
        beside = reporting_beside(lambda: (_referrals(end), _offer_counts(end)))
        counts, groups = _split_groups(_reoffending_counts_by_months(end, groups=True))
        referrals, offers = beside()
        return _report(week, start, end, counts, referrals), _disproportionality(offers, groups)


def _report(week: str, start: date, end: date, counts: list[tuple], referrals: list[dict]) -> dict:
    return {
        "week": week.strip(),
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "activity": _activity(start, end),
        "ineligibility_reasons": _ineligibility_reasons(start, end),
        "referrals": referrals,
        "reoffending": _reoffending(counts),
        "effects": _effects(counts),
    }


# --- Disproportionality -----------------------------------------------------------------------


def _age_band(field: str) -> Case:
    """Return the age band of ``field`` as a database expression (diversion.choices.AGE_BANDS)."""
    return Case(
        *(
            When(**{f"{field}__range": (youngest, oldest)}, then=Value(band))
            for band, youngest, oldest in AGE_BANDS
        ),
        default=Value(OTHER_AGE_BAND),
        output_field=CharField(),
    )


def _age_band_sql(column: str) -> str:
    """Return the same age band as raw SQL, for the reoffending query."""
    whens = " ".join(
        f"WHEN {column} BETWEEN {youngest} AND {oldest} THEN '{band}'"
        for band, youngest, oldest in AGE_BANDS
    )
    return f"CASE {whens} ELSE '{OTHER_AGE_BAND}' END"


def disproportionality(*, week: str) -> list[dict]:
    """Return offers, diversions, completions and 12-month reoffending by person group.

    Cumulative up to the period end; one row per ethnicity group, gender and age band (age on
    the encounter's date; for reoffending, on the index encounter's date), zero rows included.
    Counts come grouped by (ethnicity code, gender, age band) from the database and are folded
    into the three dimensions here.
    """
    _, end = parse_week(week)
    with reporting_reads():
        return _disproportionality(_offer_counts(end), _group_reoffending(end))


def _group_reoffending(end: date) -> list[tuple]:
    """Return (ethnicity, gender, age band, cohort, reoffenders) for 12-month cohorts."""
    cutoff = last_reportable_cohort(end, 12)
    if cutoff is None:
        return []
    ctes, params = _per_index_sql(cutoff=_month_end(cutoff), period_end=end)
    sql = f"""{ctes}
{_groups_sql().removeprefix("UNION ALL")}"""
    rows = _reoffending_counts(sql, [*params, _last_cohort_day(cutoff)])
    return [row[2:4] + (row[8], row[5], row[6]) for row in rows]


def _offer_counts(end: date) -> list[dict]:
    """Return offers, diversions and completions up to ``end`` by ethnicity, gender and band."""
    return list(
        Encounter.objects.filter(encounter_date__lte=end, decision__in=OFFERED)
        .values(
            ethnicity=F("person__ethnicity"),
            gender=F("person__gender"),
            band=_age_band("age_at_encounter"),
        )
        .annotate(
            offers=Count("id"),
            diversions=Count("id", filter=Q(decision=Decision.DIVERTED)),
            completions=Count("referral", filter=Q(referral__completed_on__lte=end)),
        )
        .order_by()
    )


def _disproportionality(offers: list[dict], reoffending: list[tuple]) -> list[dict]:
    """Fold the offer counts and the 12-month group rows into the three dimensions."""
    dimensions = {
        "ethnicity_group": ETHNICITY_GROUP_ORDER,
        "gender": tuple(Gender.values),
        "age_band": AGE_BAND_ORDER,
    }
    fields = ("offers", "diversions", "completions", "cohort", "reoffenders")
    totals = {(d, g): dict.fromkeys(fields, 0) for d, groups in dimensions.items() for g in groups}

    def add(ethnicity: str, gender: str, band: str, counts: dict) -> None:
        keys = (
            ("ethnicity_group", ETHNICITY_GROUPS.get(ethnicity, "Not stated")),
            ("gender", gender),
            ("age_band", band),
        )
        for key in keys:
            bucket = totals.setdefault(key, dict.fromkeys(fields, 0))
            for name, value in counts.items():
                bucket[name] += int(value or 0)

    for row in offers:
        add(
            row["ethnicity"],
            row["gender"],
            row["band"],
            {k: row[k] for k in ("offers", "diversions", "completions")},
        )
    for ethnicity, gender, band, cohort, reoffenders in reoffending:
        add(ethnicity, gender, band, {"cohort": cohort, "reoffenders": reoffenders})

    return [
        {
            "dimension": dimension,
            "group": group,
            "offers": counts["offers"],
            "diversions": counts["diversions"],
            "completions": counts["completions"],
            "reoffending_12m_cohort": counts["cohort"],
            "reoffending_12m_reoffenders": counts["reoffenders"],
            "reoffending_12m_rate": _rate(counts["reoffenders"], counts["cohort"]),
        }
        for (dimension, group), counts in totals.items()
    ]
