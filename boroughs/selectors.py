"""Reads about boroughs and the people who work in them."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from boroughs.models import Borough
from boroughs.roles import Role


def roles_for(*, user: AbstractBaseUser) -> frozenset[str]:
    """Return the role names a user holds (superusers are admins)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        names = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMIN)
        cached = frozenset(names)
        user._role_names = cached
    return cached


def boroughs_for_officer(*, user: AbstractBaseUser) -> QuerySet[Borough]:
    """Return the boroughs an officer is assigned to."""
    return Borough.objects.filter(assignments__officer=user).order_by("name")


def boroughs_taking_part() -> QuerySet[Borough]:
    """Return pilot and comparison boroughs."""
    return Borough.objects.exclude(role=Borough.Role.NONE).order_by("role", "name")
