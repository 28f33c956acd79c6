"""Every officer page runs a fixed number of queries, however many rows it shows (issue 8).

Home and the work queue are pinned in test_referrals_needing_action.py; these are the rest:
the encounter and person pages, both searches and the steps of a new encounter. Each is
requested with a short and a long history behind it, and must run the same queries for both.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diversion import selectors
from diversion.models import Encounter, Person
from tests.diversion.factories import EncounterFactory, PersonFactory, pilot_borough
from tests.diversion.test_views import dmy

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate

# Pinned. Each includes the session, user, permission and role look-ups every signed-in page
# makes, and the session save kept on every request for the idle timeout.
ENCOUNTER_PAGE = 17
PERSON_PAGE = 18
SEARCH_BY_NAME = 13
SEARCH_BY_REFERENCE = 13
NEW_ENCOUNTER_FORM = 10
NEW_ENCOUNTER_SEARCH = 10
CHOOSE_PERSON = 13


def queries(client, method: str, url: str, data: dict | None = None, status: int = 200) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == status, response.status_code
    return len(captured)


@pytest.fixture
def lewisham_pilot(officer):
    return pilot_borough("E09000023")


def history(borough, officer, *, encounters: int) -> Person:
    """One person met ``encounters`` times in the borough, a day apart, the last diverted."""
    person = PersonFactory(last_name="Okafor")
    for n in range(encounters, 0, -1):
        EncounterFactory(
            borough=borough,
            officer=officer,
            person=person,
            encounter_date=TODAY() - timedelta(days=n),
            accepted=True,
        )
    return person


@pytest.mark.parametrize("encounters", [3, 30])
def test_encounter_and_person_pages(client, officer, lewisham_pilot, encounters):
    person = history(lewisham_pilot, officer, encounters=encounters)
    latest = Encounter.objects.filter(person=person).order_by("-encounter_date").first()
    client.force_login(officer)
    assert queries(client, "get", latest.get_absolute_url()) == ENCOUNTER_PAGE
    assert queries(client, "get", f"/people/{person.person_ref}/") == PERSON_PAGE
    assert queries(client, "get", f"/people/{person.person_ref}/?page=2") == PERSON_PAGE


@pytest.mark.parametrize("encounters", [3, 30])
def test_both_searches(client, officer, lewisham_pilot, encounters):
    person = history(lewisham_pilot, officer, encounters=encounters)
    latest = Encounter.objects.filter(person=person).order_by("-encounter_date").first()
    client.force_login(officer)
    by_name = {
        "search-encounter_ref": "",
        "search-last_name": person.last_name,
        **{f"search-{k}": v for k, v in dmy("date_of_birth", person.date_of_birth).items()},
    }
    assert queries(client, "post", "/encounters/search/", by_name) == SEARCH_BY_NAME
    by_reference = {"search-encounter_ref": latest.encounter_ref, "search-last_name": ""}
    assert (
        queries(client, "post", "/encounters/search/", by_reference, status=302)
        == SEARCH_BY_REFERENCE
    )


@pytest.mark.parametrize("people", [1, 6])
def test_new_encounter_steps(client, officer, lewisham_pilot, people):
    for _ in range(people):
        history(lewisham_pilot, officer, encounters=2)
    born = Person.objects.first().date_of_birth
    client.force_login(officer)
    assert queries(client, "get", "/encounters/new/") == NEW_ENCOUNTER_FORM
    found = {"last_name": "Okafor", **dmy("date_of_birth", born)}
    assert queries(client, "post", "/encounters/new/", found, status=302) == NEW_ENCOUNTER_SEARCH
    assert queries(client, "get", "/encounters/new/choose/") == CHOOSE_PERSON


def test_person_page_shows_a_page_of_encounters_newest_first(client, officer, lewisham_pilot):
    person = history(lewisham_pilot, officer, encounters=selectors.RECENT_ENCOUNTERS + 2)
    newest_first = list(
        Encounter.objects.filter(person=person)
        .order_by("-encounter_date")
        .values_list("encounter_ref", flat=True)
    )
    client.force_login(officer)
    first = client.get(f"/people/{person.person_ref}/").content.decode()
    second = client.get(f"/people/{person.person_ref}/?page=2").content.decode()
    assert all(ref in first for ref in newest_first[: selectors.RECENT_ENCOUNTERS])
    assert not any(ref in first for ref in newest_first[selectors.RECENT_ENCOUNTERS :])
    assert all(ref in second for ref in newest_first[selectors.RECENT_ENCOUNTERS :])
    assert "Older encounters" in first and "Newer encounters" in second
    assert f"Encounters 1 to 20 of {len(newest_first)}, newest first" in first
    # A page number that is not one shows the first page rather than an error.
    assert newest_first[0] in client.get(f"/people/{person.person_ref}/?page=x").content.decode()
    # One past the end, or below the first, shows the last page rather than an error.
    for page in ("99999", "-1", "0"):
        response = client.get(f"/people/{person.person_ref}/?page={page}")
        assert response.status_code == 200
        assert newest_first[-1] in response.content.decode()
        assert newest_first[0] not in response.content.decode()


def test_another_boroughs_person_page_is_not_found_on_any_page(client, officer, lewisham_pilot):
    """Paging does not open a person the officer's boroughs never met."""
    elsewhere = history(pilot_borough("E09000022"), None, encounters=3)
    client.force_login(officer)
    for page in ("1", "2", "x"):
        assert client.get(f"/people/{elsewhere.person_ref}/?page={page}").status_code == 404
