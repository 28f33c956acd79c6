"""The report pages in a real browser: accessible, and usable on a phone."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from reports.models import ReportBuildJob, ReportStatus
from tests.conftest import PASSWORD, make_user
from tests.reports.test_renderings import make_version

pytestmark = pytest.mark.django_db(transaction=True)


def axe_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
    ]


def test_analyst_opens_a_report_version_with_no_accessibility_violations(
    page, live_server, sign_in
):
    make_user("analyst", "analyst")
    make_version(week="2026-W09", status=ReportStatus.APPROVED)
    version = make_version(week="2026-W10")
    sign_in("analyst", PASSWORD)
    page.goto(f"{live_server.url}{version.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Weekly report, version 1", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Encounters by borough, week 2026-W10")).to_be_visible()
    expect(
        page.get_by_role("img", name="Encounters per week, 2026-W09 to 2026-W10, all boroughs")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Submit for approval")).to_be_visible()
    assert axe_violations(page) == []


def test_report_version_page_fits_a_phone_screen(page, live_server, sign_in):
    make_user("analyst", "analyst")
    version = make_version()
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in("analyst", PASSWORD)
    page.goto(f"{live_server.url}{version.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Weekly report, version 1", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_violations(page) == []


def test_approver_returns_a_report_with_a_comment(page, live_server, sign_in):
    analyst = make_user("analyst", "analyst")
    make_user("approver", "approver")
    version = make_version(status=ReportStatus.SUBMITTED, submitted_by=analyst)
    sign_in("approver", PASSWORD)
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


def test_list_and_upload_pages_have_no_accessibility_violations(page, live_server, sign_in):
    analyst = make_user("analyst", "analyst")
    make_version()
    ReportBuildJob.objects.create(week="2026-W10", requested_by=analyst)
    sign_in("analyst", PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    expect(page.get_by_role("button", name="Build now")).to_be_visible()
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/reports/reoffences/upload/")
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert axe_violations(page) == []
