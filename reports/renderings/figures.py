"""The report's charts, each with the table of its figures, shared by the web page and the PDF.

Every chart is drawn from figures already suppressed for people to read: a hidden count or a
withheld rate is never plotted, and the chart says which it left out.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from reports import charts
from reports.renderings.tables import ALL, COHORT_REOFFENDING_COLUMNS, Cell, Column, Table
from reports.suppression import WITHHELD


def plottable(value: Any) -> int | None:
    """Return a count that may be plotted, or None for a hidden one."""
    return value if isinstance(value, int) else None


def activity_chart(
    shown: Mapping[str, Any], week: str, boroughs: Mapping[str, str]
) -> charts.Chart | None:
    """Draw this week's encounters per borough; the activity table gives the same figures.

    ``shown`` is the whole report as ``suppress_report`` gives it, so the chart hides exactly
    what the tables hide (known zeros included).
    """
    rows = [r for r in shown.get("activity", []) if r.get("borough") != ALL]
    if not rows:
        return None
    rows.sort(key=lambda r: boroughs.get(r["borough"], r["borough"]))
    bars = [(boroughs.get(r["borough"], r["borough"]), plottable(r["encounters"])) for r in rows]
    return charts.bar_chart(
        chart_id="chart-activity",
        title=f"Encounters by borough, week {week}",
        desc="Bar chart of the encounters recorded this week in each borough. "
        "The activity table below gives the same figures.",
        bars=bars,
    )


def trend_chart(points: Sequence[tuple[str, int | None]]) -> charts.Chart | None:
    """Draw all-borough encounters per week, when there are at least two weeks."""
    if len(points) < 2:
        return None
    return charts.line_chart(
        chart_id="chart-trend",
        title=f"Encounters per week, {points[0][0]} to {points[-1][0]}, all boroughs",
        desc="Line chart of the encounters recorded each week in all boroughs. "
        "The table next to it gives the same figures.",
        points=points,
    )


def trend_table(points: Sequence[tuple[str, int | None]]) -> Table:
    """Tabulate the trend chart's weeks; a hidden week shows as <5."""
    return Table(
        "trend",
        "Encounters per week, all boroughs",
        [Column("week", "Week", "text"), Column("encounters", "Encounters")],
        [[Cell(w, "text"), Cell(v if v is not None else "<5", "count")] for w, v in points],
    )


def reoffending_chart_rows(shown: Mapping[str, Any]) -> tuple[int | None, list[dict]]:
    """Pick the rows the reoffending chart shows: 12 months (or the longest reported), ALL.

    ``shown`` is the report as ``suppress_report`` gives it.
    """
    rows = [r for r in shown.get("reoffending", []) if r.get("borough") == ALL]
    months = {r["months"] for r in rows}
    if not months:
        return None, []
    chosen = 12 if 12 in months else max(months)
    picked = sorted(
        (r for r in rows if r["months"] == chosen),
        key=lambda r: (r["cohort"], r["group"] != "diverted"),
    )
    return chosen, picked


def number(value: Any) -> float | None:
    """Return a rate that may be plotted, or None for a withheld or missing one."""
    return None if value in (None, WITHHELD) else float(value)


def reoffending_chart(shown: Mapping[str, Any]) -> tuple[charts.Chart | None, Table | None]:
    """Draw each cohort's reoffending rate, diverted beside comparison, with its table."""
    months, rows = reoffending_chart_rows(shown)
    if not rows:
        return None, None
    points = [
        charts.RatePoint(
            cohort=r["cohort"],
            group=r["group"],
            rate=number(r["rate"]),
            ci_low=number(r["ci_low"]),
            ci_high=number(r["ci_high"]),
        )
        for r in rows
    ]
    chart = charts.interval_chart(
        chart_id="chart-reoffending",
        title=f"Reoffending within {months} months by cohort, diverted and comparison",
        desc="Bars show each cohort's reoffending rate for the diverted and comparison groups, "
        "with lines for the 95% confidence interval. The table next to it gives the figures.",
        points=points,
    )
    columns = COHORT_REOFFENDING_COLUMNS
    table = Table(
        "reoffending_chart",
        chart.title,
        columns,
        [
            [
                Cell(r["group"].capitalize() if c.key == "group" else r.get(c.key), c.kind)
                for c in columns
            ]
            for r in rows
        ],
    )
    return chart, table
