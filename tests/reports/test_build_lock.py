"""The week lock a report build holds: owned by one job, expiring unless renewed, never waited on.

These run against the real Redis of REDIS_URL (the lock is a no-op without one, tested last).
"""

import time
from datetime import date

import pytest
from django.conf import settings

from reports import services
from reports.models import JobStatus, ReportBuildJob, ReportVersion
from reports.services import (
    GAVE_UP,
    MAX_ATTEMPTS,
    REPLACED,
    RESTARTED,
    WeekBusy,
    WeekLock,
    WeekLockLost,
    week_lock_holder,
)
from tests.reports.factories import meet, person

WEEK = "2024-W03"
OTHER_WEEK = "2024-W04"

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis)")


@pytest.fixture
def short_lock(settings):
    """A one-second lock, so expiry and renewal show in a test; no lock left behind."""
    settings.REPORT_BUILD_LOCK_TTL = 1
    yield
    if settings.REDIS_URL:
        services._redis().delete(*(services.LOCK_PREFIX + w for w in (WEEK, OTHER_WEEK)))


def _stop_renewing(lock: WeekLock) -> None:
    """Act as a worker killed mid-build: its lock is no longer renewed."""
    assert lock._renewal is not None
    lock._renewal.stop()


@needs_redis
def test_a_held_week_refuses_another_build_at_once_but_other_weeks_go_ahead(short_lock):
    with WeekLock(week=WEEK, job_id=1):
        started = time.monotonic()
        with pytest.raises(WeekBusy) as busy, WeekLock(week=WEEK, job_id=2):
            pass
        assert time.monotonic() - started < 0.5, "a busy week must not be waited for"
        assert (busy.value.job_id, busy.value.holder) == (2, "1")
        with WeekLock(week=OTHER_WEEK, job_id=2):
            assert week_lock_holder(OTHER_WEEK) == "2"
    assert week_lock_holder(WEEK) is None
    assert week_lock_holder(OTHER_WEEK) is None


@needs_redis
def test_the_lock_is_renewed_while_the_build_runs(short_lock):
    with WeekLock(week=WEEK, job_id=1) as lock:
        time.sleep(2.5)  # more than twice its lifetime
        assert week_lock_holder(WEEK) == "1"
        lock.check()


@needs_redis
def test_a_lock_no_longer_renewed_expires_and_its_build_may_not_save(short_lock):
    with WeekLock(week=WEEK, job_id=1) as dead:
        _stop_renewing(dead)
        time.sleep(1.3)
        assert week_lock_holder(WEEK) is None
        with pytest.raises(WeekLockLost):
            dead.check()


@needs_redis
def test_only_the_owner_releases_the_lock(short_lock):
    """A build whose lock expired and was taken over must not free its successor's lock."""
    dead = WeekLock(week=WEEK, job_id=1)
    dead.__enter__()
    _stop_renewing(dead)
    time.sleep(1.3)
    with WeekLock(week=WEEK, job_id=2):
        dead.__exit__(None, None, None)
        assert week_lock_holder(WEEK) == "2"
        assert dead.renew() is False, "an expired owner cannot renew someone else's lock"
        assert week_lock_holder(WEEK) == "2"


@needs_redis
def test_a_job_finding_its_week_locked_does_not_wait_and_says_why(short_lock, boroughs):
    job = ReportBuildJob.objects.create(week=WEEK)
    with WeekLock(week=WEEK, job_id=job.pk + 1000):
        started = time.monotonic()
        with pytest.raises(WeekBusy) as busy:
            services.report_build_job_run(job_id=job.pk)
        assert time.monotonic() - started < 0.5
    assert busy.value.job_id == job.pk and busy.value.retry_in >= 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.message == f"Waiting for another build of {WEEK} to finish."
    assert not ReportVersion.objects.exists()


@needs_redis
def test_a_job_whose_own_dead_attempt_still_holds_the_lock_waits_for_it_to_expire(
    short_lock, boroughs
):
    job = ReportBuildJob.objects.create(week=WEEK, status=JobStatus.RUNNING, attempts=1)
    dead = WeekLock(week=WEEK, job_id=job.pk)
    dead.__enter__()
    _stop_renewing(dead)

    with pytest.raises(WeekBusy):
        services.report_build_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.message.startswith("If the worker building this report has stopped")

    time.sleep(1.3)
    job = services.report_build_job_run(job_id=job.pk)
    assert job.status == JobStatus.READY
    assert job.message == RESTARTED
    assert job.attempts == 2


def test_a_job_left_running_by_a_dead_worker_is_replaced_by_the_next_build(boroughs):
    meet(person("L1"), date(2024, 1, 15), "diverted")
    orphan = ReportBuildJob.objects.create(week=WEEK, status=JobStatus.RUNNING, attempts=1)
    elsewhere = ReportBuildJob.objects.create(week=OTHER_WEEK, status=JobStatus.RUNNING)
    job = ReportBuildJob.objects.create(week=WEEK)

    job = services.report_build_job_run(job_id=job.pk)

    orphan.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (job.status, job.report.number) == (JobStatus.READY, 1)
    assert (orphan.status, orphan.message) == (JobStatus.FAILED, REPLACED)
    assert orphan.finished_at is not None
    assert elsewhere.status == JobStatus.RUNNING, "another week's build is not touched"


def test_a_job_that_keeps_killing_its_worker_is_not_tried_again(boroughs):
    job = ReportBuildJob.objects.create(week=WEEK, status=JobStatus.RUNNING, attempts=MAX_ATTEMPTS)
    job = services.report_build_job_run(job_id=job.pk)
    assert (job.status, job.message) == (JobStatus.FAILED, GAVE_UP)
    assert not ReportVersion.objects.exists()


def test_a_running_job_records_its_step_worker_and_heartbeat(boroughs, monkeypatch):
    job = ReportBuildJob.objects.create(week=WEEK)
    seen: list[tuple[str, str, bool]] = []

    def report_with_disproportionality(*, week):
        row = ReportBuildJob.objects.get(pk=job.pk)
        seen.append((row.status, row.step, row.heartbeat_at is not None and bool(row.worker)))
        return {"week": week}, []

    monkeypatch.setattr(services, "report_with_disproportionality", report_with_disproportionality)
    job = services.report_build_job_run(job_id=job.pk)

    assert seen == [(JobStatus.RUNNING, "Gathering the figures", True)]
    assert (job.status, job.step, job.attempts) == (JobStatus.READY, "", 1)


def test_a_starting_worker_sends_again_the_jobs_left_running(db, monkeypatch):
    running = ReportBuildJob.objects.create(week=WEEK, status=JobStatus.RUNNING)
    ReportBuildJob.objects.create(week=OTHER_WEEK, status=JobStatus.READY)
    ReportBuildJob.objects.create(week=OTHER_WEEK, status=JobStatus.QUEUED)
    sent: list[int] = []
    monkeypatch.setattr(
        services, "report_build_job_send", lambda *, job_id, countdown=0: sent.append(job_id)
    )

    assert services.report_build_jobs_recover() == [running.pk]
    assert sent == [running.pk]


def test_without_redis_the_lock_never_blocks(settings):
    settings.REDIS_URL = ""
    with WeekLock(week=WEEK, job_id=1) as first, WeekLock(week=WEEK, job_id=2) as second:
        first.check()
        second.check()
        assert first.renew() and second.renew()
    assert week_lock_holder(WEEK) is None


def test_the_job_page_shows_the_step_a_build_is_on_and_why_a_job_waits(client, analyst):
    running = ReportBuildJob.objects.create(
        week=WEEK, status=JobStatus.RUNNING, step="Gathering the figures"
    )
    waiting = ReportBuildJob.objects.create(
        week=WEEK, message=f"Waiting for another build of {WEEK} to finish."
    )
    client.force_login(analyst)

    running_page = client.get(f"/reports/jobs/{running.pk}/").content.decode()
    waiting_page = client.get(f"/reports/jobs/{waiting.pk}/").content.decode()

    assert "Current step: Gathering the figures" in running_page
    assert "Current step" not in waiting_page
    assert f"Waiting for another build of {WEEK} to finish." in waiting_page
