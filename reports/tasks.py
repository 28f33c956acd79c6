"""Celery tasks for the weekly report and reoffence uploads; each only delegates to a service.

All are safe to run twice (a rebuild with unchanged figures adds no version) and retry with
back-off when the database or broker is briefly unavailable. No build waits for a week another
build holds: the job is sent again for later, so the worker moves on to other weeks.
"""

from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready
from django.db import connections

from config.celery_app import RETRYING_TASK
from reports import import_jobs, services

SOFT_TIME_LIMIT = 25 * 60
TIME_LIMIT = 30 * 60
BUILD_TASK: dict[str, Any] = {**RETRYING_TASK, "autoretry_for": services.RETRY_BUILD_ON}


def _later(task: Task, busy: services.WeekBusy) -> None:
    """Send the waiting job again after a pause, or give up at once when run in-process."""
    if task.request.is_eager or busy.job_id is None:
        raise busy
    services.report_build_job_send(job_id=busy.job_id, countdown=busy.retry_in)


@shared_task(
    bind=True,
    name="reports.tasks.report_build_task",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    **BUILD_TASK,
)
def report_build_task(self: Task, job_id: int) -> int | None:
    """Run the build job ``job_id``; return the id of the version it produced."""
    try:
        job = services.report_build_job_run(job_id=job_id)
    except services.WeekBusy as busy:
        _later(self, busy)
        return None
    return job.report_id


@shared_task(
    bind=True,
    name="reports.tasks.report_build_scheduled_task",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    **BUILD_TASK,
)
def report_build_scheduled_task(self: Task) -> int | None:
    """Build the report for the ISO week just ended (Europe/London), as the schedule."""
    try:
        job = services.report_build_scheduled()
    except services.WeekBusy as busy:
        _later(self, busy)
        return None
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


@worker_ready.connect
def recover_build_jobs(**kwargs: Any) -> None:
    """Send again the builds a killed worker left running, as a worker starts."""
    services.report_build_jobs_recover()
    # The pool forks from this process; it must not share this connection with it.
    connections.close_all()
