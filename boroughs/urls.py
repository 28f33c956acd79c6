"""Admins' borough pages."""

from django.urls import path

from boroughs import views

app_name = "boroughs"

urlpatterns = [
    path("", views.borough_list, name="list"),
    path("<str:gss_code>/change/", views.borough_change, name="change"),
    path("<str:gss_code>/history/", views.borough_history, name="history"),
]
