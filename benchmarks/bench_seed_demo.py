"""Time ``seed_demo`` on an empty, migrated database and report its speed and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python \
        benchmarks/bench_seed_demo.py --encounters 100000

It refuses a database that already holds demo data (seed_demo would add nothing).
"""

import argparse
import os
import resource
import sys
import time
from io import StringIO
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        print("Set DATABASE_URL to an empty, migrated database to benchmark.", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from diversion.demo import demo_data_exists
    from diversion.models import Encounter

    if demo_data_exists():
        print("This database already holds demo data: use an empty, migrated one.", file=sys.stderr)
        return 2
    before = Encounter.objects.count()
    out = StringIO()
    started = time.perf_counter()
    call_command("seed_demo", encounters=args.encounters, seed=args.seed, force=True, stdout=out)
    seconds = time.perf_counter() - started
    made = Encounter.objects.count() - before
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(out.getvalue().rstrip())
    print(f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
    print(f"encounters: {made:,} in {seconds:.1f} s = {made / seconds:,.0f} encounters/second")
    print(f"peak memory (max RSS): {peak_mib:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
