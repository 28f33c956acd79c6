"""Write the pseudonymised encounters CSV of SPEC §7 for analysts.

No names, dates of birth, PNC IDs or person references ever leave through here: a person is
known only by their stored random pseudonym. On PostgreSQL the database computes every column
and streams the file itself (``COPY (SELECT ...) TO STDOUT``), so a million rows take seconds
and memory stays flat. Elsewhere (SQLite) rows are read chunk by chunk through the ORM and
written by Python; both paths write the same bytes. Both read from the reporting database
(``config.db_router``): the read replica when one is configured, else default.
"""

import codecs
import fcntl
import io
import os
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, BinaryIO, TextIO

from django.db.models import Case, CharField, Model, Q, Value, When
from django.utils import timezone

from boroughs.models import Borough
from config.db_router import reporting_alias, reporting_connection
from diversion.choices import AGE_BANDS, OTHER_AGE_BAND, Decision, ReferralStatus
from diversion.eligibility import grams
from diversion.formula_safety import SafeCsvWriter, safe_cell, safe_sql
from diversion.models import EligibilityPolicy, Encounter, EncounterReason, Person, Referral
from diversion.referral_status import status_expression

COLUMNS: tuple[str, ...] = (
    "encounter_ref",
    "person_pseudonym",
    "age_at_encounter",
    "age_band",
    "gender",
    "ethnicity",
    "borough_code",
    "encounter_date",
    "substance",
    "quantity_grams",
    "decision",
    "reasons",
    "policy_version",
    "referral_status",
)
CHUNK_SIZE = 2000
# Bytes read from COPY at a time: big enough to make per-chunk costs vanish, small enough
# that memory stays flat.
READ_SIZE = 1 << 16
# The pipe between the COPY thread and the reader holds this much (Linux's default is 64 KiB).
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
CRLF = b"\r\n"
HEADER = ",".join(COLUMNS).encode() + CRLF


def age_band(age: int) -> str:
    """Return the evaluation's age band: 18-20, 21-24, or other."""
    for band, youngest, oldest in AGE_BANDS:
        if youngest <= age <= oldest:
            return band
    return OTHER_AGE_BAND


# ---------------------------------------------------------------------------------------------
# PostgreSQL: one query computes every cell, COPY writes the CSV.


def _literal(text: str) -> str:
    """Quote a constant of our own (a band or status name) as an SQL string, made safe."""
    return "'" + str(safe_cell(text)).replace("'", "''") + "'"


def _age_band_sql() -> str:
    """Return the age band as SQL, from the same AGE_BANDS as ``age_band``."""
    whens = " ".join(
        f"WHEN e.age_at_encounter BETWEEN {int(low)} AND {int(high)} THEN {_literal(band)}"
        for band, low, high in AGE_BANDS
    )
    return f"CASE {whens} ELSE {_literal(OTHER_AGE_BAND)} END"


def _status_sql() -> tuple[str, list[Any]]:
    """Return the referral's status on a day as SQL: ``referral_status.status_on``'s order."""
    order = (
        ("completed_on", ReferralStatus.COMPLETED),
        ("did_not_attend_on", ReferralStatus.DID_NOT_ATTEND),
        ("withdrawn_on", ReferralStatus.WITHDRAWN),
        ("attended_on", ReferralStatus.ATTENDED),
    )
    whens = " ".join(f"WHEN r.{field} <= %s THEN {_literal(status)}" for field, status in order)
    sql = f"CASE WHEN r.id IS NULL THEN NULL {whens} ELSE {_literal(ReferralStatus.REFERRED)} END"
    return sql, [timezone.localdate()] * len(order)


def _table(model: type[Model]) -> str:
    return reporting_connection().ops.quote_name(model._meta.db_table)


def _select_sql() -> tuple[str, list[Any]]:
    """Return the export's SELECT, in (encounter_date, encounter_ref) order, with parameters."""
    params: list[Any] = []

    def safe(expression: str) -> str:
        sql, more = safe_sql(expression)
        params.extend(more)
        return sql

    cells = [safe("e.encounter_ref"), safe("p.pseudonym"), "e.age_at_encounter", _age_band_sql()]
    cells += [safe("p.gender"), safe("p.ethnicity"), safe("b.gss_code")]
    cells += ["to_char(e.encounter_date, 'YYYY-MM-DD')", safe("e.substance")]
    # trim_scale drops trailing zeros as ``grams`` does (25.000 -> 25, 2.500 -> 2.5).
    cells += ["trim_scale(e.quantity_grams)::text", safe("e.decision"), safe("x.codes")]
    status, status_params = _status_sql()
    params.extend(status_params)
    cells += ["v.version", status]
    return (
        f"SELECT {', '.join(cells)} FROM {_table(Encounter)} e"  # nosec B608: table names and fixed SQL; values are parameters
        f" JOIN {_table(Person)} p ON p.id = e.person_id"
        f" JOIN {_table(Borough)} b ON b.id = e.borough_id"
        f" JOIN {_table(EligibilityPolicy)} v ON v.id = e.policy_id"
        f" LEFT JOIN {_table(Referral)} r ON r.encounter_id = e.id AND e.decision = %s"
        # Reasons in their stored order (SPEC §3), aggregated once rather than per row.
        " LEFT JOIN (SELECT encounter_id, string_agg(code, ';' ORDER BY position) AS codes"
        f" FROM {_table(EncounterReason)} GROUP BY encounter_id) x ON x.encounter_id = e.id"
        " ORDER BY e.encounter_date, e.encounter_ref",
        [*params, Decision.DIVERTED.value],
    )


def copy_sql(cursor: Any) -> str:
    """Return the ``COPY ... TO STDOUT`` statement, its parameters bound by the driver."""
    select, params = _select_sql()
    return "COPY (" + cursor.mogrify(select, params).decode() + ") TO STDOUT WITH (FORMAT csv)"


class _CrlfRows:
    """Turn COPY's LF row ends into ``csv.writer``'s CRLF, leaving breaks inside quoted cells.

    CSV doubles a quote inside a quoted cell, so counting quotes tells inside from outside,
    across chunk boundaries too.
    """

    def __init__(self) -> None:
        self.quoted = False

    def __call__(self, data: bytes) -> bytes:
        if not self.quoted and b'"' not in data:
            return data.replace(b"\n", CRLF)
        parts = data.split(b'"')
        for index in range(1 if self.quoted else 0, len(parts), 2):
            parts[index] = parts[index].replace(b"\n", CRLF)
        if len(parts) % 2 == 0:
            self.quoted = not self.quoted
        return b'"'.join(parts)


class EncounterCsv:
    """The export as CSV byte chunks, header first; ``rows`` counts them once read to the end.

    Iterate it once. On PostgreSQL a thread runs COPY into a pipe while the caller reads the
    other end, so a web response can stream it; a reader that stops early breaks the pipe,
    which ends the COPY.
    """

    def __init__(self, *, portable: bool = False) -> None:
        self.rows = 0
        self.failure: BaseException | None = None
        # COPY bypasses the router, so it takes its cursor from the reporting connection.
        self.connection = reporting_connection()
        self.portable = portable or self.connection.vendor != "postgresql"

    def __iter__(self) -> Iterator[bytes]:
        yield HEADER
        yield from (self._written() if self.portable else self._copied())

    def _copied(self) -> Iterator[bytes]:
        with self.connection.cursor() as cursor:
            sql = copy_sql(cursor.cursor)
            read_fd, write_fd = os.pipe()
            fcntl.fcntl(write_fd, F_SETPIPE_SZ, PIPE_SIZE)
            copier = threading.Thread(
                target=self._copy, args=(cursor.cursor, sql, write_fd), daemon=True
            )
            copier.start()
            try:
                yield from _read(read_fd)
            finally:
                os.close(read_fd)
                copier.join()
                if self.failure and not self.connection.in_atomic_block:
                    self.connection.close()  # a COPY cut short: start the next query afresh
        if self.failure:
            raise self.failure

    def _copy(self, cursor: Any, sql: str, write_fd: int) -> None:
        """Run COPY into the pipe (in the copying thread); keep any error for the reader."""
        try:
            with os.fdopen(write_fd, "wb", buffering=READ_SIZE) as pipe:
                cursor.copy_expert(sql, pipe, size=READ_SIZE)
            self.rows = cursor.rowcount
        except BaseException as error:  # noqa: BLE001 - raised again in the reading thread
            self.failure = error

    def _written(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer)
        for row in _rows(using=self.connection.alias):
            writer.writerow(row)
            self.rows += 1
            if buffer.tell() >= READ_SIZE:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()


def _read(read_fd: int) -> Iterator[bytes]:
    crlf = _CrlfRows()
    while chunk := os.read(read_fd, READ_SIZE):
        yield crlf(chunk)


def encounters_export(*, stream: TextIO | BinaryIO, portable: bool = False) -> int:
    """Write every encounter as pseudonymised CSV to ``stream``; return the rows written."""
    export = EncounterCsv(portable=portable)
    if isinstance(stream, io.TextIOBase):
        decode = codecs.getincrementaldecoder("utf-8")().decode
        for chunk in export:
            stream.write(decode(chunk))
    else:
        for chunk in export:
            stream.write(chunk)  # type: ignore[arg-type]  # a binary stream: bytes as they come
    return export.rows


def encounters_count() -> int:
    """Return how many encounters an export would write now (for the audit trail)."""
    return Encounter.objects.using(reporting_alias()).count()


# ---------------------------------------------------------------------------------------------
# Portable path (SQLite): rows through the ORM in chunks, cells made safe by SafeCsvWriter.


def _rows(*, using: str) -> Iterator[tuple]:
    """Yield the export's values in (encounter_date, encounter_ref) order, chunk by chunk."""
    status = Case(
        When(~Q(decision=Decision.DIVERTED), then=Value("")),
        When(referral__isnull=True, then=Value("")),
        default=status_expression(timezone.localdate(), prefix="referral__"),
        output_field=CharField(),
    )
    query = (
        Encounter.objects.using(using)
        .order_by("encounter_date", "encounter_ref")
        .annotate(referral_status=status)
        .values_list(
            "pk",
            "encounter_ref",
            "person__pseudonym",
            "age_at_encounter",
            "person__gender",
            "person__ethnicity",
            "borough__gss_code",
            "encounter_date",
            "substance",
            "quantity_grams",
            "decision",
            "policy__version",
            "referral_status",
        )
    )
    batch: list[tuple] = []
    for row in query.iterator(chunk_size=CHUNK_SIZE):
        batch.append(row)
        if len(batch) == CHUNK_SIZE:
            yield from _with_reasons(batch, using=using)
            batch = []
    if batch:
        yield from _with_reasons(batch, using=using)


def _with_reasons(batch: list[tuple], *, using: str) -> Iterator[tuple]:
    """Add each encounter's reasons, in their stored order, with one query per chunk."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for encounter_id, code in (
        EncounterReason.objects.using(using)
        .filter(encounter_id__in=[row[0] for row in batch])
        .order_by("encounter_id", "position")
        .values_list("encounter_id", "code")
    ):
        reasons[encounter_id].append(code)
    for (
        pk,
        ref,
        pseudonym,
        age,
        gender,
        ethnicity,
        borough,
        day,
        substance,
        quantity,
        decision,
        version,
        referral_status,
    ) in batch:
        yield (
            ref,
            pseudonym,
            age,
            age_band(age),
            gender,
            ethnicity,
            borough,
            day.isoformat(),
            substance,
            grams(quantity),
            decision,
            ";".join(reasons.get(pk, ())),
            version,
            referral_status or "",
        )
