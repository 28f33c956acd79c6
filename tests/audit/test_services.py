"""Who, what, when and from where: the audit service and sign-in receivers."""

import pytest
from django.test import RequestFactory, override_settings

from audit.models import Action, AuditEvent
from audit.services import audit_record, client_address, command_actor
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_row_names_the_user_action_reference_and_address(officer):
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    event = audit_record(
        by=officer, action=Action.ENCOUNTER_VIEW, target="encounter:E-1", request=request
    )
    event.refresh_from_db()
    assert (event.user, event.actor, event.action) == (officer, "officer", "encounter.view")
    assert (event.target, event.address, event.channel) == ("encounter:E-1", "10.1.2.3", "web")


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "127.0.0.9"),  # no proxy configured: the header is the client's word
        (1, "6.6.6.6, 2.2.2.2", "2.2.2.2"),  # the address our proxy saw, not the forged one
        (2, "6.6.6.6, 2.2.2.2, 10.0.0.1", "2.2.2.2"),
        (2, "2.2.2.2", "127.0.0.9"),  # fewer hops than proxies: fall back to REMOTE_ADDR
    ],
)
def test_client_address_trusts_only_our_own_proxies(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(AUDIT_TRUSTED_PROXIES=proxies):
        assert client_address(request) == expected


def test_a_command_runs_as_the_named_user_or_the_os_account(officer, monkeypatch):
    assert command_actor(username="officer") == officer
    monkeypatch.setattr("getpass.getuser", lambda: "deploy")
    assert command_actor(username=None) == "os:deploy"


def test_signing_in_and_out_is_recorded_with_the_address(client, officer):
    client.post("/sign-in/", {"username": "officer", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    client.post("/sign-out/")
    rows = list(AuditEvent.objects.order_by("id").values_list("actor", "action", "address"))
    assert rows == [("officer", "sign-in", "10.9.9.9"), ("officer", "sign-out", "127.0.0.1")]


def test_a_failed_sign_in_names_only_a_real_account(client, officer):
    client.post("/sign-in/", {"username": "officer", "password": "wrong"})
    client.post("/sign-in/", {"username": "my-password-typed-here", "password": "x"})
    rows = list(AuditEvent.objects.order_by("id").values_list("actor", "action", "user"))
    assert rows == [
        ("officer", "sign-in-failed", None),
        ("unknown user", "sign-in-failed", None),
    ]
