"""Judge the good rows of an encounters import in one ordered pass over the staging table.

Rows come from one cursor in (encounter_date, encounter_ref) order, each with the dates of
its person's stored diversions; the diversions made earlier in the same pass are kept only
while they can still count against a later row (the longest window of any policy version), so
memory stays flat however long the file. Each judgement goes back to a staging table, to be
stored only if the whole file turns out good.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from diversion import eligibility, parallel_judging
from diversion.csv_import import LineErrors
from diversion.encounter_rows import OUTCOME_COLUMNS, Judged, Lookups, answer_problems
from diversion.facts import encounter_facts
from diversion.models import EligibilityPolicy, Encounter, Person
from diversion.parallel_judging import Judging, WorkersFailed, judged_in_processes
from diversion.parallel_parse import can_start_processes
from diversion.staging import as_bool, as_date, as_grams, is_postgresql, ordered_text, stream

if TYPE_CHECKING:
    from diversion.imports import Staging

logger = logging.getLogger(__name__)

_JUDGE_SQL = """
SELECT s.line, s.encounter_ref, s.person_ref, {date_of_birth}, s.borough_id, {encounter_date},
       s.substance, {quantity}, s.exclusions, s.accepted, s.provider_id, {outcomes},
       (SELECT {aggregate} FROM {encounters} e WHERE e.person_id = p.id AND e.decision = 'diverted')
FROM {table} s LEFT JOIN {people} p ON p.person_ref = s.person_ref
WHERE s.kind = 0 AND s.mask_parse = 0 AND s.mask_rules = 0 AND NOT s.person_bad
ORDER BY s.encounter_date, {ref}
"""


class _Born(NamedTuple):
    """The person facts the rule reads from an import row (its date of birth, once checked)."""

    date_of_birth: date


class RecentDiversions:
    """The diversions judged so far that can still count against a later row.

    Rows arrive in date order, so a diversion on or before (today's row date - the longest
    window) can never count again (SPEC §3: (date - N months) < d <= date) and is let go.
    """

    def __init__(self, months: int) -> None:
        self._months = months
        self._by_person: dict[str, list[date]] = {}
        self._queue: deque[tuple[date, str]] = deque()

    def of(self, person_ref: str) -> list[date]:
        return self._by_person.get(person_ref, [])

    def add(self, person_ref: str, day: date) -> None:
        self._by_person.setdefault(person_ref, []).append(day)
        self._queue.append((day, person_ref))

    def forget_before(self, day: date) -> None:
        """Let go of every diversion that cannot count against a row dated ``day`` or later."""
        cutoff = eligibility.subtract_months(day, self._months)
        queue = self._queue
        while queue and queue[0][0] <= cutoff:
            _day, person_ref = queue.popleft()
            days = self._by_person[person_ref]
            days.pop(0)
            if not days:
                del self._by_person[person_ref]


class Verdict(NamedTuple):
    """One row judged: its decision and reasons, the policy applied, and its answers' problems."""

    line: int
    assessment: eligibility.Assessment
    policy_id: int
    problems: list[tuple[str, str]]


def judge_rows(
    staging: Staging, lookups: Lookups, today: date, errors: LineErrors, workers: int = 1
) -> dict[str, int]:
    """Decide each good row in order, check its answers, and stage the decisions.

    Return how many rows got each decision. With ``workers`` above 1 the rows are judged in
    that many processes, each taking every row of its share of the people
    (`diversion.parallel_judging`), with the same result; if the processes fail, the rows are
    judged again here.
    """
    longest = max(EligibilityPolicy.objects.values_list("prior_diversion_months", flat=True))
    failed_before = bool(errors)
    sql = _judge_sql(staging.rows.name)
    found = errors.fresh()
    decisions: dict[str, int] | None = None
    if can_start_processes(workers) and staging.rows.count >= parallel_judging.WORTH_IT_FROM:
        job = Judging(lookups, today, longest, failed_before)
        try:
            decisions = judged_in_processes(stream(sql), staging, job, found, workers)
        except WorkersFailed:
            logger.warning("Import workers failed; judging every row again in this process")
            for table in (staging.judged, staging.reasons):
                table.clear()
            found = errors.fresh()
    if decisions is None:
        decisions = _judge_here(stream(sql), staging, lookups, today, longest, found, failed_before)
    errors.merge(found)
    for table in (staging.judged, staging.reasons, staging.exclusions):
        table.flush()
        table.index("line")
    return decisions


def _judge_here(
    rows: Iterable[tuple[Any, ...]],
    staging: Staging,
    lookups: Lookups,
    today: date,
    longest: int,
    errors: LineErrors,
    failed_before: bool,
) -> dict[str, int]:
    """Judge every row in this process, in order."""
    recent = RecentDiversions(longest)
    decisions: dict[str, int] = {}
    for values in rows:
        verdict = judge_one(values, lookups, today, recent)
        for column, message in verdict.problems:
            errors.add(verdict.line, column, message)
        if not verdict.problems and not errors and not failed_before:
            decision = verdict.assessment.decision.value
            decisions[decision] = decisions.get(decision, 0) + 1
            staging.judged.add(judged_values(verdict))
            for reason in reason_values(verdict):
                staging.reasons.add(reason)
    return decisions


def judge_one(
    values: tuple[Any, ...], lookups: Lookups, today: date, recent: RecentDiversions
) -> Verdict:
    """Judge one staged row against the person's diversions so far, and note its diversion.

    Rows must come in (encounter_date, encounter_ref) order, at least among one person's rows.
    """
    row = _judged(values, lookups)
    recent.forget_before(row.encounter_date)
    stored = [date.fromisoformat(day) for day in values[-1].split(",")] if values[-1] else []
    policy, rule = lookups.policies.in_force(row.encounter_date)
    facts = encounter_facts(
        person=_Born(row.date_of_birth),
        borough=row.borough,
        encounter_date=row.encounter_date,
        substance=row.substance,
        quantity_grams=row.quantity,
        exclusions=row.exclusions,
        diversion_dates=[*stored, *recent.of(row.person_ref)],
        accepted=row.accepted,
    )
    assessment = eligibility.assess(facts, rule)
    if assessment.decision == eligibility.Decision.DIVERTED:
        # Counts against the person's later rows even if its outcome dates are wrong.
        recent.add(row.person_ref, row.encounter_date)
    return Verdict(row.line, assessment, policy.pk, answer_problems(row, assessment, today))


def judged_values(verdict: Verdict) -> tuple[Any, ...]:
    """The row of the ``judged`` staging table for a verdict."""
    assessment = verdict.assessment
    return (
        verdict.line,
        assessment.decision.value,
        assessment.offered,
        assessment.age,
        verdict.policy_id,
    )


def reason_values(verdict: Verdict) -> list[tuple[int, int, str]]:
    """The rows of the ``reasons`` staging table for a verdict, in SPEC §3's order."""
    return [
        (verdict.line, position, code)
        for position, code in enumerate(verdict.assessment.reasons, start=1)
    ]


def _judge_sql(table: str) -> str:
    aggregate = (
        "string_agg(e.encounter_date::text, ',')"
        if is_postgresql()
        else "group_concat(e.encounter_date, ',')"
    )
    # Dates and quantities come as text, read by `_judged`: text costs less to fetch and to
    # send to worker processes than date and Decimal objects (issue 8).
    text = "CAST(s.{} AS text)" if is_postgresql() else "s.{}"
    return _JUDGE_SQL.format(
        date_of_birth=text.format("date_of_birth"),
        encounter_date=text.format("encounter_date"),
        quantity=text.format("quantity"),
        outcomes=", ".join(text.format(column) for column in OUTCOME_COLUMNS),
        aggregate=aggregate,
        encounters=Encounter._meta.db_table,
        people=Person._meta.db_table,
        table=table,
        ref=ordered_text("s.encounter_ref"),
    )


def _judged(values: tuple[Any, ...], lookups: Lookups) -> Judged:
    """Return a staged row as the rule reads it; every value of a judged row is present."""
    born, day, quantity = as_date(values[3]), as_date(values[5]), as_grams(values[7])
    if born is None or day is None or quantity is None:
        raise ValueError("A row with errors reached a step meant for good rows")
    return Judged(
        line=values[0],
        encounter_ref=values[1],
        person_ref=values[2],
        date_of_birth=born,
        borough=lookups.boroughs_by_id[values[4]],
        encounter_date=day,
        substance=values[6],
        quantity=quantity,
        exclusions=tuple(code for code in values[8].split(";") if code),
        accepted=as_bool(values[9]),
        provider_id=values[10],
        outcomes={
            column: as_date(value)
            for column, value in zip(OUTCOME_COLUMNS, values[11:15], strict=True)
        },
    )
