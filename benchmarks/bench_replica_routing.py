"""Time the report's figures and the export read through the replica alias against default.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_router .venv/bin/python \\
        benchmarks/bench_replica_routing.py [--week YYYY-Www] [--runs 3]

Without ``DATABASE_REPLICA_URL`` the "replica" alias is a second connection to the same
database, so this measures what routing costs, not what a real replica on another machine
would gain. Each run reads the figures (``report_with_disproportionality``, the reads a build
moves) three ways: on default with each statement seeing the data as committed at its own
moment (inside a plain READ COMMITTED transaction: what builds did before the router), on
default in the read-only REPEATABLE READ snapshot ``reporting_reads()`` now opens, and through
the replica alias in that snapshot. It reads the export (``encounters_export`` to a null
stream; one COPY statement, a snapshot by itself) on default and through the replica alias.
The order alternates between runs, and every way must give the same results. Ceiling: each
new way within 1.1 times the one before it (the snapshot and the router should cost nothing
measurable).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CEILING = 1.1


class _Null:
    """A binary stream that counts and drops what it is given."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def _timed(way: str, action):
    """Time ``action`` read one way: "read committed", "snapshot"/"default" or "replica"."""
    from django.conf import settings
    from django.db import transaction

    settings.REPORTING_DATABASE = "replica" if way == "replica" else "default"
    started = time.perf_counter()
    if way == "read committed":
        # Inside a transaction already, reporting_reads() joins it and sets no snapshot.
        with transaction.atomic():
            result = action()
    else:
        result = action()
    return time.perf_counter() - started, result


def _figures(week: str):
    from reports.measure import report_with_disproportionality
    from reports.services import canonical_json

    def run() -> str:
        data, groups = report_with_disproportionality(week=week)
        return canonical_json({"data": data, "groups": groups})

    return run


def _export() -> int:
    from diversion.exports import encounters_export

    return encounters_export(stream=_Null())  # type: ignore[arg-type]


WAYS = {
    "figures": ("read committed", "snapshot", "replica"),
    "export": ("default", "replica"),
}


def _one_run(number: int, week: str) -> dict:
    times: dict[str, dict[str, float]] = {"figures": {}, "export": {}}
    for name, action in (("figures", _figures(week)), ("export", _export)):
        ways = WAYS[name] if number % 2 else tuple(reversed(WAYS[name]))
        results = {}
        for way in ways:
            times[name][way], results[way] = _timed(way, action)
        assert len({str(result) for result in results.values()}) == 1, f"{name} differ"
    return times


def _ratios(name: str, times: dict[str, float]) -> list[tuple[str, float]]:
    ways = WAYS[name]
    pairs = zip(ways, ways[1:], strict=False)
    return [(f"{new}/{old}", times[new] / times[old]) for old, new in pairs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", help="ISO week; default: the latest complete week")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # The same database under the replica alias, unless a real replica is given.
    os.environ.setdefault("DATABASE_REPLICA_URL", os.environ.get("DATABASE_URL", ""))
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from diversion.models import Encounter
    from reports.weeks import week_just_ended

    week = args.week or week_just_ended(timezone.localdate())
    replica = connections["replica"].settings_dict
    print(
        f"{Encounter.objects.count():,} encounters; week {week}; replica alias: "
        f"{replica['HOST']}:{replica['PORT']}/{replica['NAME']}"
    )
    _timed("snapshot", _figures(week))  # warm the cache once for every way
    runs = []
    for number in range(1, args.runs + 1):
        run = _one_run(number, week)
        runs.append(run)
        for name, times in run.items():
            print(
                f"run {number} {name}: "
                + ", ".join(f"{way} {seconds:.2f} s" for way, seconds in times.items())
                + "; "
                + ", ".join(f"{label} {ratio:.2f}x" for label, ratio in _ratios(name, times))
                + f"; load average {os.getloadavg()[0]:.2f}"
            )
    for name, ways in WAYS.items():
        medians = {way: statistics.median(r[name][way] for r in runs) for way in ways}
        ratios = {
            label: statistics.median(dict(_ratios(name, r[name]))[label] for r in runs)
            for label, _ in _ratios(name, runs[0][name])
        }
        print(
            f"median {name}: "
            + ", ".join(f"{way} {seconds:.2f} s" for way, seconds in medians.items())
            + "; "
            + ", ".join(
                f"{label} {ratio:.2f}x ({'within' if ratio <= CEILING else 'OVER'} {CEILING}x)"
                for label, ratio in ratios.items()
            )
            + "; the same results every way"
        )
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(
        f"reproduce: DATABASE_URL={os.environ['DATABASE_URL']} .venv/bin/python "
        f"benchmarks/bench_replica_routing.py --week {week} --runs {args.runs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
