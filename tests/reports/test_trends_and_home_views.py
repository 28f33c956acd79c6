"""The trends page and the analyst and approver home pages: who sees them and what they show."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.models import ReportStatus
from tests.conftest import enrol, make_user
from tests.reports.factories import LEWISHAM, SOUTHWARK, make_version, meet, person

pytestmark = pytest.mark.django_db

# Session, user, permissions, then the page's own reads: a fixed number, however many weeks.
TRENDS_PAGE_QUERIES = 15  # 3 of them save the session (idle timeout)
HOME_PAGE_QUERIES = 17  # with the session save and the second-factor check


def someone(ref: str):
    return person(ref, dob=date(1998, 1, 1))


@pytest.fixture
def encounters(boroughs):
    for i in range(6):
        meet(someone(f"D{i}"), date(2020, 1, 8), "diverted")
    for i in range(3):
        meet(someone(f"C{i}"), date(2020, 1, 9), "declined")
    meet(someone("S0"), date(2020, 1, 14), "not_offered")


def test_officers_and_people_with_no_role_cannot_open_trends(client, officer, db):
    client.force_login(officer)
    assert client.get("/reports/trends/").status_code == 403
    client.force_login(make_user("nobody"))
    assert client.get("/reports/trends/").status_code == 403


@pytest.mark.parametrize("who", ["analyst", "approver", "admin_user"])
def test_analysts_approvers_and_admins_see_trends(client, request, who, encounters):
    client.force_login(request.getfixturevalue(who))
    response = client.get("/reports/trends/", {"week": "2020-W03"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Weekly figures from 2020-W01" in page and "to 2020-W03" in page
    assert 'role="img"' in page and "Encounters and diversions per week" in page
    assert "Figures per week, all boroughs" in page  # the table beneath the charts
    assert "Sam" not in page and "Example" not in page  # no names
    assert "1998" not in page  # no dates of birth


def test_trends_table_suppresses_small_counts_and_withholds_their_rates(
    client, analyst, encounters
):
    client.force_login(analyst)
    page = client.get("/reports/trends/", {"week": "2020-W03"}).content.decode()
    week_two = page.split('<th scope="row" class="govuk-table__header">2020-W02</th>', 1)[1]
    cells = week_two.split("</tr>", 1)[0]
    # 9 encounters, 6 diverted, 3 declined: <5 shown, the acceptance rate withheld.
    assert ">9</td>" in cells and ">6</td>" in cells and "&lt;5" in cells
    assert "Withheld" in cells


def test_trends_for_one_borough(client, analyst, encounters):
    client.force_login(analyst)
    page = client.get("/reports/trends/", {"week": "2020-W03", "borough": SOUTHWARK}).content
    text = page.decode()
    assert "Figures per week, Southwark" in text
    assert f'<option value="{SOUTHWARK}" selected>' in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"week": "2020-10"}, "Enter the week as YYYY-Www"),
        ({"week": "2019-W40"}, "Enter a week from 2020-W01"),
        ({"week": "2999-W01"}, "Enter a week up to this week"),
        ({"borough": "E09999999"}, "Select a borough from the list"),
    ],
)
def test_bad_trends_choices_show_an_error(client, analyst, boroughs, params, message):
    client.force_login(analyst)
    response = client.get("/reports/trends/", params)
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and message in page


def test_trends_without_a_pilot_borough_says_so(client, analyst):
    client.force_login(analyst)
    page = client.get("/reports/trends/").content.decode()
    assert "No borough is a pilot borough yet" in page


def test_trends_page_defaults_to_the_week_just_ended(client, analyst, boroughs):
    from reports.weeks import week_just_ended

    client.force_login(analyst)
    page = client.get("/reports/trends/").content.decode()
    assert f"to {week_just_ended(timezone.localdate())}" in page


def _queries(client, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/reports/trends/", params).status_code == 200
    return len(captured)


def test_trends_page_takes_the_same_number_of_queries_for_few_and_many_weeks(
    client, analyst, boroughs
):
    meet(someone("Q1"), date(2020, 1, 8), "diverted", borough=LEWISHAM)
    client.force_login(analyst)
    few = _queries(client, {"week": "2020-W02"})
    for week in range(1, 30):
        meet(someone(f"Q{week + 1}"), date(2020, 1, 8) + timedelta(weeks=week), "diverted")
    many = _queries(client, {"week": "2021-W30", "borough": LEWISHAM})
    assert few == many == TRENDS_PAGE_QUERIES


# --- Home pages ----------------------------------------------------------------------------


def test_analyst_home_shows_work_and_headline_figures(client, analyst, db):
    approver = make_user("apo", "approver", first_name="Ada", last_name="Approver")
    make_version(week="2026-W08", status=ReportStatus.APPROVED)
    make_version(
        week="2026-W09",
        status=ReportStatus.RETURNED,
        decided_by=approver,
        approver_comment="Lewisham looks low",
    )
    make_version(week="2026-W10", status=ReportStatus.SUBMITTED, submitted_at=timezone.now())
    make_version(week="2026-W11")
    client.force_login(analyst)
    page = client.get("/").content.decode()
    assert "Latest week: 2026-W11" in page
    assert "Encounters, all boroughs" in page and "&lt;5" in page  # 4 diverted in the sample
    returned = page.split("Returned to you", 1)[1].split("Awaiting submission", 1)[0]
    assert "2026-W09, version 1" in returned and "Ada Approver" in returned
    assert "Lewisham looks low" in returned
    drafts = page.split("Awaiting submission", 1)[1].split("Submitted for approval", 1)[0]
    assert "2026-W11, version 1" in drafts
    assert "2026-W10, version 1" in page.split("Submitted for approval", 1)[1]
    assert "2026-W08, version 1" in page.split("Latest approved report", 1)[1]
    assert 'href="/reports/trends/"' in page


def test_approver_home_lists_reports_awaiting_a_decision_oldest_first(client, approver):
    now = timezone.now()
    make_version(week="2026-W10", status=ReportStatus.SUBMITTED, submitted_at=now)
    make_version(
        week="2026-W09", status=ReportStatus.SUBMITTED, submitted_at=now - timedelta(days=3)
    )
    client.force_login(approver)
    page = client.get("/").content.decode()
    awaiting = page.split("Awaiting your decision", 1)[1]
    assert awaiting.index("2026-W09") < awaiting.index("2026-W10")
    assert "waiting 3 days" in awaiting and "waiting less than a day" in awaiting
    assert "Returned to you" not in page  # the analyst's section is not shown


def test_approver_home_says_when_nothing_is_waiting(client, approver):
    client.force_login(approver)
    assert "No reports are waiting for a decision." in client.get("/").content.decode()


def test_home_pages_take_a_fixed_number_of_queries(client, db):
    both = make_user("both", "analyst", "approver")
    enrol(both)  # approvers need a second factor
    client.force_login(both)
    client.get("/")
    counts = []
    for week in range(1, 7):
        make_version(week=f"2026-W{week:02d}", status=ReportStatus.SUBMITTED)
        make_version(week=f"2026-W{week:02d}", number=2)
        with CaptureQueriesContext(connection) as captured:
            client.get("/")
        counts.append(len(captured))
    assert set(counts) == {HOME_PAGE_QUERIES}
