"""Admins search, page through and export the audit trail; nobody else can."""

import csv
import io

import pytest

from audit.models import Action, AuditEvent
from audit.selectors import PAGE_SIZE
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def test_only_admins_can_see_the_trail(client, officer, analyst, approver):
    for user in (officer, analyst, approver):
        client.force_login(user)
        assert client.get("/audit/").status_code == 403
        assert client.get("/audit/audit-trail.csv").status_code == 403


def test_admins_filter_by_user_action_and_reference(client, admin_user, officer, analyst):
    audit_record(by=officer, action=Action.PERSON_VIEW, target="person:P-1")
    audit_record(by=officer, action=Action.ENCOUNTER_VIEW, target="encounter:E-1")
    audit_record(by=analyst, action=Action.ENCOUNTERS_EXPORT)
    client.force_login(admin_user)
    page = client.get("/audit/", {"actor": "officer", "action": "person.view"})
    rows = page.context["rows"]
    assert [(r.actor, r.target) for r in rows] == [("officer", "person:P-1")]
    rows = client.get("/audit/", {"target": "encounter:E-1"}).context["rows"]
    assert [r.action for r in rows] == ["encounter.view"]
    # The admin's own searches are on the trail too, without the values searched for.
    viewed = AuditEvent.objects.filter(action=Action.AUDIT_VIEW).first()
    assert viewed.actor == "admin" and viewed.detail == "filters: target"


def test_a_date_range_the_wrong_way_round_is_explained(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/audit/", {"since": "2026-03-02", "until": "2026-03-01"})
    assert "The last date must be on or after the first date" in page.content.decode()
    assert client.get("/audit/audit-trail.csv", {"since": "nonsense"}).status_code == 400


def test_pages_follow_each_other_without_gaps(client, admin_user, officer):
    for n in range(PAGE_SIZE + 5):
        audit_record(by=officer, action=Action.PERSON_VIEW, target=f"person:P-{n}")
    client.force_login(admin_user)
    first = client.get("/audit/", {"action": "person.view"})
    second = client.get(
        "/audit/", {"action": "person.view", "before": first.context["next_before"]}
    )
    seen = [r.target for r in first.context["rows"]] + [r.target for r in second.context["rows"]]
    assert len(seen) == len(set(seen)) == PAGE_SIZE + 5
    assert second.context["next_before"] is None


def test_the_csv_export_is_formula_safe_and_audited(client, admin_user):
    audit_record(by='=HYPERLINK("http://evil.example")', action=Action.SIGN_IN_FAILED)
    client.force_login(admin_user)
    response = client.get("/audit/audit-trail.csv", {"action": "sign-in-failed"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["id", "at", "user", "action"]
    assert rows[1][2] == '\'=HYPERLINK("http://evil.example")'
    assert AuditEvent.objects.filter(action=Action.AUDIT_EXPORT, actor="admin").exists()
