"""Reads for the trends page and the home pages: figures from the database, suppressed to show."""

from datetime import date, timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diversion.services import referral_outcome_record
from reports import selectors
from reports.models import ReportStatus
from reports.suppression import SUPPRESSED, WITHHELD
from reports.workflow import report_return, report_submit
from tests.conftest import make_user
from tests.reports.factories import HACKNEY, LEWISHAM, SOUTHWARK, make_version, meet, person

pytestmark = pytest.mark.django_db

_refs = count(1)


def someone():
    return person(f"P{next(_refs):05d}", dob=date(1998, 1, 1))  # 22 in 2020


def meet_many(day: date, outcome: str, times: int, **kwargs) -> list:
    return [meet(someone(), day, outcome, **kwargs) for _ in range(times)]


def test_first_week_is_the_earliest_pilot_start(boroughs):
    # Both pilots start on Wednesday 1 January 2020, in ISO week 2020-W01.
    assert selectors.trend_first_week() == "2020-W01"


def test_no_pilot_borough_means_no_first_week(db):
    assert selectors.trend_first_week() is None


def test_weeks_follow_iso_weeks_monday_to_sunday_with_empty_weeks_as_zero(boroughs):
    meet(someone(), date(2020, 1, 5), "diverted")  # Sunday: still 2020-W01
    meet(someone(), date(2020, 1, 6), "declined")  # Monday: 2020-W02
    meet(someone(), date(2020, 12, 31), "diverted")  # Thursday: 2020-W53, not 2020-W52
    rows = selectors.weekly_series(first_week="2020-W01", last_week="2021-W01")
    by_week = {row["week"]: row for row in rows}
    assert len(rows) == 54  # 2020 has 53 ISO weeks
    assert by_week["2020-W01"]["diverted"] == 1 and by_week["2020-W01"]["encounters"] == 1
    assert by_week["2020-W02"]["declined"] == 1 and by_week["2020-W02"]["diverted"] == 0
    assert by_week["2020-W53"]["diverted"] == 1
    assert by_week["2020-W10"] == {
        "week": "2020-W10",
        "encounters": 0,
        "diverted": 0,
        "declined": 0,
        "completed": 0,
        "did_not_attend": 0,
        "acceptance_rate": None,
        "completion_rate": None,
    }


def test_rates_per_week_and_borough_filter(boroughs):
    monday = date(2020, 3, 2)  # 2020-W10
    diverted = meet_many(monday, "diverted", 6)
    meet_many(monday, "declined", 2)
    meet_many(monday, "not_offered", 3, borough=SOUTHWARK)
    for encounter in diverted[:3]:
        _outcome(encounter, attended=monday, completed=monday + timedelta(days=7))
    _outcome(diverted[3], dna=monday + timedelta(days=3))
    # An outcome after the chosen week's end is not counted yet.
    _outcome(diverted[4], attended=monday, completed=date(2020, 6, 1))
    rows = selectors.weekly_series(first_week="2020-W10", last_week="2020-W12")
    week = rows[0]
    assert (week["encounters"], week["diverted"], week["declined"]) == (11, 6, 2)
    assert week["acceptance_rate"] == 0.75
    assert (week["completed"], week["did_not_attend"]) == (3, 1)
    assert week["completion_rate"] == 0.75
    southwark = selectors.weekly_series(
        first_week="2020-W10", last_week="2020-W10", borough=SOUTHWARK
    )
    assert southwark[0]["encounters"] == 3 and southwark[0]["acceptance_rate"] is None
    hackney = selectors.weekly_series(first_week="2020-W10", last_week="2020-W10", borough=HACKNEY)
    assert hackney[0]["encounters"] == 0


def _outcome(encounter, *, attended=None, completed=None, dna=None):
    referral_outcome_record(
        referral=encounter.referral,
        attended_on=attended,
        completed_on=completed,
        did_not_attend_on=dna,
        withdrawn_on=None,
        by=None,
    )


def test_small_numbers_are_suppressed_and_their_rates_withheld():
    row = {
        "week": "2020-W10",
        "encounters": 12,
        "diverted": 9,
        "declined": 3,
        "completed": 0,
        "did_not_attend": 0,
        "acceptance_rate": 0.75,
        "completion_rate": None,
    }
    shown = selectors.suppress_week_row(row)
    assert shown["encounters"] == 12 and shown["diverted"] == 9
    assert shown["declined"] == SUPPRESSED
    # 9 of 12 would give away the 3 who declined, so the rate is withheld too.
    assert shown["acceptance_rate"] == WITHHELD
    assert shown["completed"] == 0 and shown["completion_rate"] is None


def test_twelve_month_reoffending_by_cohort_with_wilson_interval(boroughs):
    for _ in range(5):
        who = someone()
        meet(who, date(2020, 1, 15), "diverted")
    reoffender = someone()
    meet(reoffender, date(2020, 1, 20), "diverted")
    meet(reoffender, date(2020, 6, 1), "ineligible")
    meet_many(date(2020, 1, 10), "not_offered", 6)
    # January 2020's 12-month windows have all closed by 31 January 2021 (2021-W04 ends 31 Jan).
    rows = selectors.reoffending_by_cohort(last_week="2021-W04")
    by_group = {(r["cohort"], r["group"]): r for r in rows}
    diverted = by_group[("2020-01", "diverted")]
    assert (diverted["cohort_size"], diverted["reoffenders"], diverted["rate"]) == (6, 1, 0.1667)
    assert (diverted["ci_low"], diverted["ci_high"]) == (0.0301, 0.5635)
    assert by_group[("2020-01", "comparison")]["reoffenders"] == 0
    assert selectors.reoffending_by_cohort(last_week="2021-W03") == []  # not closed yet
    shown = selectors.trends(first_week="2020-W01", last_week="2021-W04").reoffending
    diverted_shown = next(r for r in shown if r["group"] == "diverted")
    assert diverted_shown["reoffenders"] == SUPPRESSED and diverted_shown["rate"] == WITHHELD


def _queries(**kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        selectors.trends(**kwargs)
    return len(queries)


def test_trends_take_the_same_number_of_queries_for_2_weeks_and_30_weeks(boroughs):
    monday = date(2020, 1, 6)
    for week in range(2):
        meet(someone(), monday + timedelta(weeks=week), "diverted")
    few = _queries(first_week="2020-W01", last_week="2020-W03", borough=LEWISHAM)
    for week in range(2, 30):
        meet(someone(), monday + timedelta(weeks=week), "diverted")
    many = _queries(first_week="2020-W01", last_week="2020-W40", borough=LEWISHAM)
    assert few == many == 3  # all boroughs, every borough by week, reoffending


# --- Home pages ----------------------------------------------------------------------------


def test_waiting_text_counts_whole_days():
    now = timezone.now()
    assert selectors.waiting_text(since=now - timedelta(hours=5), now=now) == (
        "waiting less than a day"
    )
    assert selectors.waiting_text(since=now - timedelta(days=1, hours=2), now=now) == (
        "waiting 1 day"
    )
    assert selectors.waiting_text(since=now - timedelta(days=3), now=now) == "waiting 3 days"


def test_awaiting_decision_is_oldest_first_with_how_long(db):
    now = timezone.now()
    newer = make_version(
        week="2026-W10", status=ReportStatus.SUBMITTED, submitted_at=now - timedelta(days=1)
    )
    older = make_version(
        week="2026-W11", status=ReportStatus.SUBMITTED, submitted_at=now - timedelta(days=3)
    )
    make_version(week="2026-W12")
    awaiting = selectors.awaiting_decision(now=now)
    assert awaiting == [older, newer]
    assert [v.waiting for v in awaiting] == ["waiting 3 days", "waiting 1 day"]


def test_analyst_home_lists_work_by_status_with_the_returned_comment(db):
    analyst = make_user("ana", "analyst")
    approver = make_user("apo", "approver", first_name="Ada", last_name="Approver")
    draft = make_version(week="2026-W12")
    returned = make_version(week="2026-W11")
    report_submit(version=returned, by=analyst)
    report_return(version=returned, by=approver, comment="Check Lewisham")
    submitted = make_version(week="2026-W10")
    report_submit(version=submitted, by=analyst)
    approved = make_version(week="2026-W09", status=ReportStatus.APPROVED)
    home = selectors.analyst_home()
    assert home["drafts"] == [draft]
    assert home["returned"] == [returned]
    assert home["returned"][0].approver_comment == "Check Lewisham"
    assert home["submitted"] == [submitted]
    assert home["latest_approved"] == approved
    assert home["headline"]["version"] == draft  # the newest week


def test_headline_prefers_the_newest_weeks_approved_version_and_suppresses(db):
    data = {
        "activity": [
            {
                "borough": "ALL",
                "encounters": 13,
                "diverted": 4,
                "declined": 1,
                "not_offered": 3,
                "ineligible": 5,
            }
        ],
        "effects": [
            {
                "borough": "ALL",
                "months": 12,
                "diverted_size": 70,
                "diverted_reoffenders": 56,
                "comparison_size": 80,
                "comparison_reoffenders": 48,
                "risk_difference": 0.2,
                "rd_low": 0.0524,
                "rd_high": 0.3339,
                "relative_risk": 1.3333,
                "rr_low": 1.07,
                "rr_high": 1.66,
            }
        ],
    }
    make_version(week="2026-W10", number=1, status=ReportStatus.APPROVED, data=data)
    make_version(week="2026-W10", number=2)
    make_version(week="2026-W09", number=1, status=ReportStatus.APPROVED)
    shown = selectors.headline(selectors._headline_version())
    assert (shown["version"].week, shown["version"].number) == ("2026-W10", 1)
    assert shown["activity"]["encounters"] == 13 and shown["activity"]["diverted"] == SUPPRESSED
    assert shown["effect"]["risk_difference"] == 0.2
    assert shown["difference"] == (
        "Difference (diverted minus comparison): 20.0%, 95% interval 5.2% to 33.4%."
    )


def test_analyst_home_takes_a_fixed_number_of_queries(db, django_assert_num_queries):
    for week in range(1, 9):
        make_version(week=f"2026-W{week:02d}", status=ReportStatus.RETURNED)
        make_version(week=f"2026-W{week:02d}", number=2)
    with django_assert_num_queries(5):
        selectors.analyst_home()
    with django_assert_num_queries(1):
        selectors.awaiting_decision()
