"""The audit trail's pages, for admins."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_list, name="audit_list"),
    path("audit-trail.csv", views.audit_csv, name="audit_csv"),
]
