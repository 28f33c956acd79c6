"""Retention: remove the personal data of people the evaluation no longer needs to identify.

A person's last follow-up window closes 12 months after their latest encounter. Once it has
been closed for ``RETENTION_MONTHS`` (default 24), their name, date of birth, PNC ID and the
locations of their encounters are removed, in the records and in their history. The rows
themselves stay, keyed by the random pseudonym with gender, ethnicity and the age stored at
each encounter, so every report and export adds up exactly as before.
"""

from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from audit.models import Action
from audit.services import Actor, audit_record
from diversion.models import Encounter, Person

FOLLOW_UP_MONTHS = 12
# Date of birth is required by the model; this placeholder says nothing about anyone.
REMOVED_DATE_OF_BIRTH = date(1900, 1, 1)
CHUNK = 1000


def months_before(day: date, months: int) -> date:
    """Return ``day`` moved back ``months`` calendar months, clamped to the month's end."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - date.resolution).day
    return date(year, month, min(day.day, last_day))


def retention_cutoff(*, today: date, retention_months: int) -> date:
    """Return the latest-encounter date before which a person is past retention."""
    return months_before(today, FOLLOW_UP_MONTHS + retention_months)


def people_past_retention(*, today: date | None = None) -> QuerySet[Person]:
    """Return the people not yet anonymised whose follow-up closed long enough ago."""
    cutoff = retention_cutoff(
        today=today or timezone.localdate(), retention_months=settings.RETENTION_MONTHS
    )
    return (
        Person.objects.filter(anonymised_at__isnull=True)
        .annotate(last_encounter=Max("encounters__encounter_date"))
        .filter(last_encounter__lt=cutoff)
    )


def _scrub(ids: list[int]) -> None:
    """Remove the personal data of these people from the records and their history."""
    removed = {"first_name": "", "last_name": "", "date_of_birth": REMOVED_DATE_OF_BIRTH}
    Person.objects.filter(pk__in=ids).update(**removed, pnc_id="", anonymised_at=timezone.now())
    Person.history.model.objects.filter(id__in=ids).update(**removed, pnc_id="")
    Encounter.objects.filter(person_id__in=ids).update(location="")
    Encounter.history.model.objects.filter(person_id__in=ids).update(location="")


def people_anonymise(
    *,
    today: date | None = None,
    dry_run: bool = False,
    by: Actor = "retention schedule",
    channel: str = "task",
) -> int:
    """Anonymise everyone past retention (or only count them); audit the run with the count."""
    with transaction.atomic():
        ids = list(people_past_retention(today=today).values_list("pk", flat=True))
        if not dry_run:
            for start in range(0, len(ids), CHUNK):
                _scrub(ids[start : start + CHUNK])
        audit_record(
            by=by,
            action=Action.RETENTION_RUN,
            detail=f"people: {len(ids)}; dry run: {'yes' if dry_run else 'no'}; "
            f"retention months: {settings.RETENTION_MONTHS}",
            channel=channel,
        )
    return len(ids)
