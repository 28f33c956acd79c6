"""The work queue's stored columns (issue 8): every writer of a referral keeps them right.

``borough``, ``due_on`` and ``overdue_from`` are what the queue filters and sorts by; they are
worked out by ``referral_status.due_dates`` from the referral's dates, never from today.
"""

from datetime import date, timedelta
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F
from django.utils import timezone

from boroughs.models import Borough
from diversion import selectors, services
from diversion.models import Referral
from diversion.referral_status import DUE_APPOINTMENT, DUE_OUTCOME, due_dates
from tests.diversion.factories import EncounterFactory, PersonFactory, ProviderFactory
from tests.diversion.factories import pilot_borough as make_pilot

TODAY = timezone.localdate
DAY = date(2026, 3, 2)  # the encounter in the table below; its outcome falls due on 30 March
OUTCOME_DUE = DAY + timedelta(days=28)


@pytest.mark.parametrize(
    ("appointment_on", "attended_on", "ended", "expected"),
    [
        # No appointment: due when the outcome falls due, 0 days overdue that day.
        (None, None, False, (OUTCOME_DUE, OUTCOME_DUE)),
        # A missed appointment before then: due the day after it, overdue counted from it.
        (date(2026, 3, 10), None, False, (date(2026, 3, 11), date(2026, 3, 10))),
        # Attended: only the outcome can fall due.
        (date(2026, 3, 10), date(2026, 3, 10), False, (OUTCOME_DUE, OUTCOME_DUE)),
        # Booked after the outcome falls due: the outcome comes first.
        (date(2026, 4, 2), None, False, (OUTCOME_DUE, OUTCOME_DUE)),
        # On that very day: the outcome is due that day, the appointment counts from it too.
        (OUTCOME_DUE, None, False, (OUTCOME_DUE, OUTCOME_DUE)),
        # The day before: the appointment is missed on the day the outcome falls due.
        (OUTCOME_DUE - timedelta(days=1), None, False, (OUTCOME_DUE, OUTCOME_DUE - timedelta(1))),
        # A final outcome: never due.
        (date(2026, 3, 10), None, True, (None, None)),
        (None, None, True, (None, None)),
    ],
)
def test_due_dates(appointment_on, attended_on, ended, expected):
    got = due_dates(
        encounter_date=DAY,
        appointment_on=appointment_on,
        attended_on=attended_on,
        ended=ended,
        outcome_days=28,
    )
    assert got == expected


@pytest.mark.parametrize("offset", range(-2, 3))
@pytest.mark.parametrize("attended", [False, True])
@pytest.mark.parametrize("booked", [None, 5, 27, 28, 29, 40])
def test_stored_dates_give_what_the_dates_alone_say_on_any_day(booked, attended, offset):
    """Due on a day exactly when SPEC §4's two conditions say so, with the same count and kind.

    The reference below is the queue's rule as it was before the columns were stored: a
    passed appointment with no attendance, or no outcome 28 days after the encounter; the
    larger count wins, the appointment on a tie.
    """
    appointment_on = DAY + timedelta(days=booked) if booked is not None else None
    attended_on = appointment_on if attended and appointment_on else None
    due_on, since = due_dates(
        encounter_date=DAY,
        appointment_on=appointment_on,
        attended_on=attended_on,
        ended=False,
        outcome_days=28,
    )
    for day in (appointment_on or OUTCOME_DUE, OUTCOME_DUE):
        day += timedelta(days=offset)
        missed = appointment_on is not None and appointment_on < day and attended_on is None
        late = OUTCOME_DUE <= day
        counts = {}
        if late:
            counts[DUE_OUTCOME] = (day - OUTCOME_DUE).days
        if missed:
            counts[DUE_APPOINTMENT] = (day - appointment_on).days
        assert (due_on <= day) == bool(counts), day
        if counts:
            kind = max(counts, key=lambda k: (counts[k], k == DUE_APPOINTMENT))
            assert (day - since).days == counts[kind]
            stored_kind = (
                DUE_APPOINTMENT
                if attended_on is None and appointment_on == since and since < day
                else DUE_OUTCOME
            )
            assert stored_kind == kind


# --- Every writer keeps them ------------------------------------------------------------------


def stored(referral: Referral) -> tuple:
    referral.refresh_from_db()
    return referral.borough_id, referral.due_on, referral.overdue_from


@pytest.fixture
def lewisham_pilot(officer) -> Borough:
    return make_pilot("E09000023")


def test_a_new_referral_is_due_when_its_outcome_is(officer, lewisham_pilot):
    day = TODAY() - timedelta(days=3)
    encounter = EncounterFactory(
        borough=lewisham_pilot, officer=officer, accepted=True, encounter_date=day
    )
    due = day + timedelta(days=28)
    assert stored(encounter.referral) == (lewisham_pilot.pk, due, due)


def test_an_answer_of_yes_opens_a_referral_with_its_columns(officer, lewisham_pilot):
    day = TODAY() - timedelta(days=3)
    offered = EncounterFactory(borough=lewisham_pilot, officer=officer, encounter_date=day)
    encounter = services.encounter_answer(encounter=offered, accepted=True, by=officer)
    due = day + timedelta(days=28)
    assert stored(encounter.referral) == (lewisham_pilot.pk, due, due)


def test_arranging_outcomes_and_corrections_move_the_referral(officer, lewisham_pilot):
    day = TODAY() - timedelta(days=10)
    encounter = EncounterFactory(
        borough=lewisham_pilot, officer=officer, accepted=True, encounter_date=day
    )
    referral = encounter.referral
    provider = ProviderFactory(boroughs=[lewisham_pilot])
    booked = TODAY() - timedelta(days=2)
    services.referral_arrange(referral=referral, provider=provider, appointment_on=booked, by=None)
    assert stored(referral) == (lewisham_pilot.pk, booked + timedelta(days=1), booked)

    outcome = {"completed_on": None, "did_not_attend_on": None, "withdrawn_on": None}
    services.referral_outcome_record(referral=referral, attended_on=booked, by=None, **outcome)
    due = day + timedelta(days=28)
    assert stored(referral) == (lewisham_pilot.pk, due, due)

    services.referral_outcome_record(
        referral=referral, attended_on=booked, by=None, **outcome | {"completed_on": TODAY()}
    )
    assert stored(referral) == (lewisham_pilot.pk, None, None)

    # Moving the appointment later again, on an ended referral, keeps it out of the queue.
    services.referral_arrange(referral=referral, provider=provider, appointment_on=None, by=None)
    assert stored(referral) == (lewisham_pilot.pk, None, None)


def test_the_setting_decides_when_the_outcome_falls_due(officer, lewisham_pilot, settings):
    settings.REFERRAL_OUTCOME_DAYS = 10
    day = TODAY() - timedelta(days=3)
    encounter = EncounterFactory(
        borough=lewisham_pilot, officer=officer, accepted=True, encounter_date=day
    )
    due = day + timedelta(days=10)
    assert stored(encounter.referral) == (lewisham_pilot.pk, due, due)


# --- The migration fills existing rows --------------------------------------------------------


def test_the_migration_fills_every_existing_referral(officer, lewisham_pilot):
    """Rows stored before the columns existed get what the services would have given them."""
    fill = import_module("diversion.migrations.0006_referral_due_dates").fill
    southwark = make_pilot("E09000028")
    provider = ProviderFactory(boroughs=[lewisham_pilot, southwark])
    days = [40, 35, 20, 12, 3]
    referrals = []
    for n, days_ago in enumerate(days):
        borough = southwark if n % 2 else lewisham_pilot
        encounter = EncounterFactory(
            borough=borough,
            accepted=True,
            person=PersonFactory(),
            encounter_date=TODAY() - timedelta(days=days_ago),
        )
        referral = encounter.referral
        if n in (1, 2):
            booked = TODAY() - timedelta(days=n)
            services.referral_arrange(
                referral=referral, provider=provider, appointment_on=booked, by=None
            )
        if n == 3:
            services.referral_outcome_record(
                referral=referral,
                attended_on=None,
                completed_on=None,
                did_not_attend_on=TODAY(),
                withdrawn_on=None,
                by=None,
            )
        referrals.append(referral)
    expected = [stored(r) for r in referrals]
    # As they were before: no dates, and (the column being required) the wrong borough.
    other = Borough.objects.exclude(pk__in=[lewisham_pilot.pk, southwark.pk]).first()
    Referral.objects.update(borough=other, due_on=None, overdue_from=None)

    def execute(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    fill(apps, SimpleNamespace(connection=connection, execute=execute))

    assert [stored(r) for r in referrals] == expected
    assert expected[3][1:] == (None, None) and all(
        row[1] for i, row in enumerate(expected) if i != 3
    )


# --- The queue reads them ---------------------------------------------------------------------


def test_queue_rows_are_those_whose_stored_due_date_has_come(officer, lewisham_pilot):
    for days_ago in (27, 28, 29):
        EncounterFactory(
            borough=lewisham_pilot,
            accepted=True,
            person=PersonFactory(),
            encounter_date=TODAY() - timedelta(days=days_ago),
        )
    due = selectors.referrals_due(user=officer)
    assert sorted(r.days_overdue.days for r in due) == [0, 1]
    assert all(r.due_on <= TODAY() for r in due)
    assert not Referral.objects.filter(due_on__gt=F("overdue_from") + timedelta(days=1)).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")
@pytest.mark.parametrize("one_borough", [False, True])
def test_queue_page_is_a_limited_read_of_a_due_index_with_no_sort(
    officer, lewisham_pilot, one_borough
):
    for days_ago in range(30, 36):
        EncounterFactory(
            borough=lewisham_pilot,
            accepted=True,
            person=PersonFactory(),
            encounter_date=TODAY() - timedelta(days=days_ago),
        )
    borough_id = lewisham_pilot.pk if one_borough else None
    referrals = selectors.referrals_due(user=officer, borough_id=borough_id)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        plan = referrals.order_by(*selectors.QUEUE_ORDER[True])[:21].explain()
    assert "referral_due" in plan and "Sort" not in plan
