"""Store the judged rows of an encounters import with set-based SQL, each with its history.

Once every row is judged and the file is known to be good, people, encounters, reasons,
exclusions and referrals are each written by one ``INSERT ... SELECT`` from the staging
tables, and their django-simple-history rows (``+``, with the import's reason) by another,
so storing a million rows costs a handful of statements rather than a million objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from diversion.choices import Decision, EncounterSource
from diversion.demo_copy import REBUILD_FROM, Rebuild
from diversion.encounter_rows import OUTCOME_COLUMNS
from diversion.models import (
    Encounter,
    EncounterExclusion,
    EncounterReason,
    Person,
    Referral,
)
from diversion.services import TERMINAL_FIELDS
from diversion.staging import Table, execute, fetch, is_postgresql, ordered_text

if TYPE_CHECKING:
    from diversion.imports import Staging

# The tables an import writes, with their history, whose indexes a large import rebuilds.
REBUILT = (
    Person,
    Encounter,
    EncounterReason,
    EncounterExclusion,
    Referral,
    Person.history.model,
    Encounter.history.model,
    Referral.history.model,
)
HISTORY_COLUMNS = ("history_date", "history_change_reason", "history_type", "history_user_id")


def store_judged(staging: Staging, *, reason: str, judged_rows: int) -> int:
    """Store every judged row; return how many people were created.

    A load that is large beside what is stored sets the tables' secondary indexes and keys
    aside and makes them again afterwards (`Rebuild`), as `seed_demo` does: building an index
    once costs far less than keeping it up to date row by row, and one join checks a foreign
    key for every row at once. Other sessions wait on the tables meanwhile.
    """
    rebuild = _rebuild(judged_rows)
    people = _store(staging, reason=reason)
    if rebuild is not None:
        with connection.cursor() as cursor:
            rebuild.restore(cursor)
    return people


def _rebuild(judged_rows: int) -> Rebuild | None:
    if not is_postgresql() or judged_rows < REBUILD_FROM:
        return None
    stored = fetch("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [_table(Encounter)])[
        0
    ][0]
    if judged_rows < stored:
        return None
    with connection.cursor() as cursor:
        return Rebuild(cursor, of=REBUILT)


def _store(staging: Staging, *, reason: str) -> int:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows, judged = staging.rows.name, staging.judged.name
    new_people = Table("import_encounter_new_person", [("person_ref", "text"), ("line", "int")])
    new_people.create()
    execute(
        f"INSERT INTO {new_people.name} (person_ref, line) "  # nosec B608
        f"SELECT s.person_ref, min(s.line) FROM {judged} j JOIN {rows} s ON s.line = j.line "
        f"WHERE NOT EXISTS (SELECT 1 FROM {_table(Person)} p WHERE p.person_ref = s.person_ref) "
        "GROUP BY s.person_ref"
    )
    order = f"s.encounter_date, {ordered_text('s.encounter_ref')}"
    created = _insert(
        Person,
        f"INSERT INTO {_table(Person)} (person_ref, pseudonym, first_name, last_name, "  # nosec B608
        "date_of_birth, gender, ethnicity, pnc_id, created_at, anonymised_at) "
        "SELECT s.person_ref, s.pseudonym, s.first_name, s.last_name, s.date_of_birth, "
        f"s.gender, s.ethnicity, '', %s, NULL FROM {new_people.name} n "
        f"JOIN {rows} s ON s.line = n.line ORDER BY {order}",
        [now],
        stored=f"JOIN {new_people.name} n ON n.person_ref = t.person_ref",
        now=now,
        reason=reason,
    )
    just_imported = (
        f"JOIN {rows} s ON s.encounter_ref = t.encounter_ref JOIN {judged} j ON j.line = s.line"
    )
    _encounters(rows, judged, order, now=now, reason=reason, stored=just_imported)
    _details(
        rows,
        judged,
        staging,
        now=now,
        reason=reason,
        stored=f"JOIN {_table(Encounter)} e ON e.id = t.encounter_id "
        + just_imported.replace("t.encounter_ref", "e.encounter_ref"),
    )
    new_people.drop()
    return created


def _encounters(
    rows: str, judged: str, order: str, *, now: object, reason: str, stored: str
) -> None:
    _insert(
        Encounter,
        f"INSERT INTO {_table(Encounter)} (encounter_ref, person_id, borough_id, "  # nosec B608
        "encounter_date, occurred_at, location, substance, quantity_grams, otherwise_disposal, "
        "decision, accepted, age_at_encounter, policy_id, officer_id, source, decided_at, "
        "answered_at, created_at) "
        "SELECT s.encounter_ref, p.id, s.borough_id, s.encounter_date, NULL, '', s.substance, "
        "s.quantity, '', j.decision, CASE WHEN j.offered THEN s.accepted ELSE NULL END, j.age, "
        "j.policy_id, NULL, %s, %s, CASE WHEN j.offered THEN %s ELSE NULL END, %s "
        f"FROM {judged} j JOIN {rows} s ON s.line = j.line "
        f"JOIN {_table(Person)} p ON p.person_ref = s.person_ref ORDER BY {order}",
        [EncounterSource.IMPORT.value, now, now, now],
        stored=stored,
        now=now,
        reason=reason,
    )


def _details(
    rows: str, judged: str, staging: Staging, *, now: object, reason: str, stored: str
) -> None:
    """Store the reasons, exclusions and referrals of the encounters just stored."""
    encounter = (
        f"JOIN {rows} s ON s.line = x.line JOIN {_table(Encounter)} e "
        "ON e.encounter_ref = s.encounter_ref"
    )
    execute(
        f"INSERT INTO {_table(EncounterReason)} (encounter_id, position, code) "  # nosec B608
        f"SELECT e.id, x.position, x.code FROM {staging.reasons.name} x {encounter}"
    )
    execute(
        f"INSERT INTO {_table(EncounterExclusion)} (encounter_id, factor_id, position) "  # nosec B608
        f"SELECT e.id, x.factor_id, x.position FROM {staging.exclusions.name} x "
        f"JOIN {judged} j ON j.line = x.line {encounter}"
    )
    outcomes = ", ".join(OUTCOME_COLUMNS)
    due = _outcome_due_sql()
    _insert(
        Referral,
        f"INSERT INTO {_table(Referral)} (encounter_id, provider_id, appointment_on, "  # nosec B608
        f"{outcomes}, flagged_at, created_at, borough_id, due_on, overdue_from) "
        f"SELECT e.id, s.provider_id, NULL, {', '.join('s.' + c for c in OUTCOME_COLUMNS)}, "
        f"NULL, %s, e.borough_id, {due}, {due} "
        f"FROM {judged} x {encounter} WHERE x.decision = %s ORDER BY e.id",
        [now, Decision.DIVERTED.value],
        stored=stored,
        now=now,
        reason=reason,
    )


def _outcome_due_sql() -> str:
    """SQL for the work queue's ``due_on`` and ``overdue_from`` of an imported referral.

    An imported referral has no appointment, so ``referral_status.due_dates`` gives the day
    the outcome falls due, or nothing once a final outcome is recorded; the same rule as
    ``referral_due_dates_set``, written for both databases.
    """
    days = int(settings.REFERRAL_OUTCOME_DAYS)
    if is_postgresql():
        outcome_due = f"(e.encounter_date + {days})"
    else:
        outcome_due = f"date(e.encounter_date, '+{days} days')"
    ended = " OR ".join(f"s.{name} IS NOT NULL" for name in TERMINAL_FIELDS)
    return f"CASE WHEN {ended} THEN NULL ELSE {outcome_due} END"


def _insert(
    model: type[models.Model],
    sql: str,
    params: list[object],
    *,
    stored: str,
    now: object,
    reason: str,
) -> int:
    """Run one ``INSERT ... SELECT`` into ``model``'s table and write the rows' history.

    On PostgreSQL the history is written from the inserted rows themselves (``RETURNING`` in
    a ``WITH``), so the rows are not looked up again; elsewhere ``stored`` joins the table to
    the staging tables to find them. Return how many rows were inserted.
    """
    columns, into = _history_columns(model)
    if not is_postgresql():
        inserted = execute(sql, params)
        execute(
            f"{into} SELECT {', '.join('t.' + c for c in columns)}, %s, %s, '+', NULL "  # nosec B608
            f"FROM {_table(model)} t {stored} ORDER BY t.id",
            [now, reason],
        )
        return inserted
    return execute(
        f"WITH t AS ({sql} RETURNING {', '.join(columns)}) {into} "  # nosec B608
        f"SELECT {', '.join('t.' + c for c in columns)}, %s, %s, '+', NULL FROM t ORDER BY t.id",
        [*params, now, reason],
    )


def _history_columns(model: type[models.Model]) -> tuple[list[str], str]:
    """Return the columns a ``+`` history row copies, and the start of its ``INSERT``.

    Only what the history keeps: the work queue's columns on a referral are derived, not
    history.
    """
    history = model.history.model  # type: ignore[attr-defined]
    kept = {f.column for f in history._meta.concrete_fields}
    columns = [f.column for f in model._meta.concrete_fields if f.column in kept]
    into = (
        f"INSERT INTO {history._meta.db_table} ({', '.join(columns)}, {', '.join(HISTORY_COLUMNS)})"
    )
    return columns, into


def _table(model: type[models.Model]) -> str:
    return model._meta.db_table
