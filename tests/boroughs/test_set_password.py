"""An invited person sets their password with the one-time link from their email."""

import html
import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from audit.models import Action, AuditEvent
from boroughs.roles import Role
from boroughs.users import invitation_tokens, user_deactivate, user_invite

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a very long and unusual passphrase 42"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def invited(admin_user) -> User:
    invitation = user_invite(
        by=admin_user,
        email="priya@met.example",
        full_name="Priya Patel",
        role=Role.ANALYST,
        reason="New starter",
        site_url="http://testserver",
    )
    return invitation.user


def emailed_path() -> str:
    return re.search(r"http://testserver(/set-password/\S+/)", mail.outbox[-1].body).group(1)


def choose(client: Client, path: str, first: str, second: str | None = None):
    """Open the link (the token moves into the session), then send the form."""
    form_page = client.get(path)
    assert form_page.status_code == 302
    return client.post(form_page.url, {"new_password1": first, "new_password2": second or first})


def test_the_emailed_link_sets_the_password_once_and_the_person_can_sign_in(invited):
    client = Client()
    path = emailed_path()
    opened = client.get(path)
    # The token leaves the address before the form is shown, so no Referer carries it.
    assert opened.status_code == 302 and "/set-password/" in opened.url
    page = text(client.get(opened.url))
    assert "Choose your password" in page and "priya@met.example" in page
    response = client.post(
        opened.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response.url == "/set-password/done/"
    assert "Your password is set" in text(client.get(response.url))
    user = User.objects.get(pk=invited.pk)
    assert user.check_password(NEW_PASSWORD)
    (event,) = AuditEvent.objects.filter(action=Action.USER_PASSWORD_SET)
    assert (event.user, event.target) == (user, f"user:{user.pk}")
    latest = user.history.first()
    assert (latest.history_user, latest.history_change_reason) == (
        user,
        "Set their password from an invitation",
    )
    # Used once: the same link now says it does not work, and changes nothing.
    again = Client().get(path, follow=True)
    assert "This link does not work" in text(again)
    assert "<form" not in text(again).split("main-content")[1].split("</main>")[0]


def test_an_expired_link_is_refused_with_a_plain_message(invited, monkeypatch):
    monkeypatch.setattr(invitation_tokens, "_now", lambda: datetime.now() - timedelta(days=8))
    old = invitation_tokens.make_token(invited)
    monkeypatch.undo()
    uid = emailed_path().split("/")[2]
    page = text(Client().get(f"/set-password/{uid}/{old}/", follow=True))
    assert "This link does not work" in page and "more than 7 days old" in page


@pytest.mark.parametrize("path", ["/set-password/MQ/made-up/", "/set-password/zzzz/1-2/"])
def test_a_made_up_link_is_refused(invited, path):
    response = Client().get(path)
    assert response.status_code == 200 and "This link does not work" in text(response)


def test_a_link_for_a_deactivated_account_does_not_work(invited, admin_user):
    path = emailed_path()
    user_deactivate(by=admin_user, user=invited, reason="Joined by mistake")
    assert "This link does not work" in text(Client().get(path, follow=True))


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("password", None, "This password is too common"),
        ("83749201957", None, "This password is entirely numeric"),
        ("short", None, "at least 8 characters"),
        (NEW_PASSWORD, "something else entirely", "The two passwords do not match"),
        ("", None, "Enter a password"),
    ],
)
def test_the_password_rules_apply(invited, first, second, message):
    client = Client()
    response = choose(client, emailed_path(), first, second)
    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page and message in page
    assert not User.objects.get(pk=invited.pk).has_usable_password()
