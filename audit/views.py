"""Admins' pages for the audit trail: search and filter, and a CSV export."""

import io

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.exports import audit_export
from audit.forms import AuditFilterForm
from audit.models import Action, AuditEvent
from audit.selectors import AuditFilter, audit_page
from audit.services import audit_record
from config.typing import AuthenticatedHttpRequest

PERMISSION = "audit.view_auditevent"


def _filter_detail(filters: AuditFilter) -> str:
    """Describe which filters were used (not their values, which may name a person)."""
    used = [name for name, value in vars(filters).items() if value]
    return "filters: " + (", ".join(used) or "none")


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def audit_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show the audit trail, newest first, filtered and a page at a time."""
    form = AuditFilterForm(request.GET or None)
    rows: list[AuditEvent] = []
    next_before: int | None = None
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else AuditFilter()
        before = request.GET.get("before", "")
        rows, next_before = audit_page(
            filters=filters, before=int(before) if before.isdigit() else None
        )
        audit_record(
            by=request.user,
            action=Action.AUDIT_VIEW,
            request=request,
            detail=_filter_detail(filters),
        )
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "rows": rows, "next_before": next_before, "query": query.urlencode()}
    return render(request, "audit/audit_list.html", context)


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def audit_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Download the filtered audit trail as CSV."""
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse("Check the filters: " + form.errors.as_text(), status=400)
    filters = form.filters() if form.is_bound else AuditFilter()
    out = io.StringIO()
    count = audit_export(stream=out, filters=filters)
    audit_record(
        by=request.user,
        action=Action.AUDIT_EXPORT,
        request=request,
        detail=f"{_filter_detail(filters)}; rows: {count}",
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response
