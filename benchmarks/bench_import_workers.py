"""Time the staging phase of ``import_encounters`` with and without worker processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_x \\
        .venv/bin/python benchmarks/bench_import_workers.py /tmp/par100k.csv --workers 1 2 1 2

Each run reads, checks and stages the whole file (``diversion.imports._stage_file``) in a
transaction that is rolled back, so the database is left as it was; the boroughs must be set
up as ``bench_import.py`` does. It prints each run's wall time, the parent's CPU and peak RSS,
and at the end the workers' CPU and whether every run staged the same rows (all columns but
the random pseudonym), exclusions, pending problems and errors. A worker's peak RSS is not
printed: rusage counts the moment before ``exec``, when the spawned child is still a copy of
the parent; read ``VmHWM`` in ``/proc/PID/status`` while it runs instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAME_COLUMNS = """line, encounter_ref, person_ref, first_name, last_name, date_of_birth, gender,
    ethnicity, borough_id, encounter_date, substance, quantity, exclusions, accepted,
    provider_id, attended_on, completed_on, did_not_attend_on, withdrawn_on, mask_parse,
    mask_rules, kind, person_bad"""


def _run(path: Path, workers: int) -> tuple[Any, ...]:
    from django.db import transaction
    from django.utils import timezone

    from diversion.csv_import import LineErrors
    from diversion.encounter_rows import Lookups
    from diversion.imports import COLUMNS, Staging, _stage_file
    from diversion.staging import fetch, tune_session

    with transaction.atomic():
        tune_session()
        staging = Staging()
        staging.create()
        errors = LineErrors(COLUMNS, unknown=-1)
        started, cpu = time.perf_counter(), time.process_time()
        with path.open(encoding="utf-8-sig", newline="") as stream:
            pending = _stage_file(stream, staging, Lookups(), timezone.localdate(), errors, workers)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows = fetch(
            f"SELECT md5(string_agg(r::text, '|' ORDER BY line)) "  # nosec B608
            f"FROM (SELECT {SAME_COLUMNS} FROM {staging.rows.name}) r"
        )[0][0]
        exclusions = fetch(
            "SELECT md5(string_agg(r::text, '|' ORDER BY line, position)) "  # nosec B608
            f"FROM {staging.exclusions.name} r"
        )[0][0]
        transaction.set_rollback(True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"workers={workers}: staged {staging.rows.count} rows in {wall:.2f} s "
        f"({staging.rows.count / wall:,.0f} rows/s), parent CPU {cpu:.2f} s, "
        f"parent peak RSS {peak:.0f} MB, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return rows, exclusions, repr(pending), tuple(errors.listed())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    answers = {_run(args.path, workers) for workers in args.workers}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"workers' CPU {children.ru_utime + children.ru_stime:.2f} s in all; "
        f"every run staged the same: {len(answers) == 1}"
    )


# Worker processes are spawned: they import this file again, and must not run it.
if __name__ == "__main__":
    main()
