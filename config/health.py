"""Health checks for the load balancer and orchestrator; they need no sign-in."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> HttpResponse:
    """Say the process answers, without touching any backing service."""
    return HttpResponse("ok\n", content_type="text/plain")


def _database_problem() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        logger.warning("readyz: database unreachable: %s", exc)
        return "database unreachable"
    return None


def _redis_problem() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        logger.warning("readyz: redis unreachable: %s", exc)
        return "redis unreachable"
    return None


@login_not_required
@never_cache
@require_GET
@transaction.non_atomic_requests
def readyz(request: HttpRequest) -> HttpResponse:
    """Say whether the database (and Redis, when configured) answer; 503 with a reason if not."""
    problems = [p for p in (_database_problem(), _redis_problem()) if p]
    if problems:
        return HttpResponse("; ".join(problems) + "\n", status=503, content_type="text/plain")
    return HttpResponse("ready\n", content_type="text/plain")
