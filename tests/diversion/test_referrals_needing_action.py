"""The officer's work queue: what is due, how overdue, filters, keyset pages, bounded queries."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diversion import selectors, services
from diversion.models import Encounter
from diversion.referral_status import DUE_APPOINTMENT, DUE_OUTCOME, appointment_passed
from tests.diversion.factories import (
    EncounterFactory,
    PersonFactory,
    ProviderFactory,
    pilot_borough,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
SOUTHWARK = "E09000028"


def diverted(borough, *, days_ago: int, officer=None) -> Encounter:
    """A diverted encounter ``days_ago`` days ago, with its open referral."""
    return EncounterFactory(
        borough=borough,
        officer=officer,
        accepted=True,
        person=PersonFactory(),
        encounter_date=TODAY() - timedelta(days=days_ago),
    )


def book(encounter: Encounter, *, days_ago: int, officer) -> None:
    """Book the referral's appointment ``days_ago`` days ago (negative: in the future)."""
    provider = ProviderFactory(boroughs=[encounter.borough])
    services.referral_arrange(
        referral=encounter.referral,
        provider=provider,
        appointment_on=TODAY() - timedelta(days=days_ago),
        by=officer,
    )


def record(encounter: Encounter, officer, **dates: date) -> None:
    outcome = {"attended_on": None, "completed_on": None, "did_not_attend_on": None}
    outcome["withdrawn_on"] = None
    services.referral_outcome_record(referral=encounter.referral, by=officer, **outcome | dates)


@pytest.fixture
def lewisham_pilot(officer):
    """The officer's borough (Lewisham), made a pilot."""
    return pilot_borough("E09000023")


def due_rows(officer, **filters) -> dict[str, tuple[str, int]]:
    return {
        r.encounter.encounter_ref: (r.due, r.days_overdue.days)
        for r in selectors.referrals_due(user=officer, **filters)
    }


def test_what_is_due_and_how_many_days_overdue(officer, lewisham_pilot):
    late = diverted(lewisham_pilot, days_ago=40)  # No outcome 28 days on: 12 days overdue.
    due_today = diverted(lewisham_pilot, days_ago=28)  # Falls due today: 0 days overdue.
    missed = diverted(lewisham_pilot, days_ago=10)
    book(missed, days_ago=3, officer=officer)  # Appointment passed 3 days ago, no attendance.
    booked_today = diverted(lewisham_pilot, days_ago=10)
    book(booked_today, days_ago=0, officer=officer)  # The person may still come today.
    attended = diverted(lewisham_pilot, days_ago=10)
    book(attended, days_ago=3, officer=officer)
    record(attended, officer, attended_on=TODAY() - timedelta(days=3))
    finished = diverted(lewisham_pilot, days_ago=40)
    record(finished, officer, withdrawn_on=TODAY())
    both_appointment_first = diverted(lewisham_pilot, days_ago=35)  # Missed 30 days ago > 7 late.
    book(both_appointment_first, days_ago=30, officer=officer)
    both_outcome_first = diverted(lewisham_pilot, days_ago=60)  # 32 days late > missed 5 days ago.
    book(both_outcome_first, days_ago=5, officer=officer)
    elsewhere = diverted(pilot_borough(SOUTHWARK), days_ago=40)

    assert due_rows(officer) == {
        late.encounter_ref: (DUE_OUTCOME, 12),
        due_today.encounter_ref: (DUE_OUTCOME, 0),
        missed.encounter_ref: (DUE_APPOINTMENT, 3),
        both_appointment_first.encounter_ref: (DUE_APPOINTMENT, 30),
        both_outcome_first.encounter_ref: (DUE_OUTCOME, 32),
    }
    assert elsewhere.encounter_ref not in due_rows(officer)


def test_each_filter_shows_exactly_the_rows_its_label_says(officer, lewisham_pilot):
    """The filters read the stored column; the labels the annotation. They must agree."""
    late = diverted(lewisham_pilot, days_ago=40)
    missed = diverted(lewisham_pilot, days_ago=10)
    book(missed, days_ago=3, officer=officer)
    booked_today = diverted(lewisham_pilot, days_ago=10)
    book(booked_today, days_ago=0, officer=officer)
    # Appointment on the day the outcome falls due: the outcome is due that day, the
    # appointment from the day after.
    tie_today = diverted(lewisham_pilot, days_ago=28)
    book(tie_today, days_ago=0, officer=officer)
    tie_yesterday = diverted(lewisham_pilot, days_ago=29)
    book(tie_yesterday, days_ago=1, officer=officer)
    attended_late = diverted(lewisham_pilot, days_ago=40)
    book(attended_late, days_ago=20, officer=officer)
    record(attended_late, officer, attended_on=TODAY() - timedelta(days=20))

    everything = due_rows(officer)
    appointments = due_rows(officer, due=DUE_APPOINTMENT)
    outcomes = due_rows(officer, due=DUE_OUTCOME)
    assert appointments == {k: v for k, v in everything.items() if v[0] == DUE_APPOINTMENT}
    assert outcomes == {k: v for k, v in everything.items() if v[0] == DUE_OUTCOME}
    assert set(appointments) == {missed.encounter_ref, tie_yesterday.encounter_ref}
    assert {tie_today.encounter_ref, late.encounter_ref, attended_late.encounter_ref} <= set(
        outcomes
    )
    # Attendance recorded later clears the missed appointment from the filter.
    record(missed, officer, attended_on=TODAY() - timedelta(days=3))
    assert missed.encounter_ref not in due_rows(officer, due=DUE_APPOINTMENT)


def test_an_unknown_due_filter_is_refused(officer):
    with pytest.raises(ValueError, match="Unknown due filter"):
        selectors.referrals_due(user=officer, due="everything")


def test_outcome_days_come_from_the_setting(officer, lewisham_pilot, settings):
    settings.REFERRAL_OUTCOME_DAYS = 10
    encounter = diverted(lewisham_pilot, days_ago=15)
    assert due_rows(officer) == {encounter.encounter_ref: (DUE_OUTCOME, 5)}


def test_queue_filters_by_borough_and_by_what_is_due(officer, lewisham_pilot):
    from boroughs.services import officer_assign

    southwark = pilot_borough(SOUTHWARK)
    officer_assign(officer=officer, borough=southwark)
    late_here = diverted(lewisham_pilot, days_ago=40)
    late_there = diverted(southwark, days_ago=50)
    missed_here = diverted(lewisham_pilot, days_ago=10)
    book(missed_here, days_ago=2, officer=officer)

    assert set(due_rows(officer, borough_id=southwark.pk)) == {late_there.encounter_ref}
    assert set(due_rows(officer, due=DUE_APPOINTMENT)) == {missed_here.encounter_ref}
    assert set(due_rows(officer, borough_id=lewisham_pilot.pk, due=DUE_OUTCOME)) == {
        late_here.encounter_ref
    }


@pytest.mark.parametrize("most_overdue_first", [True, False])
def test_keyset_pages_visit_every_referral_once_in_order(
    officer, lewisham_pilot, most_overdue_first
):
    # Pairs on the same day, so ties are broken by id across page ends.
    for n in range(7):
        diverted(lewisham_pilot, days_ago=30 + n // 2)
    referrals = selectors.referrals_due(user=officer)
    seen, after = [], None
    while True:
        page = selectors.referral_queue_page(
            referrals=referrals, most_overdue_first=most_overdue_first, after=after, size=3
        )
        seen += [(r.days_overdue.days, r.pk) for r in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    expected = sorted(seen, key=lambda row: (-row[0] if most_overdue_first else row[0], row[1]))
    assert seen == expected and len(set(seen)) == 7


def test_count_stops_at_the_cap(officer, lewisham_pilot):
    for n in range(4):
        diverted(lewisham_pilot, days_ago=40 + n)
    due = selectors.referrals_due(user=officer)
    assert selectors.count_capped(due, cap=2) == 3  # More than 2.
    assert selectors.count_capped(due, cap=10) == 4


def test_appointment_passed_is_the_day_after_with_no_attendance_or_outcome():
    day = date(2026, 5, 10)
    args = {"attended_on": None, "ended": False, "day": day}
    assert appointment_passed(appointment_on=date(2026, 5, 9), **args)
    assert not appointment_passed(appointment_on=day, **args)
    assert not appointment_passed(appointment_on=None, **args)
    assert not appointment_passed(appointment_on=date(2026, 5, 9), **args | {"ended": True})
    attended = args | {"attended_on": date(2026, 5, 9)}
    assert not appointment_passed(appointment_on=date(2026, 5, 9), **attended)


# --- Pages ------------------------------------------------------------------------------------


def test_home_page_summarises_what_needs_action_and_links_to_the_queue(
    client, officer, lewisham_pilot
):
    oldest = diverted(lewisham_pilot, days_ago=50)
    diverted(lewisham_pilot, days_ago=40)
    client.force_login(officer)
    html = client.get("/").content.decode()
    assert "2 referrals</strong>" in html and "in your boroughs need action" in html
    assert f'#referral">{oldest.encounter_ref}</a>' in html and "22 days overdue" in html
    assert 'href="/referrals/needing-action/"' in html


def test_home_page_says_500_or_more_past_the_cap(client, officer, lewisham_pilot, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for n in range(3):
        diverted(lewisham_pilot, days_ago=40 + n)
    client.force_login(officer)
    assert "2 or more referrals" in client.get("/").content.decode()


def test_home_page_lists_the_officers_own_ten_latest_encounters(client, officer, lewisham_pilot):
    mine = [EncounterFactory(borough=lewisham_pilot, officer=officer) for _ in range(11)]
    colleagues = EncounterFactory(borough=lewisham_pilot)
    client.force_login(officer)
    html = client.get("/").content.decode()
    assert all(f">{e.encounter_ref}</a>" in html for e in mine[1:])
    assert mine[0].encounter_ref not in html  # The eleventh most recent.
    assert colleagues.encounter_ref not in html


def test_queue_shows_name_reference_borough_provider_what_is_due_and_days(
    client, officer, lewisham_pilot
):
    encounter = diverted(lewisham_pilot, days_ago=10)
    book(encounter, days_ago=4, officer=officer)
    person = encounter.person
    client.force_login(officer)
    html = client.get("/referrals/needing-action/").content.decode()
    assert f"{person.first_name} {person.last_name}" in html
    assert encounter.encounter_ref in html and "Lewisham" in html
    assert encounter.referral.provider.name in html
    assert "Appointment passed, no attendance recorded" in html and "4 days overdue" in html
    assert "1 referral need" in html


def test_queue_pages_with_next_links_that_keep_the_filters(
    client, officer, lewisham_pilot, monkeypatch
):
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)
    encounters = [diverted(lewisham_pilot, days_ago=40 + n) for n in range(5)]
    client.force_login(officer)
    url, seen = f"/referrals/needing-action/?due={DUE_OUTCOME}&borough={lewisham_pilot.pk}", []
    for _ in range(3):
        response = client.get(url)
        html = response.content.decode()
        seen += [e.encounter_ref for e in encounters if e.encounter_ref in html]
        if "Next page" not in html:
            break
        url = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        assert (
            f"due={DUE_OUTCOME}" in url
            and f"borough={lewisham_pilot.pk}" in url
            and "after=" in url
        )
    assert sorted(seen) == sorted(e.encounter_ref for e in encounters)


def test_queue_refuses_a_borough_that_is_not_the_officers(client, officer, lewisham_pilot):
    southwark = pilot_borough(SOUTHWARK)
    client.force_login(officer)
    html = client.get(f"/referrals/needing-action/?borough={southwark.pk}").content.decode()
    assert "Select one of your boroughs" in html and "There is a problem" in html


def test_queue_is_for_officers_only(client, analyst):
    client.force_login(analyst)
    assert client.get("/referrals/needing-action/").status_code == 403


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# Pinned, and the same for 3 rows as for 30: every page's session, user, savepoints,
# permissions and roles, then a fixed number of bounded queries of the page's own.
HOME_QUERIES = 13  # 3 of them save the session, kept on every request for the idle timeout
QUEUE_QUERIES = 15


@pytest.mark.parametrize("rows", [3, 30])
def test_officer_pages_run_the_same_queries_for_3_or_30_rows(
    client, officer, lewisham_pilot, rows, django_assert_num_queries
):
    for n in range(rows):
        encounter = diverted(lewisham_pilot, days_ago=30 + n, officer=officer)
        if n % 3 == 0:
            book(encounter, days_ago=1, officer=officer)
    client.force_login(officer)
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get("/").status_code == 200
    with django_assert_num_queries(QUEUE_QUERIES):
        assert (
            client.get(f"/referrals/needing-action/?borough={lewisham_pilot.pk}").status_code == 200
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")
def test_queue_query_can_use_the_due_referral_index(officer, lewisham_pilot):
    diverted(lewisham_pilot, days_ago=40)
    referrals = selectors.referrals_due(user=officer)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = referrals.order_by(*selectors.QUEUE_ORDER[True])[:25].explain()
    assert "referral_due" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")
def test_missed_appointment_filter_reads_its_own_index(officer, lewisham_pilot):
    encounter = diverted(lewisham_pilot, days_ago=10)
    book(encounter, days_ago=3, officer=officer)
    referrals = selectors.referrals_due(user=officer, due=DUE_APPOINTMENT)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = referrals.order_by(*selectors.QUEUE_ORDER[True])[:25].explain()
    assert "referral_due_appointment" in plan


@pytest.mark.parametrize("after", ["1.2.3", "-1.5", "99999999999.1", "1.99999999999", "x"])
def test_queue_refuses_a_broken_page_link_plainly(client, officer, lewisham_pilot, after):
    client.force_login(officer)
    response = client.get(f"/referrals/needing-action/?after={after}")
    assert response.status_code == 200
    assert "The page link is not valid: start from the first page" in response.content.decode()
