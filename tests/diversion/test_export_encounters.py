"""``export_encounters [--output PATH]`` (SPEC §7): pseudonymised, ordered, never personal."""

import csv
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from boroughs.models import Borough
from boroughs.services import borough_configure
from diversion.exports import COLUMNS, age_band, encounters_export, grams
from diversion.imports import COLUMNS as IMPORT_COLUMNS
from diversion.models import Person
from diversion.services import encounter_record, person_create, referral_outcome_record

LAMBETH = "E09000022"
CROYDON = "E09000008"

IMPORT_ROWS = [
    # encounter_ref, person_ref, first, last, dob, date, borough, substance, grams, exclusions,
    # accepted, attended, completed, dna, withdrawn
    (
        "E-05",
        "P-1",
        "Ada",
        "Brown",
        "2004-01-15",
        "2025-03-01",
        LAMBETH,
        "cannabis_herbal",
        "25.000",
        "",
        "yes",
        "2025-03-05",
        "2025-03-20",
        "",
        "",
    ),
    (
        "E-01",
        "P-2",
        "Ben",
        "Carter",
        "1990-06-01",
        "2025-03-01",
        LAMBETH,
        "cannabis_resin",
        "7.5",
        "supply_indicators",
        "",
        "",
        "",
        "",
        "",
    ),
    (
        "E-03",
        "P-3",
        "Cat",
        "Dunn",
        "2006-02-01",
        "2025-02-10",
        CROYDON,
        "cannabis_herbal",
        "0.125",
        "",
        "",
        "",
        "",
        "",
        "",
    ),
    (
        "E-04",
        "P-1",
        "Ada",
        "Brown",
        "2004-01-15",
        "2025-05-01",
        LAMBETH,
        "cannabis_herbal",
        "2.50",
        "",
        "",
        "",
        "",
        "",
        "",
    ),
    (
        "E-02",
        "P-4",
        "Dee",
        "Evans",
        "2002-09-09",
        "2025-04-01",
        LAMBETH,
        "cannabis_herbal",
        "3",
        "",
        "no",
        "",
        "",
        "",
        "",
    ),
    (
        "E-06",
        "P-5",
        "Eve",
        "Ford",
        "2003-03-03",
        "2025-04-02",
        LAMBETH,
        "cannabis_resin",
        "1",
        "",
        "yes",
        "",
        "",
        "2025-04-10",
        "",
    ),
]


@pytest.fixture(autouse=True)
def boroughs(db) -> None:
    borough_configure(gss_code=LAMBETH, role="pilot", pilot_start=date(2025, 1, 1))
    borough_configure(gss_code=CROYDON, role="comparison")


def export() -> list[dict[str, str]]:
    out = StringIO()
    call_command("export_encounters", stdout=out)
    return list(csv.DictReader(StringIO(out.getvalue())))


def imported(tmp_path) -> None:
    path = tmp_path / "history.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(IMPORT_COLUMNS)
        for (
            ref,
            person,
            first,
            last,
            dob,
            day,
            borough,
            substance,
            qty,
            excl,
            accepted,
            attended,
            completed,
            dna,
            withdrawn,
        ) in IMPORT_ROWS:
            writer.writerow(
                [
                    ref,
                    person,
                    first,
                    last,
                    dob,
                    "female",
                    "B2",
                    borough,
                    day,
                    substance,
                    qty,
                    excl,
                    accepted,
                    "",
                    attended,
                    completed,
                    dna,
                    withdrawn,
                ]
            )
    call_command("import_encounters", str(path), stdout=StringIO())


def test_round_trip_gives_decisions_reasons_and_statuses_without_personal_data(tmp_path):
    imported(tmp_path)

    rows = export()

    assert [r["encounter_ref"] for r in rows] == ["E-03", "E-01", "E-05", "E-02", "E-06", "E-04"]
    by_ref = {r["encounter_ref"]: r for r in rows}
    assert by_ref["E-05"] == {
        "encounter_ref": "E-05",
        "person_pseudonym": Person.objects.get(person_ref="P-1").pseudonym,
        "age_at_encounter": "21",
        "age_band": "21-24",
        "gender": "female",
        "ethnicity": "B2",
        "borough_code": LAMBETH,
        "encounter_date": "2025-03-01",
        "substance": "cannabis_herbal",
        "quantity_grams": "25",
        "decision": "diverted",
        "reasons": "",
        "policy_version": "1",
        "referral_status": "completed",
    }
    assert (by_ref["E-01"]["decision"], by_ref["E-01"]["reasons"]) == (
        "ineligible",
        "age_over_max;quantity_over_limit;exclusion:supply_indicators",
    )
    assert by_ref["E-01"]["age_band"] == "other"
    assert (by_ref["E-03"]["decision"], by_ref["E-03"]["quantity_grams"]) == (
        "not_offered",
        "0.125",
    )
    assert by_ref["E-03"]["age_band"] == "18-20"
    assert (by_ref["E-04"]["decision"], by_ref["E-04"]["reasons"]) == (
        "ineligible",
        "recent_diversion",
    )
    assert by_ref["E-04"]["quantity_grams"] == "2.5"
    assert by_ref["E-04"]["person_pseudonym"] == by_ref["E-05"]["person_pseudonym"]
    assert (by_ref["E-02"]["decision"], by_ref["E-02"]["referral_status"]) == ("declined", "")
    assert by_ref["E-06"]["referral_status"] == "did_not_attend"
    assert all(r["referral_status"] == "" for r in rows if r["decision"] != "diverted")


def test_export_never_contains_names_dates_of_birth_or_references(tmp_path):
    imported(tmp_path)
    out = StringIO()

    call_command("export_encounters", stdout=out)

    text = out.getvalue()
    for person in Person.objects.all():
        for secret in (person.first_name, person.last_name, person.person_ref):
            assert secret not in text
        assert person.date_of_birth.isoformat() not in text
    assert text.splitlines()[0] == ",".join(COLUMNS)


def test_header_has_exactly_the_contract_columns(db):
    assert export() == []
    out = StringIO()
    call_command("export_encounters", stdout=out)
    assert out.getvalue().strip() == (
        "encounter_ref,person_pseudonym,age_at_encounter,age_band,gender,ethnicity,"
        "borough_code,encounter_date,substance,quantity_grams,decision,reasons,policy_version,"
        "referral_status"
    )


def test_output_option_writes_a_file(tmp_path):
    imported(tmp_path)
    target = tmp_path / "out" / "export.csv"
    target.parent.mkdir()
    err = StringIO()

    call_command("export_encounters", "--output", str(target), stdout=StringIO(), stderr=err)

    with target.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(IMPORT_ROWS)
    assert "Exported 6 encounters" in err.getvalue()


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (16, "other"),
        (17, "other"),
        (18, "18-20"),
        (20, "18-20"),
        (21, "21-24"),
        (24, "21-24"),
        (25, "other"),
    ],
)
def test_age_bands(age, band):
    assert age_band(age) == band


@pytest.mark.parametrize(
    ("amount", "text"),
    [("25.000", "25"), ("2.500", "2.5"), ("0.125", "0.125"), ("100", "100"), ("10.010", "10.01")],
)
def test_grams_are_written_without_trailing_zeros_or_exponent(amount, text):
    assert grams(Decimal(amount)) == text


def test_export_reads_a_chunk_with_two_queries(tmp_path, django_assert_num_queries):
    """One query streams the encounters, one fetches their reasons: no query per row."""
    imported(tmp_path)

    with django_assert_num_queries(2):
        written = encounters_export(stream=StringIO())

    assert written == len(IMPORT_ROWS)


def test_export_streams_in_chunks(tmp_path, monkeypatch, django_assert_num_queries):
    """With chunks of two rows, reasons are fetched once per chunk, still in order."""
    imported(tmp_path)
    monkeypatch.setattr("diversion.exports.CHUNK_SIZE", 2)
    out = StringIO()

    with django_assert_num_queries(4):
        encounters_export(stream=out)

    rows = list(csv.DictReader(StringIO(out.getvalue())))
    assert [r["encounter_ref"] for r in rows] == ["E-03", "E-01", "E-05", "E-02", "E-06", "E-04"]
    assert rows[1]["reasons"] == "age_over_max;quantity_over_limit;exclusion:supply_indicators"


NO_OUTCOME = {
    "attended_on": None,
    "completed_on": None,
    "did_not_attend_on": None,
    "withdrawn_on": None,
}


@pytest.mark.parametrize(
    ("days_ago", "today_status", "yesterday_status"),
    [
        pytest.param({}, "referred", "referred", id="no-outcome"),
        pytest.param({"attended_on": 5}, "attended", "attended", id="attended-only"),
        pytest.param(
            {"attended_on": 5, "completed_on": 2}, "completed", "completed", id="completed"
        ),
        pytest.param({"withdrawn_on": 4}, "withdrawn", "withdrawn", id="withdrawn"),
        pytest.param({"did_not_attend_on": 3}, "did_not_attend", "did_not_attend", id="dna"),
        # An outcome dated today already counts today, and not on the day before.
        pytest.param({"attended_on": 0}, "attended", "referred", id="attended-today"),
        pytest.param({"withdrawn_on": 0}, "withdrawn", "referred", id="withdrawn-today"),
        pytest.param(
            {"attended_on": 3, "completed_on": 0}, "completed", "attended", id="completed-today"
        ),
    ],
)
def test_referral_status_is_as_of_the_day_of_the_export(
    db, monkeypatch, days_ago, today_status, yesterday_status
):
    """The status is derived from the outcome dates on the day the export runs."""
    today = timezone.localdate()
    lambeth = Borough.objects.get(gss_code=LAMBETH)
    person = person_create(
        first_name="A",
        last_name="B",
        date_of_birth=today - timedelta(days=7400),  # 20 on the encounter date.
        gender="male",
        ethnicity="NS",
    )
    encounter = encounter_record(
        by=None,
        person=person,
        borough=lambeth,
        encounter_date=today - timedelta(days=10),
        substance="cannabis_herbal",
        quantity_grams=Decimal("1"),
        accepted=True,
    )
    outcome = {name: today - timedelta(days=n) for name, n in days_ago.items()}
    referral_outcome_record(referral=encounter.referral, by=None, **(NO_OUTCOME | outcome))

    def export_on(day: date) -> str:
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
        return export()[0]["referral_status"]

    assert export_on(today) == today_status
    assert export_on(today - timedelta(days=1)) == yesterday_status
