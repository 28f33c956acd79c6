"""Build now: it queues the build and shows the job at once; the job page follows its steps."""

import time

import pytest

from reports.models import JobStatus, ReportBuildJob

WEEK = "2024-W03"


@pytest.fixture
def empty_queue():
    """Leave no build message behind in the test Redis for a later worker to pick up."""
    from config.celery_app import app

    app.control.purge()
    yield
    app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_build_now_with_a_queue_redirects_at_once_to_a_queued_job(
    reference_data, client, analyst, empty_queue
):
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: without a queue the build runs in the request")
    client.force_login(analyst)
    started = time.monotonic()
    response = client.post("/reports/build/", {"week": WEEK})
    elapsed = time.monotonic() - started
    job = ReportBuildJob.objects.get()
    assert response.status_code == 302 and response.url == f"/reports/jobs/{job.pk}/"
    assert job.status == JobStatus.QUEUED and job.task_id  # sent to the queue, not run here
    assert elapsed < 2, f"Build now took {elapsed:.1f}s"
    page = client.get(response.url).content.decode()
    assert "Queued" in page and "waiting for a worker" in page
    assert "Refresh the page" in page


def test_status_json_says_the_step_a_running_build_is_on(client, analyst):
    job = ReportBuildJob.objects.create(
        week=WEEK, status=JobStatus.RUNNING, step="Comparing groups"
    )
    client.force_login(analyst)
    status = client.get(f"/reports/jobs/{job.pk}/status.json").json()
    assert status == {
        "status": "running",
        "label": "Running",
        "step": "Comparing groups",
        "message": "",
        "report_url": None,
    }


def test_without_a_queue_the_list_page_says_the_build_runs_at_once(client, analyst, celery_eager):
    client.force_login(analyst)
    page = client.get("/reports/").content.decode()
    assert "the report is built as soon as you select Build now" in page


def test_with_a_queue_the_list_page_does_not_say_it_builds_at_once(client, analyst, settings):
    from config.celery_app import app

    if app.conf.task_always_eager:
        pytest.skip("needs REDIS_URL: this checks the page with a queue")
    client.force_login(analyst)
    assert "built as soon as you select" not in client.get("/reports/").content.decode()


def test_job_pages_load_the_progress_script_from_a_static_file(client, analyst):
    job = ReportBuildJob.objects.create(week=WEEK)
    client.force_login(analyst)
    page = client.get(f"/reports/jobs/{job.pk}/").content.decode()
    assert 'src="/static/js/job-poll.js"' in page
    assert "fetch(" not in page  # no inline polling script, so a strict CSP can forbid them


def test_without_a_queue_build_now_runs_the_build_and_then_shows_the_result(
    client, analyst, celery_eager, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit runs the build
        response = client.post("/reports/build/", {"week": WEEK})
    job = ReportBuildJob.objects.get()
    assert job.status == JobStatus.READY
    page = client.get(response.url).content.decode()
    assert "The report was built as soon as you asked for it." in page
    assert f"Open the report for {WEEK}, version 1" in page
    assert "job-poll.js" not in page  # nothing left to follow
