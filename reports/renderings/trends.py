"""The trends page's charts and tables, built from already-suppressed figures.

Each chart has a table of the same figures beneath it, so nothing is only in the picture.
"""

from typing import Any

from reports import charts
from reports.renderings.tables import COHORT_REOFFENDING_COLUMNS as REOFFENDING_COLUMNS
from reports.renderings.tables import GROUP_LABELS, Cell, Column, Table
from reports.selectors import Trends
from reports.suppression import SECONDARY, SUPPRESSED, WITHHELD
from reports.trend_charts import Series, weekly_chart

WEEK_COLUMNS = [
    Column("week", "Week", "text"),
    Column("encounters", "Encounters"),
    Column("diverted", "Diverted"),
    Column("declined", "Declined"),
    Column("acceptance_rate", "Acceptance rate", "rate"),
    Column("completed", "Completed"),
    Column("did_not_attend", "Did not attend"),
    Column("completion_rate", "Completion rate", "rate"),
]


def _number(value: Any) -> float | None:
    """Return a plottable number, or None for a suppressed, withheld or missing one."""
    return None if value in (None, SUPPRESSED, SECONDARY, WITHHELD) else float(value)


def _hidden(rows: list[dict], key: str, label: str) -> list[str]:
    hidden = (SUPPRESSED, SECONDARY, WITHHELD)
    return [f"{row['week']} {label}" for row in rows if row[key] in hidden]


def _counts_chart(trends: Trends, where: str) -> charts.Chart:
    rows = trends.weeks
    return weekly_chart(
        chart_id="chart-trend-counts",
        title=f"Encounters and diversions per week, {trends.first_week} to "
        f"{trends.last_week}, {where}",
        desc="Line chart of the encounters recorded each week (solid line) and the people "
        "diverted (dashed line). The table below gives the same figures for every week.",
        weeks=[row["week"] for row in rows],
        series=[
            Series("Encounters", [_number(row["encounters"]) for row in rows]),
            Series("Diverted", [_number(row["diverted"]) for row in rows]),
        ],
        not_plotted=_hidden(rows, "encounters", "encounters")
        + _hidden(rows, "diverted", "diverted"),
    )


def _rates_chart(trends: Trends, where: str) -> charts.Chart:
    rows = trends.weeks
    return weekly_chart(
        chart_id="chart-trend-rates",
        title=f"Acceptance and completion rates per week, {trends.first_week} to "
        f"{trends.last_week}, {where}",
        desc="Line chart of the share of people offered diversion who accepted it (solid line) "
        "and the share of finished referrals that were completed (dashed line), by the week "
        "of the encounter. A week with nobody to count has no point. The table below gives "
        "the same figures.",
        weeks=[row["week"] for row in rows],
        series=[
            Series("Acceptance rate", [_number(row["acceptance_rate"]) for row in rows]),
            Series("Completion rate", [_number(row["completion_rate"]) for row in rows]),
        ],
        not_plotted=_hidden(rows, "acceptance_rate", "acceptance rate")
        + _hidden(rows, "completion_rate", "completion rate"),
        percent=True,
    )


def _reoffending_chart(trends: Trends, where: str) -> charts.Chart:
    points = [
        charts.RatePoint(
            cohort=row["cohort"],
            group=row["group"],
            rate=_number(row["rate"]),
            ci_low=_number(row["ci_low"]),
            ci_high=_number(row["ci_high"]),
        )
        for row in trends.reoffending
    ]
    return charts.interval_chart(
        chart_id="chart-trend-reoffending",
        title=f"Reoffending within 12 months by cohort month, {where}",
        desc="Bars show each cohort month's 12-month reoffending rate for the diverted and "
        "comparison groups, with lines for the 95% confidence interval (Wilson). The table "
        "below gives the same figures.",
        points=points,
    )


def _table(key: str, title: str, columns: list[Column], rows: list[dict]) -> Table:
    def text(column: Column, row: dict) -> Any:
        value = row.get(column.key)
        return GROUP_LABELS.get(str(value), value) if column.key == "group" else value

    return Table(
        key,
        title,
        columns,
        [[Cell(text(c, row), c.kind) for c in columns] for row in rows],
        empty_text="No figures yet.",
    )


def trends_context(trends: Trends, *, where: str) -> dict[str, Any]:
    """Return the charts and tables for the trends page; ``where`` names the borough shown."""
    sorted_reoffending = sorted(
        trends.reoffending, key=lambda r: (r["cohort"], r["group"] != "diverted")
    )
    return {
        "counts_chart": _counts_chart(trends, where),
        "rates_chart": _rates_chart(trends, where),
        "reoffending_chart": _reoffending_chart(trends, where) if trends.reoffending else None,
        "weeks_table": _table(
            "trend_weeks", f"Figures per week, {where}", WEEK_COLUMNS, trends.weeks
        ),
        "reoffending_table": _table(
            "trend_reoffending",
            f"Reoffending within 12 months by cohort month, {where}",
            REOFFENDING_COLUMNS,
            sorted_reoffending,
        ),
    }
