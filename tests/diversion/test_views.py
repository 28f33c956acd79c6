"""The officer's pages: logging an encounter, the decision, the referral and the person page."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from boroughs.models import Borough
from boroughs.services import officer_assign
from diversion import services
from diversion.models import Encounter, ExclusionFactor, Person, Referral, Reoffence
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
WESTMINSTER = "E09000033"


def dmy(name: str, day: date | None) -> dict[str, str]:
    """Post a date as the GOV.UK date input's day, month and year boxes."""
    if day is None:
        return {f"{name}_0": "", f"{name}_1": "", f"{name}_2": ""}
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


def twenty_year_old() -> date:
    return TODAY().replace(month=1, day=15) - timedelta(days=20 * 366)


@pytest.fixture
def pilot(lewisham) -> Borough:
    return pilot_borough(lewisham.gss_code)


@pytest.fixture
def southwark(db) -> Borough:
    return pilot_borough(SOUTHWARK)


@pytest.fixture
def other_officer(southwark):
    user = make_user("southwark-officer", "officer")
    officer_assign(officer=user, borough=southwark)
    return user


@pytest.fixture
def signed_in(client, officer, pilot):
    client.force_login(officer)
    return client


def encounter_data(borough: Borough, **changes) -> dict:
    data = {
        "borough": str(borough.pk),
        **dmy("encounter_date", TODAY() - timedelta(days=1)),
        "encounter_time": "14:30",
        "location": "Lewisham High Street",
        "substance": "cannabis_herbal",
        "quantity_grams": "3.5",
        "otherwise_disposal": "cannabis_warning",
    }
    data.update(changes)
    return data


def start_with_new_person(client, *, last_name: str = "Smith", born: date | None = None) -> None:
    """Go through the find and new-person steps, ending on the encounter form."""
    born = born or twenty_year_old()
    client.post("/encounters/new/", {"last_name": last_name, **dmy("date_of_birth", born)})
    client.post(
        "/encounters/new/person/",
        {
            "first_name": "Alex",
            "last_name": last_name,
            **dmy("date_of_birth", born),
            "gender": "female",
            "ethnicity": "B2",
            "pnc_id": "",
        },
    )


def page(response) -> str:
    return response.content.decode()


# --- The whole flow --------------------------------------------------------------------------


def test_officer_logs_encounter_for_new_person_then_accepts_refers_and_records_outcome(
    signed_in, officer, pilot
):
    provider = ProviderFactory(boroughs=[pilot])
    born = twenty_year_old()

    response = signed_in.get("/encounters/new/")
    assert response.status_code == 200 and "Find the person" in page(response)

    response = signed_in.post(
        "/encounters/new/", {"last_name": "Smith", **dmy("date_of_birth", born)}
    )
    assert response.status_code == 302 and response.url == "/encounters/new/choose/"
    response = signed_in.get(response.url)
    assert "No one found" in page(response) and "Add a new person" in page(response)

    response = signed_in.get("/encounters/new/person/")
    assert 'value="Smith"' in page(response)  # The surname searched for is carried over.
    response = signed_in.post(
        "/encounters/new/person/",
        {
            "first_name": "Alex",
            "last_name": "Smith",
            **dmy("date_of_birth", born),
            "gender": "female",
            "ethnicity": "B2",
            "pnc_id": "01/123456A",
        },
    )
    assert response.status_code == 302 and response.url == "/encounters/new/details/"
    assert Person.objects.count() == 0  # Saved only with the encounter.

    response = signed_in.get("/encounters/new/details/")
    assert "Alex Smith" in page(response) and "01/123456A" in page(response)
    response = signed_in.post("/encounters/new/details/", encounter_data(pilot))
    encounter = Encounter.objects.get()
    assert response.status_code == 302 and response.url == f"/encounters/{encounter.encounter_ref}/"
    assert encounter.person.first_name == "Alex" and encounter.person.ethnicity == "B2"
    assert encounter.officer == officer and encounter.decision == "offered"
    assert encounter.occurred_at is not None
    assert timezone.localtime(encounter.occurred_at).strftime("%H:%M") == "14:30"
    assert encounter.history.first().history_user == officer

    response = signed_in.get(response.url)
    html = page(response)
    assert "Diversion offered" in html and "Did the person accept diversion?" in html
    assert "policy version 1" in html and "Olu Officer" in html

    response = signed_in.post(
        f"/encounters/{encounter.encounter_ref}/answer/", {"answer-accepted": "yes"}
    )
    assert response.status_code == 302
    encounter.refresh_from_db()
    assert encounter.decision == "diverted" and encounter.referral.provider is None

    html = page(signed_in.get(encounter.get_absolute_url()))
    assert "Arrange the referral" in html and provider.name in html
    appointment = TODAY() + timedelta(days=7)
    response = signed_in.post(
        f"/encounters/{encounter.encounter_ref}/referral/",
        {"referral-provider": str(provider.pk), **dmy("referral-appointment_on", appointment)},
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.provider == provider and referral.appointment_on == appointment

    response = signed_in.post(
        f"/encounters/{encounter.encounter_ref}/outcome/",
        {
            **dmy("outcome-attended_on", TODAY() - timedelta(days=1)),
            **dmy("outcome-completed_on", TODAY()),
            **dmy("outcome-did_not_attend_on", None),
            **dmy("outcome-withdrawn_on", None),
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.completed_on == TODAY()
    html = page(signed_in.get(encounter.get_absolute_url()))
    assert "govuk-tag--green" in html and ">Completed</strong>" in html


def test_search_offers_people_already_recorded_so_no_one_is_recorded_twice(signed_in, pilot):
    born = twenty_year_old()
    jo = PersonFactory(first_name="Jo", last_name="Smith", date_of_birth=born, pnc_id="99/1A")
    sam = PersonFactory(first_name="Sam", last_name="Smith", date_of_birth=born)
    PersonFactory(first_name="Kim", last_name="Smith", date_of_birth=born - timedelta(days=1))
    for known in (jo, sam):  # met before in the officer's borough
        EncounterFactory(borough=pilot, person=known)

    signed_in.post("/encounters/new/", {"last_name": "SMITH ", **dmy("date_of_birth", born)})
    html = page(signed_in.get("/encounters/new/choose/"))
    assert "Jo Smith" in html and "Sam Smith" in html and "PNC ID 99/1A" in html
    assert "Kim Smith" not in html  # Born on another day.
    assert "None of these: add a new person" in html

    response = signed_in.post("/encounters/new/choose/", {"person": jo.person_ref})
    assert response.url == "/encounters/new/details/"
    signed_in.post("/encounters/new/details/", encounter_data(pilot))
    assert Person.objects.count() == 3
    assert Encounter.objects.filter(person=jo).count() == 2


def test_choosing_none_of_the_matches_goes_to_add_a_new_person(signed_in):
    born = twenty_year_old()
    PersonFactory(first_name="Jo", last_name="Smith", date_of_birth=born)
    signed_in.post("/encounters/new/", {"last_name": "Smith", **dmy("date_of_birth", born)})
    response = signed_in.post("/encounters/new/choose/", {"person": "new"})
    assert response.url == "/encounters/new/person/"
    response = signed_in.post("/encounters/new/choose/", {})
    assert "Select the person you met, or add a new person" in page(response)


def test_find_person_form_says_what_is_missing_in_plain_english(signed_in):
    response = signed_in.post(
        "/encounters/new/", {"last_name": "", "date_of_birth_0": "31", "date_of_birth_1": "2"}
    )
    html = page(response)
    assert response.status_code == 200
    assert "<title>Error: " in html and "There is a problem" in html
    assert "Enter the person&#x27;s surname" in html
    assert "must include a day, month and year" in html
    response = signed_in.post(
        "/encounters/new/",
        {"last_name": "Smith", **dmy("date_of_birth", None)}
        | {"date_of_birth_0": "31", "date_of_birth_1": "2", "date_of_birth_2": "2004"},
    )
    assert "The person&#x27;s date of birth must be a real date" in page(response)


# --- The decision and its reasons ------------------------------------------------------------


def test_every_reason_is_shown_for_an_encounter_breaking_several_rules(signed_in, pilot):
    labels = dict(ExclusionFactor.objects.values_list("code", "label"))
    start_with_new_person(
        signed_in, born=TODAY().replace(month=1, day=1) - timedelta(days=40 * 365)
    )
    signed_in.post(
        "/encounters/new/details/",
        encounter_data(
            pilot,
            quantity_grams="30",
            exclusions=["violence_or_threats", "supply_indicators"],
        ),
    )
    encounter = Encounter.objects.get()
    assert list(encounter.reasons.values_list("code", flat=True)) == [
        "age_over_max",
        "quantity_over_limit",
        "exclusion:supply_indicators",
        "exclusion:violence_or_threats",
    ]
    html = page(signed_in.get(encounter.get_absolute_url()))
    assert "Not eligible for diversion" in html
    expected = [
        "25 or older on the encounter date",
        "The amount is over the 25 g limit for herbal cannabis",
        f"Exclusion: {labels['supply_indicators']}",
        f"Exclusion: {labels['violence_or_threats']}",
    ]
    positions = [html.index(text) for text in expected]
    assert positions == sorted(positions)  # In SPEC order, the factors as the form lists them.
    assert "Did the person accept diversion?" not in html


def test_comparison_borough_explains_why_diversion_was_not_offered(client, officer):
    comparison = comparison_borough("E09000023")
    encounter = EncounterFactory(borough=comparison, officer=officer)
    client.force_login(officer)
    html = page(client.get(encounter.get_absolute_url()))
    assert "Eligible, but diversion not offered" in html
    assert "Lewisham is a comparison borough" in html


def test_future_encounter_date_is_refused_plainly_and_nothing_is_saved(signed_in, pilot):
    start_with_new_person(signed_in)
    response = signed_in.post(
        "/encounters/new/details/",
        encounter_data(pilot, **dmy("encounter_date", TODAY() + timedelta(days=1))),
    )
    html = page(response)
    assert response.status_code == 200 and "<title>Error: " in html
    assert "The date of the encounter must be today or in the past" in html
    assert 'href="#id_encounter_date_0"' in html  # The error summary links to the day box.
    assert Encounter.objects.count() == 0 and Person.objects.count() == 0


def test_later_time_today_is_refused(signed_in, officer, pilot, monkeypatch):
    # Stop the clock at 10:00 London time today, so "later today" exists at any hour the
    # tests run. `timezone.localtime` and `localdate` read the patched `timezone.now` too.
    ten_am = timezone.make_aware(datetime.combine(TODAY(), time(10, 0)))
    monkeypatch.setattr(timezone, "now", lambda: ten_am)
    signed_in.force_login(officer)  # sign in again on the stopped clock, or the session has expired
    start_with_new_person(signed_in)
    response = signed_in.post(
        "/encounters/new/details/",
        encounter_data(pilot, encounter_time="11:00", **dmy("encounter_date", ten_am.date())),
    )
    assert "The time of the encounter must be in the past" in page(response)
    assert Encounter.objects.count() == 0
    # An earlier time the same day is accepted: the cut-off is the current time.
    response = signed_in.post(
        "/encounters/new/details/",
        encounter_data(pilot, encounter_time="09:30", **dmy("encounter_date", ten_am.date())),
    )
    assert response.status_code == 302
    assert Encounter.objects.get().occurred_at == ten_am - timedelta(minutes=30)


def test_service_refusal_is_shown_on_the_form_and_leaves_no_new_person(signed_in, pilot):
    """The encounter date before the date of birth is the service's rule, not the form's."""
    born = TODAY() - timedelta(days=10)
    start_with_new_person(signed_in, born=born)
    response = signed_in.post(
        "/encounters/new/details/",
        encounter_data(pilot, **dmy("encounter_date", born - timedelta(days=1))),
    )
    html = page(response)
    assert "The date of the encounter must be after the date of birth" in html
    assert "govuk-form-group--error" in html
    assert Encounter.objects.count() == 0 and Person.objects.count() == 0


def test_borough_choices_are_only_the_officers_own_taking_part(
    signed_in, officer, pilot, southwark
):
    westminster = Borough.objects.get(gss_code=WESTMINSTER)  # Role none: not taking part.
    officer_assign(officer=officer, borough=westminster)
    start_with_new_person(signed_in)
    html = page(signed_in.get("/encounters/new/details/"))
    assert "Lewisham" in html
    assert "Southwark" not in html and "Westminster" not in html
    # Only one: chosen for the officer, named on the page, with nothing to tick.
    assert f'type="hidden" name="borough" value="{pilot.pk}"' in html
    assert 'type="radio" name="borough"' not in html
    assert "Pilot borough, from" in html.split('id="single-borough"')[1][:300]

    response = signed_in.post("/encounters/new/details/", encounter_data(southwark))
    assert "Select one of your boroughs" in page(response)
    assert Encounter.objects.count() == 0


def test_quantity_must_be_a_positive_number_of_grams(signed_in, pilot):
    start_with_new_person(signed_in)
    response = signed_in.post("/encounters/new/details/", encounter_data(pilot, quantity_grams="0"))
    assert "Quantity must be more than 0 grams" in page(response)
    response = signed_in.post(
        "/encounters/new/details/", encounter_data(pilot, quantity_grams="1.2345")
    )
    assert "Quantity must have no more than 3 decimal places" in page(response)
    assert Encounter.objects.count() == 0


# --- Answer, referral and outcome ------------------------------------------------------------


def test_declined_reads_differently_from_accepted_but_did_not_attend(signed_in, officer, pilot):
    declined = EncounterFactory(borough=pilot, officer=officer, accepted=False)
    diverted = EncounterFactory(borough=pilot, officer=officer, accepted=True)
    services.referral_outcome_record(
        referral=diverted.referral,
        attended_on=None,
        completed_on=None,
        did_not_attend_on=TODAY(),
        withdrawn_on=None,
        by=officer,
    )
    declined_html = page(signed_in.get(declined.get_absolute_url()))
    dna_html = page(signed_in.get(diverted.get_absolute_url()))
    assert "Diversion declined" in declined_html and "said no" in declined_html
    assert "did not engage" not in declined_html
    assert "Accepted diversion but did not engage" in dna_html
    assert "Accepted diversion but did not attend" in dna_html
    assert "Diversion declined" not in dna_html


def test_answer_no_records_declined_without_a_referral(signed_in, officer, pilot):
    encounter = EncounterFactory(borough=pilot, officer=officer)
    response = signed_in.post(f"{encounter.get_absolute_url()}answer/", {"answer-accepted": "no"})
    assert response.status_code == 302
    encounter.refresh_from_db()
    assert encounter.decision == "declined" and not Referral.objects.exists()


def test_answering_twice_keeps_the_first_answer_and_says_so(signed_in, officer, pilot):
    encounter = EncounterFactory(borough=pilot, officer=officer)
    url = f"{encounter.get_absolute_url()}answer/"
    signed_in.post(url, {"answer-accepted": "yes"})
    response = signed_in.post(url, {"answer-accepted": "no"}, follow=True)
    assert "already been recorded" in page(response)
    encounter.refresh_from_db()
    assert encounter.decision == "diverted"


def test_answer_must_be_chosen(signed_in, officer, pilot):
    encounter = EncounterFactory(borough=pilot, officer=officer)
    response = signed_in.post(f"{encounter.get_absolute_url()}answer/", {})
    html = page(response)
    assert "<title>Error: " in html and "Select yes if the person accepted diversion" in html
    assert 'href="#id_answer-accepted_1"' in html and 'id="id_answer-accepted_1"' in html
    encounter.refresh_from_db()
    assert encounter.decision == "offered"


def test_referral_lists_only_active_providers_serving_the_borough(
    signed_in, officer, pilot, southwark
):
    serving = ProviderFactory(boroughs=[pilot])
    elsewhere = ProviderFactory(boroughs=[southwark])
    closed = ProviderFactory(boroughs=[pilot], active=False)
    encounter = EncounterFactory(borough=pilot, officer=officer, accepted=True)
    html = page(signed_in.get(encounter.get_absolute_url()))
    assert serving.name in html
    assert elsewhere.name not in html and closed.name not in html
    response = signed_in.post(
        f"{encounter.get_absolute_url()}referral/", {"referral-provider": str(elsewhere.pk)}
    )
    assert response.status_code == 200 and "<title>Error: " in page(response)
    assert Referral.objects.get().provider is None


def test_outcome_errors_from_the_service_are_shown_on_the_form(signed_in, officer, pilot):
    encounter = EncounterFactory(borough=pilot, officer=officer, accepted=True)
    response = signed_in.post(
        f"{encounter.get_absolute_url()}outcome/",
        {**dmy("outcome-completed_on", TODAY()), **dmy("outcome-attended_on", None)},
    )
    html = page(response)
    assert "<title>Error: " in html
    assert "Completion needs an attendance date on or before it" in html
    assert Referral.objects.get().completed_on is None


# --- Who may see what ------------------------------------------------------------------------


def test_officer_gets_404_for_another_boroughs_encounter_person_and_referral(
    signed_in, pilot, southwark, other_officer
):
    theirs = EncounterFactory(borough=southwark, officer=other_officer, accepted=True)
    ref = theirs.encounter_ref
    assert signed_in.get(f"/encounters/{ref}/").status_code == 404
    assert (
        signed_in.post(f"/encounters/{ref}/answer/", {"answer-accepted": "yes"}).status_code == 404
    )
    assert signed_in.post(f"/encounters/{ref}/referral/", {}).status_code == 404
    assert signed_in.post(f"/encounters/{ref}/outcome/", {}).status_code == 404
    assert signed_in.get(f"/people/{theirs.person.person_ref}/").status_code == 404
    assert (
        signed_in.post(f"/people/{theirs.person.person_ref}/further-offences/", {}).status_code
        == 404
    )
    assert signed_in.get("/encounters/ENC-NOSUCHREF/").status_code == 404


@pytest.mark.parametrize("who", ["analyst", "approver", "admin_user"])
def test_other_roles_are_refused_the_officer_pages(client, request, who, officer, pilot):
    encounter = EncounterFactory(borough=pilot, officer=officer)
    client.force_login(request.getfixturevalue(who))
    for url in (
        "/encounters/new/",
        "/encounters/new/details/",
        "/encounters/search/",
        encounter.get_absolute_url(),
        f"/people/{encounter.person.person_ref}/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{encounter.get_absolute_url()}answer/", {}).status_code == 403


def test_each_borough_choice_says_pilot_with_dates_or_comparison(signed_in, officer, pilot):
    from boroughs.services import borough_configure

    croydon = comparison_borough("E09000008")
    hackney = borough_configure(
        gss_code="E09000012",
        role="pilot",
        pilot_start=date(2026, 1, 5),
        pilot_end=date(2026, 12, 31),
    )
    for borough in (croydon, hackney):
        officer_assign(officer=officer, borough=borough)
    start_with_new_person(signed_in)
    html = page(signed_in.get("/encounters/new/details/"))
    assert len(re.findall(r'type="radio"\s+name="borough"', html)) == 3
    assert "Pilot borough, 5 January 2026 to 31 December 2026" in html
    assert f"Pilot borough, from {pilot.pilot_start:%-d %B %Y}" in html
    assert "Comparison borough: encounters are recorded, diversion is not offered" in html


def test_letters_in_every_date_box_give_one_message_for_the_date(signed_in, pilot):
    start_with_new_person(signed_in)
    data = encounter_data(
        pilot, encounter_date_0="ab", encounter_date_1="cd", encounter_date_2="efgh"
    )
    html = page(signed_in.post("/encounters/new/details/", data))
    # Once in the error summary and once by the date: not three times each.
    assert html.count("The date of the encounter must be a real date") == 2
    assert Encounter.objects.count() == 0


def test_referral_whose_appointment_passed_says_so_and_offers_the_outcome_form(
    signed_in, officer, pilot
):
    provider = ProviderFactory(boroughs=[pilot])
    encounter = EncounterFactory(borough=pilot, officer=officer, accepted=True)
    services.referral_arrange(
        referral=encounter.referral,
        provider=provider,
        appointment_on=TODAY() - timedelta(days=2),
        by=officer,
    )
    html = page(signed_in.get(encounter.get_absolute_url()))
    assert "Appointment passed: no attendance recorded" in html
    assert "waiting for the person to attend" not in html
    assert "has passed and no attendance is recorded" in html
    assert 'action="/encounters/' + encounter.encounter_ref + '/outcome/"' in html

    services.referral_arrange(
        referral=encounter.referral, provider=provider, appointment_on=TODAY(), by=officer
    )
    html = page(signed_in.get(encounter.get_absolute_url()))
    assert "Referred: waiting for the person to attend" in html  # Not passed on the day.


def test_exact_person_reference_opens_the_person_page(
    signed_in, officer, pilot, southwark, other_officer
):
    mine = EncounterFactory(borough=pilot, officer=officer)
    theirs = EncounterFactory(borough=southwark, officer=other_officer)
    ref = mine.person.person_ref
    response = signed_in.post("/encounters/search/", {"search-encounter_ref": ref.lower()})
    assert response.status_code == 302 and response.url == f"/people/{ref}/"
    # Someone only met in another borough is not found, and not given away.
    other = theirs.person.person_ref
    html = page(signed_in.post("/encounters/search/", {"search-encounter_ref": other}))
    assert "No encounters found" in html


# --- Home, search and the person page --------------------------------------------------------


def test_home_shows_log_button_recent_encounters_and_referrals_needing_action(
    signed_in, officer, pilot, southwark, other_officer
):
    mine = EncounterFactory(
        borough=pilot, officer=officer, accepted=True, encounter_date=TODAY() - timedelta(days=40)
    )
    theirs = EncounterFactory(borough=southwark, officer=other_officer)
    services.referrals_flag_overdue()
    html = page(signed_in.get("/"))
    assert "Log an encounter" in html and 'href="/encounters/new/"' in html
    # In the recent list and in needing action.
    assert html.count(f">{mine.encounter_ref}</a>") == 2
    assert f'href="/encounters/{mine.encounter_ref}/#referral"' in html
    assert theirs.encounter_ref not in html
    assert 'action="/encounters/search/"' in html


def test_search_finds_encounters_by_reference_or_surname_and_birth_date_in_own_boroughs(
    signed_in, officer, pilot, southwark, other_officer
):
    person = PersonFactory(last_name="Jones")
    mine = EncounterFactory(borough=pilot, officer=officer, person=person)
    theirs = EncounterFactory(borough=southwark, officer=other_officer, person=person)

    response = signed_in.post(
        "/encounters/search/", {"search-encounter_ref": f" {mine.encounter_ref.lower()} "}
    )
    assert response.status_code == 302 and response.url == mine.get_absolute_url()

    html = page(
        signed_in.post("/encounters/search/", {"search-encounter_ref": theirs.encounter_ref})
    )
    assert "No encounters found" in html

    html = page(
        signed_in.post(
            "/encounters/search/",
            {"search-last_name": "jones", **dmy("search-date_of_birth", person.date_of_birth)},
        )
    )
    assert mine.encounter_ref in html and theirs.encounter_ref not in html

    html = page(signed_in.post("/encounters/search/", {"search-last_name": "Jones"}))
    assert "Enter a date of birth to search with the surname" in html


def test_person_page_shows_encounters_in_own_boroughs_and_records_a_further_offence(
    signed_in, officer, pilot, southwark, other_officer
):
    person = PersonFactory(first_name="Ria", last_name="Khan")
    mine = EncounterFactory(borough=pilot, officer=officer, person=person)
    theirs = EncounterFactory(borough=southwark, officer=other_officer, person=person)
    url = f"/people/{person.person_ref}/"
    html = page(signed_in.get(url))
    assert "Ria Khan" in html and "Record a further offence" in html
    assert mine.encounter_ref in html and theirs.encounter_ref not in html

    data = {
        **dmy("reoffence-offence_date", TODAY() - timedelta(days=2)),
        "reoffence-offence_type": "Theft from a shop",
        "reoffence-source_ref": "CRIS 1234",
    }
    response = signed_in.post(f"{url}further-offences/", data)
    assert response.status_code == 302 and response.url == url
    reoffence = Reoffence.objects.get()
    assert (reoffence.source, reoffence.entered_by, reoffence.person) == (
        "officer",
        officer,
        person,
    )
    assert reoffence.history.first().history_user == officer
    html = page(signed_in.get(url))
    assert "Theft from a shop" in html and "CRIS 1234" in html

    signed_in.post(f"{url}further-offences/", data)
    assert Reoffence.objects.count() == 1  # The same offence is not recorded twice.


def test_further_offence_in_the_future_is_refused(signed_in, officer, pilot):
    encounter = EncounterFactory(borough=pilot, officer=officer)
    response = signed_in.post(
        f"/people/{encounter.person.person_ref}/further-offences/",
        {
            **dmy("reoffence-offence_date", TODAY() + timedelta(days=1)),
            "reoffence-offence_type": "",
        },
    )
    html = page(response)
    assert "<title>Error: " in html
    assert "The date of the offence must be today or in the past" in html
    assert "Enter the type of offence" in html
    assert not Reoffence.objects.exists()


def test_reoffence_record_refuses_a_future_date_and_a_blank_type(officer, pilot):
    from django.core.exceptions import ValidationError

    person = PersonFactory()
    with pytest.raises(ValidationError) as refused:
        services.reoffence_record(
            person=person, offence_date=TODAY() + timedelta(days=1), offence_type=" ", by=officer
        )
    assert refused.value.message_dict == {
        "offence_date": ["The date of the offence must be today or in the past"],
        "offence_type": ["Enter the type of offence"],
    }
    first = services.reoffence_record(
        person=person, offence_date=TODAY(), offence_type="Theft ", by=officer
    )
    again = services.reoffence_record(
        person=person, offence_date=TODAY(), offence_type="Theft", by=officer
    )
    assert first.pk == again.pk and first.offence_type == "Theft"
    assert Reoffence.objects.count() == 1
