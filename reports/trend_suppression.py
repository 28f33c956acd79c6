"""Secondary suppression across every view of the trends page (SPEC §6).

The trends page shows one borough at a time, or all boroughs, but anyone can open every view.
So a borough's hidden week could be worked out as ``ALL`` minus the other boroughs' weeks,
unless the views are suppressed together. This module suppresses the weekly series of every
borough and ``ALL`` at once, with the report's own rule (``reports.disclosure.protect``): each
week and each count (encounters, diverted, declined, completed, did not attend), ``ALL`` is the
sum of its boroughs, and further cells are hidden as ``[c]`` until no hidden cell can be worked
out exactly. A rate is then withheld when either of its terms is hidden.

A borough that could not divert anyone in a week (a comparison borough, or a pilot outside its
dates) has 0 diverted, declined, completed and did not attend that week, and anyone who knows
the rules knows it: those zeros are left out of the relations, since hiding one protects
nothing. Encounters in a borough whose role is now ``none`` are in ``ALL`` but in no borough's view;
when there are any, ``ALL`` minus the boroughs shown is that remainder, which is never shown,
so it is a hidden cell of the relation (protected like a small count).
"""

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from reports import disclosure
from reports.suppression import SECONDARY, SUPPRESSED, WITHHELD, is_hidden, is_suppressed

ALL = "ALL"
REMAINDER = "remainder"  # encounters in boroughs with no view of their own; never shown
WEEK_COUNTS = ("encounters", "diverted", "declined", "completed", "did_not_attend")
DIVERSION_COUNTS = WEEK_COUNTS[1:]  # 0 wherever diversion was not offered
# Each rate and the counts it is made from: a rate beside a hidden term would give it away.
WEEK_RATES = (
    ("acceptance_rate", ("diverted", "declined")),
    ("completion_rate", ("completed", "did_not_attend")),
)

Key = tuple[int, str, str]  # (week's position, borough or ALL or REMAINDER, count)


def _remainders(series: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[Key, int]:
    """``ALL`` minus its boroughs, per week and count, where it is not 0."""
    boroughs = [code for code in series if code != ALL]
    out = {}
    for i, row in enumerate(series[ALL]):
        for field in WEEK_COUNTS:
            rest = row[field] - sum(series[code][i][field] for code in boroughs)
            if rest:
                out[(i, REMAINDER, field)] = rest
    return out


def _known_zero(key: Key, value: int, no_diversion: Collection[tuple[int, str]]) -> bool:
    i, code, field = key
    return value == 0 and field in DIVERSION_COUNTS and (i, code) in no_diversion


def weekly_hidden(
    series: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    no_diversion: Collection[tuple[int, str]] = (),
) -> dict[Key, str]:
    """Return every hidden weekly cell with its marker, ``<5`` or ``[c]``.

    ``series`` maps each borough's code and ``ALL`` to its unsuppressed weekly rows, every
    series the same weeks in the same order; ``no_diversion`` lists the (week's position,
    borough) pairs in which the borough could not divert anyone.
    """
    codes = sorted(code for code in series if code != ALL)
    values: dict[Key, int] = {
        (i, code, field): int(row[field])
        for code in [*codes, ALL]
        for i, row in enumerate(series[code])
        for field in WEEK_COUNTS
    }
    values = {k: v for k, v in values.items() if not _known_zero(k, v, no_diversion)}
    remainders = _remainders(series)
    values.update(remainders)
    relations = [
        {
            key: coefficient
            for key, coefficient in (
                ((i, ALL, field), 1),
                *(((i, code, field), -1) for code in [*codes, REMAINDER]),
            )
            if key in values
        }
        for i in range(len(series[ALL]))
        for field in WEEK_COUNTS
    ]
    primary = {key for key, value in values.items() if is_suppressed(value)}
    protection = disclosure.protect(
        order=sorted(values), values=values, primary=primary | set(remainders), relations=relations
    )
    return {
        key: SUPPRESSED if key in primary else SECONDARY
        for key in protection.hidden
        if key[1] != REMAINDER
    }


def shown_week(row: Mapping[str, Any], hidden: Mapping[str, str]) -> dict[str, Any]:
    """Return one week as people see it: ``hidden`` maps a hidden count to its marker."""
    out = dict(row)
    out.update(hidden)
    for rate, terms in WEEK_RATES:
        # Even "not applicable" is withheld: it says that the hidden terms add up to 0.
        if any(is_hidden(out[term]) for term in terms):
            out[rate] = WITHHELD
    return out


def suppress_weekly(
    series: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    borough: str,
    no_diversion: Collection[tuple[int, str]] = (),
) -> list[dict[str, Any]]:
    """Return ``borough``'s weekly rows suppressed together with every other view's."""
    by_cell: dict[tuple[int, str], dict[str, str]] = {}
    for (i, code, field), marker in weekly_hidden(series, no_diversion=no_diversion).items():
        by_cell.setdefault((i, code), {})[field] = marker
    return [shown_week(row, by_cell.get((i, borough), {})) for i, row in enumerate(series[borough])]
