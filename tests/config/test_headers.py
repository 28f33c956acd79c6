"""Browser security headers: a Content-Security-Policy with no inline script or style, a
Permissions-Policy, and no caching of any page or download; static files stay cacheable."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from reports.models import ReportStatus
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered only into PDFs by WeasyPrint, never served to a browser.
PDF_ONLY = {"reports/version_print.html"}
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)


def _inline(html: str) -> list[str]:
    return INLINE_SCRIPT.findall(html) + INLINE_STYLE.findall(html)


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def test_the_policy_allows_only_this_sites_scripts_and_styles(client, officer):
    client.force_login(officer)
    directives = _directives(client.get("/"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in str(directives) and "unsafe-eval" not in str(directives)


def test_the_sign_in_page_has_the_policy_too(client):
    response = client.get("/sign-in/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "template",
    sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*.html")
        if str(p.relative_to(TEMPLATES)) not in PDF_ONLY
    ),
)
def test_no_template_has_inline_script_or_style(template):
    assert _inline((TEMPLATES / template).read_text()) == []


def test_pages_as_served_have_no_inline_script_or_style(client, analyst, approver, admin_user):
    version = make_version(status=ReportStatus.SUBMITTED)
    pages = {
        analyst: ["/", "/reports/", version.get_absolute_url(), "/reports/reoffences/upload/"],
        approver: ["/", version.get_absolute_url()],
        admin_user: ["/", "/admin/", reverse("admin:auth_user_change", args=[analyst.pk])],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert _inline(response.content.decode()) == [], url
    client.logout()
    assert _inline(client.get("/sign-in/").content.decode()) == []


def test_browser_features_the_service_never_uses_are_switched_off(client):
    policy = client.get("/sign-in/")["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_pages_and_downloads_with_personal_data_are_never_stored(client, analyst):
    version = make_version(status=ReportStatus.APPROVED)
    client.force_login(analyst)
    download = reverse(
        "reports:version_download",
        kwargs={"week": version.week, "number": version.number, "fmt": "csv"},
    )
    for url in ("/", version.get_absolute_url(), download, "/sign-in/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_static_files_are_still_cached(client):
    response = client.get("/static/css/service.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_pages_cannot_be_framed_or_sniffed(client):
    response = client.get("/sign-in/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
