"""Health checks answer without sign-in; /readyz tells when a backing service is down."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_readyz_answers_ready_when_services_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.content == b"ready\n"


def readyz_in_a_process(**env: str) -> tuple[int, str]:
    """Ask /readyz in a fresh process whose settings point at the given services."""
    probe = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(r.status_code); print(r.content.decode().strip())"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    status, reason = result.stdout.strip().splitlines()[-2:]
    return int(status), reason


def test_readyz_is_503_when_the_database_is_unreachable():
    # Port 1 on the loopback: nothing listens, so the connection is refused at once.
    status, reason = readyz_in_a_process(DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere")
    assert status == 503
    assert reason == "database unreachable"


def test_readyz_is_503_when_configured_redis_is_unreachable(tmp_path):
    status, reason = readyz_in_a_process(
        DATABASE_URL=f"sqlite:///{tmp_path / 'ready.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert status == 503
    assert reason == "redis unreachable"
