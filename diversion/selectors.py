"""Reads about people, encounters and referrals, always scoped to what the user may see.

An officer sees records in the boroughs they are assigned to and nothing else: a record
outside them is "not found" (404), so its existence is not given away.
"""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import Http404

from boroughs.models import Borough, OfficerAssignment
from boroughs.selectors import boroughs_for_officer
from diversion.choices import ReoffenceSource
from diversion.models import Encounter, ExclusionFactor, Person, Provider, Referral, Reoffence
from diversion.referral_status import NO_TERMINAL_OUTCOME

RECENT_ENCOUNTERS = 20
HOME_REFERRALS = 10


def _officer_boroughs(user: AbstractBaseUser) -> QuerySet[OfficerAssignment]:
    """Return the officer's assignments as a subquery of borough ids."""
    return OfficerAssignment.objects.filter(officer=user).values("borough_id")


def encounters_for_officer(*, user: AbstractBaseUser) -> QuerySet[Encounter]:
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


def encounter_for_officer(*, user: AbstractBaseUser, encounter_ref: str) -> Encounter:
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
    user: AbstractBaseUser,
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


def _seen_here(user: AbstractBaseUser) -> Exists:
    return Exists(
        Encounter.objects.filter(person=OuterRef("pk"), borough_id__in=_officer_boroughs(user))
    )


def people_matching_for_officer(
    *, user: AbstractBaseUser, last_name: str, date_of_birth: date
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


def person_for_officer(*, user: AbstractBaseUser, person_ref: str) -> Person:
    """Return a person met in one of the officer's boroughs, or raise Http404."""
    person = Person.objects.filter(_seen_here(user), person_ref=person_ref).first()
    if person is None:
        raise Http404("No person with that reference in your boroughs")
    return person


def person_encounters_for_officer(*, user: AbstractBaseUser, person: Person) -> QuerySet[Encounter]:
    """Return a person's encounters in the officer's boroughs."""
    return encounters_for_officer(user=user).filter(person=person)


@dataclass(frozen=True)
class FurtherOffences:
    """A person's further offences as one officer may see them."""

    shown: list[Reoffence]  # entered by officers of the viewer's boroughs
    elsewhere: int  # entered in other boroughs or matched from police records: a count only
    encounters_elsewhere: int  # the person's encounters in other boroughs: a count only


def further_offences_for_officer(*, user: AbstractBaseUser, person: Person) -> FurtherOffences:
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


def referrals_needing_action(*, user: AbstractBaseUser) -> QuerySet[Referral]:
    """Return flagged referrals in the officer's boroughs that still have no final outcome."""
    return (
        Referral.objects.filter(
            NO_TERMINAL_OUTCOME,
            encounter__borough_id__in=_officer_boroughs(user),
            flagged_at__isnull=False,
        )
        .select_related("encounter", "encounter__borough", "provider")
        .order_by("encounter__encounter_date", "encounter__encounter_ref")
    )


def encounter_boroughs_for_officer(*, user: AbstractBaseUser) -> QuerySet[Borough]:
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


def officer_home_context(*, user: AbstractBaseUser) -> dict:
    """Return what the officer's home page shows: recent encounters, referrals needing action."""
    needing_action = referrals_needing_action(user=user)
    return {
        "recent_encounters": list(encounters_for_officer(user=user)[:RECENT_ENCOUNTERS]),
        # The oldest few on the home page; the full list is paginated on its own page.
        "referrals_needing_action": list(needing_action[:HOME_REFERRALS]),
        "referrals_needing_action_count": needing_action.count(),
    }
