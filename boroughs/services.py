"""Writes about boroughs: configuring a borough's part in the pilot."""

from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.history import audit_as
from boroughs.models import Borough

# The history table keeps a reason of at most this many characters.
REASON_MAX_LENGTH = 100
NOT_PILOT_DATES = (
    "Only a pilot borough has pilot dates. Remove the dates, or make the borough a pilot borough."
)


def borough_configuration_errors(
    *, role: str, pilot_start: date | None, pilot_end: date | None
) -> dict[str, list[str]]:
    """Return every problem with a role and pilot dates, by field, in plain English.

    A pure check, shared by the service, the borough pages and the Django admin, so each
    refuses the same things with the same words. Empty when the configuration is allowed.
    """
    if role not in Borough.Role.values:
        return {"role": [f"Choose a role of pilot, comparison or none, not {role!r}."]}
    if role != Borough.Role.PILOT:
        if pilot_start is not None or pilot_end is not None:
            field = "pilot_start" if pilot_start is not None else "pilot_end"
            return {field: [NOT_PILOT_DATES]}
        return {}
    if pilot_start is None:
        return {"pilot_start": ["A pilot borough needs a pilot start date."]}
    if pilot_end is not None and pilot_end < pilot_start:
        return {
            "pilot_end": [
                f"The pilot end date ({pilot_end:%Y-%m-%d}) must be on or after "
                f"its start date ({pilot_start:%Y-%m-%d})."
            ]
        }
    return {}


def borough_configure(
    *,
    gss_code: str,
    role: str,
    pilot_start: date | None = None,
    pilot_end: date | None = None,
    by: User | None = None,
    change_reason: str = "",
) -> Borough:
    """Set a borough's role and pilot dates to exactly the values given.

    Raises ValidationError (with every problem, in plain English) and changes nothing when the
    code is unknown, the role is not one of the three, a pilot has no start, an end falls
    before its start, or a borough that is not a pilot is given dates. The reason is stored
    in the history as given (none when empty), with who made the change.
    """
    borough = Borough.objects.filter(gss_code=gss_code).first()
    if borough is None:
        raise ValidationError(
            {
                "gss_code": f"There is no London borough with GSS code {gss_code!r}. "
                "Codes run from E09000001 (City of London) to E09000033 (Westminster)."
            }
        )
    errors = borough_configuration_errors(role=role, pilot_start=pilot_start, pilot_end=pilot_end)
    reason = change_reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        errors["change_reason"] = [f"The reason must be {REASON_MAX_LENGTH} characters or fewer."]
    if errors:
        raise ValidationError(errors)
    borough.role = role
    borough.pilot_start = pilot_start
    borough.pilot_end = pilot_end
    borough.full_clean()
    audit_as(borough, by=by, reason=reason or None)
    with transaction.atomic():
        borough.save()
    return borough


def officer_assign(*, officer: User, borough: Borough) -> None:
    """Let an officer work in a borough (idempotent)."""
    from boroughs.models import OfficerAssignment

    with transaction.atomic():
        OfficerAssignment.objects.get_or_create(officer=officer, borough=borough)
