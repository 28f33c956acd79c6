"""Reads of the audit trail for admins: filtered, newest first, a page at a time."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent

PAGE_SIZE = 50
# An export is capped so a careless filter cannot produce an unbounded file.
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(*, filters: AuditFilter) -> QuerySet[AuditEvent]:
    """Return the rows matching the filters, newest first (ids grow with time)."""
    events = AuditEvent.objects.select_related(None).order_by("-id")
    if filters.actor:
        events = events.filter(actor__iexact=filters.actor.strip())
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.target:
        events = events.filter(target__iexact=filters.target.strip())
    if filters.since:
        events = events.filter(at__gte=_day_start(filters.since))
    if filters.until:
        events = events.filter(at__lt=_day_start(filters.until) + timedelta(days=1))
    return events


def audit_page(*, filters: AuditFilter, before: int | None) -> tuple[list[AuditEvent], int | None]:
    """Return one page of rows older than id ``before`` and the cursor for the next page.

    Keyset paging: each page costs the same however deep it is, on a table that only grows.
    """
    events = audit_events(filters=filters)
    if before:
        events = events.filter(id__lt=before)
    rows = list(events[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].id if more else None)
