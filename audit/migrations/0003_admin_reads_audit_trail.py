"""Let the admin role read (never change) the audit trail."""

from django.db import migrations

from boroughs.migration_helpers import grant


def grant_admin(apps, schema_editor):
    grant(apps, {"admin": ["audit.view_auditevent"]})


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
        ("boroughs", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant_admin, migrations.RunPython.noop)]
