"""Time the reoffence import on a 10 MB file of bad rows, and measure its memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python benchmarks/bench_upload.py --mode job

The database must be migrated. The file has three errors on every row (an unknown person, an
impossible date, no offence type), like the upload that once took a web worker 28 s and 1.5 GB.

Modes, one per run so each peak is its own:
- ``job``: what an upload costs now, in two steps: store the file on a
  ``ReoffenceImportJob`` and queue it (the web's part), then run the job (the worker's part),
  which keeps the first 100 errors and a count. Peak RSS only grows, so the second figure
  includes the first;
- ``limited``: the import service alone with the web's limit of 100 listed errors;
- ``unlimited``: the import service listing every error, as ``import_reoffences`` does.

Prints wall time, peak resident memory (``ru_maxrss``) before and after, and with
``--trace`` the peak of Python allocations during the import (tracemalloc slows it down).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402

from diversion.reoffence_imports import ReoffenceImportFailed, reoffences_import  # noqa: E402
from reports.import_jobs import (  # noqa: E402
    LISTED_ERRORS,
    MAX_UPLOAD_BYTES,
    reoffence_import_enqueue,
    reoffence_import_job_run,
)

HEADER = b"person_ref,offence_date,offence_type,source_ref\n"


def bad_file(size: int) -> bytes:
    """Return a CSV of at most ``size`` bytes whose every row has three errors."""
    parts = [HEADER]
    total = len(HEADER)
    number = 0
    while True:
        row = f"NOBODY-{number:07d},2026-13-45,,\n".encode()
        if total + len(row) > size:
            return b"".join(parts)
        parts.append(row)
        total += len(row)
        number += 1


def _max_rss_mb() -> float:
    """Return the process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import(content: bytes, limit: int | None) -> str:
    stream = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    try:
        reoffences_import(stream=stream, source_name="bench.csv", error_limit=limit)
    except ReoffenceImportFailed as failure:
        return f"{failure.total:,} errors, {len(failure.errors):,} kept"
    return "imported (unexpected: every row is bad)"


def _store(content: bytes) -> str:
    """Do the web's part: store the upload as a job and queue it (to no worker)."""
    from config.celery_app import app

    app.conf.task_always_eager = False  # with no REDIS_URL the queue is in memory: nobody reads it
    user, _ = User.objects.get_or_create(username="bench-upload")
    job = reoffence_import_enqueue(upload=SimpleUploadedFile("bench.csv", content), by=user)
    _jobs.append(job.pk)
    return f"job {job.pk} stored"


def _run() -> str:
    """Do the worker's part: run the stored job."""
    job = reoffence_import_job_run(job_id=_jobs[-1])
    return f"job {job.status}: {job.error_count:,} errors, {len(job.errors)} kept"


_jobs: list[int] = []


def _measure(label: str, action: Callable[[], str], *, trace: bool) -> None:
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    outcome = action()
    seconds = time.perf_counter() - started
    peak = ""
    if trace:
        peak = f", Python allocations peak {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MiB"
        tracemalloc.stop()
    print(f"{label}: {outcome} in {seconds:.1f} s{peak}; peak RSS {_max_rss_mb():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["job", "limited", "unlimited"], default="job")
    parser.add_argument("--bytes", type=int, default=MAX_UPLOAD_BYTES)
    parser.add_argument("--trace", action="store_true", help="also measure with tracemalloc")
    options = parser.parse_args()

    content = bad_file(options.bytes)
    rows = content.count(b"\n") - 1
    print(f"file: {len(content):,} bytes, {rows:,} rows, 3 errors a row")
    print(f"before the import: peak RSS {_max_rss_mb():.0f} MiB")
    if options.mode == "job":
        _measure("web: store and queue", lambda: _store(content), trace=options.trace)
        del content  # the web process is done with it; the worker reads it from the database
        _measure("worker: run the job", _run, trace=options.trace)
    elif options.mode == "limited":
        _measure(options.mode, lambda: _import(content, LISTED_ERRORS), trace=options.trace)
    else:
        _measure(options.mode, lambda: _import(content, None), trace=options.trace)


if __name__ == "__main__":
    main()
