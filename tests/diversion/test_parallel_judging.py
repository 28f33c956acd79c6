"""Rows judged in worker processes, each with its share of the people, as the serial import."""

import io
import logging
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from diversion import import_judging, parallel_judging
from diversion.csv_import import LineErrors
from diversion.encounter_rows import Lookups
from diversion.import_checks import check_across_rows
from diversion.imports import COLUMNS, Staging, _stage_file
from tests.diversion.test_import_encounters import (
    CROYDON,
    boroughs,  # noqa: F401 - the boroughs every import row names
    row,
)
from tests.diversion.test_parallel_parse import text_of

pytestmark = pytest.mark.django_db

# One person's history, in date order: diverted; diverted again within 12 months, so not
# eligible; declined 13 months on; diverted a month later (a declined offer never counts).
HISTORY = [
    ("2025-02-01", {"accepted": "yes"}),
    ("2025-05-01", {"accepted": ""}),
    ("2026-03-01", {"accepted": "no"}),
    ("2026-04-01", {"accepted": "yes"}),
    ("2026-04-01", {"accepted": "", "borough_code": CROYDON}),  # after that diversion: ineligible
]


def histories(people: int, *, answered_wrongly: set[int] = frozenset()) -> list[dict[str, str]]:
    """Every person's rows, the people's rows interleaved and each person's out of order."""
    rows = []
    for step, (day, changes) in reversed(list(enumerate(HISTORY))):
        for person in range(people):
            ref = f"ENC-{person:03d}-{step}"
            extra = {"accepted": "yes"} if step == 1 and person in answered_wrongly else {}
            rows.append(
                row(encounter_ref=ref, person_ref=f"PER-{person}", encounter_date=day)
                | changes
                | extra
            )
    return rows


def judged(text: str, *, workers: int, limit: int | None = None) -> dict[str, Any]:
    """Stage and judge a file in a transaction that is rolled back; return what judging gave."""
    errors = LineErrors(COLUMNS, unknown=-1, limit=limit)
    with transaction.atomic():
        staging = Staging()
        staging.create()
        lookups, today = Lookups(), timezone.localdate()
        pending = _stage_file(io.StringIO(text), staging, lookups, today, errors)
        check_across_rows(staging.rows.name, pending, lookups, errors)
        decisions = import_judging.judge_rows(staging, lookups, today, errors, workers)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {staging.judged.name} ORDER BY line")  # nosec B608
            stored = cursor.fetchall()
            cursor.execute(f"SELECT * FROM {staging.reasons.name} ORDER BY line, position")  # nosec B608
            reasons = cursor.fetchall()
        transaction.set_rollback(True)
    result = {"errors": errors.listed(), "total": errors.total}
    if not errors:  # with errors nothing is stored, and what was staged does not matter
        result |= {"decisions": decisions, "judged": stored, "reasons": reasons}
    return result


@pytest.fixture
def shared_out(monkeypatch) -> list[int]:
    """Judge even a small file in processes, three rows at a time; count the workers started."""
    monkeypatch.setattr(parallel_judging, "WORTH_IT_FROM", 0)
    monkeypatch.setattr(parallel_judging, "BATCH_ROWS", 3)
    starts: list[int] = []
    start = parallel_judging.start_workers

    def counting(job: Any, workers: int) -> Any:
        starts.append(workers)
        return start(job, workers)

    monkeypatch.setattr(parallel_judging, "start_workers", counting)
    return starts


def test_people_judged_in_worker_processes_get_the_serial_decisions(shared_out, caplog):
    text = text_of(histories(8))
    serial = judged(text, workers=1)
    assert shared_out == []
    with caplog.at_level(logging.WARNING, logger="diversion.import_judging"):
        assert judged(text, workers=2) == serial
    assert shared_out == [1, 1], "one process of its own for each share of the people"
    assert not caplog.records, "the workers must have done the work"
    assert serial["decisions"] == {"diverted": 16, "ineligible": 16, "declined": 8}
    assert [code for *_line, code in serial["reasons"]] == ["recent_diversion"] * 16


@pytest.mark.parametrize("limit", [None, 2])
def test_problems_found_in_worker_processes_are_listed_as_the_serial_path_lists_them(
    shared_out, limit
):
    text = text_of(histories(6, answered_wrongly={0, 3, 5}))
    serial = judged(text, workers=1, limit=limit)
    assert serial["total"] == 3
    assert judged(text, workers=2, limit=limit) == serial


def test_workers_that_cannot_start_leave_the_judging_to_this_process(
    shared_out, monkeypatch, caplog
):
    text = text_of(histories(4))
    serial = judged(text, workers=1)

    def cannot(job: Any, workers: int) -> Any:
        raise OSError("no processes here")

    monkeypatch.setattr(parallel_judging, "start_workers", cannot)
    with caplog.at_level(logging.WARNING, logger="diversion.import_judging"):
        assert judged(text, workers=2) == serial
    assert "judging every row again" in caplog.text


def test_workers_failing_midway_leave_nothing_of_theirs_staged(shared_out, monkeypatch):
    """Shares already staged are cleared before the parent judges every row again."""
    text = text_of(histories(6))
    serial = judged(text, workers=1)
    result = parallel_judging._result
    calls: list[int] = []

    def fails_on_the_fourth(future: Any) -> Any:
        calls.append(1)
        if len(calls) == 4:
            raise parallel_judging.WorkersFailed
        return result(future)

    monkeypatch.setattr(parallel_judging, "_result", fails_on_the_fourth)
    assert judged(text, workers=2) == serial
    assert len(calls) == 4


def test_a_worker_process_killed_midway_leaves_the_judging_to_this_process(
    shared_out, monkeypatch, caplog
):
    """A real worker killed after some shares were staged: the parent judges every row again."""
    text = text_of(histories(6))
    serial = judged(text, workers=1)
    executors: list[Any] = []
    started, result = parallel_judging._started, parallel_judging._result

    def remembered(job: Any) -> Any:
        executors.append(started(job))
        return executors[-1]

    killed: list[int] = []

    def killing_after_the_first(future: Any) -> Any:
        outcome = result(future)
        if not killed:
            for executor in executors:
                for process in executor._processes.values():
                    process.kill()
                    killed.append(process.pid)
        return outcome

    monkeypatch.setattr(parallel_judging, "_started", remembered)
    monkeypatch.setattr(parallel_judging, "_result", killing_after_the_first)
    with caplog.at_level(logging.WARNING, logger="diversion.import_judging"):
        assert judged(text, workers=2) == serial
    assert len(killed) == 2
    assert "judging every row again" in caplog.text


def test_small_files_are_judged_without_processes(monkeypatch):
    starts: list[int] = []
    monkeypatch.setattr(parallel_judging, "start_workers", lambda *a: starts.append(1))
    text = text_of(histories(3))
    assert judged(text, workers=2) == judged(text, workers=1)
    assert starts == []


def test_a_persons_rows_always_go_to_the_same_share_in_their_order():
    rows = [(line, "E", f"PER-{line % 5}") for line in range(40)]
    shares = parallel_judging._shared_out(rows, 3)
    assert sorted(r for share in shares for r in share) == rows
    for share in shares:
        assert share == sorted(share)
    owner = {r[2]: n for n, share in enumerate(shares) for r in share}
    assert all(r in shares[owner[r[2]]] for r in rows)
