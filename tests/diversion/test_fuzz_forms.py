"""Random input thrown at every officer form: a plain message and nothing saved, or a record
that keeps every rule; never a 500 or a traceback (the test client re-raises any exception).
"""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diversion.models import Encounter, Person, Referral, Reoffence
from tests.diversion.factories import EncounterFactory, pilot_borough
from tests.diversion.test_views import start_with_new_person

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values people (and attackers) type into a box: anything, numbers of any size, other scripts'
# digits, control characters, and strings that look nearly right.
junk = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.integers(min_value=10**15, max_value=10**40).map(str),
    st.sampled_from(["", " ", "0", "-1", "31", "29", "2", "2024", "0001", "١٢", "１２", "\x00"]),
    st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=6),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs"]), min_size=1, max_size=5),
)


def counts() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        Encounter.objects.count(),
        Reoffence.objects.count(),
        Referral.objects.exclude(attended_on=None, appointment_on=None, withdrawn_on=None).count(),
    )


def every_record_keeps_the_rules() -> None:
    """Whatever was accepted passes the models' validators (the one home of the rules)."""
    for model in (Person, Encounter, Reoffence, Referral):
        for record in model.objects.all():
            record.full_clean()


def post_and_check(client, url: str, data: dict, *, search: bool = False) -> None:
    """Post; a refusal must explain itself and save nothing, and a search never saves."""
    before = counts()
    response = client.post(url, data)
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code != 302:
        assert search or "There is a problem" in response.content.decode()
        assert counts() == before
    every_record_keeps_the_rules()


def boxes(name: str, parts: tuple[str, str, str]) -> dict[str, str]:
    return {f"{name}_{i}": part for i, part in enumerate(parts)}


# Each box is often plausible, so that one wild box beside two good ones is tried often.
day_or_month = st.one_of(st.integers(min_value=1, max_value=12).map(str), junk)
year = st.one_of(st.sampled_from(["1900", "2004", "2025", "0001", "9999"]), junk)
date_boxes = st.tuples(day_or_month, day_or_month, year)


@pytest.fixture
def signed_in(client, officer, lewisham):
    pilot_borough(lewisham.gss_code)
    client.force_login(officer)
    return client


@pytest.fixture
def diverted(officer, lewisham):
    return EncounterFactory(
        borough=pilot_borough(lewisham.gss_code), officer=officer, accepted=True
    )


@FUZZ
@given(last_name=junk, born=date_boxes)
def test_find_person_form(signed_in, last_name, born):
    post_and_check(
        signed_in,
        "/encounters/new/",
        {"last_name": last_name, **boxes("date_of_birth", born)},
        search=True,
    )


@FUZZ
@given(first=junk, last=junk, born=date_boxes, gender=junk, ethnicity=junk, pnc=junk)
def test_new_person_form(signed_in, first, last, born, gender, ethnicity, pnc):
    post_and_check(
        signed_in,
        "/encounters/new/person/",
        {
            "first_name": first,
            "last_name": last,
            **boxes("date_of_birth", born),
            "gender": gender,
            "ethnicity": ethnicity,
            "pnc_id": pnc,
        },
    )


@FUZZ
@given(
    day=date_boxes,
    at=junk,
    location=junk,
    grams=st.one_of(junk, st.decimals(allow_nan=True).map(str)),
    substance=st.sampled_from(["cannabis_herbal", "cannabis_resin", "other", "", "\x00"]),
)
def test_encounter_form(signed_in, lewisham, day, at, location, grams, substance):
    start_with_new_person(signed_in)
    post_and_check(
        signed_in,
        "/encounters/new/details/",
        {
            "borough": str(lewisham.pk),
            **boxes("encounter_date", day),
            "encounter_time": at,
            "location": location,
            "substance": substance,
            "quantity_grams": grams,
            "otherwise_disposal": "cannabis_warning",
        },
    )


@FUZZ
@given(ref=junk, last=junk, born=date_boxes)
def test_encounter_search_form(signed_in, ref, last, born):
    post_and_check(
        signed_in,
        "/encounters/search/",
        {
            "search-encounter_ref": ref,
            "search-last_name": last,
            **boxes("search-date_of_birth", born),
        },
        search=True,
    )


@FUZZ
@given(provider=junk, appointment=date_boxes)
def test_referral_form(signed_in, diverted, provider, appointment):
    post_and_check(
        signed_in,
        f"{diverted.get_absolute_url()}referral/",
        {"referral-provider": provider, **boxes("referral-appointment_on", appointment)},
    )


@FUZZ
@given(field=st.sampled_from(["attended_on", "completed_on", "withdrawn_on"]), day=date_boxes)
def test_outcome_form(signed_in, diverted, field, day):
    post_and_check(
        signed_in, f"{diverted.get_absolute_url()}outcome/", boxes(f"outcome-{field}", day)
    )


@FUZZ
@given(day=date_boxes, offence_type=junk, source_ref=junk)
def test_further_offence_form(signed_in, diverted, day, offence_type, source_ref):
    post_and_check(
        signed_in,
        f"/people/{diverted.person.person_ref}/further-offences/",
        {
            **boxes("reoffence-offence_date", day),
            "reoffence-offence_type": offence_type,
            "reoffence-source_ref": source_ref,
        },
    )


_numbers = itertools.count(2)


@FUZZ
@given(decision=st.sampled_from(["return", "approve", "", "x"]), comment=junk)
def test_report_decision_form(client, analyst, approver, decision, comment):
    """The approver's decision: a bad comment is refused and the version stays submitted."""
    from reports.models import ReportStatus
    from tests.reports.factories import make_version

    version = make_version(
        number=next(_numbers), status=ReportStatus.SUBMITTED, submitted_by=analyst
    )
    client.force_login(approver)
    response = client.post(
        f"/reports/{version.week}/v{version.number}/decide/",
        {"decision": decision, "comment": comment},
    )
    version.refresh_from_db()
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert version.status == ReportStatus.SUBMITTED
    else:
        version.full_clean()
