"""Nothing hidden in a suppressed report can be worked out from what is shown (SPEC §6).

Each test runs the independent attacker (``tests/reports/attacker.py``) on what people see.
Where useful it first shows that primary suppression alone gives the number away.
"""

import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from reports import disclosure
from reports.suppression import (
    SECONDARY,
    SUPPRESSED,
    suppress_count,
    suppress_report,
    suppressed_json,
)
from tests.reports.attacker import attack, linear_attack

PRIMARY_ONLY_COUNTS = {
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


def primary_only(data: dict) -> dict:
    """What the report showed before secondary suppression: 1 to 4 hidden, nothing else."""
    out = dict(data)
    for section, fields in PRIMARY_ONLY_COUNTS.items():
        out[section] = [
            {k: suppress_count(v) if k in fields else v for k, v in row.items()}
            for row in data.get(section, [])
        ]
    return out


def activity(rows: dict[str, tuple[int, int, int, int]]) -> list[dict]:
    """Activity rows from (diverted, declined, not offered, ineligible), with totals and ALL."""
    keys = ("diverted", "declined", "not_offered", "ineligible")
    out = [
        {"borough": b, "encounters": sum(p), **dict(zip(keys, p, strict=True))}
        for b, p in rows.items()
    ]
    out.append({"borough": "ALL", **{k: sum(r[k] for r in out) for k in ("encounters", *keys)}})
    return out


def reoffending_row(cohort, group, borough, months, size, reoffenders, reoffences=None) -> dict:
    rate = round(reoffenders / size, 4)
    return {
        "cohort": cohort,
        "group": group,
        "borough": borough,
        "months": months,
        "cohort_size": size,
        "reoffenders": reoffenders,
        "reoffences": reoffenders if reoffences is None else reoffences,
        "rate": rate,
        "ci_low": max(rate - 0.1, 0.0),
        "ci_high": min(rate + 0.1, 1.0),
    }


def with_all(rows: list[dict]) -> list[dict]:
    """Add the ALL row of every (cohort, group, months) in ``rows``."""
    keys = sorted({(r["cohort"], r["group"], r["months"]) for r in rows})
    totals = []
    for cohort, group, months in keys:
        parts = [
            r for r in rows if (r["cohort"], r["group"], r["months"]) == (cohort, group, months)
        ]
        size = sum(r["cohort_size"] for r in parts)
        reoffenders = sum(r["reoffenders"] for r in parts)
        row = reoffending_row(cohort, group, "ALL", months, size, reoffenders)
        row["reoffences"] = sum(r["reoffences"] for r in parts)
        totals.append(row)
    return rows + totals


def effects(reoffending: list[dict]) -> list[dict]:
    """Pool the cohorts into one effects row per borough and N where both groups have people."""
    out = []
    for borough, months in sorted({(r["borough"], r["months"]) for r in reoffending}):
        pooled = {}
        for group in ("diverted", "comparison"):
            these = [
                r
                for r in reoffending
                if (r["borough"], r["months"], r["group"]) == (borough, months, group)
            ]
            pooled[f"{group}_size"] = sum(r["cohort_size"] for r in these)
            pooled[f"{group}_reoffenders"] = sum(r["reoffenders"] for r in these)
        if pooled["diverted_size"] and pooled["comparison_size"]:
            estimates = dict.fromkeys(
                ("risk_difference", "rd_low", "rd_high", "relative_risk", "rr_low", "rr_high"), 0.1
            )
            out.append({"borough": borough, "months": months, **pooled, **estimates})
    return out


def test_brent_example_primary_only_gives_not_eligible_away_and_secondary_does_not():
    data = {
        "activity": activity(
            {"Brent": (0, 0, 9, 1), "Camden": (10, 6, 7, 8), "Ealing": (12, 5, 9, 6)}
        )
    }
    brent = ("activity", 0, "ineligible")
    assert linear_attack(primary_only(data))[brent] == 1
    shown = suppress_report(data)
    assert shown["activity"][0]["ineligible"] == SUPPRESSED
    assert attack(shown) == set()


def test_a_borough_is_not_all_minus_the_other_boroughs():
    rows = [
        reoffending_row("2025-03", "diverted", "A", 3, 20, 3),
        reoffending_row("2025-03", "diverted", "B", 3, 30, 12),
        reoffending_row("2025-03", "diverted", "C", 3, 25, 9),
    ]
    data = {"reoffending": with_all(rows)}
    assert linear_attack(primary_only(data))[("reoffending", 0, "reoffenders")] == 3
    shown = suppress_report(data)
    assert attack(shown) == set()
    assert shown["reoffending"][0]["rate"] == "withheld", "a rate beside a hidden term is withheld"


def test_a_cohort_size_hidden_at_one_n_is_hidden_at_every_n():
    rows = [
        reoffending_row("2025-03", "diverted", borough, months, size, reoffenders)
        for months in (3, 6, 12)
        for borough, size, reoffenders in (("A", 3, 0), ("B", 40, 10), ("C", 50, 12))
    ]
    data = {"reoffending": with_all(rows)}
    shown = suppress_report(data)
    assert attack(shown) == set()
    by_cohort: dict[tuple, set[bool]] = {}
    for row in shown["reoffending"]:
        hidden = row["cohort_size"] in (SUPPRESSED, SECONDARY)
        by_cohort.setdefault((row["cohort"], row["group"], row["borough"]), set()).add(hidden)
    assert all(len(flags) == 1 for flags in by_cohort.values()), by_cohort
    assert any(flags == {True} for key, flags in by_cohort.items() if key[2] != "A")


def test_effects_pooled_counts_do_not_give_a_cohort_away():
    rows = [
        reoffending_row("2025-03", "diverted", "A", 3, 3, 0),
        reoffending_row("2025-04", "diverted", "A", 3, 20, 6),
        reoffending_row("2025-03", "comparison", "A", 3, 30, 9),
        reoffending_row("2025-04", "comparison", "A", 3, 35, 10),
        reoffending_row("2025-03", "diverted", "B", 3, 25, 7),
        reoffending_row("2025-04", "diverted", "B", 3, 22, 8),
        reoffending_row("2025-03", "comparison", "B", 3, 40, 11),
        reoffending_row("2025-04", "comparison", "B", 3, 45, 12),
    ]
    data = {"reoffending": with_all(rows)}
    data["effects"] = effects(data["reoffending"])
    before = linear_attack(primary_only(data))
    assert before[("reoffending", 0, "cohort_size")] == 3, "23 pooled minus 20 shown"
    shown = suppress_report(data)
    assert attack(shown) == set()
    hidden = (SUPPRESSED, SECONDARY)
    borough_a = next(r for r in shown["effects"] if r["borough"] == "A")
    assert borough_a["diverted_size"] in hidden or shown["reoffending"][1]["cohort_size"] in hidden
    for row in shown["effects"]:
        withheld = any(row[k] in hidden for k in PRIMARY_ONLY_COUNTS["effects"])
        assert (row["risk_difference"] is None) is withheld
        assert (row["rr_high"] is None) is withheld


def test_audit_solves_several_relations_at_once_where_no_one_has_a_single_unknown():
    # x + y = 7, y + z = 9, x + z = 8: every relation has two unknowns, yet x = 3, y = 4, z = 5.
    x, y, z, a, b, c = range(6)
    relations = [{x: 1, y: 1, a: -1}, {y: 1, z: 1, b: -1}, {x: 1, z: 1, c: -1}]
    single_unknown = [r for r in relations if len(r.keys() & {x, y, z}) == 1]
    assert single_unknown == []
    assert disclosure.audit(relations, {x, y, z}) == [x, y, z]
    hidden, exposed = disclosure.protect_numbered(
        costs=[3, 4, 5, 7, 9, 8], primary={x, y, z}, relations=relations
    )
    assert exposed == set() and hidden > {x, y, z}
    assert disclosure.audit(relations, hidden) == []


def test_report_case_needing_a_multi_equation_solve_is_caught():
    # Hidden: a rectangle in Brent and Camden's diverted and declined, another in Ealing and ALL's
    # not offered and not eligible, and Brent's not offered joining them. Every row and column
    # then has two or three unknowns, yet adding Brent's and Camden's rows and subtracting the
    # diverted and declined columns leaves Brent's not offered alone.
    data = {
        "activity": activity(
            {"Brent": (6, 7, 8, 9), "Camden": (10, 11, 12, 13), "Ealing": (14, 15, 16, 17)}
        )
    }
    hide = [
        (0, "diverted"),
        (0, "declined"),
        (1, "diverted"),
        (1, "declined"),
        (2, "not_offered"),
        (2, "ineligible"),
        (3, "not_offered"),
        (3, "ineligible"),
        (0, "not_offered"),
    ]
    shown = {"activity": [dict(r) for r in data["activity"]]}
    for i, field in hide:
        shown["activity"][i][field] = SECONDARY
    assert single_unknown_attack(shown) == {}
    assert linear_attack(shown) == {("activity", 0, "not_offered"): 8}
    assert attack(suppress_report(data)) == set()


def single_unknown_attack(report: dict) -> dict:
    """Solve only relations with one unknown, repeatedly: the attack the exact audit goes past."""
    keys = ("encounters", "diverted", "declined", "not_offered", "ineligible")
    rows = [dict(r) for r in report["activity"]]
    relations = [[((i, k), 1 if k == "encounters" else -1) for k in keys] for i in range(len(rows))]
    relations += [
        [((i, k), 1 if r["borough"] == "ALL" else -1) for i, r in enumerate(rows)] for k in keys
    ]
    found = {}
    progress = True
    while progress:
        progress = False
        for relation in relations:
            unknown = [(cell, c) for cell, c in relation if rows[cell[0]][cell[1]] == SECONDARY]
            if len(unknown) == 1:
                (i, k), c = unknown[0]
                known = sum(c2 * rows[j][f] for (j, f), c2 in relation if (j, f) != (i, k))
                rows[i][k] = found[("activity", i, k)] = -known // c
                progress = True
    return found


def test_the_same_report_in_another_order_hides_the_same_cells():
    rows = {"Brent": (0, 0, 9, 1), "Camden": (10, 2, 7, 8), "Ealing": (12, 5, 3, 6)}
    data = {"activity": activity(rows)}
    shuffled = {"activity": list(data["activity"])}
    random.Random(3).shuffle(shuffled["activity"])
    first = {r["borough"]: r for r in suppressed_json(data)["activity"]}
    second = {r["borough"]: r for r in suppressed_json(shuffled)["activity"]}
    assert first == second
    assert suppressed_json(data) == suppressed_json(data)


# --- Property-based: random small reports ---------------------------------------------------

small = st.integers(min_value=0, max_value=12)


# A borough's role and pilot dates against week 2026-W10 (2 to 8 March 2026): piloting, a
# comparison borough, a pilot not started yet, and a pilot that ended before the week.
WINDOWS = {
    "piloting": ("pilot", date(2025, 1, 1), None),
    "comparison": ("comparison", None, None),
    "not started": ("pilot", date(2026, 6, 1), None),
    "ended": ("pilot", date(2025, 1, 1), date(2026, 2, 1)),
}


@st.composite
def reports(draw) -> dict:
    boroughs = draw(st.lists(st.sampled_from("ABCD"), min_size=1, max_size=3, unique=True))
    windows = {b: WINDOWS[draw(st.sampled_from(sorted(WINDOWS)))] for b in boroughs}
    parts = {}
    for b in boroughs:
        diverted, declined, not_offered, ineligible = draw(st.tuples(small, small, small, small))
        if windows[b] != WINDOWS["piloting"]:  # could not divert this week
            diverted, declined = 0, 0
        parts[b] = (diverted, declined, not_offered, ineligible)
    data = {
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "windows": windows,
        "activity": activity(parts),
    }
    referrals = []
    for b in boroughs:
        completed, dna, withdrawn, still_open = (draw(small) for _ in range(4))
        attended = completed + draw(small)
        if windows[b] in (WINDOWS["comparison"], WINDOWS["not started"]):  # no referrals ever
            completed, dna, withdrawn, still_open, attended = 0, 0, 0, 0, 0
        referred = completed + dna + withdrawn + still_open
        referrals.append(
            {
                "borough": b,
                "referred": referred,
                "attended": attended,
                "completed": completed,
                "did_not_attend": dna,
                "withdrawn": withdrawn,
                "open": still_open,
                "completion_rate": round(completed / (completed + dna), 4)
                if completed + dna
                else None,
            }
        )
    total = {k: sum(r[k] for r in referrals) for k in PRIMARY_ONLY_COUNTS["referrals"]}
    denominator = total["completed"] + total["did_not_attend"]
    rate = round(total["completed"] / denominator, 4) if denominator else None
    data["referrals"] = [*referrals, {"borough": "ALL", **total, "completion_rate": rate}]
    rows = []
    for cohort in draw(st.lists(st.sampled_from(["2025-01", "2025-02"]), min_size=1, unique=True)):
        months = draw(st.lists(st.sampled_from([3, 6, 12]), min_size=1, unique=True))
        for group in ("diverted", "comparison"):
            for b in boroughs:
                size = draw(small)
                for n in sorted(months):
                    if size:
                        reoffenders = draw(st.integers(min_value=0, max_value=size))
                        rows.append(
                            reoffending_row(
                                cohort, group, b, n, size, reoffenders, reoffenders + draw(small)
                            )
                        )
    data["reoffending"] = with_all(rows)
    data["effects"] = effects(data["reoffending"])
    data["disproportionality"] = draw(disproportionality())
    return data


@st.composite
def disproportionality(draw) -> list[dict]:
    """Two dimensions splitting the same people, so their groups add to the same totals."""
    fields = PRIMARY_ONLY_COUNTS["disproportionality"]
    first = [{f: draw(small) for f in fields} for _ in range(draw(st.integers(2, 3)))]
    second = [dict.fromkeys(fields, 0) for _ in range(draw(st.integers(2, 3)))]
    for field in fields:
        for _ in range(sum(g[field] for g in first)):
            second[draw(st.integers(0, len(second) - 1))][field] += 1
    rows = []
    for dimension, groups in (("gender", first), ("age_band", second)):
        for n, counts in enumerate(groups):
            rate = (
                counts["reoffending_12m_reoffenders"] / counts["reoffending_12m_cohort"]
                if counts["reoffending_12m_cohort"]
                else None
            )
            rows.append(
                {"dimension": dimension, "group": f"g{n}", **counts, "reoffending_12m_rate": rate}
            )
    return rows


def cells(data: dict):
    for section, fields in PRIMARY_ONLY_COUNTS.items():
        for i, row in enumerate(data.get(section, [])):
            for field in fields:
                yield (section, i, field), row[field]


@settings(max_examples=150, deadline=None)
@given(reports())
def test_random_reports_disclose_nothing_and_change_no_shown_value(data):
    windows = data.pop("windows")
    shown = suppress_report(data, windows=windows)
    assert attack(shown, windows=windows) == set()
    for (section, i, field), value in cells(data):
        out = shown[section][i][field]
        if 1 <= value <= 4:
            assert out == SUPPRESSED
        else:
            assert out in (value, SECONDARY)
