"""The approval workflow: who may take each step, from which status, and who is told."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from reports.models import ReportDownload, ReportStatus
from reports.workflow import (
    WorkflowError,
    notification_of,
    notification_text,
    report_approve,
    report_download_record,
    report_return,
    report_submit,
)
from tests.conftest import make_user
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    analyst = make_user("ana", "analyst", email="ana@example.gov.uk", first_name="Ana")
    approver = make_user("apo", "approver", email="apo@example.gov.uk", first_name="Apo")
    second = make_user("sec", "approver", email="sec@example.gov.uk")
    make_user("gone", "approver", email="gone@example.gov.uk", is_active=False)
    make_user("noemail", "approver")
    officer = make_user("off", "officer", email="off@example.gov.uk")
    return {"analyst": analyst, "approver": approver, "second": second, "officer": officer}


def submitted(people, django_capture_on_commit_callbacks):
    version = make_version()
    with django_capture_on_commit_callbacks(execute=True):
        report_submit(version=version, by=people["analyst"])
    mail.outbox.clear()
    return version


def test_analyst_submits_a_draft_and_every_active_approver_is_emailed(
    people, django_capture_on_commit_callbacks
):
    version = make_version()
    with django_capture_on_commit_callbacks(execute=True):
        report_submit(version=version, by=people["analyst"])
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED
    assert version.submitted_by == people["analyst"] and version.submitted_at is not None
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["apo@example.gov.uk", "sec@example.gov.uk"]
    assert "2026-W10" in mail.outbox[0].subject
    assert "/reports/2026-W10/v1/" in mail.outbox[0].body


def test_submitting_is_recorded_in_history_with_user_and_reason(
    people, django_capture_on_commit_callbacks
):
    version = submitted(people, django_capture_on_commit_callbacks)
    record = version.history.latest()
    assert record.history_user == people["analyst"]
    assert record.history_change_reason == "Submitted for approval"
    assert record.status == ReportStatus.SUBMITTED


def test_email_waits_for_the_submission_to_be_committed(people):
    version = make_version()
    report_submit(version=version, by=people["analyst"])  # on_commit callbacks never run here
    assert mail.outbox == []


@pytest.mark.parametrize("who", ["approver", "officer"])
def test_only_analysts_can_submit(people, who):
    version = make_version()
    with pytest.raises(PermissionDenied):
        report_submit(version=version, by=people[who])
    version.refresh_from_db()
    assert version.status == ReportStatus.DRAFT


def test_approver_approves_a_submitted_version_and_the_analyst_is_told(
    people, django_capture_on_commit_callbacks
):
    version = submitted(people, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        report_approve(version=version, by=people["approver"], comment="Looks right")
    version.refresh_from_db()
    assert version.status == ReportStatus.APPROVED
    assert version.decided_by == people["approver"] and version.decided_at is not None
    assert version.approver_comment == "Looks right"
    assert [m.to for m in mail.outbox] == [["ana@example.gov.uk"]]
    assert "approved" in mail.outbox[0].subject and "Looks right" in mail.outbox[0].body
    record = version.history.latest()
    assert (record.history_user, record.history_change_reason) == (people["approver"], "Approved")


def test_analyst_cannot_approve(people, django_capture_on_commit_callbacks):
    version = submitted(people, django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        report_approve(version=version, by=people["analyst"])
    with pytest.raises(PermissionDenied):
        report_return(version=version, by=people["analyst"], comment="No")
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED


@pytest.mark.parametrize("status", [ReportStatus.DRAFT, ReportStatus.RETURNED])
def test_only_a_submitted_version_can_be_approved_or_returned(people, status):
    version = make_version(status=status)
    with pytest.raises(WorkflowError, match="Only a submitted report"):
        report_approve(version=version, by=people["approver"])
    with pytest.raises(WorkflowError, match="Only a submitted report"):
        report_return(version=version, by=people["approver"], comment="Fix it")


def test_an_approved_version_is_final(people, django_capture_on_commit_callbacks):
    version = submitted(people, django_capture_on_commit_callbacks)
    report_approve(version=version, by=people["approver"])
    with pytest.raises(WorkflowError):
        report_submit(version=version, by=people["analyst"])
    with pytest.raises(WorkflowError):
        report_approve(version=version, by=people["second"])
    with pytest.raises(WorkflowError):
        report_return(version=version, by=people["second"], comment="Changed my mind")
    version.refresh_from_db()
    assert version.status == ReportStatus.APPROVED
    assert version.decided_by == people["approver"]


@pytest.mark.parametrize("comment", ["", "   "])
def test_returning_needs_a_comment(people, django_capture_on_commit_callbacks, comment):
    version = submitted(people, django_capture_on_commit_callbacks)
    with pytest.raises(WorkflowError, match="Enter a comment"):
        report_return(version=version, by=people["approver"], comment=comment)
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED


def test_returned_version_goes_back_to_the_analyst_and_can_be_resubmitted(
    people, django_capture_on_commit_callbacks
):
    version = submitted(people, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        report_return(version=version, by=people["approver"], comment="Check Lewisham")
    version.refresh_from_db()
    assert version.status == ReportStatus.RETURNED
    assert version.approver_comment == "Check Lewisham"
    assert [m.to for m in mail.outbox] == [["ana@example.gov.uk"]]
    assert "Check Lewisham" in mail.outbox[0].body
    report_submit(version=version, by=people["analyst"])
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED
    reasons = list(
        version.history.order_by("history_date").values_list("history_change_reason", flat=True)
    )
    assert reasons[-3:] == [
        "Submitted for approval",
        "Returned with a comment",
        "Submitted for approval",
    ]


def test_nobody_approves_their_own_submission(people, django_capture_on_commit_callbacks):
    both = make_user("both", "analyst", "approver")
    version = make_version()
    report_submit(version=version, by=both)
    with pytest.raises(WorkflowError, match="Someone other than"):
        report_approve(version=version, by=both)


def test_a_version_whose_figures_no_longer_match_its_hash_cannot_be_approved(
    people, django_capture_on_commit_callbacks
):
    version = submitted(people, django_capture_on_commit_callbacks)
    version.data["activity"][0]["encounters"] = 11
    version.save()
    with pytest.raises(WorkflowError, match="SHA-256"):
        report_approve(version=version, by=people["approver"])


def test_download_is_recorded(people):
    version = make_version()
    report_download_record(report=version, by=people["analyst"], what="pdf")
    report_download_record(by=people["analyst"], what="encounters-export")
    assert list(ReportDownload.objects.order_by("id").values_list("report", "what")) == [
        (version.pk, "pdf"),
        (None, "encounters-export"),
    ]


def test_the_step_records_who_was_emailed_once_the_email_is_sent(
    people, django_capture_on_commit_callbacks
):
    version = make_version()
    with django_capture_on_commit_callbacks(execute=True):
        report_submit(version=version, by=people["analyst"])
    note = notification_of(version)
    assert note.sent
    assert note.recipients == [("Apo", "apo@example.gov.uk"), ("sec", "sec@example.gov.uk")]
    assert notification_text(note, nobody="no approver has an email address") == (
        "An email was sent to Apo (apo@example.gov.uk), sec (sec@example.gov.uk)."
    )


def test_an_email_not_sent_yet_is_not_claimed(people):
    version = make_version()
    report_submit(version=version, by=people["analyst"])  # on_commit callbacks never run here
    note = notification_of(version)
    assert note.recipients and not note.sent
    assert notification_text(note, nobody="x") == (
        "The email could not be sent, so tell them yourself."
    )


def test_when_nobody_has_an_address_the_step_says_so(db, django_capture_on_commit_callbacks):
    analyst = make_user("ana", "analyst")
    make_user("apo", "approver")
    version = make_version()
    with django_capture_on_commit_callbacks(execute=True):
        report_submit(version=version, by=analyst)
    assert mail.outbox == []
    assert notification_of(version).recipients == []
    assert notification_text(
        notification_of(version), nobody="no approver has an email address"
    ) == ("Nobody was emailed because no approver has an email address, so tell them yourself.")


def test_a_mail_server_failure_keeps_the_step_and_is_not_claimed_as_sent(
    people, django_capture_on_commit_callbacks, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("reports.workflow.send_mail", refuse)
    version = make_version()
    with django_capture_on_commit_callbacks(execute=True):
        report_submit(version=version, by=people["analyst"])
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED
    note = notification_of(version)
    assert note.failed and not note.sent
