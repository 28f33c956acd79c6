"""Show the service's own error pages when DEBUG is on, unless Django's are asked for.

With ``DEBUG`` on, Django answers a missing page or an uncaught error with its technical
pages instead of ``handler404``/``handler500``. Developers keep ``DEBUG`` on for tracebacks
in the console, and should still see what users see, so this middleware puts the service's
pages back. Set ``DJANGO_DEBUG_PAGES=true`` to see Django's technical pages instead. With
``DEBUG`` off it does nothing: Django already uses the handlers.
"""

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from config.views import bad_request, page_not_found, server_error_response


def _serving_own_pages() -> bool:
    return settings.DEBUG and not getattr(settings, "DEBUG_PAGES", False)


class ServiceErrorPagesMiddleware:
    """Replace Django's DEBUG 404 and 500 pages with the service's own (see module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # No URL matched: Django drew its technical 404 before any view (or process_exception)
        # ran, so the only sign is a 404 for a request that resolved to nothing.
        if (
            _serving_own_pages()
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
        ):
            return page_not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Answer a view's 404, bad request or crash with the service's page, and log it."""
        if not _serving_own_pages() or isinstance(exception, PermissionDenied):
            return None  # 403 uses the service's handler whether DEBUG is on or not
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, SuspiciousOperation):
            # Django logs these to django.security.* only on the path this replaces.
            security = logging.getLogger(f"django.security.{exception.__class__.__name__}")
            security.error(str(exception), extra={"status_code": 400, "request": request})
        if isinstance(exception, BadRequest | SuspiciousOperation | MultiPartParserError):
            return bad_request(request, exception)
        return server_error_response(request, sys.exc_info())
