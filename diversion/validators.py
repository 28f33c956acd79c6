"""Every rule about what a typed or imported value may be, said once.

Model fields, forms, the admin, the importers and the services all check input with these
functions, so a rule cannot drift between the places that enforce it. Each rule comes in two
shapes: a ``*_problem`` function that returns a plain-English message (or None), for code that
collects errors such as the importers' ``line N, column: message``; and a ``validate_*``
callable that raises ``ValidationError``, for model fields and forms.

Nothing here touches the database, so the rules can be tested as tables of cases.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# Nobody recorded by the pilot was born, met or reoffended before this; earlier dates are typos
# (0001-01-01 is what a blank spreadsheet date turns into).
EARLIEST_DATE = date(1900, 1, 1)
# The quantity column holds 8 digits, 3 of them after the point.
MAX_GRAMS = Decimal("99999.999")
GRAMS_STEP = Decimal("0.001")

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DIGITS = re.compile(r"[0-9]+")  # ASCII only: int() would also accept "١٢" or "１２"
REFERENCE = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
GRAMS_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# A line break or tab is fine in a comment, never in a name, reference or code.
MULTILINE_ALLOWED = frozenset("\n\r\t")
# Control, unassigned, surrogate and private-use characters; format characters too, since a
# zero-width or right-to-left mark in a name hides what it says.
BANNED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _sentence(noun: str) -> str:
    return noun[0].upper() + noun[1:]


def today() -> date:
    """Return today's date in Europe/London, the pilot's calendar."""
    return timezone.localdate()


def _raiser(problem: str | None) -> None:
    if problem:
        raise ValidationError(problem)


# Dates ---------------------------------------------------------------------------------------


def past_date_problem(value: date, *, noun: str = "the date", on: date | None = None) -> str | None:
    """Say why ``value`` cannot be a recorded event's date: in the future, or before 1900."""
    if value > (on or today()):
        return f"{_sentence(noun)} must be today or in the past"
    if value < EARLIEST_DATE:
        return f"{_sentence(noun)} must be in 1900 or later"
    return None


def birth_date_problem(
    value: date, *, noun: str = "the date of birth", on: date | None = None
) -> str | None:
    """Say why ``value`` cannot be a date of birth: not in the past, or before 1900."""
    if value >= (on or today()):
        return f"{_sentence(noun)} must be in the past"
    if value < EARLIEST_DATE:
        return f"{_sentence(noun)} must be in 1900 or later"
    return None


def born_before(*, date_of_birth: date, day: date) -> bool:
    """Return whether someone born on ``date_of_birth`` was alive on ``day``, a later day.

    The one comparison between a date of birth and an encounter's or offence's date.
    """
    return date_of_birth < day


def validate_past_date(value: date) -> None:
    """Refuse a date in the future or before 1900 (encounters, outcomes, reoffences)."""
    _raiser(past_date_problem(value))


def validate_date_of_birth(value: date) -> None:
    """Refuse a date of birth that is today, in the future or before 1900."""
    _raiser(birth_date_problem(value))


def date_from_parts(*, day: str, month: str, year: str, noun: str) -> date:
    """Turn a GOV.UK date input's three boxes into a date, or raise ``ValidationError``.

    Accepts ASCII digits only, so letters, signs, huge numbers and other scripts' digits all
    get the same plain message instead of an ``OverflowError``.
    """
    parts = [str(part).strip() for part in (day, month, year)]
    if not all(DIGITS.fullmatch(part) for part in parts):
        raise ValidationError(f"{_sentence(noun)} must be a real date")
    if len(parts[2]) != 4:
        raise ValidationError("The year must include 4 numbers, for example 2004")
    if len(parts[0]) > 2 or len(parts[1]) > 2:
        raise ValidationError(f"{_sentence(noun)} must be a real date")
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise ValidationError(f"{_sentence(noun)} must be a real date") from None


def iso_date_problem(text: str, *, noun: str) -> str | None:
    """Say why ``text`` is not a real date written ``YYYY-MM-DD`` in ASCII digits."""
    try:
        parse_iso_date(text)
    except ValueError:
        return f"{_sentence(noun)} must be a real date in the form YYYY-MM-DD, not {text!r}"
    return None


def parse_iso_date(text: str) -> date:
    """Return the date written ``YYYY-MM-DD`` exactly, or raise ``ValueError``."""
    if not ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


# Quantities ----------------------------------------------------------------------------------


def grams_problem(value: Decimal | None, *, noun: str = "the quantity") -> str | None:
    """Say why ``value`` is not a quantity of cannabis: more than 0 g, 3 decimals, a sane size."""
    if value is None or not isinstance(value, Decimal) or not value.is_finite():
        return f"{_sentence(noun)} must be a number of grams, like 3.5"
    if value <= 0:
        return f"{_sentence(noun)} must be more than 0 grams"
    if value > MAX_GRAMS:
        return f"{_sentence(noun)} must be less than 100,000 grams"
    if value != value.quantize(GRAMS_STEP):
        return f"{_sentence(noun)} must have no more than 3 decimal places"
    return None


def parse_grams(text: str, *, noun: str = "the quantity") -> Decimal:
    """Read grams typed as plain ASCII digits (``2.5``), or raise ``ValidationError``."""
    text = text.strip()
    if not GRAMS_TEXT.fullmatch(text) or len(text) > 20:
        raise ValidationError(
            f"{_sentence(noun)} must be a number of grams, like 2.5, not {text[:40]!r}"
        )
    try:
        value = Decimal(text)
    except InvalidOperation:  # unreachable after the pattern, kept as a guard
        raise ValidationError(f"{_sentence(noun)} must be a number of grams") from None
    _raiser(grams_problem(value, noun=noun))
    return value


def validate_grams(value: Decimal) -> None:
    """Refuse a quantity that is not more than 0 grams with at most 3 decimal places."""
    _raiser(grams_problem(value))


# Text ----------------------------------------------------------------------------------------


def text_problem(value: str, *, noun: str = "the text", multiline: bool = False) -> str | None:
    """Say why ``value`` holds a character no one types: NUL, control or invisible characters."""
    if value.isprintable():
        # Every banned category is one str.isprintable refuses: a quick answer for most text.
        return None
    for char in value:
        if multiline and char in MULTILINE_ALLOWED:
            continue
        if unicodedata.category(char) in BANNED_CATEGORIES:
            return f"{_sentence(noun)} must not contain control or invisible characters"
    return None


def reference_problem(value: str, *, noun: str = "the reference") -> str | None:
    """Say why ``value`` is not a reference: ASCII letters and digits joined by hyphens."""
    if not REFERENCE.fullmatch(value):
        example = "PER-7K2M9QXA" if "person" in noun else "ENC-7K2M9QXA"
        return (
            f"{_sentence(noun)} must contain only letters A to Z, numbers 0 to 9 and hyphens, "
            f"like {example}"
        )
    return None


@deconstructible
class PlainTextValidator:
    """Refuse text holding control or invisible characters; ``noun`` names it in the message.

    ``multiline`` lets line breaks and tabs through, for comments.
    """

    def __init__(self, noun: str = "the text", *, multiline: bool = False) -> None:
        self.noun = noun
        self.multiline = multiline

    def __call__(self, value: str) -> None:
        _raiser(text_problem(value, noun=self.noun, multiline=self.multiline))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator) and (self.noun, self.multiline) == (
            other.noun,
            other.multiline,
        )

    def __hash__(self) -> int:
        return hash((self.noun, self.multiline))


@deconstructible
class ReferenceValidator:
    """Refuse a reference that is not plain ASCII letters and digits joined by hyphens."""

    def __init__(self, noun: str = "the reference") -> None:
        self.noun = noun

    def __call__(self, value: str) -> None:
        _raiser(reference_problem(value, noun=self.noun))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReferenceValidator) and self.noun == other.noun

    def __hash__(self) -> int:
        return hash(self.noun)
