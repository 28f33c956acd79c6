"""Ship eligibility policy version 1 with SPEC §3's defaults, its exclusion factors, and
give the admin role the diversion models."""

from datetime import date
from decimal import Decimal

from django.db import migrations

from boroughs.migration_helpers import grant

EXCLUSION_FACTORS = (
    ("supply_indicators", "Signs of supply (for example scales, bags or large amounts of cash)"),
    ("other_offence", "Another offence at the same time"),
    ("violence_or_threats", "Violence or threats"),
    ("school_or_youth_setting", "At or near a school or youth setting"),
)

ADMIN_MODELS = (
    "exclusionfactor",
    "eligibilitypolicy",
    "substancelimit",
    "person",
    "provider",
    "encounter",
    "referral",
    "reoffence",
)


def ship_policy(apps, schema_editor):
    Policy = apps.get_model("diversion", "EligibilityPolicy")
    Limit = apps.get_model("diversion", "SubstanceLimit")
    Factor = apps.get_model("diversion", "ExclusionFactor")
    policy, created = Policy.objects.get_or_create(
        version=1,
        defaults={
            "effective_from": date(2000, 1, 1),
            "min_age": 18,
            "max_age": 24,
            "prior_diversion_months": 12,
            "leap_day_rule": "march_1",
            "notes": "SPEC §3 defaults. Quantity limits are Portugal's 10-day personal-supply "
            "thresholds, a placeholder until MOPAC sets the real figures.",
        },
    )
    if created:
        Limit.objects.create(policy=policy, substance="cannabis_herbal", max_grams=Decimal("25"))
        Limit.objects.create(policy=policy, substance="cannabis_resin", max_grams=Decimal("5"))
    for position, (code, label) in enumerate(EXCLUSION_FACTORS, start=1):
        Factor.objects.get_or_create(code=code, defaults={"label": label, "position": position})


def grant_admin(apps, schema_editor):
    perms = [
        f"diversion.{action}_{model}"
        for model in ADMIN_MODELS
        for action in ("view", "add", "change")
    ]
    grant(apps, {"admin": perms})


class Migration(migrations.Migration):
    dependencies = [
        ("diversion", "0001_initial"),
        ("boroughs", "0003_roles"),
    ]

    operations = [
        migrations.RunPython(ship_policy, migrations.RunPython.noop),
        migrations.RunPython(grant_admin, migrations.RunPython.noop),
    ]
