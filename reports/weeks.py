"""ISO weeks (``YYYY-Www``), the unit the weekly report is built for.

A report week runs Monday to Sunday in Europe/London; its dates are plain calendar dates, so no
time zone arithmetic is needed once "today" is known.
"""

import re
from datetime import date, timedelta

# ASCII digits only: `\d` and int() would also take "１２３４" and build a week nobody typed.
WEEK_PATTERN = re.compile(r"([0-9]{4})-W([0-9]{2})")


class WeekError(ValueError):
    """A week that is not a real ISO week, with a message fit to show the user."""


def weeks_in_year(year: int) -> int:
    """Return 52 or 53: 28 December always falls in the ISO year's last week."""
    return date(year, 12, 28).isocalendar().week


def parse_week(week: str) -> tuple[date, date]:
    """Return the Monday and Sunday of an ISO week written ``YYYY-Www`` (e.g. ``2026-W10``).

    Strict: the zero-padded week number is required, and week 53 only exists in years that have
    one, so a typo never silently builds the report for a different week.
    """
    match = WEEK_PATTERN.fullmatch(week.strip()) if isinstance(week, str) else None
    if match is None:
        raise WeekError(f"Enter the week as YYYY-Www, for example 2026-W10, not {week!r}")
    year, number = int(match.group(1)), int(match.group(2))
    if year < 1 or year > 9998:
        raise WeekError(f"Enter a year between 0001 and 9998, not {year:04d}")
    last = weeks_in_year(year)
    if not 1 <= number <= last:
        raise WeekError(f"{year} has weeks 01 to {last}, so there is no week {number:02d}")
    monday = date.fromisocalendar(year, number, 1)
    return monday, monday + timedelta(days=6)


def week_of(day: date) -> str:
    """Return the ISO week containing ``day``, written ``YYYY-Www``."""
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def week_just_ended(today: date) -> str:
    """Return the latest ISO week that has fully ended before ``today``.

    On any day, that is the week of the previous Sunday: on a Monday, the week ending yesterday;
    on a Sunday, the week before (the current week is not over until the Sunday is).
    """
    return week_of(today - timedelta(days=today.isoweekday()))


def validate_week(value: str) -> None:
    """Refuse a week that is not a real ISO week written ``YYYY-Www`` in ASCII digits."""
    from django.core.exceptions import ValidationError

    try:
        parse_week(value)
    except WeekError as error:
        raise ValidationError(str(error)) from None
