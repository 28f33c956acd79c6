"""Read-only admin for report versions, build and upload jobs, downloads: the audit trail.

Reports change only through the service (build, submit, approve, return), never by hand here.
"""

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from reports.models import ReoffenceImportJob, ReportBuildJob, ReportDownload, ReportVersion


class ReadOnlyAdminMixin:
    """Admins may look, never add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ReportVersion)
class ReportVersionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Every version of every week's report, with its workflow history."""

    list_display = ("week", "number", "status", "built_at", "built_by", "decided_by", "sha256")
    list_filter = ("status", "built_by_schedule")
    search_fields = ("week", "sha256")
    date_hierarchy = "built_at"
    list_select_related = ("built_by", "decided_by")


@admin.register(ReportBuildJob)
class ReportBuildJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("week", "status", "requested_by", "by_schedule", "created_at", "finished_at")
    list_filter = ("status", "by_schedule")
    search_fields = ("week", "task_id")
    list_select_related = ("requested_by",)


@admin.register(ReportDownload)
class ReportDownloadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("downloaded_at", "user", "what", "report")
    list_filter = ("what",)
    search_fields = ("user__username", "what")
    date_hierarchy = "downloaded_at"
    list_select_related = ("user", "report")


@admin.register(ReoffenceImportJob)
class ReoffenceImportJobAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Who uploaded which reoffence file, when, and what became of it."""

    list_display = ("created_at", "uploaded_by", "file_name", "status", "imported", "error_count")
    list_filter = ("status",)
    search_fields = ("uploaded_by__username", "file_name", "sha256", "task_id")
    date_hierarchy = "created_at"
    list_select_related = ("uploaded_by",)
    exclude = ("content",)

    def get_queryset(self, request: HttpRequest):
        # The files can be 10 MB each; the list and the record never show them.
        return super().get_queryset(request).defer("content")
