"""The Django admin for boroughs and users: the same rules and history as the borough pages."""

import html
from io import StringIO

import pytest
from django.core.management import call_command

from boroughs.models import Borough
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LEWISHAM = "E09000023"


@pytest.fixture
def admin_client_(client, admin_user):
    """A client signed in as the admin role (staff, not superuser)."""
    client.force_login(admin_user)
    return client


def change_url() -> str:
    return f"/admin/boroughs/borough/{Borough.objects.get(gss_code=LEWISHAM).pk}/change/"


def history_url() -> str:
    return f"/admin/boroughs/borough/{Borough.objects.get(gss_code=LEWISHAM).pk}/history/"


def post(client, role: str, start: str = "", end: str = "", reason: str = "Board approval"):
    data = {"role": role, "pilot_start": start, "pilot_end": end, "change_reason": reason}
    return client.post(change_url(), data)


@pytest.mark.parametrize(("start", "end"), [("2026-01-05", ""), ("", "2026-06-30")])
def test_dates_on_a_comparison_borough_are_refused_with_a_message(admin_client_, start, end):
    before = Borough.history.count()
    response = post(admin_client_, "comparison", start, end)
    assert response.status_code == 200
    assert "Only a pilot borough has pilot dates" in html.unescape(response.content.decode())
    assert Borough.objects.get(gss_code=LEWISHAM).role == "none"
    assert Borough.history.count() == before


def test_a_change_needs_a_reason(admin_client_):
    response = post(admin_client_, "pilot", "2026-01-05", reason="")
    assert response.status_code == 200
    assert "Enter the reason for the change" in response.content.decode()
    assert Borough.objects.get(gss_code=LEWISHAM).role == "none"


def test_pilot_needs_a_start_date(admin_client_):
    response = post(admin_client_, "pilot")
    assert "A pilot borough needs a pilot start date" in response.content.decode()


def test_change_is_saved_with_who_and_why(admin_client_, admin_user):
    response = post(admin_client_, "pilot", "2026-01-05", "2026-06-30", "MOPAC board approval")
    assert response.status_code == 302
    latest = Borough.objects.get(gss_code=LEWISHAM).history.first()
    assert (latest.role, str(latest.pilot_start), str(latest.pilot_end)) == (
        "pilot",
        "2026-01-05",
        "2026-06-30",
    )
    assert latest.history_user == admin_user
    assert latest.history_change_reason == "MOPAC board approval"


def test_first_change_to_a_seeded_borough_shows_what_changed_and_why(admin_client_):
    post(admin_client_, "pilot", "2026-01-05", reason="MOPAC board approval")
    page = html.unescape(admin_client_.get(history_url()).content.decode())
    assert "MOPAC board approval" in page
    assert "<strong>role:</strong>" in page.lower()
    assert "Shipped with the service" in page
    assert ">None<" not in page.replace(" ", "").replace("\n", "")


def test_a_change_with_no_reason_says_so_instead_of_none(admin_client_):
    call_command("set_borough", LEWISHAM, "--role", "comparison", stdout=StringIO())
    page = admin_client_.get(history_url()).content.decode()
    assert "No reason given" in page
    assert "No user recorded" in page


def test_user_form_gives_roles_as_checkboxes_and_no_single_permissions(admin_client_):
    someone = make_user("someone")
    page = admin_client_.get(f"/admin/auth/user/{someone.pk}/change/").content.decode()
    assert 'type="checkbox" name="groups"' in page
    assert 'name="user_permissions"' not in page
    assert 'name="last_login_0"' not in page  # shown, not edited


def test_admin_gives_an_officer_a_borough(admin_client_):
    someone = make_user("someone", "officer")
    lewisham = Borough.objects.get(gss_code=LEWISHAM)
    response = admin_client_.post(
        f"/admin/auth/user/{someone.pk}/change/",
        {
            "username": "someone",
            "is_active": "on",
            "groups": [g.pk for g in someone.groups.all()],
            "assignments-TOTAL_FORMS": "1",
            "assignments-INITIAL_FORMS": "0",
            "assignments-MIN_NUM_FORMS": "0",
            "assignments-MAX_NUM_FORMS": "1000",
            "assignments-0-borough": str(lewisham.pk),
            "assignments-0-officer": str(someone.pk),
            "change_reason": "Posted to Lewisham",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(someone.assignments.values_list("borough__gss_code", flat=True)) == [LEWISHAM]
