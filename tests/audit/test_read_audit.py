"""Reads outside the officer pages leave a trace too: downloads, exports, commands, the admin."""

from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from tests.conftest import enrol
from tests.diversion.factories import EncounterFactory, pilot_borough
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db


def rows(**filters) -> list[tuple]:
    events = AuditEvent.objects.exclude(action="sign-in").filter(**filters).order_by("id")
    return list(events.values_list("actor", "action", "target", "detail", "channel"))


def test_report_downloads_and_the_encounter_export_are_audited(client, analyst):
    make_version()
    EncounterFactory(borough=pilot_borough())
    client.force_login(analyst)
    assert client.get("/reports/2026-W10/v1/download/csv/").status_code == 200
    response = client.get("/reports/data/encounters.csv")
    b"".join(response.streaming_content)
    assert rows() == [
        ("analyst", "report.download", "report:2026-W10/v1", "format: csv", "web"),
        ("analyst", "export.encounters", "", "rows: 1", "web"),
    ]


def test_export_encounters_names_the_user_or_the_os_account(analyst, monkeypatch):
    call_command("export_encounters", "--user", "analyst", stdout=StringIO())
    monkeypatch.setattr("getpass.getuser", lambda: "deploy")
    call_command("export_encounters", stdout=StringIO())
    assert rows() == [
        ("analyst", "export.encounters", "", "rows: 0; to standard output", "command"),
        ("os:deploy", "export.encounters", "", "rows: 0; to standard output", "command"),
    ]
    assert AuditEvent.objects.filter(user=analyst).count() == 1


def test_build_report_is_audited(tmp_path, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "cron")
    out = tmp_path / "w.json"
    call_command("build_report", "--week", "2026-W10", "--output", str(out), stderr=StringIO())
    [(actor, action, target, detail, channel)] = rows()
    assert (actor, action, channel) == ("os:cron", "report.build", "command")
    assert target.startswith("report:2026-W10/v") and detail.startswith("format: json")


def test_admin_views_of_people_are_audited(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", password="x-long-password")
    enrol(superuser)
    person = EncounterFactory(borough=pilot_borough()).person
    client.force_login(superuser)
    assert client.get("/admin/diversion/person/", {"q": person.last_name}).status_code == 200
    assert client.get(f"/admin/diversion/person/{person.pk}/change/").status_code == 200
    assert client.get(f"/admin/diversion/person/{person.pk}/history/").status_code == 200
    ref = f"person:{person.person_ref}"
    assert rows() == [
        ("root", "admin.person.list", "", "searched", "web"),
        ("root", "admin.person.view", ref, "details", "web"),
        ("root", "admin.person.view", ref, "history", "web"),
    ]
    assert person.last_name not in str(rows())
