"""Write the pseudonymised encounters CSV of SPEC §7 for analysts.

No names, dates of birth, PNC IDs or person references ever leave through here: a person is
known only by their stored random pseudonym. Rows are streamed from the database in chunks, so
memory stays flat however many encounters there are.
"""

from collections import defaultdict
from collections.abc import Iterator
from typing import TextIO

from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone

from diversion.choices import AGE_BANDS, OTHER_AGE_BAND, Decision
from diversion.eligibility import grams
from diversion.formula_safety import SafeCsvWriter
from diversion.models import Encounter, EncounterReason
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


def age_band(age: int) -> str:
    """Return the evaluation's age band: 18-20, 21-24, or other."""
    for band, youngest, oldest in AGE_BANDS:
        if youngest <= age <= oldest:
            return band
    return OTHER_AGE_BAND


def _rows() -> Iterator[tuple]:
    """Yield the export's values in (encounter_date, encounter_ref) order, chunk by chunk."""
    status = Case(
        When(~Q(decision=Decision.DIVERTED), then=Value("")),
        When(referral__isnull=True, then=Value("")),
        default=status_expression(timezone.localdate(), prefix="referral__"),
        output_field=CharField(),
    )
    query = (
        Encounter.objects.order_by("encounter_date", "encounter_ref")
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
            yield from _with_reasons(batch)
            batch = []
    if batch:
        yield from _with_reasons(batch)


def _with_reasons(batch: list[tuple]) -> Iterator[tuple]:
    """Add each encounter's reasons, in their stored order, with one query per chunk."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for encounter_id, code in (
        EncounterReason.objects.filter(encounter_id__in=[row[0] for row in batch])
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


def encounters_export(*, stream: TextIO) -> int:
    """Write every encounter as pseudonymised CSV to ``stream``; return the rows written."""
    # Formula-safe: a reference or code that starts like a formula is written as text.
    writer = SafeCsvWriter(stream)
    writer.writerow(COLUMNS)
    written = 0
    for row in _rows():
        writer.writerow(row)
        written += 1
    return written
