"""Analyst and approver pages. Thin: check permission, call one service or selector, respond."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from audit.models import Action
from audit.services import audit_record
from boroughs.roles import Role
from boroughs.selectors import roles_for
from config.typing import AuthenticatedHttpRequest
from reports import renderings, selectors
from reports.forms import (
    BuildReportForm,
    DecisionForm,
    ReoffenceUploadForm,
    ReoffendingFilterForm,
    TrendsForm,
    default_week,
)
from reports.import_jobs import MAX_UPLOAD_BYTES, reoffence_import_enqueue
from reports.models import (
    ImportJobStatus,
    JobStatus,
    ReoffenceImportJob,
    ReportStatus,
    ReportVersion,
)
from reports.renderings.page import filter_fields, report_page_context
from reports.renderings.trends import trends_context
from reports.services import report_build_enqueue
from reports.workflow import (
    WorkflowError,
    notification_of,
    notification_text,
    refusal_for,
    report_approve,
    report_download_record,
    report_return,
    report_submit,
)

VIEW = "boroughs.view_reports"
SUBMIT = "boroughs.submit_reports"
APPROVE = "boroughs.approve_reports"
DOWNLOAD = "boroughs.download_data"
IMPORT = "boroughs.import_reoffences"

STATUS_TAGS: dict[str, str] = {
    ReportStatus.DRAFT: "govuk-tag--grey",
    ReportStatus.SUBMITTED: "govuk-tag--blue",
    ReportStatus.APPROVED: "govuk-tag--green",
    ReportStatus.RETURNED: "govuk-tag--orange",
    JobStatus.QUEUED: "govuk-tag--grey",
    JobStatus.RUNNING: "govuk-tag--blue",
    JobStatus.READY: "govuk-tag--green",
    JobStatus.FAILED: "govuk-tag--red",
    ImportJobStatus.SUCCEEDED: "govuk-tag--green",
}
PENDING = (JobStatus.QUEUED, JobStatus.RUNNING)
IMPORT_PENDING = (ImportJobStatus.QUEUED, ImportJobStatus.RUNNING)


def _tagged(items: list) -> list:
    """Give each version or job the GOV.UK tag colour for its status."""
    for item in items:
        item.tag_class = STATUS_TAGS.get(item.status, "")
    return items


def _version(week: str, number: int) -> ReportVersion:
    return get_object_or_404(selectors.versions_with_people(), week=week, number=number)


def _list_context(request: AuthenticatedHttpRequest, form: BuildReportForm | None = None) -> dict:
    status = request.GET.get("status", "")
    versions = selectors.versions_list(status=status)
    jobs = _tagged(selectors.recent_build_jobs())
    return {
        "versions": _tagged(list(versions[:200])),
        "status_filter": status if status in ReportStatus.values else "",
        "status_choices": ReportStatus.choices,
        "jobs": jobs,
        "jobs_pending": any(job.status in PENDING for job in jobs),
        "form": form or BuildReportForm(initial={"week": default_week()}),
        "status_tags": STATUS_TAGS,
        "builds_in_background": builds_in_background(),
    }


def builds_in_background() -> bool:
    """Say whether builds go to a worker, or run in the request that asks (no REDIS_URL)."""
    from config.celery_app import app

    return not app.conf.task_always_eager


@require_GET
@permission_required(VIEW, raise_exception=True)
def version_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List the report versions, newest week first, with the form that builds one now."""
    return render(request, "reports/version_list.html", _list_context(request))


@require_POST
@permission_required(SUBMIT, raise_exception=True)
def build(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Queue a build of a week's report and show its job."""
    form = BuildReportForm(request.POST)
    if not form.is_valid():
        return render(
            request, "reports/version_list.html", _list_context(request, form), status=400
        )
    job = report_build_enqueue(week=form.cleaned_data["week"], by=request.user)
    return redirect("reports:job_detail", pk=job.pk)


def _may_see_trends(user: User | AnonymousUser) -> bool:
    """Analysts and approvers (who may view reports) and admins; never officers."""
    return user.has_perm(VIEW) or (user.is_authenticated and Role.ADMIN in roles_for(user=user))


@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    """Show the weekly figures from the first pilot week to a chosen week, and reoffending."""
    if not _may_see_trends(request.user):
        raise PermissionDenied
    first_week = selectors.trend_first_week()
    if first_week is None:
        return render(request, "reports/trends.html", {"no_pilot": True})
    boroughs = selectors.trend_boroughs()
    form = TrendsForm(request.GET, boroughs=boroughs, first_week=first_week)
    if not form.is_valid():
        return render(request, "reports/trends.html", {"form": form}, status=400)
    figures = selectors.trends(
        first_week=first_week,
        last_week=form.cleaned_data["week"],
        borough=form.cleaned_data["borough"],
    )
    where = dict(boroughs).get(figures.borough, "all boroughs")
    context = {"form": form, "figures": figures, "where": where}
    context.update(trends_context(figures, where=where))
    return render(request, "reports/trends.html", context)


@require_GET
@permission_required(VIEW, raise_exception=True)
def job_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Show a build job's progress; the page follows it until the report is ready."""
    job = get_object_or_404(selectors.build_jobs(), pk=pk)
    _tagged([job])
    return render(
        request,
        "reports/job_detail.html",
        {
            "job": job,
            "pending": job.status in PENDING,
            "status_tags": STATUS_TAGS,
            "builds_in_background": builds_in_background(),
        },
    )


@require_GET
@permission_required(VIEW, raise_exception=True)
def job_status(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    """Say where a build job has got to, for the page's progress script."""
    job = get_object_or_404(selectors.build_jobs(), pk=pk)
    return JsonResponse(
        {
            "status": job.status,
            "label": job.get_status_display(),
            "step": job.step if job.status == JobStatus.RUNNING else "",
            "message": job.message,
            "report_url": job.report.get_absolute_url() if job.report else None,
        }
    )


@require_GET
@permission_required(VIEW, raise_exception=True)
def version_detail(request: AuthenticatedHttpRequest, week: str, number: int) -> HttpResponse:
    """Show a report version: the headline, the decision, then each section by itself.

    The reoffending table shows 25 rows at a time, filtered by the address's borough, months
    and group (a GET form, so it works without JavaScript); the downloads have every row.
    """
    version = _version(week, number)
    return render(request, "reports/version_detail.html", _detail_context(request, version))


def _detail_context(
    request: AuthenticatedHttpRequest,
    version: ReportVersion,
    decision_form: DecisionForm | None = None,
) -> dict:
    labels = selectors.report_labels(version.data)
    filters = ReoffendingFilterForm(
        request.GET, boroughs=selectors.reoffending_boroughs(version.data, labels.boroughs)
    )
    only = filters.chosen()
    context = report_page_context(
        version,
        labels=labels,
        weekly=selectors.weekly_encounters(version),
        reoffending=selectors.reoffending_page(
            version.data, boroughs=labels.boroughs, only=only, page=request.GET.get("page")
        ),
        only=only,
    )
    context.update(
        {
            "reoffending_fields": filter_fields(filters.options(), only),
            "reoffending_ignored": filters.ignored(),
            "other_versions": _tagged(selectors.other_versions(version)),
            "history": selectors.approval_history(version),
            "status_tag": STATUS_TAGS.get(version.status, ""),
            "status_tags": STATUS_TAGS,
            "can_submit": request.user.has_perm(SUBMIT)
            and version.status in (ReportStatus.DRAFT, ReportStatus.RETURNED),
            # Separation of duties: the form is shown only to someone the service lets decide.
            "can_decide": request.user.has_perm(APPROVE)
            and version.status == ReportStatus.SUBMITTED
            and refusal_for(user=request.user, version=version) is None,
            "can_download": request.user.has_perm(DOWNLOAD),
            "decision_form": decision_form or DecisionForm(),
            "formats": [("pdf", "PDF"), ("csv", "CSV"), ("xlsx", "Excel (XLSX)"), ("json", "JSON")],
        }
    )
    return context


# Not atomic: the workflow step commits on its own, so its email has been sent (or has failed)
# by the time the page says who was told.
@transaction.non_atomic_requests
@require_POST
@permission_required(SUBMIT, raise_exception=True)
def version_submit(request: AuthenticatedHttpRequest, week: str, number: int) -> HttpResponse:
    """Submit a version for approval, and say which approvers were emailed."""
    version = _version(week, number)
    try:
        report_submit(version=version, by=request.user)
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        told = notification_text(
            notification_of(version), nobody="no approver has an email address"
        )
        messages.success(request, f"Report submitted for approval. {told}")
    return redirect(version)


@transaction.non_atomic_requests
@require_POST
@permission_required(APPROVE, raise_exception=True)
def version_decide(request: AuthenticatedHttpRequest, week: str, number: int) -> HttpResponse:
    """Approve a submitted version, or return it to the analysts with a comment."""
    version = _version(week, number)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, version, decision_form=form)
        return render(request, "reports/version_detail.html", context, status=400)
    approve = form.cleaned_data["decision"] == DecisionForm.APPROVE
    step = report_approve if approve else report_return
    try:
        step(version=version, by=request.user, comment=form.cleaned_data["comment"])
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        told = notification_text(
            notification_of(version), nobody="the analyst who submitted it has no email address"
        )
        messages.success(request, f"Report {'approved' if approve else 'returned'}. {told}")
    return redirect(version)


@require_GET
@permission_required(DOWNLOAD, raise_exception=True)
def version_download(
    request: AuthenticatedHttpRequest, week: str, number: int, fmt: str
) -> HttpResponse:
    """Send one rendering of a version as a file, and record the download."""
    if fmt not in renderings.FORMATS:
        raise Http404("No such format")
    version = _version(week, number)
    content = renderings.render(version, fmt)
    report_download_record(report=version, by=request.user, what=fmt)
    audit_record(
        by=request.user,
        action=Action.REPORT_DOWNLOAD,
        target=f"report:{version.week}/v{version.number}",
        request=request,
        detail=f"format: {fmt}",
    )
    response = HttpResponse(content, content_type=renderings.FORMATS[fmt][0])
    response["Content-Disposition"] = f'attachment; filename="{renderings.filename(version, fmt)}"'
    return response


@require_GET
@permission_required(DOWNLOAD, raise_exception=True)
def downloads(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Offer the pseudonymised data and list this person's recent downloads."""
    return render(
        request,
        "reports/downloads.html",
        {
            "recent": selectors.recent_downloads(user=request.user),
            "approved": selectors.approved_versions(),
        },
    )


@require_GET
@permission_required(DOWNLOAD, raise_exception=True)
def encounters_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    """Stream the pseudonymised encounters CSV straight from the database, and record it.

    The download is recorded before the first byte is sent, so a download cut short is still
    on the audit trail.
    """
    from diversion.exports import EncounterCsv, encounters_count

    report_download_record(report=None, by=request.user, what="encounters-export")
    audit_record(
        by=request.user,
        action=Action.ENCOUNTERS_EXPORT,
        request=request,
        detail=f"rows: {encounters_count()}",
    )
    return StreamingHttpResponse(
        iter(EncounterCsv()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="encounters.csv"'},
    )


@permission_required(IMPORT, raise_exception=True)
def reoffences_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Take a CSV of reoffence matches and queue its import; list this person's recent uploads."""
    if request.method == "POST":
        form = ReoffenceUploadForm(request.POST, request.FILES)
        if form.is_valid():
            job = reoffence_import_enqueue(upload=form.cleaned_data["file"], by=request.user)
            return redirect(job)
        status = 400
    else:
        form = ReoffenceUploadForm()
        status = 200
    recent = _tagged(
        list(selectors.reoffence_imports(user=request.user).order_by("-created_at")[:5])
    )
    return render(
        request,
        "reports/reoffences_upload.html",
        {"form": form, "recent": recent, "max_megabytes": MAX_UPLOAD_BYTES // (1024 * 1024)},
        status=status,
    )


@require_GET
@permission_required(IMPORT, raise_exception=True)
def reoffence_import_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Show an upload's import: queued, running, imported with counts, or failed with errors."""
    job: ReoffenceImportJob = get_object_or_404(
        selectors.reoffence_imports(user=request.user), pk=pk
    )
    _tagged([job])
    return render(
        request,
        "reports/reoffence_import_detail.html",
        {
            "job": job,
            "pending": job.status in IMPORT_PENDING,
            "more_errors": job.error_count > len(job.errors),
            "imported_text": _count(job.imported or 0, "reoffence"),
            "unchanged_text": _count(job.unchanged or 0, "row"),
        },
    )


@require_GET
@permission_required(IMPORT, raise_exception=True)
def reoffence_import_status(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    """Say where an upload's import has got to, for the page's progress script."""
    job = get_object_or_404(
        selectors.reoffence_imports(user=request.user).only("status", "uploaded_by"), pk=pk
    )
    return JsonResponse({"status": job.status, "label": job.get_status_display()})


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
