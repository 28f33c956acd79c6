"""Ship the 32 London boroughs and the City of London, none of them yet taking part."""

from django.db import migrations

from boroughs.data import LONDON_BOROUGHS


def add_boroughs(apps, schema_editor):
    Borough = apps.get_model("boroughs", "Borough")
    for gss_code, name in LONDON_BOROUGHS:
        Borough.objects.update_or_create(gss_code=gss_code, defaults={"name": name})


def remove_boroughs(apps, schema_editor):
    Borough = apps.get_model("boroughs", "Borough")
    Borough.objects.filter(gss_code__in=[code for code, _ in LONDON_BOROUGHS]).delete()


class Migration(migrations.Migration):
    dependencies = [("boroughs", "0001_initial")]

    operations = [migrations.RunPython(add_boroughs, remove_boroughs)]
