"""Time ``seed_demo`` against its 20,000 encounters/s target and a raw ``COPY`` floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch .venv/bin/python \
        benchmarks/bench_seed_demo.py --encounters 1000000 --seed 7 --runs 3

Each run seeds an empty, migrated database, then times the floor in the same run: the rows
just written (people, encounters, reasons, exclusions, referrals, reoffences) copied out and
``COPY``-ed back into unindexed temporary tables, which is what the database alone needs to take
them in. Between runs it empties the demo tables again, so it refuses a database holding any
data that is not demo data: point it at a scratch database, never a real one.
"""

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

TARGET = 20_000  # encounters per second (issue 8)


def _floor_seconds() -> float:
    """Return the time to COPY the seeded rows into unindexed tables of the same shape."""
    from django.db import connection, transaction

    from diversion.demo_copy import MODELS

    total = 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        for model in MODELS:
            table = model._meta.db_table
            out = io.StringIO()
            raw.copy_expert(f"COPY {table} TO STDOUT", out)
            # Generated columns are computed on the way in here too, as they are when seeding.
            cursor.execute(
                f"CREATE TEMP TABLE floor_{table} (LIKE {table} INCLUDING GENERATED) ON COMMIT DROP"
            )
            out.seek(0)
            started = time.perf_counter()
            raw.copy_expert(f"COPY floor_{table} FROM STDIN", out)
            total += time.perf_counter() - started
    return total


def _empty_demo_tables() -> None:
    """Empty the demo tables for the next run, refusing anything but demo data."""
    from django.db import connection

    from diversion.demo_copy import MODELS
    from diversion.models import Encounter, Reoffence

    if (
        Encounter.objects.exclude(source="demo").exists()
        or Reoffence.objects.exclude(source="demo").exists()
    ):
        raise SystemExit("This database holds data that is not demo data: use a scratch one.")
    tables = [m._meta.db_table for m in MODELS]
    tables += [m.history.model._meta.db_table for m in MODELS if hasattr(m, "history")]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _one_run(encounters: int, seed: int) -> dict:
    from django.core.management import call_command

    from diversion.models import Encounter

    out = StringIO()
    load = os.getloadavg()[0]
    cpu, workers = time.process_time(), _children_cpu()
    started = time.perf_counter()
    call_command("seed_demo", encounters=encounters, seed=seed, force=True, stdout=out)
    seconds = time.perf_counter() - started
    # The seeder's own CPU and its worker processes' (reaped when the seed ends).
    cpu, workers = time.process_time() - cpu, _children_cpu() - workers
    made = Encounter.objects.count()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    floor = _floor_seconds()  # after the peak is read: it holds whole tables in memory
    return {
        "seconds": seconds, "cpu": cpu, "workers": workers, "made": made, "floor": floor,
        "load": load, "peak": peak_mib,
    }  # fmt: skip


def _runs(encounters: int, seed: int, count: int) -> list[dict]:
    """Seed ``count`` times, emptying the demo tables between runs, printing each run."""
    runs = []
    for number in range(1, count + 1):
        if number > 1:
            _empty_demo_tables()
        run = _one_run(encounters, seed)
        runs.append(run)
        rate = run["made"] / run["seconds"]
        print(
            f"run {number}: {run['made']:,} encounters in {run['seconds']:.1f} s = {rate:,.0f}/s "
            f"({rate / TARGET:.2f}x the {TARGET:,}/s target); "
            f"seeder CPU {run['cpu'] + run['workers']:.1f} s "
            f"(main {run['cpu']:.1f} s, workers {run['workers']:.1f} s); "
            f"floor (raw COPY of the same rows) {run['floor']:.1f} s, seed/floor "
            f"{run['seconds'] / run['floor']:.1f}x; load average {run['load']:.2f}"
        )
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        print("Set DATABASE_URL to an empty, migrated database to benchmark.", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from diversion.demo import demo_data_exists

    if demo_data_exists():
        print("This database already holds demo data: use an empty, migrated one.", file=sys.stderr)
        return 2
    print(f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
    runs = _runs(args.encounters, args.seed, args.runs)
    median = statistics.median(r["seconds"] for r in runs)
    floor = statistics.median(r["floor"] for r in runs)
    rate = args.encounters / median
    print(
        f"median of {len(runs)}: {median:.1f} s = {rate:,.0f} encounters/s, "
        f"{rate / TARGET:.2f}x the {TARGET:,}/s target; floor {floor:.1f} s "
        f"({args.encounters / floor:,.0f}/s), seed/floor {median / floor:.1f}x"
    )
    # Read after run 1's seed and before its floor: later runs' readings include that floor.
    print(f"seeder peak memory (max RSS of run 1, main process): {runs[0]['peak']:,.0f} MiB")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(
        "reproduce: DATABASE_URL=<empty migrated database> .venv/bin/python "
        f"benchmarks/bench_seed_demo.py --encounters {args.encounters} --seed {args.seed} "
        f"--runs {args.runs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
