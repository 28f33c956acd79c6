"""Time ``export_encounters`` against a raw ``COPY`` of the encounter table, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_bench \\
        .venv/bin/python benchmarks/bench_export.py [--repeat 3] [--output /dev/null]

It reads whatever the database holds (e.g. after ``seed_demo --encounters 1000000 --seed 7``)
and writes nothing to it: the export is run through ``diversion.exports.encounters_export``, the
function the command and the web download use, without the command's audit record. Each
measure is repeated and the best time kept, since this shared machine is noisy. The target:
the export within 5x the raw COPY, with flat memory (peak RSS does not grow with the rows).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from diversion.exports import encounters_export  # noqa: E402
from diversion.models import Encounter  # noqa: E402

CEILING = 5.0


def _peak_rss_mb() -> float:
    """Return the process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def _raw_copy(target: str) -> None:
    """COPY the encounter table as it is stored: the floor for any export of it."""
    table = connection.ops.quote_name(Encounter._meta.db_table)
    with connection.cursor() as cursor, open(target, "wb") as out:
        cursor.cursor.copy_expert(f"COPY {table} TO STDOUT WITH (FORMAT csv)", out)


def _export(target: str) -> None:
    with open(target, "wb") as out:
        encounters_export(stream=out)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the encounters export against COPY.")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    parser.add_argument("--output", default="/dev/null", help="where both write (a file or null)")
    args = parser.parse_args()

    rows = Encounter.objects.count()
    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}, {rows:,} encounters")
    rss_start = _peak_rss_mb()
    raw = _best(lambda: _raw_copy(args.output), args.repeat)
    print(f"raw COPY {Encounter._meta.db_table} TO STDOUT   {raw:7.2f} s")
    export = _best(lambda: _export(args.output), args.repeat)
    print(
        f"export_encounters (encounters_export)     {export:7.2f} s  ({rows / export:,.0f} rows/s)"
    )
    ratio = export / raw
    verdict = "within" if ratio <= CEILING else "OVER"
    print(f"ratio export / raw COPY: {ratio:.2f}x ({verdict} the {CEILING:.0f}x ceiling)")
    print(f"peak RSS: {rss_start:.0f} MB after start-up, {_peak_rss_mb():.0f} MB at the end")
    print(
        "reproduce: DATABASE_URL="
        f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
        f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']} "
        f".venv/bin/python benchmarks/bench_export.py --repeat {args.repeat}"
    )


if __name__ == "__main__":
    main()
