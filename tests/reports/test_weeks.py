"""ISO weeks: strict parsing and the week just ended."""

from datetime import date

import pytest

from reports.weeks import WeekError, parse_week, week_just_ended, week_of


@pytest.mark.parametrize(
    ("week", "monday", "sunday"),
    [
        ("2026-W10", date(2026, 3, 2), date(2026, 3, 8)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        ("2020-W53", date(2020, 12, 28), date(2021, 1, 3)),
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
    ],
)
def test_parse_week_gives_monday_to_sunday(week, monday, sunday):
    assert parse_week(week) == (monday, sunday)


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2021-W53", "2021 has weeks 01 to 52, so there is no week 53"),
        ("2026-W00", "2026 has weeks 01 to 53, so there is no week 00"),
        ("2026-W1", "Enter the week as YYYY-Www"),
        ("2026W10", "Enter the week as YYYY-Www"),
        ("2026-w10", "Enter the week as YYYY-Www"),
        ("2026-10", "Enter the week as YYYY-Www"),
        ("", "Enter the week as YYYY-Www"),
    ],
)
def test_parse_week_refuses_weeks_that_do_not_exist(week, message):
    with pytest.raises(WeekError, match=message):
        parse_week(week)


@pytest.mark.parametrize(
    ("today", "week"),
    [
        (date(2026, 3, 9), "2026-W10"),  # Monday: the week ending yesterday
        (date(2026, 3, 8), "2026-W09"),  # Sunday: this week is not over yet
        (date(2026, 3, 11), "2026-W10"),
        (date(2021, 1, 4), "2020-W53"),
    ],
)
def test_week_just_ended_is_the_last_complete_week(today, week):
    assert week_just_ended(today) == week


def test_week_of_uses_the_iso_year():
    assert week_of(date(2027, 1, 1)) == "2026-W53"
