"""What runs in an import's worker process (`diversion.parallel_parse`).

A spawned worker starts as a fresh interpreter that knows nothing of Django, so this module
imports nothing of the project at the top: `start` sets Django up first, with every database
connection refused, and only then reads the import's lookups, which hold Django models.
"""

from __future__ import annotations

import os
import pickle  # nosec B403 - only what the parent process that started this one wrote
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from diversion.parallel_judging import JudgedBatch, Judging, Share
    from diversion.parallel_parse import Job, StagedBatch, Values

_job: Job | Judging | None = None  # the import this worker serves
_share: Share | None = None  # when judging: the diversions of this worker's people so far


def start(settings_module: str | None, job: bytes) -> None:
    """Set Django up without the database, and keep the import's job for every batch."""
    global _job
    if settings_module:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    refuse_database()
    _job = pickle.loads(job)  # nosec B301 - written by the parent that started this process


def refuse_database() -> None:
    """Make any attempt to connect to a database fail loudly in this process."""
    from django.db import connections

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("An import worker process must not use the database")

    for alias in connections:
        connections[alias].connect = refuse  # type: ignore[method-assign]


def stage(batch: list[Values]) -> StagedBatch:
    """Check one batch of rows for the parent."""
    from diversion.parallel_parse import Job, stage_batch

    if not isinstance(_job, Job):
        raise RuntimeError("The worker was not started to check an import's rows")
    return stage_batch(batch, _job)


def judge(batch: list[tuple[Any, ...]]) -> JudgedBatch:
    """Judge the next rows of this worker's people, remembering their diversions."""
    global _share
    from diversion.parallel_judging import Judging, Share, judge_batch

    if not isinstance(_job, Judging):
        raise RuntimeError("The worker was not started to judge an import's rows")
    if _share is None:
        _share = Share(_job.longest)
    return judge_batch(batch, _job, _share)
