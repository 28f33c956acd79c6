"""An attacker on a suppressed report, written apart from ``reports.suppression``/``disclosure``.

It reads only what a person reading the report sees (``suppressed_json``'s shape: a hidden count
is ``"<5"`` or ``"[c]"``, a withheld rate is null), writes down the relations SPEC §6 lists with
the shown numbers substituted, and solves them by dense Gauss-Jordan elimination over the
rationals. A hidden count is recovered when the system fixes it: after elimination its column
is a pivot whose row has no other unknown. It also recovers a hidden term from a rate shown
beside the other term.
"""

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

HIDDEN = ("<5", "[c]")

COUNTS = {
    "activity": ("encounters", "diverted", "declined", "not_offered", "ineligible"),
    "referrals": ("referred", "attended", "completed", "did_not_attend", "withdrawn", "open"),
    "reoffending": ("cohort_size", "reoffenders", "reoffences"),
    "effects": (
        "diverted_size",
        "diverted_reoffenders",
        "comparison_size",
        "comparison_reoffenders",
    ),
    "disproportionality": (
        "offers",
        "diversions",
        "completions",
        "reoffending_12m_cohort",
        "reoffending_12m_reoffenders",
    ),
}

Term = tuple[str, int, str]
Equation = list[tuple[Term, int]]  # sum of coefficient x cell == 0


def _equations(report: Mapping[str, Any]) -> list[Equation]:
    eqs: list[Equation] = []
    act = report.get("activity") or []
    for i, _ in enumerate(act):
        eqs.append(
            [(("activity", i, "encounters"), 1)]
            + [(("activity", i, f), -1) for f in COUNTS["activity"][1:]]
        )
    eqs += _all_against_boroughs(report, "activity", lambda r: ())
    for i, _ in enumerate(report.get("referrals") or []):
        eqs.append(
            [
                (("referrals", i, "open"), 1),
                (("referrals", i, "referred"), -1),
                (("referrals", i, "completed"), 1),
                (("referrals", i, "did_not_attend"), 1),
                (("referrals", i, "withdrawn"), 1),
            ]
        )
    eqs += _all_against_boroughs(report, "referrals", lambda r: ())
    eqs += _all_against_boroughs(
        report, "reoffending", lambda r: (r["cohort"], r["group"], r["months"])
    )
    eqs += _same_cohort_size(report)
    eqs += _effects_pooling(report)
    eqs += _effects_all(report)
    eqs += _dimensions_agree(report)
    return eqs


def _all_against_boroughs(report, section, key) -> list[Equation]:
    rows = report.get(section) or []
    eqs = []
    for i, row in enumerate(rows):
        if row["borough"] != "ALL":
            continue
        parts = [j for j, r in enumerate(rows) if r["borough"] != "ALL" and key(r) == key(row)]
        if not parts:
            continue
        for f in COUNTS[section]:
            eqs.append([((section, i, f), 1)] + [((section, j, f), -1) for j in parts])
    return eqs


def _same_cohort_size(report) -> list[Equation]:
    rows = report.get("reoffending") or []
    eqs = []
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            same = (a["cohort"], a["group"], a["borough"]) == (
                b["cohort"],
                b["group"],
                b["borough"],
            )
            if i < j and same:
                eqs.append(
                    [
                        (("reoffending", i, "cohort_size"), 1),
                        (("reoffending", j, "cohort_size"), -1),
                    ]
                )
    return eqs


def _effects_pooling(report) -> list[Equation]:
    rows = report.get("reoffending") or []
    eqs = []
    for e, eff in enumerate(report.get("effects") or []):
        for group in ("diverted", "comparison"):
            members = [
                j
                for j, r in enumerate(rows)
                if (r["group"], r["borough"], r["months"]) == (group, eff["borough"], eff["months"])
            ]
            for pooled, term in (("size", "cohort_size"), ("reoffenders", "reoffenders")):
                eqs.append(
                    [(("effects", e, f"{group}_{pooled}"), 1)]
                    + [(("reoffending", j, term), -1) for j in members]
                )
    return eqs


def _effects_all(report) -> list[Equation]:
    """Effects ALL = the sum of its boroughs' rows, at each N where every borough has a row."""
    covered = []
    for months in {r["months"] for r in report.get("effects") or []}:
        people = {
            r["borough"]
            for r in report.get("reoffending") or []
            if r["months"] == months and r["borough"] != "ALL"
        }
        rows = {r["borough"] for r in report.get("effects") or [] if r["months"] == months}
        if people <= rows:
            covered.append(months)
    subset = {
        **report,
        "effects": [
            r if r["months"] in covered else {**r, "borough": "-"}
            for r in report.get("effects") or []
        ],
    }
    return _all_against_boroughs(subset, "effects", lambda r: (r["months"],))


def _dimensions_agree(report) -> list[Equation]:
    rows = report.get("disproportionality") or []
    dims = sorted({r["dimension"] for r in rows})
    eqs = []
    for a, b in zip(dims, dims[1:], strict=False):
        for f in COUNTS["disproportionality"]:
            eqs.append(
                [
                    (("disproportionality", i, f), 1)
                    for i, r in enumerate(rows)
                    if r["dimension"] == a
                ]
                + [
                    (("disproportionality", i, f), -1)
                    for i, r in enumerate(rows)
                    if r["dimension"] == b
                ]
            )
    return eqs


def _solve(unknowns: list[Term], rows: list[list[Fraction]]) -> dict[Term, Fraction]:
    """Gauss-Jordan on [A | b]; return each unknown whose pivot row has no other unknown."""
    n = len(unknowns)
    pivot_row = 0
    pivots: list[tuple[int, int]] = []
    for col in range(n):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][col] != 0), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivots.append((pivot_row, col))
        pivot_row += 1
    solved = {}
    for r, col in pivots:
        if all(rows[r][c] == 0 for c in range(n) if c != col):
            solved[unknowns[col]] = rows[r][n]
    return solved


def _components(unknowns: set[Term], eqs: list[Equation]) -> list[list[int]]:
    parent = {u: u for u in unknowns}

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for eq in eqs:
        mine = [t for t, _ in eq if t in unknowns]
        for t in mine[1:]:
            parent[find(t)] = find(mine[0])
    groups: dict[Term, list[int]] = {}
    for n, eq in enumerate(eqs):
        mine = [t for t, _ in eq if t in unknowns]
        if mine:
            groups.setdefault(find(mine[0]), []).append(n)
    return list(groups.values())


def linear_attack(report: Mapping[str, Any]) -> dict[Term, Fraction]:
    """Return every hidden count the shown counts and SPEC §6's relations fix, with its value."""
    eqs = _equations(report)

    def value(term: Term):
        return report[term[0]][term[1]][term[2]]

    unknowns = {t for eq in eqs for t, _ in eq if value(t) in HIDDEN}
    recovered: dict[Term, Fraction] = {}
    for numbers in _components(unknowns, eqs):
        terms = sorted({t for n in numbers for t, _ in eqs[n] if t in unknowns})
        column = {t: i for i, t in enumerate(terms)}
        matrix = []
        for n in numbers:
            row = [Fraction(0)] * (len(terms) + 1)
            for t, c in eqs[n]:
                if t in column:
                    row[column[t]] += c
                else:
                    row[-1] -= c * value(t)
            matrix.append(row)
        recovered.update(_solve(terms, matrix))
    return recovered


def rate_attack(report: Mapping[str, Any]) -> list[Term]:
    """Return hidden counts that sit beside a shown rate made from them (recoverable from it)."""
    terms = {
        "referrals": (("completion_rate",), ("completed", "did_not_attend")),
        "reoffending": (("rate", "ci_low", "ci_high"), ("reoffenders", "cohort_size")),
        "effects": (
            ("risk_difference", "rd_low", "rd_high", "relative_risk", "rr_low", "rr_high"),
            COUNTS["effects"],
        ),
        "disproportionality": (
            ("reoffending_12m_rate",),
            ("reoffending_12m_reoffenders", "reoffending_12m_cohort"),
        ),
    }
    found = []
    for section, (rates, counts) in terms.items():
        for i, row in enumerate(report.get(section) or []):
            if any(row.get(r) is not None for r in rates):
                found += [(section, i, c) for c in counts if row.get(c) in HIDDEN]
    return found


def attack(report: Mapping[str, Any]) -> set[Term]:
    """Return every hidden count the attacker can work out, by either route."""
    return set(linear_attack(report)) | set(rate_attack(report))


# --- The trends page --------------------------------------------------------------------------

WEEK_COUNTS = ("encounters", "diverted", "declined", "completed", "did_not_attend")
WEEK_RATES = {
    "acceptance_rate": ("diverted", "declined"),
    "completion_rate": ("completed", "did_not_attend"),
}


def _known_from_the_rules(
    views: Mapping[str, list[Mapping[str, Any]]], shown: dict[tuple, Any], comparison
) -> set[tuple]:
    """Fill in hidden counts the rules give away: 0 in a comparison borough (no diversions),
    and 0 beside a rate shown as "not applicable" (nothing to divide by)."""
    known = {
        key
        for key, value in shown.items()
        if key[1] in comparison and key[2] != "encounters" and value in HIDDEN
    }
    for code, rows in views.items():
        for row in rows:
            for rate, terms in WEEK_RATES.items():
                if row.get(rate) is None:
                    known |= {(row["week"], code, f) for f in terms if row[f] in HIDDEN}
    shown.update(dict.fromkeys(known, 0))
    return known


def _read_from_rates(views: Mapping[str, list[Mapping[str, Any]]]) -> set[tuple]:
    """A hidden term beside a rate that is shown: the rate and the other term give it away."""
    found = set()
    for code, rows in views.items():
        for row in rows:
            for rate, terms in WEEK_RATES.items():
                if row.get(rate) not in (None, "withheld"):
                    found |= {(row["week"], code, f) for f in terms if row[f] in HIDDEN}
    return found


def _solve_totals(views: Mapping[str, list[Mapping[str, Any]]], shown: dict) -> set[tuple]:
    """Solve ALL = the sum of the boroughs, week by week and count by count."""
    boroughs = sorted(code for code in views if code != "ALL")
    name = {key: ("t", 0, repr(key)) for key in shown}
    value = {name[key]: v for key, v in shown.items()}
    eqs: list[Equation] = [
        [(name[(row["week"], "ALL", field)], 1)]
        + [(name[(row["week"], code, field)], -1) for code in boroughs]
        for row in views["ALL"]
        for field in WEEK_COUNTS
    ]
    unknowns = {t for eq in eqs for t, _ in eq if value[t] in HIDDEN}
    solved: dict[Term, Fraction] = {}
    for numbers in _components(unknowns, eqs):
        terms = sorted({t for n in numbers for t, _ in eqs[n] if t in unknowns})
        column = {t: i for i, t in enumerate(terms)}
        matrix = []
        for n in numbers:
            row = [Fraction(0)] * (len(terms) + 1)
            for t, c in eqs[n]:
                if t in column:
                    row[column[t]] += c
                else:
                    row[-1] -= c * value[t]
            matrix.append(row)
        solved.update(_solve(terms, matrix))
    return {key for key in shown if name[key] in solved}


def trends_weekly_attack(
    views: Mapping[str, list[Mapping[str, Any]]], *, comparison: tuple[str, ...] = ()
) -> set[tuple]:
    """Return every hidden weekly count the trends page's views give away, as (week, borough,
    count).

    ``views`` maps ``ALL`` and each borough to the weekly rows its view shows. The attacker
    assumes that ``ALL`` is exactly the sum of the boroughs it can open (each week, each count),
    knows from the rules that a ``comparison`` borough diverts nobody (so its diverted,
    declined, completed and did-not-attend are 0), recovers a hidden term from a rate shown
    beside the other one, and reads "not applicable" beside hidden terms as their sum being 0.
    """
    shown = {
        (row["week"], code, field): row[field]
        for code, rows in views.items()
        for row in rows
        for field in WEEK_COUNTS
    }
    known = _known_from_the_rules(views, shown, comparison)
    return known | _solve_totals(views, shown) | _read_from_rates(views)
