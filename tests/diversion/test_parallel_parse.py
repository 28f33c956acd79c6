"""Rows checked in worker processes stage exactly what the serial import stages."""

import csv
import io
import logging
import multiprocessing
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diversion import parallel_parse
from diversion.csv_import import LineErrors
from diversion.encounter_rows import Lookups
from diversion.imports import COLUMNS, ImportFailed, Staging, _stage_file
from tests.diversion.test_import_encounters import (
    CROYDON,
    LEWISHAM,
    boroughs,  # noqa: F401 - the boroughs every import row names
    row,
)

pytestmark = pytest.mark.django_db
STAGED_COLUMNS = [c for c in Staging().rows.columns if c != "pseudonym"]  # pseudonyms are random


def text_of(rows: list[dict[str, str]], *, between: dict[int, str] | None = None) -> str:
    """Write rows as an encounters file, with raw ``between`` text before the given rows."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for index, values in enumerate(rows):
        if between and index in between:
            out.write(between[index])
        writer.writerow(values)
    return out.getvalue()


def good_rows(count: int) -> list[dict[str, str]]:
    """Rows of every shape a good file has: exclusions, referrals, other boroughs."""
    shapes = [
        {},
        {"exclusions": "other_offence;supply_indicators", "accepted": ""},
        {"borough_code": CROYDON, "accepted": ""},
        {"accepted": "no", "gender": "female", "quantity_grams": "3.250"},
    ]
    return [
        row(encounter_ref=f"ENC-{n}", person_ref=f"PER-{n % 7}", **shapes[n % len(shapes)])
        for n in range(count)
    ]


def bad_rows() -> list[dict[str, str]]:
    """Rows with an error of every kind a row can have on its own, among good ones."""
    rows = good_rows(12)
    rows[1]["date_of_birth"] = "2003-02-30"
    rows[2]["encounter_date"] = "yesterday"
    rows[3].update(gender="unknown", ethnicity="Z9", substance="tea")
    rows[4]["exclusions"] = "nope;other_offence;also_nope;nope"
    rows[5]["borough_code"] = "E09999999"
    rows[6]["encounter_date"] = "2999-01-01"  # a rule problem: in the future
    rows[7]["borough_code"] = LEWISHAM  # a rule problem: not taking part
    rows[8].update(first_name="", person_ref="bad ref!", quantity_grams="lots")
    rows[9]["first_name"] = "Sam\x07"
    rows[10]["accepted"] = "maybe"
    return rows


def staged(text: str, *, workers: int, limit: int | None = None) -> dict[str, Any]:
    """Stage a file in a transaction that is rolled back; return everything it staged."""
    errors = LineErrors(COLUMNS, unknown=-1, limit=limit)
    with transaction.atomic():
        staging = Staging()
        staging.create()
        try:
            pending = _stage_file(
                io.StringIO(text), staging, Lookups(), timezone.localdate(), errors, workers
            )
        except ImportFailed as failure:
            transaction.set_rollback(True)
            return {"failed": failure.errors}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(STAGED_COLUMNS)} FROM {staging.rows.name} ORDER BY line"  # nosec B608
            )
            rows = cursor.fetchall()
            cursor.execute(f"SELECT * FROM {staging.exclusions.name} ORDER BY line, position")  # nosec B608
            exclusions = cursor.fetchall()
        counts = (staging.rows.count, staging.exclusions.count)
        transaction.set_rollback(True)
    return {
        "rows": rows,
        "exclusions": exclusions,
        "counts": counts,
        "pending": list(pending.items()),
        "errors": errors.listed(),
        "total": errors.total,
    }


@pytest.fixture
def small_batches(monkeypatch) -> None:
    """Batches of three rows, all sent to the workers, so a small file is shared out."""
    monkeypatch.setattr(parallel_parse, "BATCH_ROWS", 3)
    monkeypatch.setattr(parallel_parse, "CHECK_WHILE_STARTING", False)


@pytest.fixture
def started(monkeypatch) -> list[int]:
    """Count the worker pools started, so a test can tell processes did the work."""
    starts: list[int] = []
    start = parallel_parse.start_workers

    def counting(job: parallel_parse.Job, workers: int) -> Any:
        starts.append(workers)
        return start(job, workers)

    monkeypatch.setattr(parallel_parse, "start_workers", counting)
    return starts


def test_good_file_stages_the_same_in_worker_processes(small_batches, started, caplog):
    text = text_of(good_rows(40), between={5: "\n\n", 20: ",,,\n"})
    serial = staged(text, workers=1)
    assert started == []
    with caplog.at_level(logging.WARNING, logger="diversion.parallel_parse"):
        assert staged(text, workers=2) == serial
    assert started == [2]
    assert not caplog.records, "the workers must have done the work"
    assert serial["counts"] == (40, 20)
    assert serial["errors"] == []


BAD_FILES = {
    "bad values and rule problems": text_of(bad_rows()),
    "ragged rows": text_of(good_rows(9), between={2: "a,b,c\n", 7: ",".join(["x"] * 19) + "\n"}),
    "records the csv module cannot read": text_of(
        bad_rows(), between={3: 'ENC-X,"PER-X"x,\n', 9: '"never closed,\n'}
    ),
    "a quote never closed at the end": text_of(good_rows(8)) + '"ENC-9,PER-9\n',
    "missing header columns": "encounter_ref,person_ref\nENC-1,PER-1\n",
    "empty file": "",
    "header only": text_of([]),
}


@pytest.mark.parametrize("text", BAD_FILES.values(), ids=BAD_FILES.keys())
@pytest.mark.parametrize("limit", [None, 4])
def test_bad_file_lists_the_same_errors_in_worker_processes(small_batches, text, limit):
    serial = staged(text, workers=1, limit=limit)
    assert staged(text, workers=2, limit=limit) == serial
    assert serial.get("errors", serial.get("failed")) or text == BAD_FILES["header only"]


def test_text_that_is_not_utf8_mid_file_stops_with_the_same_errors(small_batches):
    """Reading stops at the byte: the records' errors before it and that one are listed."""
    # Text is decoded 8 KB at a time: the bad byte comes after many rows have been read.
    head = text_of(bad_rows() + good_rows(100), between={4: "a,b\n"}).encode()
    data = head + 10_000 * b"," + b"\n" + b"ENC-Z,PER-\xff\n" + text_of(good_rows(6)).encode()

    def stage(workers: int) -> dict[str, Any]:
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
        errors = LineErrors(COLUMNS, unknown=-1)
        with transaction.atomic(), pytest.raises(ImportFailed) as failure:
            staging = Staging()
            staging.create()
            _stage_file(text, staging, Lookups(), timezone.localdate(), errors, workers)
        return {"failed": failure.value.errors}

    serial = stage(1)
    assert serial["failed"] == [
        "line 6, first_name: This row has 2 values but the header has 18 columns",
        "line 115, file: The file must be saved as UTF-8 text",
    ]
    assert stage(2) == serial


def test_rows_are_checked_serially_when_processes_cannot_be_started(
    small_batches, monkeypatch, caplog
):
    text = text_of(bad_rows() + good_rows(10))
    serial = staged(text, workers=1)

    def cannot(job: parallel_parse.Job, workers: int) -> Any:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(parallel_parse, "start_workers", cannot)
    with caplog.at_level(logging.WARNING, logger="diversion.parallel_parse"):
        assert staged(text, workers=2) == serial
    assert "could not be started" in caplog.text


def test_rows_are_checked_serially_when_a_worker_cannot_set_up(
    small_batches, started, monkeypatch, caplog
):
    """A worker whose Django cannot start breaks the pool; the parent does the work itself."""
    text = text_of(bad_rows() + good_rows(10))
    serial = staged(text, workers=1)
    monkeypatch.setattr(django_settings, "SETTINGS_MODULE", "config.settings.no_such_module")
    with caplog.at_level(logging.WARNING, logger="diversion.parallel_parse"):
        assert staged(text, workers=2) == serial
    assert started == [2]
    assert "serially" in caplog.text


def test_rows_are_checked_serially_when_a_worker_is_killed_midway(
    small_batches, monkeypatch, caplog
):
    """Real workers killed after the first batch came back: the parent checks the rest."""
    text = text_of(bad_rows() + good_rows(30))
    serial = staged(text, workers=1)
    pools: list[Any] = []
    start, outcome = parallel_parse.start_workers, parallel_parse._Pool.outcome
    killed: list[int] = []

    def remembered(job: Any, workers: int) -> Any:
        pools.append(start(job, workers))
        return pools[-1]

    def killing_after_the_first(self: Any, batch: Any, future: Any) -> Any:
        result = outcome(self, batch, future)
        if pools and not killed:
            for process in pools[0]._processes.values():
                process.kill()
                killed.append(process.pid)
        return result

    monkeypatch.setattr(parallel_parse, "start_workers", remembered)
    monkeypatch.setattr(parallel_parse._Pool, "outcome", killing_after_the_first)
    with caplog.at_level(logging.WARNING, logger="diversion.parallel_parse"):
        assert staged(text, workers=2) == serial
    assert killed
    assert "serially" in caplog.text


def test_a_daemonic_process_such_as_a_celery_worker_starts_no_processes(
    small_batches, started, monkeypatch
):
    monkeypatch.setitem(multiprocessing.current_process()._config, "daemon", True)  # type: ignore[attr-defined]
    text = text_of(good_rows(10))
    assert staged(text, workers=2) == staged(text, workers=1)
    assert started == []


def test_one_worker_is_the_serial_import(small_batches, started):
    staged(text_of(good_rows(10)), workers=1)
    assert started == []


def test_batches_are_checked_here_until_a_worker_is_ready(monkeypatch, started):
    monkeypatch.setattr(parallel_parse, "BATCH_ROWS", 3)
    text = text_of(bad_rows() + good_rows(30))
    assert staged(text, workers=2) == staged(text, workers=1)
    assert started == [2]


def test_a_file_smaller_than_a_batch_starts_no_processes(started):
    text = text_of(bad_rows())
    assert staged(text, workers=2) == staged(text, workers=1)
    assert started == []


@given(
    kinds=st.lists(st.integers(0, 11), min_size=0, max_size=25),
    batch=st.integers(1, 6),
    limit=st.sampled_from([None, 1, 3]),
)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_batches_checked_in_any_size_give_the_serial_answer(monkeypatch, kinds, batch, limit):
    """The batching and merging alone, checked in this process (no processes: cheap)."""
    monkeypatch.setattr(parallel_parse, "BATCH_ROWS", batch)
    monkeypatch.setattr(parallel_parse, "start_workers", _cannot_start)
    pool = bad_rows()
    rows = [{**pool[kind], "encounter_ref": f"ENC-{n}"} for n, kind in enumerate(kinds)]
    text = text_of(rows)
    assert staged(text, workers=2, limit=limit) == staged(text, workers=1, limit=limit)


def _cannot_start(job: parallel_parse.Job, workers: int) -> Any:
    raise OSError("no processes in this test")


def test_a_worker_process_cannot_reach_the_database():
    """A worker is refused any connection, so it can never speak for the parent's transaction."""
    job = parallel_parse.Job(
        lookups=Lookups(), today=timezone.localdate(), names=list(COLUMNS), as_copy_text=False
    )
    pool = parallel_parse.start_workers(job, 1)
    try:
        # eval runs the query in the worker: a builtin is all a spawned process can be sent
        # without importing this test module there.
        query = pool.submit(eval, "__import__('django.db').db.connection.cursor()")
        with pytest.raises(RuntimeError, match="must not use the database"):
            query.result(timeout=60)
    finally:
        pool.shutdown()
