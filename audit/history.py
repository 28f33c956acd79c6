"""Tell django-simple-history who makes a model's next save, and why."""

from django.contrib.auth.models import User
from django.db.models import Model


def audit_as(obj: Model, *, by: User | None = None, reason: str | None = None) -> None:
    """Name the user and the reason that the history row of ``obj``'s next save records.

    simple-history reads ``_history_user`` and ``_change_reason`` from the instance; they are not
    model fields, so they are set here once rather than by attribute assignment all over.
    Nothing given, nothing set: an earlier value or the request's user still applies.
    """
    if by is not None:
        setattr(obj, "_history_user", by)  # noqa: B010 - not a declared attribute of the model
    if reason is not None:
        setattr(obj, "_change_reason", reason)  # noqa: B010 - as above
