"""The database router: reporting reads on the replica, everything else on default.

The test settings make "replica" a test mirror of default (the same test database through a
second connection), so these tests see which connection ran each query. They commit
(``transaction=True``): the replica's connection cannot see a test's uncommitted rows.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from config.db_router import (
    REPLICA,
    ReportingReplicaRouter,
    reporting_alias,
    reporting_beside,
    reporting_connection,
    reporting_reads,
)

ROOT = Path(__file__).resolve().parents[2]
BOTH = ["default", "replica"]
on_both = pytest.mark.django_db(transaction=True, databases=BOTH)
snapshots = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the snapshot transaction is PostgreSQL's"
)


def captured() -> tuple[CaptureQueriesContext, CaptureQueriesContext]:
    return CaptureQueriesContext(connections["default"]), CaptureQueriesContext(
        connections["replica"]
    )


def selects(queries: CaptureQueriesContext, table: str) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT") and table in q["sql"]]


@on_both
def test_reads_inside_reporting_reads_run_on_the_replica():
    User.objects.create_user(username="reader")
    default, replica = captured()

    with default, replica, reporting_reads() as reading:
        names = list(User.objects.values_list("username", flat=True))

    assert names == ["reader"]
    assert reading.alias == "replica"
    assert len(selects(replica, "auth_user")) == 1
    assert selects(default, "auth_user") == []


@on_both
def test_reads_outside_reporting_reads_stay_on_default():
    User.objects.create_user(username="reader")
    with reporting_reads():
        from_replica = User.objects.get(username="reader")
    default, replica = captured()

    with default, replica:
        assert User.objects.filter(username="reader").exists()
        # An object read from the replica reads its relations from default afterwards.
        assert list(from_replica.groups.all()) == []

    assert from_replica._state.db == "replica"
    assert len(selects(default, "auth_user")) == 2
    assert list(replica) == []


@on_both
def test_a_write_of_an_object_read_from_the_replica_goes_to_default():
    User.objects.create_user(username="reader")
    with reporting_reads():
        user = User.objects.get(username="reader")
        assert ReportingReplicaRouter().db_for_write(User, instance=user) == "default"
    default, replica = captured()

    user.first_name = "Rea"
    with default, replica:
        user.save()

    assert any(q["sql"].startswith("UPDATE") for q in default)
    assert list(replica) == []
    assert User.objects.get(username="reader").first_name == "Rea"


@on_both
def test_nested_reporting_reads_join_the_outer_transaction():
    with reporting_reads() as outer, reporting_reads() as inner:
        assert inner is outer
        assert outer.in_atomic_block
    assert not connections["replica"].in_atomic_block


@snapshots
@on_both
def test_reporting_reads_see_one_snapshot_while_default_takes_writes():
    """Rows committed on default during a build stay out of it; the next build sees them."""
    User.objects.create_user(username="before")

    with reporting_reads() as reading:
        with reading.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            isolation = cursor.fetchone()[0]
            cursor.execute("SHOW transaction_read_only")
            read_only = cursor.fetchone()[0]
        first = User.objects.count()
        User.objects.create_user(username="during")  # a write: default, committed at once
        second = User.objects.count()

    assert (isolation, read_only) == ("repeatable read", "on")
    assert first == second == 1
    with reporting_reads():
        assert User.objects.count() == 2


@snapshots
@on_both
def test_reads_beside_run_on_their_own_connection_in_the_same_snapshot():
    """A row committed after the build's snapshot began stays out of the reads beside it too."""
    User.objects.create_user(username="earlier")
    with reporting_reads() as reading:
        first = User.objects.count()
        User.objects.create_user(username="later")  # committed on default, after the snapshot

        def work() -> tuple[int, int, bool, str]:
            beside = reporting_connection()
            with beside.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            return User.objects.count(), pid, beside.in_atomic_block, beside.alias

        count, pid, in_transaction, alias = reporting_beside(work)()
        with reading.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            own_pid = cursor.fetchone()[0]

    assert first == count == 1
    assert pid != own_pid
    assert in_transaction and alias == "replica"
    with reporting_reads():
        assert reporting_beside(User.objects.count)() == 2


@snapshots
@on_both
def test_reads_beside_run_in_the_builds_own_snapshot_when_the_snapshot_cannot_be_shared(
    monkeypatch,
):
    """Another server behind the same address cannot import it: the build does the work."""
    import config.db_router as router

    real = router._in_snapshot
    monkeypatch.setattr(
        router, "_in_snapshot", lambda exporter, snapshot, work: real(exporter, "nonsense", work)
    )
    User.objects.create_user(username="earlier")
    with reporting_reads():
        first = User.objects.count()
        User.objects.create_user(username="later")
        count = reporting_beside(User.objects.count)()

    assert first == count == 1


@snapshots
@on_both
def test_reads_beside_run_in_the_build_when_no_second_connection_can_be_had(monkeypatch):
    """The server refuses another connection (max_connections): the build does the work."""
    import threading

    from django.db import DatabaseError
    from django.db.backends.base.base import BaseDatabaseWrapper

    real = BaseDatabaseWrapper.ensure_connection
    refused = []

    def ensure_connection(self):
        if threading.current_thread().name.startswith("reporting-beside"):
            refused.append(self.alias)
            raise DatabaseError("too many clients already")
        return real(self)

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", ensure_connection)
    User.objects.create_user(username="earlier")
    with reporting_reads():
        first = User.objects.count()  # the snapshot is taken at the first read
        User.objects.create_user(username="later")
        count = reporting_beside(User.objects.count)()

    assert refused == ["replica"] and first == count == 1


@pytest.mark.django_db
def test_reads_beside_a_transaction_they_did_not_open_run_first_in_it():
    """Inside a test's transaction (or on SQLite) the work runs at once, on this connection."""
    with reporting_reads() as reading:
        result = reporting_beside(lambda: reporting_connection() is reading)

    assert result() is True


@on_both
def test_without_a_replica_reporting_reads_use_default(settings):
    """REPORTING_DATABASE names an alias DATABASES lacks, as when no replica is configured."""
    settings.REPORTING_DATABASE = "no-such-alias"
    User.objects.create_user(username="reader")
    default, replica = captured()

    with default, replica, reporting_reads() as reading:
        assert User.objects.filter(username="reader").exists()

    assert reporting_alias() == "default" and reading.alias == "default"
    assert reporting_connection() is connections["default"]
    assert len(selects(default, "auth_user")) == 1
    assert list(replica) == []


def test_tests_without_the_replica_alias_read_reports_from_default(reporting_database):
    """Tests in a transaction (the db fixture) read default: the replica cannot see them."""
    assert reporting_database == "default"
    assert reporting_alias() == "default"


@on_both
def test_tests_that_allow_the_replica_read_reports_from_it(reporting_database):
    assert reporting_database == REPLICA
    assert reporting_alias() == REPLICA


@pytest.mark.parametrize(
    ("db", "allowed"), [("default", True), ("replica", False), ("other", False)]
)
def test_migrations_run_on_default_only(db, allowed):
    assert ReportingReplicaRouter().allow_migrate(db, "diversion") is allowed


def test_the_router_allows_relations_across_the_two_aliases():
    assert ReportingReplicaRouter().allow_relation(User(), User()) is True


# --- Settings: DATABASE_REPLICA_URL, read in a fresh process per mode --------------------------

PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "from config.db_router import reporting_alias; "
    "r = s.DATABASES.get('replica', {}); "
    "print(json.dumps({'aliases': sorted(s.DATABASES), 'reporting': reporting_alias(), "
    "'host': r.get('HOST'), 'name': r.get('NAME'), 'atomic': r.get('ATOMIC_REQUESTS'), "
    "'routers': s.DATABASE_ROUTERS}))"
)
REPLICA_URL = "postgres://reader:pw@db-replica:5432/diversion"
PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-real-secret",
    "DJANGO_ALLOWED_HOSTS": "diversion.example",
    "DATABASE_URL": "postgres://diversion:pw@db:5432/diversion",
    "REDIS_URL": "redis://redis:6379/0",
}


def probe(module: str, **env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", *PRODUCTION}
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": f"config.settings.{module}", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("module", "env"), [("local", {}), ("production", PRODUCTION)], ids=["local", "production"]
)
def test_an_unset_replica_leaves_only_default(module, env):
    loaded = probe(module, **env)
    assert loaded["aliases"] == ["default"]
    assert loaded["reporting"] == "default"
    assert loaded["routers"] == ["config.db_router.ReportingReplicaRouter"]


@pytest.mark.parametrize(
    ("module", "env"), [("local", {}), ("production", PRODUCTION)], ids=["local", "production"]
)
def test_a_replica_url_adds_the_replica_without_a_transaction_per_request(module, env):
    loaded = probe(module, **env, DATABASE_REPLICA_URL=REPLICA_URL)
    assert loaded["aliases"] == ["default", "replica"]
    assert loaded["reporting"] == "replica"
    assert (loaded["host"], loaded["name"]) == ("db-replica", "diversion")
    assert loaded["atomic"] is False


def test_an_empty_replica_url_counts_as_unset():
    assert probe("production", **PRODUCTION, DATABASE_REPLICA_URL=" ")["aliases"] == ["default"]


def test_test_settings_mirror_default_as_the_replica():
    loaded = probe("test", DATABASE_REPLICA_URL=REPLICA_URL)
    assert loaded["aliases"] == ["default", "replica"]
    assert loaded["host"] != "db-replica"  # the mirror, never a real replica, in tests
