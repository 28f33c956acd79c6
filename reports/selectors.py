"""Report figures, computed by the database."""

from django.contrib.auth.models import User


def reports_home_context(*, user: User) -> dict:
    """Return what analysts' and approvers' home pages show."""
    return {}
