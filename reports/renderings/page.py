"""The web report page: the headline first, then each section, with the reoffending table one
filtered page at a time.

It only formats: the view hands it the version, the names read by ``reports.selectors``, the
earlier weeks' totals and the page of reoffending rows already chosen (and suppressed).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page
from django.utils.http import urlencode

from reports.models import ReportVersion
from reports.renderings import cover_rows, figures
from reports.renderings.headline import headline_context
from reports.renderings.tables import (
    Table,
    activity_table,
    disproportionality_tables,
    effects_table,
    reasons_table,
    referrals_table,
    reoffending_table,
)
from reports.selectors import Labels, ReoffendingFilter
from reports.suppression import SUPPRESSION_NOTE, suppress_report

SECTIONS = (
    ("activity", "Activity"),
    ("reasons", "Reasons"),
    ("referrals", "Referrals"),
    ("reoffending", "Reoffending"),
    ("effects", "Diverted compared"),
    ("disproportionality", "Disproportionality"),
)


@dataclass(frozen=True)
class PageLink:
    """One item of the pagination: a page number with its address, or a gap ("…")."""

    number: int | None
    url: str
    current: bool = False


def filter_query(only: ReoffendingFilter, page: int | None = None) -> str:
    """Return the query string for a filtered page of the reoffending table, for links."""
    pairs = [
        ("borough", only.borough),
        ("months", "" if only.months is None else str(only.months)),
        ("group", only.group),
    ]
    if page is not None and page > 1:
        pairs.append(("page", str(page)))
    query = urlencode([(key, value) for key, value in pairs if value])
    return f"?{query}#reoffending" if query else "?#reoffending"


def page_links(page: Page, only: ReoffendingFilter) -> list[PageLink]:
    """Return the numbered links of the GOV.UK pagination, with gaps for long runs."""
    links = []
    for number in page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        if isinstance(number, int):
            links.append(PageLink(number, filter_query(only, number), number == page.number))
        else:
            links.append(PageLink(None, ""))
    return links


@dataclass(frozen=True)
class FilterField:
    """A select of the reoffending filter, with the chosen option marked."""

    name: str
    label: str
    options: list[tuple[str, str, bool]]


def filter_fields(
    choices: Sequence[tuple[str, str, Sequence[tuple[Any, str]]]], only: ReoffendingFilter
) -> list[FilterField]:
    """Return the filter's selects, each option marked when it is the choice in force."""
    chosen = {
        "borough": only.borough,
        "months": "" if only.months is None else str(only.months),
        "group": only.group,
    }
    return [
        FilterField(
            name,
            label,
            [(str(value), text, str(value) == chosen.get(name, "")) for value, text in options],
        )
        for name, label, options in choices
    ]


def reoffending_context(
    page: Page, only: ReoffendingFilter, boroughs: Mapping[str, str]
) -> dict[str, Any]:
    """Return the reoffending table's page, what it is showing, and the links to other pages."""
    table = reoffending_table({"reoffending": list(page.object_list)}, boroughs)
    total = page.paginator.count
    return {
        "reoffending_page_table": table,
        "reoffending_page": page,
        "reoffending_filter": only,
        "reoffending_showing": (
            f"Showing rows {page.start_index():,} to {page.end_index():,} of {total:,}"
            if total
            else "No rows match these choices."
        ),
        "reoffending_links": page_links(page, only) if page.paginator.num_pages > 1 else [],
        "reoffending_previous": filter_query(only, page.previous_page_number())
        if page.has_previous()
        else "",
        "reoffending_next": filter_query(only, page.next_page_number()) if page.has_next() else "",
    }


def section_tables(
    shown: Mapping[str, Any], extra: Mapping[str, Any] | None, labels: Labels
) -> dict[str, Table | list[Table]]:
    """Return each section's table, from the report as people may see it."""
    return {
        "activity_table": activity_table(shown, labels.boroughs),
        "reasons_table": reasons_table(shown, labels.reasons),
        "referrals_table": referrals_table(shown, labels.boroughs),
        "effects_table": effects_table(shown, labels.boroughs),
        "disproportionality_tables": disproportionality_tables(extra),
    }


def report_page_context(
    version: ReportVersion,
    *,
    labels: Labels,
    weekly: Sequence[tuple[str, int | None]],
    reoffending: Page,
    only: ReoffendingFilter,
) -> dict[str, Any]:
    """Return everything the report page shows, in the order it shows it."""
    # Secondary suppression needs the whole report at once; every part below starts from it.
    shown = suppress_report(version.data)
    trend = figures.trend_chart(weekly)
    reoffending_chart, reoffending_chart_table = figures.reoffending_chart(shown)
    return {
        "version": version,
        "headline": headline_context(shown, labels.boroughs),
        "sections": SECTIONS,
        "cover_rows": cover_rows(version),
        "suppression_note": SUPPRESSION_NOTE,
        **section_tables(shown, version.extra, labels),
        "has_disproportionality": bool((version.extra or {}).get("disproportionality")),
        "activity_chart": figures.activity_chart(shown, version.week, labels.boroughs),
        "trend_chart": trend,
        "trend_table": figures.trend_table(weekly) if trend else None,
        "reoffending_chart": reoffending_chart,
        "reoffending_chart_table": reoffending_chart_table,
        **reoffending_context(reoffending, only, labels.boroughs),
    }
