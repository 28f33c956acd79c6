"""The weekly report's figures on small hand-built histories, with exact expected numbers."""

from datetime import date

import pytest
from django.db import connection

from diversion.models import Reoffence
from diversion.services import (
    referral_outcome_record,
)
from reports.measure import (
    disproportionality,
    last_reportable_cohort,
    report_data,
    wilson_interval,
)
from tests.reports.factories import HACKNEY, LEWISHAM, SOUTHWARK, meet, person

# The `boroughs` fixture (tests/reports/conftest.py) makes these pilot, pilot and comparison.


def reoffend(who, day: date) -> Reoffence:
    return Reoffence.objects.create(
        person=who, offence_date=day, offence_type="possession", source="officer"
    )


def find(data: dict, *, cohort: str, group: str, borough: str, months: int) -> dict | None:
    rows = [
        r
        for r in data["reoffending"]
        if (r["cohort"], r["group"], r["borough"], r["months"]) == (cohort, group, borough, months)
    ]
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_report_has_exactly_the_spec_keys(boroughs):
    data = report_data(week="2024-W03")
    assert list(data) == [
        "week",
        "period_start",
        "period_end",
        "activity",
        "ineligibility_reasons",
        "referrals",
        "reoffending",
        "effects",
    ]
    assert (data["week"], data["period_start"], data["period_end"]) == (
        "2024-W03",
        "2024-01-15",
        "2024-01-21",
    )


def test_wilson_interval_matches_hand_computed_values():
    """5 of 40 gives 0.0546 to 0.2611 as in SPEC §6; the bounds stay within 0 and 1."""
    assert wilson_interval(5, 40) == (0.0546, 0.2611)
    assert wilson_interval(3, 5) == (0.2307, 0.8824)
    assert wilson_interval(0, 10) == (0.0, 0.2775)
    assert wilson_interval(10, 10) == (0.7225, 1.0)


def test_reoffending_window_includes_index_plus_n_months_but_not_the_day_after(boroughs):
    """An event exactly N months after the index counts; the next day, or the index day, not."""
    index = date(2024, 1, 15)
    p1, p2, p3, p4, p5 = (person(f"P{i}") for i in range(1, 6))
    for p in (p1, p2, p3, p4, p5):
        meet(p, index, "diverted")
    reoffend(p1, date(2024, 4, 15))  # index + 3 months exactly
    meet(p1, date(2024, 6, 1), "ineligible")  # a later encounter of any decision is an event
    reoffend(p2, date(2024, 4, 16))  # a day after the 3-month window
    reoffend(p3, index)  # on the index date: never an event
    meet(p3, index, "ineligible")
    reoffend(p4, date(2025, 1, 15))  # index + 12 months exactly
    reoffend(p5, date(2025, 1, 16))  # a day too late

    data = report_data(week="2025-W06")  # 3 to 9 February 2025: all of 2024-01 reportable

    expected = {3: (1, 1), 6: (2, 3), 12: (3, 4)}
    for months, (reoffenders, reoffences) in expected.items():
        for borough in (LEWISHAM, "ALL"):
            row = find(data, cohort="2024-01", group="diverted", borough=borough, months=months)
            assert row is not None
            assert (row["cohort_size"], row["reoffenders"], row["reoffences"]) == (
                5,
                reoffenders,
                reoffences,
            )
    twelve = find(data, cohort="2024-01", group="diverted", borough="ALL", months=12)
    assert (twelve["rate"], twelve["ci_low"], twelve["ci_high"]) == (0.6, 0.2307, 0.8824)
    assert find(data, cohort="2024-01", group="comparison", borough="ALL", months=3) is None


def test_reoffending_window_clamps_to_the_end_of_february(boroughs):
    """31 August + 6 months is 29 February in a leap year and 28 February otherwise."""
    q1, q2, q3, q4 = (person(f"Q{i}") for i in range(1, 5))
    meet(q1, date(2023, 8, 31), "diverted")
    meet(q2, date(2023, 8, 31), "diverted")
    meet(q3, date(2022, 8, 31), "diverted")
    meet(q4, date(2022, 8, 31), "diverted")
    reoffend(q1, date(2024, 2, 29))
    reoffend(q2, date(2024, 3, 1))
    reoffend(q3, date(2023, 2, 28))
    reoffend(q4, date(2023, 3, 1))

    data = report_data(week="2024-W36")  # ends 8 September 2024

    for cohort in ("2023-08", "2022-08"):
        six = find(data, cohort=cohort, group="diverted", borough="ALL", months=6)
        twelve = find(data, cohort=cohort, group="diverted", borough="ALL", months=12)
        assert (six["cohort_size"], six["reoffenders"]) == (2, 1)
        assert (twelve["cohort_size"], twelve["reoffenders"]) == (2, 2)


def test_last_reportable_cohort_needs_every_window_closed_by_the_period_end():
    """Cohort 2024-03 at 3 months closes on 30 June 2024: reportable then, not a day before."""
    # Month keys are year * 12 + month: 24291 is cohort 2024-03, 24290 is 2024-02, and so on.
    assert last_reportable_cohort(date(2024, 6, 30), 3) == 24291  # 2024-03
    assert last_reportable_cohort(date(2024, 6, 29), 3) == 24290  # 2024-02
    # 30 April + 1 month is 30 May, so April's 1-month windows close on 30 May.
    assert last_reportable_cohort(date(2024, 5, 30), 1) == 24292  # 2024-04
    assert last_reportable_cohort(date(2024, 5, 29), 1) == 24291  # 2024-03


def test_cohorts_are_reported_only_once_their_windows_have_closed(boroughs):
    meet(person("M1"), date(2024, 3, 10), "diverted")
    meet(person("A1"), date(2024, 4, 10), "diverted")

    ending_30_june = report_data(week="2024-W26")
    ending_23_june = report_data(week="2024-W25")

    assert {(r["cohort"], r["months"]) for r in ending_30_june["reoffending"]} == {("2024-03", 3)}
    assert ending_23_june["reoffending"] == []


def test_index_encounter_tie_goes_to_the_smaller_reference(boroughs):
    """Two qualifying encounters on one day: the smaller reference is the index, the other is
    on the index date so it is not an event."""
    who = person("T1")
    meet(who, date(2024, 1, 10), "not_offered", ref="ENC-A")
    meet(who, date(2024, 1, 10), "diverted", ref="ENC-B")

    data = report_data(week="2025-W06")

    row = find(data, cohort="2024-01", group="comparison", borough=SOUTHWARK, months=3)
    assert (row["cohort_size"], row["reoffenders"], row["reoffences"]) == (1, 0, 0)
    assert not [r for r in data["reoffending"] if r["group"] == "diverted"]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="column collations are PostgreSQL's (SQLite: binary)"
)
def test_index_tie_is_by_code_point_whatever_the_column_collation(boroughs):
    """SPEC §5's smaller reference is the one Python and the import call smaller: "ENC-B" before
    "ENC-a", even on a database whose collation puts "ENC-a" first (say en-GB)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE diversion_encounter ALTER COLUMN encounter_ref "
            'TYPE varchar(64) COLLATE "en-x-icu"'
        )
        cursor.execute("SELECT 'ENC-a' < 'ENC-B' COLLATE \"en-x-icu\"")
        assert cursor.fetchone() == (True,)  # the collation disagrees with code points
    who = person("T2")
    meet(who, date(2024, 1, 10), "not_offered", ref="ENC-a")
    meet(who, date(2024, 1, 10), "diverted", ref="ENC-B")

    data = report_data(week="2025-W06")

    row = find(data, cohort="2024-01", group="diverted", borough=LEWISHAM, months=3)
    assert (row["cohort_size"], row["reoffenders"], row["reoffences"]) == (1, 0, 0)
    assert not [r for r in data["reoffending"] if r["group"] == "comparison"]


def test_ineligible_and_pending_encounters_never_index_but_count_as_events(boroughs):
    r1, r2, r3, r4, r5 = (person(f"R{i}") for i in range(1, 6))
    meet(r1, date(2024, 1, 5), "ineligible")  # before the index: not an event
    meet(r1, date(2024, 1, 10), "not_offered")
    meet(r2, date(2024, 1, 12), "not_offered")
    meet(r2, date(2024, 2, 12), "diverted")  # a later diversion is an event
    meet(r3, date(2024, 1, 20), "ineligible")  # never in a cohort
    meet(r4, date(2024, 1, 20), "offered")  # offered, answer pending: never in a cohort
    meet(r5, date(2024, 1, 8), "declined")
    meet(r5, date(2024, 2, 1), "offered")  # a pending later encounter is an event

    data = report_data(week="2025-W06")

    southwark = find(data, cohort="2024-01", group="comparison", borough=SOUTHWARK, months=3)
    lewisham = find(data, cohort="2024-01", group="comparison", borough=LEWISHAM, months=3)
    everyone = find(data, cohort="2024-01", group="comparison", borough="ALL", months=3)
    assert (southwark["cohort_size"], southwark["reoffenders"], southwark["reoffences"]) == (
        2,
        1,
        1,
    )
    assert (lewisham["cohort_size"], lewisham["reoffenders"], lewisham["reoffences"]) == (1, 1, 1)
    assert (everyone["cohort_size"], everyone["reoffenders"], everyone["reoffences"]) == (3, 2, 2)
    assert everyone["rate"] == 0.6667
    # Cohort 2024-01 only, 3 boroughs-or-ALL, 3 window lengths; no diverted-group rows.
    assert len(data["reoffending"]) == 9


def test_encounters_after_the_period_end_are_not_index_encounters(boroughs):
    meet(person("L1"), date(2024, 1, 10), "diverted")
    data = report_data(week="2023-W50")
    assert data["reoffending"] == []


def test_activity_has_every_pilot_and_comparison_borough_and_all(boroughs):
    """Offered encounters with no answer yet count as encounters only; zero rows are kept."""
    meet(person("A1"), date(2024, 1, 15), "diverted")
    meet(person("A2"), date(2024, 1, 16), "declined")
    meet(person("A3"), date(2024, 1, 17), "offered")
    meet(person("A4"), date(2024, 1, 21), "ineligible")
    meet(person("A5"), date(2024, 1, 18), "not_offered")
    meet(person("A6", dob=date(1990, 1, 1)), date(2024, 1, 19), "ineligible", borough=SOUTHWARK)
    meet(person("A7"), date(2024, 1, 22), "diverted")  # the next week
    meet(person("A8"), date(2024, 1, 14), "diverted")  # the week before

    data = report_data(week="2024-W03")

    zero = {"encounters": 0, "diverted": 0, "declined": 0, "not_offered": 0, "ineligible": 0}
    assert data["activity"] == [
        {"borough": HACKNEY, **zero},
        {
            "borough": LEWISHAM,
            "encounters": 4,
            "diverted": 1,
            "declined": 1,
            "not_offered": 0,
            "ineligible": 1,
        },
        {
            "borough": SOUTHWARK,
            "encounters": 2,
            "diverted": 0,
            "declined": 0,
            "not_offered": 1,
            "ineligible": 1,
        },
        {
            "borough": "ALL",
            "encounters": 6,
            "diverted": 1,
            "declined": 1,
            "not_offered": 1,
            "ineligible": 2,
        },
    ]
    reasons = {r["reason"]: r["count"] for r in data["ineligibility_reasons"]}
    assert reasons == {"substance_not_eligible": 2, "age_over_max": 1}


def test_referrals_count_outcomes_dated_by_the_period_end(boroughs):
    f1 = meet(person("F1"), date(2024, 1, 15), "diverted").referral
    f2 = meet(person("F2"), date(2024, 1, 16), "diverted").referral
    f3 = meet(person("F3"), date(2024, 1, 17), "diverted").referral
    f4 = meet(person("F4"), date(2024, 1, 18), "diverted").referral
    meet(person("F5"), date(2024, 1, 29), "diverted")  # after the period end
    outcomes = {
        f1: {"attended_on": date(2024, 1, 20), "completed_on": date(2024, 1, 25)},
        f2: {"attended_on": date(2024, 1, 22), "completed_on": date(2024, 2, 5)},
        f3: {"did_not_attend_on": date(2024, 1, 27)},
        f4: {"withdrawn_on": date(2024, 1, 28)},  # on the period end: counts
    }
    for referral, dates in outcomes.items():
        referral_outcome_record(
            referral=referral,
            **{
                "attended_on": None,
                "completed_on": None,
                "did_not_attend_on": None,
                "withdrawn_on": None,
                **dates,
            },
            by=None,
        )

    week4 = report_data(week="2024-W04")  # ends 28 January
    week3 = report_data(week="2024-W03")  # ends 21 January

    expected = {
        "referred": 4,
        "attended": 2,
        "completed": 1,
        "did_not_attend": 1,
        "withdrawn": 1,
        "open": 1,
        "completion_rate": 0.5,
    }
    empty = dict.fromkeys(expected, 0) | {"completion_rate": None}
    assert week4["referrals"] == [
        {"borough": HACKNEY, **empty},
        {"borough": LEWISHAM, **expected},
        {"borough": "ALL", **expected},
    ]
    before = {
        "referred": 4,
        "attended": 1,
        "completed": 0,
        "did_not_attend": 0,
        "withdrawn": 0,
        "open": 4,
        "completion_rate": None,
    }
    assert week3["referrals"][1:] == [
        {"borough": LEWISHAM, **before},
        {"borough": "ALL", **before},
    ]


def test_report_data_runs_a_fixed_number_of_queries(boroughs, django_assert_max_num_queries):
    for i in range(5):
        who = person(f"Q{i}")
        meet(who, date(2024, 1, 10 + i), "diverted")
        reoffend(who, date(2024, 3, 1))
        meet(person(f"C{i}"), date(2024, 1, 10 + i), "not_offered")
    with django_assert_max_num_queries(8):
        data = report_data(week="2025-W06")
    assert data["reoffending"]


def test_disproportionality_counts_offers_diversions_completions_and_reoffending(boroughs):
    white = person("D1", ethnicity="W2", gender="male", dob=date(2004, 6, 1))  # 19
    black = person("D2", ethnicity="B2", gender="female", dob=date(2001, 6, 1))  # 22
    asian = person("D3", ethnicity="A1", gender="male", dob=date(2001, 6, 1))
    referral = meet(white, date(2024, 1, 15), "diverted").referral
    referral_outcome_record(
        referral=referral,
        attended_on=date(2024, 1, 20),
        completed_on=date(2024, 1, 21),
        did_not_attend_on=None,
        withdrawn_on=None,
        by=None,
    )
    reoffend(white, date(2024, 5, 1))
    meet(black, date(2024, 1, 16), "declined")
    meet(asian, date(2024, 1, 17), "not_offered")  # in a cohort, but not an offer

    rows = disproportionality(week="2025-W06")

    by_key = {(r["dimension"], r["group"]): r for r in rows}
    assert len(rows) == 6 + 4 + 3
    assert by_key[("ethnicity_group", "White")] == {
        "dimension": "ethnicity_group",
        "group": "White",
        "offers": 1,
        "diversions": 1,
        "completions": 1,
        "reoffending_12m_cohort": 1,
        "reoffending_12m_reoffenders": 1,
        "reoffending_12m_rate": 1.0,
    }
    black_row = by_key[("ethnicity_group", "Black")]
    assert (black_row["offers"], black_row["diversions"], black_row["reoffending_12m_rate"]) == (
        1,
        0,
        0.0,
    )
    asian_row = by_key[("ethnicity_group", "Asian")]
    assert (asian_row["offers"], asian_row["reoffending_12m_cohort"]) == (0, 1)
    assert by_key[("ethnicity_group", "Mixed")]["reoffending_12m_rate"] is None
    assert by_key[("gender", "male")]["reoffending_12m_cohort"] == 2
    assert by_key[("gender", "female")]["offers"] == 1
    assert by_key[("age_band", "18-20")]["offers"] == 1
    assert by_key[("age_band", "21-24")]["reoffending_12m_cohort"] == 2
    assert by_key[("age_band", "other")]["offers"] == 0
