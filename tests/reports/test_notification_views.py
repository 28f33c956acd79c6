"""The pages say who was emailed only when an email was actually sent, and when nobody was.

These commit for real (``transaction=True``): the workflow step commits on its own and sends
its email then, before the page says who was told.
"""

import pytest
from django.core import mail

from reports.models import ReportStatus
from tests.conftest import enrol, make_user
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db(transaction=True)


def url(version, suffix: str) -> str:
    return f"/reports/{version.week}/v{version.number}/{suffix}"


def test_submitting_names_the_approvers_who_were_emailed(reference_data, client):
    analyst = make_user("ana", "analyst")
    make_user("apo", "approver", first_name="Ada", last_name="Approver", email="apo@example.com")
    version = make_version()
    client.force_login(analyst)
    page = client.post(url(version, "submit/"), follow=True).content.decode()
    assert [m.to for m in mail.outbox] == [["apo@example.com"]]
    assert "Report submitted for approval. An email was sent to Ada Approver" in page
    assert "apo@example.com" in page


def test_submitting_says_nobody_was_emailed_when_no_approver_has_an_address(reference_data, client):
    analyst = make_user("ana", "analyst")
    make_user("apo", "approver")
    version = make_version()
    client.force_login(analyst)
    page = client.post(url(version, "submit/"), follow=True).content.decode()
    assert mail.outbox == []
    assert "Nobody was emailed because no approver has an email address" in page
    assert "have been told" not in page


def test_returning_names_the_analyst_who_was_emailed(reference_data, client):
    analyst = make_user("ana", "analyst", first_name="Ana", last_name="Lyst", email="a@x.invalid")
    approver = make_user("apo", "approver")
    enrol(approver)
    version = make_version(status=ReportStatus.SUBMITTED, submitted_by=analyst)
    client.force_login(approver)
    page = client.post(
        url(version, "decide/"), {"decision": "return", "comment": "Check Lewisham"}, follow=True
    ).content.decode()
    assert [m.to for m in mail.outbox] == [["a@x.invalid"]]
    assert "Report returned. An email was sent to Ana Lyst (a@x.invalid)." in page


def test_approving_says_when_the_email_could_not_be_sent(reference_data, client, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("reports.workflow.send_mail", refuse)
    analyst = make_user("ana", "analyst", email="a@x.invalid")
    approver = make_user("apo", "approver")
    enrol(approver)
    version = make_version(status=ReportStatus.SUBMITTED, submitted_by=analyst)
    client.force_login(approver)
    page = client.post(url(version, "decide/"), {"decision": "approve"}, follow=True)
    text = page.content.decode()
    assert "Report approved. The email could not be sent, so tell them yourself." in text
    assert "An email was sent" not in text
    version.refresh_from_db()
    assert version.status == ReportStatus.APPROVED
