"""Flagged referrals: a short list on the officer's home page, all of them a page at a time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from diversion import services
from tests.diversion.factories import EncounterFactory, PersonFactory, pilot_borough

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(officer):
    """Twelve diverted encounters 40+ days ago in the officer's borough, flagged overdue."""
    borough = pilot_borough("E09000023")
    today = timezone.localdate()
    encounters = [
        EncounterFactory(
            borough=borough,
            officer=officer,
            accepted=True,
            person=PersonFactory(),
            encounter_date=today - timedelta(days=40 + n),
        )
        for n in range(12)
    ]
    assert services.referrals_flag_overdue() == 12
    return encounters


def test_home_page_shows_the_ten_oldest_and_links_to_the_rest(client, officer, overdue):
    client.force_login(officer)
    html = client.get("/").content.decode()
    assert "12 referrals in your boroughs have no final outcome" in html
    oldest_first = sorted(overdue, key=lambda e: e.encounter_date)
    for encounter in oldest_first[:10]:
        assert f'#referral">{encounter.encounter_ref}</a>' in html
    for encounter in oldest_first[10:]:
        assert f'#referral">{encounter.encounter_ref}</a>' not in html
    assert "See all 12 referrals needing action" in html


def test_full_list_pages_through_every_flagged_referral(client, officer, overdue, monkeypatch):
    monkeypatch.setattr("diversion.views.REFERRALS_PER_PAGE", 5)
    client.force_login(officer)
    seen: list[str] = []
    for number in (1, 2, 3):
        html = client.get(f"/referrals/needing-action/?page={number}").content.decode()
        assert f"Page {number} of 3" in html
        seen += [e.encounter_ref for e in overdue if f">{e.encounter_ref}</a>" in html]
    assert sorted(seen) == sorted(e.encounter_ref for e in overdue)


def test_full_list_is_for_officers_only(client, analyst):
    client.force_login(analyst)
    assert client.get("/referrals/needing-action/").status_code == 403
