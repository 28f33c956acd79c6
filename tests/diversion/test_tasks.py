"""The daily job that flags referrals with no outcome in time."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from diversion.models import Referral
from diversion.tasks import referrals_flag_overdue_task
from tests.diversion.factories import EncounterFactory


def _diverted(officer, days_ago: int) -> Referral:
    """The referral of a new person who accepted diversion ``days_ago`` days ago."""
    return EncounterFactory(
        officer=officer,
        encounter_date=timezone.localdate() - timedelta(days=days_ago),
        quantity_grams=Decimal("2"),
        accepted=True,
    ).referral


def test_beat_schedule_calls_the_task_by_its_registered_name():
    scheduled = settings.CELERY_BEAT_SCHEDULE["flag-overdue-referrals"]["task"]

    assert (
        referrals_flag_overdue_task.name
        == scheduled
        == ("diversion.tasks.referrals_flag_overdue_task")
    )


def test_task_retries_on_lost_database_or_broker_and_has_a_time_limit():
    assert set(referrals_flag_overdue_task.autoretry_for) == {OperationalError, ConnectionError}
    assert referrals_flag_overdue_task.retry_backoff is True
    assert referrals_flag_overdue_task.time_limit == 600


def test_task_flags_overdue_referrals_and_running_it_again_changes_nothing(officer):
    overdue = _diverted(officer, days_ago=35)
    recent = _diverted(officer, days_ago=3)

    first = referrals_flag_overdue_task.apply().get()
    overdue.refresh_from_db()
    flagged_at = overdue.flagged_at
    second = referrals_flag_overdue_task.apply().get()

    assert (first, second) == (1, 0)
    overdue.refresh_from_db()
    recent.refresh_from_db()
    assert overdue.flagged_at == flagged_at is not None
    assert recent.flagged_at is None


def test_task_can_rerun_a_missed_day(officer):
    referral = _diverted(officer, days_ago=30)
    day_before_due = (timezone.localdate() - timedelta(days=3)).isoformat()

    assert referrals_flag_overdue_task.apply(kwargs={"today": day_before_due}).get() == 0
    assert referrals_flag_overdue_task.apply(kwargs={"today": None}).get() == 1
    referral.refresh_from_db()
    assert referral.flagged_at is not None


def test_task_puts_stored_due_dates_right_after_the_outcome_days_change(officer, settings):
    """A new REFERRAL_OUTCOME_DAYS moves every open referral in the queue by the next day."""
    referral = _diverted(officer, days_ago=5)
    day = referral.encounter.encounter_date
    assert referral.due_on == day + timedelta(days=28)

    settings.REFERRAL_OUTCOME_DAYS = 3
    referrals_flag_overdue_task.apply().get()

    referral.refresh_from_db()
    assert (referral.due_on, referral.overdue_from) == (day + timedelta(3), day + timedelta(3))
    assert referral.flagged_at is not None  # and, now 2 days late, it is flagged
    assert referral.history.count() == 2  # opened, flagged: the stored dates are not history
