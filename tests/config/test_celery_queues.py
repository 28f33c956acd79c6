"""Celery queues: report builds and imports on "reports", the daily jobs on "daily".

Each queue must also have a worker: the compose file's workers and the test suite's real
worker consume every queue a task is routed to.
"""

import importlib
from pathlib import Path

import pytest
import yaml
from celery.signals import before_task_publish
from django.conf import settings

from config.celery_app import app
from tests.reports.conftest import worker_queues

ROOT = Path(__file__).resolve().parents[2]
ROUTES = {
    "reports.tasks.report_build_task": "reports",
    "reports.tasks.report_build_scheduled_task": "reports",
    "reports.tasks.reoffence_import_task": "reports",
    "diversion.tasks.referrals_flag_overdue_task": "daily",
    "diversion.tasks.people_anonymise_task": "daily",
}
PROJECT_APPS = ("boroughs", "diversion", "reports", "audit", "config")


def project_tasks() -> set[str]:
    """Return the names of every task the project's apps register."""
    for label in PROJECT_APPS:
        try:
            importlib.import_module(f"{label}.tasks")
        except ModuleNotFoundError as missing:
            if missing.name != f"{label}.tasks":
                raise
    return {name for name in app.tasks if name.startswith(tuple(f"{a}." for a in PROJECT_APPS))}


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


@pytest.mark.parametrize(("task", "queue"), ROUTES.items())
def test_each_task_is_routed_to_its_queue(task, queue):
    assert queue_of(task) == queue


def test_every_project_task_has_a_route():
    """A new task must choose its queue rather than fall into the default one unnoticed."""
    assert project_tasks() == set(ROUTES)


def test_every_scheduled_job_is_routed_by_its_kind():
    """The weekly build is a report build; the other scheduled jobs are the daily ones."""
    queues = {
        entry["task"]: queue_of(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert queues == {
        "reports.tasks.report_build_scheduled_task": "reports",
        "diversion.tasks.referrals_flag_overdue_task": "daily",
        "diversion.tasks.people_anonymise_task": "daily",
    }


def test_unrouted_tasks_go_to_the_default_queue():
    assert queue_of("some.other.task") == settings.CELERY_TASK_DEFAULT_QUEUE == "celery"


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("reports.tasks.report_build_task", "reports"),
        ("diversion.tasks.referrals_flag_overdue_task", "daily"),
    ],
)
def test_sending_a_task_publishes_it_to_its_queue(task, queue):
    """What apply_async really sends, on an in-memory broker so no worker ever runs it."""
    project_tasks()
    sent: list[str] = []

    def record(routing_key: str, **_kwargs) -> None:
        sent.append(routing_key)

    before_task_publish.connect(record)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write("memory://") as memory:
            app.tasks[task].apply_async(args=(1,), connection=memory)
    finally:
        app.conf.task_always_eager = eager
        before_task_publish.disconnect(record)

    assert sent == [queue]


def compose_workers() -> dict[str, str]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {
        name: service["command"]
        for name, service in services.items()
        if str(service.get("command", "")).startswith("celery -A config worker")
    }


def queues_of(command: str) -> set[str]:
    (option,) = [part for part in command.split() if part.startswith("--queues=")]
    return set(option.removeprefix("--queues=").split(","))


def test_the_compose_workers_consume_every_queue_and_share_one_definition():
    workers = compose_workers()
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    consumed = set().union(*(queues_of(command) for command in workers.values()))

    assert consumed == {*ROUTES.values(), "celery"}
    # The daily jobs have a worker of their own, so builds never hold them back.
    assert {name for name, command in workers.items() if "daily" in queues_of(command)} == {
        "worker-daily"
    }
    assert queues_of(workers["worker-daily"]) == {"daily"}
    for name in workers:
        assert services[name]["image"] == services["web"]["image"]  # the YAML anchor


def test_the_test_suites_real_worker_consumes_every_queue():
    assert set(worker_queues().split(",")) == {*ROUTES.values(), "celery"}
