"""Fixtures shared by the whole suite: people signed in with each role."""

import time
from collections.abc import Generator

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from boroughs.models import Borough
from boroughs.roles import Role
from boroughs.services import officer_assign
from config.two_factor import authenticator_enrolment_confirm, authenticator_enrolment_start

PASSWORD = "correct horse battery staple"


def _committing_order(item: pytest.Item) -> int:
    """0 for tests in a rolled-back transaction, 1 for tests that commit, 2 for the rest."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", [])
    if (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))) or (
        "transactional_db" in fixtures or "live_server" in fixtures
    ):
        return 1
    return 0 if marker or "db" in fixtures else 2


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Generator[None]:
    """Run the tests that commit after the ones that roll back, as pytest-django orders them.

    pytest-django sorts first, but pytest then regroups tests that share a parametrised
    session fixture (Playwright's browser), which put browser tests among the rolled-back ones;
    their flush then emptied the roles and boroughs those later tests expect from migrations.
    A stable sort keeps pytest's grouping within each kind.
    """
    yield
    items.sort(key=_committing_order)


def totp_code(user: User, *, steps_from_now: int = 0) -> str:
    """Return the code the person's authenticator app shows now (or some steps away)."""
    device = TOTPDevice.objects.get(user=user)
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits)
    generator.time = time.time() + steps_from_now * device.step
    return f"{generator.token():0{device.digits}d}"


def enrol(user: User) -> list[str]:
    """Set up an authenticator app for the person through the real services.

    The confirming code is the previous step's, so the current code is still unused and a test
    can sign in with it straight away. Returns the recovery codes.
    """
    authenticator_enrolment_start(user=user)
    _device, codes = authenticator_enrolment_confirm(
        user=user, code=totp_code(user, steps_from_now=-1)
    )
    return codes


class SignedInClient(Client):
    """A test client whose force_login also passes an enrolled person's second factor.

    force_login already skips the password; this skips the code the same way, by doing what
    django_otp.login does. The middleware that asks for the second factor still runs, so a
    person with no authenticator, or a plain Client, is still stopped.
    """

    def force_login(self, user, backend=None) -> None:
        super().force_login(user, backend)
        device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
        if device is not None:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


def allows_replica(request: pytest.FixtureRequest) -> bool:
    """Say whether the test's django_db mark lets it use the "replica" alias."""
    marker = request.node.get_closest_marker("django_db")
    databases = marker.kwargs.get("databases") if marker else None
    return databases == "__all__" or (databases is not None and "replica" in databases)


@pytest.fixture(autouse=True)
def reporting_database(request, settings) -> str:
    """Read reports and exports from the replica only in tests that allow that alias.

    The test settings make "replica" a mirror of default: the same database through a second
    connection. A test that wraps itself in a transaction (the ``db`` fixture) writes data that
    other connection cannot see, and pytest-django refuses queries on aliases a test did not
    ask for; so those tests read default, and a test that asks for
    ``django_db(transaction=True, databases=["default", "replica"])`` gets the replica.
    """
    if not allows_replica(request):
        settings.REPORTING_DATABASE = "default"
    return settings.REPORTING_DATABASE


@pytest.fixture
def client() -> SignedInClient:
    return SignedInClient()


def make_user(username: str, *roles: str, **extra) -> User:
    """Create a user holding the given roles (groups made by the roles migration)."""
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Let the test harness empty the append-only audit table between committing tests.

    Only the test database gets this row (see audit/migrations/0002_append_only_triggers.py).
    """
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO audit_flush_allowed (reason) VALUES ('test database')")


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
    """An approver who has set up an authenticator app; ``recovery_codes`` holds their codes."""
    user = make_user("approver", Role.APPROVER)
    user.recovery_codes = enrol(user)
    return user


@pytest.fixture
def admin_user(db) -> User:
    """An admin (staff, not superuser) who has set up an authenticator app."""
    user = make_user("admin", Role.ADMIN, is_staff=True)
    user.recovery_codes = enrol(user)
    return user


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
    history = importlib.import_module("boroughs.migrations.0005_borough_initial_history")
    history.add_initial_history(apps, None)
    importlib.import_module("boroughs.migrations.0003_roles").create_roles(apps, None)
    policy = importlib.import_module("diversion.migrations.0002_policy_v1_and_roles")
    policy.ship_policy(apps, None)
    importlib.import_module("reports.migrations.0002_roles").grant_admin(apps, None)
    importlib.import_module("audit.migrations.0003_admin_reads_audit_trail").grant_admin(apps, None)


@pytest.fixture
def celery_eager():
    """Run Celery tasks in-process for this test, whatever REDIS_URL says."""
    from config.celery_app import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def upload_reoffences(client, celery_eager):
    """Post a reoffence file to the upload page, run its import job, and return the next page.

    The job is sent when the upload commits; tests run inside a transaction that never
    commits, so the commit callbacks are run here, in-process, before the job page is read.
    """
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import TestCase

    def upload(content: str | bytes, name: str = "matches.csv"):
        data = content.encode("utf-8") if isinstance(content, str) else content
        file = SimpleUploadedFile(name, data, content_type="text/csv")
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post("/reports/reoffences/upload/", {"file": file})
        if response.status_code != 302:
            return response
        return client.get(response["Location"])

    return upload
