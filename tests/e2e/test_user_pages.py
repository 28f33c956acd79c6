"""Admins' people pages and the set-password link, in a real browser.

Each page visited is checked with axe-core, and for sideways scrolling, on a phone
(390 × 844) and a desktop (1280 × 800).
"""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from playwright.sync_api import expect

from audit.models import Action, AuditEvent
from boroughs.roles import Role
from boroughs.users import user_invite
from tests.conftest import PASSWORD, enrol, make_user
from tests.e2e.conftest import axe_violations, page_fits_width

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
NEW_PASSWORD = "a very long and unusual passphrase 42"


def check(page, size: dict) -> None:
    assert page_fits_width(page, size["width"])
    assert axe_violations(page) == []


@SIZES
def test_admin_invites_changes_and_deactivates_a_person(page, live_server, sign_in, size):
    enrol(make_user("ada", "admin", is_staff=True, first_name="Ada", last_name="Admin"))
    make_user("sam", Role.ANALYST, first_name="Sam", last_name="Analyst")
    page.set_viewport_size(size)
    sign_in("ada", PASSWORD)
    page.get_by_role("link", name="People who can sign in").click()
    expect(page.get_by_role("heading", name="People who can sign in", level=1)).to_be_visible()
    check(page, size)

    page.get_by_label("Role").select_option("analyst")
    page.get_by_role("button", name="Show people").click()
    expect(page.get_by_role("heading", name="1 person with these filters")).to_be_visible()
    check(page, size)

    page.get_by_role("button", name="Invite someone").click()
    expect(page.get_by_role("heading", name="Invite someone", level=1)).to_be_visible()
    check(page, size)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_role("link", name="Enter the person's full name")).to_be_visible()
    check(page, size)

    page.get_by_label("Full name").fill("Priya Patel")
    page.get_by_label("Email address").fill("priya.patel@met.example")
    page.get_by_label("Officer", exact=True).check()
    page.get_by_label("Lewisham").check()
    page.get_by_label("Why are you inviting them?").fill("New starter in Lewisham")
    page.get_by_role("button", name="Send invitation").click()
    expect(
        page.get_by_text("The invitation was emailed to priya.patel@met.example")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Priya Patel", level=1)).to_be_visible()
    check(page, size)
    assert len(mail.outbox) == 1 and "Ada Admin has invited you" in mail.outbox[0].body

    page.get_by_role("link", name="Change role and boroughs").click()
    page.get_by_label("Southwark").check()
    page.get_by_label("Reason for the change").fill("Covers Southwark too")
    check(page, size)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Priya Patel: changes saved")).to_be_visible()

    page.get_by_role("link", name="Deactivate the account").click()
    expect(page.get_by_role("heading", name="Deactivate this account")).to_be_visible()
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.get_by_role("link", name="Enter the reason for the change")).to_be_visible()
    check(page, size)
    page.get_by_label("Reason for the change").fill("Invited by mistake")
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.get_by_text("Priya Patel's account has been deactivated")).to_be_visible()
    expect(page.get_by_text("Deactivated a person's account")).to_be_visible()
    check(page, size)
    priya = User.objects.get(email="priya.patel@met.example")
    assert not priya.is_active
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {Action.USER_INVITE, Action.USER_CHANGE, Action.USER_DEACTIVATE} <= actions


@SIZES
def test_invited_person_chooses_a_password_and_signs_in(page, live_server, size):
    admin = make_user("ada", "admin", is_staff=True, first_name="Ada", last_name="Admin")
    user_invite(
        by=admin,
        email="sam@mopac.example",
        full_name="Sam Analyst",
        role=Role.ANALYST,
        reason="New analyst",
        site_url=live_server.url,
    )
    link = re.search(r"http://\S+/set-password/\S+/", mail.outbox[0].body).group(0)
    page.set_viewport_size(size)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    check(page, size)

    page.get_by_label("New password").fill("password")
    page.get_by_label("Enter the password again").fill("password")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("link", name="This password is too common.")).to_be_visible()
    check(page, size)

    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Enter the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Your password is set")).to_be_visible()
    check(page, size)

    page.goto(link)  # used once: it no longer works
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    check(page, size)

    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("sam@mopac.example")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Analyst", level=2)).to_be_visible()
