"""Admins' borough pages, the error pages and the admin forms touched, in a real browser.

Each page is checked with axe-core on a phone (390 × 844) and a desktop (1280 × 800).
"""

import re

import pytest
from playwright.sync_api import expect

from boroughs.models import Borough
from diversion.models import EligibilityPolicy
from tests.conftest import PASSWORD, enrol, make_user
from tests.e2e.conftest import axe_violations, page_fits_width

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
LEWISHAM = "E09000023"
SERIOUS = {"critical", "serious"}


def serious_violations(page) -> list[str]:
    """Run axe-core and keep only critical and serious findings (for Django's own admin)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response["violations"]
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in results if v["impact"] in SERIOUS
    ]


def check(page, size: dict) -> None:
    assert page_fits_width(page, size["width"])
    assert axe_violations(page) == []


@SIZES
def test_admin_configures_a_borough_and_reads_its_history(page, live_server, sign_in, size):
    enrol(make_user("ada", "admin", is_staff=True, first_name="Ada", last_name="Admin"))
    page.set_viewport_size(size)
    sign_in("ada", PASSWORD)
    page.get_by_role("link", name="Boroughs", exact=True).click()
    expect(page.get_by_role("heading", name="Boroughs", level=1)).to_be_visible()
    check(page, size)

    page.get_by_role("link", name="Change Lewisham").click()
    expect(page.get_by_role("heading", name="Change the borough's part")).to_be_visible()
    check(page, size)

    page.get_by_label("Comparison").check()
    page.locator("#id_pilot_start_0").fill("5")
    page.locator("#id_pilot_start_1").fill("1")
    page.locator("#id_pilot_start_2").fill("2026")
    page.get_by_label("Reason for the change").fill("MOPAC board approval")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_role("link", name="Only a pilot borough has pilot dates")).to_be_visible()
    assert Borough.objects.get(gss_code=LEWISHAM).role == "none"
    check(page, size)

    page.get_by_label("Pilot", exact=True).check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Lewisham: changes saved")).to_be_visible()
    check(page, size)

    page.get_by_role("link", name="History of Lewisham").click()
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
    expect(page.get_by_text("by Ada Admin")).to_be_visible()
    expect(page.get_by_text("MOPAC board approval")).to_be_visible()
    check(page, size)


@SIZES
def test_error_pages_are_accessible(page, live_server, sign_in, officer, size):
    page.set_viewport_size(size)
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check(page, size)
    sign_in(officer.username, PASSWORD)
    response = page.goto(f"{live_server.url}/boroughs/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You do not have permission")).to_be_visible()
    check(page, size)
    page.goto(f"{live_server.url}/no-such-page/")
    check(page, size)


@SIZES
@pytest.mark.urls("tests.config.error_urls")
def test_server_error_and_bad_request_pages_are_accessible(page, live_server, size):
    page.set_viewport_size(size)
    response = page.goto(f"{live_server.url}/test/crash/")
    assert response.status == 500
    expect(page.get_by_role("heading", name="there is a problem with the service")).to_be_visible()
    expect(page.get_by_text("Reference:")).to_be_visible()
    check(page, size)
    response = page.goto(f"{live_server.url}/test/bad/")
    assert response.status == 400
    check(page, size)


@SIZES
def test_refused_form_page_is_accessible(page, live_server, officer, size):
    page.set_viewport_size(size)
    page.goto(f"{live_server.url}/sign-in/")
    page.context.clear_cookies()  # the form's token no longer matches any cookie
    page.get_by_label("Username").fill(officer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sorry, your form could not be sent")).to_be_visible()
    check(page, size)


def test_admin_forms_touched_have_no_critical_or_serious_findings(page, live_server, sign_in):
    make_user("ada", "admin", is_staff=True)
    enrol(make_user("root", is_staff=True, is_superuser=True))  # a second factor, as admins
    officer = make_user("olu", "officer")
    borough = Borough.objects.get(gss_code=LEWISHAM)
    policy = EligibilityPolicy.objects.order_by("version").first()
    page.set_viewport_size(DESKTOP)
    sign_in("root", PASSWORD)
    for path in [
        "/admin/",
        "/admin/boroughs/borough/",
        f"/admin/boroughs/borough/{borough.pk}/change/",
        f"/admin/boroughs/borough/{borough.pk}/history/",
        "/admin/diversion/eligibilitypolicy/add/",
        f"/admin/diversion/eligibilitypolicy/{policy.pk}/change/",
        "/admin/auth/user/add/",
        "/admin/boroughs/officerassignment/add/",
        "/admin/diversion/provider/add/",
    ]:
        page.goto(f"{live_server.url}{path}")
        assert serious_violations(page) == [], path
    page.goto(f"{live_server.url}/admin/auth/user/{officer.pk}/change/")
    page.get_by_role(
        "button", name=re.compile("Add another borough this person", re.IGNORECASE)
    ).click()
    expect(page.locator("#id_assignments-0-borough")).to_be_visible()
    assert serious_violations(page) == []
    page.goto(f"{live_server.url}/admin/boroughs/borough/{borough.pk}/change/")
    page.get_by_label("Role").select_option("comparison")
    page.get_by_label("Pilot start").fill("05/01/2026")
    page.get_by_label("Reason for the change").fill("Trying dates on a comparison borough")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Only a pilot borough has pilot dates")).to_be_visible()
    assert serious_violations(page) == []
