"""The report page: the answer first, the decision after it, then each section; the
reoffending table filtered and paged on the server without ever showing a hidden figure."""

import re

import pytest

from reports.models import ReportStatus
from reports.renderings.tables import report_tables
from reports.selectors import ReoffendingFilter, reoffending_rows, report_labels
from reports.suppression import suppress_report
from tests.reports.factories import HACKNEY, LEWISHAM, cohort_report, make_version

pytestmark = pytest.mark.django_db

SECTION_IDS = ["activity", "reasons", "referrals", "reoffending", "effects", "disproportionality"]
# Hackney's comparison cohort 2024-02 has 2 reoffenders at every N: shown as <5, and the cells
# that would give it away (ALL's, Lewisham's, the pooled effects counts) as [c].
SMALL = (HACKNEY, "comparison", 1)


def url(version, query: str = "") -> str:
    return f"/reports/{version.week}/v{version.number}/{query}"


def rows_of(page: str, table_key: str) -> list[list[str]]:
    """Return a table's body rows from the page, each as its cells' text."""
    caption = page.index(f'id="caption-{table_key}"')
    body = page[caption : page.index("</tbody>", caption)]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", body, re.S)[1:]
    ]


def reoffending_rows_shown(page: str) -> list[list[str]]:
    return rows_of(page, "reoffending")


@pytest.fixture
def cohorts(db):
    """A submitted version with 108 reoffending rows, a small count among them."""
    return make_version(status=ReportStatus.SUBMITTED, data=cohort_report(small=SMALL))


def test_page_leads_with_the_headline_then_the_sections_in_order(client, analyst, cohorts):
    client.force_login(analyst)
    page = client.get(url(cohorts)).content.decode()
    order = [
        'id="headline"',
        "Encounters this week",
        "Referrals completed",
        "Within 12 months,",
        'id="chart-effects-title"',
        'id="sections"',
        *(
            f'class="govuk-tabs__panel{" govuk-tabs__panel--hidden" * bool(i)}" id="{key}"'
            for i, key in enumerate(SECTION_IDS)
        ),
        'id="cover"',
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    for key in SECTION_IDS:
        assert f'<a class="govuk-tabs__tab" href="#{key}">' in page


def test_headline_says_the_twelve_month_effect_for_all_boroughs_with_the_caveat(client, analyst):
    version = make_version(data=cohort_report())
    effect = next(r for r in version.data["effects"] if r["borough"] == "ALL" and r["months"] == 12)
    client.force_login(analyst)
    page = client.get(url(version)).content.decode()
    n1, r1 = effect["diverted_size"], effect["diverted_reoffenders"]
    assert f"Within 12 months, {r1 / n1:.1%} of the {n1:,} people diverted reoffended" in page
    difference = f"{effect['risk_difference'] * 100:+.1f}".replace("-", "\u2212")
    assert f"The difference is {difference} percentage points" in page
    assert "it is not proof that diversion caused the difference" in page


def test_headline_withholds_the_effect_when_a_count_behind_it_is_hidden(client, analyst):
    data = cohort_report()
    effect = next(r for r in data["effects"] if r["borough"] == "ALL" and r["months"] == 12)
    effect["comparison_reoffenders"] = 3
    version = make_version(data=data)
    client.force_login(analyst)
    page = client.get(url(version)).content.decode()
    headline = page.split('id="headline"', 1)[1].split('id="decision"', 1)[0]
    assert "The 12-month comparison is withheld" in headline
    assert "percentage points (95% interval" not in headline


def test_headline_says_when_no_one_has_been_followed_for_twelve_months(client, analyst):
    version = make_version()  # SAMPLE has no effects rows
    client.force_login(analyst)
    page = client.get(url(version)).content.decode()
    assert "There is no 12-month comparison yet" in page
    assert "chart-effects" not in page


def test_forest_chart_plots_only_the_estimates_the_tables_show(client, analyst, cohorts):
    shown = suppress_report(cohorts.data)["effects"]
    withheld = [r for r in shown if r["risk_difference"] == "withheld"]
    plotted = [r for r in shown if r["risk_difference"] != "withheld"]
    assert withheld and plotted, "the sample has both kinds of row"
    client.force_login(analyst)
    page = client.get(url(cohorts)).content.decode()
    svg = page[
        page.index('id="chart-effects-title"') : page.index(
            "</svg>", page.index('id="chart-effects-title"')
        )
    ]
    markers = len(re.findall(r"<circle |<rect x=\"[^0]|<polygon ", svg))
    # One marker per plotted estimate, and one per period in the legend (3).
    assert markers == len(plotted) + 3
    assert svg.count(": withheld</text>") == len(withheld)
    figures = rows_of(page, "effects_chart")
    assert len(figures) == len(shown)
    assert sum(row[2] == "Withheld" for row in figures) == len(withheld)


def test_approver_gets_the_decision_after_the_headline_and_effects_and_before_the_sections(
    client, approver, cohorts
):
    client.force_login(approver)
    page = client.get(url(cohorts)).content.decode()
    decision = page.index('<form method="post" action="/reports/')
    assert page.index('id="chart-effects-title"') < decision
    assert page.index("Figures in this chart") < decision
    assert decision < page.index('id="sections"')
    assert page[decision:].startswith(f'<form method="post" action="{url(cohorts, "decide/")}"')
    assert "Your decision" in page and "Submit for approval</button>" not in page


def test_analyst_sees_no_decision_form(client, analyst, cohorts):
    client.force_login(analyst)
    page = client.get(url(cohorts)).content.decode()
    assert "Your decision" not in page
    assert 'name="decision"' not in page
    assert url(cohorts, "decide/") not in page


def test_reoffending_table_shows_25_rows_a_page_and_links_to_the_next(client, analyst, cohorts):
    client.force_login(analyst)
    page = client.get(url(cohorts)).content.decode()
    assert len(reoffending_rows_shown(page)) == 25
    assert "Showing rows 1 to 25 of 108" in page
    assert f'href="{url(cohorts, "?page=2#reoffending")}" rel="next"' in page
    last = client.get(url(cohorts, "?page=5")).content.decode()
    assert len(reoffending_rows_shown(last)) == 8
    assert "Showing rows 101 to 108 of 108" in last
    assert 'rel="next"' not in last


def test_reoffending_table_filters_by_borough_months_and_group(client, analyst, cohorts):
    client.force_login(analyst)
    page = client.get(url(cohorts, f"?borough={LEWISHAM}&months=6&group=diverted")).content.decode()
    rows = reoffending_rows_shown(page)
    assert len(rows) == 6  # one per cohort
    assert {(r[1], r[2], r[3]) for r in rows} == {("6", "Diverted", "Lewisham")}
    assert [r[0] for r in rows] == [f"2024-0{k}" for k in range(1, 7)]
    assert "Showing rows 1 to 6 of 6" in page
    assert 'rel="next"' not in page
    # The form shows what is chosen, and the page links keep the choices.
    assert f'<option value="{LEWISHAM}" selected>Lewisham</option>' in page
    assert '<option value="6" selected>6 months</option>' in page
    totals = client.get(url(cohorts, "?borough=ALL&months=12")).content.decode()
    assert {(r[1], r[3]) for r in reoffending_rows_shown(totals)} == {("12", "All boroughs")}
    assert len(reoffending_rows_shown(totals)) == 12
    paged = client.get(url(cohorts, "?group=comparison")).content.decode()
    assert f'href="{url(cohorts, "?group=comparison&amp;page=2#reoffending")}"' in paged


def test_reoffending_filter_with_no_matching_rows_says_so(client, analyst):
    version = make_version()  # reoffending only at 3 and 12 months
    client.force_login(analyst)
    page = client.get(url(version, "?months=6")).content.decode()
    assert "No rows match these choices." in page
    assert 'id="caption-reoffending"' not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?borough=E09999999", "The borough in the web address is not on the list"),
        ("?months=7", "The months in the web address are not on the list"),
        ("?months=twelve", "The months in the web address are not on the list"),
        ("?group=%3Cscript%3E", "The group in the web address is not on the list"),
    ],
)
def test_a_filter_value_not_on_the_list_is_ignored_and_the_page_says_so(
    client, analyst, cohorts, query, message
):
    client.force_login(analyst)
    response = client.get(url(cohorts, query))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "Showing rows 1 to 25 of 108" in page
    assert "<script>" not in page


@pytest.mark.parametrize("number", ["abc", "0", "-1", "99", "1e9", ""])
def test_a_page_number_that_is_no_page_shows_the_first_or_last_page(
    client, analyst, cohorts, number
):
    client.force_login(analyst)
    response = client.get(url(cohorts, f"?page={number}"))
    assert response.status_code == 200
    page = response.content.decode()
    assert len(reoffending_rows_shown(page)) in (25, 8)


def test_filtering_never_shows_a_cell_the_full_table_hides(client, analyst, cohorts):
    """Every row shown under any filter is the full suppressed table's row, cell for cell."""
    labels = report_labels(cohorts.data)
    full = report_tables(cohorts.data, cohorts.extra, labels)[3]
    full_rows = {tuple(cell.text for cell in row) for row in full.rows}
    hidden = [row for row in full_rows if "<5" in row or "[c]" in row]
    assert hidden, "the sample hides some reoffending cells"
    client.force_login(analyst)
    seen = set()
    for borough in ("", "ALL", LEWISHAM, HACKNEY):
        for months in ("", "3", "6", "12"):
            for group in ("", "diverted", "comparison"):
                query = f"?borough={borough}&months={months}&group={group}"
                page = client.get(url(cohorts, query)).content.decode()
                for row in reoffending_rows_shown(page):
                    shown = tuple(cell.replace("&lt;", "<") for cell in row)
                    assert shown in full_rows, (query, shown)
                    seen.add(shown)
    assert set(hidden) <= seen, "the filters do reach the hidden rows, still hidden"


def test_reoffending_rows_are_suppressed_before_they_are_filtered(cohorts):
    labels = report_labels(cohorts.data)
    only = ReoffendingFilter(borough=HACKNEY, months=3, group="comparison")
    rows = reoffending_rows(cohorts.data, boroughs=labels.boroughs, only=only)
    small = next(r for r in rows if r["cohort"] == "2024-02")
    assert small["reoffenders"] == "<5" and small["rate"] == "withheld"
    alone = reoffending_rows(
        {"reoffending": [r for r in cohorts.data["reoffending"] if r["borough"] == LEWISHAM]},
        boroughs=labels.boroughs,
        only=ReoffendingFilter(),
    )
    together = reoffending_rows(
        cohorts.data, boroughs=labels.boroughs, only=ReoffendingFilter(borough=LEWISHAM)
    )
    # Suppressing Lewisham's rows alone would show the cell that gives Hackney's away.
    assert together != alone
    assert any(r["reoffenders"] == "[c]" for r in together)


def test_approver_report_page_takes_a_fixed_number_of_queries(
    client, approver, cohorts, django_assert_num_queries
):
    for week in ("2026-W07", "2026-W08", "2026-W09"):
        make_version(week=week)
        make_version(week=week, number=2)
    make_version(number=2)
    client.force_login(approver)
    # 15 for the page, whatever the filter and page: the session, the person, their
    # authenticator, roles and permissions (2), a savepoint, the version, the names of boroughs
    # and of exclusion reasons, the earlier weeks (2), the week's other versions, the history;
    # 2 reads of the boroughs' roles and pilot dates (each whole-report suppression reads them,
    # for the zeros the rules fix); and 3 to save the session.
    with django_assert_num_queries(20):
        page = client.get(url(cohorts, f"?borough={LEWISHAM}&page=2")).content.decode()
    assert "Your decision" in page


def test_analyst_report_page_takes_a_fixed_number_of_queries(
    client, analyst, cohorts, django_assert_num_queries
):
    make_version(week="2026-W09")
    client.force_login(analyst)
    # As the approver's, less the authenticator.
    with django_assert_num_queries(19):
        assert client.get(url(cohorts, "?months=3&group=diverted")).status_code == 200
