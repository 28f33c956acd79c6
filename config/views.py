"""The home page, where each role lands on what it can do, and the service's error pages."""

import logging
import secrets
import sys
from types import TracebackType

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from boroughs.roles import Role
from boroughs.selectors import boroughs_for_officer, boroughs_taking_part, roles_for
from config.typing import AuthenticatedHttpRequest
from diversion.selectors import officer_home_context
from reports.selectors import reports_home_context

logger = logging.getLogger("config.errors")

# No 0/O or 1/I, so a reference read out over the phone is not misheard.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
# Last resort when even the error template cannot be rendered: plain HTML, no template.
FALLBACK_500 = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    "<title>Sorry, there is a problem with the service – Cannabis diversion pilot</title></head>"
    "<body><h1>Sorry, there is a problem with the service</h1><p>Try again later.</p>"
    "<p>If you contact your team's administrator, give them this reference: "
    "<strong>{reference}</strong></p></body></html>"
)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show each of the signed-in person's roles with the tasks it allows."""
    roles = roles_for(user=request.user)
    context: dict = {"roles": roles}
    if Role.OFFICER in roles:
        context["officer_boroughs"] = list(boroughs_for_officer(user=request.user))
        context.update(officer_home_context(user=request.user))
    if Role.ANALYST in roles or Role.APPROVER in roles:
        context.update(reports_home_context(user=request.user, roles=roles))
    if Role.ADMIN in roles:
        context["boroughs_taking_part"] = list(boroughs_taking_part())
    return render(request, "home.html", context)


# --- Error pages ----------------------------------------------------------------------------


def error_reference() -> str:
    """Make a short random reference that ties an error page to its log entry."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def server_error_response(request: HttpRequest, exc_info: ExcInfo | None = None) -> HttpResponse:
    """Log the error with a new reference and show the reference on the 500 page.

    The page is rendered without the request, so no context processor (and so no database
    query) can fail while reporting a failure; a plain page is the last resort.
    """
    reference = error_reference()
    logger.error(
        "error reference %s: %s %s",
        reference,
        request.method,
        request.path,
        exc_info=exc_info or sys.exc_info(),
    )
    try:
        body = loader.get_template("errors/500.html").render({"reference": reference})
    except Exception:  # reporting an error must never raise another one
        logger.exception("error reference %s: the error page could not be shown", reference)
        body = FALLBACK_500.format(reference=reference)
    return HttpResponseServerError(body)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """Show "Sorry, there is a problem with the service" with a reference (handler500)."""
    return server_error_response(request)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Show the service's 400 page (handler400)."""
    return render(request, "errors/400.html", status=400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Show the service's 403 page (handler403)."""
    return render(request, "errors/403.html", status=403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Show "Page not found" (handler404)."""
    return render(request, "errors/404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Explain a form that was refused for a missing or stale security token (CSRF_FAILURE_VIEW)."""
    return render(request, "errors/csrf.html", status=403)
