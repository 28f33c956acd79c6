"""Temporary tables an import loads its rows into, so memory does not grow with the file.

An import checks each row on its own as it streams the file and writes it here; the checks
across rows (a reference used twice, a person described two ways, rows already stored) are
then SQL over these tables, and rows are judged from an ordered cursor. On PostgreSQL rows
go in with ``COPY`` (CSV format, so any text is quoted safely); elsewhere with
``executemany`` a chunk at a time. The tables live for the import's transaction: they are
dropped when it ends, and again before the next import on the same connection.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

CHUNK = 10_000

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


class Table:
    """A temporary table of named, typed columns, written a chunk at a time."""

    def __init__(self, name: str, columns: Sequence[tuple[str, str]]) -> None:
        self.name = name
        self.columns = tuple(column for column, _kind in columns)
        self._kinds = tuple(kind for _column, kind in columns)
        self._buffer: list[tuple[Any, ...]] = []
        self.count = 0

    def create(self) -> None:
        types = TYPES["postgresql" if is_postgresql() else "sqlite"]
        body = ", ".join(f"{c} {types[k]}" for c, k in zip(self.columns, self._kinds, strict=True))
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

    def add(self, values: tuple[Any, ...]) -> None:
        """Queue one row; every ``CHUNK`` rows are written."""
        self._buffer.append(values)
        if len(self._buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Write the queued rows."""
        if not self._buffer:
            return
        rows, self._buffer = self._buffer, []
        self.count += len(rows)
        columns = ", ".join(self.columns)
        with connection.cursor() as cursor:
            if is_postgresql():
                text = io.StringIO("".join(",".join(map(_csv, row)) + "\n" for row in rows))
                cursor.cursor.copy_expert(
                    f"COPY {self.name} ({columns}) FROM STDIN WITH (FORMAT csv)", text
                )
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {self.name} ({columns}) VALUES ({marks})",  # nosec B608
                    [tuple(_sqlite(v) for v in row) for row in rows],
                )


def _csv(value: Any) -> str:
    """Return a value as a COPY CSV field: empty for NULL, text always quoted."""
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


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
