"""Second-factor pages: set up an authenticator app, then enter a code at each sign-in."""

from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice

from config.forms import SecondFactorForm
from config.two_factor import (
    TwoFactorError,
    authenticator_enrolment_confirm,
    authenticator_enrolment_start,
    has_authenticator,
    recovery_codes_left,
    second_factor_check,
    second_factor_passed,
)
from config.typing import AuthenticatedHttpRequest


def _next(request: AuthenticatedHttpRequest) -> str:
    """Return where to go afterwards: the page asked for, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _go(name: str, request: AuthenticatedHttpRequest) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': _next(request)})}")


def _qr_svg(url: str) -> SafeString:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    # (B308/B703: the SVG is drawn here from the device's own otpauth URL; none of it is input.)
    return mark_safe(image.to_string(encoding="unicode"))  # nosec B308 B703


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show the QR code and secret for a new authenticator, and confirm it with a code."""
    if has_authenticator(user=request.user):
        return _go("two_factor_verify", request)
    enrolment = authenticator_enrolment_start(user=request.user)
    form = SecondFactorForm(request.POST or None, help_text="The 6 digits your app shows now")
    if form.is_valid():
        try:
            device, codes = authenticator_enrolment_confirm(
                user=request.user, code=form.cleaned_data["code"]
            )
        except TwoFactorError as error:
            form.add_error("code", str(error))
        else:
            second_factor_passed(request=request, device=device)
            shown = {"codes": codes, "next": _next(request)}
            return render(request, "registration/recovery_codes.html", shown)
    context: dict[str, object] = {
        "form": form,
        "qr_svg": _qr_svg(enrolment.url),
        "secret": enrolment.secret,
        "next": _next(request),
    }
    return render(request, "registration/two_factor_setup.html", context, status=_status(form))


def _status(form: SecondFactorForm) -> int:
    return 400 if form.is_bound and form.errors else 200


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Ask for a code from the authenticator app, or a recovery code."""
    if not has_authenticator(user=request.user):
        return _go("two_factor_setup", request)
    form = SecondFactorForm(
        request.POST or None, help_text="The 6 digits your app shows now, or a recovery code"
    )
    if form.is_valid():
        try:
            device = second_factor_check(user=request.user, code=form.cleaned_data["code"])
        except TwoFactorError as error:
            form.add_error("code", str(error))
        else:
            second_factor_passed(request=request, device=device)
            if isinstance(device, StaticDevice):
                left = recovery_codes_left(user=request.user)
                messages.info(request, f"You used a recovery code. You have {left} left.")
            return redirect(_next(request))
    context = {"form": form, "next": _next(request)}
    return render(request, "registration/two_factor_verify.html", context, status=_status(form))
