"""Zeros fixed by the rules are never cover, and "not applicable" never sits beside a hidden
term (SPEC §6)."""

from datetime import date

import pytest

from reports import disclosure
from reports.known_zeros import borough_windows, could_divert, known_zero_cells
from reports.measure import report_data
from reports.suppression import SECONDARY, SUPPRESSED, WITHHELD, suppress_report, suppressed_json
from tests.diversion.factories import pilot_borough
from tests.reports.attacker import attack, known_from_the_rules
from tests.reports.factories import HACKNEY, LEWISHAM, SOUTHWARK, meet, person

WEEK = "2026-W10"  # Monday 2 to Sunday 8 March 2026
MONDAY = date(2026, 3, 2)


def _history() -> None:
    """Southwark (comparison): 20 not offered and 4 not eligible; Lewisham (pilot) beside it."""
    n = 0
    for outcome, borough, count in (
        ("not_offered", SOUTHWARK, 20),
        ("ineligible", SOUTHWARK, 4),
        ("diverted", LEWISHAM, 9),
        ("declined", LEWISHAM, 6),
        ("ineligible", LEWISHAM, 7),
    ):
        for _ in range(count):
            n += 1
            meet(person(f"P{n:03d}"), MONDAY, outcome, ref=f"E{n:03d}", borough=borough)


def _row(shown: dict, section: str, borough: str) -> dict:
    return next(r for r in shown[section] if r["borough"] == borough)


@pytest.mark.django_db
def test_comparison_borough_zero_is_shown_not_used_as_cover(boroughs):
    _history()
    data = report_data(week=WEEK)
    southwark = _row(data, "activity", SOUTHWARK)
    assert (southwark["encounters"], southwark["diverted"], southwark["ineligible"]) == (24, 0, 4)
    windows = borough_windows([LEWISHAM, HACKNEY, SOUTHWARK])

    shown = suppress_report(data)
    row = _row(shown, "activity", SOUTHWARK)
    assert row["ineligible"] == SUPPRESSED
    # Everyone knows a comparison borough diverts nobody: a [c] there would be read as 0,
    # and not eligible as 24 - 20 = 4.
    assert (row["diverted"], row["declined"]) == (0, 0)
    assert SECONDARY in (row["encounters"], row["not_offered"])
    assert attack(shown, windows=windows) == set()
    assert suppressed_json(data)["activity"] == [
        {k: None if v == WITHHELD else v for k, v in r.items()} for r in shown["activity"]
    ]


@pytest.mark.django_db
def test_brent_like_row_built_by_hand_keeps_its_public_zeros(boroughs):
    """Week 2026-W47's Brent: encounters 24, diverted [c], declined 0, not offered 20, <5."""
    data = {
        "week": WEEK,
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "activity": [
            {"borough": LEWISHAM, "encounters": 30, "diverted": 9, "declined": 6,
             "not_offered": 0, "ineligible": 15},
            {"borough": SOUTHWARK, "encounters": 24, "diverted": 0, "declined": 0,
             "not_offered": 20, "ineligible": 4},
            {"borough": "ALL", "encounters": 54, "diverted": 9, "declined": 6,
             "not_offered": 20, "ineligible": 19},
        ],
    }  # fmt: skip
    windows = borough_windows([LEWISHAM, SOUTHWARK])
    assert known_zero_cells(data, windows) == {
        ("activity", 1, "diverted"),
        ("activity", 1, "declined"),
    }
    shown = suppress_report(data)
    assert (shown["activity"][1]["diverted"], shown["activity"][1]["declined"]) == (0, 0)
    assert shown["activity"][1]["ineligible"] == SUPPRESSED
    assert attack(shown, windows=windows) == set()


@pytest.mark.django_db
def test_pilot_outside_its_dates_has_public_zeros_and_one_not_started_has_no_referrals(boroughs):
    pilot_borough("E09000001", start=date(2026, 6, 1))  # starts after the week
    windows = borough_windows([LEWISHAM, SOUTHWARK, "E09000001"])
    assert could_divert(windows[LEWISHAM], MONDAY, date(2026, 3, 8))
    assert not could_divert(windows[SOUTHWARK], None, date(2026, 3, 8))
    assert not could_divert(windows["E09000001"], None, date(2026, 3, 8))
    referral = dict.fromkeys(
        ("referred", "attended", "completed", "did_not_attend", "withdrawn", "open"), 0
    )
    data = {
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "activity": [
            {"borough": "E09000001", "encounters": 7, "diverted": 0, "declined": 0,
             "not_offered": 5, "ineligible": 2},
        ],
        "referrals": [{"borough": "E09000001", **referral, "completion_rate": None}],
    }  # fmt: skip
    known = known_zero_cells(data, windows)
    assert ("activity", 0, "diverted") in known and ("referrals", 0, "open") in known
    assert len(known) == 2 + 6
    shown = suppress_report(data)
    assert shown["activity"][0]["ineligible"] == SUPPRESSED
    assert shown["activity"][0]["diverted"] == 0, "never cover"
    assert attack(shown, windows=windows) == set()


def test_known_cells_are_never_chosen_as_cover():
    # total = a + b + c with a primary: the cheapest cover is b (0) unless b is known.
    order = ["total", "a", "b", "c"]
    values = {"total": 13, "a": 3, "b": 0, "c": 10}
    relations = [{"total": 1, "a": -1, "b": -1, "c": -1}]
    plain = disclosure.protect(order=order, values=values, primary={"a"}, relations=relations)
    assert plain.secondary == {"b"}
    known = disclosure.protect(
        order=order, values=values, primary={"a"}, relations=relations, known={"b"}
    )
    assert known.secondary == {"c"}
    assert known.exposed == frozenset()


def test_not_applicable_completion_rate_beside_a_hidden_term_is_withheld():
    # open = referred - completed - did not attend - withdrawn: withdrawn (2) needs cover, the
    # cheapest is a 0 among completed and did not attend; "not applicable" would say both are 0.
    row = {"borough": "A", "referred": 10, "attended": 2, "completed": 0, "did_not_attend": 0,
           "withdrawn": 2, "open": 8, "completion_rate": None}  # fmt: skip
    shown = suppress_report({"referrals": [row]})
    shown_row = shown["referrals"][0]
    assert shown_row["withdrawn"] == SUPPRESSED
    assert SECONDARY in (shown_row["completed"], shown_row["did_not_attend"])
    assert shown_row["completion_rate"] == WITHHELD
    assert suppressed_json({"referrals": [row]})["referrals"][0]["completion_rate"] is None
    assert attack(shown) == set()
    # What it gave away before: both terms 0, so withdrawn = 10 - 8 = 2.
    before = {**shown, "referrals": [{**shown_row, "completion_rate": None}]}
    assert ("referrals", 0, "completed") in known_from_the_rules(before)
    assert ("referrals", 0, "withdrawn") in attack(before)


def test_not_applicable_relative_risk_beside_a_hidden_term_is_withheld():
    effects_row = {"borough": "ALL", "months": 3, "diverted_size": 40, "diverted_reoffenders": 0,
                   "comparison_size": 30, "comparison_reoffenders": 3, "risk_difference": -0.1,
                   "rd_low": -0.2, "rd_high": 0.01, "relative_risk": None, "rr_low": None,
                   "rr_high": None}  # fmt: skip
    shown = suppress_report({"effects": [effects_row]})["effects"][0]
    assert shown["comparison_reoffenders"] == SUPPRESSED
    assert all(shown[k] == WITHHELD for k in ("risk_difference", "relative_risk", "rr_high"))


@pytest.mark.django_db
def test_the_activity_chart_hides_what_the_activity_table_hides(boroughs):
    """The chart starts from the whole report as suppressed, public zeros included."""
    from reports.renderings import version_context
    from tests.reports.factories import make_version

    _history()
    version = make_version(week=WEEK, data=report_data(week=WEEK))
    context = version_context(version)
    names = {LEWISHAM: "Lewisham", SOUTHWARK: "Southwark", HACKNEY: "Hackney"}
    hidden = {
        names[r["borough"]]
        for r in context["shown"]["activity"]
        if r["borough"] in names and r["encounters"] in (SUPPRESSED, SECONDARY)
    }
    assert set(context["activity_chart"].not_plotted) == hidden
