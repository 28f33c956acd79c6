"""Writes about boroughs: configuring a borough's part in the pilot."""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from boroughs.models import Borough


def borough_configure(
    *,
    gss_code: str,
    role: str,
    pilot_start: date | None = None,
    pilot_end: date | None = None,
    changed_by: AbstractBaseUser | None = None,
    change_reason: str = "",
) -> Borough:
    """Set a borough's role and pilot dates to exactly the values given.

    Raises ValidationError (with every problem, in plain English) and changes nothing when the
    code is unknown, the role is not one of the three, a pilot has no start, or an end falls
    before its start.
    """
    borough = Borough.objects.filter(gss_code=gss_code).first()
    if borough is None:
        raise ValidationError(
            f"There is no London borough with GSS code {gss_code!r}. "
            "Codes run from E09000001 (City of London) to E09000033 (Westminster)."
        )
    borough.role = role
    borough.pilot_start = pilot_start
    borough.pilot_end = pilot_end
    errors: list[str] = []
    if role not in Borough.Role.values:
        errors.append(f"Choose a role of pilot, comparison or none, not {role!r}.")
    if role == Borough.Role.PILOT and pilot_start is None:
        errors.append("A pilot borough needs a pilot start date (--start YYYY-MM-DD).")
    if pilot_end is not None and pilot_start is None:
        errors.append("A pilot end date needs a pilot start date.")
    if pilot_start and pilot_end and pilot_end < pilot_start:
        errors.append(
            f"The pilot end date ({pilot_end:%Y-%m-%d}) must be on or after "
            f"its start date ({pilot_start:%Y-%m-%d})."
        )
    if errors:
        raise ValidationError(errors)
    borough.full_clean()
    borough._change_reason = change_reason or "set_borough"
    if changed_by is not None:
        borough._history_user = changed_by
    with transaction.atomic():
        borough.save()
    return borough


def officer_assign(*, officer: AbstractBaseUser, borough: Borough) -> None:
    """Let an officer work in a borough (idempotent)."""
    from boroughs.models import OfficerAssignment

    with transaction.atomic():
        OfficerAssignment.objects.get_or_create(officer=officer, borough=borough)
