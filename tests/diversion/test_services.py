"""The write services: decisions stored when made, referrals and outcomes kept to SPEC §4."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from boroughs.models import Borough
from diversion import selectors, services
from diversion.models import (
    EligibilityPolicy,
    Encounter,
    EncounterExclusion,
    EncounterReason,
    Person,
    Provider,
    Referral,
    SubstanceLimit,
)
from tests.diversion.factories import (
    PersonFactory,
    ProviderFactory,
    comparison_borough,
    pilot_borough,
)

TODAY = timezone.localdate


@pytest.fixture
def pilot(db) -> Borough:
    return pilot_borough()  # Lewisham, from a year ago.


@pytest.fixture
def comparison(db) -> Borough:
    return comparison_borough()  # Croydon.


@pytest.fixture
def person(db):
    return PersonFactory(date_of_birth=TODAY() - timedelta(days=7400))  # 20 years old


@pytest.fixture
def provider(pilot) -> Provider:
    return ProviderFactory(name="Lewisham drug education", boroughs=[pilot])


def record(officer, person, borough, **kwargs) -> Encounter:
    values = {
        "encounter_date": TODAY() - timedelta(days=7),
        "substance": "cannabis_herbal",
        "quantity_grams": Decimal("3.5"),
    }
    values.update(kwargs)
    return services.encounter_record(by=officer, person=person, borough=borough, **values)


def diverted(officer, person, borough, **kwargs) -> Encounter:
    return record(officer, person, borough, accepted=True, **kwargs)


# --- encounter_record ---------------------------------------------------------------------


def test_encounter_over_max_age_is_ineligible_with_its_reason(officer, pilot):
    older = PersonFactory(date_of_birth=TODAY() - timedelta(days=30 * 366))

    encounter = record(officer, older, pilot)

    assert encounter.decision == "ineligible"
    assert encounter.accepted is None
    assert list(encounter.reasons.values_list("code", flat=True)) == ["age_over_max"]
    assert not Referral.objects.exists()


def test_eligible_encounter_in_pilot_dates_is_offered_until_answered(officer, person, pilot):
    encounter = record(officer, person, pilot)

    assert encounter.decision == "offered"
    assert encounter.age_at_encounter == 20
    assert encounter.answered_at is None
    assert not encounter.reasons.exists()
    assert not Referral.objects.exists()


def test_eligible_encounter_in_comparison_borough_is_not_offered(officer, person, comparison):
    encounter = record(officer, person, comparison, accepted=True)

    assert encounter.decision == "not_offered"
    assert encounter.accepted is None
    assert not Referral.objects.exists()


def test_eligible_encounter_in_pilot_borough_before_its_start_is_not_offered(officer, person):
    borough = pilot_borough("E09000022", start=TODAY() - timedelta(days=10))

    encounter = record(officer, person, borough, encounter_date=TODAY() - timedelta(days=11))

    assert encounter.decision == "not_offered"


def test_eligible_encounter_on_pilot_start_day_is_offered(officer, person):
    start = TODAY() - timedelta(days=10)
    borough = pilot_borough("E09000022", start=start)

    assert record(officer, person, borough, encounter_date=start).decision == "offered"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"borough": "none"},
            "borough",
            "Bromley is not taking part in the diversion pilot, "
            "so encounters cannot be recorded there",
        ),
        (
            {"encounter_date": "tomorrow"},
            "encounter_date",
            "The date of the encounter must be today or in the past",
        ),
        (
            {"quantity_grams": Decimal("1.2345")},
            "quantity_grams",
            "The amount must have no more than 3 decimal places",
        ),
        (
            {"quantity_grams": Decimal("0")},
            "quantity_grams",
            "The amount must be more than 0 grams",
        ),
        (
            {"encounter_date": "before birth"},
            "encounter_date",
            "The date of the encounter must be after the date of birth",
        ),
    ],
    ids=["none-borough", "future-date", "four-decimals", "zero-grams", "before-birth"],
)
def test_encounter_refused_with_plain_message_and_nothing_saved(
    officer, person, pilot, change, field, message
):
    values: dict = {"borough": pilot}
    if change.get("borough") == "none":
        values["borough"] = Borough.objects.get(gss_code="E09000006")  # Bromley, role none
    if change.get("encounter_date") == "tomorrow":
        values["encounter_date"] = TODAY() + timedelta(days=1)
    if change.get("encounter_date") == "before birth":
        values["encounter_date"] = person.date_of_birth - timedelta(days=1)
    if "quantity_grams" in change:
        values["quantity_grams"] = change["quantity_grams"]

    with pytest.raises(ValidationError) as caught:
        record(officer, person, **values)

    assert caught.value.message_dict[field] == [message]
    assert not Encounter.objects.exists()
    assert not EncounterReason.objects.exists()
    assert not Encounter.history.exists()


def test_every_reason_is_stored_in_spec_order_with_exclusions_as_given(officer, pilot):
    older = PersonFactory(date_of_birth=TODAY() - timedelta(days=30 * 366))

    encounter = record(
        officer,
        older,
        pilot,
        substance="other",
        quantity_grams=Decimal("100"),
        exclusions=["violence_or_threats", "supply_indicators"],
    )

    assert encounter.decision == "ineligible"
    assert list(encounter.reasons.order_by("position").values_list("code", flat=True)) == [
        "age_over_max",
        "substance_not_eligible",
        "exclusion:violence_or_threats",
        "exclusion:supply_indicators",
    ]
    assert list(
        EncounterExclusion.objects.filter(encounter=encounter)
        .order_by("position")
        .values_list("factor__code", flat=True)
    ) == ["violence_or_threats", "supply_indicators"]


def test_encounter_stores_the_policy_version_in_force_on_its_date(officer, person, pilot):
    switch = TODAY() - timedelta(days=20)
    version_2 = EligibilityPolicy.objects.create(version=2, effective_from=switch)
    SubstanceLimit.objects.create(
        policy=version_2, substance="cannabis_herbal", max_grams=Decimal("10")
    )

    before = record(officer, person, pilot, encounter_date=switch - timedelta(days=1), **_15g())
    on_switch = record(officer, person, pilot, encounter_date=switch, **_15g())

    assert before.policy.version == 1
    assert before.decision == "offered"
    assert on_switch.policy == version_2
    assert on_switch.decision == "ineligible"
    assert list(on_switch.reasons.values_list("code", flat=True)) == ["quantity_over_limit"]


def _15g() -> dict:
    return {"quantity_grams": Decimal("15")}


def test_stored_decision_is_not_recomputed_when_a_new_policy_arrives(officer, person, pilot):
    encounter = record(officer, person, pilot, **_15g())
    assert (encounter.decision, encounter.policy.version) == ("offered", 1)
    assert not encounter.reasons.exists()
    # Version 2 is in force from long before the encounter: had it existed, a 20-year-old with
    # 15 g would have been too old (max age 19) and over the 10 g limit.
    version_2 = EligibilityPolicy.objects.create(
        version=2, effective_from=date(2001, 1, 1), max_age=19
    )
    SubstanceLimit.objects.create(
        policy=version_2, substance="cannabis_herbal", max_grams=Decimal("10")
    )

    # Reading the stored encounter, by itself and through the officer's reads, changes nothing.
    encounter.refresh_from_db()
    seen = selectors.encounter_for_officer(user=officer, encounter_ref=encounter.encounter_ref)
    for stored in (encounter, seen):
        assert stored.decision == "offered"
        assert stored.policy.version == 1
        assert not stored.reasons.exists()
    # Answering the stored offer keeps the judgement too.
    answered = services.encounter_answer(encounter=encounter, accepted=True, by=officer)
    answered.refresh_from_db()
    assert (answered.decision, answered.policy.version) == ("diverted", 1)
    assert not answered.reasons.exists()

    # The same facts recorded now, for someone else, are judged by version 2.
    later = record(officer, PersonFactory(date_of_birth=person.date_of_birth), pilot, **_15g())
    later.refresh_from_db()
    assert later.policy == version_2
    assert later.decision == "ineligible"
    assert list(later.reasons.values_list("code", flat=True)) == [
        "age_over_max",
        "quantity_over_limit",
    ]


# --- encounter_answer ---------------------------------------------------------------------


def test_accepting_the_offer_diverts_and_opens_exactly_one_referral(officer, person, pilot):
    encounter = record(officer, person, pilot)

    answered = services.encounter_answer(encounter=encounter, accepted=True, by=officer)

    assert answered.decision == "diverted"
    assert answered.accepted is True
    assert answered.answered_at is not None
    assert Referral.objects.filter(encounter=encounter).count() == 1
    assert Referral.objects.count() == 1


def test_declining_the_offer_opens_no_referral(officer, person, pilot):
    encounter = record(officer, person, pilot)

    answered = services.encounter_answer(encounter=encounter, accepted=False, by=officer)

    assert answered.decision == "declined"
    assert answered.accepted is False
    assert not Referral.objects.exists()


def test_answering_twice_is_refused_and_changes_nothing(officer, person, pilot):
    encounter = record(officer, person, pilot)
    services.encounter_answer(encounter=encounter, accepted=True, by=officer)

    with pytest.raises(ValidationError) as caught:
        services.encounter_answer(encounter=encounter, accepted=False, by=officer)

    assert caught.value.messages == [
        "The person's answer has already been recorded for this encounter"
    ]
    encounter.refresh_from_db()
    assert encounter.decision == "diverted"
    assert Referral.objects.count() == 1


def test_answering_an_encounter_not_offered_is_refused(officer, person, comparison):
    encounter = record(officer, person, comparison)

    with pytest.raises(ValidationError, match="Diversion was not offered at this encounter"):
        services.encounter_answer(encounter=encounter, accepted=True, by=officer)


def test_encounter_recorded_with_acceptance_is_diverted_with_its_referral(officer, person, pilot):
    encounter = diverted(officer, person, pilot)

    assert encounter.decision == "diverted"
    assert encounter.referral.provider is None


# --- recent diversion ----------------------------------------------------------------------


def test_previous_diversion_within_12_months_makes_the_next_encounter_ineligible(
    officer, person, pilot
):
    diverted(officer, person, pilot, encounter_date=TODAY() - timedelta(days=100))

    again = record(officer, person, pilot, encounter_date=TODAY() - timedelta(days=5))

    assert again.decision == "ineligible"
    assert list(again.reasons.values_list("code", flat=True)) == ["recent_diversion"]


def test_previous_declined_offer_does_not_count_as_a_diversion(officer, person, pilot):
    first = record(officer, person, pilot, encounter_date=TODAY() - timedelta(days=100))
    services.encounter_answer(encounter=first, accepted=False, by=officer)

    again = record(officer, person, pilot, encounter_date=TODAY() - timedelta(days=5))

    assert again.decision == "offered"


# --- referrals ----------------------------------------------------------------------------


def test_referral_arranged_with_a_provider_serving_the_borough(officer, person, pilot, provider):
    referral = diverted(officer, person, pilot).referral
    appointment = TODAY() + timedelta(days=3)

    services.referral_arrange(
        referral=referral, provider=provider, appointment_on=appointment, by=officer
    )

    referral.refresh_from_db()
    assert referral.provider == provider
    assert referral.appointment_on == appointment


def test_referral_to_a_provider_not_serving_the_borough_is_refused(officer, person, pilot):
    elsewhere = ProviderFactory(name="Croydon counselling", boroughs=[comparison_borough()])
    referral = diverted(officer, person, pilot).referral

    with pytest.raises(ValidationError) as caught:
        services.referral_arrange(
            referral=referral, provider=elsewhere, appointment_on=None, by=officer
        )

    assert caught.value.message_dict["provider"] == ["Croydon counselling does not serve Lewisham"]
    referral.refresh_from_db()
    assert referral.provider is None


def _outcome(referral, by, **dates):
    values = dict.fromkeys(services.OUTCOME_FIELDS)
    values.update(dates)
    return services.referral_outcome_record(referral=referral, by=by, **values)


def test_attendance_then_completion_is_recorded(officer, person, pilot):
    encounter = diverted(officer, person, pilot, encounter_date=TODAY() - timedelta(days=20))
    day = encounter.encounter_date

    referral = _outcome(
        encounter.referral,
        officer,
        attended_on=day + timedelta(days=3),
        completed_on=day + timedelta(days=10),
    )

    referral.refresh_from_db()
    assert referral.completed_on == day + timedelta(days=10)
    assert services.referral_status_today(referral) == "completed"


@pytest.mark.parametrize(
    ("offsets", "field", "message"),
    [
        (
            {"completed_on": 5, "did_not_attend_on": 6, "attended_on": 4},
            "did_not_attend_on",
            "A referral can end only one way: it has both completed and did not attend dates",
        ),
        (
            {"completed_on": 5},
            "completed_on",
            "Completion needs an attendance date on or before it",
        ),
        (
            {"attended_on": 6, "completed_on": 5},
            "completed_on",
            "Completed date must be on or after the attended date",
        ),
        (
            {"attended_on": -1},
            "attended_on",
            "Attended date must be on or after the encounter date",
        ),
        (
            {"withdrawn_on": 30},
            "withdrawn_on",
            "Withdrawn date must be today or in the past",
        ),
    ],
    ids=["two-terminal", "completed-unattended", "completed-before-attended", "early", "future"],
)
def test_outcome_dates_breaking_spec_4_are_refused_and_nothing_saved(
    officer, person, pilot, offsets, field, message
):
    encounter = diverted(officer, person, pilot, encounter_date=TODAY() - timedelta(days=20))
    dates = {
        name: encounter.encounter_date + timedelta(days=days) for name, days in offsets.items()
    }

    with pytest.raises(ValidationError) as caught:
        _outcome(encounter.referral, officer, **dates)

    assert caught.value.message_dict[field] == [message]
    referral = Referral.objects.get(encounter=encounter)
    assert [getattr(referral, f) for f in services.OUTCOME_FIELDS] == [None] * 4


# --- audit --------------------------------------------------------------------------------


def test_history_records_who_made_each_change(officer, person, pilot, approver):
    encounter = record(officer, person, pilot, encounter_date=TODAY() - timedelta(days=20))
    services.encounter_answer(encounter=encounter, accepted=True, by=approver)
    referral = Referral.objects.get(encounter=encounter)
    _outcome(referral, officer, attended_on=TODAY() - timedelta(days=2))

    encounter_history = list(encounter.history.order_by("history_date"))
    assert [h.history_user for h in encounter_history] == [officer, approver]
    assert encounter_history[1].history_change_reason == (
        "Recorded the person's answer to the offer of diversion"
    )
    assert [h.history_user for h in referral.history.order_by("history_date")] == [
        approver,
        officer,
    ]
    assert person.history.get().history_type == "+"


NEW_PERSON = {
    "first_name": "Ria",
    "last_name": "New",
    "date_of_birth": TODAY() - timedelta(days=7400),
    "gender": "female",
    "ethnicity": "W1",
}


def test_new_person_and_encounter_are_recorded_together_by_the_same_officer(officer, pilot):
    encounter = services.encounter_record_for_new_person(
        by=officer,
        person_details=NEW_PERSON,
        borough=pilot,
        encounter_date=TODAY() - timedelta(days=7),
        substance="cannabis_herbal",
        quantity_grams=Decimal("3.5"),
    )

    person = Person.objects.get()
    assert encounter.person == person and encounter.officer == officer
    assert person.history.get().history_user == officer


def test_refused_encounter_leaves_no_new_person_behind(officer, pilot):
    with pytest.raises(ValidationError):
        services.encounter_record_for_new_person(
            by=officer,
            person_details=NEW_PERSON,
            borough=pilot,
            encounter_date=TODAY() + timedelta(days=1),  # in the future: refused
            substance="cannabis_herbal",
            quantity_grams=Decimal("3.5"),
        )

    assert not Person.objects.exists()
    assert not Person.history.exists()


# --- the daily check ----------------------------------------------------------------------


def test_flag_overdue_flags_only_referrals_with_no_terminal_outcome_after_28_days(officer, pilot):
    today = TODAY()

    def referral_from(days_ago: int, **outcome_offsets) -> Referral:
        encounter = diverted(
            officer, PersonFactory(), pilot, encounter_date=today - timedelta(days=days_ago)
        )
        if outcome_offsets:
            _outcome(
                encounter.referral,
                officer,
                **{
                    k: encounter.encounter_date + timedelta(days=v)
                    for k, v in outcome_offsets.items()
                },
            )
        return encounter.referral

    due = referral_from(28)
    attended_only = referral_from(40, attended_on=3)
    not_yet = referral_from(27)
    completed = referral_from(40, attended_on=3, completed_on=5)
    did_not_attend = referral_from(40, did_not_attend_on=3)
    withdrawn = referral_from(40, withdrawn_on=1)

    flagged = services.referrals_flag_overdue(today=today)

    assert flagged == 2
    flagged_ids = set(
        Referral.objects.filter(flagged_at__isnull=False).values_list("pk", flat=True)
    )
    assert flagged_ids == {due.pk, attended_only.pk}
    assert not {not_yet.pk, completed.pk, did_not_attend.pk, withdrawn.pk} & flagged_ids


def test_flag_overdue_twice_flags_nothing_more_and_keeps_the_first_time(officer, person, pilot):
    encounter = diverted(officer, person, pilot, encounter_date=TODAY() - timedelta(days=30))
    assert services.referrals_flag_overdue() == 1
    first = Referral.objects.get(encounter=encounter).flagged_at

    assert services.referrals_flag_overdue() == 0

    referral = Referral.objects.get(encounter=encounter)
    assert referral.flagged_at == first
    assert referral.history.first().history_change_reason == (
        "No outcome 28 days after the encounter"
    )
