"""Two-factor authentication: who needs it, enrolling an authenticator app, recovery codes.

Admins and approvers (and any staff or superuser) hold the keys to people's records and to
the published figures, so a password alone is not enough for them. A second factor is a
time-based code from an authenticator app (TOTP), or one of ten single-use recovery codes.
"""

from base64 import b32encode
from dataclasses import dataclass
from math import ceil

import django_otp
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from boroughs.roles import Role
from boroughs.selectors import roles_for

# Roles whose holders must pass a second factor before they reach anything else.
SECOND_FACTOR_ROLES = frozenset({Role.APPROVER, Role.ADMIN})
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


class TwoFactorError(Exception):
    """A code that was not accepted, with a message fit to show the user."""


@dataclass(frozen=True)
class Enrolment:
    """What the person needs to add the service to their authenticator app."""

    device: TOTPDevice
    secret: str
    url: str


def needs_second_factor(*, user: User | AnonymousUser) -> bool:
    """Return whether this person must pass a second factor to use the service."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff or user.is_superuser or roles_for(user=user) & SECOND_FACTOR_ROLES)


def second_factor_missing(*, request: HttpRequest) -> bool:
    """Return whether the signed-in person needs a second factor and has not passed it yet."""
    user = request.user
    # django-otp's OTPMiddleware adds is_verified() to every request's user.
    return needs_second_factor(user=user) and not user.is_verified()  # type: ignore[union-attr]


def has_authenticator(*, user: User) -> bool:
    """Return whether the person has confirmed an authenticator app."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def _enrolment(device: TOTPDevice) -> Enrolment:
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return Enrolment(device=device, secret=secret, url=device.config_url)


@transaction.atomic
def authenticator_enrolment_start(*, user: User) -> Enrolment:
    """Return the person's unconfirmed authenticator, making one if they have none."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice(user=user, name=APP_DEVICE_NAME, confirmed=False)
        device.full_clean()
        device.save()
    return _enrolment(device)


APP_CODE_WRONG = "Enter the 6-digit code your authenticator app shows now"
CODE_WRONG = "Enter a correct code from your authenticator app, or a recovery code"


def _refusal(device: Device | None, code: str, wrong: str) -> str | None:
    """Check the code on the device; say why it is refused, or None if it is accepted.

    The device records a failure and makes the person wait longer after each one
    (django-otp's throttling), so codes cannot be guessed quickly. Callers raise only after
    their transaction has committed, so that record is kept.
    """
    if device is None:
        return wrong
    allowed, details = device.verify_is_allowed()
    if not allowed:
        until = (details or {}).get("locked_until")
        seconds = max(ceil((until - timezone.now()).total_seconds()), 1) if until else 1
        wait = f"{seconds} second{'' if seconds == 1 else 's'}"
        return f"You entered a wrong code. Wait {wait}, then enter the new code"
    return None if device.verify_token(code) else wrong


def _recovery_codes_issue(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    return codes


def authenticator_enrolment_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with its first code, and issue fresh recovery codes.

    The recovery codes are returned once, to be shown once; only they can be used again.
    """
    with transaction.atomic():
        device = (
            TOTPDevice.objects.devices_for_user(user, confirmed=False).select_for_update().first()
        )
        refusal = _refusal(device, code, APP_CODE_WRONG)
        if refusal is None:
            device.confirmed = True
            device.save()
            return device, _recovery_codes_issue(user=user)
    raise TwoFactorError(refusal)


def _normalised(code: str) -> str:
    return "".join(code.split()).lower()


def second_factor_check(*, user: User, code: str) -> Device:
    """Return the device that accepts the code: an app code, or a recovery code (used up)."""
    code = _normalised(code)
    model = TOTPDevice if code.isdigit() else StaticDevice
    refusal: str | None = CODE_WRONG
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            refusal = _refusal(device, code, CODE_WRONG)
            if refusal is None:
                return device
    raise TwoFactorError(refusal)


def recovery_codes_left(*, user: User) -> int:
    """Return how many unused recovery codes the person has."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_passed(*, request: HttpRequest, device: Device) -> None:
    """Mark this session as having passed its second factor with the device."""
    django_otp.login(request, device)
