"""Officer reads are scoped to the boroughs the officer is assigned to."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from boroughs.services import officer_assign
from diversion import selectors, services
from tests.conftest import make_user
from tests.diversion.factories import (
    EncounterFactory,
    PersonFactory,
    ProviderFactory,
    comparison_borough,
    pilot_borough,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


SOUTHWARK = "E09000028"


@pytest.fixture
def lewisham_pilot(lewisham):
    return pilot_borough(lewisham.gss_code)


@pytest.fixture
def southwark():
    return comparison_borough(SOUTHWARK)


@pytest.fixture
def mine_and_theirs(officer, lewisham_pilot, southwark):
    """One encounter in the officer's borough and one in a borough they do not work in."""
    mine = EncounterFactory(borough=lewisham_pilot, officer=officer)
    theirs = EncounterFactory(borough=southwark)
    return mine, theirs


def test_encounters_for_officer_lists_only_their_boroughs(officer, mine_and_theirs):
    mine, _theirs = mine_and_theirs
    assert list(selectors.encounters_for_officer(user=officer)) == [mine]


def test_encounters_for_officer_covers_every_assigned_borough_newest_first(
    officer, mine_and_theirs, southwark
):
    mine, theirs = mine_and_theirs
    officer_assign(officer=officer, borough=southwark)
    newer = EncounterFactory(borough=southwark, encounter_date=TODAY() - timedelta(days=1))
    assert list(selectors.encounters_for_officer(user=officer))[0] == newer
    assert set(selectors.encounters_for_officer(user=officer)) == {mine, theirs, newer}


def test_officer_with_no_borough_sees_no_encounters(mine_and_theirs):
    nobody = make_user("unassigned", "officer")
    assert not selectors.encounters_for_officer(user=nobody).exists()


def test_encounter_for_officer_is_not_found_outside_their_boroughs(officer, mine_and_theirs):
    mine, theirs = mine_and_theirs
    assert selectors.encounter_for_officer(user=officer, encounter_ref=mine.encounter_ref) == mine
    with pytest.raises(Http404):
        selectors.encounter_for_officer(user=officer, encounter_ref=theirs.encounter_ref)


def test_people_matching_ignores_case_and_spaces_but_needs_the_exact_birth_date(db):
    jo = PersonFactory(first_name="Jo", last_name="O'Neill")
    PersonFactory(
        first_name="Al", last_name="O'Neill", date_of_birth=jo.date_of_birth + timedelta(days=1)
    )
    PersonFactory(first_name="Cy", last_name="Neill", date_of_birth=jo.date_of_birth)
    found = selectors.people_matching(last_name=" o'neill ", date_of_birth=jo.date_of_birth)
    assert list(found) == [jo]


def test_person_for_officer_needs_an_encounter_in_their_boroughs(
    officer, lewisham_pilot, southwark
):
    person = PersonFactory()
    EncounterFactory(borough=southwark, person=person)
    with pytest.raises(Http404):
        selectors.person_for_officer(user=officer, person_ref=person.person_ref)
    EncounterFactory(borough=lewisham_pilot, person=person)
    assert selectors.person_for_officer(user=officer, person_ref=person.person_ref) == person
    assert selectors.person_encounters_for_officer(user=officer, person=person).count() == 1


def test_person_never_met_is_not_found(officer):
    person = PersonFactory()
    with pytest.raises(Http404):
        selectors.person_for_officer(user=officer, person_ref=person.person_ref)


def test_referrals_due_are_open_and_in_their_boroughs(officer, lewisham_pilot):
    southwark = pilot_borough(SOUTHWARK)
    old = TODAY() - timedelta(days=40)
    due = EncounterFactory(borough=lewisham_pilot, accepted=True, encounter_date=old)
    finished = EncounterFactory(borough=lewisham_pilot, accepted=True, encounter_date=old)
    elsewhere = EncounterFactory(borough=southwark, accepted=True, encounter_date=old)
    recent = EncounterFactory(borough=lewisham_pilot, accepted=True)
    services.referral_outcome_record(
        referral=finished.referral,
        attended_on=None,
        completed_on=None,
        did_not_attend_on=None,
        withdrawn_on=TODAY(),
        by=officer,
    )
    found = list(selectors.referrals_due(user=officer))
    assert found == [due.referral]
    assert elsewhere.referral not in found and recent.referral not in found


def test_encounter_search_by_reference_or_surname_and_birth_date_stays_in_their_boroughs(
    officer, lewisham_pilot, southwark
):
    person = PersonFactory(last_name="Jones")
    mine = EncounterFactory(borough=lewisham_pilot, person=person)
    theirs = EncounterFactory(borough=southwark, person=person)
    search = selectors.encounter_search
    assert list(search(user=officer, encounter_ref=mine.encounter_ref.lower())) == [mine]
    assert not search(user=officer, encounter_ref=theirs.encounter_ref).exists()
    found = search(user=officer, last_name="JONES", date_of_birth=person.date_of_birth)
    assert list(found) == [mine]
    assert not search(user=officer, last_name="Jones").exists()


def test_officer_home_context_shows_what_needs_action_and_their_latest_ten(
    officer, lewisham_pilot, django_assert_max_num_queries
):
    person = PersonFactory()
    encounters = [
        EncounterFactory(
            borough=lewisham_pilot,
            person=person,
            officer=officer,
            encounter_date=TODAY() - timedelta(days=n),
        )
        for n in range(1, 13)
    ]
    # Someone else's, diverted 40 days ago with no outcome: due, but not "mine".
    overdue = EncounterFactory(
        borough=lewisham_pilot, accepted=True, encounter_date=TODAY() - timedelta(days=40)
    )
    # A capped count, the most overdue referral's key then its row, and the officer's latest.
    with django_assert_max_num_queries(4):
        context = selectors.officer_home_context(user=officer)
    assert context["my_recent_encounters"] == encounters[:10]  # Latest encounter date first.
    assert context["needing_action_oldest"] == overdue.referral
    assert context["needing_action_oldest"].days_overdue == timedelta(days=12)
    assert context["needing_action_count"] == 1


def test_encounter_boroughs_leave_out_boroughs_not_taking_part(officer, lewisham):
    assert not selectors.encounter_boroughs_for_officer(user=officer).exists()  # Role none.
    comparison_borough(lewisham.gss_code)
    assert list(selectors.encounter_boroughs_for_officer(user=officer)) == [lewisham]


def test_providers_for_borough_are_the_active_ones_serving_it(lewisham_pilot, southwark):
    serving = ProviderFactory(boroughs=[lewisham_pilot])
    ProviderFactory(boroughs=[lewisham_pilot], active=False)
    ProviderFactory(boroughs=[southwark])
    assert list(selectors.providers_for_borough(borough=lewisham_pilot)) == [serving]
