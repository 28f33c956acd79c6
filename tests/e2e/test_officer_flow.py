"""An officer on a phone logs an encounter, records acceptance and arranges the referral."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from diversion.models import Encounter, Referral
from tests.conftest import PASSWORD
from tests.diversion.factories import EncounterFactory, ProviderFactory, pilot_borough
from tests.e2e.conftest import axe_violations, page_fits_width

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def pilot_officer(officer):
    """The `officer` fixture (assigned to Lewisham), with Lewisham a pilot and one provider.

    The autouse reference data has already put back the policy that migrations ship.
    """
    lewisham = pilot_borough("E09000023")
    provider = ProviderFactory(name="Lewisham Drug Education", boroughs=[lewisham])
    return officer, lewisham, provider


def test_officer_on_a_phone_logs_an_encounter_accepts_and_arranges_a_referral(
    page: Page, live_server, sign_in, pilot_officer
):
    officer, lewisham, provider = pilot_officer
    born = timezone.localdate().replace(month=1, day=15) - timedelta(days=20 * 366)
    page.set_viewport_size(PHONE)
    sign_in(officer.username, PASSWORD)

    page.get_by_role("button", name="Log an encounter").click()
    expect(page.get_by_role("heading", name="Find the person")).to_be_visible()
    page.get_by_label("Surname").fill("Okafor")
    page.get_by_label("Day").fill(str(born.day))
    page.get_by_label("Month").fill(str(born.month))
    page.get_by_label("Year").fill(str(born.year))
    page.get_by_role("button", name="Find person").click()

    expect(page.get_by_role("heading", name="No one found")).to_be_visible()
    page.get_by_role("button", name="Add a new person").click()
    expect(page.get_by_label("Surname")).to_have_value("Okafor")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Female").check()
    page.get_by_label("Self-defined ethnicity").select_option("B2")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="What happened")).to_be_visible()
    # The officer's only borough is chosen for them: named, with nothing to tick.
    expect(page.locator("#single-borough")).to_contain_text("Lewisham")
    expect(page.get_by_role("radio", name="Lewisham")).to_have_count(0)
    assert axe_violations(page) == []
    assert page_fits_width(page, PHONE["width"])

    # A mistake first: the error summary and inline message, on a page still usable.
    page.get_by_role("button", name="Record encounter").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: What happened"))
    assert axe_violations(page) == []
    assert Encounter.objects.count() == 0

    page.get_by_label("Location").fill("Lewisham High Street")
    page.get_by_label("Herbal cannabis").check()
    page.get_by_label("Quantity in grams").fill("3.5")
    page.get_by_label("Cannabis warning").check()
    page.get_by_role("button", name="Record encounter").click()

    expect(page.get_by_role("heading", name="Diversion offered", level=1)).to_be_visible()
    encounter = Encounter.objects.get()
    assert encounter.borough == lewisham and encounter.person.first_name == "Ada"
    assert axe_violations(page) == []
    assert page_fits_width(page, PHONE["width"])

    page.get_by_label("Yes, they accepted diversion").check()
    page.get_by_role("button", name="Save answer").click()
    expect(page.get_by_role("heading", name="Diverted", level=1)).to_be_visible()
    expect(page.get_by_text("Referred: waiting for the person to attend")).to_be_visible()

    page.get_by_label(provider.name).check()
    page.get_by_role("button", name="Arrange referral").click()
    expect(page.get_by_text(f"Referral to {provider.name} saved")).to_be_visible()
    assert Referral.objects.get().provider == provider
    assert axe_violations(page) == []
    assert page_fits_width(page, PHONE["width"])

    page.get_by_role("link", name="Home").first.click()
    expect(page.get_by_role("link", name=encounter.encounter_ref)).to_be_visible()
    assert page_fits_width(page, PHONE["width"])
    # What the flow stored: an accepted diversion by this officer, referred to the provider.
    encounter.refresh_from_db()
    assert (encounter.decision, encounter.accepted) == ("diverted", True)
    assert encounter.officer == officer
    assert (encounter.substance, encounter.quantity_grams) == ("cannabis_herbal", Decimal("3.5"))
    assert encounter.location == "Lewisham High Street"
    assert encounter.otherwise_disposal == "cannabis_warning"
    assert encounter.referral.provider == provider


def test_officer_on_a_phone_finds_a_person_and_records_a_further_offence(
    page: Page, live_server, sign_in, pilot_officer
):
    officer, lewisham, _provider = pilot_officer
    encounter = EncounterFactory(borough=lewisham, officer=officer, accepted=False)
    person = encounter.person
    page.set_viewport_size(PHONE)
    sign_in(officer.username, PASSWORD)

    # An exact reference opens the encounter itself.
    page.get_by_label("Find an encounter or person").fill(encounter.encounter_ref)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Diversion declined", level=1)).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_role("link", name=f"{person.first_name} {person.last_name}").click()
    expect(page.get_by_role("heading", name="Record a further offence")).to_be_visible()
    day = timezone.localdate() - timedelta(days=1)
    page.get_by_label("Day").fill(str(day.day))
    page.get_by_label("Month").fill(str(day.month))
    page.get_by_label("Year").fill(str(day.year))
    page.get_by_label("Type of offence").fill("Theft from a shop")
    page.get_by_role("button", name="Record further offence").click()
    expect(page.get_by_text("Further offence recorded")).to_be_visible()
    expect(page.get_by_role("cell", name="Theft from a shop")).to_be_visible()
    assert axe_violations(page) == []
    assert page_fits_width(page, PHONE["width"])
