"""Cross-borough matching on purpose: officers see other boroughs' people only when they must.

An officer finding someone met only in another borough learns just that such a person is
known; the name, date of birth and PNC ID appear once they choose them, and that choice is
audited. Other boroughs' encounters and offences show on the person page as counts. Searches
are limited per officer per hour.
"""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEvent
from boroughs.services import officer_assign
from diversion.choices import ReoffenceSource
from diversion.models import Encounter
from diversion.services import reoffence_record
from tests.conftest import make_user
from tests.diversion.factories import EncounterFactory, PersonFactory, pilot_borough
from tests.diversion.test_views import dmy, encounter_data, twenty_year_old

pytestmark = pytest.mark.django_db


@pytest.fixture
def pilot(lewisham):
    return pilot_borough(lewisham.gss_code)


@pytest.fixture
def southwark(db):
    return pilot_borough("E09000028")


@pytest.fixture
def other_officer(southwark):
    user = make_user("southwark-officer", "officer")
    officer_assign(officer=user, borough=southwark)
    return user


@pytest.fixture
def signed_in(client, officer, pilot):
    client.force_login(officer)
    return client


@pytest.fixture
def known_elsewhere(southwark, other_officer):
    """Ria Khan, met only in Southwark, with a further offence a Southwark officer entered."""
    born = twenty_year_old()
    ria = PersonFactory(first_name="Ria", last_name="Khan", date_of_birth=born, pnc_id="12/34Z")
    EncounterFactory(borough=southwark, person=ria, officer=other_officer)
    reoffence_record(
        person=ria,
        by=other_officer,
        offence_date=timezone.localdate() - timedelta(days=3),
        offence_type="Burglary of a dwelling",
        source_ref="SW-1",
    )
    return ria


def find(client, person):
    client.post(
        "/encounters/new/",
        {"last_name": person.last_name, **dmy("date_of_birth", person.date_of_birth)},
    )
    return client.get("/encounters/new/choose/").content.decode()


def test_a_match_from_another_borough_shows_no_details_until_chosen(
    signed_in, officer, pilot, known_elsewhere
):
    html = find(signed_in, known_elsewhere)
    assert "A person with this name and date of birth is already known" in html
    assert "Ria" not in html and "12/34Z" not in html
    listed = AuditEvent.objects.get(action="person.match")
    assert (listed.actor, listed.target) == ("officer", "")
    assert listed.detail == "in your boroughs: 0; elsewhere: 1"

    response = signed_in.post("/encounters/new/choose/", {"person": "elsewhere-0"})
    assert response.url == "/encounters/new/details/"
    chosen = AuditEvent.objects.get(action="person.choose")
    assert chosen.target == f"person:{known_elsewhere.person_ref}"
    html = signed_in.get("/encounters/new/details/").content.decode()
    assert "Ria Khan" in html and "12/34Z" in html

    signed_in.post("/encounters/new/details/", encounter_data(pilot))
    assert Encounter.objects.filter(person=known_elsewhere).count() == 2


def test_person_page_counts_other_boroughs_records_without_details(
    signed_in, officer, pilot, known_elsewhere
):
    EncounterFactory(borough=pilot, person=known_elsewhere, officer=officer)
    reoffence_record(
        person=known_elsewhere,
        by=officer,
        offence_date=timezone.localdate() - timedelta(days=1),
        offence_type="Theft from a shop",
        source_ref="LW-1",
    )
    html = signed_in.get(f"/people/{known_elsewhere.person_ref}/").content.decode()
    assert "Theft from a shop" in html
    assert "Burglary" not in html and "SW-1" not in html
    assert "1 more encounter was recorded in other boroughs" in html
    assert "1 more further offence was recorded in other boroughs" in html
    assert ReoffenceSource.OFFICER == "officer"
    viewed = AuditEvent.objects.get(action="person.view")
    assert viewed.target == f"person:{known_elsewhere.person_ref}"


@override_settings(SEARCHES_PER_HOUR=3)
def test_searches_are_limited_per_officer_per_hour(signed_in, client, known_elsewhere):
    data = {"last_name": "Khan", **dmy("date_of_birth", known_elsewhere.date_of_birth)}
    for _ in range(2):
        assert signed_in.post("/encounters/new/", data).status_code == 302
    assert signed_in.post("/encounters/search/", {"search-encounter_ref": "X"}).status_code == 200
    refused = signed_in.post("/encounters/new/", data)
    assert refused.status_code == 429
    assert "You have made 3 searches in the last hour" in refused.content.decode()
    assert signed_in.post("/encounters/search/", {"search-encounter_ref": "X"}).status_code == 429
    assert AuditEvent.objects.filter(action="search.limited").count() == 2


def test_viewing_and_searching_encounters_is_audited_without_the_terms(signed_in, pilot, officer):
    encounter = EncounterFactory(borough=pilot, officer=officer)
    signed_in.get(encounter.get_absolute_url())
    person = encounter.person
    signed_in.post(
        "/encounters/search/",
        {"search-last_name": person.last_name, **dmy("search-date_of_birth", person.date_of_birth)},
    )
    events = AuditEvent.objects.exclude(action="sign-in").order_by("id")
    rows = list(events.values_list("action", "target", "detail"))
    assert rows == [
        ("encounter.view", f"encounter:{encounter.encounter_ref}", ""),
        ("encounter.search", "", "by surname and date of birth; results: 1"),
    ]
