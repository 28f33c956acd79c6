"""Check an import's rows in worker processes, so the per-row Python runs on every core.

Each row is checked on its own (`diversion.staged_rows`), so batches of rows can go to other
processes and come back, in file order, as what the parent stages: the rows already written
as ``COPY`` text on PostgreSQL (one string is cheap to send), the rule problems, and the
errors. The parent keeps reading the file and its record-level errors, and applies the
batches in order, so the tables, ``pending`` and the error list are exactly the serial ones.

Workers are started with ``spawn``, not ``fork``: a forked child would inherit the parent's
open database connection, in the middle of the import's transaction, and any use of it, or
its mere closing when the child's copy is dropped, would speak on the parent's socket. A
spawned child starts a fresh interpreter, sets Django up without touching the database, and
is refused any connection. Only a bounded window of batches is in flight, so memory does not
grow with the file. If processes cannot be started or a worker fails, the parent checks the
rest itself: the answer is the same, only slower.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle  # nosec B403 - only between this process and the workers it starts
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, TypeVar

from diversion import import_worker
from diversion.choices import ENCOUNTER_CSV_COLUMNS
from diversion.csv_import import LineErrors
from diversion.encounter_rows import Lookups
from diversion.staged_rows import Problems, staged_row
from diversion.staging import RowBatch, row_batch

logger = logging.getLogger(__name__)

# Rows a batch holds: enough that sending one costs little beside checking it, few enough
# that the batches in flight (at most WINDOW per worker) stay a few megabytes.
BATCH_ROWS = 2_000
WINDOW = 2
CHECK_WHILE_STARTING = True  # the parent checks batches while its workers start
Values = tuple[int, list[str]]  # a row's line and its values in the header's order
_T = TypeVar("_T")


@dataclass(frozen=True)
class Job:
    """What every batch of one import is checked against."""

    lookups: Lookups
    today: date
    names: list[str]  # the header's columns, in order
    as_copy_text: bool  # write rows as COPY text (PostgreSQL) rather than send tuples


@dataclass(frozen=True)
class StagedBatch:
    """A batch of rows as the parent stages them, in file order."""

    rows: RowBatch
    exclusions: RowBatch
    pending: list[tuple[int, Problems]]
    errors: list[str]  # ``line N, column: message``, in the order the serial path adds them


def stage_batch(batch: list[Values], job: Job) -> StagedBatch:
    """Check a batch of rows through the same code as the serial import."""
    errors = LineErrors(ENCOUNTER_CSV_COLUMNS, unknown=-1)  # the parent's list applies limits
    rows: list[tuple[Any, ...]] = []
    exclusions: list[tuple[Any, ...]] = []
    pending: list[tuple[int, Problems]] = []
    for line, cells in batch:
        values = dict(zip(job.names, cells, strict=True))  # as record_values gives them
        staged = staged_row(line, values, job.lookups, job.today, errors)
        if staged.problems:
            pending.append((line, staged.problems))
        rows.append(staged.values)
        exclusions.extend(staged.exclusions)
    # Sorted by line, then column; errors of one line keep their order, as in the serial list.
    return StagedBatch(
        row_batch(rows, as_copy_text=job.as_copy_text),
        row_batch(exclusions, as_copy_text=job.as_copy_text),
        pending,
        errors.listed(),
    )


def staged_batches(
    rows: Iterable[Values], *, job: Job, workers: int
) -> Generator[StagedBatch, None, None]:
    """Yield every row checked, a batch at a time in file order, using ``workers`` processes.

    Processes start only once there is a full batch, so a small file never waits for them,
    and the parent checks batches itself until a worker is ready.
    """
    pool = _Pool(job, workers)
    window: deque[tuple[list[Values], Future[StagedBatch] | None]] = deque()
    try:
        for batch in batches(rows, BATCH_ROWS):
            window.append((batch, pool.submit(batch) if len(batch) == BATCH_ROWS else None))
            if len(window) > WINDOW * workers:
                yield pool.outcome(*window.popleft())
        while window:
            yield pool.outcome(*window.popleft())
    finally:
        pool.close()


class _Pool:
    """Worker processes that, when they cannot be had, leave the parent to do the work."""

    def __init__(self, job: Job, workers: int) -> None:
        self._job = job
        self._workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._ready: Future[int] | None = None
        self._broken = not can_start_processes(workers)

    def submit(self, batch: list[Values]) -> Future[StagedBatch] | None:
        """Send a batch to a worker; None when the parent must check it itself."""
        if self._broken:
            return None
        try:
            if self._executor is None:
                self._executor = start_workers(self._job, self._workers)
                # Done once a worker has set Django up (about a second): until then the
                # parent, which would only wait, checks the batches itself.
                self._ready = self._executor.submit(int)
            if CHECK_WHILE_STARTING and self._ready is not None and not self._ready.done():
                return None
            return self._executor.submit(import_worker.stage, batch)
        except Exception:  # noqa: BLE001 - any failure to start processes: work serially
            logger.warning("Import workers could not be started; checking rows serially")
            self._broken = True
            return None

    def outcome(self, batch: list[Values], future: Future[StagedBatch] | None) -> StagedBatch:
        """Return a batch's result, checking it here if it was not sent or its worker failed."""
        if future is not None:
            try:
                return future.result()
            except Exception:  # noqa: BLE001 - a real error in a row is raised again below
                logger.warning("An import worker failed; checking the rest serially")
                self._broken = True
        return stage_batch(batch, self._job)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)


def can_start_processes(workers: int) -> bool:
    """Whether more than one process is asked for and this process may start them.

    A daemonic process (a Celery prefork worker) may not have children.
    """
    return workers >= 2 and not multiprocessing.current_process().daemon


def start_workers(job: object, workers: int) -> ProcessPoolExecutor:
    """Start ``workers`` spawned processes that hold ``job`` (`import_worker.start`)."""
    from django.conf import settings

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=import_worker.start,
        # The lookups hold Django models, which a child can unpickle only once Django is set
        # up, so they travel as bytes and are read in the initializer.
        # Under override_settings (tests) the module is on the environment only.
        initargs=(
            settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE"),
            pickle.dumps(job),
        ),
    )


def batches(rows: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """Yield lists of ``size`` rows (the last one shorter)."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
