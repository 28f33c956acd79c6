"""Temporary tables an import loads its rows into, so memory does not grow with the file.

An import checks each row on its own as it streams the file and writes it here; the checks
across rows (a reference used twice, a person described two ways, rows already stored) are
then SQL over these tables, and rows are judged from an ordered cursor. On PostgreSQL rows
go in with ``COPY`` (CSV format, so any text is quoted safely); elsewhere with
``executemany`` a chunk at a time. The tables live for the import's transaction: they are
dropped when it ends, and again before the next import on the same connection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection

CHUNK = 10_000
# What an import's transaction may use for each sort or hash, for building an index, and for
# temporary tables (the defaults, 4 MB, 64 MB and 8 MB, send a million staged rows to disk
# several times over).
WORK_MEM = "64MB"
MAINTENANCE_WORK_MEM = "256MB"
TEMP_BUFFERS = "256MB"

# Column kinds and their types on each database. SQLite keeps quantities as text, so a value
# comes back exactly as it was read.
TYPES = {
    "postgresql": {
        "int": "integer",
        "text": "text",
        "date": "date",
        "bool": "boolean",
        "grams": "numeric(8, 3)",
    },
    "sqlite": {
        "int": "integer",
        "text": "text",
        "date": "text",
        "bool": "integer",
        "grams": "text",
    },
}


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def ordered_text(column: str) -> str:
    """Return ``column`` for ORDER BY in code-point order, as Python sorts strings."""
    return f'{column} COLLATE "C"' if is_postgresql() else column


def as_date(value: date | str | None) -> date | None:
    """Return a date read back from a staging table (SQLite gives text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def as_grams(value: Decimal | str | None) -> Decimal | None:
    """Return a quantity read back from a staging table (SQLite gives text)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(value)


def as_bool(value: bool | int | None) -> bool | None:
    return None if value is None else bool(value)


def tune_session() -> None:
    """Give an import's sorts, hashes and temporary tables room in memory (PostgreSQL only).

    ``work_mem`` and ``maintenance_work_mem`` last for the transaction. ``temp_buffers`` can
    only be set before the session first touches a temporary table, so the setting is tried
    in a savepoint and left as it is when it is too late (a connection that already imported
    keeps what it had).
    """
    if not is_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
        cursor.execute("SAVEPOINT import_temp_buffers")
        try:
            cursor.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
        except Exception:  # noqa: BLE001 - too late for this session; the default works too
            cursor.execute("ROLLBACK TO SAVEPOINT import_temp_buffers")
        cursor.execute("RELEASE SAVEPOINT import_temp_buffers")


class Table:
    """A temporary table of named, typed columns, written a chunk at a time.

    Text columns hold text, never NULL: on PostgreSQL rows go as CSV in which None and "" are
    both ``""``, read as NULL only in the columns of other types (``FORCE_NULL``), so a None
    in a text column would quietly become "". They are declared ``NOT NULL``, so on SQLite
    (where rows go as parameters) such a None fails loudly, and the tests, run on both, see it.
    """

    def __init__(self, name: str, columns: Sequence[tuple[str, str]]) -> None:
        self.name = name
        self.columns = tuple(column for column, _kind in columns)
        self._kinds = tuple(kind for _column, kind in columns)
        self._buffer: list[tuple[Any, ...]] = []
        self._texts: list[str] = []  # rows already written as COPY CSV, and how many
        self._text_rows = 0
        self.count = 0

    def create(self) -> None:
        types = TYPES["postgresql" if is_postgresql() else "sqlite"]
        body = ", ".join(
            f"{c} {types[k]}{' NOT NULL' if k == 'text' else ''}"
            for c, k in zip(self.columns, self._kinds, strict=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {self.name} ({body})")

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")

    def index(self, *columns: str) -> None:
        """Index the table (once it is loaded), and tell PostgreSQL's planner what it holds.

        Temporary tables are never analysed automatically: without this, the planner guesses
        they are tiny and joins them row by row.
        """
        with connection.cursor() as cursor:
            name = f"{self.name}_{'_'.join(columns)}"
            cursor.execute(f"CREATE INDEX {name} ON {self.name} ({', '.join(columns)})")
            if is_postgresql():
                cursor.execute(f"ANALYZE {self.name}")

    def clear(self) -> None:
        """Forget every row, written or queued."""
        self._buffer, self._texts, self._text_rows, self.count = [], [], 0, 0
        execute(f"DELETE FROM {self.name}")  # nosec B608 - the table's own name

    def add(self, values: tuple[Any, ...]) -> None:
        """Queue one row; every ``CHUNK`` rows are written."""
        self._buffer.append(values)
        if len(self._buffer) >= CHUNK:
            self.flush()

    def add_batch(self, batch: RowBatch) -> None:
        """Queue a batch of rows made by `row_batch` (in a worker process, say)."""
        if isinstance(batch.rows, str):
            self._texts.append(batch.rows)
            self._text_rows += batch.size
            if self._text_rows >= CHUNK:
                self.flush()
        else:
            for values in batch.rows:
                self.add(values)

    def _copy(self, text: str, columns: str, cursor: Any) -> None:
        nullable = [c for c, k in zip(self.columns, self._kinds, strict=True) if k != "text"]
        force_null = f", FORCE_NULL ({', '.join(nullable)})" if nullable else ""
        sql = f"COPY {self.name} ({columns}) FROM STDIN WITH (FORMAT csv{force_null})"
        cursor.cursor.copy_expert(sql, io.StringIO(text), size=1 << 20)

    def flush(self) -> None:
        """Write the queued rows."""
        if not (self._buffer or self._texts):
            return
        rows, self._buffer = self._buffer, []
        texts, self._texts = self._texts, []
        self.count += len(rows) + self._text_rows
        self._text_rows = 0
        columns = ", ".join(self.columns)
        with connection.cursor() as cursor:
            if is_postgresql():
                self._copy("".join(texts) + copy_text(rows), columns, cursor)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {self.name} ({columns}) VALUES ({marks})",  # nosec B608
                    [tuple(_sqlite(v) for v in row) for row in rows],
                )


class RowBatch(NamedTuple):
    """Rows for a staging table, as a worker process sends them: ``COPY`` text on PostgreSQL
    (one string costs far less to pass between processes than the tuples it stands for, and
    the writing is done there too), the tuples themselves elsewhere."""

    rows: str | list[tuple[Any, ...]]
    size: int


def row_batch(rows: list[tuple[Any, ...]], *, as_copy_text: bool) -> RowBatch:
    """Return rows ready for `Table.add_batch` in another process."""
    return RowBatch(copy_text(rows) if as_copy_text else rows, len(rows))


def copy_text(rows: list[tuple[Any, ...]]) -> str:
    """Return rows as ``COPY`` CSV: every value but a number quoted, None as ``""``.

    The csv module writes a chunk in C. It quotes None as ``""`` too, which ``FORCE_NULL``
    reads as NULL in every column that is not text (and text columns are never None).
    """
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    return text.getvalue()


def _sqlite(value: Any) -> Any:
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def stream(sql: str, params: Sequence[Any] = (), size: int = 2000) -> Iterator[tuple[Any, ...]]:
    """Yield a query's rows a batch at a time (a server-side cursor on PostgreSQL)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(size)
            if not rows:
                return
            yield from rows


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    """Run one statement; return the rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Return a small query's rows."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
