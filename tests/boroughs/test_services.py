"""The borough rule shared by the service, the pages and the admin, as a table of cases."""

from datetime import date

import pytest

from boroughs.services import NOT_PILOT_DATES, borough_configuration_errors

JAN_5 = date(2026, 1, 5)
JUN_30 = date(2026, 6, 30)
ROLES = "pilot, comparison or none"


@pytest.mark.parametrize(
    ("role", "start", "end", "expected"),
    [
        ("pilot", JAN_5, None, {}),
        ("pilot", JAN_5, JUN_30, {}),
        ("pilot", JAN_5, JAN_5, {}),  # a one-day pilot: both days are included
        ("comparison", None, None, {}),
        ("none", None, None, {}),
        ("pilot", None, None, {"pilot_start": ["A pilot borough needs a pilot start date."]}),
        ("pilot", None, JUN_30, {"pilot_start": ["A pilot borough needs a pilot start date."]}),
        (
            "pilot",
            JUN_30,
            JAN_5,
            {
                "pilot_end": [
                    "The pilot end date (2026-01-05) must be on or after "
                    "its start date (2026-06-30)."
                ]
            },
        ),
        ("comparison", JAN_5, None, {"pilot_start": [NOT_PILOT_DATES]}),
        ("comparison", None, JUN_30, {"pilot_end": [NOT_PILOT_DATES]}),
        ("none", JAN_5, JUN_30, {"pilot_start": [NOT_PILOT_DATES]}),
        ("trial", None, None, {"role": [f"Choose a role of {ROLES}, not 'trial'."]}),
    ],
)
def test_borough_configuration_rule(role, start, end, expected):
    assert borough_configuration_errors(role=role, pilot_start=start, pilot_end=end) == expected
