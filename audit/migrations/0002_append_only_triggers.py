"""Make the database itself refuse to change or remove audit rows.

PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE.
SQLite: triggers refuse UPDATE and DELETE. The one exception is the test harness, which
empties every table between tests that commit: it may do so only while the unmanaged
``audit_flush_allowed`` table (never a Django model, so a flush never touches it) holds a
row. Production never has such a row. The application's database role should in any case
be granted only SELECT and INSERT on ``audit_auditevent`` (docs/security.md).
"""

from django.db import migrations

POSTGRES = """
CREATE TABLE IF NOT EXISTS audit_flush_allowed (reason text NOT NULL);
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' AND EXISTS (SELECT 1 FROM audit_flush_allowed) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION USING MESSAGE = 'The audit trail is append-only: ' || TG_OP || ' is not allowed';
END
$$;
CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditevent
  FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_refuse_change();
DROP TABLE IF EXISTS audit_flush_allowed;
"""
SQLITE = [
    "CREATE TABLE IF NOT EXISTS audit_flush_allowed (reason text NOT NULL)",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'The audit trail is append-only: UPDATE is not allowed'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    WHEN NOT EXISTS (SELECT 1 FROM audit_flush_allowed)
    BEGIN SELECT RAISE(ABORT, 'The audit trail is append-only: DELETE is not allowed'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TABLE IF EXISTS audit_flush_allowed",
]


def add_triggers(apps, schema_editor):
    statements = {"postgresql": [POSTGRES], "sqlite": SQLITE}.get(schema_editor.connection.vendor)
    for statement in statements or []:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    reverse = {"postgresql": [POSTGRES_REVERSE], "sqlite": SQLITE_REVERSE}
    for statement in reverse.get(schema_editor.connection.vendor) or []:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_event")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
