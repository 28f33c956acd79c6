"""Fixtures shared by the whole suite: people signed in with each role."""

import pytest
from django.contrib.auth.models import Group, User

from boroughs.models import Borough
from boroughs.roles import Role
from boroughs.services import officer_assign

PASSWORD = "correct horse battery staple"


def make_user(username: str, *roles: str, **extra) -> User:
    """Create a user holding the given roles (groups made by the roles migration)."""
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def lewisham(db) -> Borough:
    return Borough.objects.get(gss_code="E09000023")


@pytest.fixture
def officer(db, lewisham) -> User:
    user = make_user("officer", Role.OFFICER, first_name="Olu", last_name="Officer")
    officer_assign(officer=user, borough=lewisham)
    return user


@pytest.fixture
def analyst(db) -> User:
    return make_user("analyst", Role.ANALYST)


@pytest.fixture
def approver(db) -> User:
    return make_user("approver", Role.APPROVER)


@pytest.fixture
def admin_user(db) -> User:
    return make_user("admin", Role.ADMIN, is_staff=True)
