"""A referral's status on a given day, derived from its outcome dates (SPEC §4)."""

from datetime import date, timedelta

from django.db.models import Case, CharField, F, Q, Value, When

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


def due_dates(
    *,
    encounter_date: date,
    appointment_on: date | None,
    attended_on: date | None,
    ended: bool,
    outcome_days: int,
) -> tuple[date | None, date | None]:
    """Return ``(due_on, overdue_from)``: when a referral needs the officer, and since when.

    ``due_on`` is the first day it is due: the day after a missed appointment (one with no
    attendance), or the day the outcome falls due (``outcome_days`` after the encounter),
    whichever comes first. ``overdue_from`` is the day its days overdue count from: the
    appointment's own date, or the outcome's due date (so 1 day overdue the day after a missed
    appointment, 0 on the day the outcome falls due; the appointment on a tie). Neither depends
    on today: a referral is due on ``day`` when ``due_on <= day``, ``day - overdue_from`` days
    overdue. Both are None once it has a final outcome. Stored on the referral by the services
    (issue 8), so the work queue is one index read in the order it shows.
    """
    if ended:
        return None, None
    outcome_due = encounter_date + timedelta(days=outcome_days)
    if appointment_on is not None and attended_on is None and appointment_on <= outcome_due:
        return min(appointment_on + timedelta(days=1), outcome_due), appointment_on
    return outcome_due, outcome_due


def appointment_due_q(today: date) -> Q:
    """Return the filter for referrals due because their appointment passed with no attendance.

    The appointment is what made it due when it is what the days overdue count from (the
    stored ``overdue_for_appointment``: no attendance, and the appointment is ``overdue_from``);
    on the day a tied outcome falls due, the appointment has not yet passed, so the outcome is
    due.
    """
    return Q(overdue_for_appointment=True, overdue_from__lt=today)


def due_annotations(*, today: date) -> dict:
    """Return annotations giving each due referral what is due and how many days overdue.

    ``due`` is a missed appointment or a late outcome, ``days_overdue`` counts from the stored
    ``overdue_from`` (see ``due_dates``); a referral due for both is due for whichever came
    first (the appointment on a tie). Computed by the database from the referral's own row.
    """
    return {
        "due": Case(
            When(appointment_due_q(today), then=Value(DUE_APPOINTMENT)),
            default=Value(DUE_OUTCOME),
            output_field=CharField(),
        ),
        "days_overdue": Value(today) - F("overdue_from"),
    }


def due_choices(*, outcome_days: int) -> list[tuple[str, str]]:
    """Return what can be due, in plain English, for filters and labels."""
    return [
        (DUE_APPOINTMENT, "Appointment passed, no attendance recorded"),
        (DUE_OUTCOME, f"No outcome {outcome_days} days after the encounter"),
    ]
