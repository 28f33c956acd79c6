"""The officer's home page, work queue and encounter form on a phone and a desktop (issue 11).

Each page visited has no axe-core violations, fits the screen with no sideways scrolling,
and keeps references and dates on one line. Screenshots of the phone pages are written to
/tmp/officer-e2e/ (not committed) for a person to look at.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from boroughs.services import officer_assign
from diversion import services
from tests.conftest import PASSWORD
from tests.diversion.factories import (
    EncounterFactory,
    PersonFactory,
    ProviderFactory,
    comparison_borough,
    pilot_borough,
)
from tests.e2e.conftest import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SCREENS = pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
SHOTS = Path("/tmp/officer-e2e")

# Elements that must never wrap inside: references and dates.
BROKEN_TOKENS = """() => [...document.querySelectorAll('.app-ref, .app-date, .app-nowrap')]
  .filter(el => el.getClientRects().length > 1).map(el => el.textContent.trim())"""


@pytest.fixture
def busy_officer(officer):
    """An officer in a pilot and a comparison borough, with 30 referrals needing action."""
    lewisham = pilot_borough("E09000023")
    croydon = comparison_borough("E09000008")
    officer_assign(officer=officer, borough=croydon)
    provider = ProviderFactory(name="Lewisham Young People's Drug Service", boroughs=[lewisham])
    today = timezone.localdate()
    for n in range(30):
        encounter = EncounterFactory(
            borough=lewisham,
            officer=officer,
            accepted=True,
            person=PersonFactory(first_name=f"Alexandria{n}", last_name="Montgomery-Smythe"),
            encounter_date=today - timedelta(days=30 + n),
        )
        if n % 3 == 0:
            services.referral_arrange(
                referral=encounter.referral,
                provider=provider,
                appointment_on=today - timedelta(days=n + 3),
                by=officer,
            )
    return officer


def sign_in_on(page: Page, live_server, sign_in, officer, screen: dict) -> None:
    page.set_viewport_size(screen)
    sign_in(officer.username, PASSWORD)


def check_page(page: Page, screen: dict, name: str) -> None:
    """No accessibility violations, nothing wider than the screen, no token broken."""
    assert axe_violations(page) == []
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width == screen["width"]
    assert page.evaluate(BROKEN_TOKENS) == []
    if screen is PHONE:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)


@SCREENS
def test_officer_home_puts_find_and_log_first_then_action_then_recent(
    page: Page, live_server, sign_in, busy_officer, screen
):
    sign_in_on(page, live_server, sign_in, busy_officer, screen)
    expect(page.get_by_role("heading", name="Needs your action")).to_be_visible()
    check_page(page, screen, "home")
    find = page.get_by_label("Find an encounter or person").bounding_box()
    log = page.get_by_role("button", name="Log an encounter").bounding_box()
    action = page.get_by_role("heading", name="Needs your action").bounding_box()
    recent = page.get_by_role("heading", name="My recent encounters").bounding_box()
    assert log["y"] < action["y"] and find["y"] < action["y"] < recent["y"]
    expect(page.get_by_text("30 referrals")).to_be_visible()
    if screen is PHONE:
        # Find and log fit on the first screen; the whole page stays short.
        assert find["y"] + find["height"] < PHONE["height"]
        assert page.evaluate("document.documentElement.scrollHeight") < 2000

    page.get_by_role("link", name="Work through the referrals needing action").click()
    expect(page.get_by_role("heading", name="Referrals needing action", level=1)).to_be_visible()


@SCREENS
def test_work_queue_shows_cards_filters_and_pages(
    page: Page, live_server, sign_in, busy_officer, screen
):
    sign_in_on(page, live_server, sign_in, busy_officer, screen)
    page.goto(f"{live_server.url}/referrals/needing-action/")
    expect(page.get_by_role("heading", name="30 referrals need action")).to_be_visible()
    cards = page.locator(".app-queue-card")
    expect(cards).to_have_count(20)
    # Most overdue first: encounter 59 days ago, 31 days past the 28-day outcome.
    first = cards.first
    expect(first.get_by_role("heading", name="Alexandria29 Montgomery-Smythe")).to_be_visible()
    expect(first).to_contain_text("31 days overdue")
    expect(first).to_contain_text("No outcome 28 days after the encounter")
    check_page(page, screen, "queue")

    page.get_by_role("link", name="Next page").click()
    expect(cards).to_have_count(10)
    check_page(page, screen, "queue-page-2")

    page.get_by_label("What is due").select_option("appointment")
    page.get_by_role("button", name="Show referrals").click()
    expect(page.get_by_role("heading", name="10 referrals need action")).to_be_visible()
    expect(cards.first).to_contain_text("Appointment passed, no attendance recorded")
    check_page(page, screen, "queue-appointments")

    cards.first.get_by_role("link", name="Record outcome").click()
    expect(page.get_by_text("Appointment passed: no attendance recorded")).to_be_visible()
    expect(page.get_by_role("button", name="Save outcome")).to_be_visible()
    check_page(page, screen, "referral-appointment-passed")


@SCREENS
def test_encounter_form_says_pilot_or_comparison_and_shows_a_date_error_once(
    page: Page, live_server, sign_in, busy_officer, screen
):
    sign_in_on(page, live_server, sign_in, busy_officer, screen)
    page.get_by_role("button", name="Log an encounter").click()
    page.get_by_label("Surname").fill("Okafor")
    page.get_by_label("Day").fill("15")
    page.get_by_label("Month").fill("1")
    page.get_by_label("Year").fill(str(timezone.localdate().year - 20))
    page.get_by_role("button", name="Find person").click()
    page.get_by_role("button", name="Add a new person").click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Female").check()
    page.get_by_label("Self-defined ethnicity").select_option("B2")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="What happened")).to_be_visible()
    expect(page.get_by_text("Comparison borough: encounters are recorded")).to_be_visible()
    expect(page.get_by_text("Pilot borough, from")).to_be_visible()
    check_page(page, screen, "encounter-form")

    page.get_by_label("Lewisham").check()
    for box in ("Day", "Month", "Year"):
        page.get_by_label(box).fill("xx")
    page.get_by_role("button", name="Record encounter").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    message = page.get_by_text("The date of the encounter must be a real date")
    expect(message).to_have_count(2)  # The summary and the field, once each.
    check_page(page, screen, "encounter-form-error")
