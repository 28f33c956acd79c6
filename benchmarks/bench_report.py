"""Time building the weekly report against a raw ``GROUP BY`` floor measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_bench .venv/bin/python \
        benchmarks/bench_report.py [--week YYYY-Www] [--runs 3]

(``diversion_bench`` holds ``seed_demo --encounters 1000000 --seed 7``.) Each run times a
full build through ``report_build`` (what ``build_report`` does: the figures, the group
comparison and storing a version, or reusing it when nothing changed), then the floor: one
``SELECT borough_id, decision, count(*) FROM diversion_encounter GROUP BY 1, 2``, a single
pass over the table (the median of three, right after the build). The target is a build
within 20 times the floor.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CEILING = 20  # build time / floor time (issue 8)
FLOOR_SQL = "SELECT borough_id, decision, count(*) FROM diversion_encounter GROUP BY 1, 2"


def _timed(run) -> tuple[float, int, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
    return elapsed, len(queries), result


def _floor() -> float:
    """Return the median of three passes: one pass is short enough for a hiccup to double it."""
    from django.db import connection

    passes = []
    with connection.cursor() as cursor:
        for _ in range(3):
            started = time.perf_counter()
            cursor.execute(FLOOR_SQL)
            cursor.fetchall()
            passes.append(time.perf_counter() - started)
    return statistics.median(passes)


def _one_run(week: str) -> dict:
    from reports.services import report_build

    load = os.getloadavg()[0]
    build, queries, (version, created) = _timed(lambda: report_build(week=week))
    floor = _floor()
    state = "new" if created else "unchanged, reused"
    return {"build": build, "queries": queries, "floor": floor, "load": load, "note": state}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", help="ISO week; default: the latest complete week")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from diversion.models import Encounter, Reoffence
    from reports.weeks import week_just_ended

    week = args.week or week_just_ended(timezone.localdate())
    print(
        f"{connection.vendor}: {Encounter.objects.count():,} encounters, "
        f"{Reoffence.objects.count():,} reoffences; week {week}"
    )
    _floor()  # warm the cache once, so neither side pays for the first read from disk
    runs = []
    for number in range(1, args.runs + 1):
        run = _one_run(week)
        runs.append(run)
        print(
            f"run {number}: report_build {run['build']:.2f} s ({run['queries']} SQL queries, "
            f"version {run['note']}); floor GROUP BY {run['floor']:.2f} s; "
            f"ratio {run['build'] / run['floor']:.1f}x (ceiling {CEILING}x); "
            f"load average {run['load']:.2f}"
        )
    build = statistics.median(r["build"] for r in runs)
    floor = statistics.median(r["floor"] for r in runs)
    ratio = statistics.median(r["build"] / r["floor"] for r in runs)
    print(
        f"median of {len(runs)}: report_build {build:.2f} s, floor {floor:.2f} s, "
        f"ratio {ratio:.1f}x against the {CEILING}x ceiling"
    )
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(
        "reproduce: DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_bench "
        f".venv/bin/python benchmarks/bench_report.py --week {week} --runs {args.runs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
