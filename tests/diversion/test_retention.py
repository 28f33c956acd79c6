"""Retention: personal data goes once follow-up has long closed; the figures stay the same."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings

from audit.models import AuditEvent
from boroughs.services import borough_configure
from config.celery_app import app
from diversion.exports import encounters_export
from diversion.models import Encounter, Person
from diversion.retention import REMOVED_DATE_OF_BIRTH, months_before, people_anonymise
from diversion.services import encounter_record, person_create, reoffence_record
from diversion.tasks import people_anonymise_task
from reports.measure import disproportionality, report_data
from reports.weeks import week_of

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 6, 15), 36, date(2023, 6, 15)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 10), 1, date(2025, 12, 10)),
        (date(2026, 12, 31), 12, date(2025, 12, 31)),
    ],
)
def test_months_before_clamps_to_the_end_of_a_short_month(day, months, expected):
    assert months_before(day, months) == expected


def meet(ref: str, born: date, day: date, *, accepted=None, location="Catford Broadway"):
    person = Person.objects.filter(person_ref=ref).first() or person_create(
        first_name="Ria",
        last_name=f"Khan{ref}",
        date_of_birth=born,
        gender="female",
        ethnicity="A1",
        pnc_id=f"12/{ref}Z",
        person_ref=ref,
    )
    return encounter_record(
        by=None,
        person=person,
        borough=borough_configure(gss_code="E09000023", role="pilot", pilot_start=date(2020, 1, 1)),
        encounter_date=day,
        substance="cannabis_herbal",
        quantity_grams=Decimal("2"),
        accepted=accepted,
        location=location,
    )


@pytest.fixture
def history():
    """Old and recent people, with diversions, declines and a reoffence."""
    old_day = TODAY - timedelta(days=3 * 365 + 90)  # follow-up closed over 2 years ago
    meet("OLD-1", date(2002, 1, 1), old_day, accepted=True)
    meet("OLD-2", date(2001, 5, 5), old_day + timedelta(days=3), accepted=False)
    meet("OLD-2", date(2001, 5, 5), old_day + timedelta(days=40))
    reoffence_record(
        person=Person.objects.get(person_ref="OLD-1"),
        by=None,
        offence_date=old_day + timedelta(days=60),
        offence_type="Theft",
        source_ref="",
    )
    recent_day = TODAY - timedelta(days=3 * 365 - 30)  # closed a month short of 2 years
    meet("NEW-1", date(2003, 2, 2), recent_day, accepted=True)
    return old_day


def figures(old_day: date) -> list:
    weeks = [week_of(old_day), week_of(old_day + timedelta(days=420)), week_of(TODAY)]
    out = io.StringIO()
    encounters_export(stream=out)
    return (
        [report_data(week=w) for w in weeks]
        + [disproportionality(week=weeks[-1])]
        + [out.getvalue()]
    )


def test_reports_and_exports_are_identical_after_anonymisation(history):
    before = figures(history)
    assert people_anonymise(today=TODAY) == 2
    assert figures(history) == before


def test_only_people_past_retention_lose_their_personal_data(history):
    people_anonymise(today=TODAY)
    old = Person.objects.get(person_ref="OLD-1")
    assert (old.first_name, old.last_name, old.pnc_id) == ("", "", "")
    assert old.date_of_birth == REMOVED_DATE_OF_BIRTH and old.anonymised_at is not None
    assert (old.gender, old.ethnicity, old.pseudonym) != ("", "", "")
    assert set(Encounter.objects.filter(person=old).values_list("location", flat=True)) == {""}
    # History keeps no copy of what was removed.
    assert not Person.history.filter(id=old.id).exclude(first_name="").exists()
    assert not Encounter.history.filter(person_id=old.id).exclude(location="").exists()
    new = Person.objects.get(person_ref="NEW-1")
    assert new.first_name == "Ria" and new.anonymised_at is None
    assert people_anonymise(today=TODAY) == 0  # running again changes nothing


@override_settings(RETENTION_MONTHS=36)
def test_the_retention_period_is_a_setting(history):
    assert people_anonymise(today=TODAY, dry_run=True) == 0


def test_dry_run_counts_changes_nothing_and_is_audited(history, monkeypatch):
    monkeypatch.setattr("diversion.retention.timezone.localdate", lambda: TODAY)
    monkeypatch.setattr("getpass.getuser", lambda: "dpo")
    out = io.StringIO()
    call_command("anonymise_people", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "2 people would be anonymised (retention 24 months)."
    assert not Person.objects.filter(anonymised_at__isnull=False).exists()
    event = AuditEvent.objects.get(action="retention.run")
    assert (event.actor, event.channel) == ("os:dpo", "command")
    assert event.detail == "people: 2; dry run: yes; retention months: 24"


def test_the_nightly_task_delegates_and_is_scheduled(history, celery_eager):
    assert people_anonymise_task.delay(today=TODAY.isoformat()).get() == 2
    schedule = app.conf.beat_schedule["anonymise-past-retention"]
    assert schedule["task"] == "diversion.tasks.people_anonymise_task"
    assert AuditEvent.objects.get(action="retention.run").actor == "retention schedule"
