"""Fixtures shared by the report tests."""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from boroughs.models import Borough
from tests.diversion.factories import comparison_borough, pilot_borough
from tests.reports.factories import HACKNEY, LEWISHAM, SOUTHWARK

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def boroughs(db) -> dict[str, Borough]:
    """Pilot Lewisham and Hackney (from 1 January 2020) and comparison Southwark."""
    pilot_borough(LEWISHAM, start=date(2020, 1, 1))
    pilot_borough(HACKNEY, start=date(2020, 1, 1))
    comparison_borough(SOUTHWARK)
    return {b.gss_code: b for b in Borough.objects.filter(role__in=["pilot", "comparison"])}


def _worker_env() -> dict[str, str]:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{auth}@{host}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }


def worker_queues() -> str:
    """Return every queue tasks are routed to, and Celery's default, as ``-Q`` takes them."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return ",".join(sorted(routed | {settings.CELERY_TASK_DEFAULT_QUEUE}))


class Worker:
    """A real `celery -A config worker` process on the test database, stopped by its pidfile."""

    def __init__(self, folder: Path, name: str, pool: str, extra_env: dict[str, str]) -> None:
        self.pidfile = folder / f"{name}.pid"
        self.log = folder / f"{name}.log"
        self._log = self.log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--pool={pool}",
                f"--queues={worker_queues()}",
                "--concurrency=1",
                "--loglevel=INFO",
                f"--pidfile={self.pidfile}",
                f"--hostname={name}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env={**_worker_env(), **extra_env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        """Return the main worker process's id, from its pidfile (not the wrapper's)."""
        deadline = time.monotonic() + 60
        while not (self.pidfile.exists() and self.pidfile.read_text().strip()):
            assert time.monotonic() < deadline, f"the worker never started\n{self.text()}"
            time.sleep(0.2)
        return int(self.pidfile.read_text())

    def text(self) -> str:
        self._log.flush()
        return self.log.read_text()

    def stop(self) -> None:
        pid = int(self.pidfile.read_text()) if self.pidfile.exists() else self.process.pid
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def _needs_worker_stack() -> None:
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and a PostgreSQL DATABASE_URL to run a real Celery worker")


@pytest.fixture
def celery_worker_process(tmp_path):
    """Start a real `celery -A config worker` on the test database; stop it afterwards."""
    _needs_worker_stack()
    worker = Worker(tmp_path, "test", "solo", {})
    yield worker.process, worker.log
    worker.stop()


@pytest.fixture
def start_worker(tmp_path):
    """Start real prefork workers (one pool process each) with slow builds; stop them after."""
    _needs_worker_stack()
    started: list[Worker] = []

    def start(name: str) -> Worker:
        extra = {"REPORT_BUILD_TEST_STEP_DELAY": "1.5", "REPORT_BUILD_LOCK_TTL": "3"}
        started.append(Worker(tmp_path, name, "prefork", extra))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()
