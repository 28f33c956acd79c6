"""Analyst and approver pages: weekly reports, approval, downloads and imports."""

from django.urls import path  # noqa: F401

app_name = "reports"

urlpatterns: list = []
