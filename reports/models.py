"""Weekly report versions, the jobs that build them, and a record of every download."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from diversion.validators import PlainTextValidator
from reports.weeks import validate_week


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"


class ReportVersion(models.Model):
    """One build of the report for an ISO week; approved versions never change."""

    week = models.CharField(
        max_length=8, db_index=True, help_text="ISO week, e.g. 2026-W10", validators=[validate_week]
    )
    period_start = models.DateField()
    period_end = models.DateField()
    number = models.PositiveIntegerField("version")
    data = models.JSONField(help_text="The SPEC §6 JSON, unsuppressed")
    extra = models.JSONField(default=dict, blank=True, help_text="Disproportionality tables")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON of data")
    built_at = models.DateTimeField()
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    built_by_schedule = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT, db_index=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approver_comment = models.TextField(
        blank=True, validators=[PlainTextValidator("the comment", multiline=True)]
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-week", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["week", "number"], name="report_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.week} version {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("reports:version_detail", kwargs={"week": self.week, "number": self.number})


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ReportBuildJob(models.Model):
    """A request to build a week's report, so the page can show queued, running and ready."""

    week = models.CharField(max_length=8, db_index=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by_schedule = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True)
    report = models.ForeignKey(
        ReportVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Build {self.week} ({self.status})"


class ReportDownload(models.Model):
    """Who downloaded which rendering of which report (or data extract), and when."""

    report = models.ForeignKey(
        ReportVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="downloads"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=40, help_text="e.g. csv, xlsx, pdf, json, encounters-export")
    downloaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-downloaded_at"]

    def __str__(self) -> str:
        return f"{self.user} downloaded {self.what} at {self.downloaded_at:%Y-%m-%d %H:%M}"
