"""Officer pages: encounters, people, referrals and outcomes."""

from django.urls import path  # noqa: F401

app_name = "diversion"

urlpatterns: list = []
