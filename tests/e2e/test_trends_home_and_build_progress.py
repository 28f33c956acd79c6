"""The trends page, the analyst and approver home pages, and Build now on a real worker."""

import re
import time
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from boroughs.services import borough_configure
from reports.models import ReportStatus
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import axe_violations
from tests.reports.conftest import Worker
from tests.reports.factories import make_version, meet, person

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]
WEEK = "2024-W03"
STEP = re.compile(r"^Current step: (Starting|Gathering the figures|Comparing groups|Saving the)")


def _pilot_with_encounters() -> None:
    borough_configure(gss_code="E09000023", role="pilot", pilot_start=date(2023, 11, 1))
    borough_configure(gss_code="E09000028", role="comparison")
    for i in range(6):
        meet(person(f"D{i}", dob=date(2001, 1, 1)), date(2024, 1, 15), "diverted")
    for i in range(2):
        meet(person(f"C{i}", dob=date(2001, 1, 1)), date(2024, 1, 16), "declined")
    meet(person("N0", dob=date(2001, 1, 1)), date(2024, 1, 17), "not_offered")


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_trends_page_has_no_accessibility_violations(page, live_server, sign_in, analyst, size):
    _pilot_with_encounters()
    page.set_viewport_size(size)
    sign_in(analyst.username, PASSWORD)
    page.goto(f"{live_server.url}/reports/trends/?week=2024-W05")
    expect(page.get_by_role("heading", name="Trends across weeks", level=1)).to_be_visible()
    expect(
        page.get_by_role(
            "img", name="Encounters and diversions per week, 2023-W44 to 2024-W05, all boroughs"
        )
    ).to_be_visible()
    expect(page.get_by_role("table", name="Figures per week, all boroughs")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Borough", exact=True).select_option(label="Lewisham")
    page.get_by_role("button", name="Show trends").click()
    expect(page.get_by_role("table", name="Figures per week, Lewisham")).to_be_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_analyst_home_has_no_accessibility_violations(page, live_server, sign_in, analyst, size):
    approver = make_user("apo", "approver", first_name="Ada", last_name="Approver")
    make_version(week="2026-W08", status=ReportStatus.APPROVED)
    make_version(
        week="2026-W09",
        status=ReportStatus.RETURNED,
        decided_by=approver,
        approver_comment="Lewisham looks low",
    )
    make_version(week="2026-W10", status=ReportStatus.SUBMITTED, submitted_at=timezone.now())
    make_version(week="2026-W11")
    page.set_viewport_size(size)
    sign_in(analyst.username, PASSWORD)
    expect(page.get_by_role("heading", name="Latest week: 2026-W11")).to_be_visible()
    expect(page.get_by_text("Lewisham looks low")).to_be_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_approver_home_has_no_accessibility_violations(page, live_server, sign_in, approver, size):
    make_version(
        week="2026-W09",
        status=ReportStatus.SUBMITTED,
        submitted_at=timezone.now() - timedelta(days=3),
    )
    page.set_viewport_size(size)
    sign_in(approver.username, PASSWORD)
    expect(page.get_by_role("heading", name="Awaiting your decision")).to_be_visible()
    expect(page.get_by_text("waiting 3 days")).to_be_visible()
    assert axe_violations(page) == []


@pytest.fixture
def slow_worker(tmp_path):
    """Start, when asked, a real worker whose builds pause 1.5 s at each step; stop it after."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and a PostgreSQL DATABASE_URL to run a real Celery worker")
    from config.celery_app import app

    app.control.purge()  # no message left from another test for this worker to pick up
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(tmp_path, "e2e", "solo", {"REPORT_BUILD_TEST_STEP_DELAY": "1.5"}))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


@pytest.mark.integration
def test_build_now_shows_queued_then_running_with_its_step_then_ready(
    page, live_server, sign_in, analyst, slow_worker
):
    _pilot_with_encounters()
    sign_in(analyst.username, PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    page.get_by_label("Build a report now").fill(WEEK)
    started = time.monotonic()
    page.get_by_role("button", name="Build now").click()
    expect(page.get_by_role("heading", name=f"Building the report for {WEEK}")).to_be_visible()
    assert time.monotonic() - started < 5, "Build now waited for the build"
    status = page.locator("main strong.govuk-tag")
    expect(status).to_have_text("Queued")  # no worker is running yet
    expect(page.get_by_role("link", name="Refresh the page")).to_be_visible()
    assert axe_violations(page) == []

    worker = slow_worker()
    expect(status).to_have_text("Running", timeout=60_000)
    expect(page.locator("[data-job-step]")).to_have_text(STEP)
    page.wait_for_url("**/jobs/*/", timeout=60_000)
    open_report = page.get_by_role("link", name=f"Open the report for {WEEK}, version 1")
    try:
        expect(open_report).to_be_visible(timeout=60_000)
    except AssertionError:
        raise AssertionError(worker.text()) from None
    expect(status).to_have_text("Ready")
