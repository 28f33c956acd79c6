"""Every page needs sign-in except sign-in itself, the health checks and the pages an
invitation's set-password link leads to; roles land at home."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

OPEN = {"/healthz", "/readyz", "/sign-in/", "/set-password/done/"}


def _routes(patterns=None, prefix: str = "") -> list[str]:
    """List every concrete URL of the project (no parameters), from the URL configuration."""
    found: list[str] = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # The admin has its own sign-in; checked separately below.
            found += _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and "<" not in route and "^" not in route:
            found.append("/" + route)
    return found


def test_every_other_page_sends_visitors_to_sign_in(client):
    routes = [r for r in _routes() if r not in OPEN]
    assert "/" in routes
    for route in routes:
        response = client.get(route)
        assert response.status_code == 302, route
        assert response.url.startswith("/sign-in/?next="), route


@pytest.mark.parametrize("path", sorted(OPEN))
def test_open_pages_answer_without_sign_in(client, path):
    assert client.get(path).status_code == 200


def test_admin_needs_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_signing_in_and_out(client, officer):
    response = client.post("/sign-in/", {"username": "officer", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    client.post("/sign-out/")
    assert client.get("/").status_code == 302


def test_wrong_password_says_so_plainly(client, officer):
    response = client.post("/sign-in/", {"username": "officer", "password": "nope"})
    assert response.status_code == 200
    assert "Enter a correct username and password" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("officer", ["Log an encounter", "Lewisham"], ["Analyst", "Approver", "Admin"]),
        ("analyst", ["Review weekly reoffending reports"], ["Officer", "Approver", "Admin"]),
        ("approver", ["Approve submitted weekly reports"], ["Officer", "Analyst", "Admin"]),
        ("admin_user", ["Configure which boroughs take part", "Boroughs"], ["Officer", "Analyst"]),
    ],
)
def test_each_role_lands_on_its_own_home_page(client, request, who, shown, hidden):
    client.force_login(request.getfixturevalue(who))
    page = client.get("/").content.decode()
    for text in shown:
        assert text in page
    for heading in hidden:
        assert f">{heading}</h2>" not in page


def test_someone_with_no_role_is_told_to_ask_for_one(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password=PASSWORD))
    assert "not been given a role yet" in client.get("/").content.decode()


def test_admin_role_can_open_the_borough_admin_and_filter_by_role(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/boroughs/borough/?role__exact=none")
    assert response.status_code == 200
    assert "Westminster" in response.content.decode()


def test_other_roles_cannot_open_the_admin(client, analyst):
    client.force_login(analyst)
    assert client.get("/admin/boroughs/borough/").status_code == 302
