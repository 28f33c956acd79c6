"""Admins' borough pages: list the boroughs, change one with a reason, see its history.

Views stay thin: they check the person may act, call one selector or service, and render or
redirect. Changes go through the same service as ``set_borough``.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from boroughs import selectors, services
from boroughs.forms import BoroughChangeForm
from boroughs.models import Borough
from config.typing import AuthenticatedHttpRequest
from diversion.forms import add_service_errors

VIEW_PERMISSION = "boroughs.view_borough"
CHANGE_PERMISSION = "boroughs.change_borough"
SERVICE_FIELDS = {"pilot_start": "pilot_start", "pilot_end": "pilot_end", "role": "role"}


def requires(permission: str) -> Callable:
    """Let in only people whose role grants ``permission`` (admins); others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: AuthenticatedHttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied("Only admins can configure boroughs")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _borough(gss_code: str) -> Borough:
    borough = selectors.borough_by_code(gss_code=gss_code)
    if borough is None:
        raise Http404("No borough has that GSS code")
    return borough


@requires(VIEW_PERMISSION)
def borough_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List every borough with its role and pilot dates."""
    return render(request, "boroughs/borough_list.html", {"boroughs": selectors.boroughs_all()})


def _initial(borough: Borough) -> dict:
    return {
        "role": borough.role,
        "pilot_start": borough.pilot_start,
        "pilot_end": borough.pilot_end,
    }


@requires(CHANGE_PERMISSION)
@require_http_methods(["GET", "POST"])
def borough_change(request: AuthenticatedHttpRequest, gss_code: str) -> HttpResponse:
    """Change a borough's role and pilot dates, with a reason kept in its history."""
    borough = _borough(gss_code)
    if request.method != "POST":
        form = BoroughChangeForm(initial=_initial(borough))
    else:
        form = BoroughChangeForm(request.POST)
    if form.is_bound and form.is_valid():
        try:
            services.borough_configure(
                gss_code=borough.gss_code, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error, SERVICE_FIELDS)
        else:
            messages.success(request, f"{borough.name}: changes saved")
            return redirect("boroughs:list")
    return render(request, "boroughs/borough_change.html", {"borough": borough, "form": form})


@requires(VIEW_PERMISSION)
def borough_history(request: AuthenticatedHttpRequest, gss_code: str) -> HttpResponse:
    """Show who changed the borough's settings, when, what changed and why."""
    borough = _borough(gss_code)
    context = {"borough": borough, "changes": selectors.borough_history(borough=borough)}
    return render(request, "boroughs/borough_history.html", context)
