"""Admins' borough pages: list, change with a reason, history; nobody else gets in."""

import html
import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from boroughs.models import Borough
from boroughs.services import borough_configure
from tests.conftest import enrol, make_user

pytestmark = pytest.mark.django_db

LEWISHAM = "E09000023"


def dmy(name: str, day: date | None) -> dict[str, str]:
    """The day, month and year boxes of a GOV.UK date input."""
    if day is None:
        return {f"{name}_0": "", f"{name}_1": "", f"{name}_2": ""}
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


def change_data(role: str, start: date | None = None, end: date | None = None, reason="Board"):
    return (
        {"role": role, "change_reason": reason} | dmy("pilot_start", start) | dmy("pilot_end", end)
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def signed_in_admin(client, admin_user):
    admin_user.first_name, admin_user.last_name = "Ada", "Admin"
    admin_user.save()
    client.force_login(admin_user)
    return client


def test_list_shows_every_borough_with_code_role_and_pilot_dates(
    signed_in_admin, django_assert_max_num_queries
):
    borough_configure(
        gss_code=LEWISHAM, role="pilot", pilot_start=date(2026, 1, 5), pilot_end=date(2026, 12, 31)
    )
    borough_configure(gss_code="E09000022", role="comparison")
    # Fixed whatever the boroughs hold; 4 of these keep the session (saved on every request)
    # and check the second factor.
    with django_assert_max_num_queries(12):
        response = signed_in_admin.get("/boroughs/")
    page = text(response)
    assert response.status_code == 200
    assert page.count('class="govuk-table__row"') == 34  # header and 33 boroughs
    assert "E09000033" in page and "Westminster" in page
    assert '5 Jan 2026</span> to <span class="app-nowrap">31 Dec 2026' in page
    assert "Comparison</strong>" in page
    assert f'href="/boroughs/{LEWISHAM}/change/"' in page
    assert f'href="/boroughs/{LEWISHAM}/history/"' in page


def test_change_page_shows_the_current_settings(signed_in_admin):
    borough_configure(gss_code=LEWISHAM, role="pilot", pilot_start=date(2026, 1, 5))
    page = text(signed_in_admin.get(f"/boroughs/{LEWISHAM}/change/"))
    assert re.search(r'value="pilot"\s+checked', page)
    assert not re.search(r'value="comparison"\s+checked', page)
    assert 'name="pilot_start_0" value="5"' in page
    assert 'name="pilot_start_2" value="2026"' in page


def test_admin_changes_a_borough_with_a_reason_kept_in_history(signed_in_admin, admin_user):
    response = signed_in_admin.post(
        f"/boroughs/{LEWISHAM}/change/",
        change_data("pilot", date(2026, 1, 5), date(2026, 6, 30), reason="MOPAC board approval"),
    )
    assert response.status_code == 302 and response.url == "/boroughs/"
    borough = Borough.objects.get(gss_code=LEWISHAM)
    assert (borough.role, borough.pilot_start, borough.pilot_end) == (
        "pilot",
        date(2026, 1, 5),
        date(2026, 6, 30),
    )
    latest = borough.history.first()
    assert latest.history_user == admin_user
    assert latest.history_change_reason == "MOPAC board approval"
    assert "Lewisham: changes saved" in text(signed_in_admin.get("/boroughs/"))


@pytest.mark.parametrize("role", ["comparison", "none"])
@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 1, 5), None), (None, date(2026, 6, 30)), (date(2026, 1, 5), date(2026, 6, 30))],
)
def test_dates_on_a_borough_that_is_not_a_pilot_are_refused_and_nothing_is_saved(
    signed_in_admin, role, start, end
):
    before = Borough.history.count()
    response = signed_in_admin.post(f"/boroughs/{LEWISHAM}/change/", change_data(role, start, end))
    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Only a pilot borough has pilot dates" in page
    borough = Borough.objects.get(gss_code=LEWISHAM)
    assert (borough.role, borough.pilot_start, borough.pilot_end) == ("none", None, None)
    assert Borough.history.count() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (change_data("pilot", date(2026, 1, 5), reason=""), "Enter the reason for the change"),
        (change_data("pilot", date(2026, 1, 5), reason="   "), "Enter the reason for the change"),
        (change_data("pilot", reason="x" * 101), "100 characters or fewer"),
        (change_data("pilot"), "A pilot borough needs a pilot start date"),
        (
            change_data("pilot", date(2026, 2, 1), date(2026, 1, 31)),
            "must be on or after its start date",
        ),
        (
            change_data("pilot")
            | {"pilot_start_0": "30", "pilot_start_1": "2", "pilot_start_2": "2026"},
            "must be a real date",
        ),
        ({**change_data("pilot", date(2026, 1, 5)), "role": ""}, "Select the borough's role"),
        ({**change_data("pilot", date(2026, 1, 5)), "role": "trial"}, "Select a valid choice"),
    ],
)
def test_change_form_explains_each_problem_and_saves_nothing(signed_in_admin, data, message):
    before = Borough.history.count()
    response = signed_in_admin.post(f"/boroughs/{LEWISHAM}/change/", data)
    assert response.status_code == 200
    assert message in text(response)
    assert Borough.objects.get(gss_code=LEWISHAM).role == "none"
    assert Borough.history.count() == before


def test_every_problem_is_listed_at_once(signed_in_admin):
    response = signed_in_admin.post(
        f"/boroughs/{LEWISHAM}/change/", change_data("comparison", date(2026, 1, 5), reason="")
    )
    page = text(response)
    assert page.index("Only a pilot borough has pilot dates") < page.index(
        "Enter the reason for the change"
    )
    assert 'href="#id_pilot_start_0"' in page  # the summary links to the day box


def test_history_shows_who_when_what_changed_and_why(signed_in_admin):
    signed_in_admin.post(
        f"/boroughs/{LEWISHAM}/change/",
        change_data("pilot", date(2026, 1, 5), reason="MOPAC board approval"),
    )
    call_command("set_borough", LEWISHAM, "--role", "comparison", stdout=StringIO())
    latest, admin_change, shipped = Borough.objects.get(gss_code=LEWISHAM).history.all()
    page = text(signed_in_admin.get(f"/boroughs/{LEWISHAM}/history/"))
    # Newest first: the command's change (no user, no reason), the admin's, then as shipped.
    assert page.index("No reason given") < page.index("MOPAC board approval")
    assert page.index("MOPAC board approval") < page.index("Shipped with the service")
    assert "by Ada Admin" in page
    assert "Changed outside the website (no user recorded)" in page
    arrow = '<span aria-hidden="true">→</span><span class="govuk-visually-hidden">changed to</span>'
    assert f"Not taking part {arrow} Pilot" in page
    assert f"Not set {arrow} 5 January 2026" in page
    assert f"Pilot {arrow} Comparison" in page
    assert f"5 January 2026 {arrow} Not set" in page
    assert "First recorded settings" in page
    assert f'datetime="{timezone.localtime(admin_change.history_date).isoformat()}"' in page
    assert latest.history_user is None and shipped.history_type == "+"
    assert "None" not in page


def test_history_of_a_borough_without_a_first_record_shows_what_its_first_change_set(
    signed_in_admin,
):
    Borough.history.filter(gss_code=LEWISHAM).delete()
    borough_configure(gss_code=LEWISHAM, role="pilot", pilot_start=date(2026, 1, 5))
    page = text(signed_in_admin.get(f"/boroughs/{LEWISHAM}/history/"))
    assert "First recorded settings" in page
    assert "Pilot start date</dt>" in page and "5 January 2026" in page
    assert "No reason given" in page


@pytest.mark.parametrize("who", ["officer", "analyst", "approver"])
@pytest.mark.parametrize(
    "path", ["/boroughs/", f"/boroughs/{LEWISHAM}/change/", f"/boroughs/{LEWISHAM}/history/"]
)
def test_other_roles_are_refused(client, request, who, path):
    client.force_login(request.getfixturevalue(who))
    response = client.get(path)
    assert response.status_code == 403
    assert "You do not have permission to see this page" in text(response)


def test_other_roles_cannot_change_a_borough_by_posting(client, officer):
    client.force_login(officer)
    response = client.post(f"/boroughs/{LEWISHAM}/change/", change_data("comparison"))
    assert response.status_code == 403
    assert Borough.objects.get(gss_code=LEWISHAM).role == "none"


def test_someone_with_no_role_is_refused(client):
    client.force_login(make_user("nobody"))
    assert client.get("/boroughs/").status_code == 403


def test_superuser_may_configure_boroughs(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x" * 12)  # no group
    enrol(root)  # a superuser needs a second factor
    client.force_login(root)
    response = client.post(f"/boroughs/{LEWISHAM}/change/", change_data("comparison"))
    assert response.status_code == 302
    assert Borough.objects.get(gss_code=LEWISHAM).role == "comparison"


@pytest.mark.parametrize("path", ["/boroughs/E09000099/change/", "/boroughs/nowhere/history/"])
def test_unknown_borough_is_not_found(signed_in_admin, path):
    response = signed_in_admin.get(path)
    assert response.status_code == 404
    assert "Page not found" in text(response)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/boroughs/")
    assert response.status_code == 302 and response.url.startswith("/sign-in/")


def test_admin_home_page_links_to_the_borough_pages(signed_in_admin):
    assert 'href="/boroughs/"' in text(signed_in_admin.get("/"))
