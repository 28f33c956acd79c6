"""Reads about people, encounters and referrals, always scoped to what the user may see.

An officer sees records in the boroughs they are assigned to and nothing else: a record
outside them is "not found" (404), so its existence is not given away.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from boroughs.models import Borough, OfficerAssignment
from boroughs.selectors import boroughs_for_officer
from diversion.choices import ReoffenceSource
from diversion.models import Encounter, ExclusionFactor, Person, Provider, Referral, Reoffence
from diversion.referral_status import (
    DUE_APPOINTMENT,
    DUE_OUTCOME,
    NO_TERMINAL_OUTCOME,
    appointment_due_q,
    due_annotations,
)

# A page of one person's encounters on their page.
RECENT_ENCOUNTERS = 20
MY_RECENT_ENCOUNTERS = 10
QUEUE_PAGE_SIZE = 20
# Counts on officer pages stop here: "500 or more" is as useful as 3,107 and far cheaper.
COUNT_CAP = 500
# Most overdue first (True) or least: by the day the days overdue count from, which orders
# them the same way from the stored column its index holds. The primary key breaks ties,
# for keyset paging.
QUEUE_ORDER: dict[bool, tuple[str | OrderBy, str]] = {
    True: ("overdue_from", "pk"),
    False: (F("overdue_from").desc(), "pk"),
}


def _officer_boroughs(user: User) -> QuerySet[OfficerAssignment, Any]:
    """Return the officer's assignments as a subquery of borough ids."""
    return OfficerAssignment.objects.filter(officer=user).values("borough_id")


def encounters_for_officer(*, user: User) -> QuerySet[Encounter]:
    """Return encounters in the officer's boroughs, newest first."""
    return (
        Encounter.objects.filter(borough_id__in=_officer_boroughs(user))
        .select_related("person", "borough")
        .order_by(
            "-encounter_date",
            F("occurred_at").desc(nulls_last=True),
            "-created_at",
            "-encounter_ref",
        )
    )


def encounter_for_officer(*, user: User, encounter_ref: str) -> Encounter:
    """Return one encounter in the officer's boroughs, or raise Http404."""
    encounter = (
        encounters_for_officer(user=user)
        .select_related("policy", "officer", "referral__provider")
        .filter(encounter_ref=encounter_ref)
        .first()
    )
    if encounter is None:
        raise Http404("No encounter with that reference in your boroughs")
    return encounter


def encounter_search(
    *,
    user: User,
    encounter_ref: str = "",
    last_name: str = "",
    date_of_birth: date | None = None,
) -> QuerySet[Encounter]:
    """Find encounters in the officer's boroughs by reference, or by surname and birth date."""
    encounters = encounters_for_officer(user=user)
    if encounter_ref:
        return encounters.filter(encounter_ref__iexact=encounter_ref.strip())
    if last_name and date_of_birth:
        return encounters.filter(
            person__last_name__iexact=last_name.strip(), person__date_of_birth=date_of_birth
        )
    return encounters.none()


def record_url_for_reference(*, user: User, reference: str) -> str | None:
    """Return the page of the encounter or person with exactly this reference, if the officer
    may see it; None otherwise, so the search shows "No encounters found" as before.
    """
    reference = reference.strip()
    if not reference:
        return None
    encounter = (
        Encounter.objects.filter(
            encounter_ref__iexact=reference, borough_id__in=_officer_boroughs(user)
        )
        .only("encounter_ref")
        .first()
    )
    if encounter is not None:
        return encounter.get_absolute_url()
    seen_here = Encounter.objects.filter(
        person=OuterRef("pk"), borough_id__in=_officer_boroughs(user)
    )
    person_ref = (
        Person.objects.filter(Exists(seen_here), person_ref__iexact=reference)
        .values_list("person_ref", flat=True)
        .first()
    )
    if person_ref is None:
        return None
    return reverse("diversion:person_detail", args=[person_ref])


def people_matching(*, last_name: str, date_of_birth: date) -> QuerySet[Person]:
    """Return everyone recorded with this surname and date of birth, in any borough.

    Shown only to an officer who already knows both, so that someone met again (perhaps in
    another borough) is chosen rather than recorded a second time.
    """
    return Person.objects.filter(
        last_name__iexact=last_name.strip(),
        date_of_birth=date_of_birth,
        anonymised_at__isnull=True,
    ).order_by("first_name", "created_at")


@dataclass(frozen=True)
class PeopleMatches:
    """People with a surname and date of birth, split by whether the officer may see them."""

    here: list[Person]  # met in one of the officer's boroughs: shown in full
    elsewhere: list[Person]  # met only elsewhere: shown as "already known" until chosen


def _seen_here(user: User) -> Exists:
    return Exists(
        Encounter.objects.filter(person=OuterRef("pk"), borough_id__in=_officer_boroughs(user))
    )


def people_matching_for_officer(
    *, user: User, last_name: str, date_of_birth: date
) -> PeopleMatches:
    """Return the people matching a surname and date of birth, split by the officer's boroughs.

    Someone met only in other boroughs must still be chosen rather than recorded twice, but
    an officer learns their first name and PNC ID only by choosing them (which is audited).
    """
    people = list(
        people_matching(last_name=last_name, date_of_birth=date_of_birth).annotate(
            seen_here=_seen_here(user)
        )
    )
    return PeopleMatches(
        here=[p for p in people if p.seen_here], elsewhere=[p for p in people if not p.seen_here]
    )


def person_for_officer(*, user: User, person_ref: str) -> Person:
    """Return a person met in one of the officer's boroughs, or raise Http404."""
    person = Person.objects.filter(_seen_here(user), person_ref=person_ref).first()
    if person is None:
        raise Http404("No person with that reference in your boroughs")
    return person


def person_encounters_for_officer(*, user: User, person: Person) -> QuerySet[Encounter]:
    """Return a person's encounters in the officer's boroughs."""
    return encounters_for_officer(user=user).filter(person=person)


def person_encounters_page(*, user: User, person: Person, page: int | str = 1) -> Page:
    """Return one page of a person's encounters in the officer's boroughs, newest first.

    Paged so the person page costs the same however long their history (issue 8); the count
    is of one person's encounters, read off ``encounter_person_date``. A page number that is
    not one gives the first page, one past the end the last.
    """
    encounters = person_encounters_for_officer(user=user, person=person)
    return Paginator(encounters, RECENT_ENCOUNTERS).get_page(page)


@dataclass(frozen=True)
class FurtherOffences:
    """A person's further offences as one officer may see them."""

    shown: list[Reoffence]  # entered by officers of the viewer's boroughs
    elsewhere: int  # entered in other boroughs or matched from police records: a count only
    encounters_elsewhere: int  # the person's encounters in other boroughs: a count only


def further_offences_for_officer(*, user: User, person: Person) -> FurtherOffences:
    """Return the offences the officer may read in full, and counts of the rest."""
    colleagues = OfficerAssignment.objects.filter(borough_id__in=_officer_boroughs(user)).values(
        "officer_id"
    )
    offences = person.reoffences.order_by("-offence_date", "-created_at")
    shown = offences.filter(source=ReoffenceSource.OFFICER, entered_by_id__in=colleagues)
    elsewhere_encounters = Encounter.objects.filter(person=person).exclude(
        borough_id__in=_officer_boroughs(user)
    )
    return FurtherOffences(
        shown=list(shown),
        elsewhere=offences.exclude(pk__in=shown.values("pk")).count(),
        encounters_elsewhere=elsewhere_encounters.count(),
    )


def encounter_boroughs_for_officer(*, user: User) -> QuerySet[Borough]:
    """Return the officer's boroughs where encounters can be recorded (pilot or comparison)."""
    return boroughs_for_officer(user=user).exclude(role=Borough.Role.NONE)


def exclusion_factors_active() -> QuerySet[ExclusionFactor]:
    """Return the exclusion factors offered on the form, in their set order."""
    return ExclusionFactor.objects.filter(active=True).order_by("position", "code")


def exclusion_labels() -> dict[str, str]:
    """Return every factor's label by code, retired ones too, for describing old reasons."""
    return dict(ExclusionFactor.objects.values_list("code", "label"))


def providers_for_borough(*, borough: Borough) -> QuerySet[Provider]:
    """Return the active providers that take referrals from a borough."""
    return Provider.objects.filter(active=True, boroughs=borough).order_by("name")


def officer_home_context(*, user: User) -> dict:
    """Return what the officer's home page shows: what needs action, then their own encounters.

    A fixed number of queries whatever the history: a capped count and the most overdue
    referral (both on the open-referral index), and the officer's ten latest encounters.
    """
    due = referrals_due(user=user)
    return {
        "needing_action_count": count_capped(due),
        "needing_action_cap": COUNT_CAP,  # Read at call time, so tests can lower it.
        "needing_action_oldest": next(iter(referral_queue_page(referrals=due, size=1).rows), None),
        "my_recent_encounters": list(my_recent_encounters(user=user)),
    }


def my_recent_encounters(*, user: User) -> QuerySet[Encounter]:
    """Return this officer's ten latest encounters, in boroughs they still work in."""
    return (
        Encounter.objects.filter(officer=user, borough_id__in=_officer_boroughs(user))
        .select_related("borough")
        .order_by("-encounter_date", "-created_at", "-id")[:MY_RECENT_ENCOUNTERS]
    )


def count_capped(queryset: QuerySet, *, cap: int | None = None) -> int:
    """Count up to ``cap`` + 1 rows, so a long list costs no more than a short one.

    A result above ``cap`` means "more than ``cap``": pages show it as "500 or more".
    """
    cap = COUNT_CAP if cap is None else cap
    return queryset.order_by()[: cap + 1].count()


def referrals_due(
    *,
    user: User,
    borough_id: int | None = None,
    due: str = "",
    today: date | None = None,
) -> QuerySet[Referral]:
    """Return open referrals in the officer's boroughs that need action, with what is due.

    Read from the referral's own stored columns (``borough``, ``due_on``, ``overdue_from``,
    kept by the services), so the queue is a read of the ``referral_due`` indexes in the
    order it shows. Each row is annotated by `diversion.referral_status.due_annotations`:
    ``due`` (a missed appointment or a late outcome) and ``days_overdue``. ``borough_id`` and
    ``due`` narrow it.
    """
    today = today or timezone.localdate()
    referrals = (
        Referral.objects.filter(
            NO_TERMINAL_OUTCOME,
            borough_id__in=_officer_boroughs(user),
            due_on__lte=today,
            # Implied by due_on (never after it); it bounds the index read from today back.
            overdue_from__lte=today,
        )
        .annotate(**due_annotations(today=today))
        .select_related("encounter__person", "encounter__borough", "provider")
    )
    if borough_id is not None:
        referrals = referrals.filter(borough_id=borough_id)
    # The plain condition rather than the ``due`` annotation: PostgreSQL can match it to the
    # missed-appointment index and estimate it, where it guessed a CASE matched 6 rows of
    # 18,000 and sorted them all (issue 8).
    if due == DUE_APPOINTMENT:
        referrals = referrals.filter(appointment_due_q(today))
    elif due == DUE_OUTCOME:
        referrals = referrals.exclude(appointment_due_q(today))
    elif due:
        raise ValueError(f"Unknown due filter {due!r}")
    return referrals


@dataclass(frozen=True)
class QueuePage:
    """One page of the work queue and where the next one starts (None on the last page)."""

    rows: list[Referral]
    next_after: tuple[int, int] | None  # (overdue_from as date.toordinal(), id) of the last row


def _after(
    referrals: QuerySet[Referral], *, most_overdue_first: bool, after: tuple[int, int]
) -> QuerySet[Referral]:
    """Return the referrals past a keyset position, in the queue's order.

    The position is the last row's ``overdue_from`` (as a day number, ``date.toordinal``) and
    id: it does not depend on today, so a page link still follows on after midnight. The
    plain bound on ``overdue_from`` lets the index read start at the position.
    """
    since = date.fromordinal(max(after[0], 1))
    pk = after[1]
    if most_overdue_first:
        return referrals.filter(
            Q(overdue_from__gt=since) | Q(overdue_from=since, pk__gt=pk), overdue_from__gte=since
        )
    return referrals.filter(
        Q(overdue_from__lt=since) | Q(overdue_from=since, pk__gt=pk), overdue_from__lte=since
    )


def referral_queue_page(
    *,
    referrals: QuerySet[Referral],
    most_overdue_first: bool = True,
    after: tuple[int, int] | None = None,
    size: int | None = None,
) -> QueuePage:
    """Return a page of ``referrals_due`` by days overdue, after a keyset position (``_after``).

    Keyset paging reads only the rows it shows, however deep the page, where OFFSET would
    read and throw away every row before it.
    """
    if after is not None:
        referrals = _after(referrals, most_overdue_first=most_overdue_first, after=after)
    size = size or QUEUE_PAGE_SIZE
    # First the page's keys alone, off the index, so no names or providers are joined for
    # rows not shown; then its rows.
    ordered = referrals.order_by(*QUEUE_ORDER[most_overdue_first])
    keys: list[tuple[int, date]] = list(ordered.values_list("pk", "overdue_from")[: size + 1])  # type: ignore[arg-type]  # never null on a due referral
    next_after = None
    if len(keys) > size:
        pk, since = keys[size - 1]
        next_after = (since.toordinal(), pk)
    ids = [pk for pk, _days in keys[:size]]
    found = {referral.pk: referral for referral in referrals.filter(pk__in=ids)} if ids else {}
    return QueuePage(rows=[found[pk] for pk in ids], next_after=next_after)
