"""The report pages in a real browser: accessible, and usable on a phone."""

import pytest
from playwright.sync_api import expect

from reports.models import ReportBuildJob, ReportStatus
from tests.conftest import PASSWORD
from tests.e2e.conftest import axe_violations, page_fits_width
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}


def test_analyst_opens_a_report_version_with_no_accessibility_violations(
    page, live_server, sign_in, analyst
):
    make_version(week="2026-W09", status=ReportStatus.APPROVED)
    version = make_version(week="2026-W10")
    sign_in(analyst.username, PASSWORD)
    page.goto(f"{live_server.url}{version.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Weekly report, version 1", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Encounters by borough, week 2026-W10")).to_be_visible()
    expect(
        page.get_by_role("img", name="Encounters per week, 2026-W09 to 2026-W10, all boroughs")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Submit for approval")).to_be_visible()
    assert axe_violations(page) == []


def test_report_version_page_fits_a_phone_screen(page, live_server, sign_in, analyst):
    version = make_version()
    page.set_viewport_size(PHONE)
    sign_in(analyst.username, PASSWORD)
    page.goto(f"{live_server.url}{version.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Weekly report, version 1", level=1)).to_be_visible()
    assert page_fits_width(page, PHONE["width"])
    assert axe_violations(page) == []


def test_approver_returns_a_report_with_a_comment(page, live_server, sign_in, analyst, approver):
    version = make_version(status=ReportStatus.SUBMITTED, submitted_by=analyst)
    sign_in(approver.username, PASSWORD)
    page.goto(f"{live_server.url}{version.get_absolute_url()}")
    page.get_by_label("Return it to the analysts").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Return it to the analysts").check()
    page.get_by_label("Comment").fill("Lewisham's figures look low")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text("Report returned.")).to_be_visible()
    version.refresh_from_db()
    assert version.status == ReportStatus.RETURNED


def test_list_and_upload_pages_have_no_accessibility_violations(
    page, live_server, sign_in, analyst
):
    make_version()
    ReportBuildJob.objects.create(week="2026-W10", requested_by=analyst)
    sign_in(analyst.username, PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    expect(page.get_by_role("button", name="Build now")).to_be_visible()
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/reports/reoffences/upload/")
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert axe_violations(page) == []
