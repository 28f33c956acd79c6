"""Analyst and approver pages: weekly reports, approval, downloads and imports."""

from django.urls import path, register_converter

from reports import views


class WeekConverter:
    """An ISO week written YYYY-Www, e.g. 2026-W10."""

    regex = r"[0-9]{4}-W[0-9]{2}"  # ASCII digits only, as reports.weeks.parse_week

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(WeekConverter, "isoweek")

app_name = "reports"

urlpatterns = [
    path("", views.version_list, name="version_list"),
    path("build/", views.build, name="build"),
    path("trends/", views.trends, name="trends"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/status.json", views.job_status, name="job_status"),
    path("downloads/", views.downloads, name="downloads"),
    path("data/encounters.csv", views.encounters_export, name="encounters_export"),
    path("reoffences/upload/", views.reoffences_upload, name="reoffences_upload"),
    path(
        "reoffences/imports/<int:pk>/",
        views.reoffence_import_detail,
        name="reoffence_import_detail",
    ),
    path(
        "reoffences/imports/<int:pk>/status.json",
        views.reoffence_import_status,
        name="reoffence_import_status",
    ),
    path("<isoweek:week>/v<int:number>/", views.version_detail, name="version_detail"),
    path("<isoweek:week>/v<int:number>/submit/", views.version_submit, name="version_submit"),
    path("<isoweek:week>/v<int:number>/decide/", views.version_decide, name="version_decide"),
    path(
        "<isoweek:week>/v<int:number>/download/<str:fmt>/",
        views.version_download,
        name="version_download",
    ),
]
