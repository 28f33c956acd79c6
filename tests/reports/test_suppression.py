"""Small numbers are suppressed in what people read; the JSON keeps them (SPEC §6)."""

import pytest

from reports.suppression import (
    SUPPRESSED,
    WITHHELD,
    is_suppressed,
    rate_withheld,
    suppress_activity_row,
    suppress_count,
    suppress_disproportionality_row,
    suppress_rate,
    suppress_reason_row,
    suppress_referral_row,
    suppress_reoffending_row,
    suppress_report,
)


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
