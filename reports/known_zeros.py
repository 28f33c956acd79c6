"""Report cells the rules fix at 0, which anyone who knows the rules can read (SPEC §3, §4, §6).

Diversion is offered only in a pilot borough on a day within its pilot dates, and every
referral comes from a diverted encounter, counted under the borough of that encounter. So a
borough that could not divert on any day of the week (a comparison borough, or a pilot outside
its dates) has 0 diverted and 0 declined that week, and a pilot borough that could not divert on
any day up to the period end has 0 in every referral count. Borough roles and pilot dates are
public. Such a 0 hides nobody and protects nobody: secondary suppression must never use it as
cover (it would be a ``[c]`` everyone can fill in), so the audit treats it as shown.

``ALL`` is left alone: it also counts encounters in boroughs whose role has since changed.
"""

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from boroughs.models import Borough
from diversion.eligibility import in_pilot

ALL = "ALL"
Window = tuple[str, date | None, date | None]  # role, pilot start, pilot end
CellKey = tuple[str, int, str]  # (section, position in the section's list, field)
WEEK_ZEROS = ("diverted", "declined")
REFERRAL_ZEROS = ("referred", "attended", "completed", "did_not_attend", "withdrawn", "open")


def could_divert(window: Window, first: date | None, last: date) -> bool:
    """Say whether a borough was piloting on any day from ``first`` (None: ever) to ``last``."""
    role, start, end = window
    if not in_pilot(role, start, None, last) or start is None:
        return False
    return end is None or first is None or end >= first


def _borough_rows(data: Mapping[str, Any], section: str) -> list[tuple[int, Mapping[str, Any]]]:
    rows = data.get(section) or []
    return [(i, row) for i, row in enumerate(rows) if row.get("borough") not in (None, ALL)]


def candidate_boroughs(data: Mapping[str, Any]) -> set[str]:
    """Boroughs with a 0 in a count the rules could fix: only theirs need looking up.

    None without the report's period, since then nothing can be placed against pilot dates.
    """
    if _period(data) is None:
        return set()
    fields = {"activity": WEEK_ZEROS, "referrals": REFERRAL_ZEROS}
    return {
        str(row["borough"])
        for section, names in fields.items()
        for _, row in _borough_rows(data, section)
        if any(row.get(name) == 0 for name in names)
    }


def borough_windows(codes: Collection[str]) -> dict[str, Window]:
    """Read the role and pilot dates of some boroughs (one query; none when ``codes`` is empty)."""
    if not codes:
        return {}
    rows = Borough.objects.filter(gss_code__in=list(codes)).values_list(
        "gss_code", "role", "pilot_start", "pilot_end"
    )
    return {code: (role, start, end) for code, role, start, end in rows}


def _period(data: Mapping[str, Any]) -> tuple[date, date] | None:
    try:
        return date.fromisoformat(data["period_start"]), date.fromisoformat(data["period_end"])
    except (KeyError, TypeError, ValueError):
        return None


def known_zero_cells(data: Mapping[str, Any], windows: Mapping[str, Window]) -> set[CellKey]:
    """Return the report's cells that are 0 and that the rules fix at 0 (see the module)."""
    period = _period(data)
    if period is None:
        return set()
    monday, sunday = period
    known: set[CellKey] = set()
    for section, names, first in (
        ("activity", WEEK_ZEROS, monday),
        ("referrals", REFERRAL_ZEROS, None),
    ):
        for i, row in _borough_rows(data, section):
            window = windows.get(str(row["borough"]))
            if window is None or could_divert(window, first, sunday):
                continue
            known |= {(section, i, name) for name in names if row.get(name) == 0}
    return known
