"""Admins' pages about the people who sign in."""

from django.urls import path

from boroughs import user_views

app_name = "users"

urlpatterns = [
    path("", user_views.user_list, name="list"),
    path("invite/", user_views.user_invite, name="invite"),
    path("<int:user_pk>/", user_views.user_detail, name="detail"),
    path("<int:user_pk>/change/", user_views.user_change, name="change"),
    path("<int:user_pk>/deactivate/", user_views.user_deactivate, name="deactivate"),
    path("<int:user_pk>/reactivate/", user_views.user_reactivate, name="reactivate"),
    path("<int:user_pk>/invitation/", user_views.user_invitation_resend, name="resend"),
]
