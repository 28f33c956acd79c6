"""The 12-month rule cannot be gamed: not by answering two offers, nor by answering at once.

SPEC §3: an encounter is ineligible (`recent_diversion`) when another encounter of the same
person was decided `diverted` on a date d with (encounter date - 12 months) < d <= encounter
date. An offer waits for the person's answer, so two offers can be open at once; the answer
judges the encounter again, with the person locked, before it can divert.
"""

import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, connections
from django.utils import timezone

from boroughs.models import Borough
from diversion import services
from diversion.facts import encounter_facts
from diversion.models import Encounter, Person, Referral
from tests.conftest import make_user
from tests.diversion.factories import PersonFactory, pilot_borough

TODAY = timezone.localdate
THREADS = 20


@pytest.fixture
def pilot(db) -> Borough:
    return pilot_borough(start=date(2022, 1, 1))  # Lewisham


@pytest.fixture
def person(db) -> Person:
    return PersonFactory(date_of_birth=date(2003, 1, 1))  # 20 to 23 in the dates used here


def offer(officer, person: Person, borough: Borough, day: date, **kwargs) -> Encounter:
    """Record an eligible encounter; with no answer given it stays `offered`."""
    return services.encounter_record(
        by=officer,
        person=person,
        borough=borough,
        encounter_date=day,
        substance="cannabis_herbal",
        quantity_grams=Decimal("3.5"),
        **kwargs,
    )


def decisions(person: Person) -> list[str]:
    return list(
        person.encounters.order_by("encounter_date", "pk").values_list("decision", flat=True)
    )


def codes(encounter: Encounter) -> list[str]:
    return list(encounter.reasons.order_by("position").values_list("code", flat=True))


def test_encounter_facts_read_the_person_and_borough_and_sort_the_diversions(pilot, person):
    facts = encounter_facts(
        person=person,
        borough=pilot,
        encounter_date=date(2024, 5, 1),
        substance="cannabis_resin",
        quantity_grams=Decimal("2"),
        exclusions=iter(["other_offence"]),
        diversion_dates=[date(2024, 1, 2), date(2023, 6, 1)],
        accepted=None,
    )

    assert facts.date_of_birth == date(2003, 1, 1)
    assert (facts.borough_role, facts.pilot_start, facts.pilot_end) == (
        "pilot",
        date(2022, 1, 1),
        None,
    )
    assert facts.previous_diversion_dates == (date(2023, 6, 1), date(2024, 1, 2))
    assert facts.exclusions == ("other_offence",)


# --- one officer, one answer after another ---------------------------------------------------


def test_two_offers_a_day_apart_answered_yes_divert_only_the_first(officer, person, pilot):
    """The issue's bypass: both offers stand until answered; only one answer may divert."""
    first = offer(officer, person, pilot, TODAY() - timedelta(days=2))
    second = offer(officer, person, pilot, TODAY() - timedelta(days=1))
    assert [first.decision, second.decision] == ["offered", "offered"]

    services.encounter_answer(encounter=first, accepted=True, by=officer)
    answered = services.encounter_answer(encounter=second, accepted=True, by=officer)

    assert answered.decision == "ineligible"
    assert answered.accepted is None
    assert answered.answered_at is not None
    second.refresh_from_db()
    assert (second.decision, second.accepted) == ("ineligible", None)
    assert codes(second) == ["recent_diversion"]
    assert decisions(person) == ["diverted", "ineligible"]
    assert list(Referral.objects.values_list("encounter", flat=True)) == [first.pk]


def test_overruled_answer_is_audited_with_the_answer_given_and_who_gave_it(
    officer, person, pilot, approver
):
    first = offer(officer, person, pilot, TODAY() - timedelta(days=2))
    second = offer(officer, person, pilot, TODAY() - timedelta(days=1))
    services.encounter_answer(encounter=first, accepted=True, by=officer)

    services.encounter_answer(encounter=second, accepted=True, by=approver)

    history = list(second.history.order_by("history_date"))
    assert [(h.decision, h.history_user) for h in history] == [
        ("offered", officer),
        ("ineligible", approver),
    ]
    assert history[1].history_change_reason == (
        "Answer yes recorded; judged again, now ineligible (recent_diversion)"
    )
    assert first.history.order_by("history_date").last().history_change_reason == (
        "Recorded the person's answer to the offer of diversion"
    )


def test_answer_no_after_a_diversion_in_the_window_is_ineligible_not_declined(
    officer, person, pilot
):
    """SPEC §3 decides `declined` only when no rule is broken, so a refusal is judged too."""
    first = offer(officer, person, pilot, TODAY() - timedelta(days=2))
    second = offer(officer, person, pilot, TODAY() - timedelta(days=1))
    services.encounter_answer(encounter=first, accepted=True, by=officer)

    answered = services.encounter_answer(encounter=second, accepted=False, by=officer)

    assert (answered.decision, answered.accepted) == ("ineligible", None)
    assert codes(answered) == ["recent_diversion"]


def test_overruled_offer_cannot_be_answered_again(officer, person, pilot):
    first = offer(officer, person, pilot, TODAY() - timedelta(days=2))
    second = offer(officer, person, pilot, TODAY() - timedelta(days=1))
    services.encounter_answer(encounter=first, accepted=True, by=officer)
    services.encounter_answer(encounter=second, accepted=True, by=officer)

    with pytest.raises(ValidationError, match="Diversion was not offered"):
        services.encounter_answer(encounter=second, accepted=True, by=officer)
    assert Referral.objects.count() == 1


def test_a_declined_offer_leaves_the_other_offer_free_to_divert(officer, person, pilot):
    first = offer(officer, person, pilot, TODAY() - timedelta(days=2))
    second = offer(officer, person, pilot, TODAY() - timedelta(days=1))

    services.encounter_answer(encounter=first, accepted=False, by=officer)
    services.encounter_answer(encounter=second, accepted=True, by=officer)

    assert decisions(person) == ["declined", "diverted"]


def test_two_offers_on_the_same_day_divert_only_once(officer, person, pilot):
    """d <= encounter date: a diversion on the same day is within the window."""
    day = TODAY() - timedelta(days=3)
    first, second = offer(officer, person, pilot, day), offer(officer, person, pilot, day)

    services.encounter_answer(encounter=second, accepted=True, by=officer)
    services.encounter_answer(encounter=first, accepted=True, by=officer)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.decision, second.decision) == ("ineligible", "diverted")


@pytest.mark.parametrize(
    ("diverted_on", "offered_on", "expected"),
    [
        # 29 February 2024 less 12 months is 28 February 2023: not after it, so outside.
        (date(2023, 2, 28), date(2024, 2, 29), "diverted"),
        (date(2023, 3, 1), date(2024, 2, 29), "ineligible"),
        # 31 March 2024 less 12 months is 31 March 2023.
        (date(2023, 3, 31), date(2024, 3, 31), "diverted"),
        (date(2023, 4, 1), date(2024, 3, 31), "ineligible"),
    ],
)
def test_answer_judges_again_with_spec_window_edges(
    officer, person, pilot, diverted_on, offered_on, expected
):
    earlier = offer(officer, person, pilot, diverted_on)
    later = offer(officer, person, pilot, offered_on)
    services.encounter_answer(encounter=earlier, accepted=True, by=officer)

    answered = services.encounter_answer(encounter=later, accepted=True, by=officer)

    assert answered.decision == expected


def test_back_dated_encounter_is_judged_only_against_diversions_on_or_before_its_date(
    officer, person, pilot
):
    """SPEC §3 looks back from the encounter date; a later diversion is not a previous one.

    Each stored decision is right for the moment it was made, and is not recomputed.
    """
    later = offer(officer, person, pilot, TODAY() - timedelta(days=1), accepted=True)
    back_dated = offer(officer, person, pilot, TODAY() - timedelta(days=30))
    assert back_dated.decision == "offered"

    answered = services.encounter_answer(encounter=back_dated, accepted=True, by=officer)

    assert answered.decision == "diverted"
    later.refresh_from_db()
    assert later.decision == "diverted"


def test_new_encounter_after_an_offer_is_still_offered_until_the_offer_is_accepted(
    officer, person, pilot
):
    """An open offer is not a diversion (SPEC §3 counts only `diverted`), so it blocks nothing."""
    offer(officer, person, pilot, TODAY() - timedelta(days=2))

    second = offer(officer, person, pilot, TODAY() - timedelta(days=1))

    assert (second.decision, codes(second)) == ("offered", [])


def test_answer_page_says_when_the_answer_could_not_divert(client, officer, person, pilot):
    first = offer(officer, person, pilot, TODAY() - timedelta(days=2))
    second = offer(officer, person, pilot, TODAY() - timedelta(days=1))
    services.encounter_answer(encounter=first, accepted=True, by=officer)
    client.force_login(officer)

    response = client.post(
        f"{second.get_absolute_url()}answer/", {"answer-accepted": "yes"}, follow=True
    )

    html = response.content.decode()
    assert "Diversion cannot go ahead" in html
    assert "Diversion accepted" not in html
    assert "Not eligible for diversion" in html
    assert "Diverted in the 12 months before this encounter" in html


# --- many officers at once: real concurrent connections ---------------------------------------


def run_together(tasks: list[Callable[[], object]]) -> list[BaseException]:
    """Run each task in its own thread and database connection, released by one barrier."""
    barrier = threading.Barrier(len(tasks))
    failures: list[BaseException] = []

    def run(task: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            task()
        except BaseException as error:  # kept for the test to report, not lost in a thread
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a decision never finished"
    return failures


@pytest.fixture
def committed(reference_data):
    """An officer, a pilot borough and a 20-year-old, committed so other connections see them."""
    officer = make_user("officer", first_name="Olu", last_name="Officer")
    borough = pilot_borough(start=date(2022, 1, 1))
    person = PersonFactory(date_of_birth=date(2003, 1, 1))
    return officer, borough, person


def assert_one_diversion(person: Person, total: int, failures: list[BaseException]) -> None:
    """Check the decisions made at once left one diversion, with one referral, and no more.

    PostgreSQL queues each decision behind the person's row lock, so every one of them is made.
    SQLite has no row locks: it refuses a writer that would overlap another ("database table is
    locked"), so there only the diversion count can be checked, not that every decision was made.
    """
    if connection.vendor != "postgresql":
        assert all(isinstance(f, OperationalError) and "locked" in str(f) for f in failures)
        assert person.encounters.filter(decision="diverted").count() <= 1
        assert Referral.objects.count() <= 1
        return
    assert failures == []
    diverted = person.encounters.filter(decision="diverted")
    assert diverted.count() == 1
    assert Referral.objects.filter(encounter__person=person).count() == 1
    assert Referral.objects.get().encounter == diverted.get()
    others = person.encounters.exclude(decision="diverted")
    assert others.count() == total - 1
    assert set(others.values_list("decision", flat=True)) == {"ineligible"}
    assert set(others.values_list("reasons__code", flat=True)) == {"recent_diversion"}


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_yes_answers_divert_once(committed):
    officer, borough, person = committed
    day = TODAY() - timedelta(days=1)
    offers = [offer(officer, person, borough, day) for _ in range(THREADS)]

    failures = run_together(
        [
            lambda e=e: services.encounter_answer(encounter=e, accepted=True, by=officer)
            for e in offers
        ]
    )

    assert_one_diversion(person, THREADS, failures)
    if not failures:  # always so on PostgreSQL: every answer was recorded, each in history
        assert Encounter.history.filter(person_id=person.pk).count() == 2 * THREADS


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_accepted_encounters_divert_once(committed):
    officer, borough, person = committed
    day = TODAY() - timedelta(days=1)

    failures = run_together(
        [lambda: offer(officer, person, borough, day, accepted=True) for _ in range(THREADS)]
    )

    assert_one_diversion(person, THREADS, failures)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_answers_and_new_encounters_divert_once(committed):
    officer, borough, person = committed
    day = TODAY() - timedelta(days=1)
    offers = [offer(officer, person, borough, day) for _ in range(THREADS // 2)]
    answers = [
        lambda e=e: services.encounter_answer(encounter=e, accepted=True, by=officer)
        for e in offers
    ]
    new = [lambda: offer(officer, person, borough, day, accepted=True)] * (THREADS // 2)

    failures = run_together(answers + new)

    assert_one_diversion(person, THREADS, failures)
