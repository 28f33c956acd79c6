"""A referral's status on a given day, derived from its outcome dates (SPEC §4)."""

from datetime import date, timedelta

from django.db.models import Case, CharField, DurationField, F, Q, Value, When

from diversion.choices import ReferralStatus

# A referral not yet ended: no completed, did-not-attend or withdrawn date.
NO_TERMINAL_OUTCOME = Q(
    completed_on__isnull=True, did_not_attend_on__isnull=True, withdrawn_on__isnull=True
)


def status_on(
    *,
    attended_on: date | None,
    completed_on: date | None,
    did_not_attend_on: date | None,
    withdrawn_on: date | None,
    day: date,
) -> ReferralStatus:
    """Return the status on ``day``: a terminal outcome dated by then wins, then attendance."""
    if completed_on and completed_on <= day:
        return ReferralStatus.COMPLETED
    if did_not_attend_on and did_not_attend_on <= day:
        return ReferralStatus.DID_NOT_ATTEND
    if withdrawn_on and withdrawn_on <= day:
        return ReferralStatus.WITHDRAWN
    if attended_on and attended_on <= day:
        return ReferralStatus.ATTENDED
    return ReferralStatus.REFERRED


def status_expression(day: date, prefix: str = "") -> Case:
    """Return the same derivation as a database expression, for querysets and reports."""
    return Case(
        When(Q(**{f"{prefix}completed_on__lte": day}), then=Value(ReferralStatus.COMPLETED.value)),
        When(
            Q(**{f"{prefix}did_not_attend_on__lte": day}),
            then=Value(ReferralStatus.DID_NOT_ATTEND.value),
        ),
        When(Q(**{f"{prefix}withdrawn_on__lte": day}), then=Value(ReferralStatus.WITHDRAWN.value)),
        When(Q(**{f"{prefix}attended_on__lte": day}), then=Value(ReferralStatus.ATTENDED.value)),
        default=Value(ReferralStatus.REFERRED.value),
        output_field=CharField(),
    )


# --- What is due: the officer's work queue (SPEC §4, issue 11) -------------------------------

# Why a referral needs the officer: its appointment passed with no attendance recorded, or it
# has no final outcome REFERRAL_OUTCOME_DAYS after the encounter.
DUE_APPOINTMENT = "appointment"
DUE_OUTCOME = "outcome"


def appointment_passed(
    *, appointment_on: date | None, attended_on: date | None, ended: bool, day: date
) -> bool:
    """Say whether the appointment is over with no attendance and no final outcome on ``day``.

    The appointment day itself is not yet passed: the person may still attend that day.
    """
    return appointment_on is not None and appointment_on < day and not attended_on and not ended


def due_annotations(
    *, today: date, outcome_days: int, encounter_date: str = "encounter__encounter_date"
) -> dict:
    """Return annotations giving each open referral what is due and how many days overdue.

    ``appointment_overdue`` counts days since a passed appointment with no attendance;
    ``outcome_overdue`` days since the outcome fell due (encounter date + ``outcome_days``),
    0 on the day it falls due. A referral due for both is due for whichever came first
    (the larger count; the appointment on a tie). ``due`` is null when nothing is due yet.
    Everything is computed by the database, so the queue can filter and sort on it.
    ``encounter_date`` names the encounter's date on the queryset (a join or an alias).
    """
    cutoff = today - timedelta(days=outcome_days)
    appointment_passed_q = Q(appointment_on__lt=today, attended_on__isnull=True)
    outcome_due_q = Q(**{f"{encounter_date}__lte": cutoff})
    appointment_days = Value(today) - F("appointment_on")
    outcome_days_expr = Value(cutoff) - F(encounter_date)
    return {
        "appointment_overdue": Case(
            When(appointment_passed_q, then=appointment_days),
            default=None,
            output_field=DurationField(),
        ),
        "outcome_overdue": Case(
            When(outcome_due_q, then=outcome_days_expr), default=None, output_field=DurationField()
        ),
        "due": Case(
            When(
                appointment_passed_q
                & (~outcome_due_q | Q(appointment_overdue__gte=F("outcome_overdue"))),
                then=Value(DUE_APPOINTMENT),
            ),
            When(outcome_due_q, then=Value(DUE_OUTCOME)),
            default=None,
            output_field=CharField(),
        ),
        "days_overdue": Case(
            When(Q(due=DUE_APPOINTMENT), then=F("appointment_overdue")),
            When(Q(due=DUE_OUTCOME), then=F("outcome_overdue")),
            default=None,
            output_field=DurationField(),
        ),
    }


def due_choices(*, outcome_days: int) -> list[tuple[str, str]]:
    """Return what can be due, in plain English, for filters and labels."""
    return [
        (DUE_APPOINTMENT, "Appointment passed, no attendance recorded"),
        (DUE_OUTCOME, f"No outcome {outcome_days} days after the encounter"),
    ]
