"""seed_demo (SPEC §7): a realistic synthetic pilot, the same for the same seed."""

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from boroughs.models import Borough, OfficerAssignment
from diversion import demo, demo_copy, eligibility, services
from diversion.models import (
    Encounter,
    EncounterExclusion,
    EncounterReason,
    Person,
    Referral,
    Reoffence,
)
from diversion.policies import as_rule
from diversion.referral_status import due_dates

N = 300


@pytest.fixture
def seeded(db) -> str:
    out = StringIO()
    call_command("seed_demo", encounters=N, seed=7, force=True, stdout=out)
    return out.getvalue()


def test_seed_demo_refuses_without_force_when_debug_is_off(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("seed_demo", encounters=10, stdout=StringIO())

    assert not Encounter.objects.exists()
    assert not User.objects.exists()


def test_seed_demo_makes_the_pilot_boroughs_and_exactly_n_encounters(seeded):
    assert Encounter.objects.filter(source="demo").count() == N
    pilots = Borough.objects.filter(role="pilot")
    assert set(pilots.values_list("gss_code", flat=True)) == set(demo.PILOT_BOROUGHS)
    assert set(Borough.objects.filter(role="comparison").values_list("gss_code", flat=True)) == set(
        demo.COMPARISON_BOROUGHS
    )
    assert {b.pilot_start for b in pilots} == {demo.default_pilot_start(timezone.localdate())}
    assert all(b.pilot_end is None for b in pilots)
    assert f"Made {N} encounters" in seeded
    decisions = dict(Encounter.objects.values_list("decision").annotate(n=Count("pk")))
    assert set(decisions) == {"ineligible", "diverted", "declined", "not_offered"}
    assert decisions["diverted"] > decisions["declined"]
    assert Reoffence.objects.filter(source="demo").exists()
    assert Encounter.objects.values("person").distinct().count() < N  # some people return
    assert Encounter.objects.filter(encounter_date__gt=timezone.localdate()).count() == 0


def test_every_diverted_encounter_has_one_referral_with_dates_that_obey_spec_4(seeded):
    today = timezone.localdate()
    diverted = Encounter.objects.filter(decision="diverted")
    referrals = Referral.objects.select_related("encounter__borough", "provider")

    assert referrals.count() == diverted.count() > 0
    assert not referrals.exclude(encounter__decision="diverted").exists()
    for referral in referrals:
        day = referral.encounter.encounter_date
        assert referral.provider is not None
        assert referral.provider.boroughs.filter(pk=referral.encounter.borough_id).exists()
        assert day <= referral.appointment_on <= today
        errors = services.outcome_date_errors(
            encounter_date=day,
            attended_on=referral.attended_on,
            completed_on=referral.completed_on,
            did_not_attend_on=referral.did_not_attend_on,
            withdrawn_on=referral.withdrawn_on,
            today=today,
        )
        assert errors == {}, (referral.encounter.encounter_ref, errors)
    assert referrals.filter(completed_on__isnull=False).count() > referrals.count() // 2


def test_every_referral_has_the_work_queue_columns_the_services_would_give_it(seeded):
    referrals = list(Referral.objects.select_related("encounter"))
    assert any(r.due_on for r in referrals) and any(r.due_on is None for r in referrals)
    for referral in referrals:
        encounter = referral.encounter
        ended = referral.completed_on or referral.did_not_attend_on or referral.withdrawn_on
        expected = due_dates(
            encounter_date=encounter.encounter_date,
            appointment_on=referral.appointment_on,
            attended_on=referral.attended_on,
            ended=ended is not None,
            outcome_days=settings.REFERRAL_OUTCOME_DAYS,
        )
        assert (referral.borough_id, referral.due_on, referral.overdue_from) == (
            encounter.borough_id,
            *expected,
        )


def test_stored_decisions_match_a_reassessment_by_the_real_rule(seeded):
    encounters = Encounter.objects.select_related("person", "borough", "policy")
    diversions: dict[int, list[tuple[date, int]]] = {}
    for e in encounters.filter(decision="diverted"):
        diversions.setdefault(e.person_id, []).append((e.encounter_date, e.pk))
    for encounter in encounters.prefetch_related("reasons", "exclusion_links__factor"):
        facts = eligibility.Facts(
            date_of_birth=encounter.person.date_of_birth,
            encounter_date=encounter.encounter_date,
            substance=encounter.substance,
            quantity_grams=encounter.quantity_grams,
            exclusions=tuple(link.factor.code for link in encounter.exclusion_links.all()),
            previous_diversion_dates=tuple(
                d for d, pk in diversions.get(encounter.person_id, []) if pk != encounter.pk
            ),
            borough_role=encounter.borough.role,
            pilot_start=encounter.borough.pilot_start,
            pilot_end=encounter.borough.pilot_end,
            accepted=encounter.accepted,
        )
        assessment = eligibility.assess(facts, as_rule(encounter.policy))
        assert assessment.decision == encounter.decision, encounter.encounter_ref
        assert assessment.age == encounter.age_at_encounter
        assert assessment.reasons == tuple(r.code for r in encounter.reasons.all())


def test_reasons_are_stored_in_order_from_position_one(seeded):
    rows = EncounterReason.objects.order_by("encounter_id", "position")
    positions: dict[int, list[int]] = {}
    for encounter_id, position in rows.values_list("encounter_id", "position"):
        positions.setdefault(encounter_id, []).append(position)

    assert positions
    assert all(p == list(range(1, len(p) + 1)) for p in positions.values())
    assert Encounter.objects.filter(decision="ineligible").count() == len(positions)


def test_demo_users_sign_in_with_the_demo_password(seeded, client):
    assert f"Demo password: {demo.DEMO_PASSWORD}" in seeded
    for username in ("officer", "analyst", "approver", "admin"):
        # Through the sign-in form: brute-force protection needs the request to see it.
        signed_in = client.post("/sign-in/", {"username": username, "password": demo.DEMO_PASSWORD})
        assert signed_in.status_code == 302, username
        client.post("/sign-out/")
        assert User.objects.get(username=username).groups.filter(name=username).exists()
    assert User.objects.get(username="admin").is_staff
    officer_boroughs = OfficerAssignment.objects.filter(officer__username="officer")
    assert officer_boroughs.count() == 8


def test_seed_demo_again_adds_nothing_and_says_so(seeded):
    people = Person.objects.count()
    out = StringIO()

    call_command("seed_demo", encounters=N, seed=8, force=True, stdout=out)

    assert "Demo data is already in the database, so nothing was added." in out.getvalue()
    assert Encounter.objects.count() == N
    assert Person.objects.count() == people


def test_demo_data_has_no_per_row_history(seeded):
    assert not Encounter.history.exists()
    assert not Referral.history.exists()


# --- the pure generator -------------------------------------------------------------------


POLICY = eligibility.Policy(
    version=1,
    min_age=18,
    max_age=24,
    quantity_limits={"cannabis_herbal": Decimal("25"), "cannabis_resin": Decimal("5")},
    prior_diversion_months=12,
)
SETTING = demo.Setting(
    today=date(2026, 3, 9),
    now=datetime.combine(date(2026, 3, 9), time(12), tzinfo=demo.LONDON),
    start=date(2024, 7, 1),
    boroughs=(
        demo.BoroughSpec(1, "E09000023", "pilot", date(2024, 9, 1), None),
        demo.BoroughSpec(2, "E09000008", "comparison", None, None),
    ),
    providers={1: (10, 11)},
    exclusion_codes=("supply_indicators", "other_offence"),
    policy_for=lambda day: (1, POLICY),
)


def _flatten(seed: int, n: int = 2000, setting: demo.Setting = SETTING) -> list:
    return [
        (chunk.people, chunk.encounters, chunk.reoffences)
        for chunk in demo.generate(seed=seed, encounters=n, setting=setting)
    ]


def test_same_seed_generates_identical_data():
    assert _flatten(42) == _flatten(42)


def test_different_seeds_generate_different_data():
    assert _flatten(42) != _flatten(43)


def test_generator_makes_exactly_n_encounters_with_unique_references():
    n = 12000
    chunks = list(demo.generate(seed=1, encounters=n, setting=SETTING))
    encounters = [e for c in chunks for e in c.encounters]
    people = [p for c in chunks for p in c.people]

    assert len(chunks) > 1  # written in chunks
    assert len(encounters) == n
    assert len({e.encounter_ref for e in encounters}) == n
    assert len({p.person_ref for p in people}) == len(people)
    assert len({p.pseudonym for p in people}) == len(people)
    assert all(SETTING.start <= e.encounter_date <= SETTING.today for e in encounters)
    assert all(e.occurred_at <= SETTING.now for e in encounters)


def test_generator_never_diverts_outside_the_pilot_or_in_comparison_boroughs():
    late_pilot = replace(
        SETTING,
        boroughs=(
            demo.BoroughSpec(1, "E09000023", "pilot", date(2025, 6, 1), date(2025, 12, 31)),
            SETTING.boroughs[1],
        ),
    )
    encounters = [
        e for c in demo.generate(seed=3, encounters=3000, setting=late_pilot) for e in c.encounters
    ]
    diverted = [e for e in encounters if e.decision in ("diverted", "declined")]

    assert diverted
    assert all(e.borough_id == 1 for e in diverted)
    assert all(date(2025, 6, 1) <= e.encounter_date <= date(2025, 12, 31) for e in diverted)
    assert all(e.referral is not None for e in encounters if e.decision == "diverted")
    assert all(e.referral is None for e in encounters if e.decision != "diverted")


def test_demo_users_have_email_addresses_that_never_deliver(seeded):
    for username in ("officer", "analyst", "approver", "admin"):
        assert User.objects.get(username=username).email == f"{username}@example.com"


# --- the PostgreSQL COPY writer -------------------------------------------------------------


def _stored_demo_rows() -> dict[str, list[tuple]]:
    """Every demo row by its references, without ids or write times: what both writers share."""
    encounter_fields = (
        "encounter_ref", "person__person_ref", "borough_id", "encounter_date", "occurred_at",
        "location", "substance", "quantity_grams", "otherwise_disposal", "decision", "accepted",
        "age_at_encounter", "policy_id", "officer_id", "source", "decided_at", "answered_at",
    )  # fmt: skip
    return {
        "people": list(
            Person.objects.order_by("person_ref").values_list(
                "person_ref",
                "pseudonym",
                "first_name",
                "last_name",
                "date_of_birth",
                "gender",
                "ethnicity",
                "pnc_id",
            )  # fmt: skip
        ),
        "encounters": list(
            Encounter.objects.order_by("encounter_ref").values_list(*encounter_fields)
        ),
        "reasons": list(
            EncounterReason.objects.order_by("encounter__encounter_ref", "position").values_list(
                "encounter__encounter_ref", "position", "code"
            )
        ),
        "exclusions": list(
            EncounterExclusion.objects.order_by("encounter__encounter_ref", "position").values_list(
                "encounter__encounter_ref", "position", "factor__code"
            )
        ),
        "referrals": list(
            Referral.objects.order_by("encounter__encounter_ref").values_list(
                "encounter__encounter_ref",
                "provider_id",
                "appointment_on",
                "attended_on",
                "completed_on",
                "did_not_attend_on",
                "withdrawn_on",
                "flagged_at",
                "borough_id",
                "due_on",
                "overdue_from",
            )  # fmt: skip
        ),
        "reoffences": list(
            Reoffence.objects.order_by("source_ref").values_list(
                "person__person_ref",
                "offence_date",
                "offence_type",
                "source_ref",
                "source",
                "entered_by_id",
            )  # fmt: skip
        ),
    }


def _delete_demo_rows() -> None:
    Referral.objects.all().delete()
    Reoffence.objects.all().delete()
    Encounter.objects.all().delete()
    Person.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_writes_exactly_the_rows_bulk_create_writes(db):
    day = date(2026, 3, 9)  # a past day, so no time is clamped to "now" differently
    by_insert = demo.demo_seed(seed=11, encounters=1500, today=day, copy=False)
    inserted = _stored_demo_rows()
    _delete_demo_rows()

    by_copy = demo.demo_seed(seed=11, encounters=1500, today=day, copy=True)

    assert by_copy == by_insert
    assert _stored_demo_rows() == inserted
    assert inserted["exclusions"] and inserted["reasons"] and inserted["reoffences"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_blocks_made_by_worker_processes_are_the_rows_bulk_create_writes(db, monkeypatch):
    # Small blocks, so 1,500 encounters take three of them, made by two forked processes.
    monkeypatch.setattr(demo, "BLOCK_SIZE", 500)
    monkeypatch.setattr(demo_copy, "BLOCK_SIZE", 500)
    monkeypatch.setattr(demo_copy, "PROCESSES", 2)
    day = date(2026, 3, 9)
    by_insert = demo.demo_seed(seed=5, encounters=1500, today=day, copy=False)
    inserted = _stored_demo_rows()
    _delete_demo_rows()

    by_copy = demo.demo_seed(seed=5, encounters=1500, today=day, copy=True)

    assert demo.block_count(1500) == 3
    assert by_copy == by_insert
    assert by_copy["encounters"] == 1500
    assert _stored_demo_rows() == inserted
    # People's ids come from fixed ranges per block; new rows still go after all of them.
    person = Person.objects.create(
        person_ref="PER-NEW", pseudonym="PNEW", first_name="Ann", last_name="Lee",
        date_of_birth=date(2000, 1, 1), gender="female", ethnicity="W1",
    )  # fmt: skip
    assert person.pk > Person.objects.exclude(pk=person.pk).order_by("-pk").first().pk


def test_each_block_is_the_same_whichever_order_blocks_are_made_in():
    keys = demo.Keys.for_seed(9)
    in_order = [
        demo.generate_block(seed=9, block=b, encounters=12000, setting=SETTING, keys=keys)
        for b in range(3)
    ]
    backwards = [
        demo.generate_block(seed=9, block=b, encounters=12000, setting=SETTING) for b in (2, 1, 0)
    ]

    assert in_order == backwards[::-1]
    assert [len(c.encounters) for c in in_order] == [5000, 5000, 2000]


def _schema(tables: tuple[str, ...]) -> tuple[list, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
            [list(tables)],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), condeferred, convalidated"
            " FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1",
            [list(tables)],
        )
        return indexes, cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_big_seed_sets_indexes_and_keys_aside_and_makes_every_one_again(db, monkeypatch):
    tables = tuple(model._meta.db_table for model in demo_copy.MODELS)
    before = _schema(tables)
    monkeypatch.setattr(demo_copy, "REBUILD_FROM", 1)

    call_command("seed_demo", encounters=N, seed=7, force=True, stdout=StringIO())

    assert _schema(tables) == before
    assert len(before[0]) > 20 and len(before[1]) > 20
    assert Encounter.objects.count() == N
    # The sequences were moved past the ids the seed handed out, so new rows fit after them.
    person = Person.objects.create(
        person_ref="PER-NEW", pseudonym="PNEW", first_name="Ann", last_name="Lee",
        date_of_birth=date(2000, 1, 1), gender="female", ethnicity="W1",
    )  # fmt: skip
    assert person.pk > Person.objects.exclude(pk=person.pk).order_by("-pk").first().pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_failed_seed_leaves_no_rows_and_every_index_in_place(db, monkeypatch):
    tables = tuple(model._meta.db_table for model in demo_copy.MODELS)
    before = _schema(tables)
    monkeypatch.setattr(demo_copy, "REBUILD_FROM", 1)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(demo_copy, "_copy_tables", broken)
    with pytest.raises(RuntimeError):
        demo.demo_seed(seed=7, encounters=N)

    assert _schema(tables) == before
    assert not Encounter.objects.exists()
    assert not Person.objects.exists()
