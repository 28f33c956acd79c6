"""Decide whether an encounter is eligible for diversion (SPEC section 3).

A pure module: it knows nothing about the database or the request, so the same facts always
give the same decision, and the rules can be tested as a table of cases. A service gathers the
facts, calls `assess` and stores the result.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# The vocabularies are plain enums with labels, shared with the models; importing them touches
# no database and no settings.
# Re-exported (``as``) so callers keep naming them ``eligibility.Decision`` and so on.
from boroughs.choices import BoroughRole as BoroughRole
from diversion.choices import EXCLUSION_PREFIX as EXCLUSION_PREFIX
from diversion.choices import Decision as Decision
from diversion.choices import LeapDayRule as LeapDayRule
from diversion.choices import Reason as Reason

# Reasons are always reported in this order, then `exclusion:<code>` in the order given.
REASON_ORDER: tuple[str, ...] = tuple(reason.value for reason in Reason)

SUBSTANCE_LABELS: Mapping[str, str] = {
    "cannabis_herbal": "herbal cannabis",
    "cannabis_resin": "cannabis resin",
}


class BoroughNotTakingPart(ValueError):
    """An encounter in a borough whose role is `none` is refused."""


@dataclass(frozen=True)
class Policy:
    """One version of the eligibility policy, as configured by admins."""

    version: int
    min_age: int
    max_age: int
    # Eligible substance -> maximum grams, inclusive; a substance not in here is not eligible.
    quantity_limits: Mapping[str, Decimal]
    prior_diversion_months: int
    leap_day_rule: LeapDayRule = LeapDayRule.MARCH_1


@dataclass(frozen=True)
class Facts:
    """Everything the decision depends on, gathered by the caller."""

    date_of_birth: date
    encounter_date: date
    substance: str
    quantity_grams: Decimal
    exclusions: tuple[str, ...]  # factor codes in the order given
    # Dates of the person's other encounters decided diverted; `assess` applies the window.
    previous_diversion_dates: tuple[date, ...]
    borough_role: BoroughRole | str
    pilot_start: date | None
    pilot_end: date | None
    accepted: bool | None  # None: not yet asked, or not applicable


@dataclass(frozen=True)
class Assessment:
    """The decision, every broken rule, and the age it was judged on."""

    decision: Decision
    reasons: tuple[str, ...]
    age: int

    @property
    def offered(self) -> bool:
        """Return whether diversion was offered, whatever the answer."""
        return self.decision in (Decision.DIVERTED, Decision.DECLINED, Decision.OFFERED)


def age_on(date_of_birth: date, day: date, leap_day_rule: LeapDayRule = LeapDayRule.MARCH_1) -> int:
    """Return the age in completed years on `day`.

    A 29 February birth has no birthday in a non-leap year, so `leap_day_rule` says which day
    stands in for it.
    """
    if day < date_of_birth:
        raise ValueError("The date of birth must be on or before the day the age is taken on")
    birthday = (date_of_birth.month, date_of_birth.day)
    if birthday == (2, 29) and not calendar.isleap(day.year):
        birthday = (3, 1) if leap_day_rule == LeapDayRule.MARCH_1 else (2, 28)
    had_birthday = (day.month, day.day) >= birthday
    return day.year - date_of_birth.year - (0 if had_birthday else 1)


def _shift_months(day: date, months: int) -> date:
    """Move `day` by whole months, clamping to the end of a shorter month."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def subtract_months(day: date, months: int) -> date:
    """Return `day` less `months` months; 31 March less 1 month is 28 or 29 February."""
    return _shift_months(day, -months)


def add_months(day: date, months: int) -> date:
    """Return `day` plus `months` months; 31 January plus 1 month is 28 or 29 February."""
    return _shift_months(day, months)


def in_pilot(
    role: BoroughRole | str, pilot_start: date | None, pilot_end: date | None, day: date
) -> bool:
    """Return whether `day` falls in a pilot borough's pilot dates (both inclusive).

    A pilot borough with no start date has not started, and one with no end date runs on.
    """
    if role != BoroughRole.PILOT or pilot_start is None or day < pilot_start:
        return False
    return pilot_end is None or day <= pilot_end


def _check_quantity(quantity: Decimal) -> None:
    """Refuse a quantity that cannot be judged against a limit."""
    if (isinstance(quantity, Decimal) and quantity.is_nan()) or quantity <= 0:
        raise ValueError("The amount must be more than 0 grams")


def reasons_for(facts: Facts, policy: Policy) -> tuple[str, ...]:
    """Return every rule the facts break, in `REASON_ORDER` then exclusions as given."""
    _check_quantity(facts.quantity_grams)
    age = age_on(facts.date_of_birth, facts.encounter_date, policy.leap_day_rule)
    reasons: list[str] = []
    if age < policy.min_age:
        reasons.append(Reason.AGE_UNDER_MIN.value)
    if age > policy.max_age:
        reasons.append(Reason.AGE_OVER_MAX.value)
    limit = policy.quantity_limits.get(facts.substance)
    if limit is None:
        # Quantity limits only exist for eligible substances, so there is nothing to check.
        reasons.append(Reason.SUBSTANCE_NOT_ELIGIBLE.value)
    elif facts.quantity_grams > limit:
        reasons.append(Reason.QUANTITY_OVER_LIMIT.value)
    window_start = subtract_months(facts.encounter_date, policy.prior_diversion_months)
    if any(window_start < d <= facts.encounter_date for d in facts.previous_diversion_dates):
        reasons.append(Reason.RECENT_DIVERSION.value)
    reasons.extend(EXCLUSION_PREFIX + code for code in dict.fromkeys(facts.exclusions))
    return tuple(reasons)


def assess(facts: Facts, policy: Policy) -> Assessment:
    """Decide an encounter: ineligible, diverted, declined, offered or not offered.

    Raise `BoroughNotTakingPart` for a borough outside the pilot and its comparison group,
    before anything else, because such an encounter must not be recorded at all.
    """
    try:
        role = BoroughRole(facts.borough_role)
    except ValueError:
        raise ValueError(
            f"The borough role must be pilot, comparison or none, not {facts.borough_role!r}"
        ) from None
    if role == BoroughRole.NONE:
        raise BoroughNotTakingPart(
            "This borough is not taking part in the diversion pilot, so encounters cannot be "
            "recorded there"
        )
    if facts.date_of_birth >= facts.encounter_date:
        raise ValueError("The date of birth must be before the encounter date")
    reasons = reasons_for(facts, policy)
    age = age_on(facts.date_of_birth, facts.encounter_date, policy.leap_day_rule)
    if reasons:
        decision = Decision.INELIGIBLE
    elif not in_pilot(role, facts.pilot_start, facts.pilot_end, facts.encounter_date):
        # Comparison boroughs, and pilot boroughs outside their dates, never divert.
        decision = Decision.NOT_OFFERED
    elif facts.accepted is None:
        decision = Decision.OFFERED
    else:
        decision = Decision.DIVERTED if facts.accepted else Decision.DECLINED
    return Assessment(decision=decision, reasons=reasons, age=age)


def grams(amount: Decimal) -> str:
    """Format grams without trailing zeros or exponents: 25, 2.5, 250."""
    return f"{amount.normalize():f}"


def substance_label(code: str) -> str:
    """Return a substance's name as it reads in a sentence."""
    return SUBSTANCE_LABELS.get(code, code.replace("_", " "))


def describe_reason(
    code: str,
    policy: Policy,
    exclusion_labels: Mapping[str, str] | None = None,
    *,
    substance: str | None = None,
) -> str:
    """Return a reason code in plain English for officers.

    Pass `substance` to name the one limit that was broken rather than listing every limit.
    """
    if code.startswith(EXCLUSION_PREFIX):
        factor = code.removeprefix(EXCLUSION_PREFIX)
        return f"Exclusion: {(exclusion_labels or {}).get(factor, factor)}"
    if code == Reason.AGE_UNDER_MIN:
        return f"Under {policy.min_age} on the encounter date"
    if code == Reason.AGE_OVER_MAX:
        return f"{policy.max_age + 1} or older on the encounter date"
    if code == Reason.SUBSTANCE_NOT_ELIGIBLE:
        names = " or ".join(substance_label(s) for s in policy.quantity_limits)
        return f"The substance is not {names}" if names else "No substance is eligible"
    if code == Reason.QUANTITY_OVER_LIMIT:
        if substance is not None and substance in policy.quantity_limits:
            limit = grams(policy.quantity_limits[substance])
            return f"The amount is over the {limit} g limit for {substance_label(substance)}"
        limits = ", ".join(
            f"{grams(limit)} g for {substance_label(s)}"
            for s, limit in policy.quantity_limits.items()
        )
        return f"The amount is over the limit ({limits})"
    if code == Reason.RECENT_DIVERSION:
        months = policy.prior_diversion_months
        return f"Diverted in the {months} month{'' if months == 1 else 's'} before this encounter"
    raise ValueError(f"Unknown reason code {code!r}")
