"""Background jobs for diversion: each only delegates to a service (STYLE: tasks delegate)."""

from datetime import date

from celery import shared_task

from config.celery_app import RETRYING_TASK
from diversion.retention import people_anonymise
from diversion.services import referrals_due_dates_refresh, referrals_flag_overdue


@shared_task(
    name="diversion.tasks.referrals_flag_overdue_task",
    soft_time_limit=9 * 60,
    time_limit=10 * 60,
    **RETRYING_TASK,
)
def referrals_flag_overdue_task(today: str | None = None) -> int:
    """Flag referrals with no outcome in time; return how many were flagged.

    Safe to run twice: a referral already flagged is left alone. ``today`` (YYYY-MM-DD) lets
    a missed day be re-run; by default it is today in Europe/London. First it puts right any
    open referral's stored due dates (after a change to ``REFERRAL_OUTCOME_DAYS``).
    """
    referrals_due_dates_refresh()
    return referrals_flag_overdue(today=date.fromisoformat(today) if today else None)


@shared_task(
    name="diversion.tasks.people_anonymise_task",
    soft_time_limit=25 * 60,
    time_limit=30 * 60,
    **RETRYING_TASK,
)
def people_anonymise_task(today: str | None = None) -> int:
    """Anonymise people past the retention period; return how many.

    Safe to run twice: people already anonymised are left alone.
    """
    return people_anonymise(today=date.fromisoformat(today) if today else None)
