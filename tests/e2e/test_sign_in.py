"""Signing in through a real browser, and the home page's accessibility."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def axe_violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


def test_officer_signs_in_and_home_page_has_no_accessibility_violations(page, live_server, sign_in):
    make_user("officer", "officer")
    sign_in("officer", PASSWORD)
    expect(page.get_by_role("heading", name="Cannabis diversion pilot", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Officer")).to_be_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize("role", ["analyst", "approver", "admin"])
def test_each_role_home_page_has_no_accessibility_violations(page, live_server, sign_in, role):
    make_user(role, role, is_staff=role == "admin")
    sign_in(role, PASSWORD)
    expect(page.get_by_role("heading", name=role.capitalize(), level=2)).to_be_visible()
    assert axe_violations(page) == []


def test_sign_in_page_has_no_accessibility_violations_and_shows_errors(page, live_server):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/sign-in/?next=/")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert axe_violations(page) == []


def test_home_page_fits_a_phone_screen(page, live_server, sign_in):
    make_user("officer", "officer")
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in("officer", PASSWORD)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360
