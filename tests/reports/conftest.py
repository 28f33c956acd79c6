"""Fixtures shared by the report tests."""

import os
import signal
import subprocess
import sys
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


@pytest.fixture
def upload_reoffences(client, celery_eager):
    """Post a reoffence file to the upload page, run its import job, and return the next page.

    The job is sent when the upload commits; tests run inside a transaction that never
    commits, so the commit callbacks are run here, in-process, before the job page is read.
    """
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import TestCase

    def upload(content: str | bytes, name: str = "matches.csv"):
        data = content.encode("utf-8") if isinstance(content, str) else content
        file = SimpleUploadedFile(name, data, content_type="text/csv")
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post("/reports/reoffences/upload/", {"file": file})
        if response.status_code != 302:
            return response
        return client.get(response["Location"])

    return upload


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


@pytest.fixture
def celery_worker_process(tmp_path):
    """Start a real `celery -A config worker` on the test database; stop it afterwards."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and a PostgreSQL DATABASE_URL to run a real Celery worker")
    pidfile = tmp_path / "worker.pid"
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--pidfile={pidfile}",
            f"--hostname=test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=_worker_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process, tmp_path / "worker.log"
    pid = int(pidfile.read_text()) if pidfile.exists() else process.pid
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
