"""Time ``import_encounters`` and ``import_reoffences`` against issue 8's targets.

    createdb -h 127.0.0.1 -U postgres diversion_imports_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_imports_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_imports_bench \\
        .venv/bin/python benchmarks/bench_import.py --rows 100000 1000000

For each size it writes a valid encounters file (generate_encounters.py, cached in /tmp),
times a raw ``COPY`` of that file into an unindexed table of text columns (the floor: what
the database alone needs to take the bytes in), then runs ``manage.py import_encounters`` in
its own process under ``/usr/bin/time -v`` on the emptied tables, and prints rows/s against
the 10,000 rows/s floor, peak RSS (of the command and its worker processes together,
sampled) against the 300 MB ceiling, and import/COPY. Then it
imports the same file again (every row unchanged). With ``--reoffences`` it also writes one
reoffence per imported person (up to that many rows) and times ``import_reoffences`` the same
way. The database must be migrated and hold nothing but what this script imports: it empties
the encounter, person, referral and reoffence tables between runs.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess  # nosec B404 - runs this project's own commands
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from boroughs.services import borough_configure  # noqa: E402
from diversion.models import (  # noqa: E402
    Encounter,
    EncounterExclusion,
    EncounterReason,
    Person,
    Referral,
    Reoffence,
)

# Runs manage.py of a checkout, importing that checkout's apps rather than the ones this
# virtualenv's editable install points at (so "before" figures are of the code before).
RUN = """
import runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable" not in repr(f)]
code, *arguments = sys.argv[1:]
sys.path[:] = [code] + [p for p in sys.path if p not in ("", ".")]
sys.argv = [code + "/manage.py", *arguments]
runpy.run_path(code + "/manage.py", run_name="__main__")
"""
FLOOR_ROWS_PER_S = 10_000
CEILING_MB = 300
MODELS = (EncounterReason, EncounterExclusion, Referral, Reoffence, Encounter, Person)


def _empty() -> None:
    tables = [m._meta.db_table for m in MODELS]
    tables += [m.history.model._meta.db_table for m in (Referral, Reoffence, Encounter, Person)]  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def _file(rows: int, seed: int) -> Path:
    path = Path(f"/tmp/bench_import_{rows}_{seed}.csv")  # nosec B108 - a cache of test data
    if not path.exists():
        started = time.perf_counter()
        subprocess.run(  # nosec B603
            [sys.executable, str(HERE / "generate_encounters.py"), "--rows", str(rows),
             "--seed", str(seed), "--output", str(path)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    return path


def _reoffence_file(encounters: Path, rows: int) -> Path:
    """Write one reoffence per person of the encounters file (up to ``rows``)."""
    path = encounters.with_name(encounters.stem + f"_reoffences_{rows}.csv")
    if path.exists():
        return path
    seen: set[str] = set()
    with (
        encounters.open(encoding="utf-8", newline="") as source,
        path.open("w", encoding="utf-8", newline="") as target,
    ):
        writer = csv.writer(target)
        writer.writerow(["person_ref", "offence_date", "offence_type", "source_ref"])
        for record in csv.DictReader(source):
            if record["person_ref"] in seen:
                continue
            seen.add(record["person_ref"])
            later = date.fromisoformat(record["encounter_date"]) + timedelta(days=30)
            day = min(later, date.today())
            ref = f"PNC-{len(seen)}"
            writer.writerow([record["person_ref"], day.isoformat(), "possession", ref])
            if len(seen) >= rows:
                break
    return path


def _copy_floor(path: Path) -> float:
    """Time a raw COPY of the file into an unindexed table of text columns."""
    with path.open(encoding="utf-8") as file:
        width = len(next(csv.reader(file)))
    columns = ", ".join(f"c{i} text" for i in range(width))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_import_floor")
        cursor.execute(f"CREATE UNLOGGED TABLE bench_import_floor ({columns})")
        with path.open(encoding="utf-8") as file:
            started = time.perf_counter()
            cursor.cursor.copy_expert(
                "COPY bench_import_floor FROM STDIN WITH (FORMAT csv, HEADER true)", file
            )
            elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_import_floor")
    return elapsed


def _run(command: str, path: Path, code: Path = ROOT) -> tuple[float, float, str]:
    """Run a management command in its own process; return seconds, peak RSS (MB), output.

    The RSS is the peak of the command's processes together (it may start workers), sampled
    every 0.1 s; ``/usr/bin/time`` gives the command's own peak and its CPU time, which counts
    its workers' too.
    """
    started = time.perf_counter()
    process = subprocess.Popen(  # nosec B603
        ["/usr/bin/time", "-v", sys.executable, "-c", RUN, str(code), command, str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=code,
    )  # fmt: skip
    peak = TreeRss(process.pid)
    peak.start()
    stdout, stderr = process.communicate()
    peak.stop()
    elapsed = time.perf_counter() - started
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    own = int(found.group(1)) / 1024 if found else float("nan")
    cpu = sum(
        float(m.group(1))
        for m in re.finditer(r"(?:User|System) time \(seconds\): ([0-9.]+)", stderr)
    )
    print(
        f"  ({command}: {cpu:.1f} s of CPU in the command and its workers; peak RSS of the "
        f"command alone {own:.0f} MB, of all its processes together {peak.mb:.0f} MB)"
    )
    if process.returncode != 0:
        print(stderr[-3000:])
        sys.exit(f"{command} failed")
    return elapsed, peak.mb, stdout.strip()


class TreeRss(threading.Thread):
    """Sample the resident memory of a process and all its descendants; keep the peak."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            self.mb = max(self.mb, sum(_rss_kb(pid) for pid in _tree(self.root)) / 1024)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(root: int) -> list[int]:
    """The process ``root`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) if found else 0


def _report(label: str, rows: int, elapsed: float, rss: float, floor: float) -> None:
    speed = rows / elapsed
    print(
        f"{label}: {rows:,} rows in {elapsed:.1f} s = {speed:,.0f} rows/s "
        f"({speed / FLOOR_ROWS_PER_S:.2f}x the {FLOOR_ROWS_PER_S:,}/s floor); "
        f"peak RSS {rss:.0f} MB, every process together ({rss / CEILING_MB:.2f} of the "
        f"{CEILING_MB} MB ceiling); "
        f"raw COPY {floor:.2f} s, import/COPY {elapsed / floor:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reoffences", type=int, default=0, help="reoffence rows to import")
    parser.add_argument("--no-reimport", action="store_true")
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="run the commands of another checkout (before)"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (DATABASE_URL).")
    borough_configure(gss_code="E09000022", role="pilot", pilot_start=date(2025, 1, 1))
    borough_configure(gss_code="E09000028", role="pilot", pilot_start=date(2025, 1, 1))
    borough_configure(gss_code="E09000008", role="comparison")
    print(f"Database {connection.settings_dict['NAME']}, load average {os.getloadavg()[0]:.1f}")
    for rows in args.rows:
        _bench(rows, args)


def _bench(rows: int, args: argparse.Namespace) -> None:
    """Time the imports of one file size."""
    path = _file(rows, args.seed)
    _empty()
    floor = _copy_floor(path)
    elapsed, rss, said = _run("import_encounters", path, args.code)
    print(said)
    _report("import_encounters", rows, elapsed, rss, floor)
    if not args.no_reimport:
        elapsed, rss, said = _run("import_encounters", path, args.code)
        print(said)
        _report("import_encounters again (unchanged)", rows, elapsed, rss, floor)
    if args.reoffences:
        offences = _reoffence_file(path, args.reoffences)
        count = sum(1 for _ in offences.open(encoding="utf-8")) - 1
        floor = _copy_floor(offences)
        elapsed, rss, said = _run("import_reoffences", offences, args.code)
        print(said)
        _report("import_reoffences", count, elapsed, rss, floor)
    print(
        f"command: DATABASE_URL=... .venv/bin/python benchmarks/bench_import.py "
        f"--rows {rows} --seed {args.seed}"
        + (f" --reoffences {args.reoffences}" if args.reoffences else "")
    )


if __name__ == "__main__":
    main()
