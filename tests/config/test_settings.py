"""Each settings mode loads from the environment as the README's table says."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, "
    "'tz': s.TIME_ZONE, 'use_tz': s.USE_TZ, 'hosts': s.ALLOWED_HOSTS, 'secret': s.SECRET_KEY}))"
)
SETTINGS_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
)


def load(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": f"config.settings.{module}", **env},
        capture_output=True,
        text=True,
    )


def loaded(module: str, **env: str) -> dict:
    result = load(module, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["local", "test"])
def test_embedded_default_is_sqlite_with_in_process_tasks(module):
    s = loaded(module)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["eager"] is True
    assert s["broker"] == "memory://"
    assert (s["tz"], s["use_tz"]) == ("Europe/London", True)


def test_local_mode_debugs_by_default():
    assert loaded("local")["debug"] is True
    assert loaded("local", DJANGO_DEBUG="false")["debug"] is False


def test_database_and_redis_come_from_the_environment():
    s = loaded(
        "test",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/diversion",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["eager"] is False
    assert s["broker"] == "redis://127.0.0.1:6379/0"


PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-real-secret",
    "DJANGO_ALLOWED_HOSTS": "diversion.example,localhost",
    "DATABASE_URL": "postgres://diversion:pw@db:5432/diversion",
    "REDIS_URL": "redis://redis:6379/0",
}


def test_production_loads_with_its_secrets_and_services():
    s = loaded("production", **PRODUCTION)
    assert s["debug"] is False
    assert s["secret"] == "a-real-secret"
    assert s["hosts"] == ["diversion.example", "localhost"]
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["eager"], s["broker"]) == (False, "redis://redis:6379/0")


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_production_refuses_to_start_without_a_secret_or_a_service(missing, value):
    """A deployment missing its database or Redis stops, rather than falling back to SQLite."""
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    if value is not None:
        env[missing] = value
    result = load("production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_sessions_and_cookies_are_locked_down():
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_AGE, s.SESSION_SAVE_EVERY_REQUEST]))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.production", **PRODUCTION},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == [True, True, True, 31536000, 1800, True]


def test_production_passes_the_deployment_checklist():
    """``manage.py check --deploy`` finds nothing to warn about in production settings."""
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; a deployment never does.
    unset = {*SETTINGS_VARS, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_LOG_LEVEL": "WARNING",
            **PRODUCTION,
            "DJANGO_SECRET_KEY": "k7Qx-" + "9vR2mZ_pL4wT8yB1nC6hJ3sD0fG5aE" * 2,
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).strip() == (
        "System check identified no issues (0 silenced)."
    )
