"""Reoffence uploads that cannot hurt the service: a size limit, a capped error list, a job."""

import time
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import TestCase

from diversion.models import Reoffence
from reports.forms import ReoffenceUploadForm
from reports.import_jobs import (
    LISTED_ERRORS,
    MAX_UPLOAD_BYTES,
    reoffence_import_enqueue,
    reoffence_import_job_run,
)
from reports.models import ImportJobStatus, ReoffenceImportJob
from reports.tasks import reoffence_import_task
from tests.conftest import make_user
from tests.reports.factories import person

URL = "/reports/reoffences/upload/"
HEADER = "person_ref,offence_date,offence_type,source_ref\n"
POLL_SCRIPT = "js/job-poll.js"  # the progress script, a static file (no inline script)
GOOD = HEADER + "P-0001,2026-01-10,theft,S1\nP-0001,2026-01-11,burglary,S2\n"


def bad_rows(count: int) -> str:
    """Rows with one error each (an unknown person), on lines 2 to count + 1."""
    return HEADER + "".join(f"P-NONE-{n},2026-01-10,theft,\n" for n in range(count))


def csv_file(content: str | bytes, name: str = "matches.csv") -> SimpleUploadedFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def queued_job(analyst, content: str = GOOD) -> ReoffenceImportJob:
    """Store an upload as a job without sending it (commit callbacks never run in a test)."""
    return reoffence_import_enqueue(upload=csv_file(content), by=analyst)


@pytest.fixture
def someone(db):
    return person("P-0001")


# --- The size limit -------------------------------------------------------------------------


def test_upload_page_states_the_size_limit_before_upload(client, analyst):
    client.force_login(analyst)
    page = client.get(URL).content.decode()
    assert "The file must be 10 MB or smaller." in page


def test_a_file_over_10_mb_is_refused_in_plain_english_and_nothing_is_saved(
    client, analyst, someone
):
    client.force_login(analyst)
    line = b"P-0001,2026-01-10,theft,S1\n"
    big = HEADER.encode() + line * (MAX_UPLOAD_BYTES // len(line) + 1)
    assert len(big) > MAX_UPLOAD_BYTES
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        response = client.post(URL, {"file": csv_file(big)})
    assert response.status_code == 400
    assert "The selected file must be 10 MB or smaller." in response.content.decode()
    assert callbacks == []
    assert not ReoffenceImportJob.objects.exists()
    assert not Reoffence.objects.exists()


def test_a_file_of_exactly_10_mb_is_accepted_by_the_form():
    content = HEADER.encode() + b"x" * (MAX_UPLOAD_BYTES - len(HEADER))
    form = ReoffenceUploadForm(data={}, files={"file": csv_file(content)})
    assert form.is_valid(), form.errors


def test_big_uploads_are_streamed_to_disk_not_held_in_memory(settings):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE < MAX_UPLOAD_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2.5 * 1024 * 1024


# --- At most 100 errors on the page, every error from the command -------------------------------


def test_page_lists_the_first_100_errors_and_says_how_many_in_all(
    client, analyst, upload_reoffences
):
    client.force_login(analyst)
    page = upload_reoffences(bad_rows(150)).content.decode()
    assert "There are 150 problems in this file. The first 100 are listed." in page
    assert page.count("<li>line ") == LISTED_ERRORS == 100
    assert "<li>line 2, person_ref:" in page and "<li>line 101, person_ref:" in page
    assert "line 102," not in page
    job = ReoffenceImportJob.objects.get()
    assert (job.status, job.error_count, len(job.errors)) == (ImportJobStatus.FAILED, 150, 100)
    assert not Reoffence.objects.exists()


def test_page_does_not_say_first_100_when_every_error_is_listed(client, analyst, upload_reoffences):
    client.force_login(analyst)
    page = upload_reoffences(bad_rows(3)).content.decode()
    assert "There are 3 problems in this file." in page
    assert "are listed" not in page


def test_command_still_lists_every_error(db, tmp_path):
    path = tmp_path / "matches.csv"
    path.write_text(bad_rows(150), encoding="utf-8")
    with pytest.raises(CommandError) as failure:
        call_command("import_reoffences", str(path))
    message = str(failure.value)
    assert "Fix these 150 error(s)" in message
    assert message.count("person_ref: There is no person") == 150
    assert "line 151, person_ref:" in message


def test_command_has_no_size_limit(db, tmp_path, someone):
    path = tmp_path / "matches.csv"
    # The same row over and over: checked like any other, stored once (SPEC §7).
    row = f"P-0001,2026-01-10,theft {'x' * 190},S1\n"
    path.write_text(HEADER + row * (MAX_UPLOAD_BYTES // len(row) + 1), encoding="utf-8")
    assert path.stat().st_size > MAX_UPLOAD_BYTES
    out = StringIO()
    call_command("import_reoffences", str(path), stdout=out)
    assert "Imported 1 reoffence(s)" in out.getvalue()
    assert Reoffence.objects.count() == 1


# --- The job: queued, running, succeeded or failed ---------------------------------------------


def test_a_queued_job_page_follows_itself_and_offers_a_refresh_link(client, analyst, someone):
    job = queued_job(analyst)
    client.force_login(analyst)
    page = client.get(job.get_absolute_url()).content.decode()
    assert ">Queued</strong>" in page
    assert f'data-job-status-url="/reports/reoffences/imports/{job.pk}/status.json"' in page
    assert f'href="/reports/reoffences/imports/{job.pk}/">Refresh the page</a>' in page
    assert POLL_SCRIPT in page
    assert client.get(f"/reports/reoffences/imports/{job.pk}/status.json").json() == {
        "status": "queued",
        "label": "Queued",
    }


def test_a_running_job_says_so(client, analyst, someone):
    job = queued_job(analyst)
    ReoffenceImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.RUNNING)
    client.force_login(analyst)
    assert ">Running</strong>" in client.get(job.get_absolute_url()).content.decode()


def test_a_succeeded_job_shows_its_counts_and_stops_following(client, analyst, someone):
    job = reoffence_import_job_run(job_id=queued_job(analyst).pk)
    assert (job.status, job.imported, job.unchanged) == (ImportJobStatus.SUCCEEDED, 2, 0)
    assert job.started_at and job.finished_at
    client.force_login(analyst)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "2 reoffences imported. 0 rows already recorded" in page
    assert "data-job-status-url" not in page and POLL_SCRIPT not in page


def test_the_job_and_the_upload_are_audited(analyst, someone):
    job = reoffence_import_job_run(job_id=queued_job(analyst).pk)
    assert job.uploaded_by == analyst and job.created_at
    assert job.file_name == "matches.csv" and job.file_size == len(GOOD.encode())
    created, *changes = job.history.order_by("history_date")
    assert created.history_user == analyst
    assert [change.status for change in changes] == [ImportJobStatus.SUCCEEDED]
    reoffence = Reoffence.objects.first()
    assert reoffence.entered_by == analyst
    assert reoffence.history.get().history_user == analyst


def test_task_is_safe_to_run_twice(analyst, someone):
    job = queued_job(analyst)
    first = reoffence_import_task.apply(args=[job.pk]).get()
    second = reoffence_import_task.apply(args=[job.pk]).get()
    job.refresh_from_db()
    assert first == second == ImportJobStatus.SUCCEEDED
    assert (job.imported, job.unchanged) == (2, 0), "the second run leaves the result alone"
    assert Reoffence.objects.count() == 2


def test_a_job_refused_for_its_errors_is_not_run_again(analyst, monkeypatch):
    job = reoffence_import_job_run(job_id=queued_job(analyst, bad_rows(3)).pk)
    assert (job.status, job.error_count) == (ImportJobStatus.FAILED, 3)

    def must_not_run(**kwargs):
        raise AssertionError("a finished job was imported again")

    monkeypatch.setattr("reports.import_jobs.reoffences_import", must_not_run)
    again = reoffence_import_task.apply(args=[job.pk]).get()
    assert again == ImportJobStatus.FAILED


def test_a_job_that_failed_for_a_fault_succeeds_when_retried(analyst, someone, monkeypatch):
    from reports import import_jobs

    working = import_jobs.reoffences_import
    monkeypatch.setattr(
        import_jobs, "reoffences_import", lambda **kw: (_ for _ in ()).throw(OperationalError())
    )
    job = queued_job(analyst)
    with pytest.raises(OperationalError):
        reoffence_import_job_run(job_id=job.pk)
    monkeypatch.setattr(import_jobs, "reoffences_import", working)
    job = reoffence_import_job_run(job_id=job.pk)
    assert (job.status, job.imported, job.message) == (ImportJobStatus.SUCCEEDED, 2, "")


def test_reuploading_the_same_file_changes_nothing(analyst, someone):
    reoffence_import_job_run(job_id=queued_job(analyst).pk)
    again = reoffence_import_job_run(job_id=queued_job(analyst).pk)
    assert (again.imported, again.unchanged) == (0, 2)
    assert Reoffence.objects.count() == 2


def test_task_retries_with_time_limits():
    assert OperationalError in reoffence_import_task.autoretry_for
    assert Exception not in reoffence_import_task.autoretry_for, "a bug is never retried"
    assert reoffence_import_task.time_limit and reoffence_import_task.soft_time_limit


def test_a_fault_during_the_import_fails_the_job_and_imports_nothing(analyst, someone, monkeypatch):
    def broken(**kwargs):
        raise OperationalError("connection lost")

    monkeypatch.setattr("reports.import_jobs.reoffences_import", broken)
    job = queued_job(analyst)
    with pytest.raises(OperationalError):
        reoffence_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED
    assert "will be tried again" in job.message
    assert not Reoffence.objects.exists()


def test_a_broker_that_cannot_be_reached_fails_the_job_with_a_message(
    client, analyst, someone, monkeypatch
):
    def unreachable(*args):
        raise ConnectionError("no broker")

    monkeypatch.setattr(reoffence_import_task, "delay", unreachable)
    client.force_login(analyst)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(URL, {"file": csv_file(GOOD)})
    page = client.get(response["Location"]).content.decode()
    assert "The import could not be started. Upload the file again in a few minutes." in page
    assert ReoffenceImportJob.objects.get().status == ImportJobStatus.FAILED


# --- Who sees which uploads -------------------------------------------------------------------


def test_analysts_see_only_their_own_uploads(client, analyst, someone):
    job = queued_job(analyst)
    other = make_user("other-analyst", "analyst")
    client.force_login(other)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.get(f"/reports/reoffences/imports/{job.pk}/status.json").status_code == 404
    assert "matches.csv" not in client.get(URL).content.decode()
    client.force_login(analyst)
    assert f'href="{job.get_absolute_url()}">matches.csv</a>' in client.get(URL).content.decode()


def test_approvers_cannot_see_upload_jobs(client, analyst, approver, someone):
    job = queued_job(analyst)
    client.force_login(approver)
    assert client.get(job.get_absolute_url()).status_code == 403


def test_upload_job_pages_never_show_names_or_dates_of_birth(client, analyst, someone):
    job = reoffence_import_job_run(job_id=queued_job(analyst).pk)
    client.force_login(analyst)
    page = client.get(job.get_absolute_url()).content.decode()
    assert someone.first_name not in page and someone.last_name not in page
    assert someone.date_of_birth.isoformat() not in page


# --- A real worker ------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_real_worker_imports_an_upload_sent_through_the_page(
    reference_data, celery_worker_process, analyst, client
):
    """An upload posted to the page is imported by a separate worker process through Redis."""
    _, log = celery_worker_process
    person("P-0001")
    client.force_login(analyst)
    response = client.post(URL, {"file": csv_file(GOOD)})
    assert response.status_code == 302
    job = ReoffenceImportJob.objects.get()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJobStatus.SUCCEEDED, ImportJobStatus.FAILED):
            break
        time.sleep(0.5)
    assert job.status == ImportJobStatus.SUCCEEDED, f"{job.message}\n{log.read_text()}"
    assert job.task_id
    assert (job.imported, job.unchanged) == (2, 0)
    assert Reoffence.objects.filter(entered_by=analyst).count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "2 reoffences imported." in page


def test_admins_can_read_the_upload_audit_but_not_change_it(client, analyst, admin_user, someone):
    job = reoffence_import_job_run(job_id=queued_job(analyst).pk)
    client.force_login(admin_user)
    listing = client.get("/admin/reports/reoffenceimportjob/")
    assert listing.status_code == 200
    assert "matches.csv" in listing.content.decode() and "analyst" in listing.content.decode()
    assert client.get(f"/admin/reports/reoffenceimportjob/{job.pk}/change/").status_code == 200
    assert client.get("/admin/reports/reoffenceimportjob/add/").status_code == 403
