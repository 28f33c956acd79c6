"""Signing in through a real browser, and the home page's accessibility."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import axe_violations, page_fits_width

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
