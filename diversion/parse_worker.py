"""What runs in an import's worker process (`diversion.parallel_parse`).

A spawned worker starts as a fresh interpreter that knows nothing of Django, so this module
imports nothing of the project at the top: `start` sets Django up first, with every database
connection refused, and only then reads the import's lookups, which hold Django models.
"""

from __future__ import annotations

import os
import pickle  # nosec B403 - only what the parent process that started this one wrote
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diversion.parallel_parse import Job, StagedBatch, Values

_job: Job | None = None  # the import this worker serves


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
    from diversion.parallel_parse import stage_batch

    if _job is None:
        raise RuntimeError("The worker was not started with an import's job")
    return stage_batch(batch, _job)
