"""The services behind the admins' people pages: invite, change, deactivate, reactivate."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from audit.models import Action, AuditEvent
from boroughs.models import Borough, OfficerAssignment
from boroughs.roles import Role
from boroughs.user_selectors import Status, people_filtered
from boroughs.users import (
    ONLY_SUPERUSER_ADMIN,
    ONLY_SUPERUSER_POWER,
    OWN_ACCOUNT,
    invitation_pending,
    invitation_tokens,
    user_change,
    user_deactivate,
    user_invitation_resend,
    user_invite,
    user_reactivate,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

SITE = "https://diversion.example"


@pytest.fixture
def ada(admin_user) -> User:
    admin_user.first_name, admin_user.last_name = "Ada", "Admin"
    admin_user.save()
    return admin_user


@pytest.fixture
def boroughs() -> list[Borough]:
    return list(Borough.objects.filter(gss_code__in=["E09000023", "E09000028"]).order_by("name"))


def invite(by: User, **overrides):
    values = {
        "email": "Priya.Patel@Met.example",
        "full_name": "Priya  Patel",
        "role": Role.ANALYST,
        "boroughs": [],
        "reason": "Joined the MOPAC evaluation team",
        "site_url": SITE,
    }
    return user_invite(by=by, **(values | overrides))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_invite_makes_an_account_that_cannot_sign_in_until_a_password_is_chosen(ada, boroughs):
    invitation = invite(ada, role=Role.OFFICER, boroughs=boroughs)
    user = User.objects.get(pk=invitation.user.pk)
    assert (user.username, user.email) == ("priya.patel@met.example",) * 2
    assert (user.first_name, user.last_name, user.get_full_name()) == (
        "Priya",
        "Patel",
        "Priya Patel",
    )
    assert not user.has_usable_password() and user.is_active and not user.is_staff
    assert invitation_pending(user)
    assert list(user.groups.values_list("name", flat=True)) == ["officer"]
    assigned = OfficerAssignment.objects.filter(officer=user).values_list("borough__gss_code")
    assert sorted(code for (code,) in assigned) == ["E09000023", "E09000028"]
    assert not user.check_password("") and not user.check_password(user.username)


def test_invitation_email_names_the_inviter_and_carries_a_working_one_time_link(ada):
    invitation = invite(ada)
    assert invitation.sent is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["priya.patel@met.example"]
    assert "Ada Admin has invited you" in message.body
    assert "as an analyst" in message.body
    assert "Your username is priya.patel@met.example" in message.body
    link = re.search(rf"{SITE}/set-password/(\w+)/([\w-]+)/", message.body)
    assert link is not None
    assert invitation_tokens.check_token(invitation.user, link.group(2))
    assert "authenticator app" not in message.body  # analysts have no second factor


def test_approvers_are_told_about_the_authenticator_app(ada):
    invite(ada, role=Role.APPROVER)
    assert "set up an authenticator app" in mail.outbox[0].body


def test_invite_is_audited_with_who_what_and_why(ada, boroughs):
    invitation = invite(ada, role=Role.OFFICER, boroughs=boroughs)
    (event,) = events(Action.USER_INVITE)
    assert (event.user, event.actor, event.target) == (ada, "admin", f"user:{invitation.user.pk}")
    assert event.detail == (
        "role: officer; boroughs: E09000023, E09000028; email sent: yes; "
        "reason: Joined the MOPAC evaluation team"
    )
    record = invitation.user.history.order_by("history_id").first()
    assert record.history_user == ada
    assert record.history_change_reason == "Joined the MOPAC evaluation team"
    assignment = OfficerAssignment.history.filter(officer_id=invitation.user.pk).first()
    assert assignment.history_user == ada


def test_an_email_that_could_not_be_sent_is_reported_as_not_sent(ada, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("boroughs.users.send_mail", refuse)
    invitation = invite(ada)
    assert invitation.sent is False
    assert User.objects.filter(pk=invitation.user.pk).exists()  # the account is still made
    assert "email sent: no" in events(Action.USER_INVITE)[0].detail


@pytest.mark.parametrize("email", ["priya.patel@met.example", "PRIYA.PATEL@MET.EXAMPLE"])
def test_an_email_address_already_in_use_is_refused_in_plain_english(ada, email):
    invite(ada)
    mail.outbox.clear()
    with pytest.raises(ValidationError) as refused:
        invite(ada, email=email, full_name="Someone Else")
    assert refused.value.message_dict["email"] == [
        "Someone already has an account with this email address"
    ]
    assert User.objects.filter(email__iexact=email).count() == 1
    assert mail.outbox == [] and len(events(Action.USER_INVITE)) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"role": Role.OFFICER, "boroughs": []}, "boroughs", "Select at least one borough"),
        ({"role": Role.ANALYST, "boroughs": "two"}, "boroughs", "Only officers work in boroughs"),
        ({"role": "auditor"}, "role", "Select the person's role"),
        ({"role": Role.ADMIN}, "role", ONLY_SUPERUSER_ADMIN),
        ({"full_name": "   "}, "full_name", "Enter the person's full name"),
        ({"reason": "  "}, "reason", "Enter the reason for the change"),
        ({"reason": "x" * 101}, "reason", "100 characters or fewer"),
    ],
)
def test_invite_refuses_with_the_rule_broken_and_makes_nothing(
    ada, boroughs, overrides, field, message
):
    if overrides.get("boroughs") == "two":
        overrides["boroughs"] = boroughs
    before = User.objects.count()
    with pytest.raises(ValidationError) as refused:
        invite(ada, **overrides)
    assert message in " ".join(refused.value.message_dict[field])
    assert User.objects.count() == before and mail.outbox == []


def test_only_a_superuser_invites_an_admin_who_then_has_staff_status(db):
    root = User.objects.create_superuser("root", password="a-long-password-1")
    invitation = invite(root, role=Role.ADMIN)
    assert invitation.user.is_staff
    assert "authenticator app" in mail.outbox[0].body


@pytest.mark.parametrize("who", ["officer", "analyst", "approver"])
def test_nobody_but_an_admin_may_invite_change_or_deactivate(request, who, boroughs):
    by = request.getfixturevalue(who)
    target = make_user("target", Role.ANALYST)
    with pytest.raises(PermissionDenied):
        invite(by)
    with pytest.raises(PermissionDenied):
        user_change(by=by, user=target, role=Role.APPROVER, reason="Promotion")
    with pytest.raises(PermissionDenied):
        user_deactivate(by=by, user=target, reason="Left")
    assert User.objects.get(pk=target.pk).is_active
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_deactivating_stops_sign_in_and_is_audited_with_the_reason(ada, officer):
    session = Client()
    session.force_login(officer)
    assert session.get("/").status_code == 200
    user_deactivate(by=ada, user=officer, reason="Transferred to another force")
    officer.refresh_from_db()
    assert officer.is_active is False
    # Their open session ends at their next request.
    assert session.get("/")["Location"].startswith("/sign-in/")
    (event,) = events(Action.USER_DEACTIVATE)
    assert (event.user, event.target) == (ada, f"user:{officer.pk}")
    assert event.detail == "reason: Transferred to another force"
    latest = officer.history.first()
    assert (latest.is_active, latest.history_user, latest.history_change_reason) == (
        False,
        ada,
        "Transferred to another force",
    )
    assert people_filtered(status=Status.DEACTIVATED).get() == officer


def test_an_admin_cannot_deactivate_themselves(ada):
    with pytest.raises(ValidationError) as refused:
        user_deactivate(by=ada, user=ada, reason="Testing")
    assert refused.value.messages == [OWN_ACCOUNT]
    ada.refresh_from_db()
    assert ada.is_active and not events(Action.USER_DEACTIVATE)


def test_an_admin_cannot_deactivate_or_change_another_admin_but_a_superuser_can(ada):
    other = make_user("grace", Role.ADMIN, is_staff=True)
    with pytest.raises(ValidationError) as refused:
        user_deactivate(by=ada, user=other, reason="Left")
    assert refused.value.messages == [ONLY_SUPERUSER_POWER]
    with pytest.raises(ValidationError):
        user_change(by=ada, user=other, role=Role.ANALYST, reason="Moved")
    root = User.objects.create_superuser("root", password="a-long-password-1")
    user_deactivate(by=root, user=other, reason="Left")
    assert not User.objects.get(pk=other.pk).is_active


def test_reactivating_lets_the_person_sign_in_again(ada, officer):
    user_deactivate(by=ada, user=officer, reason="Long leave")
    with pytest.raises(ValidationError, match="already deactivated"):
        user_deactivate(by=ada, user=officer, reason="Again")
    user_reactivate(by=ada, user=officer, reason="Back from leave")
    officer.refresh_from_db()
    assert officer.is_active
    assert events(Action.USER_REACTIVATE)[0].detail == "reason: Back from leave"
    with pytest.raises(ValidationError, match="already active"):
        user_reactivate(by=ada, user=officer, reason="Again")


def test_change_sets_exactly_the_role_and_boroughs_given(ada, officer, boroughs):
    lewisham, southwark = sorted(boroughs, key=lambda b: b.gss_code)
    user_change(by=ada, user=officer, role=Role.OFFICER, boroughs=[southwark], reason="Moved")
    assert list(
        OfficerAssignment.objects.filter(officer=officer).values_list("borough__gss_code")
    ) == [("E09000028",)]
    (event,) = events(Action.USER_CHANGE)
    assert event.detail == (
        "role: officer -> officer; boroughs: E09000023 -> E09000028; reason: Moved"
    )
    removed = OfficerAssignment.history.filter(borough_id=lewisham.pk, history_type="-").get()
    assert (removed.history_user, removed.history_change_reason) == (ada, "Moved")

    user_change(by=ada, user=officer, role=Role.ANALYST, reason="Now an analyst")
    assert list(officer.groups.values_list("name", flat=True)) == ["analyst"]
    assert not OfficerAssignment.objects.filter(officer=officer).exists()


def test_a_new_invitation_replaces_the_old_link(ada):
    invitation = invite(ada)
    old = re.search(r"/set-password/\w+/([\w-]+)/", mail.outbox[0].body).group(1)
    again = user_invitation_resend(by=ada, user=invitation.user, site_url=SITE)
    assert again.sent and len(mail.outbox) == 2
    new = re.search(r"/set-password/\w+/([\w-]+)/", mail.outbox[1].body).group(1)
    user = User.objects.get(pk=invitation.user.pk)
    assert not invitation_tokens.check_token(user, old)
    assert invitation_tokens.check_token(user, new)
    assert events(Action.USER_INVITATION_SEND)[0].detail == "email sent: yes"


def test_no_invitation_is_sent_to_someone_who_has_a_password(ada, officer):
    with pytest.raises(ValidationError, match="already set a password"):
        user_invitation_resend(by=ada, user=officer, site_url=SITE)
    assert mail.outbox == []
