"""Reads behind the report pages and renderings: versions, names, earlier weeks, and the
reoffending table's filtered pages."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from diversion.models import ExclusionFactor
from reports import selectors
from reports.models import ReoffenceImportJob, ReportStatus
from reports.selectors import ReoffendingFilter
from reports.workflow import report_submit
from tests.conftest import make_user
from tests.reports.factories import HACKNEY, LEWISHAM, SAMPLE, cohort_report, make_version

pytestmark = pytest.mark.django_db


def test_versions_list_filters_by_a_known_status_and_ignores_any_other():
    make_version(week="2026-W09", status=ReportStatus.APPROVED)
    make_version(week="2026-W10")
    make_version(week="2026-W10", number=2)
    listed = selectors.versions_list()
    assert [(v.week, v.number) for v in listed] == [
        ("2026-W10", 2),
        ("2026-W10", 1),
        ("2026-W09", 1),
    ]
    assert [v.week for v in selectors.versions_list(status="approved")] == ["2026-W09"]
    assert selectors.versions_list(status="nonsense").count() == 3
    assert {"data", "extra"} <= listed[0].get_deferred_fields()


def test_other_versions_are_the_same_week_newest_first_without_figures():
    first = make_version(number=1)
    make_version(number=2)
    make_version(number=3)
    make_version(week="2026-W09")
    others = selectors.other_versions(first)
    assert [v.number for v in others] == [3, 2]
    assert "data" in others[0].get_deferred_fields()


def test_approval_history_lists_only_workflow_steps(analyst):
    version = make_version()
    assert selectors.approval_history(version) == []
    report_submit(version=version, by=analyst)
    steps = selectors.approval_history(version)
    assert [s.history_change_reason for s in steps] == ["Submitted for approval"]
    assert steps[0].history_user == analyst


def test_reoffence_imports_are_only_the_persons_own(analyst):
    other = make_user("other-analyst", "analyst")

    def upload(by):
        return ReoffenceImportJob.objects.create(
            uploaded_by=by, file_name="m.csv", file_size=1, sha256="0" * 64, content=b"x"
        )

    mine = upload(analyst)
    upload(other)
    assert list(selectors.reoffence_imports(user=analyst)) == [mine]


def test_report_labels_name_boroughs_reasons_and_exclusion_factors():
    ExclusionFactor.objects.update_or_create(
        code="supply_indicators", defaults={"label": "Signs of supply"}
    )
    data = copy.deepcopy(SAMPLE)
    data["ineligibility_reasons"].append({"reason": "exclusion:retired_code", "count": 5})
    labels = selectors.report_labels(data)
    assert labels.boroughs == {LEWISHAM: "Lewisham", HACKNEY: "Hackney", "ALL": "All boroughs"}
    assert labels.reasons["exclusion:supply_indicators"] == "Exclusion: Signs of supply"
    assert labels.reasons["exclusion:retired_code"] == "Exclusion: retired_code"
    assert labels.reasons["age_over_max"] == "Over the maximum age"


def test_weekly_encounters_reads_only_activity_in_two_queries_however_many_weeks():
    for n in range(1, 10):
        make_version(week=f"2026-W0{n}")
        make_version(week=f"2026-W0{n}", number=2, status=ReportStatus.APPROVED)
    current = make_version(week="2026-W10")
    with CaptureQueriesContext(connection) as queries:
        points = selectors.weekly_encounters(current)
    assert len(queries) == 2
    assert "activity" in queries[1]["sql"], "only each version's activity is read"
    assert points == [(f"2026-W0{n}", 13) for n in range(1, 10)] + [("2026-W10", 13)]


def test_weekly_encounters_hide_a_small_week():
    low = copy.deepcopy(SAMPLE)
    low["activity"][2]["encounters"] = 2
    make_version(week="2026-W09", data=low)
    assert selectors.weekly_encounters(make_version(week="2026-W10")) == [
        ("2026-W09", None),
        ("2026-W10", 13),
    ]


def test_reoffending_boroughs_put_all_first_then_names_in_order():
    data = cohort_report()
    boroughs = selectors.report_labels(data).boroughs
    assert selectors.reoffending_boroughs(data, boroughs) == [
        ("ALL", "All boroughs"),
        (HACKNEY, "Hackney"),
        (LEWISHAM, "Lewisham"),
    ]


def test_reoffending_rows_are_in_the_tables_order_and_filtered():
    data = cohort_report()
    boroughs = selectors.report_labels(data).boroughs
    rows = selectors.reoffending_rows(data, boroughs=boroughs, only=ReoffendingFilter())
    assert len(rows) == 108
    keys = [(r["months"], r["cohort"], r["group"], r["borough"]) for r in rows[:4]]
    assert keys == [
        (3, "2024-01", "diverted", "ALL"),
        (3, "2024-01", "diverted", HACKNEY),
        (3, "2024-01", "diverted", LEWISHAM),
        (3, "2024-01", "comparison", "ALL"),
    ]
    only = ReoffendingFilter(borough="ALL", months=12, group="comparison")
    picked = selectors.reoffending_rows(data, boroughs=boroughs, only=only)
    assert [r["cohort"] for r in picked] == [f"2024-0{k}" for k in range(1, 7)]
    assert {(r["borough"], r["months"], r["group"]) for r in picked} == {("ALL", 12, "comparison")}


@pytest.mark.parametrize(
    ("page", "number", "size"),
    [(None, 1, 25), ("2", 2, 25), ("5", 5, 8), ("6", 5, 8), ("x", 1, 25), ("-3", 5, 8)],
)
def test_reoffending_page_gives_25_rows_and_a_page_that_exists(page, number, size):
    data = cohort_report()
    boroughs = selectors.report_labels(data).boroughs
    shown = selectors.reoffending_page(data, boroughs=boroughs, only=ReoffendingFilter(), page=page)
    assert (shown.number, len(shown.object_list), shown.paginator.count) == (number, size, 108)
