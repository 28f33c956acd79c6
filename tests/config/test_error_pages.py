"""The service's own error pages: 400, 403, 404, 500 and a refused form (CSRF), in every mode.

With DEBUG on the same pages show unless DJANGO_DEBUG_PAGES asks for Django's technical ones.
"""

import logging
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.error_urls")]

SERVICE_PAGE = 'class="govuk-template'
FAILING_PROCESSOR = "tests.config.error_urls.failing_context_processor"
SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture
def quiet_client() -> Client:
    """A client that gets the 500 page back instead of the exception."""
    return Client(raise_request_exception=False)


def text(response) -> str:
    return response.content.decode()


def reference_on(page: str) -> str:
    found = re.search(r'class="app-error-reference">([A-Z2-9]{8})<', page)
    assert found, "no error reference on the page"
    return found.group(1)


@pytest.mark.parametrize("path", ["/no-such-page/", "/test/missing/", "/boroughs/E09000099/x/"])
def test_missing_page_says_page_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    page = text(response)
    assert SERVICE_PAGE in page
    assert "<title>Page not found – Cannabis diversion pilot</title>" in page
    assert "If you typed the web address, check it is correct." in page


def test_signed_in_person_sees_not_found_with_their_navigation(client, officer):
    client.force_login(officer)
    page = text(client.get("/no-such-page/"))
    assert "Page not found" in page and "Sign out" in page


def test_forbidden_page_says_so_plainly(client, officer):
    client.force_login(officer)
    response = client.get("/boroughs/")
    assert response.status_code == 403
    page = text(response)
    assert SERVICE_PAGE in page
    assert "You do not have permission to see this page" in page


@pytest.mark.parametrize("path", ["/test/bad/", "/test/suspicious/"])
def test_bad_request_has_its_own_page(client, path):
    response = client.get(path)
    assert response.status_code == 400
    page = text(response)
    assert SERVICE_PAGE in page
    assert "Sorry, there is a problem with your request" in page


def test_unknown_host_gets_the_bad_request_page(client):
    response = client.get("/", HTTP_HOST="not-this-service.example")
    assert response.status_code == 400
    assert "Sorry, there is a problem with your request" in text(response)


def test_server_error_gives_a_reference_that_is_in_the_log(quiet_client, caplog):
    with caplog.at_level(logging.ERROR, logger="config.errors"):
        response = quiet_client.get("/test/crash/")
    assert response.status_code == 500
    page = text(response)
    assert SERVICE_PAGE in page
    assert "Sorry, there is a problem with the service" in page
    assert "Try again later." in page
    reference = reference_on(page)
    logged = [r for r in caplog.records if r.name == "config.errors"]
    assert [r.getMessage() for r in logged] == [f"error reference {reference}: GET /test/crash/"]
    assert logged[0].exc_info[0] is RuntimeError  # the traceback is logged with the reference


def test_each_server_error_gets_its_own_reference(quiet_client):
    first = reference_on(text(quiet_client.get("/test/crash/")))
    second = reference_on(text(quiet_client.get("/test/crash/")))
    assert first != second


def test_server_error_page_reads_nothing_from_the_database(quiet_client):
    """No context processor runs for the 500 page, so it shows even when the database is down."""
    with CaptureQueriesContext(connection) as queries:
        response = quiet_client.get("/test/crash/")
    assert response.status_code == 500
    # Only the request's own transaction (ATOMIC_REQUESTS) touches the connection.
    assert [q["sql"] for q in queries if not q["sql"].upper().startswith(SAVEPOINTS)] == []


def test_server_error_page_shows_when_context_processors_would_fail(settings, officer):
    templates = settings.TEMPLATES[0]
    processors = [*templates["OPTIONS"]["context_processors"], FAILING_PROCESSOR]
    settings.TEMPLATES = [
        {**templates, "OPTIONS": {**templates["OPTIONS"], "context_processors": processors}}
    ]
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    response = client.get("/test/crash/")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in text(response)


def test_server_error_page_falls_back_to_plain_html_if_its_template_fails(
    quiet_client, monkeypatch, caplog
):
    from django.template import loader

    def broken(name, *args, **kwargs):
        raise RuntimeError("templates unavailable")

    monkeypatch.setattr(loader, "get_template", broken)
    response = quiet_client.get("/test/crash/")
    assert response.status_code == 500
    page = text(response)
    assert "Sorry, there is a problem with the service" in page
    reference = re.search(r"<strong>([A-Z2-9]{8})</strong>", page).group(1)
    assert f"error reference {reference}: the error page could not be shown" in caplog.text


def test_form_sent_without_its_security_token_is_explained(officer):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/sign-in/", {"username": "officer", "password": PASSWORD})
    assert response.status_code == 403
    page = text(response)
    assert SERVICE_PAGE in page
    assert "Sorry, your form could not be sent" in page
    assert "Nothing you entered was saved." in page


def test_signed_in_form_with_a_stale_token_is_explained(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post("/boroughs/E09000023/change/", {"role": "comparison"})
    assert response.status_code == 403
    assert "Sorry, your form could not be sent" in text(response)


# --- DEBUG on (the local mode) ---------------------------------------------------------------


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    settings.DEBUG_PAGES = False
    return settings


@pytest.mark.parametrize("path", ["/no-such-page/", "/test/missing/"])
def test_local_mode_shows_the_service_not_found_page(client, debug_on, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "<title>Page not found – Cannabis diversion pilot</title>" in text(response)


def test_local_mode_shows_the_service_error_page_and_logs_the_traceback(client, debug_on, caplog):
    with caplog.at_level(logging.ERROR, logger="config.errors"):
        response = client.get("/test/crash/")
    assert response.status_code == 500
    reference = reference_on(text(response))
    assert f"error reference {reference}" in caplog.text
    assert "RuntimeError: something broke" in caplog.text


@pytest.mark.parametrize("path", ["/test/bad/", "/test/suspicious/"])
def test_local_mode_shows_the_service_bad_request_page(client, debug_on, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "Sorry, there is a problem with your request" in text(response)


def test_slash_is_still_appended_in_local_mode(client, debug_on):
    response = client.get("/boroughs")
    assert response.status_code == 301 and response.url == "/boroughs/"


def test_debug_pages_setting_brings_back_django_technical_pages(quiet_client, debug_on):
    debug_on.DEBUG_PAGES = True
    not_found = quiet_client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert "Using the URLconf defined in" in text(not_found)
    crashed = quiet_client.get("/test/crash/")
    assert crashed.status_code == 500
    assert "something broke" in text(crashed) and "Traceback" in text(crashed)
