"""``export_encounters [--output PATH]`` (SPEC §7): pseudonymised, ordered, never personal."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import Action, AuditEvent
from boroughs.models import Borough
from boroughs.services import borough_configure
from diversion.exports import (
    COLUMNS,
    EncounterCsv,
    _CrlfRows,
    age_band,
    encounters_export,
    grams,
)
from diversion.formula_safety import safe_cell, safe_sql
from diversion.imports import COLUMNS as IMPORT_COLUMNS
from diversion.models import Encounter, Person
from diversion.services import encounter_record, person_create, referral_outcome_record
from tests.diversion.factories import EncounterFactory, pilot_borough

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


def test_rows_end_with_crlf_as_csv_writer_writes_them(tmp_path):
    """The exact bytes: CRLF row ends, trimmed grams, ISO dates, empty cells unquoted."""
    imported(tmp_path)
    out = io.BytesIO()

    encounters_export(stream=out)

    lines = out.getvalue().decode().split("\r\n")
    pseudonym = Person.objects.get(person_ref="P-1").pseudonym
    assert (
        f"E-05,{pseudonym},21,21-24,female,B2,{LAMBETH},2025-03-01,cannabis_herbal,25,diverted,,1,completed"
        in lines
    )
    assert lines[-1] == "" and len(lines) == len(IMPORT_ROWS) + 2
    assert "\n" not in "".join(lines)


AWKWARD_REFS = [
    "=1+1",
    "-3",  # a plain number stays as it is
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "+44",
    "a,b",
    'say "hi"',
    "two\nlines",
    "three\r\nlines",
    "\u00e9t\u00e9-\u20ac",
    "'already",
]


def test_database_and_portable_paths_write_the_same_bytes(tmp_path):
    """COPY's CSV, made safe in SQL, equals csv.writer's made safe in Python, byte for byte."""
    imported(tmp_path)
    borough = Borough.objects.get(gss_code=LAMBETH)
    for number, ref in enumerate(AWKWARD_REFS):
        encounter = EncounterFactory(
            borough=borough, encounter_ref=f"ENC-AWK{number}", accepted=number % 2 == 0
        )
        # Planted below the model's reference rule, as old or hand-edited data could be.
        Encounter.objects.filter(pk=encounter.pk).update(encounter_ref=ref)
    database, portable = io.BytesIO(), io.BytesIO()

    assert encounters_export(stream=database) == len(IMPORT_ROWS) + len(AWKWARD_REFS)
    assert encounters_export(stream=portable, portable=True) == len(IMPORT_ROWS) + len(AWKWARD_REFS)

    assert database.getvalue() == portable.getvalue()
    refs = [row[0] for row in csv.reader(io.StringIO(database.getvalue().decode(), newline=""))]
    assert {"'=1+1", "-3", "'-2+3", "'\t=1", "'\r=1", "two\nlines", 'say "hi"'} <= set(refs)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL rule is PostgreSQL's")
@pytest.mark.parametrize(
    "value",
    ["=1", "+1", "-1", "-1.5", "-12.5%", "-1e5", "@a", "\t1", "\r1", "plain", "", "'=1", "-\u0663"],
)
def test_sql_and_python_formula_rules_agree(db, value):
    """safe_sql is generated from the same prefixes and number pattern as safe_cell."""
    sql, params = safe_sql("v.value")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql} FROM (SELECT %s::text AS value) v", [*params, value])
        (result,) = cursor.fetchone()
    assert (result or "") == safe_cell(value)


def test_portable_path_streams_in_chunks(tmp_path, monkeypatch, django_assert_num_queries):
    """Without COPY, reasons are fetched once per chunk of rows, still in order."""
    imported(tmp_path)
    monkeypatch.setattr("diversion.exports.CHUNK_SIZE", 2)
    out = io.StringIO()

    with django_assert_num_queries(4):
        encounters_export(stream=out, portable=True)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["encounter_ref"] for r in rows] == ["E-03", "E-01", "E-05", "E-02", "E-06", "E-04"]
    assert rows[1]["reasons"] == "age_over_max;quantity_over_limit;exclusion:supply_indicators"


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_crlf_row_ends_leave_line_breaks_inside_quoted_cells(size):
    copied = b'a,"x\ny",b\n"q""\n",c\nplain,,\n'
    convert = _CrlfRows()
    chunks = [copied[i : i + size] for i in range(0, len(copied), size)]
    assert b"".join(convert(chunk) for chunk in chunks) == (
        b'a,"x\ny",b\r\n"q""\n",c\r\nplain,,\r\n'
    )


def test_web_download_streams_the_same_bytes_and_is_audited(tmp_path, client, analyst):
    imported(tmp_path)
    client.force_login(analyst)
    command = io.BytesIO()
    encounters_export(stream=command)

    response = client.get("/reports/data/encounters.csv")

    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="encounters.csv"'
    assert b"".join(response.streaming_content) == command.getvalue()
    entry = AuditEvent.objects.get(action=Action.ENCOUNTERS_EXPORT)
    assert entry.detail == f"rows: {len(IMPORT_ROWS)}"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY through a pipe is the PostgreSQL path"
)
def test_a_download_stopped_early_ends_the_copy_and_the_database_stays_usable(monkeypatch):
    """The reader closing its end breaks the pipe, which stops COPY in the copying thread."""
    monkeypatch.setattr("diversion.exports.READ_SIZE", 64)
    monkeypatch.setattr("diversion.exports.PIPE_SIZE", 4096)  # the smallest Linux allows
    borough = pilot_borough()
    for number in range(80):  # about 9 KB of CSV: more than the pipe holds
        EncounterFactory(borough=borough, encounter_ref=f"ENC-{number:03}")
    stopped = EncounterCsv()
    chunks = iter(stopped)

    next(chunks), next(chunks)
    chunks.close()

    assert isinstance(stopped.failure, BrokenPipeError)
    assert Encounter.objects.count() == 80
    export = EncounterCsv()
    assert len(b"".join(export).split(b"\r\n")) == 80 + 2 and export.rows == 80


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
