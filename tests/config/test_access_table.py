"""Every URL, tried as anonymous and as every role, against the access the roles should have.

The URL list is walked from config/urls.py, so a new page fails here until it is given a row.
Path parameters are filled with records inside and outside the officer's borough. Run with
``-s`` to see how many URLs each role tried.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from boroughs.services import officer_assign
from reports.models import ReoffenceImportJob
from reports.services import report_build_enqueue
from tests.conftest import enrol, make_user
from tests.diversion.factories import EncounterFactory, pilot_borough
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "officer", "analyst", "approver", "admin", "superuser")
OK, LOGIN, FORBIDDEN, NOT_FOUND = "ok", "sign-in", "403", "404"


def access(*, officer=FORBIDDEN, analyst=FORBIDDEN, approver=FORBIDDEN, admin=FORBIDDEN,
           superuser=OK, anonymous=LOGIN) -> dict[str, str]:  # fmt: skip
    return dict(
        anonymous=anonymous,
        officer=officer,
        analyst=analyst,
        approver=approver,
        admin=admin,
        superuser=superuser,
    )


OPEN = access(officer=OK, analyst=OK, approver=OK, admin=OK, anonymous=OK)
SIGNED_IN = access(officer=OK, analyst=OK, approver=OK, admin=OK)
OFFICER = access(officer=OK)
# A superuser passes the officer check but is assigned to no borough, so sees no record.
MINE = access(officer=OK, superuser=NOT_FOUND)
THEIRS = access(officer=NOT_FOUND, superuser=NOT_FOUND)
VIEW_REPORTS = access(analyst=OK, approver=OK)
SUBMIT = access(analyst=OK)
APPROVE = access(approver=OK)
AUDIT = access(admin=OK)
# An analyst sees only their own uploads; a superuser may upload but sees nobody else's.
OWN_UPLOAD = access(analyst=OK, superuser=NOT_FOUND)

# name: (method, access to records in the officer's borough, access to others' records)
TABLE: dict[str, tuple[str, dict, dict | None]] = {
    "home": ("get", SIGNED_IN, None),
    "healthz": ("get", OPEN, None),
    "readyz": ("get", OPEN, None),
    "login": ("get", OPEN, None),
    # Setting up or checking the second factor: any signed-in person may reach these pages.
    "two_factor_setup": ("get", SIGNED_IN, None),
    "two_factor_verify": ("get", SIGNED_IN, None),
    # Signing out always ends on the sign-in page.
    "logout": (
        "post",
        access(officer=LOGIN, analyst=LOGIN, approver=LOGIN, admin=LOGIN, superuser=LOGIN),
        None,
    ),  # fmt: skip
    "audit:audit_list": ("get", AUDIT, None),
    "audit:audit_csv": ("get", AUDIT, None),
    "reports:version_list": ("get", VIEW_REPORTS, None),
    # Aggregates only: analysts and approvers, and admins through their role.
    "reports:trends": ("get", access(analyst=OK, approver=OK, admin=OK), None),
    "boroughs:list": ("get", AUDIT, None),
    "boroughs:change": ("get", AUDIT, None),
    "boroughs:history": ("get", AUDIT, None),
    # People who sign in: admins only. Changing the officer is allowed; sending an officer who
    # has a password an invitation is refused with a message (a redirect).
    "users:list": ("get", AUDIT, None),
    "users:invite": ("get", AUDIT, None),
    "users:detail": ("get", AUDIT, None),
    "users:change": ("get", AUDIT, None),
    "users:deactivate": ("get", AUDIT, None),
    "users:reactivate": ("get", AUDIT, None),
    "users:resend": ("post", AUDIT, None),
    # An invitation's set-password link works without signing in (a made-up token is refused
    # on the page itself).
    "set_password": ("get", OPEN, None),
    "set_password_done": ("get", OPEN, None),
    "reports:build": ("post", SUBMIT, None),
    "reports:job_detail": ("get", VIEW_REPORTS, None),
    "reports:job_status": ("get", VIEW_REPORTS, None),
    "reports:downloads": ("get", VIEW_REPORTS, None),
    "reports:encounters_export": ("get", VIEW_REPORTS, None),
    "reports:reoffences_upload": ("get", SUBMIT, None),
    "reports:reoffence_import_detail": ("get", OWN_UPLOAD, None),
    "reports:reoffence_import_status": ("get", OWN_UPLOAD, None),
    "reports:version_detail": ("get", VIEW_REPORTS, None),
    "reports:version_submit": ("post", SUBMIT, None),
    "reports:version_decide": ("post", APPROVE, None),
    "reports:version_download": ("get", VIEW_REPORTS, None),
    "diversion:encounter_find": ("get", OFFICER, None),
    "diversion:encounter_choose": ("get", OFFICER, None),
    "diversion:encounter_person_new": ("get", OFFICER, None),
    "diversion:encounter_details": ("get", OFFICER, None),
    "diversion:encounter_search": ("get", OFFICER, None),
    "diversion:referrals_needing_action": ("get", OFFICER, None),
    "diversion:encounter_detail": ("get", MINE, THEIRS),
    "diversion:encounter_answer": ("post", MINE, THEIRS),
    "diversion:referral_arrange": ("post", MINE, THEIRS),
    "diversion:referral_outcome": ("post", MINE, THEIRS),
    "diversion:person_detail": ("get", MINE, THEIRS),
    "diversion:reoffence_new": ("post", MINE, THEIRS),
}


def named_routes(patterns=None, namespace: str = "") -> dict[str, list[str]]:
    """Return every named URL outside the admin, with its parameter names."""
    found: dict[str, list[str]] = {}
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # checked model by model below
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.update(named_routes(entry.url_patterns, inner))
        elif isinstance(entry, URLPattern) and entry.name:
            found[namespace + entry.name] = list(entry.pattern.converters) or _params(entry)
    return found


def _params(entry: URLPattern) -> list[str]:
    return list(entry.pattern.regex.groupindex)


@pytest.fixture
def world(officer, analyst, approver, admin_user, lewisham):
    southwark = pilot_borough("E09000028")
    other = make_user("southwark-officer", "officer")
    officer_assign(officer=other, borough=southwark)
    mine = EncounterFactory(
        borough=pilot_borough(lewisham.gss_code), officer=officer, accepted=True
    )
    theirs = EncounterFactory(borough=southwark, officer=other, accepted=True)
    version = make_version()
    job = report_build_enqueue(week="2026-W10", by=analyst)
    upload = ReoffenceImportJob.objects.create(
        file_name="matches.csv", file_size=0, sha256="0" * 64, content=b"", uploaded_by=analyst
    )
    common = {
        "upload_pk": upload.pk,
        "gss_code": lewisham.gss_code,
        "pk": job.pk,
        "week": version.week,
        "number": version.number,
        "fmt": "csv",
        "user_pk": officer.pk,
        "uidb64": "MQ",
        "token": "made-up-token",
    }
    root = User.objects.create_superuser("root", password="a-long-password-1")
    enrol(root)  # a superuser needs a second factor, as admins and approvers do
    users = {
        "anonymous": None,
        "officer": officer,
        "analyst": analyst,
        "approver": approver,
        "admin": admin_user,
        "superuser": root,
    }
    params = {
        "mine": {
            **common,
            "encounter_ref": mine.encounter_ref,
            "person_ref": mine.person.person_ref,
        },
        "theirs": {
            **common,
            "encounter_ref": theirs.encounter_ref,
            "person_ref": theirs.person.person_ref,
        },
    }
    return users, params


def outcome(response) -> str:
    if response.status_code == 302 and "/sign-in/" in response.url:
        return LOGIN
    if response.status_code in (200, 302, 400):
        return OK
    return str(response.status_code)


def test_every_named_url_has_a_row_in_the_table():
    assert sorted(named_routes()) == sorted(TABLE)


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_table_says(client, world, role):
    users, params = world
    if users[role] is not None:
        client.force_login(users[role])
    tried, wrong = 0, []
    for name, wanted_params in named_routes().items():
        method, inside, outside = TABLE[name]
        for variant, expected in (("mine", inside), ("theirs", outside)):
            if expected is None:
                continue
            kwargs = {key: params[variant][key] for key in wanted_params}
            if name.startswith("reports:reoffence_import"):
                kwargs["pk"] = params[variant]["upload_pk"]
            url = reverse(name, kwargs=kwargs)
            got = outcome(getattr(client, method)(url))
            tried += 1
            if got != expected[role]:
                wrong.append((name, variant, url, expected[role], got))
        if name == "logout" and users[role] is not None:
            client.force_login(users[role])  # signing out ended the session; carry on
    print(f"\n{role}: {tried} URLs tried")
    assert wrong == []


def _admin_expected(user, url: str) -> str:
    if user is None or not user.is_staff:
        return LOGIN
    if url == "/admin/" or user.is_superuser:
        return "200"
    model = next(m for m in admin.site._registry if reverse(_changelist(m)) == url)
    perms = [f"{model._meta.app_label}.{p}_{model._meta.model_name}" for p in ("view", "change")]
    return "200" if any(user.has_perm(p) for p in perms) else FORBIDDEN


def _changelist(model) -> str:
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_lets_in_only_staff_with_the_model_permission(client, world, role):
    users, _ = world
    user = users[role]
    if user is not None:
        client.force_login(user)
    urls = ["/admin/"] + [reverse(_changelist(m)) for m in admin.site._registry]
    wrong = []
    for url in urls:
        response = client.get(url)
        where = response.get("Location", "")
        login = response.status_code == 302 and ("/admin/login/" in where or "/sign-in/" in where)
        got = LOGIN if login else str(response.status_code)
        if got != _admin_expected(user, url):
            wrong.append((url, _admin_expected(user, url), got))
    print(f"\n{role}: {len(urls)} admin URLs tried")
    assert wrong == []
