"""London boroughs and their role in the pilot; officers' borough assignments."""

from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from simple_history import register
from simple_history.models import HistoricalRecords

from boroughs.choices import BoroughRole
from boroughs.roles import SERVICE_PERMISSIONS
from diversion.eligibility import in_pilot  # the pure rule owns what "in the pilot" means


class Borough(models.Model):
    """One of the 33 London local authorities, identified by its ONS GSS code."""

    Role = BoroughRole  # the one list of roles, also used by the eligibility rule

    gss_code = models.CharField(
        "GSS code",
        max_length=9,
        unique=True,
        validators=[RegexValidator(r"^E09\d{6}$", "Enter a GSS code like E09000023")],
    )
    name = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.NONE)
    pilot_start = models.DateField("pilot start", null=True, blank=True)
    pilot_end = models.DateField("pilot end", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["pilot", "comparison", "none"]),
                name="borough_role_valid",
                violation_error_message="Choose pilot, comparison or none.",
            ),
            models.CheckConstraint(
                condition=~Q(role="pilot") | Q(pilot_start__isnull=False),
                name="borough_pilot_has_start",
                violation_error_message="A pilot borough needs a pilot start date.",
            ),
            models.CheckConstraint(
                condition=Q(pilot_end__isnull=True)
                | Q(pilot_start__isnull=False, pilot_end__gte=F("pilot_start")),
                name="borough_pilot_end_not_before_start",
                violation_error_message="The pilot end date must be on or after its start date.",
            ),
            models.CheckConstraint(
                condition=Q(role="pilot") | Q(pilot_start__isnull=True, pilot_end__isnull=True),
                name="borough_dates_only_for_pilot",
                violation_error_message="Only a pilot borough has pilot dates.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_piloting_on(self, day: date) -> bool:
        """Say whether diversion is offered here on ``day`` (start and end inclusive)."""
        return in_pilot(self.role, self.pilot_start, self.pilot_end, day)


class OfficerAssignment(models.Model):
    """An officer works in a borough, and so may see and change its records."""

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    borough = models.ForeignKey(Borough, on_delete=models.PROTECT, related_name="assignments")

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["officer", "borough"], name="officer_assignment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.officer} in {self.borough}"


class ServicePermission(models.Model):
    """Holds the service-wide permissions the roles are built from; it has no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = SERVICE_PERMISSIONS

    def __str__(self) -> str:
        return "service permissions"


# Who holds which role is kept in history like any audited record: every change to a user,
# their groups (roles) or their permissions, with who made it and why. Password hashes and
# sign-in times stay out of the history.
register(
    User,
    app="boroughs",
    m2m_fields=["groups", "user_permissions"],
    excluded_fields=["password", "last_login"],
)
# What each role (group) may do is kept in history the same way.
register(Group, app="boroughs", m2m_fields=["permissions"])
