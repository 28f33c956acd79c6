"""Writes about the people who sign in: invite, change role and boroughs, deactivate, reactivate.

Each change is kept twice: in the account's history (django-simple-history, with who and why)
and as a row of the append-only audit trail (who, when, what, why). The separation of duties
is the Django admin's (``boroughs/admin.py``): nobody changes their own account, and only a
superuser makes an admin or changes the account of someone who holds power.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.history import audit_as
from audit.models import Action
from audit.services import audit_record
from boroughs.models import Borough, OfficerAssignment
from boroughs.roles import Role

logger = logging.getLogger(__name__)

# The history tables keep a reason of at most this many characters.
REASON_MAX_LENGTH = 100
INVITE_PERMISSION = "auth.add_user"
CHANGE_PERMISSION = "auth.change_user"
OWN_ACCOUNT = "You cannot change your own account. Ask another admin to do it."
ONLY_SUPERUSER_ADMIN = "Only a superuser can make someone an admin."
ONLY_SUPERUSER_POWER = "Only a superuser can change the account of an admin or a superuser."
OFFICER_NEEDS_BOROUGH = "Select at least one borough the officer works in"
BOROUGHS_ONLY_FOR_OFFICERS = (
    "Only officers work in boroughs. Remove the boroughs, or choose officer."
)


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """One-time set-password links for invitations.

    Django's reset tokens, with their own salt so a link made for something else is never an
    invitation. A link stops working once the password is set (the hash covers the password)
    and after ``PASSWORD_RESET_TIMEOUT`` (``INVITATION_DAYS``).
    """

    key_salt = "boroughs.users.InvitationTokenGenerator"


invitation_tokens = InvitationTokenGenerator()


@dataclass(frozen=True)
class Invitation:
    """The account an invitation is for, and whether its email actually went."""

    user: User
    sent: bool


def holds_power(user: User) -> bool:
    """Return whether the account can change other accounts or the service's set-up."""
    return user.is_superuser or user.is_staff or user.groups.filter(name=Role.ADMIN).exists()


def account_change_refusal(*, by: User, user: User | None, role: str | None = None) -> str | None:
    """Say why ``by`` may not make this change to ``user`` (None for a new account), or None.

    A plain rule shared by the pages and the services, so both refuse with the same words.
    """
    if user is not None and user.pk == by.pk:
        return OWN_ACCOUNT
    if by.is_superuser:
        return None
    if role == Role.ADMIN:
        return ONLY_SUPERUSER_ADMIN
    if user is not None and holds_power(user):
        return ONLY_SUPERUSER_POWER
    return None


def _check_allowed(*, by: User, permission: str) -> None:
    if not by.has_perm(permission):
        raise PermissionDenied("Only admins can manage the people who sign in")


def _check_may_change(*, by: User, user: User, permission: str, role: str | None = None) -> None:
    """Refuse, as the pages do, a change ``by`` may not make to this existing account."""
    _check_allowed(by=by, permission=permission)
    refusal = account_change_refusal(by=by, user=user, role=role)
    if refusal:
        raise ValidationError(refusal)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for the change"})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": f"The reason must be {REASON_MAX_LENGTH} characters or fewer"}
        )
    return reason


def _role_errors(*, role: str, boroughs: Sequence[Borough]) -> dict[str, str]:
    if role not in Role.values:
        return {"role": "Select the person's role"}
    if role == Role.OFFICER and not boroughs:
        return {"boroughs": OFFICER_NEEDS_BOROUGH}
    if role != Role.OFFICER and boroughs:
        return {"boroughs": BOROUGHS_ONLY_FOR_OFFICERS}
    return {}


def _codes(boroughs: Sequence[Borough]) -> str:
    return ", ".join(sorted(b.gss_code for b in boroughs)) or "none"


def _name_parts(full_name: str) -> tuple[str, str]:
    """Split a full name at its last space; ``get_full_name()`` joins the parts again."""
    first, _space, last = " ".join(full_name.split()).rpartition(" ")
    return (first, last) if first else (last, "")


def display_name(user: User) -> str:
    """The name the pages and emails use for a person."""
    return user.get_full_name() or user.get_username()


def _email_taken(email: str) -> bool:
    return (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    )


def _set_role(*, user: User, role: str, by: User, reason: str) -> None:
    """Give the person exactly this role; admins get staff status for the Django admin."""
    user.is_staff = role == Role.ADMIN or user.is_superuser
    audit_as(user, by=by, reason=reason)
    user.save()
    user.groups.set([Group.objects.get(name=role)])


def _set_boroughs(*, user: User, boroughs: Sequence[Borough], by: User, reason: str) -> None:
    """Assign the officer to exactly these boroughs, each change kept in the history."""
    wanted = {b.pk for b in boroughs}
    for assignment in OfficerAssignment.objects.filter(officer=user).exclude(borough_id__in=wanted):
        audit_as(assignment, by=by, reason=reason)
        assignment.delete()
    held = set(OfficerAssignment.objects.filter(officer=user).values_list("borough_id", flat=True))
    for borough in boroughs:
        if borough.pk not in held:
            assignment = OfficerAssignment(officer=user, borough=borough)
            assignment.full_clean()
            audit_as(assignment, by=by, reason=reason)
            assignment.save()


def invitation_link(*, user: User, site_url: str) -> str:
    """Return the one-time address where the person sets their password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("set_password", args=[uid, invitation_tokens.make_token(user)])
    return site_url.rstrip("/") + path


def _invitation_email(*, user: User, by: User, link: str) -> tuple[str, str]:
    days = settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)
    inviter = display_name(by)
    roles = [
        Role(name)
        for name in user.groups.filter(name__in=Role.values).values_list("name", flat=True)
    ]
    role = " and ".join(str(r.label).lower() for r in roles) or "person with no role yet"
    second_factor = ""
    if {Role.ADMIN, Role.APPROVER} & set(roles):
        second_factor = (
            "When you first sign in you will also set up an authenticator app on your phone.\n\n"
        )
    body = (
        f"Hello {display_name(user)},\n\n"
        f"{inviter} has invited you to use the {settings.SERVICE_NAME} service "
        f"as {'an' if role[:1] in 'aeiou' else 'a'} {role}.\n\n"
        f"Your username is {user.get_username()}\n\n"
        f"To choose your password, open this link:\n\n{link}\n\n"
        f"The link works once and for {days} days. If it has stopped working, "
        f"ask {inviter} to send you a new invitation.\n\n"
        f"{second_factor}"
        "If you were not expecting this email, you can ignore it.\n"
    )
    return f"You have been invited to the {settings.SERVICE_NAME} service", body


def _send_invitation(*, user: User, by: User, site_url: str) -> bool:
    """Send the invitation; say whether the mail server took it (a failure is logged)."""
    subject, body = _invitation_email(
        user=user, by=by, link=invitation_link(user=user, site_url=site_url)
    )
    try:
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]) > 0
    except Exception:  # the account is made; a mail server that is down must not undo it
        logger.exception("Could not send the invitation to user %s", user.pk)
        return False


def user_invite(
    *,
    by: User,
    email: str,
    full_name: str,
    role: str,
    boroughs: Sequence[Borough] = (),
    reason: str,
    site_url: str,
    request: HttpRequest | None = None,
) -> Invitation:
    """Make an account that cannot sign in until its holder sets a password, and email them.

    The email address is the username. Raises ValidationError (every problem, in plain
    English) and makes nothing when the address is taken, the name is empty, an officer has
    no borough or someone else has one; PermissionDenied when ``by`` is not an admin.
    """
    _check_allowed(by=by, permission=INVITE_PERMISSION)
    email = email.strip().lower()
    errors: dict[str, str] = _role_errors(role=role, boroughs=boroughs)
    refusal = account_change_refusal(by=by, user=None, role=role)
    if refusal:
        errors["role"] = refusal
    if _email_taken(email):
        errors["email"] = "Someone already has an account with this email address"
    first_name, last_name = _name_parts(full_name)
    if not first_name:
        errors["full_name"] = "Enter the person's full name"
    try:
        reason = _reason(reason)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User(username=email, email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.full_clean()
        audit_as(user, by=by, reason=reason)
        user.save()
        _set_role(user=user, role=role, by=by, reason=reason)
        _set_boroughs(user=user, boroughs=boroughs, by=by, reason=reason)
    sent = _send_invitation(user=user, by=by, site_url=site_url)
    audit_record(
        by=by,
        action=Action.USER_INVITE,
        target=f"user:{user.pk}",
        request=request,
        detail=f"role: {role}; boroughs: {_codes(boroughs)}; email sent: "
        f"{'yes' if sent else 'no'}; reason: {reason}",
    )
    return Invitation(user=user, sent=sent)


def invitation_pending(user: User) -> bool:
    """Return whether the person has been invited and has not yet set a password."""
    return user.is_active and not user.has_usable_password() and user.last_login is None


def user_invitation_resend(
    *, by: User, user: User, site_url: str, request: HttpRequest | None = None
) -> Invitation:
    """Send a new invitation; the link in any earlier one stops working."""
    _check_may_change(by=by, user=user, permission=INVITE_PERMISSION)
    if not invitation_pending(user):
        raise ValidationError(
            "This person has already set a password, or their account is deactivated, "
            "so there is no invitation to send"
        )
    with transaction.atomic():
        user.set_unusable_password()  # a new value, so the old link no longer matches
        audit_as(user, by=by, reason="Invitation sent again")
        user.save()
    sent = _send_invitation(user=user, by=by, site_url=site_url)
    audit_record(
        by=by,
        action=Action.USER_INVITATION_SEND,
        target=f"user:{user.pk}",
        request=request,
        detail=f"email sent: {'yes' if sent else 'no'}",
    )
    return Invitation(user=user, sent=sent)


def user_change(
    *,
    by: User,
    user: User,
    role: str,
    boroughs: Sequence[Borough] = (),
    reason: str,
    request: HttpRequest | None = None,
) -> User:
    """Give the person exactly this role and, for an officer, exactly these boroughs."""
    _check_may_change(by=by, user=user, permission=CHANGE_PERMISSION, role=role)
    errors = _role_errors(role=role, boroughs=boroughs)
    if errors:
        raise ValidationError(errors)
    reason = _reason(reason)
    before_roles = ", ".join(sorted(user.groups.values_list("name", flat=True))) or "none"
    before_boroughs = _codes(
        [
            a.borough
            for a in OfficerAssignment.objects.filter(officer=user).select_related("borough")
        ]
    )
    with transaction.atomic():
        _set_role(user=user, role=role, by=by, reason=reason)
        _set_boroughs(user=user, boroughs=boroughs, by=by, reason=reason)
    audit_record(
        by=by,
        action=Action.USER_CHANGE,
        target=f"user:{user.pk}",
        request=request,
        detail=f"role: {before_roles} -> {role}; boroughs: {before_boroughs} -> "
        f"{_codes(boroughs)}; reason: {reason}",
    )
    return user


def _set_active(
    *, by: User, user: User, active: bool, reason: str, request: HttpRequest | None
) -> User:
    _check_may_change(by=by, user=user, permission=CHANGE_PERMISSION)
    if user.is_active == active:
        state = "active" if active else "deactivated"
        raise ValidationError(f"{display_name(user)}'s account is already {state}")
    reason = _reason(reason)
    with transaction.atomic():
        user.is_active = active
        user.full_clean()
        audit_as(user, by=by, reason=reason)
        user.save()
    audit_record(
        by=by,
        action=Action.USER_REACTIVATE if active else Action.USER_DEACTIVATE,
        target=f"user:{user.pk}",
        request=request,
        detail=f"reason: {reason}",
    )
    return user


def user_deactivate(
    *, by: User, user: User, reason: str, request: HttpRequest | None = None
) -> User:
    """Stop the person signing in; any session they have ends at their next request.

    The account stays, so the audit trail and history that name it stay whole.
    """
    return _set_active(by=by, user=user, active=False, reason=reason, request=request)


def user_reactivate(
    *, by: User, user: User, reason: str, request: HttpRequest | None = None
) -> User:
    """Let a deactivated person sign in again with their old password."""
    return _set_active(by=by, user=user, active=True, reason=reason, request=request)


def user_password_set(*, user: User, password: str, request: HttpRequest | None = None) -> None:
    """Set the password an invited person chose (already checked by the password validators).

    The change of password makes the invitation's link stop working.
    """
    with transaction.atomic():
        user.set_password(password)
        audit_as(user, by=user, reason="Set their password from an invitation")
        user.save()
    audit_record(
        by=user, action=Action.USER_PASSWORD_SET, target=f"user:{user.pk}", request=request
    )
