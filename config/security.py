"""Where a request comes from, for brute-force lockout by user name and address."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the address of the person signing in.

    Behind ``TRUSTED_PROXY_COUNT`` proxies, each of which appends the address it saw to
    X-Forwarded-For, the client is that many entries from the end; anything further left
    could be forged by the client, so it is never used. With no proxies, the peer address.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if count > 0 and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")
