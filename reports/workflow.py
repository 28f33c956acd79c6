"""The approval workflow: draft → submitted (analyst) → approved or returned (approver).

Each step checks who may take it, refuses any step from the wrong status (an approved version
never changes again), records who and why in the version's history, and emails the other side
once the change is committed.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.history import audit_as
from boroughs.roles import Role
from boroughs.selectors import roles_for
from reports.models import ReportDownload, ReportStatus, ReportVersion
from reports.services import data_sha256

logger = logging.getLogger(__name__)

SUBMIT_PERMISSION = "boroughs.submit_reports"
APPROVE_PERMISSION = "boroughs.approve_reports"


class WorkflowError(Exception):
    """A step the version's status does not allow, with a message fit to show the user."""


def decision_refusal(
    *,
    user_id: int | None,
    roles: frozenset[str],
    built_by_id: int | None,
    submitted_by_id: int | None,
) -> str | None:
    """Say why this person may not approve or return this report, or None if they may.

    Separation of duties: only the approver role decides, never an admin (who could grant
    themselves roles; superusers count as admins), and never the person who built or
    submitted the report.
    """
    if Role.ADMIN in roles:
        return "Admins cannot approve or return reports. An approver who is not an admin must."
    if Role.APPROVER not in roles:
        return "Only approvers can approve or return reports."
    if submitted_by_id is not None and submitted_by_id == user_id:
        return "Someone other than the person who submitted it must decide it."
    if built_by_id is not None and built_by_id == user_id:
        return "Someone other than the person who built it must decide it."
    return None


def refusal_for(*, user: User, version: ReportVersion) -> str | None:
    """Say why this signed-in person may not decide this version, or None if they may."""
    return decision_refusal(
        user_id=user.pk,
        roles=roles_for(user=user),
        built_by_id=version.built_by_id,
        submitted_by_id=version.submitted_by_id,
    )


def _locked(version: ReportVersion) -> ReportVersion:
    """Re-read the version under a row lock, so two people cannot decide it at once."""
    return ReportVersion.objects.select_for_update().get(pk=version.pk)


def _require(user: User, permission: str, message: str) -> None:
    if not user.is_active or not user.has_perm(permission):
        raise PermissionDenied(message)


def _save(version: ReportVersion, *, by: User, reason: str) -> None:
    audit_as(version, by=by, reason=reason)
    version.full_clean()
    version.save()


def _refresh(target: ReportVersion, source: ReportVersion, note: "Notification") -> None:
    """Copy the saved state, and the email it sent, back onto the caller's object."""
    for version in (target, source):
        # Not a field: what the page that took the step says about who was told.
        setattr(version, "workflow_notification", note)  # noqa: B010
    for name in (
        "status",
        "submitted_by",
        "submitted_at",
        "decided_by",
        "decided_at",
        "approver_comment",
    ):
        setattr(target, name, getattr(source, name))


def _name(user: User | None) -> str:
    if user is None:
        return "someone"
    return user.get_full_name() or user.get_username()


@dataclass
class Notification:
    """Who a workflow email was for, and whether it was actually sent.

    The email goes only once the change is committed, so ``sent`` is filled in then; a page
    says who was told only when it is True, never merely because someone had an address.
    """

    recipients: list[tuple[str, str]] = field(default_factory=list)  # (name, address)
    sent: bool = False
    failed: bool = False


def _send(note: Notification, subject: str, body: str) -> None:
    addresses = [address for _name, address in note.recipients]
    try:
        note.sent = send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses) > 0
    except Exception:  # the change is committed; a mail server that is down must not undo it
        logger.exception("Could not send %r to %s", subject, addresses)
        note.failed = True


def _email(*, subject: str, body: str, to: Iterable[tuple[str, str]]) -> Notification:
    by_address = {address: name for name, address in to if address}
    note = Notification(recipients=sorted((name, address) for address, name in by_address.items()))
    if note.recipients:
        transaction.on_commit(lambda: _send(note, subject, body))
    return note


def notification_of(version: ReportVersion) -> Notification | None:
    """Return the email the last workflow step on this object sent, if any step ran."""
    return getattr(version, "workflow_notification", None)


def notification_text(note: Notification | None, *, nobody: str) -> str:
    """Say in words who was emailed, or that nobody was and why (``nobody`` says why)."""
    if note is None or not note.recipients:
        return f"Nobody was emailed because {nobody}, so tell them yourself."
    if not note.sent:
        return "The email could not be sent, so tell them yourself."
    names = ", ".join(f"{name} ({address})" for name, address in note.recipients)
    return f"An email was sent to {names}."


def _contact(user: User) -> tuple[str, str]:
    return _name(user), getattr(user, "email", "") or ""


def _link(version: ReportVersion) -> str:
    return reverse(
        "reports:version_detail", kwargs={"week": version.week, "number": version.number}
    )


def approver_contacts() -> list[tuple[str, str]]:
    """Return (name, address) for every active approver with an email address."""
    approvers = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.APPROVER)
        .exclude(email="")
        .distinct()
    )
    return [_contact(user) for user in approvers]


def approver_emails() -> list[str]:
    """Return the addresses of every active approver."""
    return sorted({address for _name, address in approver_contacts()})


@transaction.atomic
def report_submit(*, version: ReportVersion, by: User) -> ReportVersion:
    """Submit a draft or returned version for approval, and tell the approvers."""
    _require(by, SUBMIT_PERMISSION, "Only analysts can submit reports for approval.")
    locked = _locked(version)
    if locked.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
        raise WorkflowError(
            f"This report is {locked.get_status_display().lower()}, so it cannot be submitted."
        )
    locked.status = ReportStatus.SUBMITTED
    locked.submitted_by = by
    locked.submitted_at = timezone.now()
    _save(locked, by=by, reason="Submitted for approval")
    note = _email(
        subject=f"Weekly report {locked.week} version {locked.number} is ready for approval",
        body=(
            f"{_name(by)} submitted the weekly report for {locked.week} (version "
            f"{locked.number}) for approval.\n\nReview it at {_link(locked)}\n"
        ),
        to=approver_contacts(),
    )
    _refresh(version, locked, note)
    return locked


def _decide(
    *,
    version: ReportVersion,
    by: User,
    status: str,
    comment: str,
    reason: str,
) -> ReportVersion:
    _require(by, APPROVE_PERMISSION, "Only approvers can approve or return reports.")
    locked = _locked(version)
    if locked.status != ReportStatus.SUBMITTED:
        raise WorkflowError(
            f"This report is {locked.get_status_display().lower()}, so it cannot be approved "
            "or returned. Only a submitted report can be."
        )
    refusal = refusal_for(user=by, version=locked)
    if refusal:
        raise WorkflowError(refusal)
    if status == ReportStatus.APPROVED and data_sha256(locked.data) != locked.sha256:
        raise WorkflowError(
            "This report's figures do not match its SHA-256, so it cannot be approved. "
            "Build the report again."
        )
    locked.status = status
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.approver_comment = comment
    _save(locked, by=by, reason=reason)
    verb = "approved" if status == ReportStatus.APPROVED else "returned"
    body = f"{_name(by)} {verb} the weekly report for {locked.week} (version {locked.number}).\n"
    if comment:
        body += f"\nTheir comment:\n{comment}\n"
    body += f"\nSee it at {_link(locked)}\n"
    note = _email(
        subject=f"Weekly report {locked.week} version {locked.number} was {verb}",
        body=body,
        to=[_contact(locked.submitted_by)] if locked.submitted_by else [],
    )
    _refresh(version, locked, note)
    return locked


@transaction.atomic
def report_approve(*, version: ReportVersion, by: User, comment: str = "") -> ReportVersion:
    """Approve a submitted version; from then on it never changes."""
    return _decide(
        version=version,
        by=by,
        status=ReportStatus.APPROVED,
        comment=comment.strip(),
        reason="Approved",
    )


@transaction.atomic
def report_return(*, version: ReportVersion, by: User, comment: str) -> ReportVersion:
    """Return a submitted version to the analysts, saying what needs to change."""
    comment = (comment or "").strip()
    if not comment:
        raise WorkflowError("Enter a comment saying why you are returning the report.")
    return _decide(
        version=version,
        by=by,
        status=ReportStatus.RETURNED,
        comment=comment,
        reason="Returned with a comment",
    )


@transaction.atomic
def report_download_record(
    *, by: User, what: str, report: ReportVersion | None = None
) -> ReportDownload:
    """Record that someone downloaded a rendering of a report, or a data extract."""
    download = ReportDownload(report=report, user=by, what=what)
    download.full_clean()
    download.save()
    return download
