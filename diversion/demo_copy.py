"""Write generated demo data to PostgreSQL with ``COPY``, while the next chunk is generated.

`diversion.demo.demo_seed` uses this on PostgreSQL (and `bulk_create` elsewhere). Building
model instances and parameterised ``INSERT``s cost more than generating the data; ``COPY``
of tab-separated text costs a fraction of that. Ids are handed out here rather than by the
database, so one chunk's encounters can name its people without a round trip: the tables are
locked against other writers for the transaction, ids are taken from each table's sequence
upwards, and the sequences are moved past them at the end.

Each chunk's ``COPY`` runs in one worker thread on the same database connection (so the same
transaction) while the main thread generates the next chunk: psycopg2 lets go of the GIL
while the server works. Only one chunk waits at a time, so memory stays flat.

The values are the generator's own: codes, references and names without tabs, backslashes or
newlines, so they need no escaping in ``COPY``'s text format (`_check_plain` makes sure).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, models

from diversion.choices import EncounterSource, ReoffenceSource
from diversion.models import (
    Encounter,
    EncounterExclusion,
    EncounterReason,
    Person,
    Referral,
    Reoffence,
)

if TYPE_CHECKING:
    from diversion.demo_rows import Chunk, EncounterRow

NULL = "\\N"
MODELS = (Person, Encounter, EncounterReason, EncounterExclusion, Referral, Reoffence)
COLUMNS: dict[type, tuple[str, ...]] = {
    Person: (
        "id", "person_ref", "pseudonym", "first_name", "last_name", "date_of_birth", "gender",
        "ethnicity", "pnc_id", "created_at",
    ),
    Encounter: (
        "id", "encounter_ref", "person_id", "borough_id", "encounter_date", "occurred_at",
        "location", "substance", "quantity_grams", "otherwise_disposal", "decision", "accepted",
        "age_at_encounter", "policy_id", "officer_id", "source", "decided_at", "answered_at",
        "created_at",
    ),
    EncounterReason: ("id", "encounter_id", "position", "code"),
    EncounterExclusion: ("id", "encounter_id", "factor_id", "position"),
    Referral: (
        "id", "encounter_id", "provider_id", "appointment_on", "attended_on", "completed_on",
        "did_not_attend_on", "withdrawn_on", "flagged_at", "created_at", "borough_id",
        "due_on", "overdue_from",
    ),
    Reoffence: (
        "id", "person_id", "offence_date", "offence_type", "source_ref", "source",
        "entered_by_id", "created_at",
    ),
}  # fmt: skip


def _text(value: object) -> str:
    """Return a value as COPY text: NULL for None, t/f for booleans."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def _check_plain(*values: str) -> None:
    """Refuse text that COPY's text format would need escaped (it never should be)."""
    for value in values:
        if "\t" in value or "\n" in value or "\\" in value or "\r" in value:
            raise ValueError(f"Demo text needs escaping for COPY: {value!r}")


class Ids:
    """Ids for the rows to be written, handed out in blocks from each table's sequence."""

    def __init__(self, cursor: Any) -> None:
        tables = ", ".join(model._meta.db_table for model in MODELS)
        # No other writer may take ids from these sequences until the seed commits.
        cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        self.next: dict[type[models.Model], int] = {}
        for model in MODELS:
            sequence = "pg_get_serial_sequence(%s, 'id')"
            cursor.execute(f"SELECT nextval({sequence})", [model._meta.db_table])
            self.next[model] = cursor.fetchone()[0]

    def take(self, model: type[models.Model], count: int) -> int:
        """Return the first of ``count`` consecutive ids for ``model``."""
        first = self.next[model]
        self.next[model] = first + count
        return first

    def release(self, cursor: Any) -> None:
        """Move each sequence past the ids used, so later inserts carry on after them."""
        for model, next_id in self.next.items():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)",
                [model._meta.db_table, next_id],
            )


# From this many encounters up, indexes and constraints are made again after the load.
REBUILD_FROM = 50_000

_INDEXES_SQL = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')
  )
ORDER BY c.relname
"""
_CONSTRAINTS_SQL = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint
WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f')
ORDER BY contype DESC, conname
"""


class Rebuild:
    """Set aside secondary indexes, unique and foreign keys for a big load; make them again.

    Keeping a dozen indexes up to date row by row, and checking every foreign key of every
    row at commit, costs the database several times what the rows do; building each index
    once, sorted, and checking each key with one join, does not. PostgreSQL's DDL is
    transactional, so if anything fails the rollback restores them untouched, and other
    sessions wait on the tables' locks rather than see them without. Unique constraints
    are checked again when they are added back, so nothing goes unchecked. Primary keys stay.
    """

    def __init__(self, cursor: Any, of: Iterable[type[models.Model]] = MODELS) -> None:
        tables = [model._meta.db_table for model in of]
        self.tables = tables
        cursor.execute(_INDEXES_SQL, [tables])
        self.indexes: list[tuple[str, str]] = cursor.fetchall()
        cursor.execute(_CONSTRAINTS_SQL, [tables])
        # Unique constraints come first, so they are added back before the keys.
        self.constraints: list[tuple[str, str, str]] = cursor.fetchall()
        for table, name, _definition in reversed(self.constraints):
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in self.indexes:
            cursor.execute(f'DROP INDEX "{name}"')

    def restore(self, cursor: Any) -> None:
        """Make every index and constraint again, and refresh the planner's statistics."""
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, name, definition in self.constraints:
            if not definition.startswith("FOREIGN KEY"):
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in self.indexes:
            cursor.execute(definition)
        for table, name, definition in self.constraints:
            if definition.startswith("FOREIGN KEY"):
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("ANALYZE " + ", ".join(self.tables))


class Formatter:
    """Turn generated chunks into COPY text for each table, numbering rows as it goes."""

    def __init__(
        self, *, ids: Ids, officer_id: int | None, factor_ids: Mapping[str, int], now: datetime
    ) -> None:
        self.ids = ids
        self.officer = _text(officer_id)
        self.factor_ids = factor_ids
        self.now = str(now)

    def chunk(self, chunk: Chunk) -> dict[type, str]:
        """Return the COPY text per table for one chunk."""
        first_person = self.ids.take(Person, len(chunk.people))
        person_ids = {row.index: first_person + i for i, row in enumerate(chunk.people)}
        first_encounter = self.ids.take(Encounter, len(chunk.encounters))
        return {
            Person: self._people(chunk, first_person),
            Encounter: self._encounters(chunk, first_encounter, person_ids),
            EncounterReason: self._reasons(chunk, first_encounter),
            EncounterExclusion: self._exclusions(chunk, first_encounter),
            Referral: self._referrals(chunk, first_encounter),
            Reoffence: self._reoffences(chunk, person_ids),
        }

    def _people(self, chunk: Chunk, first_id: int) -> str:
        now = self.now
        lines = []
        for i, p in enumerate(chunk.people):
            _check_plain(p.first_name, p.last_name)
            lines.append(
                f"{first_id + i}\t{p.person_ref}\t{p.pseudonym}\t{p.first_name}\t{p.last_name}\t"
                f"{p.date_of_birth}\t{p.gender}\t{p.ethnicity}\t\t{now}\n"
            )
        return "".join(lines)

    def _encounters(self, chunk: Chunk, first_id: int, person_ids: Mapping[int, int]) -> str:
        return "".join(
            self._encounter(first_id + i, e, person_ids[e.person_index])
            for i, e in enumerate(chunk.encounters)
        )

    def _encounter(self, encounter_id: int, e: EncounterRow, person_id: int) -> str:
        decided_at = e.occurred_at + timedelta(minutes=5)
        answered_at = decided_at if e.accepted is not None else None
        return (
            f"{encounter_id}\t{e.encounter_ref}\t{person_id}\t{e.borough_id}\t{e.encounter_date}\t"
            f"{e.occurred_at}\t\t{e.substance}\t{e.quantity_grams}\t{e.otherwise_disposal}\t"
            f"{e.decision}\t{_text(e.accepted)}\t{e.age}\t{e.policy_id}\t{self.officer}\t"
            f"{EncounterSource.DEMO.value}\t{decided_at}\t{_text(answered_at)}\t{self.now}\n"
        )

    def _reasons(self, chunk: Chunk, first_encounter: int) -> str:
        rows = [
            (first_encounter + i, position, code)
            for i, e in enumerate(chunk.encounters)
            for position, code in enumerate(e.reasons, start=1)
        ]
        first = self.ids.take(EncounterReason, len(rows))
        return "".join(f"{first + n}\t{e}\t{p}\t{c}\n" for n, (e, p, c) in enumerate(rows))

    def _exclusions(self, chunk: Chunk, first_encounter: int) -> str:
        rows = [
            (first_encounter + i, self.factor_ids[code], position)
            for i, e in enumerate(chunk.encounters)
            for position, code in enumerate(e.exclusions, start=1)
        ]
        first = self.ids.take(EncounterExclusion, len(rows))
        return "".join(f"{first + n}\t{e}\t{f}\t{p}\n" for n, (e, f, p) in enumerate(rows))

    def _referrals(self, chunk: Chunk, first_encounter: int) -> str:
        rows = [
            (first_encounter + i, e.borough_id, e.referral)
            for i, e in enumerate(chunk.encounters)
            if e.referral is not None
        ]
        first = self.ids.take(Referral, len(rows))
        return "".join(
            f"{first + n}\t{encounter_id}\t{_text(r.provider_id)}\t{_text(r.appointment_on)}\t"
            f"{_text(r.attended_on)}\t{_text(r.completed_on)}\t{_text(r.did_not_attend_on)}\t"
            f"{_text(r.withdrawn_on)}\t{_text(r.flagged_at)}\t{self.now}\t{borough_id}\t"
            f"{_text(r.due_on)}\t{_text(r.overdue_from)}\n"
            for n, (encounter_id, borough_id, r) in enumerate(rows)
        )

    def _reoffences(self, chunk: Chunk, person_ids: Mapping[int, int]) -> str:
        first = self.ids.take(Reoffence, len(chunk.reoffences))
        source = ReoffenceSource.DEMO.value
        lines = []
        for n, r in enumerate(chunk.reoffences):
            _check_plain(r.offence_type)
            lines.append(
                f"{first + n}\t{person_ids[r.person_index]}\t{r.offence_date}\t{r.offence_type}\t"
                f"{r.source_ref}\t{source}\t{NULL}\t{self.now}\n"
            )
        return "".join(lines)


def _copy_tables(raw_connection: Any, texts: Mapping[type, str]) -> None:
    """COPY each table's text, parents before children so the keys they name exist."""
    with raw_connection.cursor() as cursor:
        for model in MODELS:
            text = texts[model]
            if text:
                columns = ", ".join(COLUMNS[model])
                cursor.copy_expert(
                    f"COPY {model._meta.db_table} ({columns}) FROM STDIN", io.StringIO(text)
                )


def copy_chunks(
    chunks: Iterable[Chunk],
    *,
    rebuild: bool,
    officer_id: int | None,
    factor_ids: Mapping[str, int],
    now: datetime,
    on_chunk: Callable[[Chunk], None],
) -> None:
    """Write every chunk with COPY, inside the caller's transaction.

    Chunk N is copied by a worker thread while the main thread generates and formats chunk
    N + 1; `on_chunk` is called for each chunk once it is formatted. With ``rebuild``,
    indexes and constraints are set aside for the load (`Rebuild`).
    """
    with connection.cursor() as cursor:
        ids = Ids(cursor)
        rebuilt = Rebuild(cursor) if rebuild else None
    formatter = Formatter(ids=ids, officer_id=officer_id, factor_ids=factor_ids, now=now)
    raw = connection.connection
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-copy") as pool:
        pending: Future | None = None
        for chunk in chunks:
            texts = formatter.chunk(chunk)
            if pending is not None:
                pending.result()  # raises the worker's error, if any
            pending = pool.submit(_copy_tables, raw, texts)
            on_chunk(chunk)
        if pending is not None:
            pending.result()
    with connection.cursor() as cursor:
        ids.release(cursor)
        if rebuilt is not None:
            rebuilt.restore(cursor)
