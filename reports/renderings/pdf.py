"""The PDF: a cover with the headline and effects, the sections, and the full table on request.

An approver reads the PDF in a few minutes, so it leads with the answer and leaves the
reoffending table of every cohort and borough (hundreds of rows) to the CSV and XLSX downloads,
or to an appendix when someone asks for it (``build_report --format pdf --full``). Every figure
comes from the same suppressed tables as the other renderings; the headline only puts some of
them into sentences.
"""

from collections.abc import Mapping
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from reports import charts
from reports.models import ReportVersion
from reports.renderings.tables import (
    ALL,
    EFFECTS_CAVEAT,
    GROUP_LABELS,
    Cell,
    Column,
    Table,
    format_cell,
)
from reports.statistics import round_figure, wilson_bounds
from reports.suppression import WITHHELD, is_hidden

MARKING = "OFFICIAL-SENSITIVE"
# One family throughout, text and charts alike: DejaVu Sans is on every machine WeasyPrint runs
# on here (the Docker image installs fonts-dejavu-core), so nothing falls back to another font.
FONT_FAMILY = "DejaVu Sans"
PRINT_FONT = f'font-family="{FONT_FAMILY}"'
HEADLINE_MONTHS = 12


def render_pdf(version: ReportVersion, *, full: bool = False) -> bytes:
    """Print the report to PDF with WeasyPrint; ``full`` adds the reoffending table appendix."""
    from weasyprint import HTML

    return HTML(string=print_html(version, full=full)).write_pdf()


def print_html(version: ReportVersion, *, full: bool = False) -> str:
    """Return the HTML the PDF is made from."""
    return render_to_string("reports/version_print.html", pdf_context(version, full=full))


def pdf_context(version: ReportVersion, *, full: bool = False) -> dict[str, Any]:
    """Return the page's shared context, with the cover's headline and the short sections."""
    from reports.renderings import version_context

    context = version_context(version, for_print=True)
    shown = context["shown"]
    for key in ("activity_chart", "trend_chart", "reoffending_chart"):
        context[key] = _in_print_font(context.get(key))
    context.update(
        {
            "marking": MARKING,
            "font_family": FONT_FAMILY,
            "headline": headline_sentences(shown, period_end=f"{version.period_end:%-d %B %Y}"),
            "effects_caveat": EFFECTS_CAVEAT,
            "cover_effects_table": cover_effects_table(shown),
            "reoffending_summary_table": reoffending_summary_table(shown),
            "full": full,
        }
    )
    return context


def _in_print_font(chart: charts.Chart | None) -> charts.Chart | None:
    # WeasyPrint draws inline SVG with the SVG's own font attribute, not the page's CSS.
    if chart is None:
        return None
    # The SVG is the chart module's own markup, already escaped; only its font attribute changes.
    svg = mark_safe(chart.svg.replace(charts.FONT, PRINT_FONT))  # nosec B308, B703
    return charts.Chart(svg=svg, title=chart.title, not_plotted=chart.not_plotted)


def _row(rows: list[Mapping[str, Any]], **match: Any) -> Mapping[str, Any] | None:
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), None)


def _count(value: Any) -> str:
    return format_cell(value, "count")


def _percent(value: Any) -> str:
    return format_cell(value, "rate")


def headline_sentences(shown: Mapping[str, Any], *, period_end: str) -> list[str]:
    """Say the week's activity, the completion rate and the 12-month effect for all boroughs.

    ``shown`` is the suppressed report, so a sentence never says what a table hides.
    """
    return [
        _activity_sentence(_row(shown.get("activity", []), borough=ALL)),
        _completion_sentence(_row(shown.get("referrals", []), borough=ALL), period_end),
        _effect_sentence(
            _row(shown.get("effects", []), borough=ALL, months=HEADLINE_MONTHS),
        ),
    ]


def _activity_sentence(row: Mapping[str, Any] | None) -> str:
    if row is None:
        return "No encounters were counted this week."
    return (
        f"This week there were {_count(row['encounters'])} encounters in the pilot and "
        f"comparison boroughs: {_count(row['diverted'])} diverted, {_count(row['declined'])} "
        f"declined diversion, {_count(row['not_offered'])} not offered it and "
        f"{_count(row['ineligible'])} not eligible."
    )


def _completion_sentence(row: Mapping[str, Any] | None, period_end: str) -> str:
    if row is None:
        return "There are no referrals yet."
    rate = row.get("completion_rate")
    counts = (
        f"{_count(row['completed'])} completed and {_count(row['did_not_attend'])} did not attend"
    )
    if rate is None:
        return f"No referral had ended in completion or non-attendance by {period_end}."
    if rate == WITHHELD:
        return (
            f"Of all referrals up to {period_end}, {counts}; the completion rate is withheld "
            "because a number it is made from is hidden."
        )
    return f"Of all referrals up to {period_end}, {counts}: a completion rate of {_percent(rate)}."


def _effect_sentence(row: Mapping[str, Any] | None) -> str:
    months = HEADLINE_MONTHS
    if row is None:
        return (
            f"There is no {months}-month comparison yet: no cohort with both diverted and "
            f"comparison people has been followed for {months} months."
        )
    people = (
        f"{_count(row['diverted_reoffenders'])} of {_count(row['diverted_size'])} people "
        f"diverted and {_count(row['comparison_reoffenders'])} of "
        f"{_count(row['comparison_size'])} people not diverted reoffended within {months} months"
    )
    difference = row.get("risk_difference")
    if not isinstance(difference, int | float):
        return (
            f"Across all boroughs, {people}; the difference is withheld because a number it is "
            "made from is hidden."
        )
    points = abs(float(difference)) * 100
    change = f"{points:.1f} percentage points {'lower' if difference < 0 else 'higher'} than"
    if round(points, 1) == 0:
        change = "the same as"
    low, high = _percent(row["rd_low"]), _percent(row["rd_high"])
    sentence = (
        f"Across all boroughs, {people}. The diverted group's reoffending rate was {change} "
        f"the comparison group's (95% interval {low} to {high}"
    )
    if row["rd_low"] <= 0 <= row["rd_high"]:
        sentence += ", which includes no difference"
    return sentence + ")."


def cover_effects_table(shown: Mapping[str, Any]) -> Table:
    """The all-borough effects at 3, 6 and 12 months, for the cover."""
    columns = [
        Column("months", "Months followed", "text"),
        Column("diverted_rate", "Diverted: reoffending rate", "rate"),
        Column("comparison_rate", "Comparison: reoffending rate", "rate"),
        Column("risk_difference", "Difference", "rate"),
        Column("rd_interval", "Difference: 95% interval", "text"),
        Column("relative_risk", "Relative risk", "ratio"),
        Column("rr_interval", "Relative risk: 95% interval", "text"),
    ]
    rows = sorted(
        (r for r in shown.get("effects", []) if r.get("borough") == ALL),
        key=lambda r: r["months"],
    )
    cells = [
        [
            Cell(str(r["months"]), "text"),
            Cell(_pooled_rate(r["diverted_reoffenders"], r["diverted_size"]), "rate"),
            Cell(_pooled_rate(r["comparison_reoffenders"], r["comparison_size"]), "rate"),
            Cell(r.get("risk_difference"), "rate"),
            Cell(_interval(r, "rd_low", "rd_high", "rate"), "text"),
            Cell(r.get("relative_risk"), "ratio"),
            Cell(_interval(r, "rr_low", "rr_high", "ratio"), "text"),
        ]
        for r in rows
    ]
    return Table(
        "cover_effects",
        "Diverted compared with not diverted, all boroughs",
        columns,
        cells,
        empty_text="No cohort with both diverted and comparison people has been followed for "
        "long enough yet.",
    )


def _interval(row: Mapping[str, Any], low: str, high: str, kind: str) -> str:
    if row.get(low) is None:
        return format_cell(None, kind)
    if row[low] == WITHHELD:
        return format_cell(WITHHELD, kind)
    return f"{format_cell(row[low], kind)} to {format_cell(row[high], kind)}"


def _pooled_rate(reoffenders: Any, size: Any) -> float | str | None:
    """Reoffenders / people from shown counts; withheld when either is hidden."""
    if is_hidden(reoffenders) or is_hidden(size):
        return WITHHELD
    return round_figure(reoffenders / size) if size else None


def reoffending_summary_table(shown: Mapping[str, Any]) -> Table:
    """All boroughs, per months followed and group: every reportable cohort added together.

    The pooled counts are the ``effects`` row's for all boroughs, already suppressed with the
    rest of the report; the rate and its Wilson interval are worked out from them only when
    both are shown.
    """
    columns = [
        Column("months", "Months followed", "text"),
        Column("group", "Group", "text"),
        Column("people", "People"),
        Column("reoffenders", "Reoffenders"),
        Column("rate", "Reoffending rate", "rate"),
        Column("ci_low", "Lower 95% limit", "rate"),
        Column("ci_high", "Upper 95% limit", "rate"),
    ]
    rows = []
    for effect in sorted(
        (r for r in shown.get("effects", []) if r.get("borough") == ALL),
        key=lambda r: r["months"],
    ):
        for group in ("diverted", "comparison"):
            people, reoffenders = effect[f"{group}_size"], effect[f"{group}_reoffenders"]
            rate = _pooled_rate(reoffenders, people)
            low: float | str | None = rate
            high: float | str | None = rate
            if isinstance(rate, float):
                bounds = wilson_bounds(reoffenders, people)
                low, high = round_figure(bounds[0]), round_figure(bounds[1])
            rows.append(
                [
                    Cell(str(effect["months"]), "text"),
                    Cell(GROUP_LABELS[group], "text"),
                    Cell(people, "count"),
                    Cell(reoffenders, "count"),
                    Cell(rate, "rate"),
                    Cell(low, "rate"),
                    Cell(high, "rate"),
                ]
            )
    return Table(
        "reoffending_summary",
        "Reoffending, all boroughs, every cohort followed for long enough added together",
        columns,
        rows,
        empty_text="No cohort with both diverted and comparison people has been followed for "
        "long enough yet.",
    )
