"""The effect estimates' arithmetic (SPEC §6), checked against published and hand-worked values.

Every expected value here was also reproduced by a second, deliberately different computation:
Wilson bounds found by bisection on the score equation (p̂ - p)² = z²p(1 - p)/n rather than by
the closed form, and the Katz interval as RR · exp(±z·se) rather than exp(ln RR ± z·se).
"""

import json
import math

import pytest

from reports.measure import wilson_interval
from reports.statistics import (
    effect_estimates,
    katz_relative_risk,
    newcombe_difference,
    round_figure,
    wilson_bounds,
)


def rounded(values) -> tuple[float, ...]:
    return tuple(round(v, 4) for v in values)


@pytest.mark.parametrize(
    ("r1", "n1", "r0", "n0", "expected"),
    [
        # Newcombe (1998), Table II, method 10, examples (a) to (h) with z = 1.96.
        (56, 70, 48, 80, (0.2, 0.0524, 0.3339)),
        (9, 10, 3, 10, (0.6, 0.1705, 0.809)),
        # The paper prints 0.8062 as the upper limit, from z = 1.959964; SPEC's z = 1.96 gives
        # 0.8063 (bisection agrees).
        (6, 7, 2, 7, (0.5714, 0.0582, 0.8063)),
        (5, 56, 0, 29, (0.0893, -0.0381, 0.1926)),
        (0, 10, 0, 20, (0.0, -0.1611, 0.2775)),
        (0, 10, 0, 10, (0.0, -0.2775, 0.2775)),
        (10, 10, 0, 20, (1.0, 0.6791, 1.0)),
        (10, 10, 0, 10, (1.0, 0.6075, 1.0)),
    ],
)
def test_newcombe_difference_matches_the_published_examples(r1, n1, r0, n0, expected):
    assert rounded(newcombe_difference(r1=r1, n1=n1, r0=r0, n0=n0)) == expected


def test_newcombe_interval_is_built_from_unrounded_wilson_bounds():
    """1/5 against 1/10 gives -0.2454 to 0.5323; rounding the Wilson bounds first would give
    -0.2455 to 0.5324."""
    p1, p0 = 1 / 5, 1 / 10
    (l1, u1), (l0, u0) = wilson_interval(1, 5), wilson_interval(1, 10)
    from_rounded = (
        p1 - p0 - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2),
        p1 - p0 + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2),
    )
    assert rounded(from_rounded) == (-0.2455, 0.5324)
    assert rounded(newcombe_difference(r1=1, n1=5, r0=1, n0=10)) == (0.1, -0.2454, 0.5323)


def test_wilson_bounds_are_the_unrounded_interval_the_report_rounds():
    low, high = wilson_bounds(5, 40)
    assert (round(low, 4), round(high, 4)) == wilson_interval(5, 40) == (0.0546, 0.2611)
    assert low != round(low, 4)
    assert wilson_bounds(0, 10)[0] == 0.0
    assert wilson_bounds(10, 10)[1] == 1.0


def test_katz_relative_risk_matches_a_hand_computation():
    """56/70 against 48/80: RR 4/3, se = sqrt(1/56 - 1/70 + 1/48 - 1/80) = 0.11028."""
    assert rounded(katz_relative_risk(r1=56, n1=70, r0=48, n0=80)) == (1.3333, 1.0766, 1.6513)


def test_katz_group_where_everyone_reoffended_adds_no_variance():
    """1/r - 1/n is 0 when r = n; with both groups so, the interval is the point itself."""
    assert rounded(katz_relative_risk(r1=10, n1=10, r0=5, n0=10)) == (2.0, 1.0761, 3.7171)
    assert katz_relative_risk(r1=10, n1=10, r0=10, n0=10) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(("r1", "r0"), [(0, 4), (4, 0), (0, 0)])
def test_relative_risk_is_null_with_no_reoffender_but_the_difference_is_still_given(r1, r0):
    estimates = effect_estimates(r1=r1, n1=20, r0=r0, n0=20)
    assert katz_relative_risk(r1=r1, n1=20, r0=r0, n0=20) is None
    assert (estimates["relative_risk"], estimates["rr_low"], estimates["rr_high"]) == (None,) * 3
    assert estimates["risk_difference"] == round((r1 - r0) / 20, 4)
    assert estimates["rd_low"] < estimates["risk_difference"] <= estimates["rd_high"]


def test_effect_estimates_give_the_spec_worked_check():
    assert effect_estimates(r1=56, n1=70, r0=48, n0=80) == {
        "risk_difference": 0.2,
        "rd_low": 0.0524,
        "rd_high": 0.3339,
        "relative_risk": 1.3333,
        "rr_low": 1.0766,
        "rr_high": 1.6513,
    }


def test_everyone_reoffending_in_both_groups_gives_no_difference_and_a_ratio_of_one():
    estimates = effect_estimates(r1=7, n1=7, r0=12, n0=12)
    assert estimates == {
        "risk_difference": 0.0,
        "rd_low": -0.3543,
        "rd_high": 0.2425,
        "relative_risk": 1.0,
        "rr_low": 1.0,
        "rr_high": 1.0,
    }


def test_a_difference_that_rounds_to_nothing_is_written_as_zero_not_minus_zero():
    """1/30000 - 1/20000 is -0.0000167: it rounds to 0.0, and JSON must say 0.0."""
    estimates = effect_estimates(r1=1, n1=30000, r0=1, n0=20000)
    assert estimates["risk_difference"] == 0.0
    assert math.copysign(1.0, estimates["risk_difference"]) == 1.0
    assert '"risk_difference": 0.0' in json.dumps(estimates)
    assert json.dumps(round_figure(-0.00004)) == "0.0"
    assert round_figure(-0.00006) == -0.0001
