"""``import_encounters PATH`` (SPEC §7): all or nothing, every error listed, judged in order."""

import csv
import sys
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

from boroughs.models import Borough
from boroughs.services import borough_configure
from diversion.choices import EncounterSource
from diversion.imports import COLUMNS, ImportFailed, encounters_import
from diversion.models import (
    EligibilityPolicy,
    Encounter,
    ExclusionFactor,
    Person,
    Provider,
    Referral,
    SubstanceLimit,
)
from diversion.services import encounter_record, person_create

LAMBETH = "E09000022"  # pilot from 2025-01-01
SOUTHWARK = "E09000028"  # pilot from 2025-01-01 to 2025-06-30
CROYDON = "E09000008"  # comparison
LEWISHAM = "E09000023"  # not taking part

# Aged 21, 10 g of herbal cannabis in Lambeth while its pilot runs, accepted: diverted.
BASE = {
    "encounter_ref": "ENC-1",
    "person_ref": "PER-1",
    "first_name": "Sam",
    "last_name": "Jones",
    "date_of_birth": "2003-05-01",
    "gender": "male",
    "ethnicity": "W1",
    "borough_code": LAMBETH,
    "encounter_date": "2025-03-10",
    "substance": "cannabis_herbal",
    "quantity_grams": "10",
    "exclusions": "",
    "accepted": "yes",
    "provider": "",
    "attended_on": "",
    "completed_on": "",
    "did_not_attend_on": "",
    "withdrawn_on": "",
}


@pytest.fixture(autouse=True)
def boroughs(db) -> None:
    borough_configure(gss_code=LAMBETH, role="pilot", pilot_start=date(2025, 1, 1))
    borough_configure(
        gss_code=SOUTHWARK,
        role="pilot",
        pilot_start=date(2025, 1, 1),
        pilot_end=date(2025, 6, 30),
    )
    borough_configure(gss_code=CROYDON, role="comparison")


@pytest.fixture
def provider(db) -> Provider:
    return Provider.objects.create(name="Lambeth Drug Education", kind="drug_education")


def row(**changes: str) -> dict[str, str]:
    return {**BASE, **changes}


def write(tmp_path: Path, rows: list[dict[str, str]], name: str = "encounters.csv", **kw) -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding=kw.get("encoding", "utf-8")) as f:
        writer = csv.DictWriter(f, fieldnames=kw.get("columns", COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(path: Path) -> str:
    out = StringIO()
    call_command("import_encounters", str(path), stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def errors_of(path: Path) -> list[str]:
    """Run an import that must fail; return its error lines after checking nothing changed."""
    before = (Encounter.objects.count(), Person.objects.count(), Referral.objects.count())
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_encounters", str(path), stdout=StringIO(), stderr=err)
    after = (Encounter.objects.count(), Person.objects.count(), Referral.objects.count())
    assert after == before, "a failed import must store nothing"
    lines = err.getvalue().strip().splitlines()
    assert str(failure.value).endswith("\n".join(lines))
    return lines


def decision_of(ref: str) -> tuple[str, list[str]]:
    encounter = Encounter.objects.get(encounter_ref=ref)
    return encounter.decision, list(encounter.reasons.values_list("code", flat=True))


# --- Storing ------------------------------------------------------------------------------------


def test_imported_referrals_get_the_work_queue_columns(tmp_path, provider):
    """Borough, due date and overdue-from date, as the services would store them (issue 8)."""
    path = write(
        tmp_path,
        [
            row(),
            row(encounter_ref="ENC-2", person_ref="PER-2", withdrawn_on="2025-03-20"),
        ],
    )
    run(path)
    lambeth = Borough.objects.get(gss_code=LAMBETH)
    due = date(2025, 4, 7)  # 28 days after 10 March
    assert list(
        Referral.objects.order_by("encounter__encounter_ref").values_list(
            "borough_id", "due_on", "overdue_from"
        )
    ) == [(lambeth.pk, due, due), (lambeth.pk, None, None)]


def test_encounters_are_numbered_in_judging_order_after_every_id_used(tmp_path, provider):
    """Ids follow (date, reference), pass ids of deleted rows, and link each detail rightly."""
    earlier = encounter_record(
        by=None,
        person=person_create(
            person_ref="PER-0",
            first_name="Al",
            last_name="Old",
            date_of_birth=date(2003, 1, 1),
            gender="male",
            ethnicity="W1",
        ),
        borough=Borough.objects.get(gss_code=CROYDON),
        encounter_date=date(2025, 2, 1),
        substance="cannabis_herbal",
        quantity_grams=Decimal("5"),
    )
    used = earlier.pk
    earlier.delete()
    path = write(
        tmp_path,
        [
            row(encounter_ref="ENC-3", person_ref="PER-3", encounter_date="2025-03-12"),
            row(encounter_ref="ENC-2", person_ref="PER-2", quantity_grams="99", accepted=""),
            row(encounter_ref="ENC-1", person_ref="PER-1", provider=provider.name),
        ],
    )
    run(path)
    stored = list(Encounter.objects.order_by("id").values_list("id", "encounter_ref"))
    assert [ref for _id, ref in stored] == ["ENC-1", "ENC-2", "ENC-3"]
    assert stored[0][0] > used
    assert decision_of("ENC-2") == ("ineligible", ["quantity_over_limit"])
    assert Referral.objects.get(provider=provider).encounter.encounter_ref == "ENC-1"
    assert sorted(
        Encounter.history.model.objects.exclude(id=used).values_list(
            "id", "encounter_ref", "history_type"
        )
    ) == [(pk, ref, "+") for pk, ref in stored]


def test_diverted_row_is_stored_with_its_referral_policy_and_history(tmp_path, provider):
    path = write(
        tmp_path,
        [
            row(
                provider=provider.name,
                attended_on="2025-03-20",
                completed_on="2025-04-01",
            )
        ],
    )

    assert run(path) == "Imported 1 encounter (0 already present and unchanged)."

    encounter = Encounter.objects.get(encounter_ref="ENC-1")
    assert encounter.decision == "diverted"
    assert encounter.accepted is True
    assert encounter.source == EncounterSource.IMPORT
    assert encounter.officer is None
    assert encounter.occurred_at is None
    assert encounter.age_at_encounter == 21
    assert encounter.policy.version == 1
    assert encounter.person.person_ref == "PER-1"
    assert encounter.person.pseudonym.startswith("P")
    referral = Referral.objects.get(encounter=encounter)
    assert referral.provider == provider
    assert referral.attended_on == date(2025, 3, 20)
    assert referral.completed_on == date(2025, 4, 1)
    for obj in (encounter, encounter.person, referral):
        assert obj.history.get().history_change_reason == "import_encounters encounters.csv"


def test_ineligible_row_stores_every_reason_in_order_and_its_exclusions(tmp_path):
    path = write(
        tmp_path,
        [
            row(
                date_of_birth="1990-01-01",
                quantity_grams="30",
                exclusions="violence_or_threats;supply_indicators",
                accepted="",
            )
        ],
    )

    run(path)

    encounter = Encounter.objects.get()
    assert decision_of("ENC-1") == (
        "ineligible",
        [
            "age_over_max",
            "quantity_over_limit",
            "exclusion:violence_or_threats",
            "exclusion:supply_indicators",
        ],
    )
    assert list(encounter.exclusion_links.values_list("factor__code", flat=True)) == [
        "violence_or_threats",
        "supply_indicators",
    ]
    assert encounter.accepted is None
    assert not Referral.objects.exists()


def test_declined_row_has_no_referral(tmp_path):
    run(write(tmp_path, [row(accepted="No")]))

    assert decision_of("ENC-1") == ("declined", [])
    assert Encounter.objects.get().accepted is False
    assert not Referral.objects.exists()


def test_existing_person_is_reused_by_person_ref(tmp_path):
    person = person_create(
        first_name="Sam",
        last_name="Jones",
        date_of_birth=date(2003, 5, 1),
        gender="male",
        ethnicity="W1",
        person_ref="PER-1",
    )

    run(write(tmp_path, [row()]))

    assert Person.objects.get() == person
    assert Encounter.objects.get().person == person


def test_byte_order_mark_in_header_is_tolerated(tmp_path):
    path = write(tmp_path, [row()], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    run(path)

    assert Encounter.objects.count() == 1


def test_retired_exclusion_factor_is_accepted_for_history(tmp_path):
    ExclusionFactor.objects.filter(code="school_or_youth_setting").update(active=False)

    run(write(tmp_path, [row(exclusions="school_or_youth_setting", accepted="")]))

    assert decision_of("ENC-1") == ("ineligible", ["exclusion:school_or_youth_setting"])


def test_blank_lines_are_skipped_and_keep_line_numbers(tmp_path):
    path = tmp_path / "gaps.csv"
    good = ",".join(BASE[c] for c in COLUMNS)
    bad = ",".join(row(encounter_ref="ENC-2", gender="M")[c] for c in COLUMNS)
    path.write_text(",".join(COLUMNS) + "\n" + good + "\n\n" + bad + "\n\n", encoding="utf-8")

    assert errors_of(path) == [
        "line 4, gender: Gender must be male, female, other or not_stated, not 'M'"
    ]


# --- Every kind of bad value --------------------------------------------------------------------


FUTURE = (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("changes", "prefix"),
    [
        ({"date_of_birth": "2003-02-30"}, "line 2, date_of_birth: Date of birth must be a real"),
        ({"date_of_birth": "01/05/2003"}, "line 2, date_of_birth: Date of birth must be a real"),
        ({"encounter_date": "2025-13-01"}, "line 2, encounter_date: Encounter date must be a real"),
        ({"encounter_date": "2025-3-1"}, "line 2, encounter_date: Encounter date must be a real"),
        ({"encounter_date": FUTURE}, "line 2, encounter_date: Encounter date must be today"),
        ({"date_of_birth": "2025-03-10"}, "line 2, date_of_birth: Date of birth must be before"),
        ({"borough_code": "E09000099"}, "line 2, borough_code: There is no London borough"),
        ({"borough_code": LEWISHAM}, "line 2, borough_code: Lewisham (E09000023) is not taking"),
        ({"exclusions": "supply_indicators;made_up"}, "line 2, exclusions: There is no exclusion"),
        ({"gender": "M"}, "line 2, gender: Gender must be male, female, other or not_stated"),
        ({"ethnicity": "X1"}, "line 2, ethnicity: Ethnicity must be a police self-defined"),
        ({"substance": "cocaine"}, "line 2, substance: Substance must be cannabis_herbal"),
        ({"quantity_grams": "-1"}, "line 2, quantity_grams: Quantity must be more than 0 grams"),
        ({"quantity_grams": "0"}, "line 2, quantity_grams: Quantity must be more than 0 grams"),
        ({"quantity_grams": "ten"}, "line 2, quantity_grams: Quantity must be a number of grams"),
        ({"quantity_grams": "1e1"}, "line 2, quantity_grams: Quantity must be a number of grams"),
        ({"quantity_grams": "1.2345"}, "line 2, quantity_grams: Quantity must have no more than"),
        ({"provider": "Nobody Ltd"}, "line 2, provider: There is no provider called"),
        ({"accepted": "maybe"}, "line 2, accepted: Accepted must be yes or no"),
        ({"attended_on": "2025-04-31"}, "line 2, attended_on: Attended date must be a real date"),
        ({"encounter_ref": ""}, "line 2, encounter_ref: Enter an encounter reference"),
        ({"person_ref": ""}, "line 2, person_ref: Enter a person reference"),
        ({"first_name": ""}, "line 2, first_name: Enter a first name"),
        ({"date_of_birth": ""}, "line 2, date_of_birth: Enter a date of birth"),
        ({"quantity_grams": ""}, "line 2, quantity_grams: Enter a quantity in grams"),
        ({"last_name": "x" * 101}, "line 2, last_name: Last name must be 100 characters"),
    ],
)
def test_bad_value_is_reported_on_its_line_and_column(tmp_path, changes, prefix):
    errors = errors_of(write(tmp_path, [row(encounter_ref="ENC-0"), row(**changes)]))

    # The good first row (line 2) shares the person, so name the bad row on line 3.
    expected = prefix.replace("line 2,", "line 3,")
    assert any(e.startswith(expected) for e in errors), errors
    assert not Encounter.objects.exists()


def test_quantity_with_three_decimals_and_trailing_zeros_is_accepted(tmp_path):
    run(
        write(
            tmp_path,
            [
                row(quantity_grams="0.125"),
                row(
                    encounter_ref="E2",
                    quantity_grams="2.5000",
                    encounter_date="2025-03-11",
                    accepted="",
                ),
            ],
        )
    )

    assert Encounter.objects.get(encounter_ref="ENC-1").quantity_grams == Decimal("0.125")
    assert Encounter.objects.get(encounter_ref="E2").quantity_grams == Decimal("2.5")


def test_header_with_missing_and_unknown_columns_is_refused(tmp_path):
    columns = [c for c in COLUMNS if c != "withdrawn_on"] + ["nickname"]
    path = write(tmp_path, [], columns=columns)

    assert errors_of(path) == [
        "line 1, header: The header is missing the columns: withdrawn_on",
        "line 1, header: The header has columns that are not recognised: 'nickname'",
    ]


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")

    assert errors_of(path)[0].startswith("line 1, header: The file is empty")


def test_row_with_too_few_values_is_refused(tmp_path):
    path = tmp_path / "short.csv"
    values = [BASE[c] for c in COLUMNS][:-2]
    path.write_text(",".join(COLUMNS) + "\n" + ",".join(values) + "\n", encoding="utf-8")

    assert errors_of(path) == [
        "line 2, did_not_attend_on: This row has 16 values but the header has 18 columns"
    ]


def test_duplicate_encounter_ref_in_file_is_refused(tmp_path):
    path = write(tmp_path, [row(), row(encounter_date="2025-03-11", accepted="")])

    assert errors_of(path) == [
        "line 3, encounter_ref: Encounter reference 'ENC-1' is also used on line 2"
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("first_name", "Samuel"),
        ("last_name", "Jonas"),
        ("date_of_birth", "2003-05-02"),
        ("gender", "female"),
        ("ethnicity", "W2"),
    ],
)
def test_same_person_ref_with_different_details_in_file_is_refused(tmp_path, column, value):
    later = row(encounter_ref="ENC-2", encounter_date="2024-06-01", accepted="", **{column: value})
    path = write(tmp_path, [row(), later])

    errors = errors_of(path)

    assert len(errors) == 1
    assert errors[0].startswith(f"line 3, {column}: ")
    assert "differs from line 2 for person reference 'PER-1'" in errors[0]


def test_same_person_ref_with_different_details_from_database_is_refused(tmp_path):
    person_create(
        first_name="Sam",
        last_name="Jones",
        date_of_birth=date(2003, 5, 2),
        gender="male",
        ethnicity="W1",
        person_ref="PER-1",
    )

    errors = errors_of(write(tmp_path, [row()]))

    assert errors == [
        "line 2, date_of_birth: Date of birth differs from the person already recorded with "
        "person reference 'PER-1'"
    ]


def test_every_error_in_the_file_is_listed_at_once_in_line_order(tmp_path):
    path = write(
        tmp_path,
        [
            row(encounter_ref="A", person_ref="P-A", gender="man", quantity_grams="-2"),
            row(encounter_ref="B", person_ref="P-B"),
            row(encounter_ref="C", person_ref="P-C", borough_code=CROYDON, accepted="yes"),
            row(encounter_ref="D", person_ref="P-D", encounter_date="2025-02-30"),
        ],
    )

    errors = errors_of(path)

    assert [e.split(":")[0] for e in errors] == [
        "line 2, gender",
        "line 2, quantity_grams",
        "line 4, accepted",
        "line 5, encounter_date",
    ]


def test_failed_import_exits_non_zero_from_the_command_line(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, [row(gender="M")])
    # The command line closes connections when it ends; keep the test's connection open.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["manage.py", "import_encounters", str(path)])

    assert exit_.value.code != 0
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "line 2" in line] == [
        "line 2, gender: Gender must be male, female, other or not_stated, not 'M'"
    ]
    assert err[-1] == "CommandError: Nothing was imported: the file has 1 problem, listed above."
    assert not Encounter.objects.exists()


def test_file_not_in_utf8_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    text = ",".join(COLUMNS) + "\n" + ",".join(row(first_name="Zoé")[c] for c in COLUMNS) + "\n"
    path.write_bytes(text.encode("latin-1"))

    assert errors_of(path) == ["line 2, file: The file must be saved as UTF-8 text"]


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(CommandError, match="There is no file at"):
        call_command("import_encounters", str(tmp_path / "nope.csv"))


def test_service_raises_import_failed_with_errors(db):
    stream = StringIO(",".join(COLUMNS) + "\n" + ",".join(row(gender="M")[c] for c in COLUMNS))

    with pytest.raises(ImportFailed) as failure:
        encounters_import(stream=stream, source_name="test")

    assert failure.value.errors[0].startswith("line 2, gender:")


# --- Judged in (encounter_date, encounter_ref) order, by the policy of the day ------------------


@pytest.mark.parametrize(
    ("first", "second", "later_date"),
    [
        # The later encounter is listed first but judged second, so it is a recent diversion.
        pytest.param("ENC-A", "ENC-B", "2025-06-01", id="date-order-not-file-order"),
        pytest.param("ENC-1", "ENC-2", "2025-03-01", id="same-date-in-reference-order"),
    ],
)
def test_rows_are_judged_in_date_then_reference_order(tmp_path, first, second, later_date):
    path = write(
        tmp_path,
        [
            row(encounter_ref=second, encounter_date=later_date, accepted=""),
            row(encounter_ref=first, encounter_date="2025-03-01", accepted="yes"),
        ],
    )

    run(path)

    assert decision_of(first) == ("diverted", [])
    assert decision_of(second) == ("ineligible", ["recent_diversion"])


def test_accepted_on_a_row_made_ineligible_by_an_earlier_row_is_an_error(tmp_path):
    path = write(
        tmp_path,
        [
            row(encounter_ref="ENC-B", encounter_date="2025-06-01", accepted="yes"),
            row(encounter_ref="ENC-A", encounter_date="2025-03-01", accepted="yes"),
        ],
    )

    errors = errors_of(path)

    assert errors == [
        "line 2, accepted: Leave accepted empty: diversion was not offered because the "
        "encounter was not eligible (recent_diversion)"
    ]


def test_diversion_already_in_database_counts_as_previous(tmp_path):
    person = person_create(
        first_name="Sam",
        last_name="Jones",
        date_of_birth=date(2003, 5, 1),
        gender="male",
        ethnicity="W1",
        person_ref="PER-1",
    )
    from boroughs.models import Borough

    encounter_record(
        by=None,
        person=person,
        borough=Borough.objects.get(gss_code=LAMBETH),
        encounter_date=date(2025, 2, 1),
        substance="cannabis_herbal",
        quantity_grams=Decimal("3"),
        accepted=True,
    )

    run(
        write(
            tmp_path,
            [
                row(encounter_date="2026-01-31", accepted=""),
                row(encounter_ref="ENC-2", encounter_date="2026-02-01"),
            ],
        )
    )

    assert decision_of("ENC-1") == ("ineligible", ["recent_diversion"])
    assert decision_of("ENC-2") == ("diverted", [])  # 12 months on, the window has passed


def test_each_row_is_judged_by_the_policy_in_force_on_its_date(tmp_path):
    """Version 2 raises the maximum age to 25 from 1 June 2025; a 25-year-old is judged by date."""
    v2 = EligibilityPolicy.objects.create(
        version=2, effective_from=date(2025, 6, 1), min_age=18, max_age=25
    )
    SubstanceLimit.objects.create(policy=v2, substance="cannabis_herbal", max_grams=25)
    SubstanceLimit.objects.create(policy=v2, substance="cannabis_resin", max_grams=5)
    path = write(
        tmp_path,
        [
            row(
                encounter_ref="BEFORE",
                date_of_birth="1999-12-01",
                encounter_date="2025-05-31",
                accepted="",
            ),
            row(encounter_ref="AFTER", date_of_birth="1999-12-01", encounter_date="2025-06-01"),
        ],
    )

    run(path)

    before = Encounter.objects.get(encounter_ref="BEFORE")
    after = Encounter.objects.get(encounter_ref="AFTER")
    assert (before.decision, before.policy.version, before.age_at_encounter) == (
        "ineligible",
        1,
        25,
    )
    assert decision_of("BEFORE")[1] == ["age_over_max"]
    assert (after.decision, after.policy.version, after.age_at_encounter) == ("diverted", 2, 25)


# --- Decisions that depend on the borough and the answer ----------------------------------------


def test_comparison_borough_is_not_offered_with_accepted_empty(tmp_path):
    run(write(tmp_path, [row(borough_code=CROYDON, accepted="")]))

    assert decision_of("ENC-1") == ("not_offered", [])
    assert Encounter.objects.get().accepted is None


def test_accepted_in_comparison_borough_is_an_error(tmp_path):
    errors = errors_of(write(tmp_path, [row(borough_code=CROYDON, accepted="yes")]))

    assert errors == [
        "line 2, accepted: Leave accepted empty: diversion was not offered because Croydon is "
        "a comparison borough"
    ]


@pytest.mark.parametrize(
    ("borough", "day"),
    [(SOUTHWARK, "2025-07-01"), (LAMBETH, "2024-12-31")],
    ids=["after pilot end", "before pilot start"],
)
def test_pilot_borough_outside_its_dates_is_not_offered(tmp_path, borough, day):
    run(write(tmp_path, [row(borough_code=borough, encounter_date=day, accepted="")]))

    assert decision_of("ENC-1") == ("not_offered", [])


def test_pilot_end_date_is_inclusive(tmp_path):
    run(write(tmp_path, [row(borough_code=SOUTHWARK, encounter_date="2025-06-30")]))

    assert decision_of("ENC-1") == ("diverted", [])


def test_missing_accepted_where_diversion_was_offered_is_an_error(tmp_path):
    errors = errors_of(write(tmp_path, [row(accepted="")]))

    assert errors == [
        "line 2, accepted: Enter yes or no: diversion was offered at this encounter, so say "
        "whether the person accepted it"
    ]


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"accepted": "no", "attended_on": "2025-03-20"}, "attended_on"),
        ({"accepted": "no", "withdrawn_on": "2025-03-20"}, "withdrawn_on"),
        ({"borough_code": CROYDON, "accepted": "", "completed_on": "2025-03-20"}, "completed_on"),
        (
            {"quantity_grams": "40", "accepted": "", "did_not_attend_on": "2025-03-20"},
            "did_not_attend_on",
        ),
        (
            {"quantity_grams": "40", "accepted": "", "provider": "Lambeth Drug Education"},
            "provider",
        ),
    ],
)
def test_referral_columns_on_rows_not_diverted_are_errors(tmp_path, provider, changes, column):
    errors = errors_of(write(tmp_path, [row(**changes)]))

    assert len(errors) == 1
    assert errors[0].startswith(f"line 2, {column}: Leave {column} empty: only a diverted")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"completed_on": "2025-04-01"},
            "line 2, completed_on: Completion needs an attendance date on or before it",
        ),
        (
            {"attended_on": "2025-04-02", "completed_on": "2025-04-01"},
            "line 2, completed_on: Completed date must be on or after the attended date",
        ),
        (
            {"attended_on": "2025-03-09"},
            "line 2, attended_on: Attended date must be on or after the encounter date",
        ),
        (
            {"withdrawn_on": FUTURE},
            "line 2, withdrawn_on: Withdrawn date must be today or in the past",
        ),
        (
            {"did_not_attend_on": "2025-03-20", "withdrawn_on": "2025-03-21"},
            "line 2, withdrawn_on: A referral can end only one way",
        ),
    ],
)
def test_outcome_dates_follow_the_referral_rules(tmp_path, changes, expected):
    errors = errors_of(write(tmp_path, [row(**changes)]))

    assert len(errors) == 1
    assert errors[0].startswith(expected)


# --- Re-importing -------------------------------------------------------------------------------


def _history_count() -> int:
    return sum(m.history.count() for m in (Person, Encounter, Referral))


def test_identical_reimport_changes_nothing(tmp_path, provider):
    rows = [
        row(provider=provider.name, attended_on="2025-03-20", exclusions=""),
        row(
            encounter_ref="ENC-2",
            person_ref="PER-2",
            quantity_grams="30",
            accepted="",
            exclusions="other_offence;supply_indicators",
        ),
        row(encounter_ref="ENC-3", person_ref="PER-3", borough_code=CROYDON, accepted=""),
    ]
    run(write(tmp_path, rows))
    counts = (Person.objects.count(), Encounter.objects.count(), Referral.objects.count())
    history = _history_count()

    # The same data written differently: trailing zeros, capitals.
    rows[0] = {**rows[0], "quantity_grams": "10.000", "accepted": "YES"}
    message = run(write(tmp_path, rows, name="again.csv"))

    assert message == "Imported 0 encounters (3 already present and unchanged)."
    assert (Person.objects.count(), Encounter.objects.count(), Referral.objects.count()) == counts
    assert _history_count() == history


def test_reimport_with_new_rows_adds_only_the_new_ones(tmp_path):
    run(write(tmp_path, [row()]))

    message = run(write(tmp_path, [row(), row(encounter_ref="ENC-2", person_ref="PER-2")]))

    assert message == "Imported 1 encounter (1 already present and unchanged)."
    assert Encounter.objects.count() == 2


def test_same_reference_with_different_data_is_an_error(tmp_path):
    run(write(tmp_path, [row()]))

    errors = errors_of(write(tmp_path, [row(quantity_grams="11", attended_on="2025-03-12")]))

    assert errors == [
        "line 2, encounter_ref: Encounter 'ENC-1' is already recorded with different data "
        "(in quantity_grams, attended_on); an import cannot change it"
    ]
    assert Encounter.objects.get().quantity_grams == Decimal("10")


def test_benchmark_generator_writes_a_file_that_imports_cleanly(tmp_path, monkeypatch):
    """benchmarks/generate_encounters.py simulates the rule, so its `accepted` column fits."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "generate_encounters", Path(__file__).parents[2] / "benchmarks" / "generate_encounters.py"
    )
    generator = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "generate_encounters", generator)  # dataclasses need it
    spec.loader.exec_module(generator)
    borough_configure(gss_code=SOUTHWARK, role="pilot", pilot_start=date(2025, 1, 1))
    path = tmp_path / "generated.csv"
    generator.write(generator.generate(rows=400, seed=7, today=timezone.localdate()), path)

    assert run(path) == "Imported 400 encounters (0 already present and unchanged)."
    assert Encounter.objects.filter(decision="diverted").exists()
    assert Encounter.objects.filter(decision="declined").exists()


@pytest.mark.parametrize("workers", ["0", "-1", "17"])
def test_a_number_of_workers_out_of_range_is_refused_before_reading(tmp_path, workers):
    path = write(tmp_path, [row()])
    with pytest.raises(CommandError, match="Enter a number of workers from 1 to 16"):
        call_command("import_encounters", str(path), "--workers", workers, stdout=StringIO())
    assert not Encounter.objects.exists()
