"""People, encounters and their decisions, referrals and outcomes, and the policy that judges.

Rules live in `diversion.eligibility` (the decision) and `diversion.services` (writes); the
models hold data and the constraints the database can keep.
"""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Upper
from django.urls import reverse
from simple_history.models import HistoricalRecords

from boroughs.models import Borough
from diversion.choices import (
    Decision,
    EncounterSource,
    Ethnicity,
    Gender,
    LeapDayRule,
    OtherwiseDisposal,
    ProviderKind,
    ReoffenceSource,
    Substance,
)
from diversion.referral_status import NO_TERMINAL_OUTCOME
from diversion.validators import (
    PlainTextValidator,
    ReferenceValidator,
    validate_date_of_birth,
    validate_grams,
    validate_past_date,
)


class ExclusionFactor(models.Model):
    """Something that rules diversion out (e.g. signs of supply); admins add or retire them."""

    code = models.SlugField(max_length=50, unique=True, help_text="Used in imports and reasons")
    label = models.CharField(
        max_length=200,
        help_text="Plain English, shown to officers",
        validators=[PlainTextValidator("the label")],
    )
    active = models.BooleanField(default=True, help_text="Retired factors stay on old records")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the form")

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label


class EligibilityPolicy(models.Model):
    """One version of the eligibility rules, in force from `effective_from` until the next."""

    version = models.PositiveIntegerField(unique=True)
    effective_from = models.DateField(unique=True)
    min_age = models.PositiveSmallIntegerField("minimum age", default=18)
    max_age = models.PositiveSmallIntegerField("maximum age", default=24)
    prior_diversion_months = models.PositiveSmallIntegerField(
        "previous diversion window (months)", default=12
    )
    leap_day_rule = models.CharField(
        "birthday of people born on 29 February",
        max_length=20,
        choices=LeapDayRule.choices,
        default=LeapDayRule.MARCH_1,
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_from"]
        verbose_name_plural = "eligibility policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(min_age__lte=F("max_age")),
                name="policy_min_age_not_above_max",
                violation_error_message="The minimum age must not be above the maximum age.",
            ),
            models.CheckConstraint(
                condition=Q(prior_diversion_months__gte=1),
                name="policy_window_at_least_one_month",
                violation_error_message="The previous diversion window must be at least 1 month.",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.version} (from {self.effective_from:%-d %B %Y})"


class SubstanceLimit(models.Model):
    """An eligible substance and its quantity limit (inclusive) under one policy version."""

    policy = models.ForeignKey(EligibilityPolicy, on_delete=models.CASCADE, related_name="limits")
    substance = models.CharField(max_length=20, choices=Substance.choices)
    max_grams = models.DecimalField(max_digits=8, decimal_places=3, validators=[validate_grams])

    history = HistoricalRecords()

    class Meta:
        ordering = ["substance"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "substance"], name="limit_one_per_substance"),
            models.CheckConstraint(condition=Q(max_grams__gt=0), name="limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_substance_display()} up to {self.max_grams.normalize():f} g"


class Person(models.Model):
    """Someone an officer met. Names and date of birth never leave the officer's view."""

    person_ref = models.CharField(
        "person reference",
        max_length=64,
        validators=[ReferenceValidator("the person reference")],
    )
    pseudonym = models.CharField(max_length=32, editable=False)
    first_name = models.CharField(max_length=100, validators=[PlainTextValidator("the first name")])
    last_name = models.CharField(max_length=100, validators=[PlainTextValidator("the surname")])
    date_of_birth = models.DateField(validators=[validate_date_of_birth])
    gender = models.CharField(max_length=12, choices=Gender.choices)
    ethnicity = models.CharField(max_length=2, choices=Ethnicity.choices)
    pnc_id = models.CharField(
        "PNC ID", max_length=20, blank=True, validators=[PlainTextValidator("the PNC ID")]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the name, date of birth and PNC ID were removed (diversion.retention)",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name_plural = "people"
        indexes = [
            # Officers find people by surname (any case) and date of birth, and open a record
            # by its reference typed in any case: indexes on what those look-ups compare, so
            # they stay quick at a million rows (issue 8).
            models.Index(Upper("last_name"), "date_of_birth", name="person_surname_upper_dob"),
            models.Index(Upper("person_ref"), name="person_ref_upper"),
        ]
        constraints = [
            # Declared here rather than as unique=True, which on PostgreSQL also builds a
            # varchar_pattern_ops copy of each index for LIKE, which nothing here runs: two
            # unused indexes that every import and seeding had to build (issue 8).
            models.UniqueConstraint(fields=["person_ref"], name="person_ref_unique"),
            models.UniqueConstraint(fields=["pseudonym"], name="person_pseudonym_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Provider(models.Model):
    """A drug-education or counselling service that takes referrals in some boroughs."""

    name = models.CharField(
        max_length=200, unique=True, validators=[PlainTextValidator("the provider's name")]
    )
    kind = models.CharField(max_length=20, choices=ProviderKind.choices)
    boroughs = models.ManyToManyField(Borough, related_name="providers", blank=True)
    active = models.BooleanField(default=True)

    history = HistoricalRecords(m2m_fields=[boroughs])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Encounter(models.Model):
    """An officer's encounter with a person found with cannabis, and its stored decision."""

    encounter_ref = models.CharField(
        "encounter reference",
        max_length=64,
        validators=[ReferenceValidator("the encounter reference")],
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="encounters")
    borough = models.ForeignKey(Borough, on_delete=models.PROTECT, related_name="encounters")
    encounter_date = models.DateField(db_index=True, validators=[validate_past_date])
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="Empty for imports")
    location = models.CharField(
        max_length=200, blank=True, validators=[PlainTextValidator("the location")]
    )
    substance = models.CharField(max_length=20, choices=Substance.choices)
    quantity_grams = models.DecimalField(
        max_digits=8, decimal_places=3, validators=[validate_grams]
    )
    otherwise_disposal = models.CharField(
        "disposal otherwise given",
        max_length=20,
        choices=OtherwiseDisposal.choices,
        blank=True,
        help_text="What the person would have received without the pilot",
    )
    exclusions: "models.ManyToManyField[ExclusionFactor, EncounterExclusion]" = (
        models.ManyToManyField(
            ExclusionFactor, through="EncounterExclusion", related_name="encounters", blank=True
        )
    )
    decision = models.CharField(max_length=12, choices=Decision.choices)
    accepted = models.BooleanField(null=True, blank=True)
    age_at_encounter = models.PositiveSmallIntegerField()
    policy = models.ForeignKey(
        EligibilityPolicy, on_delete=models.PROTECT, related_name="encounters"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="encounters",
    )
    source = models.CharField(
        max_length=10, choices=EncounterSource.choices, default=EncounterSource.OFFICER
    )
    decided_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # History is read by record (the admin's history page) and by person (retention); the
    # other copied indexes only slowed every write and import (issue 8).
    history = HistoricalRecords(no_db_index=["encounter_date", "borough", "officer", "policy"])

    class Meta:
        ordering = ["-encounter_date", "-encounter_ref"]
        indexes = [
            models.Index(fields=["decision"], name="encounter_decision"),
            # An encounter reference typed in any case opens it (issue 8: a scan of every
            # encounter without it).
            models.Index(Upper("encounter_ref"), name="encounter_ref_upper"),
            models.Index(fields=["person", "encounter_date"], name="encounter_person_date"),
            models.Index(fields=["borough", "encounter_date"], name="encounter_borough_date"),
            # "My recent encounters" on the officer's home page: ten rows off this index.
            models.Index(
                fields=["officer", "-encounter_date", "-created_at", "-id"],
                name="encounter_officer_recent",
            ),
            # The work queue joins open referrals to their encounters: only diverted ones
            # have referrals, so this reads about a quarter of an officer's boroughs.
            models.Index(
                fields=["borough", "encounter_date"],
                name="encounter_diverted_borough",
                condition=Q(decision="diverted"),
            ),
        ]
        constraints = [
            # Not unique=True: see Person's constraints.
            models.UniqueConstraint(fields=["encounter_ref"], name="encounter_ref_unique"),
            models.CheckConstraint(
                condition=Q(quantity_grams__gt=0), name="encounter_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values), name="encounter_decision_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(decision="diverted", accepted=True)
                    | Q(decision="declined", accepted=False)
                    | Q(
                        decision__in=["ineligible", "not_offered", "offered"], accepted__isnull=True
                    )
                ),
                name="encounter_accepted_matches_decision",
            ),
        ]

    def __str__(self) -> str:
        return self.encounter_ref

    def get_absolute_url(self) -> str:
        return reverse("diversion:encounter_detail", kwargs={"encounter_ref": self.encounter_ref})


class EncounterExclusion(models.Model):
    """An exclusion factor present at an encounter, in the order the officer gave it."""

    encounter = models.ForeignKey(
        Encounter, on_delete=models.CASCADE, related_name="exclusion_links"
    )
    factor = models.ForeignKey(ExclusionFactor, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["encounter", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["encounter", "factor"], name="exclusion_once_per_encounter"
            ),
            models.UniqueConstraint(
                fields=["encounter", "position"], name="exclusion_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.encounter_id}: {self.factor_id}"


class EncounterReason(models.Model):
    """One broken rule behind an ineligible decision, in SPEC §3's order.

    Kept as rows so reports count reasons in the database.
    """

    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="reasons")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=80)

    class Meta:
        ordering = ["encounter", "position"]
        indexes = [models.Index(fields=["code"], name="reason_code")]
        constraints = [
            models.UniqueConstraint(
                fields=["encounter", "position"], name="reason_position_unique"
            ),
            models.UniqueConstraint(fields=["encounter", "code"], name="reason_once_per_encounter"),
        ]

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    """The one referral of a diverted encounter; its status is derived from the dates."""

    encounter = models.OneToOneField(Encounter, on_delete=models.PROTECT, related_name="referral")
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    appointment_on = models.DateField("appointment date", null=True, blank=True)
    attended_on = models.DateField(null=True, blank=True, validators=[validate_past_date])
    completed_on = models.DateField(null=True, blank=True, validators=[validate_past_date])
    did_not_attend_on = models.DateField(null=True, blank=True, validators=[validate_past_date])
    withdrawn_on = models.DateField(null=True, blank=True, validators=[validate_past_date])
    flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the daily check found no outcome in time"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # What the work queue filters and sorts by, kept by the services that change a referral
    # (referral_status.due_dates), so the queue is one index read in its own order (issue 8).
    borough = models.ForeignKey(
        Borough,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # Leads the referral_due_borough index.
        help_text="The encounter's borough",
    )
    due_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="First day it needs the officer; empty once it has a final outcome",
    )
    overdue_from = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="The day its days overdue count from",
    )
    # Computed by the database from the row itself, so no writer can get it wrong: whether a
    # missed appointment is what the days overdue count from (the part of
    # referral_status.appointment_due_q that does not depend on today). A column of its own so
    # PostgreSQL keeps statistics on it: it cannot estimate a comparison of two columns, and
    # guessed the filtered queue held 6 rows of 18,000, then read and sorted them all.
    overdue_for_appointment = models.GeneratedField(
        expression=Case(
            When(
                Q(attended_on__isnull=True, appointment_on=F("overdue_from")),
                then=Value(True),
            ),
            default=Value(False),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    # Derived columns are not history: the dates they come from are.
    history = HistoricalRecords(
        excluded_fields=["borough", "due_on", "overdue_from", "overdue_for_appointment"],
        no_db_index=["encounter", "provider"],
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The officer's work queue reads only referrals with no final outcome, most overdue
            # first: a LIMIT off these partial indexes reads only the rows it shows, where a
            # sort of every due referral grew with history (issue 8). By borough for one
            # borough (and for few rows in many); by date alone when the officer's boroughs
            # hold most of them.
            models.Index(
                fields=["borough", "overdue_from", "id"],
                name="referral_due_borough",
                condition=NO_TERMINAL_OUTCOME,
            ),
            models.Index(
                fields=["overdue_from", "id"],
                name="referral_due",
                condition=NO_TERMINAL_OUTCOME,
            ),
            # The queue filtered to missed appointments, read the same way.
            models.Index(
                fields=["overdue_from", "id"],
                name="referral_due_appointment",
                condition=NO_TERMINAL_OUTCOME & Q(overdue_for_appointment=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(completed_on__isnull=False, did_not_attend_on__isnull=False)
                & ~Q(completed_on__isnull=False, withdrawn_on__isnull=False)
                & ~Q(did_not_attend_on__isnull=False, withdrawn_on__isnull=False),
                name="referral_one_terminal_outcome",
                violation_error_message=(
                    "A referral can have only one of completed, did not attend or withdrawn."
                ),
            ),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True)
                | Q(attended_on__isnull=False, attended_on__lte=F("completed_on")),
                name="referral_completion_needs_attendance",
                violation_error_message="Completion needs an attendance on or before it.",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral for {self.encounter_id}"


class Reoffence(models.Model):
    """A further offence of a known person, entered by an officer or matched from records."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="reoffences")
    offence_date = models.DateField(db_index=True, validators=[validate_past_date])
    offence_type = models.CharField(
        max_length=200, validators=[PlainTextValidator("the type of offence")]
    )
    source_ref = models.CharField(
        "source reference",
        max_length=100,
        blank=True,
        validators=[PlainTextValidator("the source reference")],
    )
    source = models.CharField(max_length=10, choices=ReoffenceSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-offence_date"]
        indexes = [models.Index(fields=["person", "offence_date"], name="reoffence_person_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "offence_date", "offence_type", "source_ref"],
                name="reoffence_unique_match",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offence_type} on {self.offence_date}"
