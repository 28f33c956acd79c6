"""URL routes for the whole service."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from boroughs import user_views
from config import health, two_factor_views, views
from config.forms import SignInForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", authentication_form=SignInForm
        ),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/set-up/", two_factor_views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", two_factor_views.two_factor_verify, name="two_factor_verify"),
    path(
        "set-password/<uidb64>/<token>/",
        user_views.SetPasswordView.as_view(),
        name="set_password",
    ),
    path("set-password/done/", user_views.SetPasswordDoneView.as_view(), name="set_password_done"),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("audit/", include("audit.urls")),
    path("boroughs/", include("boroughs.urls")),
    path("users/", include("boroughs.user_urls")),
    path("", include("diversion.urls")),
]

# The service's own error pages, in every mode (see config/error_pages.py for DEBUG).
handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
