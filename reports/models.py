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
    step = models.CharField(
        max_length=60, blank=True, help_text="What a running build is doing, for the job page"
    )
    worker = models.CharField(
        max_length=200, blank=True, help_text="Host and process id of the last worker to run it"
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker has started it"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the running build last said it was alive"
    )
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


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Failed"


class ReoffenceImportJob(models.Model):
    """An uploaded file of reoffence matches and the background import that checks and stores it.

    The file is kept in the database, not on disk: in production the web and worker containers
    share PostgreSQL but no filesystem (docker-compose.yml), and uploads are at most 10 MB.
    Keeping it also records exactly what was imported. It holds person references only, never
    names or dates of birth.
    """

    status = models.CharField(
        max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveIntegerField(help_text="Bytes")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the uploaded file")
    content = models.BinaryField(editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    task_id = models.CharField(max_length=64, blank=True)
    imported = models.PositiveIntegerField(null=True, blank=True)
    unchanged = models.PositiveIntegerField(null=True, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first errors, by line")
    message = models.TextField(blank=True, help_text="Why the job itself could not run")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Each status change is recorded; the file itself is left out of history, stored once.
    history = HistoricalRecords(excluded_fields=["content"])

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Reoffence import {self.file_name} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("reports:reoffence_import_detail", kwargs={"pk": self.pk})
