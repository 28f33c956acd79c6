"""Write the report figures for some weeks as JSON, to compare two versions of the queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_bench .venv/bin/python \
        benchmarks/report_snapshot.py --weeks 2025-W40 2026-W20 2026-W47 > before.json
    (change the queries)
    DATABASE_URL=... .venv/bin/python benchmarks/report_snapshot.py --weeks ... > after.json
    diff before.json after.json && echo identical

Writes ``report_data`` (the SPEC §6 JSON) and ``disproportionality`` for each week, with sorted
keys, so any change in any figure shows up as a difference, and checks that
``report_with_disproportionality`` (what ``report_build`` calls) gives the same. Reads only.
"""

import argparse
import json
import os
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", nargs="+", required=True, help="ISO weeks, e.g. 2026-W47")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from reports import measure

    snapshot = {}
    for week in args.weeks:
        data = measure.report_data(week=week)
        groups = measure.disproportionality(week=week)
        snapshot[week] = {"report_data": data, "disproportionality": groups}
        # What report_build uses, where it exists: it must give the very same figures.
        if hasattr(measure, "report_with_disproportionality"):
            if measure.report_with_disproportionality(week=week) != (data, groups):
                raise SystemExit(f"{week}: report_with_disproportionality differs")
    json.dump(snapshot, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
