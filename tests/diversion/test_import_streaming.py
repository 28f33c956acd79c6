"""The streaming importers (issue 8): same answers in bounded memory, whatever the chunking."""

from datetime import date
from io import StringIO

import pytest
from django.db import connection

from diversion import csv_import, import_store, staging
from diversion.import_judging import RecentDiversions
from diversion.models import Encounter, Person, Referral, Reoffence
from diversion.reoffence_imports import ReoffenceImportFailed, reoffences_import
from diversion.services import person_create
from tests.diversion.test_import_encounters import (
    LAMBETH,
    boroughs,  # noqa: F401 - the boroughs every import row names
    decision_of,
    row,
    run,
    write,
)


def test_a_diversion_is_forgotten_only_once_no_window_can_reach_it():
    recent = RecentDiversions(12)
    recent.add("PER-1", date(2024, 2, 29))
    recent.add("PER-2", date(2024, 6, 1))
    recent.forget_before(date(2025, 2, 28))  # 2025-02-28 - 12 months = 2024-02-28: still in
    assert recent.of("PER-1") == [date(2024, 2, 29)]
    recent.forget_before(date(2025, 3, 1))  # window starts 2024-03-01: 29 February is out
    assert recent.of("PER-1") == []
    assert recent.of("PER-2") == [date(2024, 6, 1)]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_the_line_of_a_byte_that_is_not_utf8_does_not_depend_on_chunking(
    tmp_path, monkeypatch, bom, chunk
):
    monkeypatch.setattr(csv_import, "CHUNK_BYTES", chunk)
    path = tmp_path / "bad.csv"
    for body in ("a,b\nc,é\n".encode() + b"d,\xff\ne\n", b"a,b\nc," + "é".encode()[:1]):
        path.write_bytes(bom + body)
        with pytest.raises(UnicodeDecodeError) as failure:
            (bom + body).decode("utf-8-sig")
        # As the command always counted, when it read the whole file at once.
        expected = (bom + body)[: failure.value.start].count(b"\n") + 1
        assert csv_import.utf8_problem_line(path) == expected
    path.write_bytes(bom + "a,b\nc,é\n".encode())
    assert csv_import.utf8_problem_line(path) is None


def _rows() -> list[dict[str, str]]:
    return [
        row(encounter_ref="ENC-1", encounter_date="2025-03-10"),
        row(encounter_ref="ENC-2", encounter_date="2025-04-10", accepted=""),
        row(encounter_ref="ENC-3", person_ref="PER-2", accepted="",
            exclusions="other_offence;supply_indicators"),
        row(encounter_ref="ENC-4", person_ref="PER-3", accepted="no"),
        row(encounter_ref="ENC-5", person_ref="PER-3", encounter_date="2026-05-10",
            borough_code=LAMBETH),
    ]  # fmt: skip


EXPECTED = {
    "ENC-1": ("diverted", []),
    "ENC-2": ("ineligible", ["recent_diversion"]),
    "ENC-3": ("ineligible", ["exclusion:other_offence", "exclusion:supply_indicators"]),
    "ENC-4": ("declined", []),
    "ENC-5": ("diverted", []),
}


def test_rows_written_to_staging_a_few_at_a_time_give_the_same_decisions(tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "CHUNK", 2)
    assert (
        run(write(tmp_path, _rows())) == "Imported 5 encounters (0 already present and unchanged)."
    )
    assert {ref: decision_of(ref) for ref in EXPECTED} == EXPECTED
    assert (
        run(write(tmp_path, _rows())) == "Imported 0 encounters (5 already present and unchanged)."
    )


def _indexes(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table])
        return [definition for (definition,) in cursor.fetchall()]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="indexes are set aside on PostgreSQL only"
)
def test_a_large_import_sets_indexes_aside_and_makes_every_one_again(tmp_path, monkeypatch):
    monkeypatch.setattr(import_store, "REBUILD_FROM", 1)
    tables = [Encounter._meta.db_table, Person._meta.db_table, Referral._meta.db_table]
    before = {table: _indexes(table) for table in tables}
    assert (
        run(write(tmp_path, _rows())) == "Imported 5 encounters (0 already present and unchanged)."
    )
    assert {table: _indexes(table) for table in tables} == before
    assert {ref: decision_of(ref) for ref in EXPECTED} == EXPECTED
    assert Encounter.history.filter(history_type="+").count() == 5
    assert Referral.history.count() == Referral.objects.count() == 2


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


HEADER = "person_ref,offence_date,offence_type,source_ref\n"


def test_the_first_row_giving_a_source_reference_decides_what_it_stands_for(person):
    text = HEADER + "PER-1,2024-03-01,theft,PNC-1\nPER-1,2024-03-01,possession,PNC-1\n"
    with pytest.raises(ReoffenceImportFailed) as failure:
        reoffences_import(stream=StringIO(text), source_name="m.csv")
    assert failure.value.errors == [
        "line 3, source_ref: 'PNC-1' is already recorded for a different person, date or "
        "offence type"
    ]


def test_a_stored_source_reference_stands_for_what_is_stored_with_it(person, monkeypatch):
    monkeypatch.setattr(staging, "CHUNK", 1)
    first = HEADER + "PER-1,2024-03-01,theft,PNC-1\nPER-1,2024-03-01,theft,PNC-1\n"
    result = reoffences_import(stream=StringIO(first), source_name="m.csv")
    assert (result.imported, result.unchanged) == (1, 1)
    again = HEADER + "PER-1,2024-03-02,theft,PNC-1\nPER-1,2024-03-01,theft,PNC-1\n"
    with pytest.raises(ReoffenceImportFailed) as failure:
        reoffences_import(stream=StringIO(again), source_name="m.csv")
    assert [error.split(":")[0] for error in failure.value.errors] == ["line 2, source_ref"]
    assert Reoffence.objects.count() == Reoffence.history.count() == 1
