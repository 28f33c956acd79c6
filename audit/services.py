"""The one way rows enter the audit trail."""

import getpass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from audit.models import Action, AuditEvent

Actor = User | AnonymousUser | str | None


def client_address(request: HttpRequest) -> str | None:
    """Return the address the request came from.

    ``REMOTE_ADDR`` is used as it is, unless ``AUDIT_TRUSTED_PROXIES`` says how many proxies
    we run in front of the service: then the address that many hops from the right of
    ``X-Forwarded-For`` is taken, the one our own outermost proxy saw. Entries further left
    were written by the client and are never trusted.
    """
    proxies = getattr(settings, "AUDIT_TRUSTED_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies] or None
    return request.META.get("REMOTE_ADDR") or None


def command_actor(*, username: str | None) -> User | str:
    """Return who runs a command: the ``--user`` given (a user if one has that name), else the
    operating-system account."""
    name = username or getpass.getuser()
    user = get_user_model().objects.filter(username=name).first()
    return user if user is not None else f"os:{name}"


def _actor(by: Actor) -> tuple[User | None, str]:
    if isinstance(by, str):
        return None, by[:150]
    if by is None or not by.is_authenticated:
        return None, "anonymous"
    return by, by.get_username()


def audit_record(
    *,
    by: Actor,
    action: Action | str,
    target: str = "",
    request: HttpRequest | None = None,
    detail: str = "",
    channel: str | None = None,
) -> AuditEvent:
    """Add one row to the audit trail: who, what (action and reference), when, from where.

    ``target`` is a reference such as ``person:P-1``, never a name or date of birth; ``detail``
    holds counts and options only.
    """
    user, actor = _actor(by)
    event = AuditEvent(
        user=user,
        actor=actor,
        action=str(action),
        target=target[:200],
        detail=detail[:500],
        address=client_address(request) if request is not None else None,
        channel=channel or ("web" if request is not None else "command"),
    )
    event.full_clean()
    event.save()
    return event


def audit_sign_in_failed(*, username: str, request: HttpRequest | None) -> AuditEvent:
    """Record a failed sign-in, naming the account only if one has that name.

    People sometimes type a password into the name box; an unknown name is not kept.
    """
    user = get_user_model().objects.filter(username=username).first()
    return audit_record(
        by=user.get_username() if user is not None else "unknown user",
        action=Action.SIGN_IN_FAILED,
        target=f"user:{user.pk}" if user is not None else "",
        request=request,
        channel="web",
    )
