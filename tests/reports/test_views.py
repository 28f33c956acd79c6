"""The report pages: who may open them, what they show, and the steps taken through them."""

import json
from datetime import date

import pytest
from django.core import mail

from diversion.models import Reoffence
from diversion.services import person_create
from reports.models import JobStatus, ReportBuildJob, ReportDownload, ReportStatus
from tests.conftest import enrol, make_user
from tests.reports.factories import make_version

pytestmark = pytest.mark.django_db


def detail_url(version, suffix: str = "") -> str:
    return f"/reports/{version.week}/v{version.number}/{suffix}"


@pytest.fixture
def version(db):
    return make_version()


def every_report_url(version) -> list[tuple[str, str]]:
    return [
        ("get", "/reports/"),
        ("post", "/reports/build/"),
        ("get", "/reports/downloads/"),
        ("get", "/reports/data/encounters.csv"),
        ("get", "/reports/reoffences/upload/"),
        ("post", "/reports/reoffences/upload/"),
        ("get", detail_url(version)),
        ("post", detail_url(version, "submit/")),
        ("post", detail_url(version, "decide/")),
        *[
            ("get", detail_url(version, f"download/{fmt}/"))
            for fmt in ("csv", "xlsx", "pdf", "json")
        ],
    ]


def test_officers_are_refused_everywhere_under_reports(client, officer, version):
    job = ReportBuildJob.objects.create(week="2026-W10")
    client.force_login(officer)
    urls = every_report_url(version) + [
        ("get", f"/reports/jobs/{job.pk}/"),
        ("get", f"/reports/jobs/{job.pk}/status.json"),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 403, url
    assert ReportDownload.objects.count() == 0
    version.refresh_from_db()
    assert version.status == ReportStatus.DRAFT


def test_someone_with_no_role_is_refused(client, django_user_model, version):
    client.force_login(django_user_model.objects.create_user("nobody"))
    for method, url in every_report_url(version):
        assert getattr(client, method)(url).status_code == 403, url


def test_analyst_sees_the_report_page_suppressed_with_charts_and_submit_button(
    client, analyst, version
):
    client.force_login(analyst)
    page = client.get(detail_url(version)).content.decode()
    assert "Weekly report, version 1" in page
    assert version.sha256 in page
    assert "built" in page.lower() and "by the build_report command" in page
    assert ">Hackney</th>" in page and "&lt;5" in page and "Withheld" in page
    assert page.count('role="img"') == 2
    assert "Submit for approval" in page
    assert "Your decision" not in page
    assert 'class="app-watermark"' not in page, "the watermark is for the PDF only"
    for fmt in ("csv", "xlsx", "pdf", "json"):
        assert detail_url(version, f"download/{fmt}/") in page


def test_cover_says_when_the_schedule_built_it(client, analyst):
    version = make_version(built_by_schedule=True)
    client.force_login(analyst)
    assert "by the weekly schedule" in client.get(detail_url(version)).content.decode()


def test_report_page_says_no_data_without_disproportionality(client, analyst):
    version = make_version(extra={})
    client.force_login(analyst)
    page = client.get(detail_url(version)).content.decode()
    section = page.split('id="disproportionality">', 1)[1].split("</div>", 1)[0]
    heading = '<h2 class="govuk-heading-m">Disproportionality</h2>'
    assert section.split(heading, 1)[1].lstrip().startswith('<p class="govuk-body">No data</p>')


def test_unknown_version_is_not_found(client, analyst):
    client.force_login(analyst)
    assert client.get("/reports/2026-W10/v9/").status_code == 404


def test_analyst_submits_through_the_page_and_approvers_are_emailed(
    client, analyst, approver, version, django_capture_on_commit_callbacks
):
    approver.email = "approver@example.gov.uk"
    approver.save()
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(detail_url(version, "submit/"))
    assert response.status_code == 302 and response.url == detail_url(version)
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED
    assert [m.to for m in mail.outbox] == [["approver@example.gov.uk"]]
    page = client.get(detail_url(version)).content.decode()
    assert "Report submitted for approval" in page
    assert "Submit for approval</button>" not in page
    assert "Submitted for approval by analyst" in page  # approval history


def test_approver_sees_the_decision_form_but_no_submit_button(client, approver):
    version = make_version(status=ReportStatus.SUBMITTED)
    client.force_login(approver)
    page = client.get(detail_url(version)).content.decode()
    assert "Your decision" in page and "Submit for approval</button>" not in page


def test_approver_cannot_submit(client, approver, version, django_capture_on_commit_callbacks):
    approver.email = "approver@example.gov.uk"
    approver.save()
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(detail_url(version, "submit/")).status_code == 403
    version.refresh_from_db()
    assert version.status == ReportStatus.DRAFT
    assert mail.outbox == []


def test_analyst_cannot_approve_through_the_page(client, analyst):
    version = make_version(status=ReportStatus.SUBMITTED)
    client.force_login(analyst)
    assert client.post(detail_url(version, "decide/"), {"decision": "approve"}).status_code == 403
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED


def test_approver_approves_through_the_page(client, analyst, approver):
    version = make_version(status=ReportStatus.SUBMITTED, submitted_by=analyst)
    client.force_login(approver)
    response = client.post(detail_url(version, "decide/"), {"decision": "approve", "comment": ""})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == ReportStatus.APPROVED and version.decided_by == approver


def test_returning_without_a_comment_shows_the_error_summary(client, analyst, approver):
    version = make_version(status=ReportStatus.SUBMITTED, submitted_by=analyst)
    client.force_login(approver)
    response = client.post(detail_url(version, "decide/"), {"decision": "return", "comment": " "})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert (
        '<a href="#id_comment">Enter a comment saying why you are returning the report</a>' in page
    )
    version.refresh_from_db()
    assert version.status == ReportStatus.SUBMITTED


def test_approving_a_draft_through_the_page_is_refused_with_a_message(client, approver, version):
    client.force_login(approver)
    response = client.post(detail_url(version, "decide/"), {"decision": "approve"}, follow=True)
    assert "cannot be approved or returned" in response.content.decode()
    version.refresh_from_db()
    assert version.status == ReportStatus.DRAFT


@pytest.mark.parametrize(
    ("fmt", "content_type", "start"),
    [
        ("csv", "text/csv; charset=utf-8", '\ufeff"Weekly report'.encode()),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("pdf", "application/pdf", b"%PDF"),
        ("json", "application/json", b"{"),
    ],
)
@pytest.mark.parametrize("who", ["analyst", "approver"])
def test_each_download_is_sent_and_recorded(
    client, request, version, fmt, content_type, start, who
):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(detail_url(version, f"download/{fmt}/"))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert f'filename="weekly-report-2026-W10-v1.{fmt}"' in response["Content-Disposition"]
    assert response.content.startswith(start)
    download = ReportDownload.objects.get()
    assert (download.report, download.user, download.what) == (version, user, fmt)


def test_json_download_is_unsuppressed(client, analyst, version):
    client.force_login(analyst)
    data = json.loads(client.get(detail_url(version, "download/json/")).content)
    assert {r["borough"]: r["encounters"] for r in data["activity"]}["E09000012"] == 3


def test_unknown_download_format_is_not_found_and_not_recorded(client, analyst, version):
    client.force_login(analyst)
    assert client.get(detail_url(version, "download/docx/")).status_code == 404
    assert ReportDownload.objects.count() == 0


def test_encounters_export_is_streamed_and_recorded(client, analyst):
    client.force_login(analyst)
    response = client.get("/reports/data/encounters.csv")
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("encounter_ref,person_pseudonym,age_at_encounter,age_band,")
    download = ReportDownload.objects.get()
    assert (download.report, download.user, download.what) == (None, analyst, "encounters-export")


def test_list_page_shows_versions_with_status_and_build_form_for_analysts(client, analyst):
    make_version(number=1, status=ReportStatus.APPROVED)
    make_version(number=2)
    make_version(week="2026-W09", status=ReportStatus.SUBMITTED)
    client.force_login(analyst)
    page = client.get("/reports/").content.decode()
    assert "Build now" in page
    assert page.index('href="/reports/2026-W10/v2/"') < page.index('href="/reports/2026-W09/v1/"')
    assert "govuk-tag--green" in page and "govuk-tag--blue" in page
    filtered = client.get("/reports/?status=submitted").content.decode()
    assert 'href="/reports/2026-W09/v1/"' in filtered and "/reports/2026-W10/v2/" not in filtered


def test_approvers_do_not_get_the_build_form(client, approver):
    client.force_login(approver)
    assert "Build now" not in client.get("/reports/").content.decode()
    assert client.post("/reports/build/", {"week": "2026-W10"}).status_code == 403


def test_build_now_queues_a_job_and_the_job_page_links_to_the_report(
    client, analyst, django_capture_on_commit_callbacks, celery_eager
):
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=True):  # celery_eager: runs in-process
        response = client.post("/reports/build/", {"week": "2026-W10"})
    job = ReportBuildJob.objects.get()
    assert response.status_code == 302 and response.url == f"/reports/jobs/{job.pk}/"
    assert job.requested_by == analyst
    job.refresh_from_db()
    assert job.status == JobStatus.READY
    page = client.get(response.url).content.decode()
    assert f'href="{job.report.get_absolute_url()}"' in page
    status = client.get(f"/reports/jobs/{job.pk}/status.json").json()
    assert status == {
        "status": "ready",
        "label": "Ready",
        "step": "",
        "message": "",
        "report_url": job.report.get_absolute_url(),
    }


def test_a_queued_job_page_follows_itself_and_offers_a_refresh_link(client, analyst):
    job = ReportBuildJob.objects.create(week="2026-W10", requested_by=analyst)
    client.force_login(analyst)
    page = client.get(f"/reports/jobs/{job.pk}/").content.decode()
    assert "Queued" in page
    assert f'data-job-status-url="/reports/jobs/{job.pk}/status.json"' in page
    assert "Refresh the page" in page
    listing = client.get("/reports/").content.decode()
    assert "This page updates itself" in listing


@pytest.mark.parametrize(
    ("week", "message"),
    [("", "Enter the week"), ("2026-10", "Enter the week as YYYY-Www"), ("2099-W01", "has ended")],
)
def test_build_now_with_a_bad_week_shows_the_error(client, analyst, week, message):
    client.force_login(analyst)
    response = client.post("/reports/build/", {"week": week})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and message in page
    assert ReportBuildJob.objects.count() == 0


def test_build_form_defaults_to_the_week_just_ended(client, analyst):
    from django.utils import timezone

    from reports.weeks import week_just_ended

    client.force_login(analyst)
    page = client.get("/reports/").content.decode()
    assert f'value="{week_just_ended(timezone.localdate())}"' in page


@pytest.fixture
def person(db):
    return person_create(
        first_name="Sam",
        last_name="Person",
        date_of_birth=date(2003, 5, 1),
        gender="male",
        ethnicity="W1",
        person_ref="P-0001",
    )


def test_upload_page_lists_the_errors_and_imports_nothing(
    client, analyst, person, upload_reoffences
):
    client.force_login(analyst)
    text = (
        "person_ref,offence_date,offence_type,source_ref\n"
        "P-0001,2026-01-10,theft,S1\n"
        "P-9999,2026-01-11,theft,S2\n"
        "P-0001,not-a-date,theft,S3\n"
    )
    response = upload_reoffences(text)
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page and "Nothing was imported" in page
    assert "There are 2 problems in this file." in page
    assert "line 3, person_ref:" in page
    assert "line 4, offence_date:" in page
    assert page.count("<li>line ") == 2
    assert Reoffence.objects.count() == 0


def test_upload_page_imports_and_shows_the_counts(client, analyst, person, upload_reoffences):
    client.force_login(analyst)
    text = "person_ref,offence_date,offence_type,source_ref\nP-0001,2026-01-10,theft,S1\n"
    page = upload_reoffences(text).content.decode()
    assert "govuk-notification-banner--success" in page
    assert "1 reoffence imported. 0 rows already recorded" in page
    page = upload_reoffences(text).content.decode()
    assert "0 reoffences imported. 1 row already recorded" in page
    assert Reoffence.objects.count() == 1


def test_upload_page_asks_for_a_file(client, analyst):
    client.force_login(analyst)
    response = client.post("/reports/reoffences/upload/", {})
    assert response.status_code == 400
    assert (
        '<a href="#id_file">Select a CSV file of reoffence matches</a>' in response.content.decode()
    )


def test_upload_page_refuses_a_file_that_is_not_utf8(client, analyst):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(analyst)
    file = SimpleUploadedFile("m.csv", b"person_ref\n\xff\xfe\x00", content_type="text/csv")
    response = client.post("/reports/reoffences/upload/", {"file": file})
    assert response.status_code == 400
    assert "must be a CSV file saved as UTF-8" in response.content.decode()


def test_approvers_cannot_import_reoffences(client, approver, person):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(approver)
    assert client.get("/reports/reoffences/upload/").status_code == 403
    text = "person_ref,offence_date,offence_type,source_ref\nP-0001,2026-01-10,theft,S1\n"
    file = SimpleUploadedFile("matches.csv", text.encode("utf-8"), content_type="text/csv")
    response = client.post("/reports/reoffences/upload/", {"file": file})
    assert response.status_code == 403
    assert Reoffence.objects.count() == 0


def test_downloads_page_lists_approved_reports_and_recent_downloads(client, analyst):
    approved = make_version(status=ReportStatus.APPROVED)
    ReportDownload.objects.create(report=approved, user=analyst, what="pdf")
    client.force_login(analyst)
    page = client.get("/reports/downloads/").content.decode()
    assert 'href="/reports/data/encounters.csv"' in page
    assert 'href="/reports/2026-W10/v1/"' in page
    assert "2026-W10 version 1 (PDF)" in page


@pytest.mark.parametrize(
    ("who", "links"),
    [
        (
            "analyst",
            [
                "/reports/",
                "/reports/?status=submitted",
                "/reports/downloads/",
                "/reports/reoffences/upload/",
            ],
        ),
        ("approver", ["/reports/?status=submitted", "/reports/", "/reports/downloads/"]),
    ],
)
def test_home_page_links_to_the_report_tasks(client, request, who, links):
    client.force_login(request.getfixturevalue(who))
    page = client.get("/").content.decode()
    for link in links:
        assert f'href="{link}"' in page


def test_approver_home_has_no_upload_link(client, approver):
    client.force_login(approver)
    assert "/reports/reoffences/upload/" not in client.get("/").content.decode()


def test_staff_with_both_roles_sees_both_sets_of_actions(client):
    both = make_user("both", "analyst", "approver")
    enrol(both)  # Approvers need a second factor.
    submitted = make_version(status=ReportStatus.SUBMITTED)
    draft = make_version(week="2026-W09")
    client.force_login(both)
    # The approver's action on a submitted version...
    assert "Your decision" in client.get(detail_url(submitted)).content.decode()
    # ...and the analyst's: submitting a draft, building a report, importing reoffences.
    assert "Submit for approval</button>" in client.get(detail_url(draft)).content.decode()
    assert "Build now" in client.get("/reports/").content.decode()
    assert 'href="/reports/reoffences/upload/"' in client.get("/").content.decode()


def test_report_page_takes_a_fixed_number_of_queries(
    client, analyst, django_assert_max_num_queries
):
    for week in ("2026-W06", "2026-W07", "2026-W08", "2026-W09"):
        make_version(week=week)
        make_version(week=week, number=2)
    version = make_version()
    client.force_login(analyst)
    # 17 for the page (2 of them read the boroughs' roles and pilot dates, for the zeros the
    # rules fix, once for the tables and once for the chart), and 3 to save the session on
    # every request (the idle timeout's clock).
    with django_assert_max_num_queries(20):
        assert client.get(detail_url(version)).status_code == 200
