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
``reporting_beside()`` runs part of that reading on a second connection at the same time, in
the very same snapshot (exported by the first), so a build can use a second core.
"""

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

REPLICA = "replica"
SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"

_reporting: ContextVar[bool] = ContextVar("reporting_reads", default=False)
# True inside a reporting_reads() that opened its own snapshot transaction on PostgreSQL: only
# then can a second connection share the snapshot (reporting_beside).
_own_snapshot: ContextVar[bool] = ContextVar("reporting_own_snapshot", default=False)

T = TypeVar("T")
# What the second connection returns when it could not take the snapshot.
_NOT_SHARED = object()


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
            owned = _own_snapshot.set(connection.vendor == "postgresql")
            try:
                yield connection
            finally:
                _own_snapshot.reset(owned)
    finally:
        _reporting.reset(token)


def reporting_beside(work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work`` beside the caller, on a second connection in the same snapshot.

    Call inside ``reporting_reads()``; returns a function that waits for ``work`` and gives
    its result (or raises its error); call it before leaving ``reporting_reads()``. A build's
    longest statement spends most of its time in one database process, so on PostgreSQL the
    other queries can run meanwhile on another core: this transaction exports its snapshot
    (``pg_export_snapshot``, which standbys allow too) and the second connection imports it,
    so both read exactly the same data. Where that cannot be done (SQLite, or a
    ``reporting_reads()`` that joined a transaction it did not open, as tests do) ``work``
    simply runs here, first; if there is no second connection to be had, or it cannot import
    the snapshot (it reached another server behind the same address, say), ``work`` runs here
    when its result is asked.
    """
    connection = reporting_connection()
    if not _own_snapshot.get():
        result = work()
        return lambda: result
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reporting-beside")
    future = executor.submit(_in_snapshot, connection, snapshot, work)
    executor.shutdown(wait=False)  # the thread ends when work does

    def wait() -> T:
        value = future.result()
        return work() if value is _NOT_SHARED else cast(T, value)

    return wait


def _in_snapshot(exporter: BaseDatabaseWrapper, snapshot: str, work: Callable[[], T]) -> object:
    """Run ``work`` as reporting reads on this thread's own connection, in ``snapshot``.

    The connection takes the exporting connection's settings, so it opens the very database
    that exported the snapshot (a test mirror's included, whose settings Django sets on the
    test thread's connection only).
    """
    alias = exporter.alias
    connection = connections[alias]
    connection.settings_dict = exporter.settings_dict
    token = _reporting.set(True)
    try:
        try:
            connection.ensure_connection()  # none to spare (max_connections): not shared
        except DatabaseError:
            logger.warning("No second connection for the report's snapshot; reading in one")
            return _NOT_SHARED
        with transaction.atomic(using=alias):
            with connection.cursor() as cursor:
                cursor.execute(SNAPSHOT)
                try:
                    cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                except DatabaseError:
                    logger.warning("Could not share the report's snapshot; reading in one")
                    transaction.set_rollback(True, using=alias)
                    return _NOT_SHARED
            return work()
    finally:
        _reporting.reset(token)
        connection.close()  # a thread's connection is not reused once the thread is gone


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
