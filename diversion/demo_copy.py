"""Write generated demo data to PostgreSQL with ``COPY``, generating blocks in other processes.

`diversion.demo.demo_seed` uses this on PostgreSQL (and `bulk_create` elsewhere). Building
model instances and parameterised ``INSERT``s cost more than generating the data; ``COPY``
of tab-separated text costs a fraction of that. Ids of people and encounters are handed out
here rather than by the database, so a block's encounters can name its people without a round
trip: the tables are locked against other writers for the transaction, each block gets a fixed
range of ids from each table's sequence, and the sequences are moved past them at the end.
Reasons, exclusions, referrals and reoffences take their ids from their sequences as they go.

Generating the rows in Python is what the seed spends most of its time on, and blocks are
independent (`diversion.demo.generate_block`), so forked worker processes make and format the
blocks, a few ahead, while this process copies them in block order on its one connection (so
one transaction). Memory stays flat, and the data is the same whatever the number of processes.

The values are the generator's own: codes, references and names without tabs, backslashes or
newlines, so they need no escaping in ``COPY``'s text format (`_check_plain` makes sure).
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, models

from diversion.choices import EncounterSource, ReoffenceSource
from diversion.demo_rows import BLOCK_SIZE
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
    # Rows nothing else refers to take their ids from the table's own sequence.
    EncounterReason: ("encounter_id", "position", "code"),
    EncounterExclusion: ("encounter_id", "factor_id", "position"),
    Referral: (
        "encounter_id", "provider_id", "appointment_on", "attended_on", "completed_on",
        "did_not_attend_on", "withdrawn_on", "flagged_at", "created_at", "borough_id",
        "due_on", "overdue_from",
    ),
    Reoffence: (
        "person_id", "offence_date", "offence_type", "source_ref", "source",
        "entered_by_id", "created_at",
    ),
}  # fmt: skip
# The tables whose ids the seeder hands out itself (their rows are referred to by others).
NUMBERED = (Person, Encounter)


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
    """Ids for people and encounters: each block of encounters gets a fixed range of each.

    Block N's encounters are numbered from ``first[Encounter] + N * BLOCK_SIZE`` and its people
    from ``first[Person] + N * BLOCK_SIZE`` (a block has at most as many people as encounters),
    so any process can number a block without knowing how many people earlier blocks had.
    People's ids have gaps where a block had fewer people than encounters; nothing needs them
    to be consecutive.
    """

    def __init__(self, cursor: Any, blocks: int) -> None:
        tables = ", ".join(model._meta.db_table for model in MODELS)
        # No other writer may take ids from these sequences until the seed commits.
        cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        self.first: dict[type[models.Model], int] = {}
        for model in NUMBERED:
            sequence = "pg_get_serial_sequence(%s, 'id')"
            cursor.execute(f"SELECT nextval({sequence})", [model._meta.db_table])
            self.first[model] = cursor.fetchone()[0]
        self.blocks = blocks

    def release(self, cursor: Any) -> None:
        """Move each sequence past the ids used, so later inserts carry on after them."""
        for model, first in self.first.items():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)",
                [model._meta.db_table, first + self.blocks * BLOCK_SIZE],
            )


# Processes making blocks at once (this one copies meanwhile).
PROCESSES = min(os.cpu_count() or 1, 4)

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
    """Turn a generated block into COPY text for each table, with its ids."""

    def __init__(
        self,
        *,
        first: Mapping[type[models.Model], int],
        officer_id: int | None,
        factor_ids: Mapping[str, int],
        now: datetime,
    ) -> None:
        self.first = dict(first)
        self.officer = _text(officer_id)
        self.factor_ids = factor_ids
        self.now = str(now)

    def block(self, chunk: Chunk, block: int) -> dict[type, str]:
        """Return the COPY text per table for block number ``block``."""
        first_person = self.first[Person] + block * BLOCK_SIZE
        person_ids = {row.index: first_person + i for i, row in enumerate(chunk.people)}
        first_encounter = self.first[Encounter] + block * BLOCK_SIZE
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
        return "".join(
            f"{first_encounter + i}\t{position}\t{code}\n"
            for i, e in enumerate(chunk.encounters)
            for position, code in enumerate(e.reasons, start=1)
        )

    def _exclusions(self, chunk: Chunk, first_encounter: int) -> str:
        return "".join(
            f"{first_encounter + i}\t{self.factor_ids[code]}\t{position}\n"
            for i, e in enumerate(chunk.encounters)
            for position, code in enumerate(e.exclusions, start=1)
        )

    def _referrals(self, chunk: Chunk, first_encounter: int) -> str:
        return "".join(
            f"{first_encounter + i}\t{_text(r.provider_id)}\t{_text(r.appointment_on)}\t"
            f"{_text(r.attended_on)}\t{_text(r.completed_on)}\t{_text(r.did_not_attend_on)}\t"
            f"{_text(r.withdrawn_on)}\t{_text(r.flagged_at)}\t{self.now}\t{e.borough_id}\t"
            f"{_text(r.due_on)}\t{_text(r.overdue_from)}\n"
            for i, e in enumerate(chunk.encounters)
            if (r := e.referral) is not None
        )

    def _reoffences(self, chunk: Chunk, person_ids: Mapping[int, int]) -> str:
        source = ReoffenceSource.DEMO.value
        lines = []
        for r in chunk.reoffences:
            _check_plain(r.offence_type)
            lines.append(
                f"{person_ids[r.person_index]}\t{r.offence_date}\t{r.offence_type}\t"
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


def chunk_counts(chunk: Chunk) -> dict[str, int]:
    """Return how many rows of each kind a block holds, as `demo_seed` reports them."""
    return {
        "people": len(chunk.people),
        "encounters": len(chunk.encounters),
        "referrals": sum(1 for e in chunk.encounters if e.referral is not None),
        "reoffences": len(chunk.reoffences),
    }


# What the worker processes run, set before they are forked (so they inherit it, closures
# and all, with nothing pickled): the function making a block, and the formatter.
_JOB: tuple[Callable[..., Chunk], Formatter] | None = None


def _block_texts(block: int) -> tuple[dict[type, str], dict[str, int]]:
    """Make and format one block (in a worker process, or in this one)."""
    assert _JOB is not None  # nosec B101: set by copy_blocks before any block is made
    make_block, formatter = _JOB
    chunk = make_block(block=block)
    return formatter.block(chunk, block), chunk_counts(chunk)


def _made_in_order(blocks: int, processes: int) -> Iterator[tuple[dict[type, str], dict[str, int]]]:
    """Yield each block's texts and counts in block order, made by ``processes`` processes.

    With more than one, forked workers make the blocks (a few ahead of the one being copied,
    so memory stays flat) while this process copies: generating is the seed's main cost, and
    blocks are independent. The data is the same whatever the number of processes.
    """
    if processes <= 1 or blocks <= 1:
        yield from map(_block_texts, range(blocks))
        return
    ahead = 2 * processes
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
    try:
        pending: deque[Future] = deque()
        for block in range(blocks):
            pending.append(pool.submit(_block_texts, block))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def copy_blocks(
    make_block: Callable[..., Chunk],
    *,
    blocks: int,
    rebuild: bool,
    officer_id: int | None,
    factor_ids: Mapping[str, int],
    now: datetime,
    on_counts: Callable[[dict[str, int]], None],
    processes: int | None = None,
) -> None:
    """Write blocks 0 to ``blocks - 1`` with COPY, inside the caller's transaction.

    ``make_block(block=n)`` returns block n; it must touch no database (it may run in a forked
    process). `on_counts` is called with each block's row counts as it is copied. With
    ``rebuild``, indexes and constraints are set aside for the load (`Rebuild`).
    """
    global _JOB
    with connection.cursor() as cursor:
        ids = Ids(cursor, blocks)
        rebuilt = Rebuild(cursor) if rebuild else None
    formatter = Formatter(first=ids.first, officer_id=officer_id, factor_ids=factor_ids, now=now)
    _JOB = (make_block, formatter)
    try:
        for texts, counts in _made_in_order(blocks, PROCESSES if processes is None else processes):
            _copy_tables(connection.connection, texts)
            on_counts(counts)
    finally:
        _JOB = None
    with connection.cursor() as cursor:
        ids.release(cursor)
        if rebuilt is not None:
            rebuilt.restore(cursor)
