"""Admins' people pages: list, invite, one person, change, deactivate; nobody else gets in."""

import html
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail

from audit.models import Action, AuditEvent
from boroughs.models import OfficerAssignment
from boroughs.roles import Role
from boroughs.user_selectors import PAGE_SIZE
from boroughs.users import OWN_ACCOUNT, user_deactivate
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def signed_in_admin(client, admin_user):
    admin_user.first_name, admin_user.last_name = "Ada", "Admin"
    admin_user.save()
    client.force_login(admin_user)
    return client


def invite_data(**overrides) -> dict:
    return {
        "full_name": "Priya Patel",
        "email": "priya@met.example",
        "role": "officer",
        "boroughs": ["E09000023"],
        "reason": "New starter",
    } | overrides


def test_admin_home_page_links_to_the_people_pages(signed_in_admin):
    page = text(signed_in_admin.get("/"))
    assert 'href="/users/">People who can sign in</a>' in page


def test_list_shows_role_boroughs_status_and_last_sign_in_in_fixed_queries(
    signed_in_admin, officer, analyst, django_assert_num_queries
):
    for number in range(5):
        extra = make_user(f"officer-{number}", Role.OFFICER, first_name=f"Extra {number}")
        OfficerAssignment.objects.create(officer=extra, borough=officer.assignments.get().borough)
    analyst.last_login = analyst.date_joined
    analyst.save()
    # Whatever the number of people: the session, user and second factor (3), the admin's
    # permissions (2) and roles (1), savepoints and the session's save (5); then the count, the
    # page of people, their roles and their boroughs (4).
    with django_assert_num_queries(15):
        response = signed_in_admin.get("/users/")
    page = text(response)
    assert response.status_code == 200
    assert "8 people" in page  # the admin, officer, analyst and the five extra officers
    card = page[page.index(">Olu Officer<") :]
    card = card[: card.index("</dl>")]
    assert "Officer" in card and "Lewisham" in card and "Never" in card
    assert f"{analyst.date_joined:%-d %b %Y}" in page
    assert f'href="/users/{officer.pk}/"' in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("role=analyst", ["analyst"], ["Olu Officer"]),
        ("role=officer", ["Olu Officer"], [">analyst<"]),
        ("status=deactivated", ["Olu Officer"], [">analyst<"]),
        ("status=active", [">analyst<"], ["Olu Officer"]),
    ],
)
def test_list_filters_by_role_and_status(
    signed_in_admin, admin_user, officer, analyst, query, shown, hidden
):
    user_deactivate(by=admin_user, user=officer, reason="Left")
    page = text(signed_in_admin.get(f"/users/?{query}"))
    for name in shown:
        assert name in page
    for name in hidden:
        assert name not in page


def test_list_is_paged(signed_in_admin):
    for number in range(PAGE_SIZE + 1):
        make_user(f"person-{number:02}", Role.ANALYST)
    first = text(signed_in_admin.get("/users/?role=analyst"))
    assert "26 people" in first and "Page 1 of 2" in first
    assert 'href="?role=analyst&page=2"' in first
    second = text(signed_in_admin.get("/users/?role=analyst&page=2"))
    assert "person-25" in second and "person-24" not in second


def test_invite_page_offers_no_admin_role_to_an_admin(signed_in_admin):
    page = text(signed_in_admin.get("/users/invite/"))
    assert 'value="officer"' in page and 'value="admin"' not in page
    assert "Pilot" in page or "Not taking part" in page  # each borough says its part


def test_invite_sends_the_email_and_says_so(signed_in_admin):
    response = signed_in_admin.post("/users/invite/", invite_data())
    user = User.objects.get(email="priya@met.example")
    assert response.status_code == 302 and response.url == f"/users/{user.pk}/"
    assert len(mail.outbox) == 1
    page = text(signed_in_admin.get(response.url))
    assert "Priya Patel has been invited. The invitation was emailed to priya@met.example." in page
    assert "Invited</strong>" in page
    assert "Invited a person to sign in" in page  # the account's history, from the audit trail
    assert "Send the invitation again" in page


def test_invite_says_when_the_email_could_not_be_sent(signed_in_admin, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("boroughs.users.send_mail", refuse)
    response = signed_in_admin.post("/users/invite/", invite_data(), follow=True)
    page = text(response)
    assert "could not be sent" in page and "was emailed" not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (invite_data(email="analyst@example.com"), "Someone already has an account"),
        (invite_data(email="not-an-address"), "Enter an email address in the correct format"),
        (invite_data(full_name=""), "Enter the person's full name"),
        (invite_data(boroughs=[]), "Select at least one borough the officer works in"),
        (invite_data(role="analyst"), "Only officers work in boroughs"),
        (invite_data(role="admin", boroughs=[]), "Select one of the roles shown"),
        (invite_data(role=""), "Select the person's role"),
        (invite_data(reason=" "), "Enter the reason for the change"),
    ],
)
def test_invite_form_errors_are_listed_in_plain_english(signed_in_admin, analyst, data, message):
    analyst.email = "analyst@example.com"
    analyst.save()
    before = User.objects.count()
    response = signed_in_admin.post("/users/invite/", data)
    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page and message in page
    assert page.startswith("<!DOCTYPE") and "<title>Error: Invite someone" in page
    assert User.objects.count() == before and mail.outbox == []


def test_person_page_shows_details_and_actions_in_fixed_queries(
    signed_in_admin, officer, django_assert_num_queries
):
    # As the list (11 of the same), plus the person with roles and boroughs (3) and the
    # account's audit rows (1); the officer's own boroughs do not add queries.
    with django_assert_num_queries(16):
        page = text(signed_in_admin.get(f"/users/{officer.pk}/"))
    assert "Olu Officer" in page and "Lewisham" in page
    assert f'href="/users/{officer.pk}/change/"' in page
    assert f'href="/users/{officer.pk}/deactivate/"' in page


def test_an_admin_is_not_offered_changes_to_their_own_account(signed_in_admin, admin_user):
    page = text(signed_in_admin.get(f"/users/{admin_user.pk}/"))
    assert OWN_ACCOUNT in page
    assert f"/users/{admin_user.pk}/deactivate/" not in page
    response = signed_in_admin.post(
        f"/users/{admin_user.pk}/deactivate/", {"reason": "Trying"}, follow=True
    )
    assert OWN_ACCOUNT in text(response)
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert not AuditEvent.objects.filter(action=Action.USER_DEACTIVATE).exists()


def test_admin_deactivates_and_reactivates_with_a_reason(signed_in_admin, officer):
    page = text(signed_in_admin.get(f"/users/{officer.pk}/deactivate/"))
    assert "Deactivate this account" in page and "govuk-button--warning" in page
    refused = signed_in_admin.post(f"/users/{officer.pk}/deactivate/", {"reason": ""})
    assert "Enter the reason for the change" in text(refused)
    officer.refresh_from_db()
    assert officer.is_active

    done = signed_in_admin.post(f"/users/{officer.pk}/deactivate/", {"reason": "Left the Met"})
    assert done.status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active
    page = text(signed_in_admin.get(done.url))
    assert "Olu Officer's account has been deactivated" in page
    assert "Deactivated</strong>" in page and "reason: Left the Met" in page

    signed_in_admin.post(f"/users/{officer.pk}/reactivate/", {"reason": "Rejoined"})
    officer.refresh_from_db()
    assert officer.is_active


def test_admin_changes_role_and_boroughs(signed_in_admin, officer):
    page = text(signed_in_admin.get(f"/users/{officer.pk}/change/"))
    assert re.search(r'value="officer"\s+checked', page)
    assert re.search(r'value="E09000023"\s+checked', page)
    response = signed_in_admin.post(
        f"/users/{officer.pk}/change/",
        {"role": "officer", "boroughs": ["E09000023", "E09000028"], "reason": "Covers two"},
    )
    assert response.status_code == 302
    codes = officer.assignments.values_list("borough__gss_code", flat=True)
    assert sorted(codes) == ["E09000023", "E09000028"]
    assert "Olu Officer: changes saved" in text(signed_in_admin.get(response.url))


def test_unknown_person_is_not_found(signed_in_admin):
    assert signed_in_admin.get("/users/999999/").status_code == 404


@pytest.mark.parametrize("who", ["officer", "analyst", "approver"])
def test_only_admins_reach_the_people_pages(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    for url in ("/users/", "/users/invite/", f"/users/{user.pk}/", f"/users/{user.pk}/change/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/users/invite/", invite_data()).status_code == 403
    assert not User.objects.filter(email="priya@met.example").exists()
