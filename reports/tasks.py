"""Celery tasks for the weekly report; each only delegates to a service.

Both are safe to run twice (a rebuild with unchanged figures adds no version) and retry with
back-off when the database or broker is briefly unavailable.
"""

from celery import shared_task
from django.db import OperationalError

from reports import services

RETRY_ON = (OperationalError, ConnectionError)
SOFT_TIME_LIMIT = 25 * 60
TIME_LIMIT = 30 * 60


@shared_task(
    name="reports.tasks.report_build_task",
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    acks_late=True,
)
def report_build_task(job_id: int) -> int | None:
    """Run the build job ``job_id``; return the id of the version it produced."""
    job = services.report_build_job_run(job_id=job_id)
    return job.report_id


@shared_task(
    name="reports.tasks.report_build_scheduled_task",
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    acks_late=True,
)
def report_build_scheduled_task() -> int | None:
    """Build the report for the ISO week just ended (Europe/London), as the schedule."""
    job = services.report_build_scheduled()
    return job.report_id
