"""The Celery application, configured from Django settings (the cookiecutter-django way)."""

import os
from typing import Any

from celery import Celery, Task
from django.db import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("diversion_pilot")
# Every CELERY_* setting in Django's settings configures Celery.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# What every task shares: retry with back-off when the database or broker is briefly away
# (a restart, a dropped connection), never on a bug; acknowledge only once done, and give the
# task back to the queue if the process running it is killed.
RETRY_ON = (OperationalError, ConnectionError)
RETRYING_TASK: dict[str, Any] = {
    "autoretry_for": RETRY_ON,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "retry_kwargs": {"max_retries": 5},
    "acks_late": True,
    "reject_on_worker_lost": True,
}


def task(name: str) -> Task:
    """Return the registered task ``name``.

    Services enqueue their tasks by name, so they need not import the task modules, which
    import the services: the tasks depend on the services, never the other way round. A web
    process has not imported the task modules (only a worker does at start), so they are
    discovered here the first time a name is missing.
    """
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]
