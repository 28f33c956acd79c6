"""Synthetic demo data for the pilot: a pure generator and a fast bulk writer (SPEC §7 seed_demo).

`generate` is pure: given a seed, a count and the setting (boroughs, providers, policy) it yields
the same people, encounters, referrals and reoffences every time, judged by the real rule
(`diversion.eligibility.assess`), a block of `BLOCK_SIZE` encounters at a time. Each block has
its own random source seeded from the seed and the block's number (`generate_block`), so blocks
can be made in parallel. `demo_seed` writes them with ``COPY`` on PostgreSQL (blocks made by
worker processes, `diversion.demo_copy`) and with `bulk_create` elsewhere.

Demo data is synthetic, so it is written without per-row history records: history exists to
audit what people did, and nobody did this.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.utils import timezone

from boroughs.models import Borough
from boroughs.roles import Role
from boroughs.services import borough_configure, officer_assign
from diversion import demo_copy, eligibility
from diversion.choices import (
    Decision,
    EncounterSource,
    OtherwiseDisposal,
    ProviderKind,
    ReoffenceSource,
    Substance,
)
from diversion.demo_rows import (
    BLOCK_SIZE,
    Chunk,
    EncounterRow,
    PersonRow,
    ReferralRow,
    ReoffenceRow,
)
from diversion.facts import encounter_facts
from diversion.models import (
    Encounter,
    EncounterExclusion,
    EncounterReason,
    ExclusionFactor,
    Person,
    Provider,
    Referral,
    Reoffence,
)
from diversion.policies import PolicyBook
from diversion.referral_status import due_dates
from diversion.services import REFERENCE_ALPHABET, exclusion_rows, reason_rows

LONDON = ZoneInfo("Europe/London")
# (B105: the demo password is published in the README for the demo data; not a secret.)
DEMO_PASSWORD = "demo-pilot-password"  # nosec B105
DEMO_USERNAMES: tuple[str, ...] = (Role.OFFICER, Role.ANALYST, Role.APPROVER, Role.ADMIN)
BATCH_SIZE = 5000

PILOT_BOROUGHS = ("E09000022", "E09000028", "E09000023", "E09000012")  # Lambeth … Hackney
COMPARISON_BOROUGHS = ("E09000008", "E09000025", "E09000005", "E09000014")  # Croydon … Haringey
PILOT_MONTHS_AGO = 18

# London-like mixes for young people found with cannabis; weights, not percentages.
GENDERS = (("male", 84), ("female", 14), ("other", 0.5), ("not_stated", 1.5))
ETHNICITIES = (
    ("W1", 30), ("W2", 1), ("W3", 0.3), ("W4", 0.3), ("W9", 10),
    ("M1", 4), ("M2", 2), ("M3", 2), ("M9", 3),
    ("A1", 4), ("A2", 3), ("A3", 4), ("A4", 1), ("A9", 3),
    ("B1", 9), ("B2", 10), ("B9", 5),
    ("O2", 2), ("O9", 3), ("NS", 3),
)  # fmt: skip
# Age at a person's first encounter: mostly in the pilot's 18–24 band, some either side.
AGES = tuple(zip(range(16, 28), (2, 5, 12, 13, 13, 12, 11, 10, 9, 5, 3, 2), strict=True))
SUBSTANCES = (("cannabis_herbal", 82), ("cannabis_resin", 13), ("other", 5))
DISPOSALS = (
    (OtherwiseDisposal.CANNABIS_WARNING.value, 55),
    (OtherwiseDisposal.PENALTY_NOTICE.value, 25),
    (OtherwiseDisposal.ARREST_CHARGE.value, 8),
    (OtherwiseDisposal.NO_FURTHER_ACTION.value, 12),
)
# Extra encounters after a person's first: most people are met once.
REPEATS = ((0, 76), (1, 15), (2, 6), (3, 3))
OFFENCE_TYPES = (
    "Possession of cannabis",
    "Theft from a shop",
    "Common assault",
    "Criminal damage",
    "Possession of a class A drug",
    "Public order offence",
    "Possession of an offensive weapon",
)
FIRST_NAMES = {
    "male": (
        "Adam",
        "Ahmed",
        "Aiden",
        "Alfie",
        "Amir",
        "Ben",
        "Callum",
        "Charlie",
        "Daniel",
        "David",
        "Dylan",
        "Ethan",
        "Harry",
        "Ibrahim",
        "Isaac",
        "Jack",
        "Jacob",
        "Jamal",
        "James",
        "Jayden",
        "Joel",
        "Joshua",
        "Kai",
        "Kwame",
        "Leo",
        "Liam",
        "Luca",
        "Marcus",
        "Mason",
        "Mohammed",
        "Nathan",
        "Oliver",
        "Omar",
        "Oscar",
        "Reece",
        "Ryan",
        "Samuel",
        "Tariq",
        "Theo",
        "Tyler",
        "Yusuf",
        "Zain",
    ),
    "female": (
        "Aaliyah",
        "Amara",
        "Amelia",
        "Aisha",
        "Chloe",
        "Ella",
        "Emily",
        "Fatima",
        "Grace",
        "Hannah",
        "Imani",
        "Isla",
        "Jade",
        "Keisha",
        "Leah",
        "Maya",
        "Mia",
        "Nadia",
        "Olivia",
        "Priya",
        "Ruby",
        "Sophie",
        "Zara",
    ),
    "other": ("Alex", "Charlie", "Jordan", "Riley", "Sam", "Taylor"),
}
FIRST_NAMES["not_stated"] = FIRST_NAMES["other"]
LAST_NAMES = (
    "Adams", "Adebayo", "Ahmed", "Ali", "Allen", "Asante", "Baker", "Begum", "Bennett",
    "Brown", "Campbell", "Chen", "Clarke", "Cohen", "Davies", "Demir", "Edwards", "Evans",
    "Francis", "Green", "Hall", "Harris", "Hassan", "Hughes", "Hussain", "Islam", "Jackson",
    "James", "Johnson", "Jones", "Kaur", "Khan", "King", "Kowalski", "Lee", "Lewis", "Martin",
    "Mensah", "Miah", "Mohamed", "Morris", "Murphy", "Nowak", "Okafor", "Okonkwo", "Osei",
    "Owusu", "Patel", "Phillips", "Popescu", "Rahman", "Reid", "Roberts", "Robinson",
    "Santos", "Shah", "Silva", "Singh", "Smith", "Taylor", "Thomas", "Thompson", "Walker",
    "Ward", "White", "Williams", "Wilson", "Wood", "Wright", "Yilmaz", "Young",
)  # fmt: skip


# --- The setting the generator works in --------------------------------------------------


@dataclass(frozen=True)
class BoroughSpec:
    """A borough taking part, as the generator needs it."""

    id: int
    gss_code: str
    role: str
    pilot_start: date | None
    pilot_end: date | None


@dataclass(frozen=True)
class Setting:
    """Everything outside the seed that the generated data depends on."""

    today: date
    now: datetime  # nothing happens after this moment
    start: date
    boroughs: tuple[BoroughSpec, ...]
    # Borough id -> ids of the providers serving it.
    providers: Mapping[int, tuple[int, ...]]
    exclusion_codes: tuple[str, ...]
    # Day -> (id of the stored policy version in force, its rule).
    policy_for: Callable[[date], tuple[int, eligibility.Policy]]
    outcome_days: int = 28


# --- Pure helpers ------------------------------------------------------------------------


class _Scrambler:
    """A keyed bijection on n-bit integers: unique, random-looking references from a counter.

    Drawing references at random would risk collisions across a million rows; scrambling a
    counter cannot collide, and the key comes from the seeded generator.
    """

    def __init__(self, rng: random.Random, bits: int) -> None:
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.shift = bits // 2
        self.keys = [rng.getrandbits(bits) | 1 for _ in range(3)]
        self.offset = rng.getrandbits(bits)

    def __call__(self, n: int) -> int:
        x = (n + self.offset) & self.mask
        for key in self.keys:  # xorshift and odd multiplication are both invertible
            x ^= x >> self.shift
            x = (x * key) & self.mask
        return x ^ (x >> self.shift)


# Every 10-bit number as its two reference characters, least significant first.
_PAIRS = tuple(REFERENCE_ALPHABET[p & 31] + REFERENCE_ALPHABET[p >> 5] for p in range(1024))


def _encode(number: int) -> str:
    """Return a 40-bit number as 8 reference characters, least significant digit first.

    Four lookups of two characters each give what dividing by 32 eight times would, in a
    fraction of the time, which matters a million times over.
    """
    return (
        _PAIRS[number & 1023]
        + _PAIRS[(number >> 10) & 1023]
        + _PAIRS[(number >> 20) & 1023]
        + _PAIRS[(number >> 30) & 1023]
    )


@dataclass(frozen=True)
class _Table:
    """Values with cumulative weights, ready for one draw each."""

    values: tuple
    cumulative: tuple[float, ...]
    total: float


def _weighted(pairs: Sequence[tuple[object, float]]) -> _Table:
    values = tuple(v for v, _ in pairs)
    cumulative = tuple(itertools.accumulate(float(w) for _, w in pairs))
    return _Table(values, cumulative, cumulative[-1] + 0.0)


GENDER_TABLE = _weighted(GENDERS)
ETHNICITY_TABLE = _weighted(ETHNICITIES)
AGE_TABLE = _weighted(AGES)
SUBSTANCE_TABLE = _weighted(SUBSTANCES)
DISPOSAL_TABLE = _weighted(DISPOSALS)
REPEAT_TABLE = _weighted(REPEATS)


class _Draw:
    """The seeded random source, with the draws the generator makes.

    `pick` is ``random.choices(values, cum_weights=...)[0]`` without building a list: the same
    single ``random()`` call and the same bisection, so a seed still gives the same data.
    """

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)  # nosec B311: seeded so demo data is reproducible
        self.random = self.rng.random
        self.randrange = self.rng.randrange
        self.randint = self.rng.randint
        self.choice = self.rng.choice

    def pick(self, table: _Table) -> Any:
        hi = len(table.cumulative) - 1
        return table.values[bisect.bisect(table.cumulative, self.random() * table.total, 0, hi)]


# BLOCK_SIZE (diversion.demo_rows): encounters per block. Each block has its own random
# source, seeded from the seed and the block's number, so blocks can be made in any order, by
# several processes, and still give the same data for a seed. Changing it changes the data.
# A block's people and reoffences are numbered from block << BLOCK_BITS, so references made
# from those numbers never collide across blocks (a block has at most BLOCK_SIZE people).
BLOCK_BITS = 20


@dataclass(frozen=True)
class Keys:
    """The reference makers for a seed, shared by all its blocks."""

    encounter_ref: _Scrambler
    person_ref: _Scrambler
    pseudonym: _Scrambler
    reoffence_ref: _Scrambler

    @classmethod
    def for_seed(cls, seed: int) -> Keys:
        rng = random.Random(seed)  # nosec B311: seeded so demo data is reproducible
        return cls(
            _Scrambler(rng, 40), _Scrambler(rng, 40), _Scrambler(rng, 64), _Scrambler(rng, 40)
        )


class _State:
    """Where the generator has got to in one block: random source, counters, references."""

    def __init__(self, seed: int, setting: Setting, *, keys: Keys, block: int = 0) -> None:
        if not setting.boroughs:
            raise ValueError("No borough is taking part, so there is nowhere to record encounters")
        self.setting = setting
        self.draw = _Draw(f"{seed}:{block}")
        self.encounter_ref = keys.encounter_ref
        self.person_ref = keys.person_ref
        self.pseudonym = keys.pseudonym
        self.reoffence_ref = keys.reoffence_ref
        weights = [3 if b.role == Borough.Role.PILOT else 2 for b in setting.boroughs]
        self.homes = _weighted(list(zip(setting.boroughs, weights, strict=True)))
        self.span = (setting.today - setting.start).days
        self.made = block * BLOCK_SIZE
        self.people = block << BLOCK_BITS
        self.reoffences = block << BLOCK_BITS


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_pilot_start(today: date) -> date:
    """Return the first of the month about 18 months before ``today``."""
    return eligibility.subtract_months(today, PILOT_MONTHS_AGO).replace(day=1)


def _quantity(rng: random.Random, substance: str) -> Decimal:
    """Return a weighed amount: mostly small, a few over the usual limits."""
    if substance == Substance.CANNABIS_HERBAL:
        grams = rng.uniform(26, 60) if rng.random() < 0.04 else rng.lognormvariate(1.1, 0.75)
    elif substance == Substance.CANNABIS_RESIN:
        grams = rng.uniform(5.5, 15) if rng.random() < 0.05 else rng.uniform(0.2, 4.5)
    else:
        grams = rng.uniform(0.1, 3)
    return Decimal(f"{max(grams, 0.1):.2f}")


def block_count(encounters: int) -> int:
    """Return how many blocks ``encounters`` encounters take."""
    return -(-encounters // BLOCK_SIZE)


def generate_block(
    *, seed: int, block: int, encounters: int, setting: Setting, keys: Keys | None = None
) -> Chunk:
    """Return one block: people with their encounters, the block's share of ``encounters``.

    Block N holds encounters N * BLOCK_SIZE up to the next block's first (the last block may
    be short). Each person's encounters are judged in date order by the real rule, with their
    earlier diversions tracked in memory; the rule looks at nobody else, so judging person by
    person gives the same decisions as judging everyone in date order.
    """
    state = _State(seed, setting, keys=keys or Keys.for_seed(seed), block=block)
    end = min(encounters, (block + 1) * BLOCK_SIZE)
    chunk = Chunk()
    while state.made < end:
        _person_and_events(state, chunk, room=end - state.made)
    return chunk


def generate(*, seed: int, encounters: int, setting: Setting) -> Iterator[Chunk]:
    """Yield people with their encounters (exactly ``encounters`` of them), a block at a time."""
    keys = Keys.for_seed(seed)
    for block in range(block_count(encounters)):
        yield generate_block(
            seed=seed, block=block, encounters=encounters, setting=setting, keys=keys
        )


def _person_and_events(state: _State, chunk: Chunk, *, room: int) -> None:
    """Add one person, their encounters (at most ``room``) and later offences to ``chunk``."""
    person, first_day = _person(state)
    chunk.people.append(person)
    home = state.draw.pick(state.homes)
    diversions: list[date] = []
    for day in _encounter_days(state, first_day)[:room]:
        chunk.encounters.append(_encounter(state, person, day, home, diversions))
    chunk.reoffences.extend(_reoffences(state, person.index, first_day, bool(diversions)))
    state.people += 1


def _person(state: _State) -> tuple[PersonRow, date]:
    """Make the next person and the day they are first met."""
    draw, index = state.draw, state.people
    gender = draw.pick(GENDER_TABLE)
    first_day = state.setting.start + timedelta(days=draw.randrange(state.span + 1))
    age = draw.pick(AGE_TABLE)
    date_of_birth = _add_years(first_day, -age - 1) + timedelta(days=draw.randrange(1, 366))
    if date_of_birth >= first_day:
        date_of_birth = first_day - timedelta(days=1)
    first_name = draw.choice(FIRST_NAMES[gender])
    last_name = draw.choice(LAST_NAMES)
    person = PersonRow(
        index=index,
        person_ref="PER-" + _encode(state.person_ref(index)),
        pseudonym=f"P{state.pseudonym(index):016x}",
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        gender=gender,
        ethnicity=draw.pick(ETHNICITY_TABLE),
    )
    return person, first_day


def _encounter_days(state: _State, first_day: date) -> list[date]:
    """Return the days a person is met: the first, then most people never again."""
    draw, today = state.draw, state.setting.today
    days = [first_day]
    for _ in range(draw.pick(REPEAT_TABLE)):
        later = days[-1] + timedelta(days=draw.randint(14, 300))
        if later > today:
            break
        days.append(later)
    return days


def _reoffences(
    state: _State, person_index: int, first_day: date, diverted: bool
) -> list[ReoffenceRow]:
    """Return further offences after the first encounter, fewer for those diverted."""
    draw, today = state.draw, state.setting.today
    if draw.random() >= (0.14 if diverted else 0.22):
        return []
    rows = []
    offence_day = first_day
    for _ in range(draw.choice((1, 1, 1, 2))):
        offence_day = offence_day + timedelta(days=draw.randint(7, 330))
        if offence_day > today:
            break
        rows.append(
            ReoffenceRow(
                person_index=person_index,
                offence_date=offence_day,
                offence_type=draw.choice(OFFENCE_TYPES),
                source_ref="PNC-" + _encode(state.reoffence_ref(state.reoffences)),
            )
        )
        state.reoffences += 1
    return rows


def _exclusions(draw: _Draw, codes: tuple[str, ...]) -> tuple[str, ...]:
    """Return the exclusion factors present: none at most encounters."""
    if not codes or draw.random() >= 0.07:
        return ()
    if len(codes) == 1:
        return codes
    return tuple(draw.rng.sample(codes, 2 if draw.random() < 0.15 else 1))


def _occurred_at(draw: _Draw, setting: Setting, day: date) -> datetime:
    """Return when on ``day`` the encounter happened: never after ``setting.now``."""
    midnight = datetime.combine(day, time(0, 0), tzinfo=LONDON)
    minutes = draw.randrange(10 * 60, 24 * 60)  # 10:00 to 23:59, when most stops happen
    if day >= setting.today:  # today: some time before now
        minutes = min(minutes, max(int((setting.now - midnight).total_seconds() // 60) - 10, 0))
    return midnight + timedelta(minutes=minutes)


def _encounter(
    state: _State, person: PersonRow, day: date, home: BoroughSpec, diversions: list[date]
) -> EncounterRow:
    """Make one encounter of ``person`` on ``day`` and judge it; note a diversion."""
    draw, setting = state.draw, state.setting
    borough = home if draw.random() < 0.9 else draw.choice(setting.boroughs)
    substance = draw.pick(SUBSTANCE_TABLE)
    quantity = _quantity(draw.rng, substance)
    exclusions = _exclusions(draw, setting.exclusion_codes)
    occurred_at = _occurred_at(draw, setting, day)
    accepted = draw.random() < 0.8
    policy_id, rule = setting.policy_for(day)
    facts = encounter_facts(
        person=person,
        borough=borough,
        encounter_date=day,
        substance=substance,
        quantity_grams=quantity,
        exclusions=exclusions,
        diversion_dates=diversions,
        accepted=accepted,
    )
    assessment = eligibility.assess(facts, rule)
    decision = assessment.decision.value
    referral = None
    if decision == Decision.DIVERTED:
        diversions.append(day)
        referral = _referral(draw, setting, borough.id, day)
    reference = "ENC-" + _encode(state.encounter_ref(state.made))
    state.made += 1
    return EncounterRow(
        person_index=person.index,
        encounter_ref=reference,
        borough_id=borough.id,
        encounter_date=day,
        occurred_at=occurred_at,
        substance=substance,
        quantity_grams=quantity,
        otherwise_disposal=draw.pick(DISPOSAL_TABLE),
        exclusions=exclusions,
        decision=decision,
        accepted=accepted if assessment.offered else None,
        age=assessment.age,
        policy_id=policy_id,
        reasons=assessment.reasons,
        referral=referral,
    )


def _referral(draw: _Draw, setting: Setting, borough_id: int, day: date) -> ReferralRow:
    """Make a referral whose dates obey SPEC §4: none before the encounter or after today."""
    today = setting.today
    providers = setting.providers.get(borough_id, ())
    provider_id = draw.choice(providers) if providers else None
    appointment = min(day + timedelta(days=draw.randint(2, 21)), today)
    outcomes = _outcomes(draw, day, appointment)
    # Whatever has not happened yet by today stays open; completion needs the attendance.
    attended, completed, did_not_attend, withdrawn = (
        d if d is not None and d <= today else None for d in outcomes
    )
    if attended is None:
        completed = None
    # The daily check flags a referral still without an outcome N days after the encounter.
    flag_day = day + timedelta(days=setting.outcome_days)
    ended = completed or did_not_attend or withdrawn
    flagged_at = None
    if flag_day <= today and (ended is None or ended > flag_day):
        flagged_at = datetime.combine(flag_day, time(5, 30), tzinfo=LONDON)
    due_on, overdue_from = due_dates(
        encounter_date=day,
        appointment_on=appointment,
        attended_on=attended,
        ended=ended is not None,
        outcome_days=setting.outcome_days,
    )
    return ReferralRow(
        provider_id=provider_id,
        appointment_on=appointment,
        attended_on=attended,
        completed_on=completed,
        did_not_attend_on=did_not_attend,
        withdrawn_on=withdrawn,
        flagged_at=flagged_at,
        due_on=due_on,
        overdue_from=overdue_from,
    )


def _outcomes(draw: _Draw, day: date, appointment: date) -> tuple[date | None, ...]:
    """Return (attended, completed, did not attend, withdrawn) as they will turn out."""
    roll = draw.random()
    if roll < 0.72:  # attends, and most then complete
        attended = appointment + timedelta(days=draw.randint(0, 3))
        completed = None
        if draw.random() < 0.93:
            completed = attended + timedelta(days=draw.choice((0, 0, 0, 7, 14, 21)))
        return attended, completed, None, None
    if roll < 0.87:
        return None, None, appointment, None
    if roll < 0.93:
        return None, None, None, day + timedelta(days=draw.randint(1, 20))
    return None, None, None, None


# --- Writing to the database -------------------------------------------------------------


def demo_data_exists() -> bool:
    """Say whether demo encounters are already stored."""
    return Encounter.objects.filter(source=EncounterSource.DEMO).exists()


def demo_boroughs_ensure(*, today: date) -> list[Borough]:
    """Return the boroughs taking part, configuring the demo pilot if none does yet."""
    taking_part = list(Borough.objects.exclude(role=Borough.Role.NONE).order_by("gss_code"))
    if taking_part:
        return taking_part
    start = default_pilot_start(today)
    for code in PILOT_BOROUGHS:
        borough_configure(gss_code=code, role="pilot", pilot_start=start, change_reason="seed_demo")
    for code in COMPARISON_BOROUGHS:
        borough_configure(gss_code=code, role="comparison", change_reason="seed_demo")
    return list(Borough.objects.exclude(role=Borough.Role.NONE).order_by("gss_code"))


def demo_providers_ensure(*, boroughs: Sequence[Borough]) -> dict[int, tuple[int, ...]]:
    """Make drug-education and counselling services for the pilot boroughs, if missing."""
    pilots = [b for b in boroughs if b.role == Borough.Role.PILOT]
    wanted = [
        ("South London Cannabis Education Service", ProviderKind.DRUG_EDUCATION, pilots),
        ("Open Door Young People's Counselling", ProviderKind.COUNSELLING, pilots),
    ] + [
        (f"{b.name} Young People's Drug Service", ProviderKind.DRUG_EDUCATION, [b]) for b in pilots
    ]
    for name, kind, served in wanted:
        provider, _ = Provider.objects.get_or_create(name=name, defaults={"kind": kind})
        provider.boroughs.add(*served)
    serving: dict[int, list[int]] = {}
    links = Provider.boroughs.through.objects.filter(provider__active=True).order_by("provider_id")
    for provider_id, borough_id in links.values_list("provider_id", "borough_id"):
        serving.setdefault(borough_id, []).append(provider_id)
    return {borough_id: tuple(ids) for borough_id, ids in serving.items()}


def demo_users_ensure(*, password: str, boroughs: Sequence[Borough]) -> dict[str, bool]:
    """Make one user per role; return, per username, whether it was created just now.

    Existing users keep their password: seeding must never take over a real account.
    """
    created_now: dict[str, bool] = {}
    for username in DEMO_USERNAMES:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": username.capitalize(),
                "last_name": "Demo",
                # example.com never delivers, so the workflow emails have somewhere to go.
                "email": f"{username}@example.com",
                "is_staff": username == Role.ADMIN,
                "is_superuser": username == Role.ADMIN,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=username))
        created_now[username] = created
        if username == Role.OFFICER:
            for borough in boroughs:
                officer_assign(officer=user, borough=borough)
    return created_now


def _encounters(
    chunk: Chunk, officer: User | None, person_ids: Mapping[int, int]
) -> list[Encounter]:
    """Build unsaved encounters for a chunk whose people are already saved."""
    built = []
    for row in chunk.encounters:
        decided_at = row.occurred_at + timedelta(minutes=5)
        built.append(
            Encounter(
                encounter_ref=row.encounter_ref,
                person_id=person_ids[row.person_index],
                borough_id=row.borough_id,
                encounter_date=row.encounter_date,
                occurred_at=row.occurred_at,
                substance=row.substance,
                quantity_grams=row.quantity_grams,
                otherwise_disposal=row.otherwise_disposal,
                decision=row.decision,
                accepted=row.accepted,
                age_at_encounter=row.age,
                policy_id=row.policy_id,
                officer=officer,
                source=EncounterSource.DEMO,
                decided_at=decided_at,
                answered_at=decided_at if row.accepted is not None else None,
            )
        )
    return built


def demo_setting(*, today: date, boroughs: Sequence[Borough]) -> Setting:
    """Return the setting the generator works in: boroughs, providers, policies, factors."""
    providers = demo_providers_ensure(boroughs=boroughs)
    book = PolicyBook()
    policy_cache: dict[date, tuple[int, eligibility.Policy]] = {}

    def policy_for(day: date) -> tuple[int, eligibility.Policy]:
        if day not in policy_cache:
            model, rule = book.in_force(day)
            policy_cache[day] = (model.pk, rule)
        return policy_cache[day]

    pilot_starts = [b.pilot_start for b in boroughs if b.pilot_start]
    start = min(pilot_starts) if pilot_starts else default_pilot_start(today)
    return Setting(
        today=today,
        now=timezone.now(),
        # A couple of months before the pilot, so pilot boroughs have a "before" too.
        start=min(start - timedelta(days=61), today),
        boroughs=tuple(
            BoroughSpec(b.pk, b.gss_code, b.role, b.pilot_start, b.pilot_end) for b in boroughs
        ),
        providers=providers,
        exclusion_codes=tuple(
            ExclusionFactor.objects.filter(active=True).values_list("code", flat=True)
        ),
        policy_for=policy_for,
        outcome_days=settings.REFERRAL_OUTCOME_DAYS,
    )


def demo_seed(
    *,
    seed: int,
    encounters: int,
    password: str = DEMO_PASSWORD,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    copy: bool | None = None,
) -> dict[str, int]:
    """Create the demo pilot and ``encounters`` synthetic encounters, all or nothing.

    Return counts of what was made. Call `demo_data_exists` first: this does not check.
    PostgreSQL gets the rows by ``COPY`` (`diversion.demo_copy`) unless ``copy`` is False,
    other databases by `bulk_create`; both write exactly what `generate` yields.
    """
    if copy is None:
        copy = connection.vendor == "postgresql"
    today = today or timezone.localdate()
    counts = {"people": 0, "encounters": 0, "referrals": 0, "reoffences": 0}

    def counted(made: Mapping[str, int]) -> None:
        for name, number in made.items():
            counts[name] += number
        if progress is not None:
            progress(counts["encounters"], encounters)

    with transaction.atomic():
        boroughs = demo_boroughs_ensure(today=today)
        setting = demo_setting(today=today, boroughs=boroughs)
        demo_users_ensure(password=password, boroughs=boroughs)
        officer = User.objects.get(username=Role.OFFICER)
        factor_ids = dict(ExclusionFactor.objects.values_list("code", "pk"))
        if copy:
            keys = Keys.for_seed(seed)
            demo_copy.copy_blocks(
                partial(
                    generate_block, seed=seed, encounters=encounters, setting=setting, keys=keys
                ),
                blocks=block_count(encounters),
                rebuild=encounters >= demo_copy.REBUILD_FROM,
                officer_id=officer.pk,
                factor_ids=factor_ids,
                now=timezone.now(),
                on_counts=counted,
            )
            return counts
        for chunk in generate(seed=seed, encounters=encounters, setting=setting):
            _chunk_write(chunk, officer=officer, factor_ids=factor_ids)
            # With DEBUG on Django keeps every query's SQL; bulk inserts would fill memory.
            connection.queries_log.clear()
            counted(demo_copy.chunk_counts(chunk))
    return counts


def _chunk_write(
    chunk: Chunk,
    *,
    officer: User,
    factor_ids: Mapping[str, int],
) -> None:
    """Insert one chunk with a handful of bulk inserts and no per-row queries."""
    people = Person.objects.bulk_create(
        [
            Person(
                person_ref=row.person_ref,
                pseudonym=row.pseudonym,
                first_name=row.first_name,
                last_name=row.last_name,
                date_of_birth=row.date_of_birth,
                gender=row.gender,
                ethnicity=row.ethnicity,
            )
            for row in chunk.people
        ],
        batch_size=BATCH_SIZE,
    )
    person_ids = {row.index: person.pk for row, person in zip(chunk.people, people, strict=True)}
    encounters = Encounter.objects.bulk_create(
        _encounters(chunk, officer, person_ids), batch_size=BATCH_SIZE
    )
    reasons: list[EncounterReason] = []
    exclusions: list[EncounterExclusion] = []
    referrals: list[Referral] = []
    for row, encounter in zip(chunk.encounters, encounters, strict=True):
        reasons.extend(reason_rows(encounter.pk, row.reasons))
        exclusions.extend(exclusion_rows(encounter.pk, (factor_ids[c] for c in row.exclusions)))
        if row.referral is not None:
            r = row.referral
            referrals.append(
                Referral(
                    encounter_id=encounter.pk,
                    provider_id=r.provider_id,
                    appointment_on=r.appointment_on,
                    attended_on=r.attended_on,
                    completed_on=r.completed_on,
                    did_not_attend_on=r.did_not_attend_on,
                    withdrawn_on=r.withdrawn_on,
                    flagged_at=r.flagged_at,
                    borough_id=row.borough_id,
                    due_on=r.due_on,
                    overdue_from=r.overdue_from,
                )
            )
    EncounterReason.objects.bulk_create(reasons, batch_size=BATCH_SIZE)
    EncounterExclusion.objects.bulk_create(exclusions, batch_size=BATCH_SIZE)
    Referral.objects.bulk_create(referrals, batch_size=BATCH_SIZE)
    Reoffence.objects.bulk_create(
        [
            Reoffence(
                person_id=person_ids[row.person_index],
                offence_date=row.offence_date,
                offence_type=row.offence_type,
                source_ref=row.source_ref,
                source=ReoffenceSource.DEMO,
            )
            for row in chunk.reoffences
        ],
        batch_size=BATCH_SIZE,
    )
