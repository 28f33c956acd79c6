"""Small-number suppression for the human-facing renderings (SPEC §6).

Any count from 1 to 4 is shown as ``<5`` (0 stays 0, since "nobody" discloses no one), and a
rate whose numerator or denominator is suppressed is withheld together with its confidence
interval. The JSON rendering is the internal data product and never passes through here.

Every function is pure: it takes the SPEC §6 rows (plain dicts) and returns new dicts whose
values are ready to show: ``int`` for a count that may be shown, ``"<5"`` for a suppressed count,
``float`` for a rate that may be shown, ``WITHHELD`` for a withheld rate and ``None`` for a rate
that does not exist (nothing to divide by).
"""

from collections.abc import Iterable, Mapping
from typing import Any

SUPPRESSED = "<5"
WITHHELD = "withheld"
THRESHOLD = 5

SUPPRESSION_NOTE = (
    "To protect the people counted, numbers from 1 to 4 are shown as <5, and a rate whose "
    "numerator or denominator is fewer than 5 is withheld with its confidence interval."
)

ACTIVITY_COUNTS = ("encounters", "diverted", "declined", "not_offered", "ineligible")
REFERRAL_COUNTS = ("referred", "attended", "completed", "did_not_attend", "withdrawn", "open")
REOFFENDING_COUNTS = ("cohort_size", "reoffenders", "reoffences")
DISPROPORTIONALITY_COUNTS = (
    "offers",
    "diversions",
    "completions",
    "reoffending_12m_cohort",
    "reoffending_12m_reoffenders",
)

Cell = int | float | str | None


def is_suppressed(count: int | None) -> bool:
    """Say whether a count is small enough (1 to 4) to identify someone."""
    return count is not None and 0 < count < THRESHOLD


def suppress_count(count: int | None) -> int | str | None:
    """Return the count to show: ``<5`` for 1 to 4, the count itself otherwise."""
    return SUPPRESSED if is_suppressed(count) else count


def rate_withheld(*, numerator: int | None, denominator: int | None) -> bool:
    """Say whether a rate must be withheld because a count it is made from is suppressed."""
    return is_suppressed(numerator) or is_suppressed(denominator)


def suppress_rate(
    rate: float | None, *, numerator: int | None, denominator: int | None
) -> float | str | None:
    """Return the rate to show: ``WITHHELD`` when its numerator or denominator is suppressed."""
    if rate is None:
        return None
    return WITHHELD if rate_withheld(numerator=numerator, denominator=denominator) else rate


def _counts(row: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    out = dict(row)
    for key in keys:
        if key in out:
            out[key] = suppress_count(out[key])
    return out


def suppress_activity_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``activity`` row."""
    return _counts(row, ACTIVITY_COUNTS)


def suppress_reason_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``ineligibility_reasons`` row."""
    return _counts(row, ("count",))


def suppress_referral_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``referrals`` row; its rate is completed / (completed + did not attend)."""
    out = _counts(row, REFERRAL_COUNTS)
    completed = row.get("completed") or 0
    denominator = completed + (row.get("did_not_attend") or 0)
    out["completion_rate"] = suppress_rate(
        row.get("completion_rate"), numerator=completed, denominator=denominator
    )
    return out


def suppress_reoffending_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``reoffending`` row; the interval goes with the rate."""
    out = _counts(row, REOFFENDING_COUNTS)
    withheld = rate_withheld(numerator=row.get("reoffenders"), denominator=row.get("cohort_size"))
    for key in ("rate", "ci_low", "ci_high"):
        value = row.get(key)
        out[key] = WITHHELD if withheld and value is not None else value
    return out


def suppress_disproportionality_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one disproportionality row; the 12-month rate is reoffenders / cohort."""
    out = _counts(row, DISPROPORTIONALITY_COUNTS)
    out["reoffending_12m_rate"] = suppress_rate(
        row.get("reoffending_12m_rate"),
        numerator=row.get("reoffending_12m_reoffenders"),
        denominator=row.get("reoffending_12m_cohort"),
    )
    return out


def suppress_report(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of the SPEC §6 JSON with every section suppressed for people to read."""
    return {
        **data,
        "activity": [suppress_activity_row(r) for r in data.get("activity", [])],
        "ineligibility_reasons": [
            suppress_reason_row(r) for r in data.get("ineligibility_reasons", [])
        ],
        "referrals": [suppress_referral_row(r) for r in data.get("referrals", [])],
        "reoffending": [suppress_reoffending_row(r) for r in data.get("reoffending", [])],
        "effects": [suppress_effects_row(r) for r in data.get("effects", [])],
    }


EFFECTS_COUNTS = (
    "diverted_size",
    "diverted_reoffenders",
    "comparison_size",
    "comparison_reoffenders",
)
EFFECTS_ESTIMATES = ("risk_difference", "rd_low", "rd_high", "relative_risk", "rr_low", "rr_high")


def suppress_effects_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Suppress one ``effects`` row: every estimate is withheld if any of its counts is.

    Each estimate is built from all four counts, so one small count is enough to withhold
    them all (SPEC §6). A relative risk that does not exist (no reoffender in a group) stays
    None, as a rate with nothing to divide by does.
    """
    out = _counts(row, EFFECTS_COUNTS)
    withheld = any(is_suppressed(row.get(key)) for key in EFFECTS_COUNTS)
    for key in EFFECTS_ESTIMATES:
        value = row.get(key)
        out[key] = WITHHELD if withheld and value is not None else value
    return out
