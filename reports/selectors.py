"""Report figures, computed by the database."""

from django.contrib.auth.models import AbstractBaseUser


def reports_home_context(*, user: AbstractBaseUser) -> dict:
    """Return what analysts' and approvers' home pages show."""
    return {}
