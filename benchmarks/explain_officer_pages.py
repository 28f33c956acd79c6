"""Print EXPLAIN ANALYZE for every query the officer's home page and work queue run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_officer \\
        .venv/bin/python benchmarks/explain_officer_pages.py [--user officer] [PATH ...]

Each page is requested as the named officer (default: the demo `officer`, who works in eight
boroughs) through Django's test client; every SQL statement it runs, except the session and
user look-ups every page shares, is explained with ANALYZE and BUFFERS, so the plans show what
PostgreSQL really did. Default paths: the home page and the queue (most and least overdue
first, missed appointments only); pass others, e.g. an encounter or person page
(benchmarks/load_targets.py prints the busiest ones).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

SHARED = ("django_session", '"auth_user"', "auth_permission", "auth_group")
DEFAULT_PATHS = [
    "/",
    "/referrals/needing-action/",
    "/referrals/needing-action/?order=least",
    "/referrals/needing-action/?due=appointment",
]


def explain(sql: str) -> str:
    """Return PostgreSQL's plan for one captured statement, run for real."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def page_queries(client: Client, path: str) -> tuple[int, float, list[str]]:
    """Request a page; return its status, wall time and the statements it ran."""
    client.get(path)  # Warm caches, so the timing is of the page and not of a cold start.
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - started
    sqls = [q["sql"] for q in captured.captured_queries]
    return response.status_code, seconds, sqls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="officer")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args()
    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.get(username=args.user))
    for path in args.paths:
        status, seconds, sqls = page_queries(client, path)
        print(f"=== GET {path}: {status}, {seconds * 1000:.0f} ms, {len(sqls)} queries")
        for sql in sqls:
            shared = any(name in sql for name in SHARED) and "diversion_" not in sql
            if shared or not sql.lstrip().upper().startswith("SELECT"):
                continue
            print(f"\n-- {sql}\n{explain(sql)}\n")


if __name__ == "__main__":
    main()
