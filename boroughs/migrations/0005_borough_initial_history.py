"""Give every borough a first history record, so its first change shows what changed.

The boroughs were shipped by a data migration, which writes no history; without this the
first change had nothing to compare against.
"""

from django.db import migrations
from django.utils import timezone

SHIPPED_REASON = "Shipped with the service"


def add_initial_history(apps, schema_editor):
    """Record each borough that has no history yet as it stands now (idempotent)."""
    Borough = apps.get_model("boroughs", "Borough")
    HistoricalBorough = apps.get_model("boroughs", "HistoricalBorough")
    recorded = set(HistoricalBorough.objects.values_list("id", flat=True).distinct())
    now = timezone.now()
    HistoricalBorough.objects.bulk_create(
        HistoricalBorough(
            id=borough.pk,
            gss_code=borough.gss_code,
            name=borough.name,
            role=borough.role,
            pilot_start=borough.pilot_start,
            pilot_end=borough.pilot_end,
            history_date=now,
            history_type="+",
            history_change_reason=SHIPPED_REASON,
        )
        for borough in Borough.objects.exclude(pk__in=recorded)
    )


class Migration(migrations.Migration):
    dependencies = [("boroughs", "0004_user_and_group_history")]

    operations = [migrations.RunPython(add_initial_history, migrations.RunPython.noop)]
