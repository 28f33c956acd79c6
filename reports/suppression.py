"""Small-number suppression for the human-facing renderings (SPEC §6).

Primary suppression shows any count from 1 to 4 as ``<5`` (0 stays 0, since "nobody" discloses
no one). Secondary suppression then hides further counts, shown as ``[c]``, until no hidden count
can be worked out exactly from what is shown through the relations SPEC §6 lists: a row's parts
and its total, ``ALL`` against its boroughs, a cohort's size at another N, an ``effects`` row's
pooled counts against its cohorts, and (for disproportionality) each dimension's groups adding up
to the same total. The exact audit is ``reports.disclosure``. A rate, interval or estimate is
withheld whenever a count it is made from is hidden, so a shown rate never sits beside a hidden
term.

The JSON rendering is the internal data product and never passes through here, except for
``build_report --format json --suppressed`` (``suppressed_json``).

``suppress_report`` returns new dicts whose values are ready to show: ``int`` for a count that
may be shown, ``"<5"`` or ``"[c]"`` for a hidden count, ``float`` for a rate that may be shown,
``WITHHELD`` for a withheld rate and ``None`` for a rate that does not exist (nothing to divide
by). The row functions below apply primary suppression to one row alone.
"""

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from reports import disclosure
from reports.known_zeros import Window, borough_windows, candidate_boroughs, known_zero_cells

SUPPRESSED = "<5"
SECONDARY = "[c]"
WITHHELD = "withheld"
THRESHOLD = 5

SUPPRESSION_NOTE = (
    "To protect the people counted, numbers from 1 to 4 are shown as <5. Some other numbers "
    "are shown as [c] so that a hidden number cannot be worked out from the totals around it; "
    "a [c] number may be 0 or large. A rate or estimate made from a hidden number is withheld "
    "with its confidence interval."
)

ACTIVITY_COUNTS = ("encounters", "diverted", "declined", "not_offered", "ineligible")
REFERRAL_COUNTS = ("referred", "attended", "completed", "did_not_attend", "withdrawn", "open")
REOFFENDING_COUNTS = ("cohort_size", "reoffenders", "reoffences")
DISPROPORTIONALITY_COUNTS = (
    "offers",
    "diversions",
    "completions",
    "reoffending_12m_cohort",
    "reoffending_12m_reoffenders",
)
EFFECT_COUNTS = (
    "diverted_size",
    "diverted_reoffenders",
    "comparison_size",
    "comparison_reoffenders",
)
EFFECT_ESTIMATES = ("risk_difference", "rd_low", "rd_high", "relative_risk", "rr_low", "rr_high")

Cell = int | float | str | None


def is_suppressed(count: int | str | None) -> bool:
    """Say whether a count is small enough (1 to 4) to identify someone."""
    return isinstance(count, int) and 0 < count < THRESHOLD


def is_hidden(value: Any) -> bool:
    """Say whether a value is hidden: a count from 1 to 4, or already shown as ``<5``/``[c]``."""
    return is_suppressed(value) or value in (SUPPRESSED, SECONDARY)


def suppress_count(count: int | None) -> int | str | None:
    """Return the count to show: ``<5`` for 1 to 4, the count itself otherwise."""
    return SUPPRESSED if is_suppressed(count) else count


def rate_withheld(*, numerator: int | str | None, denominator: int | str | None) -> bool:
    """Say whether a rate must be withheld because a count it is made from is hidden."""
    return is_hidden(numerator) or is_hidden(denominator)


def suppress_rate(
    rate: float | None, *, numerator: int | str | None, denominator: int | str | None
) -> float | str | None:
    """Return the rate to show: ``WITHHELD`` when its numerator or denominator is suppressed."""
    if rate is None:
        return None
    return WITHHELD if rate_withheld(numerator=numerator, denominator=denominator) else rate


def _counts(row: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    out = dict(row)
    for key in keys:
        if key in out:
            out[key] = suppress_count(out[key])
    return out


def suppress_activity_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``activity`` row."""
    return _counts(row, ACTIVITY_COUNTS)


def suppress_reason_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``ineligibility_reasons`` row."""
    return _counts(row, ("count",))


def suppress_referral_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``referrals`` row; its rate is completed / (completed + did not attend)."""
    out = _counts(row, REFERRAL_COUNTS)
    completed, missed = row.get("completed") or 0, row.get("did_not_attend") or 0
    hidden = is_hidden(completed) or is_hidden(missed)
    denominator = SUPPRESSED if hidden else completed + missed
    out["completion_rate"] = suppress_rate(
        row.get("completion_rate"), numerator=completed, denominator=denominator
    )
    return out


def suppress_reoffending_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``reoffending`` row; the interval goes with the rate."""
    out = _counts(row, REOFFENDING_COUNTS)
    withheld = rate_withheld(numerator=row.get("reoffenders"), denominator=row.get("cohort_size"))
    for key in ("rate", "ci_low", "ci_high"):
        value = row.get(key)
        out[key] = WITHHELD if withheld and value is not None else value
    return out


def suppress_effects_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``effects`` row alone; its six estimates go when any of its counts is hidden."""
    out = _counts(row, EFFECT_COUNTS)
    if any(is_hidden(row.get(key)) for key in EFFECT_COUNTS):
        out.update({key: WITHHELD for key in EFFECT_ESTIMATES if out.get(key) is not None})
    return out


def suppress_disproportionality_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one disproportionality row; the 12-month rate is reoffenders / cohort."""
    out = _counts(row, DISPROPORTIONALITY_COUNTS)
    out["reoffending_12m_rate"] = suppress_rate(
        row.get("reoffending_12m_rate"),
        numerator=row.get("reoffending_12m_reoffenders"),
        denominator=row.get("reoffending_12m_cohort"),
    )
    return out


# --- Whole-report suppression -----------------------------------------------------------------

ALL = "ALL"

SECTION_COUNTS: dict[str, tuple[str, ...]] = {
    "activity": ACTIVITY_COUNTS,
    "ineligibility_reasons": ("count",),
    "referrals": REFERRAL_COUNTS,
    "reoffending": REOFFENDING_COUNTS,
    "effects": EFFECT_COUNTS,
    "disproportionality": DISPROPORTIONALITY_COUNTS,
}
# Each rate (with its interval) and the counts it is made from: hidden term, withheld rate.
SECTION_RATES: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "referrals": ((("completion_rate",), ("completed", "did_not_attend")),),
    "reoffending": ((("rate", "ci_low", "ci_high"), ("reoffenders", "cohort_size")),),
    "effects": ((EFFECT_ESTIMATES, EFFECT_COUNTS),),
    "disproportionality": (
        (("reoffending_12m_rate",), ("reoffending_12m_reoffenders", "reoffending_12m_cohort")),
    ),
}
# Fields that name a row, in the order rows are sorted for a stable tie-break.
ROW_NAMES = ("dimension", "reason", "months", "cohort", "group", "borough")

CellKey = tuple[str, int, str]  # (section, position in the section's list, field)
Relation = dict[CellKey, int]


def _rows(data: Mapping[str, Any], section: str) -> list[Mapping[str, Any]]:
    return list(data.get(section) or [])


def _row_name(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(name, "")) for name in ROW_NAMES)


def report_cells(data: Mapping[str, Any]) -> list[CellKey]:
    """List every count cell of the report in a stable order: section, row names, field."""
    cells: list[tuple[tuple, CellKey]] = []
    for s, (section, fields) in enumerate(SECTION_COUNTS.items()):
        for i, row in enumerate(_rows(data, section)):
            for f, field in enumerate(fields):
                if isinstance(row.get(field), int):
                    cells.append(((s, _row_name(row), i, f), (section, i, field)))
    return [key for _, key in sorted(cells)]


def _total_relations(
    data: Mapping[str, Any], section: str, within: tuple[str, ...]
) -> list[Relation]:
    """``ALL`` minus its boroughs, per count, among rows alike in ``within``."""
    groups: dict[tuple, dict[str, list[int]]] = {}
    for i, row in enumerate(_rows(data, section)):
        group = groups.setdefault(tuple(row.get(k) for k in within), {"all": [], "parts": []})
        group["all" if row.get("borough") == ALL else "parts"].append(i)
    relations = []
    for group in groups.values():
        # ALL with no borough rows beside it is no sum of anything shown.
        for total in group["all"] if group["parts"] else ():
            for field in SECTION_COUNTS[section]:
                relation = {(section, total, field): 1}
                relation.update({(section, i, field): -1 for i in group["parts"]})
                relations.append(relation)
    return relations


def _row_relations(
    data: Mapping[str, Any], section: str, total: str, parts: Mapping[str, int]
) -> list[Relation]:
    """A row's total against its parts: total = sum of coefficient x part."""
    return [
        {(section, i, total): 1, **{(section, i, k): -c for k, c in parts.items()}}
        for i, _ in enumerate(_rows(data, section))
    ]


def _cohort_size_relations(data: Mapping[str, Any]) -> list[Relation]:
    """The same cohort, group and borough has one size at every N."""
    by_cohort: dict[tuple, list[tuple[int, int]]] = {}
    for i, row in enumerate(_rows(data, "reoffending")):
        key = (row.get("cohort"), row.get("group"), row.get("borough"))
        by_cohort.setdefault(key, []).append((int(row.get("months") or 0), i))
    relations = []
    for rows in by_cohort.values():
        ordered = [i for _, i in sorted(rows)]
        for a, b in zip(ordered, ordered[1:], strict=False):
            relations.append(
                {("reoffending", a, "cohort_size"): 1, ("reoffending", b, "cohort_size"): -1}
            )
    return relations


def _effects_relations(data: Mapping[str, Any]) -> list[Relation]:
    """An effects row's pooled counts are the sums of its cohorts' rows at the same N."""
    cohorts: dict[tuple, list[int]] = {}
    for i, row in enumerate(_rows(data, "reoffending")):
        key = (row.get("group"), row.get("borough"), row.get("months"))
        cohorts.setdefault(key, []).append(i)
    pooled = (
        ("diverted", "diverted_size", "cohort_size"),
        ("diverted", "diverted_reoffenders", "reoffenders"),
        ("comparison", "comparison_size", "cohort_size"),
        ("comparison", "comparison_reoffenders", "reoffenders"),
    )
    relations = []
    for e, row in enumerate(_rows(data, "effects")):
        for group, field, term in pooled:
            members = cohorts.get((group, row.get("borough"), row.get("months")), [])
            relation = {("effects", e, field): 1}
            relation.update({("reoffending", i, term): -1 for i in members})
            relations.append(relation)
    return relations


def _disproportionality_relations(data: Mapping[str, Any]) -> list[Relation]:
    """Every dimension splits the same people, so each dimension's groups add to one total."""
    by_dimension: dict[str, list[int]] = {}
    for i, row in enumerate(_rows(data, "disproportionality")):
        by_dimension.setdefault(str(row.get("dimension")), []).append(i)
    dimensions = [by_dimension[d] for d in sorted(by_dimension)]
    relations = []
    for other in dimensions[1:]:
        for field in DISPROPORTIONALITY_COUNTS:
            relation = {("disproportionality", i, field): 1 for i in dimensions[0]}
            relation.update({("disproportionality", i, field): -1 for i in other})
            relations.append(relation)
    return relations


def report_relations(data: Mapping[str, Any]) -> list[Relation]:
    """Return every linear relation SPEC §6 names among the report's counts (each sums to 0)."""
    activity_parts = dict.fromkeys(ACTIVITY_COUNTS[1:], 1)
    referral_parts = {"referred": 1, "completed": -1, "did_not_attend": -1, "withdrawn": -1}
    return [
        *_row_relations(data, "activity", "encounters", activity_parts),
        *_total_relations(data, "activity", ()),
        *_row_relations(data, "referrals", "open", referral_parts),
        *_total_relations(data, "referrals", ()),
        *_total_relations(data, "reoffending", ("cohort", "group", "months")),
        *_cohort_size_relations(data),
        # Effects ALL = the sum of its boroughs' effects rows follows from these two whenever it
        # holds, and is false when a borough has people in one group only (so has no row).
        *_effects_relations(data),
        *_disproportionality_relations(data),
    ]


def _known(relation: Relation, values: Mapping[CellKey, int]) -> Relation:
    # A count that is missing (None) is not a cell: the relation is kept over the cells there are.
    return {key: c for key, c in relation.items() if key in values}


def hidden_cells(
    data: Mapping[str, Any], *, windows: Mapping[str, Window] | None = None
) -> dict[CellKey, str]:
    """Return each hidden count cell with its marker: ``<5`` (primary) or ``[c]`` (secondary).

    ``windows`` gives the boroughs' roles and pilot dates, to know which zeros the rules fix;
    by default they are read from the database (only for boroughs with such a 0). The answer
    for the same figures is kept for a while, since one page shows several views of one report
    (tables, charts) and each asks.
    """
    if windows is None:
        windows = borough_windows(candidate_boroughs(data))
    known = sorted(known_zero_cells(data, windows))
    return dict(_hidden_cells(json.dumps(data, sort_keys=True, default=str), json.dumps(known)))


@functools.lru_cache(maxsize=16)
def _hidden_cells(canonical: str, known_cells: str) -> tuple[tuple[CellKey, str], ...]:
    data = json.loads(canonical)
    known: set[CellKey] = {(s, int(i), f) for s, i, f in json.loads(known_cells)}
    order = report_cells(data)
    values = {key: int(data[key[0]][key[1]][key[2]]) for key in order}
    primary = {key for key, value in values.items() if is_suppressed(value)}
    relations = [_known(r, values) for r in report_relations(data)]
    protection = disclosure.protect(
        order=order, values=values, primary=primary, relations=relations, known=known
    )
    return tuple(
        (key, SUPPRESSED if key in primary else SECONDARY)
        for key in order
        if key in protection.hidden
    )


def _shown_row(
    section: str, i: int, row: Mapping[str, Any], hidden: Mapping[CellKey, str]
) -> dict[str, Any]:
    out = dict(row)
    for field in SECTION_COUNTS.get(section, ()):
        if (section, i, field) in hidden:
            out[field] = hidden[(section, i, field)]
    for rates, terms in SECTION_RATES.get(section, ()):
        # Even "not applicable" is withheld: it would say that the hidden terms make 0.
        if any((section, i, term) in hidden for term in terms):
            out.update(dict.fromkeys(rates, WITHHELD))
    return out


def suppress_report(
    data: Mapping[str, Any], *, windows: Mapping[str, Window] | None = None
) -> dict[str, Any]:
    """Return a copy of the report with primary and secondary suppression applied.

    Every section present (``activity``, ``ineligibility_reasons``, ``referrals``,
    ``reoffending``, ``effects``, ``disproportionality``) is suppressed; rows keep their order.
    ``windows`` is as for ``hidden_cells``.
    """
    hidden = hidden_cells(data, windows=windows)
    out = dict(data)
    for section in SECTION_COUNTS:
        if section in data:
            out[section] = [
                _shown_row(section, i, row, hidden) for i, row in enumerate(_rows(data, section))
            ]
    return out


def suppressed_json(
    data: Mapping[str, Any], *, windows: Mapping[str, Window] | None = None
) -> dict[str, Any]:
    """Return the report as every human rendering sees it, in the SPEC §6 JSON shape.

    A hidden count is the string ``<5`` or ``[c]``; a withheld rate or interval is null.
    """
    shown = suppress_report(data, windows=windows)
    for section in SECTION_RATES:
        for row in shown.get(section) or []:
            for key, value in row.items():
                if value == WITHHELD:
                    row[key] = None
    return shown


def suppress_disproportionality(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Suppress the disproportionality rows together (primary, then secondary)."""
    return suppress_report({"disproportionality": list(rows)})["disproportionality"]
