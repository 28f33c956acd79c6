"""The audit trail: one row per read or change of personal data, per download, per sign-in.

Rows are only ever added. The model refuses changes in Python, and the database refuses them
too (triggers in ``0002_append_only_triggers``), so neither a bug nor a careless shell session
can rewrite who looked at what.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit row."""


class AuditEventQuerySet(models.QuerySet):
    """Refuse bulk changes: the trail is append-only."""

    def update(self, **kwargs):
        raise AppendOnlyError("The audit trail cannot be changed")

    def delete(self):
        raise AppendOnlyError("The audit trail cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("The audit trail cannot be changed")


class Action(models.TextChoices):
    SIGN_IN = "sign-in", "Signed in"
    SIGN_IN_FAILED = "sign-in-failed", "Sign-in failed"
    SIGN_OUT = "sign-out", "Signed out"
    PERSON_VIEW = "person.view", "Viewed a person"
    PERSON_MATCH = "person.match", "Listed people matching a surname and date of birth"
    PERSON_CHOOSE = "person.choose", "Chose a person known in another borough"
    ENCOUNTER_VIEW = "encounter.view", "Viewed an encounter"
    ENCOUNTER_SEARCH = "encounter.search", "Searched encounters"
    SEARCH_LIMITED = "search.limited", "Search refused: hourly limit reached"
    ADMIN_PERSON_VIEW = "admin.person.view", "Viewed a person in the admin"
    ADMIN_PERSON_LIST = "admin.person.list", "Listed people in the admin"
    ENCOUNTERS_EXPORT = "export.encounters", "Exported the encounter data"
    REPORT_DOWNLOAD = "report.download", "Downloaded a report"
    REPORT_BUILD = "report.build", "Built a report from the command line"
    AUDIT_VIEW = "audit.view", "Searched the audit trail"
    AUDIT_EXPORT = "audit.export", "Exported the audit trail"
    RETENTION_RUN = "retention.run", "Anonymised people past the retention period"
    USER_INVITE = "user.invite", "Invited a person to sign in"
    USER_INVITATION_SEND = "user.invitation", "Sent an invitation again"
    USER_CHANGE = "user.change", "Changed a person's role or boroughs"
    USER_DEACTIVATE = "user.deactivate", "Deactivated a person's account"
    USER_REACTIVATE = "user.reactivate", "Reactivated a person's account"
    USER_PASSWORD_SET = "user.password-set", "Set their password from an invitation"


class AuditEvent(models.Model):
    """Who did what to which record, when and from which address: never the data itself."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # A person with audit rows is deactivated, never deleted, so the trail stays whole.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.CharField(
        max_length=150, db_index=True, help_text="User name, or the OS user of a command"
    )
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    target = models.CharField(
        "object reference", max_length=200, blank=True, db_index=True, help_text="e.g. person:P-1"
    )
    detail = models.CharField(max_length=500, blank=True, help_text="Counts and options only")
    address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=10, default="web", help_text="web, command or task")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "at"], name="audit_actor_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The audit trail cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit trail cannot be deleted")
