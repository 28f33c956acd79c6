"""Sign-in security through the real forms: lockout after repeated failures, a second factor
for admins and approvers, and sessions that end after 30 minutes idle or 12 hours in all."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.middleware import LAST_SEEN_AT, SIGNED_IN_AT
from tests.conftest import PASSWORD, make_user, totp_code

pytestmark = pytest.mark.django_db

SIGN_IN = "/sign-in/"
ADMIN_SIGN_IN = "/admin/login/"
LOCKED = "Your account is locked for 15 minutes"


def _attempt(client: Client, url: str, username: str, password: str, address="127.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client: Client, url: str, username: str, times: int = 5, address="127.0.0.1") -> None:
    for attempt in range(1, times + 1):
        response = _attempt(client, url, username, "wrong password", address)
        # The form again until the fifth failure, which brings the lockout page.
        assert response.status_code == (429 if attempt == 5 else 200)


# --- Lockout -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [SIGN_IN, ADMIN_SIGN_IN])
def test_five_failures_lock_the_account_and_the_right_password_is_then_refused(url, officer):
    client = Client()
    _fail(client, url, "officer")
    response = _attempt(client, url, "officer", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page and "govuk-heading-l" in page  # a GOV.UK page, not a bare error
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_four_failures_then_the_right_password_signs_in(officer):
    client = Client()
    _fail(client, SIGN_IN, "officer", times=4)
    assert _attempt(client, SIGN_IN, "officer", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200


def test_failures_on_the_admin_form_count_towards_the_service_form(admin_user):
    client = Client()
    _fail(client, ADMIN_SIGN_IN, "admin", times=3)
    assert _attempt(client, SIGN_IN, "admin", "wrong password").status_code == 200
    assert _attempt(client, SIGN_IN, "admin", "wrong password").status_code == 429
    assert _attempt(client, SIGN_IN, "admin", PASSWORD).status_code == 429


def test_a_lockout_leaves_other_users_and_other_addresses_alone(officer, analyst):
    _fail(Client(), SIGN_IN, "officer", address="10.0.0.1")
    assert _attempt(Client(), SIGN_IN, "officer", PASSWORD, "10.0.0.1").status_code == 429
    assert _attempt(Client(), SIGN_IN, "analyst", PASSWORD, "10.0.0.1").status_code == 302
    assert _attempt(Client(), SIGN_IN, "officer", PASSWORD, "10.0.0.2").status_code == 302


def test_the_lock_lifts_after_15_minutes(officer):
    client = Client()
    _fail(client, SIGN_IN, "officer")
    assert _attempt(client, SIGN_IN, "officer", PASSWORD).status_code == 429
    # The wait restarts with each try, so age the latest failure, as 15 minutes passing would.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    assert _attempt(client, SIGN_IN, "officer", PASSWORD).status_code == 302


def test_the_lock_still_holds_just_before_15_minutes(officer):
    client = Client()
    _fail(client, SIGN_IN, "officer")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert _attempt(client, SIGN_IN, "officer", PASSWORD).status_code == 429


def test_an_administrator_can_lift_a_lock_at_once(officer):
    client = Client()
    _fail(client, SIGN_IN, "officer")
    reset(username="officer")
    assert _attempt(client, SIGN_IN, "officer", PASSWORD).status_code == 302


# --- Second factor -------------------------------------------------------------------------


def _wait_out_throttle(user) -> None:
    """Move the devices' last failure back, as waiting out django-otp's delay would."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(
            throttling_failure_timestamp=timezone.now() - timedelta(minutes=1)
        )


def _signed_in(username: str, url: str = SIGN_IN) -> Client:
    client = Client()
    assert _attempt(client, url, username, PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize("who", ["approver", "admin_user"])
def test_admins_and_approvers_reach_nothing_until_they_enter_a_code(request, who):
    user = request.getfixturevalue(who)
    client = _signed_in(user.username)
    for page in ("/", "/reports/", "/admin/", "/admin/auth/user/"):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.url.startswith("/two-factor/verify/?next="), page
    assert client.get("/two-factor/verify/").status_code == 200
    assert client.post("/sign-out/").status_code == 302  # signing out is always allowed


def test_a_wrong_code_is_refused(approver):
    client = _signed_in("approver")
    wrong = f"{(int(totp_code(approver)) + 1) % 1_000_000:06d}"
    response = client.post("/two-factor/verify/", {"code": wrong, "next": "/"})
    assert response.status_code == 400
    assert "Enter a correct code" in response.content.decode()
    assert client.get("/").status_code == 302


def test_the_right_code_opens_the_service_and_the_admin(admin_user):
    client = _signed_in("admin", ADMIN_SIGN_IN)
    assert client.get("/admin/").url.startswith("/two-factor/verify/")
    response = client.post(
        "/two-factor/verify/", {"code": totp_code(admin_user), "next": "/admin/"}
    )
    assert (response.status_code, response.url) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
    assert client.get("/").status_code == 200


def test_a_code_is_not_accepted_twice(approver):
    code = totp_code(approver)
    first = _signed_in("approver")
    assert first.post("/two-factor/verify/", {"code": code}).status_code == 302
    second = _signed_in("approver")
    assert second.post("/two-factor/verify/", {"code": code}).status_code == 400


def test_a_recovery_code_works_once(approver):
    code, other = approver.recovery_codes[:2]
    client = _signed_in("approver")
    response = client.post("/two-factor/verify/", {"code": code.upper(), "next": "/"}, follow=True)
    assert response.status_code == 200
    assert "You used a recovery code. You have 9 left." in response.content.decode()
    again = _signed_in("approver")
    assert again.post("/two-factor/verify/", {"code": code}).status_code == 400
    assert again.get("/").status_code == 302
    _wait_out_throttle(approver)
    assert again.post("/two-factor/verify/", {"code": other}).status_code == 302
    assert again.get("/").status_code == 200


@pytest.mark.parametrize("who", ["officer", "analyst"])
def test_officers_and_analysts_are_not_asked_for_a_code(request, who):
    user = request.getfixturevalue(who)
    assert _signed_in(user.username).get("/").status_code == 200


def test_a_new_approver_sets_up_an_authenticator_then_gets_recovery_codes():
    user = make_user("new-approver", "approver")
    client = _signed_in("new-approver")
    response = client.get("/")
    assert response.url.startswith("/two-factor/set-up/?next=")
    page = client.get(response.url)
    secret = page.context["secret"]
    assert secret in page.content.decode() and "<svg" in page.content.decode()
    assert client.get("/two-factor/set-up/").context["secret"] == secret  # same app entry

    refused = client.post("/two-factor/set-up/", {"code": "000000", "next": "/"})
    assert refused.status_code == 400
    assert "Enter the 6-digit code" in refused.content.decode()
    _wait_out_throttle(user)

    confirmed = client.post("/two-factor/set-up/", {"code": totp_code(user), "next": "/"})
    assert confirmed.status_code == 200
    codes = confirmed.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in confirmed.content.decode() for code in codes)
    assert client.get("/").status_code == 200
    # Once set up, the set-up page sends people to enter a code instead: no second app.
    assert client.get("/two-factor/set-up/").url.startswith("/two-factor/verify/")


def test_each_wrong_code_is_counted_and_makes_the_next_try_wait(approver):
    client = _signed_in("approver")
    assert client.post("/two-factor/verify/", {"code": "000000"}).status_code == 400
    device = TOTPDevice.objects.get(user=approver)
    assert device.throttling_failure_count == 1  # kept, though the code was refused
    # Three more failures in a row would make the wait 8 seconds.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=4, throttling_failure_timestamp=timezone.now()
    )
    right = client.post("/two-factor/verify/", {"code": totp_code(approver)})
    assert right.status_code == 400
    assert re.search(r"You entered a wrong code\. Wait [1-8] seconds?,", right.content.decode())
    _wait_out_throttle(approver)
    assert client.post("/two-factor/verify/", {"code": totp_code(approver)}).status_code == 302


def test_the_next_address_must_be_on_this_site(approver):
    client = _signed_in("approver")
    data = {"code": totp_code(approver), "next": "https://evil.example/"}
    assert client.post("/two-factor/verify/", data).url == "/"


# --- Session timeouts ----------------------------------------------------------------------


def _age_session(client: Client, *, signed_in: float, last_seen: float) -> None:
    session = client.session
    now = time.time()
    session[SIGNED_IN_AT] = now - signed_in
    session[LAST_SEEN_AT] = now - last_seen
    session.save()


def test_a_session_survives_29_minutes_idle(officer):
    client = _signed_in("officer")
    assert client.get("/").status_code == 200
    _age_session(client, signed_in=29 * 60, last_seen=29 * 60)
    assert client.get("/").status_code == 200


def test_a_session_ends_after_30_minutes_idle(officer):
    client = _signed_in("officer")
    assert client.get("/").status_code == 200
    _age_session(client, signed_in=31 * 60, last_seen=31 * 60)
    response = client.get("/reports/")
    assert (response.status_code, response.url) == (302, "/sign-in/?next=/reports/")
    page = client.get(response.url).content.decode()
    assert "you did nothing for 30 minutes" in page
    assert client.get("/").status_code == 302


def test_a_busy_session_still_ends_12_hours_after_sign_in(officer):
    client = _signed_in("officer")
    assert client.get("/").status_code == 200
    _age_session(client, signed_in=12 * 3600 + 1, last_seen=10)
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/sign-in/")
    assert "more than 12 hours ago" in client.get(response.url).content.decode()


def test_each_request_keeps_an_active_session_alive(officer):
    client = _signed_in("officer")
    client.get("/")
    _age_session(client, signed_in=20 * 60, last_seen=20 * 60)
    client.get("/")  # a request 20 minutes in resets the idle clock...
    session = client.session
    session[LAST_SEEN_AT] -= 20 * 60  # ...so 20 more minutes makes 20 idle, not 40
    session.save()
    assert client.get("/").status_code == 200
