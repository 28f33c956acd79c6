"""The report page's headline: the effect in words, and the forest chart of the effects."""

import re

import pytest

from reports import charts
from reports.renderings.headline import effect_sentences, forest, key_figures

EFFECT = {
    "borough": "ALL",
    "months": 12,
    "diverted_size": 70,
    "diverted_reoffenders": 56,
    "comparison_size": 80,
    "comparison_reoffenders": 48,
    "risk_difference": 0.2,
    "rd_low": 0.0524,
    "rd_high": 0.3339,
    "relative_risk": 1.3333,
    "rr_low": 1.0751,
    "rr_high": 1.6536,
}


def test_effect_is_said_with_both_rates_the_difference_and_its_interval():
    first, second = effect_sentences(EFFECT)
    assert first == (
        "Within 12 months, 80.0% of the 70 people diverted reoffended (56 people), compared "
        "with 60.0% of the 80 people who were not diverted (48 people)."
    )
    assert second.startswith(
        "The difference is +20.0 percentage points (95% interval +5.2 to +33.4)."
    )
    assert "above zero: people who were diverted reoffended more" in second


@pytest.mark.parametrize(
    ("low", "high", "reading"),
    [
        (-0.2, -0.01, "below zero: people who were diverted reoffended less"),
        (-0.05, 0.1, "includes zero, so the figures are consistent with no difference"),
    ],
)
def test_effect_says_what_its_interval_shows(low, high, reading):
    sentences = effect_sentences(
        {**EFFECT, "risk_difference": -0.03, "rd_low": low, "rd_high": high}
    )
    assert reading in sentences[1]
    assert "\u22123.0 percentage points" in sentences[1]


@pytest.mark.parametrize(
    "change",
    [
        {"comparison_reoffenders": "<5", "risk_difference": "withheld"},
        {"diverted_size": "[c]", "risk_difference": "withheld"},
        {"diverted_reoffenders": "[c]"},  # even if an estimate were somehow left in
    ],
)
def test_effect_is_withheld_when_a_count_behind_it_is_hidden(change):
    sentences = effect_sentences({**EFFECT, **change})
    assert sentences == [
        "The 12-month comparison is withheld, because a number it is made from is fewer "
        "than 5 or would let such a number be worked out."
    ]


def test_no_effect_row_means_no_comparison_yet():
    assert effect_sentences(None)[0].startswith("There is no 12-month comparison yet")


def test_key_figures_show_hidden_counts_and_a_withheld_rate_as_the_tables_do():
    shown = {
        "activity": [
            {
                "borough": "ALL",
                "encounters": 213,
                "diverted": "<5",
                "declined": "[c]",
                "not_offered": 100,
                "ineligible": 68,
            }
        ],
        "referrals": [
            {
                "borough": "ALL",
                "completed": "<5",
                "did_not_attend": 6,
                "completion_rate": "withheld",
            }
        ],
    }
    encounters, diverted, completed = key_figures(shown)
    assert (encounters.value, diverted.value, completed.value) == ("213", "<5", "Withheld")
    assert encounters.note.startswith("[c] declined diversion")
    assert "<5 completed and 6 did not attend" in completed.note


def effects_rows() -> list[dict]:
    rows = []
    for borough in ("ALL", "E09000023"):
        for months, d in ((3, -0.05), (6, -0.1), (12, -0.15)):
            rows.append(
                {
                    **EFFECT,
                    "borough": borough,
                    "months": months,
                    "risk_difference": d,
                    "rd_low": d - 0.04,
                    "rd_high": d + 0.04,
                }
            )
    return rows


def test_forest_chart_has_a_row_per_borough_and_a_marker_per_period():
    chart, table = forest(effects_rows(), {"ALL": "All boroughs", "E09000023": "Lewisham"})
    assert chart is not None and table is not None
    assert chart.not_plotted == []
    assert 'role="img"' in chart.svg and '<title id="chart-effects-title">' in chart.svg
    assert chart.svg.index(">All boroughs<") < chart.svg.index(">Lewisham<")
    # Six estimates and a legend of three; the widest bound, -0.19, sets the axis to 20 points.
    assert len(re.findall(r"<circle |<polygon |<rect x=\"[1-9]", chart.svg)) == 9
    assert ">\u221220</text>" in chart.svg and ">+20</text>" in chart.svg
    assert [row[0].text for row in table.rows] == ["All boroughs"] * 3 + ["Lewisham"] * 3
    assert [row[2].text for row in table.rows[:3]] == ["-5.0%", "-10.0%", "-15.0%"]


def test_forest_chart_neither_plots_nor_scales_to_a_withheld_estimate():
    rows = effects_rows()
    hidden = {
        "diverted_reoffenders": "<5",
        **dict.fromkeys(
            ("risk_difference", "rd_low", "rd_high", "relative_risk", "rr_low", "rr_high"),
            "withheld",
        ),
    }
    rows[5] = {**rows[5], **hidden}  # Lewisham at 12 months
    chart, table = forest(rows, {"ALL": "All boroughs", "E09000023": "Lewisham"})
    assert chart.not_plotted == ["Lewisham, 12 months"]
    assert "12 months: withheld</text>" in chart.svg
    assert ">+20</text>" in chart.svg  # ALL's -0.19 still sets the axis
    assert [c.text for c in table.rows[5][2:]] == ["Withheld"] * 3
    # Nothing is drawn for it: the lines are those of a chart without that row at all.
    alone = forest(rows[:5], {"ALL": "All boroughs", "E09000023": "Lewisham"})[0]
    assert alone is not None
    assert chart.svg.count("<line") == alone.svg.count("<line")


def test_forest_limit_is_the_smallest_round_width_that_holds_every_shown_value():
    def row(*values):
        return charts.ForestRow("x", [charts.Interval(v, v - 0.01, v + 0.01) for v in values])

    assert charts._forest_limit([row(0.02)]) == 0.05
    assert charts._forest_limit([row(-0.3)]) == 0.5
    assert charts._forest_limit([row(0.95)]) == 1.0
    assert (
        charts._forest_limit([charts.ForestRow("x", [charts.Interval(None, None, None)])]) == 0.05
    )


def test_forest_chart_escapes_names():
    chart = charts.forest_chart(
        chart_id="c",
        title="<t>",
        desc="d",
        periods=["3 months"],
        rows=[charts.ForestRow("<script>", [charts.Interval(0.1, 0.0, 0.2)])],
    )
    assert "<script>" not in chart.svg and "&lt;script&gt;" in chart.svg
