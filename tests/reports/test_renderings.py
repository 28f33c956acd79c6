"""Each rendering: JSON unsuppressed; CSV, XLSX and PDF suppressed, DRAFT until approved."""

import copy
import csv
import hashlib
import io
import json
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from reports.models import ReportStatus, ReportVersion
from reports.renderings import filename, print_html, render, version_context
from reports.renderings.figures import reoffending_chart_rows
from reports.selectors import weekly_encounters
from reports.suppression import suppress_report
from tests.reports.factories import HACKNEY, SAMPLE, make_version

pytestmark = pytest.mark.django_db


def csv_rows(version: ReportVersion) -> list[list[str]]:
    text = render(version, "csv").decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def section(rows: list[list[str]], title: str) -> list[list[str]]:
    """Return the header and data rows under a section title, up to the blank row."""
    start = rows.index([title]) + 1
    end = next((i for i in range(start, len(rows)) if not rows[i]), len(rows))
    return rows[start:end]


def test_json_is_the_unsuppressed_spec_json_and_matches_the_hash():
    version = make_version()
    body = render(version, "json")
    loaded = json.loads(body.decode("utf-8"))
    assert set(loaded) == set(version.data)
    for key, value in version.data.items():
        if isinstance(value, list):  # lists may come in any order (SPEC §6)
            canon = [
                sorted(json.dumps(item, sort_keys=True) for item in v) for v in (loaded[key], value)
            ]
            assert canon[0] == canon[1], key
        else:
            assert loaded[key] == value
    assert hashlib.sha256(body).hexdigest() == version.sha256
    hackney = next(r for r in json.loads(body)["activity"] if r["borough"] == HACKNEY)
    assert hackney["encounters"] == 3, "the JSON keeps small numbers"


def test_csv_has_every_section_with_a_title_row_and_suppresses_small_numbers():
    rows = csv_rows(make_version())
    assert rows[0] == ["Weekly report 2026-W10, version 1"]
    activity = section(rows, "Activity this week")
    assert activity[0] == [
        "Borough",
        "Encounters",
        "Diverted",
        "Declined",
        "Not offered",
        "Not eligible",
    ]
    # Shown, Lewisham's 10 encounters would give Hackney's from the total (13 - 10), so they are
    # hidden as well (secondary suppression). Hackney is no pilot here (no role), so its diverted
    # 0 is known to anyone and is no cover: Lewisham's not offered 0 is hidden instead.
    assert ["Hackney", "<5", "0", "0", "<5", "0"] in activity
    assert ["Lewisham", "[c]", "<5", "<5", "[c]", "5"] in activity
    reasons = section(rows, "Reasons for not being eligible")
    assert reasons[1:] == [
        ["Over the maximum age", "<5"],
        ["Quantity over the limit", "6"],
        # The factor's label (from the policy migration), never the raw code.
        ["Exclusion: Signs of supply (for example scales, bags or large amounts of cash)", "<5"],
    ]
    referrals = section(rows, "Referrals and outcomes")
    # Withdrawn (1) would be referred - completed - did not attend - open, so did not attend is
    # hidden too, in both rows (ALL = Lewisham), and the completion rate with it.
    assert ["All boroughs", "40", "30", "25", "[c]", "<5", "8", "withheld"] in referrals
    reoffending = section(rows, "Reoffending")
    comparison = next(r for r in reoffending if r[2] == "Comparison")
    assert comparison[4:] == ["30", "<5", "<5", "withheld", "withheld", "withheld"]
    by_ethnicity = section(rows, "Disproportionality: by ethnic group")
    assert by_ethnicity[1] == ["Black", "20", "15", "9", "12", "<5", "withheld"]


def test_csv_says_no_data_when_there_is_no_disproportionality():
    rows = csv_rows(make_version(extra={}))
    assert section(rows, "Disproportionality: by gender") == [["No data"]]


def test_xlsx_has_a_cover_and_a_suppressed_sheet_per_section():
    version = make_version()
    book = load_workbook(io.BytesIO(render(version, "xlsx")))
    assert book.sheetnames == [
        "Cover",
        "Activity",
        "Ineligibility reasons",
        "Referrals",
        "Reoffending",
        "Diverted compared",
        "By ethnic group",
        "By gender",
        "By age band",
    ]
    cover = {row[0]: row[1] for row in book["Cover"].iter_rows(values_only=True) if len(row) > 1}
    assert cover["Week"] == "2026-W10"
    assert cover["Version"] == "1"
    assert cover["Status"] == "Draft"
    assert cover["SHA-256 of the data"] == version.sha256
    assert "shown as <5" in cover["Suppression"]
    activity = list(book["Activity"].iter_rows(values_only=True))
    assert ("Hackney", "<5", 0, 0, "<5", 0) in activity
    assert ("Lewisham", "[c]", "<5", "<5", "[c]", 5) in activity
    reoffending = list(book["Reoffending"].iter_rows(values_only=True))
    comparison = next(r for r in reoffending if r[2] == "Comparison")
    assert comparison[4:] == (30, "<5", "<5", "withheld", "withheld", "withheld")
    diverted = next(r for r in reoffending if r[2] == "Diverted" and r[3] == "All boroughs")
    assert diverted[7] == pytest.approx(0.125)


def test_print_html_is_suppressed_and_watermarked_draft_until_approved():
    draft = make_version()
    html = print_html(draft)
    assert 'class="app-watermark"' in html and ">DRAFT<" in html
    assert "&lt;5" in html and "Withheld" in html
    assert draft.sha256 in html
    hackney = re.search(r">Hackney</th>(.*?)</tr>", html, re.S).group(1)
    # Hackney has no role here, so its diverted 0 is known and shown (see the CSV test).
    assert re.findall(r">([^<]*)</td>", hackney) == ["&lt;5", "0", "0", "&lt;5", "0"]
    approved = make_version(number=2, status=ReportStatus.APPROVED)
    assert ">DRAFT<" not in print_html(approved)


@pytest.mark.parametrize("status", [ReportStatus.SUBMITTED, ReportStatus.RETURNED])
def test_submitted_and_returned_versions_are_still_watermarked(status):
    assert ">DRAFT<" in print_html(make_version(status=status))


def test_pdf_is_a_pdf_made_from_the_print_html():
    pdf = render(make_version(), "pdf")
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 2000


def test_print_html_has_charts_with_text_alternatives():
    html = print_html(make_version())
    assert html.count('role="img"') == 2  # activity by borough and reoffending; no trend yet
    assert '<title id="chart-activity-title">' in html
    assert '<desc id="chart-reoffending-desc">' in html
    assert "&lt;5, not plotted" in html  # Hackney's bar
    assert "Not plotted because the figure is suppressed or withheld: Hackney" in html


def test_reoffending_chart_uses_twelve_months_for_all_boroughs():
    months, rows = reoffending_chart_rows(suppress_report(SAMPLE))
    assert months == 12
    assert [(r["group"], r["rate"]) for r in rows] == [
        ("diverted", 0.125),
        ("comparison", "withheld"),
    ]


def test_reoffending_chart_uses_the_longest_period_when_twelve_months_is_not_reported():
    data = {
        **SAMPLE,
        "reoffending": [
            {**SAMPLE["reoffending"][0], "months": 3},
            {**SAMPLE["reoffending"][0], "months": 6, "cohort": "2025-02"},
        ],
    }
    months, rows = reoffending_chart_rows(suppress_report(data))
    assert months == 6 and [r["cohort"] for r in rows] == ["2025-02"]


def test_trend_uses_approved_or_latest_version_of_earlier_weeks():
    make_version(week="2026-W08", number=1, status=ReportStatus.APPROVED)
    later = copy.deepcopy(SAMPLE)
    later["activity"][2]["encounters"] = 99
    make_version(week="2026-W08", number=2, data=later)  # newer, but not approved
    make_version(week="2026-W09", number=1, data=later)
    low = copy.deepcopy(SAMPLE)
    low["activity"][2]["encounters"] = 2
    make_version(week="2026-W09", number=2, data=low)  # latest of W09, suppressed
    current = make_version(week="2026-W10")
    assert weekly_encounters(current) == [("2026-W08", 13), ("2026-W09", None), ("2026-W10", 13)]
    context = version_context(current)
    assert context["trend_chart"] is not None
    assert "2026-W09" in context["trend_chart"].not_plotted


def test_file_names_say_week_and_version():
    assert filename(make_version(number=3), "xlsx") == "weekly-report-2026-W10-v3.xlsx"


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="Unknown format"):
        render(make_version(), "docx")


def test_cover_records_who_submitted_and_approved_and_the_comment(django_user_model):
    analyst = django_user_model.objects.create_user("ana", first_name="Ana", last_name="Lyst")
    approver = django_user_model.objects.create_user("apo")
    version = make_version(
        status=ReportStatus.APPROVED,
        submitted_by=analyst,
        submitted_at=timezone.now(),
        decided_by=approver,
        decided_at=timezone.now(),
        approver_comment="Agreed at the board",
    )
    cover = dict(version_context(version)["cover_rows"])
    assert cover["Submitted"].endswith("by Ana Lyst")
    assert cover["Approved"].endswith("by apo")
    assert cover["Approver's comment"] == "Agreed at the board"
    assert cover["Built"].endswith("by the build_report command")
    rows = csv_rows(version)
    assert ["Approved", cover["Approved"]] in rows
