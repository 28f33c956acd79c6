"""Send the reads of report builds and exports to a read replica, and nothing else.

With ``DATABASE_REPLICA_URL`` set, ``DATABASES`` has a ``replica`` alias. Reads go there only
inside ``reporting_reads()`` (the report's figures in ``reports.measure``) or through
``reporting_connection()`` (the encounters export's ``COPY``): both are long scans that need
no up-to-the-second data, and moving them keeps the primary free for officers' pages. Every
other read, and every write and migration, stays on ``default``, so a page never shows data
older than what it just saved. Without a replica both helpers give ``default``.

A build reads many statements: ``reporting_reads()`` runs them in one read-only
``REPEATABLE READ`` transaction (on PostgreSQL), so they all see one snapshot of the data even
while the replica replays new changes or officers write to the primary.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"
SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"

_reporting: ContextVar[bool] = ContextVar("reporting_reads", default=False)


def reporting_alias() -> str:
    """Return the alias reporting reads use: REPORTING_DATABASE when configured, else default."""
    alias = getattr(settings, "REPORTING_DATABASE", DEFAULT_DB_ALIAS)
    return alias if alias in settings.DATABASES else DEFAULT_DB_ALIAS


def reporting_connection() -> BaseDatabaseWrapper:
    """Return the connection for reporting reads, for raw SQL and ``COPY`` that bypass routers."""
    return connections[reporting_alias()]


@contextmanager
def reporting_reads() -> Iterator[BaseDatabaseWrapper]:
    """Route ORM reads inside to the reporting database, all in one consistent snapshot.

    Yields the connection, for raw SQL. Already inside a transaction on that database (a
    reporting read within another, or tests that wrap each test in one), it joins that
    transaction, whose snapshot rules then apply.
    """
    connection = reporting_connection()
    token = _reporting.set(True)
    try:
        if connection.in_atomic_block:
            yield connection
            return
        with transaction.atomic(using=connection.alias):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(SNAPSHOT)
            yield connection
    finally:
        _reporting.reset(token)


class ReportingReplicaRouter:
    """Reads inside ``reporting_reads()`` to the reporting database; all else to default."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        """Return the reporting alias inside ``reporting_reads()``, else default.

        Default, not None, outside: Django would otherwise read an object's relations from
        the database the object came from, the replica, after the reporting reads ended.
        """
        return reporting_alias() if _reporting.get() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        """Return default always, even for an object read from the replica."""
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        """Allow any relation: the replica is a copy of default, row for row."""
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        """Migrate default only; the replica gets its schema by replication."""
        return db == DEFAULT_DB_ALIAS
