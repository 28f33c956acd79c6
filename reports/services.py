"""Writes for the weekly report: building versions and the jobs that build them.

A build stores the SPEC §6 JSON on a new ``ReportVersion`` so approval and every download show
the same numbers. Rebuilding with unchanged figures adds no version; approved versions are never
touched, because a rebuild only ever adds a version.
"""

import hashlib
import json
import logging
import time
import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery_app import RETRY_ON
from reports.measure import disproportionality, report_data
from reports.models import JobStatus, ReportBuildJob, ReportStatus, ReportVersion
from reports.weeks import parse_week, week_just_ended

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = 30 * 60  # seconds; longer than the task's hard time limit
LOCK_WAIT = 30 * 60


class ReportBuildBusy(RuntimeError):
    """Another build of the same week held the lock for too long."""


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


class _WeekLock:
    """Hold a cache lock so one week is never built twice at once.

    With REDIS_URL set the cache is Redis, shared by every web and worker process; without it,
    the in-memory cache still serialises builds within the one process that runs them all.
    """

    def __init__(self, week: str) -> None:
        self.key = f"reports:build-lock:{week}"
        self.token = uuid.uuid4().hex

    def __enter__(self) -> "_WeekLock":
        deadline = time.monotonic() + LOCK_WAIT
        while not cache.add(self.key, self.token, timeout=LOCK_TIMEOUT):
            if time.monotonic() > deadline:
                raise ReportBuildBusy("Another build of this week is still running")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        if cache.get(self.key) == self.token:
            cache.delete(self.key)


def _latest(week: str) -> ReportVersion | None:
    return ReportVersion.objects.filter(week=week).order_by("-number").first()


def report_build(
    *, week: str, by: AbstractBaseUser | None = None, by_schedule: bool = False
) -> tuple[ReportVersion, bool]:
    """Build the report for an ISO week; return (version, whether a new version was made).

    When the latest version already holds identical figures it is returned as it is. Otherwise
    a new draft version numbered one above the latest is stored. The unique (week, number)
    constraint is the database's guard if two builds ever race past the lock: the loser
    re-reads the latest version and tries again.
    """
    period_start, period_end = parse_week(week)
    week = week.strip()
    with _WeekLock(week):
        data = report_data(week=week)
        extra = json.loads(json.dumps({"disproportionality": disproportionality(week=week)}))
        sha256 = data_sha256(data)
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
            if by is not None:
                version._history_user = by
            try:
                with transaction.atomic():
                    version.save()
            except IntegrityError:
                continue  # another build took this number; compare with it and go again
            return version, True
    raise ReportBuildBusy("Could not store a new report version; please try again")


def report_build_enqueue(*, week: str, by: AbstractBaseUser | None) -> ReportBuildJob:
    """Queue a build of a week's report and return the job the page can follow.

    The task is sent only once the job row is committed, so the worker always finds it.
    """
    parse_week(week)
    job = ReportBuildJob(week=week.strip(), requested_by=by, status=JobStatus.QUEUED)
    job.full_clean()
    with transaction.atomic():
        job.save()

        def send() -> None:
            from reports.tasks import report_build_task

            try:
                result = report_build_task.delay(job.pk)
            except Exception:
                # Eager runs have already marked the job failed; a broker that cannot be
                # reached has not, so say so on the job rather than failing the request.
                logger.exception("Could not run or queue build job %s", job.pk)
                ReportBuildJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
                    status=JobStatus.FAILED,
                    message="The build could not be queued. Try again in a few minutes.",
                    finished_at=timezone.now(),
                )
                return
            ReportBuildJob.objects.filter(pk=job.pk, task_id="").update(task_id=result.id or "")

        transaction.on_commit(send)
    return job


def report_build_job_run(*, job_id: int) -> ReportBuildJob:
    """Run a queued build job: running, then ready with its version, or failed with a message.

    Safe to run twice: a job that is already ready is left alone, and the build itself reuses
    the latest version when nothing has changed.
    """
    job = ReportBuildJob.objects.get(pk=job_id)
    if job.status == JobStatus.READY:
        return job
    ReportBuildJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), message=""
    )
    try:
        version, created = report_build(
            week=job.week, by=job.requested_by, by_schedule=job.by_schedule
        )
    except Exception as exc:
        logger.exception("Building the report for %s failed", job.week)
        message = (
            "The database or queue was not available; the build will be tried again."
            if isinstance(exc, RETRY_ON)
            else f"The report could not be built: {exc}"
        )
        try:
            ReportBuildJob.objects.filter(pk=job.pk).update(
                status=JobStatus.FAILED, message=message, finished_at=timezone.now()
            )
        except Exception:  # the database itself may be what failed
            logger.exception("Could not record the failure of job %s", job.pk)
        raise
    message = "" if created else "Nothing had changed, so the latest version was kept."
    ReportBuildJob.objects.filter(pk=job.pk).update(
        status=JobStatus.READY, report=version, message=message, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def report_build_scheduled(*, today=None) -> ReportBuildJob:
    """Build the week just ended (the Monday 06:00 job), recorded as a job like any other."""
    week = week_just_ended(today or timezone.localdate())
    job = ReportBuildJob.objects.create(week=week, by_schedule=True, status=JobStatus.QUEUED)
    return report_build_job_run(job_id=job.pk)
