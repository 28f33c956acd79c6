"""Celery tasks for the weekly report, and a real worker building one end to end."""

import base64
import json
import os
import signal
import time
from datetime import date

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError

from reports.models import JobStatus, ReportBuildJob, ReportVersion
from reports.services import RESTARTED, _redis, report_build_enqueue, week_lock_holder
from reports.tasks import report_build_scheduled_task, report_build_task
from tests.reports.conftest import Worker
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


OTHER_WEEK = "2024-W04"


def _stage_encounters() -> None:
    from boroughs.services import borough_configure

    borough_configure(gss_code="E09000023", role="pilot", pilot_start=date(2020, 1, 1))
    meet(person("X1"), date(2024, 1, 15), "diverted")
    meet(person("X2"), date(2024, 1, 23), "declined")


def _wait_for(job: ReportBuildJob, done, worker: Worker, timeout: float = 90) -> ReportBuildJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if done(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.status} ({job.step}): {job.message}\n{worker.text()}")


def _finished(job: ReportBuildJob) -> bool:
    return job.status in (JobStatus.READY, JobStatus.FAILED)


def _mid_build(job: ReportBuildJob) -> bool:
    return job.status == JobStatus.RUNNING and job.step == "Gathering the figures"


def _pool_pid(job: ReportBuildJob) -> int:
    return int(job.worker.rsplit(":", 1)[1])


def _assert_rebuilt_once(job: ReportBuildJob, worker: Worker) -> None:
    assert job.status == JobStatus.READY, f"{job.message}\n{worker.text()}"
    assert job.attempts == 2
    assert job.message == RESTARTED
    assert list(ReportVersion.objects.filter(week=WEEK).values_list("number", flat=True)) == [1]
    assert job.report.number == 1
    assert week_lock_holder(WEEK) is None


def _assert_both_weeks_build_promptly(analyst, worker: Worker) -> None:
    """Builds of the same week and of another week now run at once (each takes about 5 s)."""
    started = time.monotonic()
    same = report_build_enqueue(week=WEEK, by=analyst)
    other = report_build_enqueue(week=OTHER_WEEK, by=analyst)
    same = _wait_for(same, _finished, worker, timeout=40)
    other = _wait_for(other, _finished, worker, timeout=40)
    assert time.monotonic() - started < 40
    assert (same.status, same.report.number) == (JobStatus.READY, 1), "nothing changed"
    assert same.message == "Nothing had changed, so the latest version was kept."
    assert other.status == JobStatus.READY and other.report.week == OTHER_WEEK


def _forget_unacked(job_id: int) -> None:
    """Drop the killed worker's unacknowledged message, so no later run redelivers it."""
    client = _redis()
    for tag, raw in client.hgetall("unacked").items():
        payload = json.loads(raw)[0]
        args = json.loads(base64.b64decode(payload["body"]))[0]
        if args == [job_id]:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_build_whose_pool_process_is_killed_is_run_again_once(
    reference_data, start_worker, analyst
):
    """Killing the pool process mid-build (say, out of memory) gives the task back to the
    queue; it runs again once the dead attempt's lock lapses, and nothing else waits."""
    _stage_encounters()
    worker = start_worker("pool-killed")
    job = _wait_for(report_build_enqueue(week=WEEK, by=analyst), _mid_build, worker)
    assert _pool_pid(job) != worker.pid

    os.kill(_pool_pid(job), signal.SIGKILL)
    elsewhere = report_build_enqueue(week=OTHER_WEEK, by=analyst)

    _assert_rebuilt_once(_wait_for(job, _finished, worker), worker)
    assert "WorkerLostError" in worker.text()
    assert _wait_for(elsewhere, _finished, worker).status == JobStatus.READY
    _assert_both_weeks_build_promptly(analyst, worker)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_build_whose_whole_worker_is_killed_is_run_again_by_the_next_worker(
    reference_data, start_worker, analyst
):
    """Killing the whole worker leaves its task unacknowledged until the broker's visibility
    timeout (45 minutes); the next worker to start sends the job again instead."""
    _stage_encounters()
    dead = start_worker("killed")
    job = _wait_for(report_build_enqueue(week=WEEK, by=analyst), _mid_build, dead)

    os.kill(dead.pid, signal.SIGKILL)
    os.kill(_pool_pid(job), signal.SIGKILL)
    dead.process.wait(timeout=10)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING, "nobody is left to say otherwise"

    try:
        worker = start_worker("replacement")
        _assert_rebuilt_once(_wait_for(job, _finished, worker), worker)
        assert f"Build job {job.pk} was left running" in worker.text()
        _assert_both_weeks_build_promptly(analyst, worker)
    finally:
        _forget_unacked(job.pk)


@pytest.mark.parametrize("task", [report_build_task, report_build_scheduled_task])
def test_build_tasks_go_back_to_the_queue_if_their_worker_dies(task):
    """Acknowledged only when done, and requeued when the process running them is killed."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert RedisConnectionError in task.autoretry_for, "the week lock lives in Redis"
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > task.time_limit, "else Redis hands a slow build to a second worker"
