"""Judge an import's rows in worker processes, each taking every row of its share of the people.

A row's decision depends on the row and on the same person's earlier diversions, nothing else,
so the people can be shared out: each batch from the ordered cursor is split by person, and
each worker gets every row of its people in (encounter_date, encounter_ref) order and keeps
their diversions itself. Each worker is a process of its own (a pool could hand a person's rows
to another worker). Workers send back the staging tables' rows as ``COPY`` text on PostgreSQL,
and the problems they found, which the parent lists as the serial path would: the error list is
sorted by line, and one row's problems all come from one worker, in order.

Workers start as `diversion.parallel_parse`'s do (spawned, refused the database). If any
fails, `WorkersFailed` tells the caller to judge every row again itself.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from diversion import import_worker
from diversion.csv_import import LineErrors
from diversion.encounter_rows import Lookups
from diversion.parallel_parse import batches, start_workers
from diversion.staging import RowBatch, is_postgresql, row_batch

if TYPE_CHECKING:
    from diversion.import_judging import RecentDiversions
    from diversion.imports import Staging

# A batch of rows from the cursor is shared out at once; at most WINDOW shares per worker are
# in flight, so memory stays flat however long the file.
BATCH_ROWS = 2_000
WINDOW = 2
# Starting a worker costs about a second (a fresh interpreter sets Django up); fewer rows than
# this are judged sooner in the parent alone.
WORTH_IT_FROM = 50_000
PERSON_REF = 2  # where a staged row read for judging holds its person reference


class WorkersFailed(Exception):
    """The worker processes could not judge the rows; judge them again in this process."""


@dataclass(frozen=True)
class Judging:
    """What every row of one import is judged against."""

    lookups: Lookups
    today: date
    longest: int  # the longest window, in months, in which a diversion counts
    failed_before: bool  # earlier checks found errors: nothing will be stored
    as_copy_text: bool = False  # send staged rows as COPY text (PostgreSQL)


@dataclass
class Share:
    """A worker's memory of its people: their diversions that can still count, and whether
    any of its rows had a problem (after which, as in the serial path, nothing is staged)."""

    longest: int
    failed: bool = False
    recent: RecentDiversions = field(init=False)

    def __post_init__(self) -> None:
        from diversion.import_judging import RecentDiversions

        self.recent = RecentDiversions(self.longest)


@dataclass(frozen=True)
class JudgedBatch:
    """A worker's judgements of some rows, as the parent stages them."""

    judged: RowBatch
    reasons: RowBatch
    problems: list[tuple[int, str, str]]  # (line, column, message), in the order found
    decisions: dict[str, int]


def judge_batch(batch: list[tuple[Any, ...]], job: Judging, share: Share) -> JudgedBatch:
    """Judge rows of one share's people, in order, through the serial path's functions."""
    from diversion.import_judging import judge_one, judged_values, reason_values

    judged: list[tuple[Any, ...]] = []
    reasons: list[tuple[Any, ...]] = []
    problems: list[tuple[int, str, str]] = []
    decisions: dict[str, int] = {}
    for values in batch:
        verdict = judge_one(values, job.lookups, job.today, share.recent)
        if verdict.problems:
            share.failed = True
            problems.extend((verdict.line, column, message) for column, message in verdict.problems)
        elif not (share.failed or job.failed_before):
            decision = verdict.assessment.decision.value
            decisions[decision] = decisions.get(decision, 0) + 1
            judged.append(judged_values(verdict))
            reasons.extend(reason_values(verdict))
    return JudgedBatch(
        row_batch(judged, as_copy_text=job.as_copy_text),
        row_batch(reasons, as_copy_text=job.as_copy_text),
        problems,
        decisions,
    )


def judged_in_processes(
    rows: Iterable[tuple[Any, ...]],
    staging: Staging,
    job: Judging,
    errors: LineErrors,
    workers: int,
) -> dict[str, int]:
    """Judge every row in ``workers`` processes; stage the judgements and note the problems.

    Return how many rows got each decision (meaningful only when no row had a problem). Raise
    `WorkersFailed` if the processes fail: what was staged must then be cleared.
    """
    job = replace(job, as_copy_text=is_postgresql())
    executors: list[ProcessPoolExecutor] = []
    decisions: dict[str, int] = {}
    window: deque[Future[JudgedBatch]] = deque()
    try:
        executors = [_started(job) for _ in range(workers)]
        for batch in batches(rows, BATCH_ROWS):
            for executor, share in zip(executors, _shared_out(batch, workers), strict=True):
                if share:
                    window.append(_submitted(executor, share))
            while len(window) > WINDOW * workers:
                _apply(_result(window.popleft()), staging, errors, decisions)
        while window:
            _apply(_result(window.popleft()), staging, errors, decisions)
    finally:
        for executor in executors:
            executor.shutdown(wait=True, cancel_futures=True)
    return decisions


def _shared_out(batch: list[tuple[Any, ...]], workers: int) -> list[list[tuple[Any, ...]]]:
    """Split rows by person, keeping their order; a person's rows always go to one worker."""
    shares: list[list[tuple[Any, ...]]] = [[] for _ in range(workers)]
    for values in batch:
        shares[zlib.crc32(values[PERSON_REF].encode()) % workers].append(values)
    return shares


def _started(job: Judging) -> ProcessPoolExecutor:
    try:
        return start_workers(job, 1)
    except Exception as exc:  # noqa: BLE001 - any failure to start processes
        raise WorkersFailed from exc


def _submitted(executor: ProcessPoolExecutor, share: list[tuple[Any, ...]]) -> Future[JudgedBatch]:
    try:
        return executor.submit(import_worker.judge, share)
    except Exception as exc:  # noqa: BLE001 - a broken pool
        raise WorkersFailed from exc


def _result(future: Future[JudgedBatch]) -> JudgedBatch:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a worker's failure, or a row's error raised there
        raise WorkersFailed from exc


def _apply(
    batch: JudgedBatch, staging: Staging, errors: LineErrors, decisions: dict[str, int]
) -> None:
    for line, column, message in batch.problems:
        errors.add(line, column, message)
    for decision, count in batch.decisions.items():
        decisions[decision] = decisions.get(decision, 0) + count
    staging.judged.add_batch(batch.judged)
    staging.reasons.add_batch(batch.reasons)
