"""report_build takes the figures and the group comparison from one statement: same results."""

from datetime import date

import pytest

from diversion import demo
from reports import measure


@pytest.fixture
def demo_pilot(db) -> None:
    demo.demo_seed(seed=5, encounters=3000, today=date(2026, 3, 9))


@pytest.mark.parametrize("week", ["2025-W14", "2025-W40", "2026-W02", "2026-W10"])
def test_one_pass_gives_exactly_report_data_and_disproportionality(demo_pilot, week):
    data, groups = measure.report_with_disproportionality(week=week)

    assert data == measure.report_data(week=week)
    assert groups == measure.disproportionality(week=week)


def test_the_shared_pass_has_reoffending_and_group_figures_to_compare(demo_pilot):
    data, groups = measure.report_with_disproportionality(week="2026-W10")

    assert data["reoffending"] and data["effects"]
    assert sum(row["reoffending_12m_cohort"] for row in groups) > 0
