"""Interval arithmetic for the report's rates and effects (SPEC §5 and §6), with no database.

Every function works on a few counts the database has already aggregated and returns unrounded
floats, except ``effect_estimates``, which rounds its results to 4 places at the very end: SPEC
§6 asks for rounding from unrounded intermediates, so nothing here rounds twice.
"""

import math

Z = 1.96  # two-sided 95%
PLACES = 4


def round_figure(value: float) -> float:
    """Round to 4 places, writing a result that rounds to nothing as 0.0, never -0.0."""
    rounded = round(value, PLACES)
    return 0.0 if rounded == 0 else rounded


def wilson_bounds(successes: int, n: int, *, z: float = Z) -> tuple[float, float]:
    """Return the unrounded Wilson score interval for successes / n (n > 0), within 0 and 1."""
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(
    *, r1: int, n1: int, r0: int, n0: int, z: float = Z
) -> tuple[float, float, float]:
    """Return p1 - p0 and its hybrid score interval (Newcombe 1998, method 10), unrounded.

    Built from the two groups' Wilson intervals, so it stays within -1 and 1 and behaves at
    0% and 100%, where the simple Wald interval collapses to a point.
    """
    p1, p0 = r1 / n1, r0 / n0
    l1, u1 = wilson_bounds(r1, n1, z=z)
    l0, u0 = wilson_bounds(r0, n0, z=z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return d, low, high


def katz_relative_risk(
    *, r1: int, n1: int, r0: int, n0: int, z: float = Z
) -> tuple[float, float, float] | None:
    """Return p1 / p0 and its Katz log interval, unrounded; None when r1 or r0 is 0.

    With no reoffender in a group the ratio is 0 or infinite and its logarithm undefined,
    so SPEC §6 reports nothing rather than a misleading number. A group where everyone
    reoffended adds nothing to the variance (1/r - 1/n is 0).
    """
    if r1 == 0 or r0 == 0:
        return None
    rr = (r1 / n1) / (r0 / n0)
    se = math.sqrt(max(0.0, 1 / r1 - 1 / n1 + 1 / r0 - 1 / n0))
    log_rr = math.log(rr)
    return rr, math.exp(log_rr - z * se), math.exp(log_rr + z * se)


def effect_estimates(*, r1: int, n1: int, r0: int, n0: int) -> dict[str, float | None]:
    """Return an ``effects`` row's estimates, each rounded to 4 places (n1 and n0 > 0)."""
    d, rd_low, rd_high = newcombe_difference(r1=r1, n1=n1, r0=r0, n0=n0)
    relative = katz_relative_risk(r1=r1, n1=n1, r0=r0, n0=n0)
    rr, rr_low, rr_high = (round_figure(v) for v in relative) if relative else (None,) * 3
    return {
        "risk_difference": round_figure(d),
        "rd_low": round_figure(rd_low),
        "rd_high": round_figure(rd_high),
        "relative_risk": rr,
        "rr_low": rr_low,
        "rr_high": rr_high,
    }
