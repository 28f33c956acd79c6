"""The trends page's views together (every borough and all boroughs) give away no hidden cell.

An attacker (``tests/reports/attacker.py``, written apart from the suppression code) opens every
view, assumes all boroughs is the sum of the boroughs, week by week and count by count, and
solves for each hidden cell; it also reads a hidden term from a rate shown beside the other.
"""

import random
from datetime import date

import pytest

from reports import selectors
from reports.suppression import SECONDARY, SUPPRESSED, WITHHELD
from reports.trend_suppression import WEEK_COUNTS, suppress_weekly
from tests.reports.attacker import linear_attack, rate_attack, trends_weekly_attack
from tests.reports.factories import HACKNEY, LEWISHAM, SOUTHWARK, meet, person

VIEWS = ("ALL", LEWISHAM, HACKNEY, SOUTHWARK)


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _random_series(rng: random.Random, comparison: tuple[str, ...]) -> dict[str, list[dict]]:
    boroughs = [f"E0900{n:04d}" for n in range(rng.randint(2, 6))]
    weeks = [f"2020-W{w:02d}" for w in range(1, rng.randint(2, 7))]
    series: dict[str, list[dict]] = {code: [] for code in boroughs}
    for week in weeks:
        for code in boroughs:
            counts = {f: rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 14, 30]) for f in WEEK_COUNTS}
            if code in comparison:  # diverts nobody
                counts.update(dict.fromkeys(WEEK_COUNTS[1:], 0))
            series[code].append(_row(week, counts))
    series["ALL"] = [
        _row(week, {f: sum(series[c][i][f] for c in boroughs) for f in WEEK_COUNTS})
        for i, week in enumerate(weeks)
    ]
    return series


def _row(week: str, counts: dict[str, int]) -> dict:
    return {
        "week": week,
        **counts,
        "acceptance_rate": _rate(counts["diverted"], counts["diverted"] + counts["declined"]),
        "completion_rate": _rate(
            counts["completed"], counts["completed"] + counts["did_not_attend"]
        ),
    }


def test_random_weekly_series_give_nothing_away_across_views():
    """200 random sets of views: the attacker recovers nothing once the views are suppressed
    together, though it does recover cells from views suppressed one row at a time."""
    recovered_before = recovered_after = 0
    comparison = ("E09000000", "E09000003")  # the rules say they divert nobody
    for seed in range(200):
        series = _random_series(random.Random(seed), comparison)
        weeks = range(len(series["ALL"]))
        no_diversion = {(i, code) for code in comparison for i in weeks}
        together = {
            code: suppress_weekly(series, borough=code, no_diversion=no_diversion)
            for code in series
        }
        alone = {
            code: list(map(selectors.suppress_week_row, rows)) for code, rows in series.items()
        }
        recovered_after += len(trends_weekly_attack(together, comparison=comparison))
        recovered_before += len(trends_weekly_attack(alone, comparison=comparison))
        for rows in together.values():  # nothing small is ever shown
            for row in rows:
                assert not any(isinstance(row[f], int) and 0 < row[f] < 5 for f in WEEK_COUNTS)
    assert recovered_before > 0, "the attacker should beat row-by-row suppression"
    assert recovered_after == 0


@pytest.fixture
def history(boroughs):
    """Week 2020-W02: Lewisham 3 diverted and 6 declined, Hackney 7 and 5, Southwark 6 not
    offered. Their cohort, January 2020, is followed for 12 months by the end of 2021-W05."""
    refs = iter(range(1, 100))

    def many(outcome: str, borough: str, times: int) -> None:
        for _ in range(times):
            who = person(f"T{next(refs):04d}", dob=date(1998, 1, 1))
            meet(who, date(2020, 1, 8), outcome, borough=borough)

    many("diverted", LEWISHAM, 3)
    many("declined", LEWISHAM, 6)
    many("diverted", HACKNEY, 7)
    many("declined", HACKNEY, 5)
    many("not_offered", SOUTHWARK, 6)


def _views(**kwargs) -> dict[str, selectors.Trends]:
    return {code: selectors.trends(**kwargs, borough=code) for code in VIEWS}


def test_a_borough_hidden_week_cannot_be_worked_out_from_all_boroughs(history):
    views = _views(first_week="2020-W01", last_week="2020-W03")
    week = {code: next(r for r in v.weeks if r["week"] == "2020-W02") for code, v in views.items()}
    assert week[LEWISHAM]["diverted"] == SUPPRESSED
    # Without this, all boroughs' 10 diverted minus Hackney's 7 would give Lewisham's 3.
    # Southwark's 0 is no cover: a comparison borough never diverts anyone.
    assert week[HACKNEY]["diverted"] == SECONDARY
    assert week[SOUTHWARK]["diverted"] == 0
    assert week["ALL"]["diverted"] == 10
    assert week[HACKNEY]["acceptance_rate"] == WITHHELD
    assert week[SOUTHWARK]["encounters"] == 6 and week["ALL"]["encounters"] == 27
    shown = {code: v.weeks for code, v in views.items()}
    assert trends_weekly_attack(shown, comparison=(SOUTHWARK,)) == set()


def test_twelve_month_cohorts_cannot_be_worked_out_across_views(history):
    views = _views(first_week="2020-W01", last_week="2021-W05")
    rows = [row for view in views.values() for row in view.reoffending]
    diverted = {r["borough"]: r for r in rows if r["group"] == "diverted"}
    assert diverted[LEWISHAM]["cohort_size"] == SUPPRESSED
    assert diverted[HACKNEY]["cohort_size"] == SECONDARY
    assert diverted[HACKNEY]["rate"] == WITHHELD
    # As people read it: a withheld rate or interval is not there at all.
    shown = {"reoffending": [{k: None if v == WITHHELD else v for k, v in r.items()} for r in rows]}
    assert linear_attack(shown) == {}
    assert rate_attack(shown) == []


def test_trends_page_shows_secondary_cells_as_c(client, analyst, history):
    client.force_login(analyst)
    page = client.get("/reports/trends/", {"week": "2020-W03", "borough": HACKNEY})
    assert page.status_code == 200
    text = page.content.decode()
    week_two = text.split('<th scope="row" class="govuk-table__header">2020-W02</th>', 1)[1]
    cells = week_two.split("</tr>", 1)[0]
    assert "[c]" in cells and "Withheld" in cells
    assert "so not plotted. The table below shows them as &lt;5, [c] or Withheld." in text
