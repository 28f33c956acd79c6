"""Time ``import_encounters`` and ``export_encounters`` on a real database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python benchmarks/bench_import_export.py --rows 10000

The database must be migrated and hold no encounters: the script configures Lambeth and
Southwark as pilots from 2025-01-01 and Croydon as a comparison borough (what
generate_encounters.py assumes), generates the file, imports it, imports it again (every row
already present), and exports everything. It prints wall times, database queries and memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from io import StringIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import generate_encounters  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from boroughs.services import borough_configure  # noqa: E402
from diversion.models import Encounter  # noqa: E402


def _max_rss_mb() -> float:
    """Return the process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _QueryCounter:
    """Count database queries without keeping their SQL (which would itself cost memory)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _timed(label: str, action: Callable[[], object], *, trace: bool = False) -> None:
    counter = _QueryCounter()
    rss_before = _max_rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        action()
    elapsed = time.perf_counter() - started
    extra = ""
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra = f", Python allocations peak {peak / 2**20:.1f} MB (tracemalloc)"
    print(
        f"{label:<44} {elapsed:7.2f} s  {counter.count:5d} queries  "
        f"peak RSS {rss_before:.0f} -> {_max_rss_mb():.0f} MB{extra}"
    )


def _export_only() -> None:
    count = Encounter.objects.count()
    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}, {count} encounters")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "export.csv"
        for label, trace in (("export_encounters --output", False), ("  again, traced", True)):
            _timed(
                label,
                lambda: call_command(
                    "export_encounters",
                    "--output",
                    str(target),
                    stdout=StringIO(),
                    stderr=StringIO(),
                ),
                trace=trace,
            )
        print(f"Export file: {target.stat().st_size / 2**20:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description="Time encounter import and export.")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="only time the export of whatever the database holds (e.g. after seed_demo)",
    )
    args = parser.parse_args()

    if args.export_only:
        _export_only()
        return
    if Encounter.objects.exists():
        sys.exit("The database already holds encounters: use an empty, migrated database.")
    borough_configure(gss_code="E09000022", role="pilot", pilot_start=date(2025, 1, 1))
    borough_configure(gss_code="E09000028", role="pilot", pilot_start=date(2025, 1, 1))
    borough_configure(gss_code="E09000008", role="comparison")

    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "encounters.csv"
        target = Path(folder) / "export.csv"
        started = time.perf_counter()
        generate_encounters.write(
            generate_encounters.generate(rows=args.rows, seed=args.seed), source
        )
        print(
            f"{'generate ' + str(args.rows) + ' rows':<44} {time.perf_counter() - started:7.2f} s"
        )

        out = StringIO()
        _timed(
            "import_encounters (new rows)",
            lambda: call_command("import_encounters", str(source), stdout=out),
        )
        _timed(
            "import_encounters again (all unchanged)",
            lambda: call_command("import_encounters", str(source), stdout=out),
        )
        print(out.getvalue().strip())
        _timed(
            "export_encounters --output",
            lambda: call_command(
                "export_encounters", "--output", str(target), stdout=StringIO(), stderr=StringIO()
            ),
        )
        _timed(
            "export_encounters --output (traced)",
            lambda: call_command(
                "export_encounters", "--output", str(target), stdout=StringIO(), stderr=StringIO()
            ),
            trace=True,
        )
        with target.open(encoding="utf-8") as f:
            exported = sum(1 for _ in f) - 1
        print(f"Exported rows: {exported} ({target.stat().st_size / 2**20:.1f} MB)")
    decisions = dict(
        Encounter.objects.values_list("decision").annotate(n=Count("pk")).order_by("decision")
    )
    print(f"Decisions: {decisions}")


if __name__ == "__main__":
    main()
