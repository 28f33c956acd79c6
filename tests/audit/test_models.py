"""The audit trail is append-only, in Python and in the database."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import Action, AppendOnlyError, AuditEvent
from audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(officer) -> AuditEvent:
    return audit_record(by=officer, action=Action.PERSON_VIEW, target="person:P-1")


def test_saving_an_existing_row_is_refused(event):
    event.target = "person:P-2"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_deleting_a_row_is_refused(event):
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.parametrize("call", ["update", "delete"])
def test_bulk_changes_are_refused(event, call):
    events = AuditEvent.objects.all()
    with pytest.raises(AppendOnlyError):
        events.update(target="") if call == "update" else events.delete()
    assert AuditEvent.objects.get(pk=event.pk).target == "person:P-1"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET target = 'x'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_the_database_refuses_raw_changes(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            # Take away the test harness's permission first, inside this transaction only.
            cursor.execute("DELETE FROM audit_flush_allowed")
            cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).target == "person:P-1"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_postgresql_refuses_truncate_outside_the_test_harness(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            # Take away the test harness's permission first, inside this transaction only.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("DELETE FROM audit_flush_allowed")
            cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()
