"""Random and malformed files thrown at both importers and the upload page.

Every outcome is either a clean import or a list of ``line N, column: message`` errors with
nothing stored; never a traceback.
"""

import csv
import io
import re
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boroughs.services import borough_configure
from diversion.imports import COLUMNS
from diversion.models import Encounter, Person, Referral, Reoffence
from diversion.services import person_create
from tests.diversion.test_import_encounters import BASE, LAMBETH

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ERROR_LINE = re.compile(r"line [0-9]+, [a-z_]+: \S.*")
REOFFENCE_HEADER = "person_ref,offence_date,offence_type,source_ref\n"

junk = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "0001-01-01", "2024-02-30", "２０２４-01-01", "99999999999999999999", "-1", "1e9"]
    ),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Nd"]), min_size=1, max_size=5),
    st.sampled_from(['"', '"x', 'x"y', '""', "\x00", "\r", "\n", ",", "x" * 140_000]),
    st.builds(lambda text: text + "\x00", st.text(max_size=5)),
)
# Pieces that break a CSV file's structure, inserted at random places in a good file.
breakers = st.sampled_from(['"', "\x00", "\r", "\n", ",", '""', "\ufeff", "x" * 140_000])


def stored() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        Encounter.objects.count(),
        Referral.objects.count(),
        Reoffence.objects.count(),
    )


def assert_plain_errors(lines: list[str]) -> None:
    assert lines, "a failed import must say why"
    for line in lines:
        assert ERROR_LINE.fullmatch(line), line


def encounters_csv(row: dict[str, str]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue()


def import_encounters(tmp_path: Path, content: bytes) -> list[str]:
    """Run the command; on failure, check the errors are plain and nothing was stored."""
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    before = stored()
    err = StringIO()
    try:
        call_command("import_encounters", str(path), stdout=StringIO(), stderr=err)
    except CommandError:
        assert stored() == before
        assert_plain_errors(err.getvalue().strip().splitlines())
    for record in Encounter.objects.all():
        record.full_clean()
    return err.getvalue().strip().splitlines()


def line_numbers(errors: list[str]) -> set[int]:
    return {int(error.split(",")[0].removeprefix("line ")) for error in errors}


@pytest.fixture
def lambeth(db):
    return borough_configure(gss_code=LAMBETH, role="pilot", pilot_start=date(2025, 1, 1))


@FUZZ
@given(column=st.sampled_from(COLUMNS), value=junk)
def test_import_encounters_with_one_value_replaced(tmp_path, lambeth, column, value):
    text = encounters_csv({**BASE, column: value})
    import_encounters(tmp_path, text.encode("utf-8"))


@FUZZ
@given(position=st.integers(min_value=0), piece=breakers)
def test_import_encounters_with_its_structure_broken(tmp_path, lambeth, position, piece):
    text = encounters_csv(BASE)
    at = position % (len(text) + 1)
    errors = import_encounters(tmp_path, (text[:at] + piece + text[at:]).encode("utf-8"))
    lines = text[:at].count("\n") + text[:at].count("\r") + piece.count("\n") + 2
    assert line_numbers(errors) <= set(range(1, lines + 1))
    if at > text.index("\n"):
        assert 1 not in line_numbers(errors), "a broken data row is not a header problem"


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_import_encounters_with_any_bytes(tmp_path, lambeth, content):
    import_encounters(tmp_path, content)


@FUZZ
@given(
    encoding=st.sampled_from(["utf-16", "latin-1", "cp1252", "utf-8-sig", "utf-32"]),
    name=st.text(min_size=1, max_size=10),
)
def test_import_encounters_in_other_encodings(tmp_path, lambeth, encoding, name):
    text = encounters_csv({**BASE, "first_name": name})
    try:
        content = text.encode(encoding)
    except UnicodeEncodeError:
        content = text.encode(encoding, errors="replace")
    import_encounters(tmp_path, content)


# --- Reoffences ------------------------------------------------------------------------------


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


def import_reoffences(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    before = stored()
    try:
        call_command("import_reoffences", str(path), stdout=StringIO())
    except CommandError as failure:
        assert stored() == before
        lines = str(failure).splitlines()
        assert_plain_errors(lines[1:] if lines[0].startswith("Nothing was imported") else lines)
    for record in Reoffence.objects.all():
        record.full_clean()


reoffence_rows = st.lists(
    st.tuples(
        st.one_of(st.just("PER-1"), junk),
        st.one_of(st.just("2024-03-01"), junk),
        st.one_of(st.just("theft"), junk),
        st.one_of(st.just(""), junk),
    ),
    min_size=1,
    max_size=3,
)


def reoffences_csv(rows: list[tuple[str, ...]]) -> str:
    out = io.StringIO(newline="")
    out.write(REOFFENCE_HEADER)
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@FUZZ
@given(rows=reoffence_rows)
def test_import_reoffences_with_random_values(tmp_path, person, rows):
    import_reoffences(tmp_path, reoffences_csv(rows).encode("utf-8"))


@FUZZ
@given(
    position=st.integers(min_value=0),
    piece=breakers,
    content=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_import_reoffences_with_broken_files(tmp_path, person, position, piece, content):
    if content is None:
        text = reoffences_csv([("PER-1", "2024-03-01", "theft", "S1")])
        at = position % (len(text) + 1)
        content = (text[:at] + piece + text[at:]).encode("utf-8")
    import_reoffences(tmp_path, content)


@FUZZ
@given(rows=reoffence_rows, piece=breakers, position=st.integers(min_value=0))
def test_reoffence_upload_page(client, analyst, person, rows, piece, position):
    text = reoffences_csv(rows)
    at = position % (len(text) + 1)
    content = (text[:at] + piece + text[at:]).encode("utf-8")
    client.force_login(analyst)
    before = stored()
    upload = SimpleUploadedFile("m.csv", content, content_type="text/csv")
    response = client.post("/reports/reoffences/upload/", {"file": upload})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert "There is a problem" in response.content.decode()
        assert stored() == before
    for record in Reoffence.objects.all():
        record.full_clean()
