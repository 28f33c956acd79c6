"""Writes for reoffence uploads: store the file as a job, then import it in the background.

The web only stores the upload (at most ``MAX_UPLOAD_BYTES``) and queues a job, so a large or
badly broken file costs a worker, not a web process. The job keeps the first
``LISTED_ERRORS`` errors and the total, so its page stays small whatever the file holds.
Without REDIS_URL the task runs in-process as soon as the upload is committed.
"""

import hashlib
import io
import logging

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.history import audit_as
from config.celery_app import RETRY_ON, task
from diversion.reoffence_imports import ReoffenceImportFailed, reoffences_import
from reports.models import ImportJobStatus, ReoffenceImportJob

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
LISTED_ERRORS = 100
# A job in one of these states has its answer; running it again would only repeat it.
FINISHED = Q(status=ImportJobStatus.SUCCEEDED) | Q(status=ImportJobStatus.FAILED, error_count__gt=0)


def reoffence_import_enqueue(*, upload: UploadedFile, by: User) -> ReoffenceImportJob:
    """Store an uploaded file as a queued import job and send it to a worker.

    The task is sent only once the job row is committed, so the worker always finds it.
    """
    upload.seek(0)
    content = upload.read()  # one copy, at most MAX_UPLOAD_BYTES: the form has checked
    job = ReoffenceImportJob(
        file_name=(upload.name or "upload.csv")[:255],
        file_size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=by,
        status=ImportJobStatus.QUEUED,
    )
    job.full_clean()
    audit_as(job, by=by)  # who uploaded, recorded in the job's history too
    with transaction.atomic():
        job.save()
        transaction.on_commit(lambda: _send(job.pk))
    return job


def _send(job_id: int) -> None:
    try:
        result = task("reports.tasks.reoffence_import_task").delay(job_id)
    except Exception:
        # An in-process run has already recorded its own failure; a broker that cannot be
        # reached has not, so say so on the job rather than failing the upload.
        logger.exception("Could not run or queue reoffence import job %s", job_id)
        ReoffenceImportJob.objects.filter(pk=job_id, status=ImportJobStatus.QUEUED).update(
            status=ImportJobStatus.FAILED,
            message="The import could not be started. Upload the file again in a few minutes.",
            finished_at=timezone.now(),
        )
        return
    ReoffenceImportJob.objects.filter(pk=job_id, task_id="").update(task_id=result.id or "")


def reoffence_import_job_run(*, job_id: int) -> ReoffenceImportJob:
    """Run an import job: running, then imported with its counts, or failed with its errors.

    Safe to run twice: the job row is locked while it runs, a finished job (imported, or
    refused for the file's errors) is left alone, and the import and the job's result are
    committed together, so a crash in between leaves nothing half done. Re-importing identical
    rows changes nothing anyway (SPEC §7). A job that failed for a fault is run again.
    """
    ReoffenceImportJob.objects.filter(pk=job_id).exclude(FINISHED).update(
        status=ImportJobStatus.RUNNING, started_at=timezone.now(), message=""
    )
    try:
        with transaction.atomic():
            job = ReoffenceImportJob.objects.select_for_update().get(pk=job_id)
            if not (job.status == ImportJobStatus.SUCCEEDED or job.error_count):
                _import(job)
    except Exception as exc:
        _record_crash(job_id, exc)
        raise
    return job


def _import(job: ReoffenceImportJob) -> None:
    """Import the job's file and record the outcome on the (locked) job."""
    stream = io.TextIOWrapper(io.BytesIO(job.content), encoding="utf-8-sig", newline="")
    try:
        with transaction.atomic():
            result = reoffences_import(
                stream=stream,
                source_name=job.file_name,
                by=job.uploaded_by,
                error_limit=LISTED_ERRORS,
            )
    except ReoffenceImportFailed as failure:
        _finish(job, ImportJobStatus.FAILED, error_count=failure.total, errors=failure.errors)
    except UnicodeDecodeError as exc:
        error = f"line 1, file: The file must be UTF-8 text ({exc.reason})"
        _finish(job, ImportJobStatus.FAILED, error_count=1, errors=[error])
    else:
        _finish(
            job, ImportJobStatus.SUCCEEDED, imported=result.imported, unchanged=result.unchanged
        )


def _finish(job: ReoffenceImportJob, status: str, **fields: object) -> None:
    job.status = status
    job.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["status", "finished_at", *fields])


def _record_crash(job_id: int, exc: Exception) -> None:
    """Mark the job failed when the import itself broke (not when the file had errors)."""
    logger.exception("Reoffence import job %s failed", job_id)
    message = (
        "The database or queue was not available; the import will be tried again."
        if isinstance(exc, RETRY_ON)
        else "The import stopped because of a fault in the service. Nothing was imported."
    )
    try:
        ReoffenceImportJob.objects.filter(pk=job_id).exclude(FINISHED).update(
            status=ImportJobStatus.FAILED, message=message, finished_at=timezone.now()
        )
    except Exception:  # the database itself may be what failed
        logger.exception("Could not record the failure of import job %s", job_id)
