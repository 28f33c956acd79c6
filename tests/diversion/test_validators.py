"""The input rules in `diversion.validators`, each said once: tables of cases, no database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from diversion import validators as v
from diversion.models import Encounter, Person, Reoffence
from reports.weeks import WeekError, parse_week

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (TODAY, None),
        (date(1900, 1, 1), None),
        (TODAY + timedelta(days=1), "The date must be today or in the past"),
        (date(1899, 12, 31), "The date must be in 1900 or later"),
        (date(1, 1, 1), "The date must be in 1900 or later"),
    ],
)
def test_a_recorded_date_is_not_in_the_future_nor_before_1900(value, problem):
    assert v.past_date_problem(value, on=TODAY) == problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (TODAY - timedelta(days=1), None),
        (date(1900, 1, 1), None),
        (TODAY, "The date of birth must be in the past"),
        (TODAY + timedelta(days=1), "The date of birth must be in the past"),
        (date(1, 1, 1), "The date of birth must be in 1900 or later"),
    ],
)
def test_a_date_of_birth_is_in_the_past_and_not_before_1900(value, problem):
    assert v.birth_date_problem(value, on=TODAY) == problem


def test_born_before_is_one_strict_comparison():
    day = date(2025, 3, 10)
    assert v.born_before(date_of_birth=day - timedelta(days=1), day=day)
    assert not v.born_before(date_of_birth=day, day=day)
    assert not v.born_before(date_of_birth=day + timedelta(days=1), day=day)


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [
        ("99999999999999999999", "1", "2004"),
        ("1", "99999999999999999999", "2004"),
        ("1", "1", "99999999999999999999"),
        ("-1", "1", "2004"),
        ("a", "1", "2004"),
        ("١", "1", "2004"),  # Arabic-Indic one
        ("1", "1", "２００４"),  # fullwidth digits
        ("31", "2", "2004"),
        ("0", "1", "2004"),
        ("1 1", "1", "2004"),
        ("1\x00", "1", "2004"),
    ],
)
def test_date_boxes_refuse_anything_but_a_real_date_with_one_message(day, month, year):
    with pytest.raises(ValidationError) as refused:
        v.date_from_parts(day=day, month=month, year=year, noun="the date of birth")
    assert refused.value.messages in (
        ["The date of birth must be a real date"],
        ["The year must include 4 numbers, for example 2004"],
    )


def test_date_boxes_accept_a_real_date_with_spaces_and_leading_zeros():
    assert v.date_from_parts(day=" 09", month="3 ", year="2004", noun="it") == date(2004, 3, 9)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2024-02-29", True),
        ("2023-02-29", False),
        ("２０２４-01-01", False),
        ("20240101", False),
        ("2024-01-01\n", False),
        ("2024-1-1", False),
        ("", False),
    ],
)
def test_iso_dates_are_ascii_yyyy_mm_dd_and_real(text, ok):
    assert (v.iso_date_problem(text, noun="the date") is None) is ok


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3.5", None),
        ("0.001", None),
        ("99999.999", None),
        ("0", "Quantity must be more than 0 grams"),
        ("-1", "Quantity must be more than 0 grams"),
        ("0.0001", "Quantity must have no more than 3 decimal places"),
        ("100000", "Quantity must be less than 100,000 grams"),
        ("1" * 19, "Quantity must be less than 100,000 grams"),
        ("9" * 5000, "Quantity must be a number of grams"),
        ("1e3", "Quantity must be a number of grams"),
        ("NaN", "Quantity must be a number of grams"),
        ("Infinity", "Quantity must be a number of grams"),
        ("３.5", "Quantity must be a number of grams"),
        ("3,5", "Quantity must be a number of grams"),
    ],
)
def test_grams_are_more_than_0_with_3_decimals_and_below_100000(text, message):
    if message is None:
        assert v.parse_grams(text, noun="quantity") == Decimal(text)
        return
    with pytest.raises(ValidationError) as refused:
        v.parse_grams(text, noun="quantity")
    assert refused.value.messages[0].startswith(message)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ENC-7K2M9QXA", True),
        ("per-1", True),
        ("A", True),
        ("ENC_1", False),
        ("ENC 1", False),
        ("-ENC", False),
        ("ENC--1", False),
        ("ÉNC-1", False),
        ("ENC-１", False),
        ("ENC-1\x00", False),
        ("", False),
    ],
)
def test_references_are_ascii_letters_digits_and_hyphens(value, ok):
    assert (v.reference_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "multiline", "ok"),
    [
        ("Siobhán O'Brien-Nwosu", False, True),
        ("李小龍", False, True),
        ("a\x00b", False, False),
        ("a\x1bb", False, False),
        ("a\u200bb", False, False),  # zero-width space hides what a name says
        ("a\u202eb", False, False),  # right-to-left override
        ("line one\nline two", False, False),
        ("line one\r\nline two\ttab", True, True),
        ("a\x00b", True, False),
    ],
)
def test_text_holds_no_control_or_invisible_characters(value, multiline, ok):
    assert (v.text_problem(value, multiline=multiline) is None) is ok


@pytest.mark.parametrize(
    "week", ["１２３４-W01", "2026-W1", "2026-w10x", "2026-W10\n2026-W11", "٢٠٢٦-W10", "2026-W١٠"]
)
def test_weeks_are_written_in_ascii_digits_only(week):
    with pytest.raises(WeekError):
        parse_week(week)


def test_model_fields_carry_the_rules_so_the_admin_applies_them():
    """The admin's ModelForms run field validators, so the rules reach it through the models."""
    fields = {
        (Person, "date_of_birth"): v.validate_date_of_birth,
        (Encounter, "encounter_date"): v.validate_past_date,
        (Encounter, "quantity_grams"): v.validate_grams,
        (Reoffence, "offence_date"): v.validate_past_date,
    }
    for (model, name), rule in fields.items():
        assert rule in model._meta.get_field(name).validators
    for model, name in [(Person, "person_ref"), (Encounter, "encounter_ref")]:
        assert any(
            isinstance(rule, v.ReferenceValidator)
            for rule in model._meta.get_field(name).validators
        )
    for model, name in [(Person, "first_name"), (Reoffence, "offence_type")]:
        assert any(
            isinstance(rule, v.PlainTextValidator)
            for rule in model._meta.get_field(name).validators
        )
