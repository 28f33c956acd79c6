"""Small numbers are suppressed in what people read; the JSON keeps them (SPEC §6)."""

import io
import json

import pytest

from reports.suppression import (
    SECONDARY,
    SUPPRESSED,
    WITHHELD,
    is_suppressed,
    rate_withheld,
    suppress_activity_row,
    suppress_count,
    suppress_disproportionality,
    suppress_disproportionality_row,
    suppress_effects_row,
    suppress_rate,
    suppress_reason_row,
    suppress_referral_row,
    suppress_reoffending_row,
    suppress_report,
    suppressed_json,
)
from tests.reports.attacker import attack


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, "<5"), (2, "<5"), (4, "<5"), (5, 5), (6, 6), (1234, 1234), (None, None)],
)
def test_counts_from_one_to_four_show_as_less_than_five(count, shown):
    assert suppress_count(count) == shown


@pytest.mark.parametrize(("count", "suppressed"), [(0, False), (1, True), (4, True), (5, False)])
def test_is_suppressed_only_for_one_to_four(count, suppressed):
    assert is_suppressed(count) is suppressed


@pytest.mark.parametrize(
    ("numerator", "denominator", "withheld"),
    [(0, 10, False), (5, 10, False), (4, 10, True), (1, 10, True), (0, 4, True), (5, 5, False)],
)
def test_rate_is_withheld_when_numerator_or_denominator_is_suppressed(
    numerator, denominator, withheld
):
    assert rate_withheld(numerator=numerator, denominator=denominator) is withheld
    expected = WITHHELD if withheld else 0.5
    assert suppress_rate(0.5, numerator=numerator, denominator=denominator) == expected


def test_a_missing_rate_stays_missing_rather_than_withheld():
    assert suppress_rate(None, numerator=0, denominator=0) is None


def test_activity_row_suppresses_every_count_and_keeps_the_borough():
    row = {
        "borough": "E09000023",
        "encounters": 9,
        "diverted": 4,
        "declined": 1,
        "not_offered": 0,
        "ineligible": 5,
    }
    assert suppress_activity_row(row) == {
        "borough": "E09000023",
        "encounters": 9,
        "diverted": SUPPRESSED,
        "declined": SUPPRESSED,
        "not_offered": 0,
        "ineligible": 5,
    }
    assert row["diverted"] == 4, "the input row is not changed"


def test_reason_row_count_is_suppressed():
    assert suppress_reason_row({"reason": "age_over_max", "count": 3})["count"] == SUPPRESSED


def test_completion_rate_withheld_when_denominator_completed_plus_dna_is_small():
    # completed 3 (suppressed numerator) and denominator 3 + 1 = 4 (suppressed).
    row = {
        "borough": "ALL",
        "referred": 10,
        "attended": 6,
        "completed": 3,
        "did_not_attend": 1,
        "withdrawn": 0,
        "open": 6,
        "completion_rate": 0.75,
    }
    shown = suppress_referral_row(row)
    assert shown["completion_rate"] == WITHHELD
    assert shown["completed"] == SUPPRESSED and shown["did_not_attend"] == SUPPRESSED
    assert shown["referred"] == 10 and shown["withdrawn"] == 0


def test_completion_rate_shown_when_completed_and_denominator_are_five_or_more():
    row = {
        "borough": "ALL",
        "referred": 40,
        "attended": 30,
        "completed": 25,
        "did_not_attend": 6,
        "withdrawn": 1,
        "open": 8,
        "completion_rate": 0.8065,
    }
    assert suppress_referral_row(row)["completion_rate"] == 0.8065


def test_completion_rate_of_zero_completions_out_of_many_is_shown():
    row = {
        "borough": "ALL",
        "referred": 9,
        "attended": 9,
        "completed": 0,
        "did_not_attend": 7,
        "withdrawn": 0,
        "open": 2,
        "completion_rate": 0.0,
    }
    assert suppress_referral_row(row)["completion_rate"] == 0.0


def test_completion_rate_withheld_when_only_the_denominator_is_small():
    # 0 completions is not suppressed, but 0 + 3 did-not-attend is.
    row = {
        "borough": "ALL",
        "referred": 9,
        "attended": 3,
        "completed": 0,
        "did_not_attend": 3,
        "withdrawn": 0,
        "open": 6,
        "completion_rate": 0.0,
    }
    assert suppress_referral_row(row)["completion_rate"] == WITHHELD


def test_reoffending_rate_and_interval_withheld_with_few_reoffenders():
    row = {
        "cohort": "2025-03",
        "group": "diverted",
        "borough": "ALL",
        "months": 3,
        "cohort_size": 40,
        "reoffenders": 4,
        "reoffences": 7,
        "rate": 0.1,
        "ci_low": 0.04,
        "ci_high": 0.23,
    }
    shown = suppress_reoffending_row(row)
    assert (shown["rate"], shown["ci_low"], shown["ci_high"]) == (WITHHELD, WITHHELD, WITHHELD)
    assert shown["reoffenders"] == SUPPRESSED and shown["reoffences"] == 7
    assert shown["cohort_size"] == 40


def test_reoffending_rate_withheld_with_a_small_cohort_even_with_no_reoffenders():
    row = {
        "cohort": "2025-03",
        "group": "comparison",
        "borough": "E09000023",
        "months": 12,
        "cohort_size": 3,
        "reoffenders": 0,
        "reoffences": 0,
        "rate": 0.0,
        "ci_low": 0.0,
        "ci_high": 0.5615,
    }
    shown = suppress_reoffending_row(row)
    assert shown["rate"] == WITHHELD and shown["ci_high"] == WITHHELD
    assert shown["reoffenders"] == 0


def test_reoffending_rate_shown_with_five_reoffenders_in_a_cohort_of_forty():
    row = {
        "cohort": "2025-03",
        "group": "diverted",
        "borough": "ALL",
        "months": 3,
        "cohort_size": 40,
        "reoffenders": 5,
        "reoffences": 7,
        "rate": 0.125,
        "ci_low": 0.0546,
        "ci_high": 0.2611,
    }
    assert suppress_reoffending_row(row) == row


def test_disproportionality_rate_withheld_with_few_reoffenders():
    row = {
        "dimension": "gender",
        "group": "female",
        "offers": 12,
        "diversions": 2,
        "completions": 0,
        "reoffending_12m_cohort": 10,
        "reoffending_12m_reoffenders": 2,
        "reoffending_12m_rate": 0.2,
    }
    shown = suppress_disproportionality_row(row)
    assert shown["diversions"] == SUPPRESSED and shown["completions"] == 0
    assert shown["reoffending_12m_reoffenders"] == SUPPRESSED
    assert shown["reoffending_12m_rate"] == WITHHELD


def test_suppress_report_keeps_the_week_and_changes_every_section():
    data = {
        "week": "2026-W10",
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "activity": [
            {
                "borough": "ALL",
                "encounters": 2,
                "diverted": 0,
                "declined": 0,
                "not_offered": 0,
                "ineligible": 2,
            }
        ],
        "ineligibility_reasons": [{"reason": "age_over_max", "count": 2}],
        "referrals": [
            {
                "borough": "ALL",
                "referred": 3,
                "attended": 2,
                "completed": 1,
                "did_not_attend": 1,
                "withdrawn": 0,
                "open": 1,
                "completion_rate": 0.5,
            }
        ],
        "reoffending": [
            {
                "cohort": "2025-03",
                "group": "diverted",
                "borough": "ALL",
                "months": 3,
                "cohort_size": 3,
                "reoffenders": 1,
                "reoffences": 2,
                "rate": 0.3333,
                "ci_low": 0.0615,
                "ci_high": 0.7923,
            }
        ],
    }
    shown = suppress_report(data)
    assert shown["week"] == "2026-W10"
    assert (shown["period_start"], shown["period_end"]) == ("2026-03-02", "2026-03-08")
    assert shown["activity"][0]["encounters"] == SUPPRESSED
    assert shown["ineligibility_reasons"][0]["count"] == SUPPRESSED
    assert shown["referrals"] == [
        {
            "borough": "ALL",
            "referred": SUPPRESSED,
            "attended": SUPPRESSED,
            "completed": SUPPRESSED,
            "did_not_attend": SUPPRESSED,
            "withdrawn": 0,
            "open": SUPPRESSED,
            "completion_rate": WITHHELD,
        }
    ]
    assert shown["reoffending"] == [
        {
            "cohort": "2025-03",
            "group": "diverted",
            "borough": "ALL",
            "months": 3,
            "cohort_size": SUPPRESSED,
            "reoffenders": SUPPRESSED,
            "reoffences": SUPPRESSED,
            "rate": WITHHELD,
            "ci_low": WITHHELD,
            "ci_high": WITHHELD,
        }
    ]
    assert data["activity"][0]["encounters"] == 2
    assert data["referrals"][0]["referred"] == 3, "the input is not changed"
    assert data["reoffending"][0]["rate"] == 0.3333


# --- Secondary suppression over the whole report ------------------------------------------------


def _activity(rows: dict[str, tuple[int, int, int, int]]) -> list[dict]:
    keys = ("diverted", "declined", "not_offered", "ineligible")
    out = [
        {"borough": b, "encounters": sum(p), **dict(zip(keys, p, strict=True))}
        for b, p in rows.items()
    ]
    out.append({"borough": "ALL", **{k: sum(r[k] for r in out) for k in ("encounters", *keys)}})
    return out


def test_brent_row_hides_a_further_cell_as_c_so_not_eligible_cannot_be_worked_out():
    data = {"activity": _activity({"Brent": (0, 0, 9, 1), "Camden": (10, 6, 7, 8)})}
    brent = suppress_report(data)["activity"][0]
    assert brent["ineligible"] == SUPPRESSED
    others = [brent[k] for k in ("encounters", "diverted", "declined", "not_offered")]
    assert SECONDARY in others, "encounters 10 - 0 - 0 - 9 would give not eligible = 1"


def test_suppressed_json_has_hidden_counts_as_strings_and_withheld_rates_as_null():
    referral = {
        "borough": "ALL",
        "referred": 40,
        "attended": 30,
        "completed": 25,
        "did_not_attend": 6,
        "withdrawn": 1,
        "open": 8,
        "completion_rate": 0.8065,
    }
    shown = suppressed_json({"week": "2026-W10", "referrals": [referral]})
    row = shown["referrals"][0]
    assert row["withdrawn"] == SUPPRESSED
    # Open 8 = 40 - 25 - 6 - withdrawn: the smallest other term, did not attend, is hidden,
    # and the completion rate made from it is withheld (null in JSON).
    assert row["did_not_attend"] == SECONDARY
    assert row["completion_rate"] is None
    assert shown["week"] == "2026-W10"
    assert suppress_report({"referrals": [referral]})["referrals"][0]["completion_rate"] == WITHHELD


def test_effects_estimates_are_withheld_when_any_pooled_count_is_hidden():
    estimates = dict.fromkeys(
        ("risk_difference", "rd_low", "rd_high", "relative_risk", "rr_low", "rr_high"), 0.2
    )
    counts = {"diverted_size": 3, "diverted_reoffenders": 0}
    counts |= {"comparison_size": 80, "comparison_reoffenders": 48}
    row = {"borough": "ALL", "months": 12, **counts, **estimates}
    shown = suppressed_json({"effects": [row, {**row, "months": 6, "diverted_size": 70}]})
    assert shown["effects"][0]["diverted_size"] == SUPPRESSED
    assert all(shown["effects"][0][k] is None for k in estimates)
    assert all(shown["effects"][1][k] == 0.2 for k in estimates)


def test_disproportionality_dimensions_add_to_the_same_total_so_a_group_is_protected():
    def row(dimension, group, offers):
        return {
            "dimension": dimension,
            "group": group,
            "offers": offers,
            "diversions": 0,
            "completions": 0,
            "reoffending_12m_cohort": 0,
            "reoffending_12m_reoffenders": 0,
            "reoffending_12m_rate": None,
        }

    rows = [
        row("gender", "female", 3),
        row("gender", "male", 20),
        row("age_band", "18-20", 10),
        row("age_band", "21-25", 13),
    ]
    shown = suppress_disproportionality(rows)
    assert shown[0]["offers"] == SUPPRESSED
    # Shown, the other three would give female = 10 + 13 - 20; the smallest, 10, is hidden.
    assert [r["offers"] for r in shown[1:]] == [20, SECONDARY, 13]
    assert attack({"disproportionality": shown}) == set()


def test_a_hidden_cell_is_never_a_shown_value_changed_and_zero_can_be_hidden():
    data = {"activity": _activity({"Brent": (0, 0, 9, 1), "Camden": (10, 6, 7, 8)})}
    shown = suppress_report(data)["activity"]
    for before, after in zip(data["activity"], shown, strict=True):
        for key, value in before.items():
            assert after[key] in (value, SUPPRESSED, SECONDARY)
    assert shown[0]["diverted"] == SECONDARY, "the smallest cell, a 0, is hidden first"


@pytest.mark.django_db
def test_build_report_suppressed_writes_the_json_people_see(boroughs):
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    call_command("build_report", "--week", "2024-W03", "--suppressed", stdout=out, stderr=err)
    data = json.loads(out.getvalue())
    assert set(data) >= {"activity", "referrals", "reoffending"}


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_build_report_suppressed_changes_nothing_in_a_rendering_that_is_always_suppressed(
    boroughs, fmt, tmp_path
):
    """CSV, XLSX and PDF are always suppressed, so --suppressed is accepted and changes nothing."""
    from django.core.management import call_command

    def run(*extra: str) -> bytes:
        path = tmp_path / f"report-{len(extra)}.{fmt}"
        call_command("build_report", "--week", "2024-W03", "--format", fmt, *extra,
                     "--output", str(path), stderr=io.StringIO())  # fmt: skip
        return path.read_bytes()

    plain, suppressed = run(), run("--suppressed")
    assert suppressed[:4] == plain[:4] != b""
    if fmt == "csv":
        assert suppressed.splitlines()[:3] == plain.splitlines()[:3]


def test_row_functions_leave_an_already_suppressed_row_as_it_is():
    data = {"activity": _activity({"Brent": (0, 0, 9, 1), "Camden": (10, 6, 7, 8)})}
    referral = {
        "borough": "ALL",
        "referred": 40,
        "attended": 30,
        "completed": 25,
        "did_not_attend": 6,
        "withdrawn": 1,
        "open": 8,
        "completion_rate": 0.8065,
    }
    shown = suppress_report({**data, "referrals": [referral]})
    assert [suppress_activity_row(r) for r in shown["activity"]] == shown["activity"]
    assert suppress_referral_row(shown["referrals"][0]) == shown["referrals"][0]


def test_effects_row_alone_withholds_its_estimates_when_a_count_is_small():
    row = {
        "borough": "ALL",
        "months": 12,
        "diverted_size": 70,
        "diverted_reoffenders": 56,
        "comparison_size": 80,
        "comparison_reoffenders": 4,
        "risk_difference": 0.2,
        "rd_low": 0.0524,
        "rd_high": 0.3339,
        "relative_risk": 1.3,
        "rr_low": None,
        "rr_high": 1.6,
    }
    shown = suppress_effects_row(row)
    assert shown["comparison_reoffenders"] == SUPPRESSED
    assert shown["risk_difference"] == WITHHELD and shown["rr_low"] is None
