"""Input that once crashed a page or an import, or was quietly accepted: now a plain message.

Each test here failed on the code before the rules moved to `diversion.validators`.
"""

import csv
import io
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from diversion.imports import COLUMNS
from diversion.models import Encounter, Person, Referral, Reoffence
from diversion.reoffence_imports import ReoffenceImportFailed, reoffences_import
from diversion.services import person_create, reoffence_record
from reports.forms import BuildReportForm
from tests.diversion.factories import EncounterFactory, pilot_borough
from tests.diversion.test_import_encounters import BASE, LAMBETH
from tests.diversion.test_views import start_with_new_person, twenty_year_old

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
REOFFENCE_HEADER = "person_ref,offence_date,offence_type,source_ref\n"


def boxes(name: str, day: str = "1", month: str = "1", year: str = "2000") -> dict[str, str]:
    return {f"{name}_0": day, f"{name}_1": month, f"{name}_2": year}


def counts() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        Encounter.objects.count(),
        Reoffence.objects.count(),
        Referral.objects.exclude(attended_on=None).count(),
        Referral.objects.exclude(appointment_on=None).count(),
    )


@pytest.fixture
def signed_in(client, officer, lewisham):
    pilot_borough(lewisham.gss_code)
    client.force_login(officer)
    return client


@pytest.fixture
def diverted(officer, lewisham):
    return EncounterFactory(
        borough=pilot_borough(lewisham.gss_code), officer=officer, accepted=True
    )


# --- Officer forms: a huge day or month was an OverflowError (a 500) ------------------------


def _officer_form_posts(client, encounter: Encounter) -> dict[str, tuple[str, str, dict]]:
    """Each officer form with a date input: (url, date field, other values)."""
    url = encounter.get_absolute_url()
    person = f"/people/{encounter.person.person_ref}/"
    return {
        "find person": ("/encounters/new/", "date_of_birth", {"last_name": "Smith"}),
        "new person": (
            "/encounters/new/person/",
            "date_of_birth",
            {"first_name": "Alex", "last_name": "Smith", "gender": "male", "ethnicity": "W1"},
        ),
        "search": ("/encounters/search/", "search-date_of_birth", {"search-last_name": "Smith"}),
        "referral": (f"{url}referral/", "referral-appointment_on", {}),
        "outcome": (f"{url}outcome/", "outcome-attended_on", {}),
        "further offence": (
            f"{person}further-offences/",
            "reoffence-offence_date",
            {"reoffence-offence_type": "theft"},
        ),
    }


@pytest.mark.parametrize("box", [0, 1])
@pytest.mark.parametrize(
    "form", ["find person", "new person", "search", "referral", "outcome", "further offence"]
)
def test_a_huge_day_or_month_is_not_a_real_date_on_every_officer_form(
    signed_in, diverted, form, box
):
    url, field, other = _officer_form_posts(signed_in, diverted)[form]
    parts = ["1", "1", "2000"]
    parts[box] = HUGE
    before = counts()
    response = signed_in.post(url, {**other, **boxes(field, *parts)})
    assert response.status_code == 200
    assert "must be a real date" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("box", [0, 1])
def test_a_huge_day_or_month_is_not_a_real_date_on_the_encounter_form(signed_in, lewisham, box):
    start_with_new_person(signed_in)
    parts = ["1", "1", "2025"]
    parts[box] = HUGE
    response = signed_in.post(
        "/encounters/new/details/",
        {
            "borough": str(lewisham.pk),
            **boxes("encounter_date", *parts),
            "encounter_time": "14:30",
            "location": "Lewisham",
            "substance": "cannabis_herbal",
            "quantity_grams": "3.5",
            "otherwise_disposal": "cannabis_warning",
        },
    )
    assert response.status_code == 200
    assert "The date of the encounter must be a real date" in response.content.decode()
    assert counts() == (0, 0, 0, 0, 0)


def test_a_date_of_birth_in_year_0001_is_refused_on_the_new_person_form(signed_in):
    response = signed_in.post(
        "/encounters/new/person/",
        {
            "first_name": "Alex",
            "last_name": "Smith",
            "gender": "male",
            "ethnicity": "W1",
            **boxes("date_of_birth", "1", "1", "0001"),
        },
    )
    assert response.status_code == 200
    assert "The date of birth must be in 1900 or later" in response.content.decode()


def test_the_find_and_new_person_forms_agree_that_a_birth_today_is_not_in_the_past(signed_in):
    today = timezone.localdate()
    day = boxes("date_of_birth", str(today.day), str(today.month), str(today.year))
    for url, other in [
        ("/encounters/new/", {"last_name": "Smith"}),
        (
            "/encounters/new/person/",
            {"first_name": "Alex", "last_name": "Smith", "gender": "male", "ethnicity": "W1"},
        ),
    ]:
        response = signed_in.post(url, {**other, **day})
        assert "The date of birth must be in the past" in response.content.decode(), url


def test_services_refuse_a_birth_or_reoffence_before_1900(officer):
    with pytest.raises(Exception) as refused:
        person_create(
            first_name="A",
            last_name="B",
            date_of_birth=date(1, 1, 1),
            gender="male",
            ethnicity="W1",
        )
    assert "1900 or later" in str(refused.value)
    person = person_create(
        first_name="A",
        last_name="B",
        date_of_birth=twenty_year_old(),
        gender="male",
        ethnicity="W1",
    )
    with pytest.raises(Exception) as refused:
        reoffence_record(
            person=person, offence_date=date(1, 1, 1), offence_type="theft", by=officer
        )
    assert "after the date of birth" in str(refused.value) or "1900" in str(refused.value)
    assert Reoffence.objects.count() == 0


# --- Encounter import ------------------------------------------------------------------------


def _encounter_csv(tmp_path: Path, *rows: dict[str, str], tail: str = "") -> Path:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "encounters.csv"
    path.write_text(out.getvalue() + tail, encoding="utf-8", newline="")
    return path


def _encounter_errors(path: Path) -> list[str]:
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_encounters", str(path), stdout=StringIO(), stderr=err)
    assert counts() == (0, 0, 0, 0, 0)
    return err.getvalue().strip().splitlines()


@pytest.fixture
def lambeth(db):
    from boroughs.services import borough_configure

    return borough_configure(gss_code=LAMBETH, role="pilot", pilot_start=date(2025, 1, 1))


@pytest.mark.parametrize("column", ["encounter_ref", "person_ref", "first_name", "last_name"])
def test_a_nul_in_a_name_or_reference_is_a_plain_error_in_import_encounters(
    tmp_path, lambeth, column
):
    path = _encounter_csv(tmp_path, {**BASE, column: BASE[column] + "\x00X"})
    errors = _encounter_errors(path)
    assert len(errors) == 1 and errors[0].startswith(f"line 2, {column}: ")
    assert "control or invisible characters" in errors[0]


def test_a_value_over_the_csv_field_limit_is_reported_on_its_own_line(tmp_path, lambeth):
    long_name = {**BASE, "encounter_ref": "ENC-2", "first_name": "x" * 140_000}
    path = _encounter_csv(tmp_path, BASE, long_name)
    assert _encounter_errors(path) == [
        "line 3, file: A value is longer than 131,072 characters",
    ]


def test_an_over_long_value_on_the_first_data_row_is_on_line_2_not_line_1(tmp_path, lambeth):
    path = _encounter_csv(tmp_path, {**BASE, "first_name": "x" * 140_000})
    assert _encounter_errors(path) == ["line 2, file: A value is longer than 131,072 characters"]


def test_an_unterminated_quote_imports_nothing_and_says_where_it_starts(tmp_path, lambeth):
    second = [BASE[c] for c in COLUMNS]
    second[0] = "ENC-2"
    values = [BASE[c] for c in COLUMNS]
    values[2] = '"Sam'  # opens a quote that never closes, swallowing the rest of the file
    path = _encounter_csv(tmp_path, BASE, tail=",".join(values) + "\n" + ",".join(second) + "\n")
    assert _encounter_errors(path) == [
        "line 3, file: A quoted value that starts on line 3 is never closed: "
        "add the closing double quote"
    ]


def test_a_date_of_birth_on_0001_01_01_is_refused_by_import_encounters(tmp_path, lambeth):
    path = _encounter_csv(tmp_path, {**BASE, "date_of_birth": "0001-01-01"})
    assert _encounter_errors(path) == [
        "line 2, date_of_birth: Date of birth must be in 1900 or later"
    ]


# --- Reoffence import and upload -------------------------------------------------------------


@pytest.fixture
def person(db) -> Person:
    return person_create(
        first_name="Sam",
        last_name="Example",
        date_of_birth=date(2003, 5, 5),
        gender="male",
        ethnicity="W1",
        person_ref="PER-1",
    )


def _reoffence_errors(text: str) -> list[str]:
    with pytest.raises(ReoffenceImportFailed) as failed:
        reoffences_import(stream=StringIO(text, newline=""), source_name="m.csv")
    assert Reoffence.objects.count() == 0
    return failed.value.errors


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PER-1\x00,2024-03-01,theft,S1", "line 2, person_ref: The person reference must not"),
        ("PER-1,2024-03-01,the\x00ft,S1", "line 2, offence_type: The type of offence must not"),
        ("PER-1,2024-03-01,theft,S\x001", "line 2, source_ref: The source reference must not"),
    ],
)
def test_a_nul_in_a_reoffence_row_is_a_plain_error(person, line, expected):
    errors = _reoffence_errors(REOFFENCE_HEADER + line + "\n")
    assert len(errors) == 1 and errors[0].startswith(expected)


def test_a_nul_in_the_reoffence_upload_is_shown_on_the_page(
    client, analyst, person, upload_reoffences
):
    client.force_login(analyst)
    text = REOFFENCE_HEADER + "PER-1\x00,2024-03-01,the\x00ft,S1\n"
    response = upload_reoffences(text, name="m.csv")
    assert response.status_code == 200
    page = response.content.decode()
    assert "line 2, person_ref:" in page and "line 2, offence_type:" in page
    assert Reoffence.objects.count() == 0


def test_a_reoffence_on_0001_01_01_is_refused(person):
    assert _reoffence_errors(REOFFENCE_HEADER + "PER-1,0001-01-01,theft,S1\n") == [
        "line 2, offence_date: The offence date must be in 1900 or later"
    ]


def test_an_over_long_reoffence_value_is_reported_on_its_line(person):
    text = REOFFENCE_HEADER + "PER-1,2024-03-01,theft,S1\nPER-1,2024-03-02," + "x" * 140_000
    assert _reoffence_errors(text + ",S2\n") == [
        "line 3, file: A value is longer than 131,072 characters"
    ]


def test_an_unterminated_quote_in_the_reoffence_file_imports_nothing(person):
    text = REOFFENCE_HEADER + 'PER-1,2024-03-01,"theft,S1\nPER-1,2024-03-02,theft,S2\n'
    assert _reoffence_errors(text) == [
        "line 2, file: A quoted value that starts on line 2 is never closed: "
        "add the closing double quote"
    ]


def test_import_reoffences_command_lists_a_nul_error(tmp_path, person):
    path = tmp_path / "m.csv"
    path.write_text(REOFFENCE_HEADER + "PER-1,2024-03-01,the\x00ft,S1\n", encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        call_command("import_reoffences", str(path), stdout=StringIO())
    assert "line 2, offence_type:" in str(failed.value)
    assert Reoffence.objects.count() == 0


# --- Weeks -----------------------------------------------------------------------------------


def test_a_week_in_non_ascii_digits_is_refused_by_the_build_form_and_command(analyst):
    form = BuildReportForm(data={"week": "１２３４-W01"})
    assert not form.is_valid()
    assert "Enter the week as YYYY-Www" in form.errors["week"][0]
    with pytest.raises(CommandError):
        call_command("build_report", "--week", "１２３４-W01", stdout=StringIO())


def test_last_week_is_still_accepted():
    week = (timezone.localdate() - timedelta(days=7)).isocalendar()
    assert BuildReportForm(data={"week": f"{week.year}-W{week.week:02d}"}).is_valid()


def test_a_reoffence_before_the_persons_birth_is_refused_by_the_import_as_by_officers(person):
    assert _reoffence_errors(REOFFENCE_HEADER + "PER-1,2003-05-05,theft,S1\n") == [
        "line 2, offence_date: The offence date must be after the person's date of birth"
    ]
