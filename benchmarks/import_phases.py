"""Time each step of ``import_encounters`` on one file: where a large import spends its time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_imports_bench \\
        .venv/bin/python benchmarks/import_phases.py /tmp/bench_import_1000000_1.csv --workers 2

Empties the import's tables (the database must hold nothing but what benchmarks import, and
its boroughs set up as ``bench_import.py`` does), then imports the file through
``encounters_import`` with each step wrapped in a timer, and prints each step's wall time and
this process's CPU time in it (worker processes' CPU is not counted), then the total. The
steps are reading, checking and staging the rows; the checks across rows; judging; storing,
and within storing, making the indexes and keys again.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

STEPS = {
    "_stage_file": "read, check and stage every row",
    "check_across_rows": "checks across rows",
    "judge_rows": "judge every row",
    "store_judged": "store",
}
EMPTIED = (
    "diversion_encounterreason, diversion_encounterexclusion, diversion_referral, "
    "diversion_reoffence, diversion_encounter, diversion_person, diversion_historicalperson, "
    "diversion_historicalencounter, diversion_historicalreferral"
)


def _timed(label: str, step: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return step(*args, **kwargs)
        finally:
            print(
                f"{label}: {time.perf_counter() - wall:.1f} s, "
                f"{time.process_time() - cpu:.1f} s of CPU in this process",
                flush=True,
            )

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection

    from diversion import demo_copy, imports

    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (DATABASE_URL).")
    for name, label in STEPS.items():
        setattr(imports, name, _timed(label, getattr(imports, name)))
    demo_copy.Rebuild.restore = _timed(  # type: ignore[method-assign]
        "  of which: indexes and keys made again", demo_copy.Rebuild.restore
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {EMPTIED}")  # nosec B608 - fixed table names
    started = time.perf_counter()
    with args.path.open(encoding="utf-8-sig", newline="") as stream:
        result = imports.encounters_import(
            stream=stream, source_name=args.path.name, workers=args.workers
        )
    print(result.summary())
    print(
        f"total {time.perf_counter() - started:.1f} s with {args.workers} worker(s); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"command: DATABASE_URL=... .venv/bin/python {' '.join(sys.argv)}")


# Worker processes are spawned: they import this file again, and must not run it.
if __name__ == "__main__":
    main()
