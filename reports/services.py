"""Writes for the weekly report: building versions and the jobs that build them.

A build stores the SPEC §6 JSON on a new ``ReportVersion`` so approval and every download show
the same numbers. Rebuilding with unchanged figures adds no version; approved versions are never
touched, because a rebuild only ever adds a version.
"""

import functools
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from redis import Redis, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.lock import Lock as RedisLock

from audit.history import audit_as
from config.celery_app import RETRY_ON, task
from reports.measure import report_with_disproportionality
from reports.models import JobStatus, ReportBuildJob, ReportStatus, ReportVersion
from reports.weeks import parse_week, week_just_ended

logger = logging.getLogger(__name__)

LOCK_PREFIX = "reports:build-lock:"
# A direct build (the build_report command) may wait for a running one; a worker never does.
DIRECT_WAIT = 30 * 60
# A job whose worker died this many times is not tried again: it may be what kills them.
MAX_ATTEMPTS = 3
# The week lock lives in Redis: a dropped Redis connection is retried like a dropped database.
RETRY_BUILD_ON = (*RETRY_ON, RedisConnectionError)


class ReportBuildBusy(RuntimeError):
    """A build could not finish storing its version, or could not start; try again later."""


class WeekBusy(ReportBuildBusy):
    """Another build holds the week's lock; this one should be tried again later, not wait."""

    def __init__(self, *, week: str, job_id: int | None, holder: str | None) -> None:
        super().__init__(f"Another build of {week} is running")
        self.week = week
        self.job_id = job_id
        self.holder = holder
        self.retry_in = max(1, int(settings.REPORT_BUILD_LOCK_TTL) // 4)


class WeekLockLost(ReportBuildBusy):
    """The build's lock expired (it stopped renewing), so it must not store a version."""


def _sorted_lists(value: Any) -> Any:
    """Return ``value`` with every list sorted by its items' canonical JSON, recursively."""
    if isinstance(value, dict):
        return {key: _sorted_lists(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def canonical_json(data: dict) -> str:
    """Return the canonical JSON of report data: lists sorted, keys sorted, no spaces.

    The SPEC lets lists come in any order, so they are sorted before hashing; the same figures
    then always give the same SHA-256, whatever order the database returned rows in.
    """
    return json.dumps(_sorted_lists(data), sort_keys=True, separators=(",", ":"))


def data_sha256(data: dict) -> str:
    """Return the SHA-256 (hex) of the canonical JSON of report data."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


class WeekLock:
    """Let one build at a time work on a week, owned by that build and expiring unless renewed.

    The lock is a Redis key whose value names its owner (the job id and a random token), so
    only the owner can renew or release it (redis-py's ``Lock`` compares and deletes in one Lua
    script). It lives ``REPORT_BUILD_LOCK_TTL`` seconds and a background thread renews it every
    third of that while the build runs: a worker killed mid-build stops renewing, and the week
    is free again within minutes rather than blocked for good. Without Redis (tasks run in the
    web process) there is nothing to share a lock with, so it always succeeds; the unique
    (week, number) constraint still keeps versions apart.
    """

    def __init__(self, *, week: str, job_id: int | None = None, wait: float = 0) -> None:
        self.week = week
        self.job_id = job_id
        self.ttl = float(settings.REPORT_BUILD_LOCK_TTL)
        self.token = f"{job_id or 'direct'}:{uuid.uuid4().hex}"
        self._lock = (
            RedisLock(
                _redis(),
                LOCK_PREFIX + week,
                timeout=self.ttl,
                sleep=0.5,
                blocking=wait > 0,
                blocking_timeout=wait or None,
                thread_local=False,  # the renewing thread must see the token
            )
            if settings.REDIS_URL
            else None
        )
        self._renewal: _Renewal | None = None

    def __enter__(self) -> "WeekLock":
        if self._lock is not None and not self._lock.acquire(token=self.token):
            raise WeekBusy(week=self.week, job_id=self.job_id, holder=week_lock_holder(self.week))
        if self._lock is not None:
            self._renewal = _Renewal(self)
            self._renewal.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._renewal is not None:
            self._renewal.stop()
        if self._lock is None:
            return
        try:
            self._lock.release()
        except LockError:
            logger.warning("The build lock for %s had expired before it was released", self.week)

    def renew(self) -> bool:
        """Push the lock's expiry back to a full lifetime; return False if it is no longer ours."""
        if self._lock is None:
            return True
        try:
            return self._lock.extend(self.ttl, replace_ttl=True)
        except LockError:  # not ours any more, or already released
            return False

    def check(self) -> None:
        """Raise ``WeekLockLost`` if this build no longer owns the week (it expired)."""
        if self._lock is not None and not self._lock.owned():
            raise WeekLockLost(
                "Nothing was heard from this build for too long, so it was stopped. "
                "Build the report again."
            )


class _Renewal(threading.Thread):
    """Renew a week lock every third of its lifetime until stopped or the lock is lost."""

    def __init__(self, lock: WeekLock) -> None:
        super().__init__(name=f"renew-build-lock-{lock.week}", daemon=True)
        self.lock = lock
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.lock.ttl / 3):
            try:
                if not self.lock.renew():
                    return  # expired and maybe taken: the build sees this before it saves
            except RedisError:
                logger.warning("Could not renew the build lock for %s", self.lock.week)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


@functools.cache
def _redis_for(url: str) -> Redis:
    return Redis.from_url(url)


def _redis() -> Redis:
    """Return a Redis client for ``REDIS_URL``, one connection pool per process."""
    return _redis_for(settings.REDIS_URL)


def week_lock_holder(week: str) -> str | None:
    """Return who holds a week's build lock: a job id, "direct", or None when it is free."""
    if not settings.REDIS_URL:
        return None
    value = _redis().get(LOCK_PREFIX + week)
    if not value:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text.split(":", 1)[0]


def _latest(week: str) -> ReportVersion | None:
    return ReportVersion.objects.filter(week=week).order_by("-number").first()


def report_build(
    *, week: str, by: User | None = None, by_schedule: bool = False
) -> tuple[ReportVersion, bool]:
    """Build the report for an ISO week; return (version, whether a new version was made).

    For callers outside the job queue (the ``build_report`` command): it waits for a running
    build of the same week to finish rather than failing at once.
    """
    parse_week(week)
    week = week.strip()
    with WeekLock(week=week, wait=DIRECT_WAIT) as lock:
        return _build(week=week, by=by, by_schedule=by_schedule, lock=lock, job_id=None)


def _step(*, lock: WeekLock, job_id: int | None, step: str) -> None:
    """Record the step a build is on, after checking it still owns the week's lock."""
    lock.check()
    if job_id is not None:
        ReportBuildJob.objects.filter(pk=job_id).update(step=step, heartbeat_at=timezone.now())
    # Test-only: lets the worker-loss test kill a worker part-way through a build.
    delay = getattr(settings, "REPORT_BUILD_TEST_STEP_DELAY", 0)
    if delay:
        time.sleep(delay)


def _build(
    *,
    week: str,
    by: User | None,
    by_schedule: bool,
    lock: WeekLock,
    job_id: int | None,
) -> tuple[ReportVersion, bool]:
    """Build a week's report while holding its lock.

    When the latest version already holds identical figures it is returned as it is. Otherwise
    a new draft version numbered one above the latest is stored. The unique (week, number)
    constraint is the database's guard if two builds ever race past the lock: the loser
    re-reads the latest version and tries again.
    """
    period_start, period_end = parse_week(week)
    _step(lock=lock, job_id=job_id, step="Gathering the figures")
    # One pass over the per-person work gives both the figures and the group comparison.
    data, groups = report_with_disproportionality(week=week)
    _step(lock=lock, job_id=job_id, step="Comparing groups")
    extra = json.loads(json.dumps({"disproportionality": groups}))
    sha256 = data_sha256(data)
    _step(lock=lock, job_id=job_id, step="Saving the version")
    for _attempt in range(3):
        latest = _latest(week)
        if latest is not None and latest.sha256 == sha256 and latest.extra == extra:
            return latest, False
        version = ReportVersion(
            week=week,
            period_start=period_start,
            period_end=period_end,
            number=(latest.number if latest else 0) + 1,
            data=data,
            extra=extra,
            sha256=sha256,
            built_at=timezone.now(),
            built_by=by,
            built_by_schedule=by_schedule,
            status=ReportStatus.DRAFT,
        )
        version.full_clean(validate_constraints=False)
        audit_as(version, by=by)
        try:
            with transaction.atomic():
                version.save()
        except IntegrityError:
            continue  # another build took this number; compare with it and go again
        return version, True
    raise ReportBuildBusy("Could not store a new report version; please try again")


def report_build_job_send(*, job_id: int, countdown: float = 0) -> None:
    """Send the task that runs build job ``job_id``; say so on the job if it cannot be sent."""
    report_build_task = task("reports.tasks.report_build_task")
    try:
        result = (
            report_build_task.apply_async(args=(job_id,), countdown=countdown)
            if countdown
            else report_build_task.delay(job_id)
        )
    except Exception:
        # Eager runs have already marked the job failed; a broker that cannot be
        # reached has not, so say so on the job rather than failing the request.
        logger.exception("Could not run or queue build job %s", job_id)
        ReportBuildJob.objects.filter(
            pk=job_id, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
        ).update(
            status=JobStatus.FAILED,
            message="The build could not be queued. Try again in a few minutes.",
            finished_at=timezone.now(),
        )
        return
    ReportBuildJob.objects.filter(pk=job_id, task_id="").update(task_id=result.id or "")


def report_build_enqueue(*, week: str, by: User | None) -> ReportBuildJob:
    """Queue a build of a week's report and return the job the page can follow.

    The task is sent only once the job row is committed, so the worker always finds it.
    """
    parse_week(week)
    job = ReportBuildJob(week=week.strip(), requested_by=by, status=JobStatus.QUEUED)
    job.full_clean()
    with transaction.atomic():
        job.save()
        transaction.on_commit(lambda: report_build_job_send(job_id=job.pk))
    return job


RESTARTED = "The worker building this report stopped before it finished, so it was started again."
REPLACED = (
    "The worker building this report stopped before it finished. "
    "A later build of the same week took its place."
)
GAVE_UP = (
    f"The build stopped its worker {MAX_ATTEMPTS} times, so it was not tried again. "
    "Tell the technical team."
)


def report_build_job_run(*, job_id: int) -> ReportBuildJob:
    """Run a build job: running, then ready with its version, or failed with a message.

    Safe to run twice: a job that is already ready is left alone, and the build itself reuses
    the latest version when nothing has changed. Raises ``WeekBusy`` without waiting when
    another live build holds the week, so the caller can try again later.
    """
    job = ReportBuildJob.objects.select_related("requested_by").get(pk=job_id)
    if job.status == JobStatus.READY:
        return job
    try:
        with WeekLock(week=job.week, job_id=job.pk) as lock:
            return _job_run_locked(job=job, lock=lock)
    except WeekBusy as busy:
        _job_waiting(job=job, busy=busy)
        raise


def _job_waiting(*, job: ReportBuildJob, busy: WeekBusy) -> None:
    """Say on the job why it has not started yet."""
    if busy.holder == str(job.pk):
        # An earlier attempt of this job holds the lock: it is still running elsewhere, or its
        # worker died and the lock expires shortly.
        message = "If the worker building this report has stopped, it starts again shortly."
    else:
        message = f"Waiting for another build of {job.week} to finish."
    ReportBuildJob.objects.filter(pk=job.pk).exclude(status=JobStatus.READY).update(message=message)


def _job_run_locked(*, job: ReportBuildJob, lock: WeekLock) -> ReportBuildJob:
    """Run a job whose week lock is held: any other running job of the week is dead."""
    restarted = job.status == JobStatus.RUNNING  # we hold the lock, so that attempt is dead
    ReportBuildJob.objects.filter(week=job.week, status=JobStatus.RUNNING).exclude(
        pk=job.pk
    ).update(status=JobStatus.FAILED, message=REPLACED, step="", finished_at=timezone.now())
    if restarted and job.attempts >= MAX_ATTEMPTS:
        return _job_finish(job=job, status=JobStatus.FAILED, message=GAVE_UP)
    note = RESTARTED if restarted else ""
    ReportBuildJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        worker=f"{socket.gethostname()}:{os.getpid()}",
        attempts=F("attempts") + 1,
        step="Starting",
        message=note,
    )
    try:
        version, created = _build(
            week=job.week,
            by=job.requested_by,
            by_schedule=job.by_schedule,
            lock=lock,
            job_id=job.pk,
        )
    except Exception as exc:
        _job_failed(job=job, exc=exc)
        raise
    kept = "" if created else "Nothing had changed, so the latest version was kept."
    message = " ".join(part for part in (note, kept) if part)
    return _job_finish(job=job, status=JobStatus.READY, message=message, report=version)


def _job_failed(*, job: ReportBuildJob, exc: Exception) -> None:
    """Record why a build failed, if the database still lets us."""
    logger.exception("Building the report for %s failed", job.week)
    message = (
        "The database or queue was not available; the build will be tried again."
        if isinstance(exc, RETRY_BUILD_ON)
        else f"The report could not be built: {exc}"
    )
    try:
        _job_finish(job=job, status=JobStatus.FAILED, message=message)
    except Exception:  # the database itself may be what failed
        logger.exception("Could not record the failure of job %s", job.pk)


def _job_finish(
    *, job: ReportBuildJob, status: str, message: str, report: ReportVersion | None = None
) -> ReportBuildJob:
    ReportBuildJob.objects.filter(pk=job.pk).update(
        status=status, report=report, message=message, step="", finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def report_build_jobs_recover() -> list[int]:
    """Send again every job left running, as a worker starting up finds them; return their ids.

    A worker killed outright leaves its message unacknowledged until the broker's visibility
    timeout; this starts the build again within the lock's lifetime instead. A job that is in
    fact alive on another worker is safe to send twice: the copy finds the week locked and
    waits, then finds the job ready.
    """
    job_ids = list(
        ReportBuildJob.objects.filter(status=JobStatus.RUNNING).values_list("pk", flat=True)
    )
    for job_id in job_ids:
        logger.warning("Build job %s was left running; sending it again", job_id)
        report_build_job_send(job_id=job_id)
    return job_ids


def report_build_scheduled(*, today=None) -> ReportBuildJob:
    """Build the week just ended (the Monday 06:00 job), recorded as a job like any other."""
    week = week_just_ended(today or timezone.localdate())
    job = ReportBuildJob.objects.create(week=week, by_schedule=True, status=JobStatus.QUEUED)
    return report_build_job_run(job_id=job.pk)
