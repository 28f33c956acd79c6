"""``import_reoffences``: reoffence matches from police records, all or nothing."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from diversion.choices import ReoffenceSource
from diversion.models import Reoffence
from diversion.reoffence_imports import ReoffenceImportFailed, reoffences_import
from diversion.services import person_create

HEADER = "person_ref,offence_date,offence_type,source_ref\n"


@pytest.fixture
def people(db):
    return [
        person_create(
            first_name="Sam",
            last_name="Example",
            date_of_birth=date(2003, 5, 5),
            gender="male",
            ethnicity="W1",
            person_ref=ref,
        )
        for ref in ("PER-1", "PER-2")
    ]


def load(text: str, by=None):
    return reoffences_import(stream=StringIO(text), source_name="matches.csv", by=by)


def test_imports_rows_as_imported_reoffences_with_history(people, analyst):
    result = load(
        HEADER + "PER-1,2024-03-01,possession,PNC-1\nPER-2,2024-04-02,theft,\n", by=analyst
    )
    assert (result.imported, result.unchanged) == (2, 0)
    first = Reoffence.objects.get(source_ref="PNC-1")
    assert (first.person, first.offence_date, first.offence_type, first.source) == (
        people[0],
        date(2024, 3, 1),
        "possession",
        ReoffenceSource.IMPORT,
    )
    assert first.entered_by == analyst
    assert first.history.get().history_user == analyst


def test_reimporting_identical_rows_changes_nothing(people):
    text = HEADER + "PER-1,2024-03-01,possession,PNC-1\nPER-2,2024-04-02,theft,\n"
    load(text)
    again = load(text)
    assert (again.imported, again.unchanged) == (0, 2)
    assert Reoffence.objects.count() == 2


def test_duplicate_rows_in_one_file_are_counted_once(people):
    result = load(HEADER + "PER-1,2024-03-01,possession,\nPER-1,2024-03-01,possession,\n")
    assert (result.imported, result.unchanged) == (1, 1)
    assert Reoffence.objects.count() == 1


def test_a_file_with_any_bad_row_imports_nothing_and_lists_every_error(people):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    text = HEADER + (
        "PER-1,2024-03-01,possession,PNC-1\n"  # line 2: fine
        "PER-404,2024-03-01,possession,\n"  # line 3
        "PER-1,2024-02-30,possession,\n"  # line 4
        "PER-1,01/03/2024,possession,\n"  # line 5
        "PER-2,2024-03-01,,\n"  # line 6
        f"PER-2,{tomorrow},theft,\n"  # line 7
        ",2024-03-01,theft,\n"  # line 8
    )
    with pytest.raises(ReoffenceImportFailed) as failure:
        load(text)
    assert failure.value.errors == [
        "line 3, person_ref: There is no person with reference 'PER-404'",
        "line 4, offence_date: The offence date must be a real date in the form YYYY-MM-DD, "
        "not '2024-02-30'",
        "line 5, offence_date: The offence date must be a real date in the form YYYY-MM-DD, "
        "not '01/03/2024'",
        "line 6, offence_type: Enter the type of offence",
        "line 7, offence_date: The offence date must be today or in the past",
        "line 8, person_ref: Enter a person reference",
    ]
    assert not Reoffence.objects.exists()


def test_a_source_reference_with_different_details_is_an_error(people):
    load(HEADER + "PER-1,2024-03-01,possession,PNC-1\n")
    with pytest.raises(ReoffenceImportFailed) as failure:
        load(HEADER + "PER-2,2024-03-05,possession,PNC-1\n")
    assert failure.value.errors == [
        "line 2, source_ref: 'PNC-1' is already recorded for a different person, date or "
        "offence type"
    ]
    assert Reoffence.objects.count() == 1


def test_missing_columns_are_reported_on_line_one(people):
    with pytest.raises(ReoffenceImportFailed) as failure:
        load("person_ref,offence_date\nPER-1,2024-03-01\n")
    assert failure.value.errors == [
        "line 1, header: Add the missing columns offence_type, source_ref "
        "(the columns are person_ref,offence_date,offence_type,source_ref)"
    ]


def test_command_imports_a_file_and_reports_counts(people, tmp_path):
    path = tmp_path / "matches.csv"
    path.write_text("\ufeff" + HEADER + "PER-1,2024-03-01,possession,PNC-1\n", encoding="utf-8")
    out = StringIO()
    call_command("import_reoffences", str(path), stdout=out)
    assert "Imported 1 reoffence(s); 0 were already recorded." in out.getvalue()
    assert Reoffence.objects.count() == 1


def test_command_fails_listing_every_error(people, tmp_path):
    path = tmp_path / "matches.csv"
    path.write_text(HEADER + "PER-9,2024-03-01,possession,\nPER-1,2024-13-01,theft,\n")
    with pytest.raises(CommandError) as failure:
        call_command("import_reoffences", str(path), stdout=StringIO())
    message = str(failure.value)
    assert "Nothing was imported" in message
    assert "line 2, person_ref: There is no person with reference 'PER-9'" in message
    assert (
        "line 3, offence_date: The offence date must be a real date in the form YYYY-MM-DD"
        in message
    )
    assert not Reoffence.objects.exists()


def test_command_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="There is no file at"):
        call_command("import_reoffences", str(tmp_path / "nope.csv"))


def test_an_unknown_person_is_reported_beside_the_rows_other_problems(people):
    with pytest.raises(ReoffenceImportFailed) as failed:
        load("person_ref,offence_date,offence_type,source_ref\nNOBODY,2025-13-01,,\n")
    assert failed.value.errors == [
        "line 2, person_ref: There is no person with reference 'NOBODY'",
        "line 2, offence_date: The offence date must be a real date in the form YYYY-MM-DD, "
        "not '2025-13-01'",
        "line 2, offence_type: Enter the type of offence",
    ]
    assert not Reoffence.objects.exists()
