"""Celery tasks for the weekly report and reoffence uploads; each only delegates to a service.

All are safe to run twice (a rebuild with unchanged figures adds no version) and retry with
back-off when the database or broker is briefly unavailable.
"""

from celery import shared_task

from config.celery_app import RETRYING_TASK
from reports import import_jobs, services

SOFT_TIME_LIMIT = 25 * 60
TIME_LIMIT = 30 * 60


@shared_task(
    name="reports.tasks.report_build_task",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    **RETRYING_TASK,
)
def report_build_task(job_id: int) -> int | None:
    """Run the build job ``job_id``; return the id of the version it produced."""
    job = services.report_build_job_run(job_id=job_id)
    return job.report_id


@shared_task(
    name="reports.tasks.report_build_scheduled_task",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    **RETRYING_TASK,
)
def report_build_scheduled_task() -> int | None:
    """Build the report for the ISO week just ended (Europe/London), as the schedule."""
    job = services.report_build_scheduled()
    return job.report_id


@shared_task(
    name="reports.tasks.reoffence_import_task",
    soft_time_limit=10 * 60,
    time_limit=12 * 60,
    **RETRYING_TASK,
)
def reoffence_import_task(job_id: int) -> str:
    """Run the reoffence import job ``job_id``; return its final status."""
    return import_jobs.reoffence_import_job_run(job_id=job_id).status
