"""Reads about boroughs and the people who work in them."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils.dateformat import format as format_date

from boroughs.models import Borough
from boroughs.roles import Role


def roles_for(*, user: User | AnonymousUser) -> frozenset[str]:
    """Return the role names a user holds (superusers are admins)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        names = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMIN)
        cached = frozenset(names)
        setattr(user, "_role_names", cached)  # noqa: B010 - a per-request cache, not a field
    return cached


def boroughs_for_officer(*, user: User) -> QuerySet[Borough]:
    """Return the boroughs an officer is assigned to."""
    return Borough.objects.filter(assignments__officer=user).order_by("name")


def boroughs_taking_part() -> QuerySet[Borough]:
    """Return pilot and comparison boroughs."""
    return Borough.objects.exclude(role=Borough.Role.NONE).order_by("role", "name")


def boroughs_all() -> QuerySet[Borough]:
    """Return all 33 boroughs, by name, for the admins' borough list."""
    return Borough.objects.order_by("name")


def borough_by_code(*, gss_code: str) -> Borough | None:
    """Return the borough with this GSS code, or None."""
    return Borough.objects.filter(gss_code=gss_code.upper()).first()


# The settings an admin changes, in the order the history lists them.
HISTORY_FIELDS: tuple[tuple[str, str], ...] = (
    ("role", "Role"),
    ("pilot_start", "Pilot start date"),
    ("pilot_end", "Pilot end date"),
)


@dataclass(frozen=True)
class FieldChange:
    """One setting's value before and after a change (``before`` is None for a first record)."""

    label: str
    before: str | None
    after: str


@dataclass(frozen=True)
class BoroughChange:
    """One entry in a borough's history: who changed what, when and why."""

    changed_at: datetime
    changed_by: str
    changes: tuple[FieldChange, ...]
    reason: str
    first: bool


def _shown(field: str, value: object) -> str:
    """Write a setting the way the pages show it."""
    if field == "role":
        return str(Borough.Role(str(value)).label)
    return format_date(value, "j F Y") if isinstance(value, date) else "Not set"


def _change(record, previous) -> BoroughChange:
    """Compare a history record with the one before it (if any)."""
    changes = tuple(
        FieldChange(
            label=label,
            before=None if previous is None else _shown(name, getattr(previous, name)),
            after=_shown(name, getattr(record, name)),
        )
        for name, label in HISTORY_FIELDS
        if previous is None or getattr(previous, name) != getattr(record, name)
    )
    user = record.history_user
    return BoroughChange(
        changed_at=record.history_date,
        changed_by=(user.get_full_name() or user.get_username()) if user else "",
        changes=changes,
        reason=record.history_change_reason or "",
        first=previous is None,
    )


def borough_history(*, borough: Borough) -> list[BoroughChange]:
    """Return every recorded change to a borough's settings, newest first.

    The oldest record is shown with the values it set, so a borough whose first record is a
    change (not its creation) still shows what that change did.
    """
    records = list(
        borough.history.select_related("history_user").order_by("history_date", "history_id")
    )
    entries = [
        _change(record, records[index - 1] if index else None)
        for index, record in enumerate(records)
    ]
    return entries[::-1]
