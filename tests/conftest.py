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


@pytest.fixture
def reference_data(transactional_db) -> None:
    """Put back the boroughs, roles and policy that migrations ship, for committing tests.

    Tests that commit (live server, real Celery worker) run with ``transaction=True``, and the
    database is flushed after each of them. Django 5.2 restores serialized data once per test
    class, and each pytest test is its own class, so the data is re-applied here with the
    migrations' own idempotent functions.
    """
    import importlib

    from django.apps import apps

    importlib.import_module("boroughs.migrations.0002_london_boroughs").add_boroughs(apps, None)
    history = importlib.import_module("boroughs.migrations.0004_borough_initial_history")
    history.add_initial_history(apps, None)
    importlib.import_module("boroughs.migrations.0003_roles").create_roles(apps, None)
    policy = importlib.import_module("diversion.migrations.0002_policy_v1_and_roles")
    policy.ship_policy(apps, None)
    importlib.import_module("reports.migrations.0002_roles").grant_admin(apps, None)


@pytest.fixture
def celery_eager():
    """Run Celery tasks in-process for this test, whatever REDIS_URL says."""
    from config.celery_app import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
