"""The report's headline: this week's activity, the completion rate, and the 12-month answer.

Built only from the report as people may see it (``suppress_report``), so it shows a figure
exactly when the tables beneath show it. The forest chart plots the ``effects`` rows' risk
differences with their intervals; a withheld row is not plotted and does not move the axis.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reports import charts
from reports.renderings.tables import ALL, EFFECTS_CAVEAT, Cell, Column, Table, format_cell
from reports.suppression import EFFECT_COUNTS, WITHHELD, is_hidden

EFFECT_MONTHS = (3, 6, 12)
HEADLINE_MONTHS = 12
MINUS = "\u2212"


@dataclass(frozen=True)
class KeyFigure:
    """One figure to lead with: its label, its value as text and a line saying what it counts."""

    label: str
    value: str
    note: str


def _row(rows: list[dict], **match: Any) -> dict | None:
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), None)


def key_figures(shown: Mapping[str, Any]) -> list[KeyFigure]:
    """Return this week's encounters and diversions and the referrals' completion rate."""
    activity = _row(shown.get("activity") or [], borough=ALL) or {}
    referrals = _row(shown.get("referrals") or [], borough=ALL) or {}

    def count(row: Mapping[str, Any], key: str) -> str:
        return format_cell(row.get(key, 0), "count")

    rate = referrals.get("completion_rate")
    return [
        KeyFigure(
            "Encounters this week",
            count(activity, "encounters"),
            f"{count(activity, 'declined')} declined diversion, "
            f"{count(activity, 'not_offered')} were not offered it and "
            f"{count(activity, 'ineligible')} were not eligible.",
        ),
        KeyFigure(
            "Diverted this week",
            count(activity, "diverted"),
            "People who accepted a drug-education or counselling referral.",
        ),
        KeyFigure(
            "Referrals completed",
            "Not yet known" if rate is None else format_cell(rate, "rate"),
            f"Of referrals finished by the end of the week: {count(referrals, 'completed')} "
            f"completed and {count(referrals, 'did_not_attend')} did not attend.",
        ),
    ]


def _points(value: float) -> str:
    """Write a difference as signed percentage points to 1 place: "+2.5", "−13.0"."""
    text = f"{value * 100:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text.replace("-", MINUS)


def _share(reoffenders: int, people: int) -> str:
    return format_cell(reoffenders / people, "rate")


def effect_sentences(effect: Mapping[str, Any] | None, months: int = HEADLINE_MONTHS) -> list[str]:
    """Say the all-borough comparison at ``months`` in words, or why it cannot be said."""
    if effect is None:
        return [
            f"There is no {months}-month comparison yet: no cohort with both diverted and "
            f"comparison people has been followed for {months} months."
        ]
    counts = [effect.get(key) for key in EFFECT_COUNTS]
    difference = effect.get("risk_difference")
    if difference is None or difference == WITHHELD or any(is_hidden(c) for c in counts):
        return [
            f"The {months}-month comparison is withheld, because a number it is made from is "
            "fewer than 5 or would let such a number be worked out."
        ]
    n1, r1, n0, r0 = (int(c or 0) for c in counts)  # all shown, so all counts
    low, high = effect["rd_low"], effect["rd_high"]
    if low > 0:
        reading = "The whole interval is above zero: people who were diverted reoffended more."
    elif high < 0:
        reading = "The whole interval is below zero: people who were diverted reoffended less."
    else:
        reading = "The interval includes zero, so the figures are consistent with no difference."
    return [
        f"Within {months} months, {_share(r1, n1)} of the {n1:,} people diverted reoffended "
        f"({r1:,} people), compared with {_share(r0, n0)} of the {n0:,} people who were not "
        f"diverted ({r0:,} people).",
        f"The difference is {_points(difference)} percentage points (95% interval "
        f"{_points(low)} to {_points(high)}). {reading}",
    ]


def _interval(row: Mapping[str, Any] | None) -> charts.Interval | None:
    if row is None:
        return None
    estimate = row.get("risk_difference")
    if estimate is None or estimate == WITHHELD:
        return charts.Interval(None, None, None)
    return charts.Interval(float(estimate), float(row["rd_low"]), float(row["rd_high"]))


def forest(
    effects: list[dict], boroughs: Mapping[str, str]
) -> tuple[charts.Chart | None, Table | None]:
    """Draw the risk difference at 3, 6 and 12 months per borough, ALL first, with its table."""
    if not effects:
        return None, None
    codes = sorted({r["borough"] for r in effects}, key=lambda c: (c != ALL, boroughs.get(c, c)))
    rows = [
        charts.ForestRow(
            boroughs.get(code, code),
            [_interval(_row(effects, borough=code, months=m)) for m in EFFECT_MONTHS],
        )
        for code in codes
    ]
    chart = charts.forest_chart(
        chart_id="chart-effects",
        title="Difference in reoffending, diverted minus not diverted, by borough",
        desc="Forest chart. For each borough and for all boroughs, a marker shows the "
        "difference in reoffending rate between people diverted and people not diverted, in "
        "percentage points, after 3, 6 and 12 months, with a line for its 95% interval. Left "
        "of zero, people diverted reoffended less. The table below gives the same figures.",
        periods=[f"{m} months" for m in EFFECT_MONTHS],
        rows=rows,
    )
    columns = [
        Column("borough", "Borough", "text"),
        Column("months", "Months followed", "text"),
        Column("risk_difference", "Difference", "rate"),
        Column("rd_low", "Lower 95% limit", "rate"),
        Column("rd_high", "Upper 95% limit", "rate"),
    ]
    ordered = [
        row
        for code in codes
        for m in EFFECT_MONTHS
        if (row := _row(effects, borough=code, months=m)) is not None
    ]
    table = Table(
        "effects_chart",
        chart.title,
        columns,
        [
            [
                Cell(boroughs.get(r["borough"], r["borough"]), "text"),
                Cell(str(r["months"]), "text"),
                *(Cell(r.get(c.key), c.kind) for c in columns[2:]),
            ]
            for r in ordered
        ],
        note="Differences are in percentage points: the diverted group's rate minus the "
        "comparison group's.",
    )
    return chart, table


def headline_context(shown: Mapping[str, Any], boroughs: Mapping[str, str]) -> dict[str, Any]:
    """Return the headline's parts from the report as people may see it."""
    effects = list(shown.get("effects") or [])
    chart, table = forest(effects, boroughs)
    return {
        "key_figures": key_figures(shown),
        "effect_sentences": effect_sentences(
            _row(effects, borough=ALL, months=HEADLINE_MONTHS), HEADLINE_MONTHS
        ),
        "effects_caveat": EFFECTS_CAVEAT,
        "forest_chart": chart,
        "forest_table": table,
    }
