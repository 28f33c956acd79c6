"""The audit trail as CSV for admins, formula-safe like every other export."""

from typing import TextIO

from django.utils import timezone

from audit.selectors import EXPORT_LIMIT, AuditFilter, audit_events
from diversion.formula_safety import SafeCsvWriter

COLUMNS = ("id", "at", "user", "action", "object_reference", "detail", "address", "channel")


def audit_export(*, stream: TextIO, filters: AuditFilter) -> int:
    """Write the matching rows (at most ``EXPORT_LIMIT``) as CSV; return how many."""
    writer = SafeCsvWriter(stream)
    writer.writerow(COLUMNS)
    written = 0
    rows = audit_events(filters=filters).values_list(
        "id", "at", "actor", "action", "target", "detail", "address", "channel"
    )[:EXPORT_LIMIT]
    for pk, at, actor, action, target, detail, address, channel in rows.iterator(2000):
        at_text = timezone.localtime(at).isoformat(timespec="seconds")
        writer.writerow((pk, at_text, actor, action, target, detail, address or "", channel))
        written += 1
    return written
