"""Let the admin role read the reoffence upload jobs in the admin: who uploaded what, when."""

from django.db import migrations

from boroughs.migration_helpers import grant


def grant_admin(apps, schema_editor):
    grant(apps, {"admin": ["reports.view_reoffenceimportjob"]})


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_reoffence_import_job"),
        ("boroughs", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant_admin, migrations.RunPython.noop)]
