"""Signing in through a real browser, and the home page's accessibility."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_user, totp_code
from tests.e2e.conftest import axe_violations, page_fits_width
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}


def test_officer_signs_in_and_home_page_has_no_accessibility_violations(
    page, live_server, sign_in, officer
):
    sign_in(officer.username, PASSWORD)
    expect(page.get_by_role("heading", name="Cannabis diversion pilot", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Officer")).to_be_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize(
    ("role", "fixture"), [("analyst", "analyst"), ("approver", "approver"), ("admin", "admin_user")]
)
def test_each_role_home_page_has_no_accessibility_violations(
    page, live_server, sign_in, request, role, fixture
):
    user = request.getfixturevalue(fixture)
    sign_in(user.username, PASSWORD)
    expect(page.get_by_role("heading", name=role.capitalize(), level=2)).to_be_visible()
    assert axe_violations(page) == []


def test_sign_in_page_has_no_accessibility_violations_and_shows_errors(page, live_server):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/sign-in/?next=/")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert axe_violations(page) == []


def test_home_page_fits_a_phone_screen(page, live_server, sign_in, officer):
    page.set_viewport_size(PHONE)
    sign_in(officer.username, PASSWORD)
    # Measure the signed-in home page, not the sign-in page or one still loading.
    expect(page.get_by_role("heading", name="Cannabis diversion pilot", level=1)).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/")
    assert page_fits_width(page, PHONE["width"])


def test_a_new_approver_sets_up_two_factor_in_the_browser(page, live_server, sign_in):
    user = make_user("new-approver", "approver")
    sign_in(user.username, PASSWORD)
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Code").fill(totp_code(user))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    assert page.get_by_role("list", name="Recovery codes").get_by_role("listitem").count() == 10
    assert axe_violations(page) == []
    page.get_by_role("button", name="I have saved my codes, continue").click()
    expect(page.get_by_role("heading", name="Approver", level=2)).to_be_visible()


def test_the_lockout_page_is_plain_and_accessible(page, live_server, officer):
    for _ in range(5):
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Username").fill(officer.username)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_role("heading", name="Your account is locked for 15 minutes")
    ).to_be_visible()
    assert axe_violations(page) == []


def test_pages_break_no_content_security_policy_rule(page, live_server, sign_in, analyst):
    """The browser reports no script or style blocked by the policy on the busiest pages."""
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    sign_in(analyst.username, PASSWORD)
    version = make_version()
    page.goto(f"{live_server.url}{version.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Weekly report, version 1", level=1)).to_be_visible()
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    assert blocked == []


def test_the_admin_breaks_no_content_security_policy_rule(page, live_server, sign_in, admin_user):
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    sign_in(admin_user.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/auth/user/{admin_user.pk}/change/")
    expect(page.get_by_role("heading", name="Change user")).to_be_visible()
    page.goto(f"{live_server.url}/admin/boroughs/officerassignment/add/")
    expect(page.get_by_role("heading", name="Add officer assignment")).to_be_visible()
    assert blocked == []
