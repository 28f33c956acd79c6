"""The eligibility rules of SPEC section 3, as tables of cases with no database."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from diversion.eligibility import (
    REASON_ORDER,
    Assessment,
    BoroughNotTakingPart,
    BoroughRole,
    Decision,
    Facts,
    LeapDayRule,
    Policy,
    add_months,
    age_on,
    assess,
    describe_reason,
    in_pilot,
    reasons_for,
    subtract_months,
)

POLICY = Policy(
    version=1,
    min_age=18,
    max_age=24,
    quantity_limits={"cannabis_herbal": Decimal("25"), "cannabis_resin": Decimal("5")},
    prior_diversion_months=12,
)
FEB_28_POLICY = replace(POLICY, leap_day_rule=LeapDayRule.FEBRUARY_28)
ONE_MONTH_POLICY = replace(POLICY, prior_diversion_months=1)

PILOT_START = date(2025, 3, 1)
PILOT_END = date(2025, 8, 31)

# Aged 21, 10 g of herbal cannabis, nothing against them, in a running pilot: diverted.
BASE = Facts(
    date_of_birth=date(2003, 6, 15),
    encounter_date=date(2025, 6, 14),
    substance="cannabis_herbal",
    quantity_grams=Decimal("10"),
    exclusions=(),
    previous_diversion_dates=(),
    borough_role=BoroughRole.PILOT,
    pilot_start=PILOT_START,
    pilot_end=PILOT_END,
    accepted=True,
)
LEAP_BIRTH = date(2004, 2, 29)  # 18th birthday in 2022 and 25th in 2029, both non-leap years

OK = Decision.DIVERTED
NO = Decision.INELIGIBLE


def case(
    case_id: str,
    decision: Decision,
    reasons: tuple[str, ...] = (),
    policy: Policy = POLICY,
    **changes: Any,
) -> Any:
    """Build one row of the decision table: BASE with `changes`, judged under `policy`."""
    return pytest.param(replace(BASE, **changes), policy, decision, reasons, id=case_id)


DECISION_CASES = [
    case("base-case-diverted", OK),
    # Age on the encounter date, at both edges.
    case("18th-birthday-on-the-day", OK, date_of_birth=date(2007, 6, 14)),
    case("day-before-18th-birthday", NO, ("age_under_min",), date_of_birth=date(2007, 6, 15)),
    case("25th-birthday-on-the-day", NO, ("age_over_max",), date_of_birth=date(2000, 6, 14)),
    case("day-before-25th-birthday", OK, date_of_birth=date(2000, 6, 15)),
    # 29 February births: 18th birthday in 2022 and 25th in 2029, both non-leap years.
    case(
        "leap-birth-28-feb-under-march-1-rule-still-17",
        NO,
        ("age_under_min",),
        date_of_birth=LEAP_BIRTH,
        encounter_date=date(2022, 2, 28),
        borough_role=BoroughRole.COMPARISON,
    ),
    case(
        "leap-birth-1-mar-under-march-1-rule-18",
        Decision.NOT_OFFERED,
        date_of_birth=LEAP_BIRTH,
        encounter_date=date(2022, 3, 1),
        borough_role=BoroughRole.COMPARISON,
    ),
    case(
        "leap-birth-28-feb-under-february-28-rule-18",
        Decision.NOT_OFFERED,
        policy=FEB_28_POLICY,
        date_of_birth=LEAP_BIRTH,
        encounter_date=date(2022, 2, 28),
        borough_role=BoroughRole.COMPARISON,
    ),
    case(
        "leap-birth-27-feb-under-february-28-rule-17",
        NO,
        ("age_under_min",),
        policy=FEB_28_POLICY,
        date_of_birth=LEAP_BIRTH,
        encounter_date=date(2022, 2, 27),
        borough_role=BoroughRole.COMPARISON,
    ),
    case(
        "leap-birth-28-feb-2029-under-march-1-rule-24",
        Decision.NOT_OFFERED,
        date_of_birth=LEAP_BIRTH,
        encounter_date=date(2029, 2, 28),
        borough_role=BoroughRole.COMPARISON,
    ),
    case(
        "leap-birth-1-mar-2029-under-march-1-rule-25",
        NO,
        ("age_over_max",),
        date_of_birth=LEAP_BIRTH,
        encounter_date=date(2029, 3, 1),
        borough_role=BoroughRole.COMPARISON,
    ),
    case(
        "leap-birth-28-feb-2029-under-february-28-rule-25",
        NO,
        ("age_over_max",),
        policy=FEB_28_POLICY,
        date_of_birth=LEAP_BIRTH,
        encounter_date=date(2029, 2, 28),
        borough_role=BoroughRole.COMPARISON,
    ),
    # Quantity limits are inclusive and only apply to the two cannabis substances.
    case("herbal-at-limit", OK, quantity_grams=Decimal("25")),
    case("herbal-at-limit-3-dp", OK, quantity_grams=Decimal("25.000")),
    case("herbal-0.001-g-over", NO, ("quantity_over_limit",), quantity_grams=Decimal("25.001")),
    case("resin-at-limit", OK, substance="cannabis_resin", quantity_grams=Decimal("5")),
    case(
        "resin-0.001-g-over",
        NO,
        ("quantity_over_limit",),
        substance="cannabis_resin",
        quantity_grams=Decimal("5.001"),
    ),
    case(
        "herbal-amount-is-fine-for-herbal-but-over-resin-limit",
        NO,
        ("quantity_over_limit",),
        substance="cannabis_resin",
        quantity_grams=Decimal("10"),
    ),
    case("other-substance-small", NO, ("substance_not_eligible",), substance="other"),
    case(
        "other-substance-large-never-over-limit",
        NO,
        ("substance_not_eligible",),
        substance="other",
        quantity_grams=Decimal("1000"),
    ),
    # The prior-diversion window: (encounter date - 12 months) < d <= encounter date.
    case("diverted-exactly-12-months-before", OK, previous_diversion_dates=(date(2024, 6, 14),)),
    case(
        "diverted-12-months-less-a-day-before",
        NO,
        ("recent_diversion",),
        previous_diversion_dates=(date(2024, 6, 15),),
    ),
    case(
        "diverted-same-day",
        NO,
        ("recent_diversion",),
        previous_diversion_dates=(date(2025, 6, 14),),
    ),
    case("diverted-after-encounter", OK, previous_diversion_dates=(date(2025, 6, 15),)),
    case(
        "old-and-future-diversions-only",
        OK,
        previous_diversion_dates=(date(2020, 1, 1), date(2024, 6, 14), date(2026, 1, 1)),
    ),
    case(
        "one-recent-among-old-diversions",
        NO,
        ("recent_diversion",),
        previous_diversion_dates=(date(2020, 1, 1), date(2025, 1, 1)),
    ),
    case(
        "one-month-window-31-march-edge-28-feb",
        OK,
        policy=ONE_MONTH_POLICY,
        encounter_date=date(2025, 3, 31),
        previous_diversion_dates=(date(2025, 2, 28),),
    ),
    case(
        "one-month-window-31-march-counts-1-march",
        NO,
        ("recent_diversion",),
        policy=ONE_MONTH_POLICY,
        encounter_date=date(2025, 3, 31),
        previous_diversion_dates=(date(2025, 3, 1),),
    ),
    case(
        "one-month-window-31-march-leap-year-edge-29-feb",
        OK,
        policy=ONE_MONTH_POLICY,
        encounter_date=date(2024, 3, 31),
        pilot_start=date(2024, 1, 1),
        previous_diversion_dates=(date(2024, 2, 29),),
    ),
    case(
        "encounter-29-feb-edge-is-28-feb-a-year-before",
        OK,
        encounter_date=date(2024, 2, 29),
        pilot_start=date(2024, 1, 1),
        previous_diversion_dates=(date(2023, 2, 28),),
    ),
    case(
        "encounter-29-feb-counts-1-march-a-year-before",
        NO,
        ("recent_diversion",),
        encounter_date=date(2024, 2, 29),
        pilot_start=date(2024, 1, 1),
        previous_diversion_dates=(date(2023, 3, 1),),
    ),
    case(
        "encounter-28-feb-counts-29-feb-a-year-before",
        NO,
        ("recent_diversion",),
        encounter_date=date(2025, 2, 28),
        pilot_start=date(2024, 1, 1),
        previous_diversion_dates=(date(2024, 2, 29),),
    ),
    # Exclusion factors, in the order given, exact duplicates once.
    case("one-exclusion", NO, ("exclusion:supply_indicators",), exclusions=("supply_indicators",)),
    case(
        "exclusions-in-given-order-without-duplicates",
        NO,
        ("exclusion:violence_or_threats", "exclusion:other_offence"),
        exclusions=("violence_or_threats", "other_offence", "violence_or_threats"),
    ),
    # Every broken rule, in SPEC order.
    case(
        "all-reasons-under-age",
        NO,
        (
            "age_under_min",
            "substance_not_eligible",
            "recent_diversion",
            "exclusion:supply_indicators",
            "exclusion:other_offence",
        ),
        date_of_birth=date(2010, 1, 1),
        substance="other",
        quantity_grams=Decimal("500"),
        previous_diversion_dates=(date(2025, 6, 1),),
        exclusions=("supply_indicators", "other_offence", "supply_indicators"),
    ),
    case(
        "all-reasons-over-age",
        NO,
        (
            "age_over_max",
            "quantity_over_limit",
            "recent_diversion",
            "exclusion:school_or_youth_setting",
            "exclusion:supply_indicators",
        ),
        date_of_birth=date(1990, 1, 1),
        substance="cannabis_resin",
        quantity_grams=Decimal("6"),
        previous_diversion_dates=(date(2025, 6, 14),),
        exclusions=("school_or_youth_setting", "supply_indicators"),
    ),
    case(
        "ineligible-ignores-acceptance",
        NO,
        ("exclusion:other_offence",),
        exclusions=("other_offence",),
        accepted=True,
    ),
    case(
        "ineligible-in-comparison-borough",
        NO,
        ("age_under_min",),
        date_of_birth=date(2010, 1, 1),
        borough_role=BoroughRole.COMPARISON,
    ),
    # Pilot dates are inclusive at both ends.
    case("first-day-of-pilot", OK, encounter_date=PILOT_START, date_of_birth=date(2003, 1, 1)),
    case(
        "day-before-pilot",
        Decision.NOT_OFFERED,
        encounter_date=date(2025, 2, 28),
        date_of_birth=date(2003, 1, 1),
    ),
    case("last-day-of-pilot", OK, encounter_date=PILOT_END, date_of_birth=date(2003, 1, 1)),
    case(
        "day-after-pilot",
        Decision.NOT_OFFERED,
        encounter_date=date(2025, 9, 1),
        date_of_birth=date(2003, 1, 1),
    ),
    case(
        "pilot-with-no-end",
        OK,
        encounter_date=date(2026, 12, 1),
        date_of_birth=date(2003, 1, 1),
        pilot_end=None,
    ),
    case("pilot-with-no-start", Decision.NOT_OFFERED, pilot_start=None, pilot_end=None),
    case("pilot-role-as-plain-string", OK, borough_role="pilot"),
    # Comparison boroughs never divert, whatever the answer.
    case("comparison-accepted", Decision.NOT_OFFERED, borough_role=BoroughRole.COMPARISON),
    case(
        "comparison-declined",
        Decision.NOT_OFFERED,
        borough_role=BoroughRole.COMPARISON,
        accepted=False,
    ),
    case("comparison-role-as-plain-string", Decision.NOT_OFFERED, borough_role="comparison"),
    # The person's answer.
    case("refused-declined", Decision.DECLINED, accepted=False),
    case("not-yet-asked-offered", Decision.OFFERED, accepted=None),
]


@pytest.mark.parametrize(("facts", "policy", "decision", "reasons"), DECISION_CASES)
def test_assess_decides_by_the_rules(
    facts: Facts, policy: Policy, decision: Decision, reasons: tuple[str, ...]
) -> None:
    """Every rule at its edges gives the decision and reasons SPEC section 3 describes."""
    assessment = assess(facts, policy)
    assert (assessment.decision, assessment.reasons) == (decision, reasons)
    assert reasons_for(facts, policy) == reasons


def test_reason_order_is_the_spec_order() -> None:
    assert REASON_ORDER == (
        "age_under_min",
        "age_over_max",
        "substance_not_eligible",
        "quantity_over_limit",
        "recent_diversion",
    )


@pytest.mark.parametrize(("facts", "policy", "decision", "reasons"), DECISION_CASES)
def test_reasons_follow_reason_order(
    facts: Facts, policy: Policy, decision: Decision, reasons: tuple[str, ...]
) -> None:
    """Non-exclusion reasons come in the fixed SPEC order, then exclusions as given, once."""
    given_exclusions = ["exclusion:" + code for code in dict.fromkeys(facts.exclusions)]
    for found in (assess(facts, policy).reasons, reasons_for(facts, policy)):
        plain = [r for r in found if not r.startswith("exclusion:")]
        assert set(plain) <= set(REASON_ORDER) and len(set(plain)) == len(plain)
        assert plain == sorted(plain, key=REASON_ORDER.index)
        assert list(found) == plain + given_exclusions


def test_assessment_records_age() -> None:
    """The assessment carries the age the decision was judged on."""
    assert assess(BASE, POLICY).age == 21


@pytest.mark.parametrize(
    ("decision", "offered"),
    [
        (Decision.DIVERTED, True),
        (Decision.DECLINED, True),
        (Decision.OFFERED, True),
        (Decision.NOT_OFFERED, False),
        (Decision.INELIGIBLE, False),
    ],
    ids=lambda v: str(v),
)
def test_offered_covers_every_answer(decision: Decision, offered: bool) -> None:
    """Diversion counts as offered whether accepted, declined or not yet answered."""
    assert Assessment(decision=decision, reasons=(), age=20).offered is offered


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="eligible-facts"),
        pytest.param({"date_of_birth": date(2015, 1, 1)}, id="ineligible-facts"),
        pytest.param({"quantity_grams": Decimal("0")}, id="invalid-quantity"),
        pytest.param({"borough_role": "none", "accepted": None}, id="role-as-plain-string"),
    ],
)
def test_none_borough_is_refused_before_anything_else(changes: dict[str, Any]) -> None:
    """An encounter in a borough not taking part is refused, whatever else is wrong."""
    facts = replace(BASE, **{"borough_role": BoroughRole.NONE, **changes})
    with pytest.raises(BoroughNotTakingPart, match="not taking part"):
        assess(facts, POLICY)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"quantity_grams": Decimal("0")}, "more than 0 grams", id="zero-grams"),
        pytest.param({"quantity_grams": Decimal("-1")}, "more than 0 grams", id="negative-grams"),
        pytest.param({"quantity_grams": Decimal("NaN")}, "more than 0 grams", id="nan-grams"),
        pytest.param(
            {"date_of_birth": date(2025, 6, 14)}, "before the encounter date", id="born-that-day"
        ),
        pytest.param(
            {"date_of_birth": date(2025, 7, 1)}, "before the encounter date", id="born-after"
        ),
        pytest.param({"borough_role": "pilots"}, "pilot, comparison or none", id="unknown-role"),
    ],
)
def test_assess_rejects_invalid_facts(changes: dict[str, Any], message: str) -> None:
    """Facts that cannot be judged raise a ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=message):
        assess(replace(BASE, **changes), POLICY)


@pytest.mark.parametrize(
    ("born", "day", "rule", "age"),
    [
        pytest.param(date(2007, 6, 15), date(2025, 6, 15), LeapDayRule.MARCH_1, 18, id="birthday"),
        pytest.param(date(2007, 6, 15), date(2025, 6, 14), LeapDayRule.MARCH_1, 17, id="eve"),
        pytest.param(date(2007, 6, 15), date(2007, 6, 15), LeapDayRule.MARCH_1, 0, id="born"),
        pytest.param(date(2007, 12, 31), date(2026, 1, 1), LeapDayRule.MARCH_1, 18, id="new-year"),
        pytest.param(LEAP_BIRTH, date(2022, 2, 28), LeapDayRule.MARCH_1, 17, id="mar1-28feb"),
        pytest.param(LEAP_BIRTH, date(2022, 3, 1), LeapDayRule.MARCH_1, 18, id="mar1-1mar"),
        pytest.param(LEAP_BIRTH, date(2022, 2, 27), LeapDayRule.FEBRUARY_28, 17, id="feb28-27feb"),
        pytest.param(LEAP_BIRTH, date(2022, 2, 28), LeapDayRule.FEBRUARY_28, 18, id="feb28-28feb"),
        pytest.param(LEAP_BIRTH, date(2024, 2, 28), LeapDayRule.MARCH_1, 19, id="leap-mar1-28feb"),
        pytest.param(LEAP_BIRTH, date(2024, 2, 29), LeapDayRule.MARCH_1, 20, id="leap-mar1-29feb"),
        pytest.param(
            LEAP_BIRTH, date(2024, 2, 28), LeapDayRule.FEBRUARY_28, 19, id="leap-feb28-28feb"
        ),
        pytest.param(
            LEAP_BIRTH, date(2024, 2, 29), LeapDayRule.FEBRUARY_28, 20, id="leap-feb28-29feb"
        ),
    ],
)
def test_age_on_counts_completed_years(born: date, day: date, rule: LeapDayRule, age: int) -> None:
    """Age is in completed years, with 29 February birthdays moved by the leap-day rule."""
    assert age_on(born, day, rule) == age


def test_age_on_defaults_to_uk_practice() -> None:
    """Without a rule, a 29 February birth turns a year older on 1 March."""
    assert age_on(LEAP_BIRTH, date(2022, 2, 28)) == 17


def test_age_on_rejects_a_day_before_birth() -> None:
    """An age cannot be taken before someone is born."""
    with pytest.raises(ValueError, match="date of birth"):
        age_on(date(2007, 6, 15), date(2007, 6, 14))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        pytest.param(date(2025, 3, 31), 1, date(2025, 2, 28), id="31-mar-to-28-feb"),
        pytest.param(date(2024, 3, 31), 1, date(2024, 2, 29), id="31-mar-to-29-feb-leap"),
        pytest.param(date(2024, 2, 29), 12, date(2023, 2, 28), id="29-feb-year-back"),
        pytest.param(date(2025, 5, 31), 3, date(2025, 2, 28), id="31-may-3-months"),
        pytest.param(date(2025, 6, 14), 12, date(2024, 6, 14), id="same-day-a-year-back"),
        pytest.param(date(2025, 1, 15), 1, date(2024, 12, 15), id="across-new-year"),
        pytest.param(date(2025, 6, 14), 0, date(2025, 6, 14), id="zero-months"),
    ],
)
def test_subtract_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    """Going back lands on the same day of the month, or the month's last day if shorter."""
    assert subtract_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        pytest.param(date(2025, 1, 31), 1, date(2025, 2, 28), id="31-jan-to-28-feb"),
        pytest.param(date(2024, 1, 31), 1, date(2024, 2, 29), id="31-jan-to-29-feb-leap"),
        pytest.param(date(2024, 2, 29), 12, date(2025, 2, 28), id="29-feb-year-on"),
        pytest.param(date(2024, 2, 29), 48, date(2028, 2, 29), id="29-feb-to-next-leap"),
        pytest.param(date(2025, 3, 31), 6, date(2025, 9, 30), id="31-mar-to-30-sep"),
        pytest.param(date(2025, 12, 15), 1, date(2026, 1, 15), id="across-new-year"),
        pytest.param(date(2025, 3, 31), -1, date(2025, 2, 28), id="negative-is-subtract"),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    """Going forward lands on the same day of the month, or the month's last day if shorter."""
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("role", "start", "end", "day", "expected"),
    [
        pytest.param("pilot", PILOT_START, PILOT_END, PILOT_START, True, id="first-day"),
        pytest.param("pilot", PILOT_START, PILOT_END, PILOT_END, True, id="last-day"),
        pytest.param("pilot", PILOT_START, PILOT_END, date(2025, 2, 28), False, id="day-before"),
        pytest.param("pilot", PILOT_START, PILOT_END, date(2025, 9, 1), False, id="day-after"),
        pytest.param("pilot", PILOT_START, None, date(2040, 1, 1), True, id="no-end"),
        pytest.param("pilot", None, None, date(2025, 6, 1), False, id="no-start"),
        pytest.param("comparison", PILOT_START, PILOT_END, date(2025, 6, 1), False, id="comp"),
        pytest.param(BoroughRole.NONE, PILOT_START, None, date(2025, 6, 1), False, id="none"),
    ],
)
def test_in_pilot_uses_inclusive_dates(
    role: BoroughRole | str, start: date | None, end: date | None, day: date, expected: bool
) -> None:
    """Only a pilot borough between its start and end dates (both inclusive) is in the pilot."""
    assert in_pilot(role, start, end, day) is expected


LABELS = {"supply_indicators": "Signs of supply"}


@pytest.mark.parametrize(
    ("code", "kwargs", "text"),
    [
        pytest.param("age_under_min", {}, "Under 18 on the encounter date", id="under"),
        pytest.param("age_over_max", {}, "25 or older on the encounter date", id="over"),
        pytest.param(
            "substance_not_eligible",
            {},
            "The substance is not herbal cannabis or cannabis resin",
            id="substance",
        ),
        pytest.param(
            "quantity_over_limit",
            {"substance": "cannabis_herbal"},
            "The amount is over the 25 g limit for herbal cannabis",
            id="quantity-herbal",
        ),
        pytest.param(
            "quantity_over_limit",
            {"substance": "cannabis_resin"},
            "The amount is over the 5 g limit for cannabis resin",
            id="quantity-resin",
        ),
        pytest.param(
            "quantity_over_limit",
            {},
            "The amount is over the limit (25 g for herbal cannabis, 5 g for cannabis resin)",
            id="quantity-unknown-substance",
        ),
        pytest.param(
            "recent_diversion",
            {},
            "Diverted in the 12 months before this encounter",
            id="recent",
        ),
        pytest.param(
            "exclusion:supply_indicators",
            {"exclusion_labels": LABELS},
            "Exclusion: Signs of supply",
            id="exclusion-labelled",
        ),
        pytest.param(
            "exclusion:other_offence",
            {"exclusion_labels": LABELS},
            "Exclusion: other_offence",
            id="exclusion-unlabelled",
        ),
        pytest.param(
            "exclusion:other_offence", {}, "Exclusion: other_offence", id="exclusion-no-labels"
        ),
    ],
)
def test_describe_reason_in_plain_english(code: str, kwargs: dict[str, Any], text: str) -> None:
    """Each reason code reads as a plain English sentence with the policy's figures."""
    assert describe_reason(code, POLICY, **kwargs) == text


def test_describe_reason_uses_policy_figures() -> None:
    """The sentences follow the policy version, not fixed numbers."""
    policy = replace(
        POLICY,
        min_age=16,
        max_age=30,
        prior_diversion_months=1,
        quantity_limits={"cannabis_herbal": Decimal("7.500")},
    )
    assert describe_reason("age_under_min", policy) == "Under 16 on the encounter date"
    assert describe_reason("age_over_max", policy) == "31 or older on the encounter date"
    assert describe_reason("recent_diversion", policy) == (
        "Diverted in the 1 month before this encounter"
    )
    assert describe_reason("quantity_over_limit", policy, substance="cannabis_herbal") == (
        "The amount is over the 7.5 g limit for herbal cannabis"
    )


def test_describe_reason_rejects_unknown_codes() -> None:
    """An unknown code is a programming error, not something to show an officer."""
    with pytest.raises(ValueError, match="Unknown reason code"):
        describe_reason("too_tall", POLICY)
