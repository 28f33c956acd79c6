"""The Celery app finds tasks by name in a process that has not imported them."""

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

FRESH_PROCESS = """
import django
django.setup()
import sys
assert "reports.tasks" not in sys.modules, "reports.tasks was imported already"
from config.celery_app import task
for name in ("reports.tasks.report_build_task", "reports.tasks.reoffence_import_task"):
    print(task(name).name)
"""


def test_task_by_name_works_in_a_web_process_that_never_imported_the_task_modules() -> None:
    """A web process (gunicorn) enqueues by name before anything imported reports.tasks."""
    completed = subprocess.run(  # noqa: S603 - fixed arguments, this interpreter
        [sys.executable, "-c", FRESH_PROCESS],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [
        "reports.tasks.report_build_task",
        "reports.tasks.reoffence_import_task",
    ]
