"""``effects`` (SPEC §6): diverted against comparison, pooled over every reportable cohort.

The history is built through the real services. Week 2025-W06 ends on 9 February 2025, so
cohorts up to 2024-10 are reportable at 3 months, up to 2024-07 at 6 and up to 2024-01 at 12.
"""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from diversion.services import reoffence_record
from reports.measure import report_data
from reports.renderings import print_html, render
from reports.renderings.tables import EFFECTS_CAVEAT
from reports.services import report_build
from reports.statistics import effect_estimates
from reports.suppression import SUPPRESSED, WITHHELD, suppress_effects_row, suppress_report
from tests.reports.factories import HACKNEY, LEWISHAM, SAMPLE, make_version, meet, person

WEEK = "2025-W06"
COUNTS = ("diverted_size", "diverted_reoffenders", "comparison_size", "comparison_reoffenders")


def reoffend(who, day: date) -> None:
    reoffence_record(person=who, offence_date=day, offence_type="possession", by=None)


@pytest.fixture
def history(boroughs) -> dict:
    """Lewisham diverts; Southwark (comparison) does not offer; one Lewisham person declines."""
    people = {ref: person(ref) for ref in ("D1", "D2", "D3", "D4", "D5", "H1")}
    people |= {ref: person(ref) for ref in ("C1", "C2", "C3", "C5")}
    # Cohort 2024-01: reportable at 3, 6 and 12 months.
    meet(people["D1"], date(2024, 1, 10), "diverted")
    reoffend(people["D1"], date(2024, 2, 1))  # within 3 months
    meet(people["D2"], date(2024, 1, 10), "diverted")
    reoffend(people["D2"], date(2024, 9, 1))  # within 12 months only
    meet(people["H1"], date(2024, 1, 11), "diverted", borough=HACKNEY)  # no comparison there
    meet(people["C1"], date(2024, 1, 12), "not_offered")
    reoffend(people["C1"], date(2024, 3, 1))  # within 3 months
    meet(people["C2"], date(2024, 1, 15), "declined")  # comparison group, in Lewisham
    # Cohort 2024-06: reportable at 3 and 6 months.
    meet(people["D3"], date(2024, 6, 5), "diverted")
    reoffend(people["D3"], date(2024, 10, 1))  # within 6 months, not 3
    meet(people["C3"], date(2024, 6, 7), "not_offered")
    # Cohort 2024-10: reportable at 3 months only.
    meet(people["D4"], date(2024, 10, 3), "diverted")
    reoffend(people["D4"], date(2024, 11, 1))
    # Cohort 2024-12: not reportable yet, so in no effects row.
    meet(people["D5"], date(2024, 12, 1), "diverted")
    meet(people["C5"], date(2024, 12, 2), "not_offered")
    reoffend(people["C5"], date(2024, 12, 20))
    return people


def effects_by_key(data: dict) -> dict[tuple[str, int], dict]:
    rows = {(r["borough"], r["months"]): r for r in data["effects"]}
    assert len(rows) == len(data["effects"]), "one row per borough and N"
    return rows


def counts(row: dict) -> tuple[int, ...]:
    return tuple(row[key] for key in COUNTS)


def test_effects_pool_every_reportable_cohort_per_borough_and_all(history):
    rows = effects_by_key(report_data(week=WEEK))

    assert {key: counts(row) for key, row in rows.items()} == {
        (LEWISHAM, 3): (4, 2, 1, 0),  # D1-D4 against C2
        ("ALL", 3): (5, 2, 3, 1),  # and H1; C1, C2 and C3
        (LEWISHAM, 6): (3, 2, 1, 0),  # D4's cohort is not yet reportable at 6 months
        ("ALL", 6): (4, 2, 3, 1),
        (LEWISHAM, 12): (2, 2, 1, 0),  # only cohort 2024-01; D2 reoffended within 12 months
        ("ALL", 12): (3, 2, 2, 1),
    }


def test_a_borough_with_only_one_group_has_no_effects_row(history):
    """Hackney has only diverted people and Southwark only comparison people."""
    boroughs = {row["borough"] for row in report_data(week=WEEK)["effects"]}
    assert boroughs == {LEWISHAM, "ALL"}


def test_effects_rows_have_the_spec_keys_and_estimates_from_the_pooled_counts(history):
    row = effects_by_key(report_data(week=WEEK))[("ALL", 3)]
    assert row == {
        "borough": "ALL",
        "months": 3,
        "diverted_size": 5,
        "diverted_reoffenders": 2,
        "comparison_size": 3,
        "comparison_reoffenders": 1,
        **effect_estimates(r1=2, n1=5, r0=1, n0=3),
    }
    # 2/5 - 1/3 = 0.0667; RR = 1.2 (both worked by hand).
    assert (row["risk_difference"], row["relative_risk"]) == (0.0667, 1.2)
    lewisham = effects_by_key(report_data(week=WEEK))[(LEWISHAM, 3)]
    assert lewisham["relative_risk"] is lewisham["rr_low"] is lewisham["rr_high"] is None
    assert lewisham["risk_difference"] == 0.5


def test_effects_agree_with_the_reoffending_rows_they_pool(history):
    data = report_data(week=WEEK)
    for (borough, months), row in effects_by_key(data).items():
        for group, prefix in (("diverted", "diverted"), ("comparison", "comparison")):
            cohorts = [
                r
                for r in data["reoffending"]
                if (r["borough"], r["months"], r["group"]) == (borough, months, group)
            ]
            assert row[f"{prefix}_size"] == sum(r["cohort_size"] for r in cohorts)
            assert row[f"{prefix}_reoffenders"] == sum(r["reoffenders"] for r in cohorts)


def test_no_effects_before_any_cohort_is_reportable_or_without_a_comparison_group(boroughs):
    meet(person("D1"), date(2024, 1, 10), "diverted")
    assert report_data(week="2024-W10")["effects"] == []  # 2024-01 not yet followed 3 months
    assert report_data(week=WEEK)["effects"] == []  # reportable, but nobody to compare with


def test_rebuilding_with_the_same_effects_makes_no_new_version(history):
    first, created = report_build(week=WEEK)
    again, created_again = report_build(week=WEEK)
    assert created and not created_again and again.pk == first.pk
    assert first.data["effects"] == report_data(week=WEEK)["effects"]

    reoffend(history["C2"], date(2024, 2, 20))
    changed, created = report_build(week=WEEK)
    assert created and changed.number == 2 and changed.sha256 != first.sha256
    lewisham = next(
        r for r in changed.data["effects"] if (r["borough"], r["months"]) == (LEWISHAM, 3)
    )
    assert lewisham["comparison_reoffenders"] == 1


# --- Suppression and renderings ---------------------------------------------------------------

LARGE = {
    "borough": "ALL",
    "months": 12,
    "diverted_size": 70,
    "diverted_reoffenders": 56,
    "comparison_size": 80,
    "comparison_reoffenders": 48,
    **effect_estimates(r1=56, n1=70, r0=48, n0=80),
}
SMALL = {
    "borough": LEWISHAM,
    "months": 3,
    "diverted_size": 30,
    "diverted_reoffenders": 3,
    "comparison_size": 25,
    "comparison_reoffenders": 10,
    **effect_estimates(r1=3, n1=30, r0=10, n0=25),
}
NO_REOFFENDER = {
    "borough": LEWISHAM,
    "months": 6,
    "diverted_size": 12,
    "diverted_reoffenders": 0,
    "comparison_size": 9,
    "comparison_reoffenders": 5,
    **effect_estimates(r1=0, n1=12, r0=5, n0=9),
}


def test_effects_row_with_any_count_from_1_to_4_shows_it_as_under_5_and_withholds_estimates():
    shown = suppress_effects_row(SMALL)
    assert counts(shown) == (30, SUPPRESSED, 25, 10)
    for key in ("risk_difference", "rd_low", "rd_high", "relative_risk", "rr_low", "rr_high"):
        assert shown[key] == WITHHELD
    assert suppress_effects_row(LARGE) == LARGE


def test_effects_row_keeps_zero_counts_and_a_relative_risk_that_does_not_exist():
    shown = suppress_effects_row(NO_REOFFENDER)
    assert counts(shown) == (12, 0, 9, 5)
    assert shown["relative_risk"] is None
    assert shown["risk_difference"] == NO_REOFFENDER["risk_difference"]


def cohort_rows(effect: dict, cohort: str) -> list[dict]:
    """The reoffending rows an effects row pools: one cohort per group, for it and for ALL.

    Secondary suppression holds effects against their cohorts (SPEC §6), so the sample report
    must carry cohorts that add up to its effects rows.
    """
    rows = []
    for group, size, reoffenders in (
        ("diverted", effect["diverted_size"], effect["diverted_reoffenders"]),
        ("comparison", effect["comparison_size"], effect["comparison_reoffenders"]),
    ):
        for borough in dict.fromkeys((effect["borough"], "ALL")):
            rows.append(
                {
                    "cohort": cohort,
                    "group": group,
                    "borough": borough,
                    "months": effect["months"],
                    "cohort_size": size,
                    "reoffenders": reoffenders,
                    "reoffences": reoffenders,
                    "rate": round(reoffenders / size, 4),
                    "ci_low": None,
                    "ci_high": None,
                }
            )
    return rows


def with_effects(*effects: dict) -> dict:
    cohorts = ("2025-01", "2025-03", "2025-06")
    reoffending = [row for e, c in zip(effects, cohorts, strict=False) for row in cohort_rows(e, c)]
    return {**SAMPLE, "reoffending": reoffending, "effects": list(effects)}


def test_suppress_report_covers_effects():
    data = with_effects(LARGE, SMALL)
    shown = suppress_report(data, windows={})  # no borough's role known: no zero is fixed
    assert shown["effects"] == [LARGE, suppress_effects_row(SMALL)]


@pytest.fixture
def version(db):
    return make_version(data=with_effects(LARGE, SMALL, NO_REOFFENDER))


def csv_section(version, title: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(render(version, "csv").decode("utf-8-sig"))))
    start = rows.index([title]) + 1
    end = next((i for i in range(start, len(rows)) if not rows[i]), len(rows))
    return rows[start:end]


def test_csv_has_the_effects_section_with_the_caveat_and_withheld_estimates(version):
    caveat, header, *rows = csv_section(version, "Diverted compared with not diverted")
    assert caveat == [EFFECTS_CAVEAT]
    assert header[:2] == ["Borough", "Months followed"]
    assert "Relative risk" in header and "Difference in reoffending rate" in header
    by_borough = {(r[0], r[1]): r for r in rows}
    assert by_borough[("All boroughs", "12")][2:] == [
        "70",
        "56",
        "80",
        "48",
        "0.2000",
        "0.0524",
        "0.3339",
        "1.3333",
        "1.0766",
        "1.6513",
    ]
    assert by_borough[("Lewisham", "3")][2:] == ["30", "<5", "25", "10"] + ["withheld"] * 6
    assert by_borough[("Lewisham", "6")][-3:] == ["", "", ""]  # no relative risk to give


def test_xlsx_has_an_effects_sheet_with_the_caveat(version):
    book = load_workbook(io.BytesIO(render(version, "xlsx")))
    rows = list(book["Diverted compared"].iter_rows(values_only=True))
    assert rows[1][0] == EFFECTS_CAVEAT
    everyone = next(r for r in rows if r[0] == "All boroughs")
    assert everyone[6:9] == pytest.approx((0.2, 0.0524, 0.3339))
    small = next(r for r in rows if r[0] == "Lewisham" and r[1] == "3")
    assert small[2:] == (30, "<5", 25, 10) + ("withheld",) * 6


def test_page_and_pdf_show_the_effects_table_with_the_caveat(client, analyst, version):
    client.force_login(analyst)
    page = client.get(f"/reports/{version.week}/v{version.number}/").content.decode()
    for html in (page, print_html(version)):
        effects = html.split('id="effects"', 1)[1].split('id="disproportionality"', 1)[0]
        assert "it is not proof that diversion caused the difference" in effects
        assert "govuk-warning-text" in effects and "<table" in effects
        assert ">20.0%<" in effects and ">5.2%<" in effects and ">1.33<" in effects
        assert effects.count(">Withheld<") == 6
        assert "&lt;5" in effects
        assert ">Not applicable<" in effects  # no relative risk with no diverted reoffender
    assert render(version, "pdf").startswith(b"%PDF")


def test_a_version_built_before_effects_still_renders(client, analyst):
    old = make_version()  # SAMPLE has no effects key
    client.force_login(analyst)
    page = client.get(f"/reports/{old.week}/v{old.number}/").content.decode()
    assert "No borough has both diverted and comparison people" in page
    assert csv_section(old, "Diverted compared with not diverted")[0] == [EFFECTS_CAVEAT]
