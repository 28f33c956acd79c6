"""Time building the weekly report for the latest complete week, and count its SQL queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python manage.py \
        seed_demo --encounters 100000 --seed 1 --force
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python \
        benchmarks/bench_report.py [--week YYYY-Www]

Times the figures (``report_data``), the disproportionality tables, and a full build through
``report_build`` (which stores a version unless the figures are unchanged).
"""

import argparse
import os
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", help="ISO week; default: the latest complete week")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from diversion.models import Encounter, Reoffence
    from reports.measure import disproportionality, report_data
    from reports.services import report_build
    from reports.weeks import week_just_ended

    week = args.week or week_just_ended(timezone.localdate())
    print(
        f"{connection.vendor}: {Encounter.objects.count():,} encounters, "
        f"{Reoffence.objects.count():,} reoffences; week {week}"
    )
    for label, run in (
        ("report_data", lambda: report_data(week=week)),
        ("disproportionality", lambda: disproportionality(week=week)),
        ("report_build", lambda: report_build(week=week)),
    ):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - started
        note = ""
        if label == "report_data":
            note = f", {len(result['reoffending'])} reoffending rows"
        elif label == "report_build":
            version, created = result
            note = f", version {version.number} ({'new' if created else 'unchanged, reused'})"
        print(f"{label}: {elapsed:.2f} s, {len(queries)} SQL queries{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
