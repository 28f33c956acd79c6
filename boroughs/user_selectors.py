"""Reads about the people who sign in, for the admins' pages.

A page of people costs the same few queries however many there are: a count, the page's rows,
and one query each for their roles and boroughs.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group, User
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet

from audit.models import AuditEvent
from boroughs.models import OfficerAssignment
from boroughs.roles import Role

PAGE_SIZE = 25
HISTORY_LIMIT = 50


class Status:
    """Where an account stands: invited (no password yet), active or deactivated."""

    INVITED = "invited"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    CHOICES = (
        (INVITED, "Invited, not yet signed in"),
        (ACTIVE, "Active"),
        (DEACTIVATED, "Deactivated"),
    )
    LABELS = {INVITED: "Invited", ACTIVE: "Active", DEACTIVATED: "Deactivated"}


@dataclass(frozen=True)
class Person:
    """One account as the admins' pages show it."""

    user: User
    name: str
    roles: tuple[str, ...]
    boroughs: tuple[str, ...]
    status: str
    last_login: datetime | None

    @property
    def status_label(self) -> str:
        return Status.LABELS[self.status]


def _invited() -> Q:
    return Q(is_active=True, last_login__isnull=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)


def _status(user: User) -> str:
    if not user.is_active:
        return Status.DEACTIVATED
    if user.last_login is None and not user.has_usable_password():
        return Status.INVITED
    return Status.ACTIVE


def _person(user: User) -> Person:
    roles = [group.name for group in user.groups.all()]  # prefetched: role groups only
    if user.is_superuser and Role.ADMIN not in roles:
        roles.append(Role.ADMIN)
    return Person(
        user=user,
        name=user.get_full_name() or user.get_username(),
        roles=tuple(str(Role(name).label) for name in sorted(roles, key=Role.values.index)),
        boroughs=tuple(a.borough.name for a in user.assignments.all()),
        status=_status(user),
        last_login=user.last_login,
    )


def _with_roles_and_boroughs(users: QuerySet[User]) -> QuerySet[User]:
    return users.prefetch_related(
        Prefetch("groups", queryset=Group.objects.filter(name__in=Role.values)),
        Prefetch(
            "assignments",
            queryset=OfficerAssignment.objects.select_related("borough").order_by("borough__name"),
        ),
    )


def people_filtered(*, role: str = "", status: str = "") -> QuerySet[User]:
    """Return the accounts with this role and status (any, when empty), by name."""
    users = User.objects.order_by("first_name", "last_name", "username", "pk")
    if role:
        holders = Q(pk__in=User.objects.filter(groups__name=role).values("pk"))
        users = users.filter(holders | Q(is_superuser=True) if role == Role.ADMIN else holders)
    if status == Status.DEACTIVATED:
        users = users.filter(is_active=False)
    elif status == Status.INVITED:
        users = users.filter(_invited())
    elif status == Status.ACTIVE:
        users = users.filter(is_active=True).exclude(_invited())
    return users


def people_page(*, role: str = "", status: str = "", page: int = 1) -> tuple[Page, list[Person]]:
    """Return one page of accounts (a page past the end gives the last page) and its people."""
    users = _with_roles_and_boroughs(people_filtered(role=role, status=status))
    current = Paginator(users, PAGE_SIZE).get_page(page)
    return current, [_person(user) for user in current.object_list]


def person_by_pk(*, pk: int) -> Person | None:
    """Return one account with its roles and boroughs, or None."""
    user = _with_roles_and_boroughs(User.objects.filter(pk=pk)).first()
    return _person(user) if user is not None else None


def account_events(*, user: User) -> list[AuditEvent]:
    """Return the audit trail's rows about this account (changes and sign-ins), newest first."""
    return list(AuditEvent.objects.filter(target=f"user:{user.pk}").order_by("-id")[:HISTORY_LIMIT])
