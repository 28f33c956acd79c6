"""Middleware for sessions and responses that hold personal data.

- NoStoreMiddleware: no page or download is kept in a browser's or proxy's cache.
- SessionTimeoutMiddleware: sign people out after 30 minutes idle or 12 hours in all.
- SecondFactorMiddleware: admins and approvers reach only the second-factor pages and sign-out
  until they have passed their second factor in this session.
"""

import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from config.two_factor import has_authenticator, second_factor_missing

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "last_seen_at"
# Views open to a session that has not yet passed its second factor.
SECOND_FACTOR_OPEN_VIEWS = frozenset(
    {"two_factor_setup", "two_factor_verify", "logout", "admin:logout", "login", "admin:login"}
)


class NoStoreMiddleware:
    """Tell browsers and proxies to store no response that reaches Django's views.

    Pages and downloads show personal data and report figures; static files are served by
    WhiteNoise above this middleware, so they are still cached.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


def session_expired(*, signed_in_at: float, last_seen_at: float, now: float) -> str | None:
    """Return why a session has ended, or None while it may go on."""
    if now - signed_in_at > settings.SESSION_ABSOLUTE_TIMEOUT:
        hours = settings.SESSION_ABSOLUTE_TIMEOUT // 3600
        return f"You have been signed out because you signed in more than {hours} hours ago."
    if now - last_seen_at > settings.SESSION_IDLE_TIMEOUT:
        minutes = settings.SESSION_IDLE_TIMEOUT // 60
        return f"You have been signed out because you did nothing for {minutes} minutes."
    return None


class SessionTimeoutMiddleware:
    """End a signed-in session after its idle or absolute time limit.

    The session cookie also expires after the idle time (SESSION_COOKIE_AGE, refreshed on each
    request); this middleware keeps both limits whatever the browser does with the cookie.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        now = time.time()
        session = request.session
        signed_in_at = session.setdefault(SIGNED_IN_AT, now)
        reason = session_expired(
            signed_in_at=signed_in_at, last_seen_at=session.get(LAST_SEEN_AT, now), now=now
        )
        if reason:
            logout(request)
            messages.info(request, reason)
            return
        session[LAST_SEEN_AT] = now


class SecondFactorMiddleware:
    """Send an admin or approver without a verified second factor to enrol or verify."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple,
        view_kwargs: dict,
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.view_name in SECOND_FACTOR_OPEN_VIEWS:
            return None
        if not second_factor_missing(request=request):
            return None
        # A second factor is missing only for someone signed in (never AnonymousUser).
        user = cast(User, request.user)
        name = "two_factor_verify" if has_authenticator(user=user) else "two_factor_setup"
        return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
