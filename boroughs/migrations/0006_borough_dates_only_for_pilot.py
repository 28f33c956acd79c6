"""Only a pilot borough has pilot dates: clear any left on other boroughs, then enforce it."""

from django.db import migrations, models
from django.utils import timezone

CLEARED_REASON = "Dates removed: only a pilot borough has pilot dates"


def clear_dates_off_pilots(apps, schema_editor):
    """Remove dates from boroughs that are not pilots, recording each change in history."""
    Borough = apps.get_model("boroughs", "Borough")
    HistoricalBorough = apps.get_model("boroughs", "HistoricalBorough")
    stale = Borough.objects.exclude(role="pilot").exclude(
        pilot_start__isnull=True, pilot_end__isnull=True
    )
    now = timezone.now()
    for borough in stale:
        borough.pilot_start = None
        borough.pilot_end = None
        borough.save(update_fields=["pilot_start", "pilot_end"])
        HistoricalBorough.objects.create(
            id=borough.pk,
            gss_code=borough.gss_code,
            name=borough.name,
            role=borough.role,
            history_date=now,
            history_type="~",
            history_change_reason=CLEARED_REASON,
        )


class Migration(migrations.Migration):
    dependencies = [("boroughs", "0005_borough_initial_history")]

    operations = [
        migrations.RunPython(clear_dates_off_pilots, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="borough",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("role", "pilot"),
                    models.Q(("pilot_end__isnull", True), ("pilot_start__isnull", True)),
                    _connector="OR",
                ),
                name="borough_dates_only_for_pilot",
                violation_error_message="Only a pilot borough has pilot dates.",
            ),
        ),
    ]
