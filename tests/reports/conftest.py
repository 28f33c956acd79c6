"""Fixtures shared by the report tests."""

from datetime import date

import pytest

from boroughs.models import Borough
from tests.diversion.factories import comparison_borough, pilot_borough
from tests.reports.factories import HACKNEY, LEWISHAM, SOUTHWARK


@pytest.fixture
def boroughs(db) -> dict[str, Borough]:
    """Pilot Lewisham and Hackney (from 1 January 2020) and comparison Southwark."""
    pilot_borough(LEWISHAM, start=date(2020, 1, 1))
    pilot_borough(HACKNEY, start=date(2020, 1, 1))
    comparison_borough(SOUTHWARK)
    return {b.gss_code: b for b in Borough.objects.filter(role__in=["pilot", "comparison"])}
