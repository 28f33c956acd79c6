"""Fixtures shared by the report tests."""

from datetime import date

import pytest

from boroughs.models import Borough
from tests.diversion.factories import comparison_borough, pilot_borough
from tests.reports.factories import HACKNEY, LEWISHAM, SOUTHWARK


@pytest.fixture
def boroughs(db) -> dict[str, Borough]:
    """Pilot Lewisham and Hackney (from 1 January 2020) and comparison Southwark."""
    pilot_borough(LEWISHAM, start=date(2020, 1, 1))
    pilot_borough(HACKNEY, start=date(2020, 1, 1))
    comparison_borough(SOUTHWARK)
    return {b.gss_code: b for b in Borough.objects.filter(role__in=["pilot", "comparison"])}


@pytest.fixture
def upload_reoffences(client, celery_eager):
    """Post a reoffence file to the upload page, run its import job, and return the next page.

    The job is sent when the upload commits; tests run inside a transaction that never
    commits, so the commit callbacks are run here, in-process, before the job page is read.
    """
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import TestCase

    def upload(content: str | bytes, name: str = "matches.csv"):
        data = content.encode("utf-8") if isinstance(content, str) else content
        file = SimpleUploadedFile(name, data, content_type="text/csv")
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post("/reports/reoffences/upload/", {"file": file})
        if response.status_code != 302:
            return response
        return client.get(response["Location"])

    return upload
