"""The report's sections as suppressed tables, shared by the web page, PDF, CSV and XLSX.

Building every human-facing rendering from the same tables means they always show the same
figures, suppressed the same way. The tables only format: the names they show come in a
``Labels`` read by ``reports.selectors.report_labels``.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from diversion.choices import Reason
from reports import suppression
from reports.selectors import Labels, reoffending_order
from reports.suppression import SECONDARY, SUPPRESSED, WITHHELD

ALL = "ALL"

REASON_LABELS: dict[str, str] = dict(Reason.choices)
REASON_ORDER = list(REASON_LABELS)

GROUP_LABELS = {"diverted": "Diverted", "comparison": "Comparison"}
ESTIMATE_KINDS = ("rate", "ratio")

EFFECTS_CAVEAT = (
    "This compares people who were diverted with people who were not, who may differ in "
    "other ways: it is not proof that diversion caused the difference."
)

DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("ethnicity_group", "By ethnic group"),
    ("gender", "By gender"),
    ("age_band", "By age band"),
)
GENDER_LABELS = {"male": "Male", "female": "Female", "other": "Other", "not_stated": "Not stated"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "count"  # "text", "count", "rate" (a proportion) or "ratio"

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass(frozen=True)
class Cell:
    """One value to show: ``value`` for CSV and XLSX, ``text`` for people reading HTML or PDF."""

    value: Any
    kind: str

    @property
    def text(self) -> str:
        return format_cell(self.value, self.kind)

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""
    empty_text: str = "No data"
    # Said before the figures in every rendering, not only beside them on the page.
    caveat: str = ""


def format_cell(value: Any, kind: str) -> str:
    """Format a suppressed value for people: counts with commas, rates as percentages."""
    if kind == "text":
        return "" if value is None else str(value)
    if value is None:
        return "Not applicable" if kind in ESTIMATE_KINDS else ""
    if value in (SUPPRESSED, SECONDARY, WITHHELD):
        return "Withheld" if value == WITHHELD else value
    if kind == "rate":
        text = f"{float(value) * 100:.1f}%"
        return "0.0%" if text == "-0.0%" else text  # a tiny negative difference is no change
    if kind == "ratio":
        return f"{float(value):.2f}"
    return f"{int(value):,}"


def csv_value(cell: Cell) -> str:
    """Return a cell as CSV text: numbers plain, rates as fractions to 4 decimal places."""
    value = cell.value
    if value is None:
        return ""
    if cell.kind in ESTIMATE_KINDS and isinstance(value, int | float):
        return f"{float(value):.4f}"
    return str(value)


def _borough_sort(labels: Mapping[str, str]) -> Callable[[Mapping[str, Any]], tuple]:
    return lambda row: (row.get("borough") == ALL, labels.get(row.get("borough") or "", ""))


def _rows(
    columns: list[Column], rows: Iterable[Mapping[str, Any]], text: Mapping[str, Callable]
) -> list[list[Cell]]:
    out = []
    for row in rows:
        out.append(
            [Cell(text[c.key](row) if c.key in text else row.get(c.key), c.kind) for c in columns]
        )
    return out


def activity_table(data: Mapping[str, Any], boroughs: Mapping[str, str]) -> Table:
    columns = [
        Column("borough", "Borough", "text"),
        Column("encounters", "Encounters"),
        Column("diverted", "Diverted"),
        Column("declined", "Declined"),
        Column("not_offered", "Not offered"),
        Column("ineligible", "Not eligible"),
    ]
    rows = sorted(data.get("activity", []), key=_borough_sort(boroughs))
    return Table(
        "activity",
        "Activity this week",
        columns,
        _rows(
            columns,
            map(suppression.suppress_activity_row, rows),
            {"borough": lambda r: boroughs.get(r["borough"], r["borough"])},
        ),
        note="Encounters dated within the week, by decision.",
    )


def reasons_table(data: Mapping[str, Any], labels: Mapping[str, str]) -> Table:
    raw = data.get("ineligibility_reasons", [])
    order = {code: i for i, code in enumerate(REASON_ORDER)}
    rows = sorted(raw, key=lambda r: (order.get(r["reason"], len(order)), r["reason"]))
    columns = [Column("reason", "Reason", "text"), Column("count", "Encounters")]
    return Table(
        "ineligibility_reasons",
        "Reasons for not being eligible",
        columns,
        _rows(
            columns,
            map(suppression.suppress_reason_row, rows),
            {"reason": lambda r: labels.get(r["reason"], r["reason"])},
        ),
        note="An encounter with two reasons counts under both.",
        empty_text="No encounter this week was found not eligible.",
    )


def referrals_table(data: Mapping[str, Any], boroughs: Mapping[str, str]) -> Table:
    columns = [
        Column("borough", "Borough", "text"),
        Column("referred", "Referred"),
        Column("attended", "Attended"),
        Column("completed", "Completed"),
        Column("did_not_attend", "Did not attend"),
        Column("withdrawn", "Withdrawn"),
        Column("open", "Open"),
        Column("completion_rate", "Completion rate", "rate"),
    ]
    rows = sorted(data.get("referrals", []), key=_borough_sort(boroughs))
    return Table(
        "referrals",
        "Referrals and outcomes",
        columns,
        _rows(
            columns,
            map(suppression.suppress_referral_row, rows),
            {"borough": lambda r: boroughs.get(r["borough"], r["borough"])},
        ),
        note=(
            "All referrals up to the end of the week. Completion rate is completed divided by "
            "completed plus did not attend."
        ),
    )


def reoffending_table(data: Mapping[str, Any], boroughs: Mapping[str, str]) -> Table:
    columns = [
        Column("cohort", "Cohort", "text"),
        Column("months", "Months followed", "text"),
        Column("group", "Group", "text"),
        Column("borough", "Borough", "text"),
        Column("cohort_size", "People"),
        Column("reoffenders", "Reoffenders"),
        Column("reoffences", "Offences"),
        Column("rate", "Reoffending rate", "rate"),
        Column("ci_low", "Lower 95% limit", "rate"),
        Column("ci_high", "Upper 95% limit", "rate"),
    ]
    rows = sorted(data.get("reoffending", []), key=reoffending_order(boroughs))
    return Table(
        "reoffending",
        "Reoffending",
        columns,
        _rows(
            columns,
            map(suppression.suppress_reoffending_row, rows),
            {
                "borough": lambda r: boroughs.get(r["borough"], r["borough"]),
                "group": lambda r: GROUP_LABELS.get(r["group"], r["group"]),
                "months": lambda r: str(r["months"]),
            },
        ),
        note=(
            "People by the month of their first qualifying encounter. A reoffender has at least "
            "one further encounter or recorded offence within the months followed. A cohort is "
            "shown once every member has been followed for that long."
        ),
        empty_text="No cohort has been followed for long enough yet.",
    )


def effects_table(data: Mapping[str, Any], boroughs: Mapping[str, str]) -> Table:
    columns = [
        Column("borough", "Borough", "text"),
        Column("months", "Months followed", "text"),
        Column("diverted_size", "Diverted: people"),
        Column("diverted_reoffenders", "Diverted: reoffenders"),
        Column("comparison_size", "Comparison: people"),
        Column("comparison_reoffenders", "Comparison: reoffenders"),
        Column("risk_difference", "Difference in reoffending rate", "rate"),
        Column("rd_low", "Difference: lower 95% limit", "rate"),
        Column("rd_high", "Difference: upper 95% limit", "rate"),
        Column("relative_risk", "Relative risk", "ratio"),
        Column("rr_low", "Relative risk: lower 95% limit", "ratio"),
        Column("rr_high", "Relative risk: upper 95% limit", "ratio"),
    ]
    rows = sorted(
        data.get("effects", []),
        key=lambda r: (r["months"], *_borough_sort(boroughs)(r)),
    )
    return Table(
        "effects",
        "Diverted compared with not diverted",
        columns,
        _rows(
            columns,
            map(suppression.suppress_effects_row, rows),
            {
                "borough": lambda r: boroughs.get(r["borough"], r["borough"]),
                "months": lambda r: str(r["months"]),
            },
        ),
        note=(
            "Every cohort followed for long enough, added together, by the borough of each "
            "person's first qualifying encounter. The difference is the diverted group's "
            "reoffending rate minus the comparison group's; the relative risk is the one "
            "divided by the other, and is not applicable when either group has no reoffender. "
            "Estimates are withheld when any of the four counts is fewer than 5."
        ),
        empty_text="No borough has both diverted and comparison people followed for long enough.",
        caveat=EFFECTS_CAVEAT,
    )


def disproportionality_tables(extra: Mapping[str, Any] | None) -> list[Table]:
    """One table per dimension (ethnic group, gender, age band), from ``extra``."""
    # Suppressed together: each dimension's groups add up to the same totals.
    rows = suppression.suppress_disproportionality((extra or {}).get("disproportionality") or [])
    columns = [
        Column("group", "Group", "text"),
        Column("offers", "Offered diversion"),
        Column("diversions", "Diverted"),
        Column("completions", "Completed"),
        Column("reoffending_12m_cohort", "People followed 12 months"),
        Column("reoffending_12m_reoffenders", "Reoffenders within 12 months"),
        Column("reoffending_12m_rate", "12-month reoffending rate", "rate"),
    ]
    tables = []
    for dimension, title in DIMENSIONS:
        these = sorted(
            (r for r in rows if r.get("dimension") == dimension), key=lambda r: str(r["group"])
        )
        tables.append(
            Table(
                f"disproportionality_{dimension}",
                f"Disproportionality: {title.lower()}",
                columns,
                _rows(
                    columns,
                    map(suppression.suppress_disproportionality_row, these),
                    {"group": lambda r: GENDER_LABELS.get(r["group"], str(r["group"]))},
                ),
            )
        )
    return tables


def report_tables(
    data: Mapping[str, Any], extra: Mapping[str, Any] | None, labels: Labels
) -> list[Table]:
    """Return every section of a report as a suppressed table, in reading order."""
    boroughs = labels.boroughs
    # Secondary suppression needs the whole report at once; the row functions each table maps
    # over the rows then leave its hidden cells as they are.
    data = suppression.suppress_report(data)
    return [
        activity_table(data, boroughs),
        reasons_table(data, labels.reasons),
        referrals_table(data, boroughs),
        reoffending_table(data, boroughs),
        effects_table(data, boroughs),
        *disproportionality_tables(extra),
    ]


# The reoffending-by-cohort table beneath the report's and the trends page's cohort charts.
COHORT_REOFFENDING_COLUMNS = [
    Column("cohort", "Cohort", "text"),
    Column("group", "Group", "text"),
    Column("cohort_size", "People"),
    Column("reoffenders", "Reoffenders"),
    Column("rate", "Rate", "rate"),
    Column("ci_low", "Lower 95% limit", "rate"),
    Column("ci_high", "Upper 95% limit", "rate"),
]
