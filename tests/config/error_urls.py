"""The service's URLs and error handlers, plus views that fail on purpose, for error tests."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

from config import urls as service_urls

handler400 = service_urls.handler400
handler403 = service_urls.handler403
handler404 = service_urls.handler404
handler500 = service_urls.handler500


@login_not_required
def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("something broke")


@login_not_required
def missing(request: HttpRequest) -> HttpResponse:
    raise Http404("no such record")


@login_not_required
def bad(request: HttpRequest) -> HttpResponse:
    raise BadRequest("the request made no sense")


@login_not_required
def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("the request looked forged")


urlpatterns = [
    path("test/crash/", crash),
    path("test/missing/", missing),
    path("test/bad/", bad),
    path("test/suspicious/", suspicious),
    *service_urls.urlpatterns,
]


def failing_context_processor(request: HttpRequest) -> dict:
    """Stand in for a context processor whose database has gone away."""
    raise RuntimeError("database unreachable")
