"""Writes: people, encounters and their decisions, referrals and their outcomes.

Every function here is keyword-only, runs in one transaction, validates before it saves, and
leaves a history record saying who made the change.
"""

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from audit.history import audit_as
from boroughs.models import Borough
from diversion import eligibility
from diversion.choices import Decision, EncounterSource, Gender, ReferralStatus, ReoffenceSource
from diversion.facts import encounter_facts
from diversion.models import (
    Encounter,
    EncounterExclusion,
    EncounterReason,
    ExclusionFactor,
    Person,
    Provider,
    Referral,
    Reoffence,
)
from diversion.policies import as_rule, policy_model_in_force
from diversion.referral_status import NO_TERMINAL_OUTCOME, due_dates, status_on
from diversion.validators import (
    birth_date_problem,
    born_before,
    grams_problem,
    past_date_problem,
)

OUTCOME_FIELDS = ("attended_on", "completed_on", "did_not_attend_on", "withdrawn_on")
TERMINAL_FIELDS = ("completed_on", "did_not_attend_on", "withdrawn_on")
OUTCOME_LABELS = {
    "attended_on": "attended",
    "completed_on": "completed",
    "did_not_attend_on": "did not attend",
    "withdrawn_on": "withdrawn",
}


# No 0/O or 1/I: references are read aloud over a radio.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference(prefix: str) -> str:
    """Make a short, unguessable reference such as ENC-7K2M9QXA."""
    return f"{prefix}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def new_pseudonym() -> str:
    """Make a pseudonym: random, so it reveals nothing, and stored, so it stays stable."""
    return "P" + secrets.token_hex(8)


def _audit(obj: Model, by: User | None, reason: str = "") -> None:
    """Tell django-simple-history who made the next save and why (an empty reason: none)."""
    audit_as(obj, by=by, reason=reason or None)


def person_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    gender: str,
    ethnicity: str,
    pnc_id: str = "",
    person_ref: str | None = None,
    by: User | None = None,
) -> Person:
    """Record a person, giving them a reference and a pseudonym."""
    problem = birth_date_problem(date_of_birth, noun="date of birth")
    if problem:
        raise ValidationError({"date_of_birth": problem})
    person = Person(
        person_ref=person_ref or new_reference("PER"),
        pseudonym=new_pseudonym(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        gender=gender or Gender.NOT_STATED,
        ethnicity=ethnicity,
        pnc_id=pnc_id.strip(),
    )
    person.full_clean()
    _audit(person, by)
    with transaction.atomic():
        person.save()
    return person


def previous_diversion_dates(
    *, person: Person, exclude: Encounter | None = None
) -> tuple[date, ...]:
    """Return the dates of the person's other encounters decided diverted.

    Call it with the person locked (`person_lock`), or a diversion committed a moment later by
    another officer would be missed and the 12-month rule could be broken twice over.
    """
    qs = Encounter.objects.filter(person=person, decision=Decision.DIVERTED)
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    return tuple(qs.order_by("encounter_date").values_list("encounter_date", flat=True))


def person_lock(*, person_id: int) -> Person:
    """Lock a person's row until the transaction ends, so their decisions are made one at a time.

    Every decision that reads the person's diversions (recording an encounter, recording an
    answer) takes this lock first, so each one sees the diversions the others committed. Take
    it before locking any of the person's encounters, so two decisions never wait on each other.
    """
    return Person.objects.select_for_update().get(pk=person_id)


def reason_rows(encounter_id: int, codes: Iterable[str]) -> list[EncounterReason]:
    """Build an encounter's reason rows, numbered in the order the rule reported them."""
    return [
        EncounterReason(encounter_id=encounter_id, position=i, code=code)
        for i, code in enumerate(codes, start=1)
    ]


def exclusion_rows(encounter_id: int, factor_ids: Iterable[int]) -> list[EncounterExclusion]:
    """Build an encounter's exclusion rows, numbered in the order the factors were given."""
    return [
        EncounterExclusion(encounter_id=encounter_id, factor_id=factor_id, position=i)
        for i, factor_id in enumerate(factor_ids, start=1)
    ]


def _factors(exclusions: Sequence[ExclusionFactor | str]) -> list[ExclusionFactor]:
    """Resolve exclusion factors given as objects or codes, keeping their order."""
    codes = [f.code if isinstance(f, ExclusionFactor) else f for f in exclusions]
    found = {f.code: f for f in ExclusionFactor.objects.filter(code__in=codes)}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise ValidationError({"exclusions": f"Unknown exclusion factor: {', '.join(unknown)}"})
    return [found[code] for code in dict.fromkeys(codes)]


def _encounter_errors(
    *,
    person: Person,
    borough: Borough,
    encounter_date: date,
    occurred_at: datetime | None,
    quantity_grams: Decimal,
) -> dict[str, str]:
    """Check an encounter's input before it is judged; return plain-English errors by field."""
    errors: dict[str, str] = {}
    date_problem = past_date_problem(encounter_date, noun="the date of the encounter")
    if date_problem:
        errors["encounter_date"] = date_problem
    if occurred_at is not None and occurred_at > timezone.now() + timedelta(minutes=5):
        errors["occurred_at"] = "The time of the encounter must be now or in the past"
    if borough.role == Borough.Role.NONE:
        errors["borough"] = (
            f"{borough.name} is not taking part in the diversion pilot, "
            "so encounters cannot be recorded there"
        )
    grams = grams_problem(quantity_grams, noun="the amount")
    if grams:
        errors["quantity_grams"] = grams
    if not born_before(date_of_birth=person.date_of_birth, day=encounter_date):
        errors["encounter_date"] = "The date of the encounter must be after the date of birth"
    return errors


def _apply(
    encounter: Encounter,
    assessment: eligibility.Assessment,
    *,
    accepted: bool | None,
    now: datetime,
) -> None:
    """Copy a judgement onto the encounter, keeping the answer only where diversion was offered."""
    answered = accepted is not None and assessment.offered
    encounter.decision = assessment.decision.value
    encounter.age_at_encounter = assessment.age
    encounter.accepted = accepted if answered else None
    encounter.answered_at = now if answered else None


def _decision_store(
    *,
    encounter: Encounter,
    reasons: Sequence[str],
    by: User | None,
    change_reason: str = "",
) -> None:
    """Save a judged encounter with its reasons, and open the referral if it was diverted."""
    encounter.full_clean()
    _audit(encounter, by, change_reason)
    encounter.save()
    EncounterReason.objects.bulk_create(reason_rows(encounter.pk, reasons))
    if encounter.decision == Decision.DIVERTED:
        _referral_open(encounter=encounter, by=by)


def encounter_record(
    *,
    by: User | None,
    person: Person,
    borough: Borough,
    encounter_date: date,
    substance: str,
    quantity_grams: Decimal,
    exclusions: Sequence[ExclusionFactor | str] = (),
    occurred_at: datetime | None = None,
    location: str = "",
    otherwise_disposal: str = "",
    accepted: bool | None = None,
    encounter_ref: str | None = None,
    source: str = EncounterSource.OFFICER,
) -> Encounter:
    """Judge an encounter with the policy in force on its date and store the decision.

    The decision, its reasons, the policy version and the officer are stored together and never
    recomputed. A diverted encounter gets its referral at once. The person is locked while the
    encounter is judged and stored, so a diversion another officer records for them at the same
    moment is counted (SPEC §3's 12-month rule) rather than missed.
    """
    errors = _encounter_errors(
        person=person,
        borough=borough,
        encounter_date=encounter_date,
        occurred_at=occurred_at,
        quantity_grams=quantity_grams,
    )
    if errors:
        raise ValidationError(errors)
    factors = _factors(exclusions)
    policy = policy_model_in_force(encounter_date)
    encounter = Encounter(
        encounter_ref=encounter_ref or new_reference("ENC"),
        person=person,
        borough=borough,
        encounter_date=encounter_date,
        occurred_at=occurred_at,
        location=location.strip(),
        substance=substance,
        quantity_grams=quantity_grams,
        otherwise_disposal=otherwise_disposal,
        policy=policy,
        officer=by,
        source=source,
        decided_at=timezone.now(),
    )
    with transaction.atomic():
        locked = person_lock(person_id=person.pk)
        facts = encounter_facts(
            person=locked,
            borough=borough,
            encounter_date=encounter_date,
            substance=substance,
            quantity_grams=quantity_grams,
            exclusions=(factor.code for factor in factors),
            diversion_dates=previous_diversion_dates(person=locked),
            accepted=accepted,
        )
        assessment = eligibility.assess(facts, as_rule(policy))
        _apply(encounter, assessment, accepted=accepted, now=encounter.decided_at)
        _decision_store(encounter=encounter, reasons=assessment.reasons, by=by)
        EncounterExclusion.objects.bulk_create(
            exclusion_rows(encounter.pk, (factor.pk for factor in factors))
        )
    return encounter


def encounter_record_for_new_person(
    *, by: User | None, person_details: Mapping[str, Any], **encounter: Any
) -> Encounter:
    """Record a new person and their first encounter together, or neither.

    One transaction: an encounter the service refuses leaves no new person behind.
    ``person_details`` are ``person_create``'s fields; ``encounter`` is ``encounter_record``'s.
    """
    with transaction.atomic():
        person = person_create(**person_details, by=by)
        return encounter_record(by=by, person=person, **encounter)


ANSWER_RECORDED = "Recorded the person's answer to the offer of diversion"


def _offered_encounter(*, pk: int) -> Encounter:
    """Lock an encounter awaiting its answer; refuse one already answered or never offered."""
    encounter = (
        Encounter.objects.select_for_update(of=("self",))
        .select_related("person", "borough", "policy")
        .get(pk=pk)
    )
    if encounter.decision in (Decision.DIVERTED, Decision.DECLINED):
        raise ValidationError("The person's answer has already been recorded for this encounter")
    if encounter.decision != Decision.OFFERED:
        raise ValidationError("Diversion was not offered at this encounter")
    return encounter


def _stored_facts(encounter: Encounter, *, accepted: bool) -> eligibility.Facts:
    """Gather a stored encounter's facts again, with the person's diversions as they are now."""
    codes = encounter.exclusion_links.order_by("position").values_list("factor__code", flat=True)
    return encounter_facts(
        person=encounter.person,
        borough=encounter.borough,
        encounter_date=encounter.encounter_date,
        substance=encounter.substance,
        quantity_grams=encounter.quantity_grams,
        exclusions=codes,
        diversion_dates=previous_diversion_dates(person=encounter.person, exclude=encounter),
        accepted=accepted,
    )


def _answer_change_reason(assessment: eligibility.Assessment, *, accepted: bool) -> str:
    """Say in the history what the answer was and, if the rule overruled it, what it decided."""
    if assessment.offered:
        return ANSWER_RECORDED
    answer = "yes" if accepted else "no"
    because = f" ({', '.join(assessment.reasons)})" if assessment.reasons else ""
    return f"Answer {answer} recorded; judged again, now {assessment.decision}{because}"[:100]


def encounter_answer(*, encounter: Encounter, accepted: bool, by: User | None) -> Encounter:
    """Record the person's answer, judging the encounter again as its decision becomes final.

    The offer was judged against the diversions stored when it was made; another encounter of
    the same person may have been diverted since (two encounters logged before either was
    answered). So, with the person locked, the rule runs again on the stored facts, the policy
    that judged the offer and the person's diversions as they are now. If it no longer offers
    diversion (say a diversion now lies in the 12-month window), that decision is stored with its
    reasons, whatever the answer, and no referral opens. The returned encounter says which.
    """
    with transaction.atomic():
        person_lock(person_id=encounter.person_id)
        encounter = _offered_encounter(pk=encounter.pk)
        facts = _stored_facts(encounter, accepted=accepted)
        assessment = eligibility.assess(facts, as_rule(encounter.policy))
        now = timezone.now()
        _apply(encounter, assessment, accepted=accepted, now=now)
        # The officer did answer, even where the rule overruled the answer.
        encounter.answered_at = now
        _decision_store(
            encounter=encounter,
            reasons=assessment.reasons,
            by=by,
            change_reason=_answer_change_reason(assessment, accepted=accepted),
        )
    return encounter


def referral_due_dates_set(referral: Referral, *, encounter: Encounter) -> None:
    """Bring the work queue's columns into step with the referral's dates (not saved here).

    Every writer of a referral calls this before saving it (the services, the importer, the
    demo and the admin): ``borough`` is the encounter's, ``due_on`` and ``overdue_from`` come
    from ``referral_status.due_dates``. None depends on today, so none goes stale by itself.
    """
    referral.borough_id = encounter.borough_id
    referral.due_on, referral.overdue_from = due_dates(
        encounter_date=encounter.encounter_date,
        appointment_on=referral.appointment_on,
        attended_on=referral.attended_on,
        ended=any(getattr(referral, name) is not None for name in TERMINAL_FIELDS),
        outcome_days=settings.REFERRAL_OUTCOME_DAYS,
    )


def _referral_open(*, encounter: Encounter, by: User | None) -> Referral:
    referral = Referral(encounter=encounter)
    referral_due_dates_set(referral, encounter=encounter)
    _audit(referral, by)
    referral.save()
    return referral


def referral_arrange(
    *,
    referral: Referral,
    provider: Provider,
    appointment_on: date | None,
    by: User | None,
) -> Referral:
    """Send the referral to a provider serving the encounter's borough, with an appointment."""
    encounter = referral.encounter
    errors: dict[str, str] = {}
    if not provider.active:
        errors["provider"] = f"{provider.name} is no longer taking referrals"
    elif not provider.boroughs.filter(pk=encounter.borough_id).exists():
        errors["provider"] = f"{provider.name} does not serve {encounter.borough.name}"
    if appointment_on is not None and appointment_on < encounter.encounter_date:
        errors["appointment_on"] = "The appointment must be on or after the encounter date"
    if errors:
        raise ValidationError(errors)
    referral.provider = provider
    referral.appointment_on = appointment_on
    referral_due_dates_set(referral, encounter=encounter)
    referral.full_clean()
    _audit(referral, by)
    with transaction.atomic():
        referral.save()
    return referral


def outcome_date_errors(
    *,
    encounter_date: date,
    attended_on: date | None,
    completed_on: date | None,
    did_not_attend_on: date | None,
    withdrawn_on: date | None,
    today: date,
) -> dict[str, str]:
    """Check outcome dates against SPEC §4; return plain-English errors keyed by field."""
    values = {
        "attended_on": attended_on,
        "completed_on": completed_on,
        "did_not_attend_on": did_not_attend_on,
        "withdrawn_on": withdrawn_on,
    }
    errors: dict[str, str] = {}
    for field, value in values.items():
        label = OUTCOME_LABELS[field].capitalize()
        if value is None:
            continue
        if value < encounter_date:
            errors[field] = f"{label} date must be on or after the encounter date"
        elif problem := past_date_problem(value, noun=f"{label} date", on=today):
            errors[field] = problem
    terminal = [f for f in TERMINAL_FIELDS if values[f] is not None]
    if len(terminal) > 1:
        names = " and ".join(OUTCOME_LABELS[f] for f in terminal)
        errors.setdefault(
            terminal[1], f"A referral can end only one way: it has both {names} dates"
        )
    if completed_on is not None and "completed_on" not in errors:
        if attended_on is None:
            errors["completed_on"] = "Completion needs an attendance date on or before it"
        elif attended_on > completed_on:
            errors["completed_on"] = "Completed date must be on or after the attended date"
    return errors


def referral_outcome_record(
    *,
    referral: Referral,
    attended_on: date | None,
    completed_on: date | None,
    did_not_attend_on: date | None,
    withdrawn_on: date | None,
    by: User | None,
) -> Referral:
    """Record a referral's outcome dates, all of them checked together."""
    errors = outcome_date_errors(
        encounter_date=referral.encounter.encounter_date,
        attended_on=attended_on,
        completed_on=completed_on,
        did_not_attend_on=did_not_attend_on,
        withdrawn_on=withdrawn_on,
        today=timezone.localdate(),
    )
    if errors:
        raise ValidationError(errors)
    referral.attended_on = attended_on
    referral.completed_on = completed_on
    referral.did_not_attend_on = did_not_attend_on
    referral.withdrawn_on = withdrawn_on
    referral_due_dates_set(referral, encounter=referral.encounter)
    referral.full_clean()
    _audit(referral, by)
    with transaction.atomic():
        referral.save()
    return referral


def referral_status_today(referral: Referral) -> ReferralStatus:
    """Return the referral's status today."""
    return status_on(
        attended_on=referral.attended_on,
        completed_on=referral.completed_on,
        did_not_attend_on=referral.did_not_attend_on,
        withdrawn_on=referral.withdrawn_on,
        day=timezone.localdate(),
    )


def referrals_due_dates_refresh() -> int:
    """Work out again the queue's stored columns of every open referral; return how many moved.

    The services keep them right as referrals change; this puts them right after a change
    no service sees, such as a new ``REFERRAL_OUTCOME_DAYS``. The daily job runs it. The
    columns are not history (the dates they come from are), so none is written.
    """
    moved = []
    open_referrals = (
        Referral.objects.filter(NO_TERMINAL_OUTCOME)
        .select_related("encounter")
        .only(
            "appointment_on",
            "attended_on",
            "completed_on",
            "did_not_attend_on",
            "withdrawn_on",
            "borough_id",
            "due_on",
            "overdue_from",
            "encounter__borough_id",
            "encounter__encounter_date",
        )
    )
    for referral in open_referrals.iterator(chunk_size=2000):
        stored = (referral.borough_id, referral.due_on, referral.overdue_from)
        referral_due_dates_set(referral, encounter=referral.encounter)
        if (referral.borough_id, referral.due_on, referral.overdue_from) != stored:
            moved.append(referral)
    with transaction.atomic():
        Referral.objects.bulk_update(moved, ["borough", "due_on", "overdue_from"], batch_size=1000)
    return len(moved)


def referrals_flag_overdue(*, today: date | None = None) -> int:
    """Flag referrals with no terminal outcome N days after the encounter (daily job)."""
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=settings.REFERRAL_OUTCOME_DAYS)
    overdue = list(
        Referral.objects.filter(
            NO_TERMINAL_OUTCOME, flagged_at__isnull=True, encounter__encounter_date__lte=cutoff
        )
    )
    now = timezone.now()
    for referral in overdue:
        referral.flagged_at = now
    with transaction.atomic():
        bulk_update_with_history(
            overdue,
            Referral,
            ["flagged_at"],
            batch_size=1000,
            default_change_reason=(
                f"No outcome {settings.REFERRAL_OUTCOME_DAYS} days after the encounter"
            ),
        )
    return len(overdue)


def reoffence_record(
    *,
    person: Person,
    offence_date: date,
    offence_type: str,
    source_ref: str = "",
    by: User | None,
) -> Reoffence:
    """Record a further offence an officer knows of; an identical record is not added twice."""
    offence_type = (offence_type or "").strip()
    source_ref = (source_ref or "").strip()
    errors: dict[str, str] = {}
    if offence_date is None:
        errors["offence_date"] = "Enter the date of the offence"
    elif problem := past_date_problem(offence_date, noun="the date of the offence"):
        errors["offence_date"] = problem
    elif not born_before(date_of_birth=person.date_of_birth, day=offence_date):
        errors["offence_date"] = "The date of the offence must be after the date of birth"
    if not offence_type:
        errors["offence_type"] = "Enter the type of offence"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        existing = Reoffence.objects.filter(
            person=person,
            offence_date=offence_date,
            offence_type=offence_type,
            source_ref=source_ref,
        ).first()
        if existing is not None:
            return existing
        reoffence = Reoffence(
            person=person,
            offence_date=offence_date,
            offence_type=offence_type,
            source_ref=source_ref,
            source=ReoffenceSource.OFFICER,
            entered_by=by,
        )
        reoffence.full_clean()
        _audit(reoffence, by)
        reoffence.save()
    return reoffence
