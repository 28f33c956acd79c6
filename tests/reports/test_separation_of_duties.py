"""Separation of duties: nobody gives themselves power, admins never decide reports, and nobody
decides a report they built or submitted. Role changes are kept in history with who and why."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from boroughs.roles import Role
from reports.models import ReportStatus
from reports.workflow import WorkflowError, decision_refusal, report_approve, report_return
from tests.conftest import enrol, make_user
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db

ADMIN, APPROVER, ANALYST = Role.ADMIN.value, Role.APPROVER.value, Role.ANALYST.value


@pytest.mark.parametrize(
    ("roles", "built_by", "submitted_by", "refused"),
    [
        ({APPROVER}, 2, 3, None),
        ({APPROVER}, None, 3, None),
        ({APPROVER, ANALYST}, 1, 3, "built it"),
        ({APPROVER, ANALYST}, 2, 1, "submitted it"),
        ({APPROVER, ADMIN}, 2, 3, "Admins cannot"),
        ({ADMIN}, 2, 3, "Admins cannot"),
        ({ANALYST}, 2, 3, "Only approvers"),
        (set(), None, None, "Only approvers"),
    ],
)
def test_who_may_decide_a_report(roles, built_by, submitted_by, refused):
    refusal = decision_refusal(
        user_id=1, roles=frozenset(roles), built_by_id=built_by, submitted_by_id=submitted_by
    )
    assert (refusal is None) if refused is None else (refused in refusal)


def _submitted(**fields):
    submitter = make_user("submitter", ANALYST)
    return make_version(status=ReportStatus.SUBMITTED, submitted_by=submitter, **fields)


def test_an_admin_who_is_also_an_approver_cannot_approve_or_return():
    version = _submitted()
    both = make_user("both", ADMIN, APPROVER, is_staff=True)
    with pytest.raises(WorkflowError, match="Admins cannot"):
        report_approve(version=version, by=both)
    with pytest.raises(WorkflowError, match="Admins cannot"):
        report_return(version=version, by=both, comment="No")
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED


def test_a_superuser_without_the_approver_role_cannot_approve():
    version = _submitted()
    root = User.objects.create_superuser("root", password="x-x-x-x-x-x")
    with pytest.raises(WorkflowError, match="Admins cannot"):
        report_approve(version=version, by=root)
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED and version.decided_by is None


def test_nobody_approves_a_report_they_built():
    builder = make_user("builder", ANALYST, APPROVER)
    version = _submitted(built_by=builder)
    with pytest.raises(WorkflowError, match="built it"):
        report_approve(version=version, by=builder)
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED


def test_the_decision_form_is_hidden_from_the_builder_but_shown_to_another_approver(
    client, approver
):
    builder = make_user("builder", ANALYST, APPROVER)
    enrol(builder)
    version = _submitted(built_by=builder)
    client.force_login(builder)
    assert "Your decision" not in client.get(version.get_absolute_url()).content.decode()
    client.force_login(approver)
    assert "Your decision" in client.get(version.get_absolute_url()).content.decode()


def test_the_builder_posting_a_decision_anyway_changes_nothing(client):
    builder = make_user("builder", ANALYST, APPROVER)
    enrol(builder)
    version = _submitted(built_by=builder)
    client.force_login(builder)
    url = reverse("reports:version_decide", kwargs={"week": version.week, "number": version.number})
    response = client.post(url, {"decision": "approve", "comment": ""}, follow=True)
    assert "Someone other than the person who built it" in response.content.decode()
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED


# --- The user admin ------------------------------------------------------------------------


def _user_form(client, user: User, **changes) -> dict:
    """The user's change form as the admin page fills it, with the given changes."""
    page = client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert page.status_code == 200
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "change_reason": "Joined the approvals team",
    }
    if user.is_active:
        data["is_active"] = "on"
    data["groups"] = [str(g.pk) for g in user.groups.all()]
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(changes)
    return data


def _group(name: str) -> str:
    return str(Group.objects.get(name=name).pk)


def test_an_admin_cannot_make_themselves_superuser_or_give_themselves_roles(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[admin_user.pk])
    data = _user_form(
        client,
        admin_user,
        is_superuser="on",
        is_staff="on",
        groups=[_group(ADMIN), _group(APPROVER)],
    )
    client.post(url, data)
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser
    assert set(admin_user.groups.values_list("name", flat=True)) == {ADMIN}


def test_an_admin_grants_a_working_role_with_a_reason_kept_in_history(client, admin_user):
    person = make_user("newbie")
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[person.pk])
    response = client.post(url, _user_form(client, person, groups=[_group(APPROVER)]))
    assert response.status_code == 302
    assert list(person.groups.values_list("name", flat=True)) == [APPROVER]
    record = person.history.latest()
    assert record.history_user == admin_user
    assert record.history_change_reason == "Joined the approvals team"
    assert [g.group.name for g in record.groups.all()] == [APPROVER]


def test_a_change_to_a_user_without_a_reason_is_refused_and_changes_nothing(client, admin_user):
    person = make_user("newbie")
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[person.pk])
    data = _user_form(client, person, groups=[_group(APPROVER)], change_reason="")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Enter why you are making this change" in response.content.decode()
    assert not person.groups.exists()


def test_an_admin_cannot_grant_the_admin_role_or_staff_status(client, admin_user):
    person = make_user("newbie")
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[person.pk])
    response = client.post(url, _user_form(client, person, groups=[_group(ADMIN)], is_staff="on"))
    assert response.status_code == 200  # the admin group is not a choice
    person.refresh_from_db()
    assert not person.is_staff and not person.groups.exists()


def test_an_admin_cannot_change_another_admins_or_a_superusers_account(client, admin_user):
    other = make_user("other-admin", ADMIN, is_staff=True)
    root = User.objects.create_superuser("root", password="x-x-x-x-x-x")
    client.force_login(admin_user)
    for target in (other, root):
        url = reverse("admin:auth_user_change", args=[target.pk])
        # The admin shows such an account read-only, and refuses a change or a new password.
        assert client.post(url, {"username": "taken-over"}).status_code == 403
        password = reverse("admin:auth_user_password_change", args=[target.pk])
        assert client.get(password).status_code == 403
        target.refresh_from_db()
        assert target.username != "taken-over"


def test_only_a_superuser_makes_an_admin_and_nobody_makes_a_superuser_in_the_admin(client):
    root = User.objects.create_superuser("root", password="x-x-x-x-x-x")
    enrol(root)
    person = make_user("newbie")
    client.force_login(root)
    url = reverse("admin:auth_user_change", args=[person.pk])
    data = _user_form(client, person, groups=[_group(ADMIN)], is_staff="on", is_superuser="on")
    assert client.post(url, data).status_code == 302
    person.refresh_from_db()
    assert person.is_staff and not person.is_superuser
    assert list(person.groups.values_list("name", flat=True)) == [ADMIN]
    assert person.history.latest().history_user == root


def test_a_new_account_needs_a_reason_kept_in_its_history(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:auth_user_add")
    page = client.get(url)
    assert page.status_code == 200
    data = {"username": "newbie", "password1": "a-Long-pass-phrase-42"}
    data["password2"] = data["password1"]
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    refused = client.post(url, data)
    assert refused.status_code == 200 and not User.objects.filter(username="newbie").exists()
    assert client.post(url, {**data, "change_reason": "Started at MOPAC"}).status_code == 302
    record = User.objects.get(username="newbie").history.earliest()
    assert (record.history_user, record.history_change_reason) == (admin_user, "Started at MOPAC")


def test_a_change_to_what_a_role_may_do_is_kept_in_history(client):
    root = User.objects.create_superuser("root", password="x-x-x-x-x-x")
    enrol(root)
    client.force_login(root)
    approvers = Group.objects.get(name=APPROVER)
    url = reverse("admin:auth_group_change", args=[approvers.pk])
    kept = [str(p) for p in approvers.permissions.values_list("pk", flat=True)]
    assert client.post(url, {"name": APPROVER, "permissions": kept[:1]}).status_code == 302
    record = approvers.history.latest()
    assert record.history_user == root
    assert [str(p.permission_id) for p in record.permissions.all()] == kept[:1]
