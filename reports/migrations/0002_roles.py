"""Let the admin role see report versions, build jobs and downloads in the admin."""

from django.db import migrations

from boroughs.migration_helpers import grant


def grant_admin(apps, schema_editor):
    grant(
        apps,
        {
            "admin": [
                "reports.view_reportversion",
                "reports.view_reportbuildjob",
                "reports.view_reportdownload",
            ]
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("boroughs", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant_admin, migrations.RunPython.noop)]
