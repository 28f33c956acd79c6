"""Celery tasks for the weekly report, and a real worker building one end to end."""

import time
from datetime import date

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError

from reports.models import JobStatus, ReportBuildJob, ReportVersion
from reports.services import report_build_enqueue
from reports.tasks import report_build_scheduled_task, report_build_task
from tests.reports.factories import meet, person

WEEK = "2024-W03"

# `boroughs` (tests/reports/conftest.py): pilot Lewisham and Hackney, comparison Southwark.
# `celery_worker_process` (tests/reports/conftest.py) runs a real worker.


def test_beat_schedule_names_the_scheduled_task_on_monday_mornings():
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-report"]
    # Beat sends only the name, so it must be the one the scheduled build is registered under.
    assert entry["task"] == report_build_scheduled_task.name
    assert entry["schedule"] == crontab(minute=0, hour=6, day_of_week="mon")


def test_build_task_runs_the_job_and_is_safe_to_run_twice(boroughs):
    meet(person("K1"), date(2024, 1, 15), "diverted")
    job = ReportBuildJob.objects.create(week=WEEK)

    first = report_build_task.apply(args=[job.pk]).get()
    second = report_build_task.apply(args=[job.pk]).get()

    job.refresh_from_db()
    assert job.status == JobStatus.READY
    assert first == second == job.report_id
    assert ReportVersion.objects.filter(week=WEEK).count() == 1


@pytest.mark.parametrize("task", [report_build_task, report_build_scheduled_task])
def test_build_tasks_retry_with_back_off_when_the_database_or_broker_is_unavailable(task):
    assert OperationalError in task.autoretry_for
    assert ConnectionError in task.autoretry_for
    assert Exception not in task.autoretry_for, "a bug is never retried"
    assert task.retry_backoff is True
    assert task.time_limit and task.soft_time_limit


def test_scheduled_task_builds_the_week_just_ended(boroughs, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2024, 1, 24))
    version_id = report_build_scheduled_task.apply().get()
    version = ReportVersion.objects.get(pk=version_id)
    assert version.week == "2024-W03"
    assert version.built_by_schedule


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_real_worker_builds_an_enqueued_report(reference_data, celery_worker_process, analyst):
    """A build enqueued through Redis is picked up by a separate worker process."""
    _, log = celery_worker_process
    from boroughs.services import borough_configure

    borough_configure(gss_code="E09000023", role="pilot", pilot_start=date(2020, 1, 1))
    borough_configure(gss_code="E09000028", role="comparison")
    meet(person("W1"), date(2024, 1, 15), "diverted")
    meet(person("W2"), date(2024, 1, 16), "declined")

    job = report_build_enqueue(week=WEEK, by=analyst)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (JobStatus.READY, JobStatus.FAILED):
            break
        time.sleep(0.5)
    assert job.status == JobStatus.READY, f"job {job.status}: {job.message}\n{log.read_text()}"
    assert job.task_id
    version = job.report
    assert (version.week, version.number, version.built_by) == (WEEK, 1, analyst)
    everyone = version.data["activity"][-1]
    assert everyone == {
        "borough": "ALL",
        "encounters": 2,
        "diverted": 1,
        "declined": 1,
        "not_offered": 0,
        "ineligible": 0,
    }
