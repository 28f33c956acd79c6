"""A referral's status on a given day, derived from its outcome dates (SPEC §4)."""

from datetime import date

from django.db.models import Case, CharField, Q, Value, When

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
