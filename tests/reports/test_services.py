"""Building report versions and the jobs that build them."""

import hashlib
import json
from datetime import date

import pytest

from reports import services
from reports.models import JobStatus, ReportBuildJob, ReportStatus, ReportVersion
from reports.services import (
    canonical_json,
    report_build,
    report_build_enqueue,
    report_build_job_run,
    report_build_scheduled,
)
from reports.weeks import WeekError
from tests.reports.factories import meet, person

WEEK = "2024-W03"

# `boroughs` (tests/reports/conftest.py): pilot Lewisham and Hackney, comparison Southwark.


def test_build_stores_a_draft_version_one(boroughs, analyst):
    meet(person("S1"), date(2024, 1, 15), "diverted")
    version, created = report_build(week=WEEK, by=analyst)
    assert created
    assert (version.week, version.number, version.status) == (WEEK, 1, ReportStatus.DRAFT)
    assert (version.period_start, version.period_end) == (date(2024, 1, 15), date(2024, 1, 21))
    assert version.built_by == analyst
    assert version.data["activity"][-1]["diverted"] == 1
    assert {r["dimension"] for r in version.extra["disproportionality"]} == {
        "ethnicity_group",
        "gender",
        "age_band",
    }


def test_rebuilding_unchanged_figures_makes_no_new_version(boroughs):
    meet(person("S1"), date(2024, 1, 15), "diverted")
    first, _ = report_build(week=WEEK)
    again, created = report_build(week=WEEK)
    assert not created
    assert again.pk == first.pk
    assert ReportVersion.objects.filter(week=WEEK).count() == 1


def test_changed_figures_make_version_two_and_leave_approved_version_alone(boroughs, approver):
    meet(person("S1"), date(2024, 1, 15), "diverted")
    first, _ = report_build(week=WEEK)
    ReportVersion.objects.filter(pk=first.pk).update(status=ReportStatus.APPROVED)
    first.refresh_from_db()
    approved = (first.data, first.sha256, first.number, first.status)

    meet(person("S2"), date(2024, 1, 16), "declined")
    second, created = report_build(week=WEEK)

    assert created
    assert second.number == 2
    assert second.status == ReportStatus.DRAFT
    assert second.sha256 != first.sha256
    first.refresh_from_db()
    assert (first.data, first.sha256, first.number, first.status) == approved


def test_sha256_is_of_the_canonical_json_with_sorted_lists(boroughs):
    meet(person("S1"), date(2024, 1, 15), "diverted")
    version, _ = report_build(week=WEEK)

    def sort_lists(value):
        if isinstance(value, dict):
            return {k: sort_lists(v) for k, v in value.items()}
        if isinstance(value, list):
            return sorted(
                (sort_lists(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True)
            )
        return value

    expected = json.dumps(sort_lists(version.data), sort_keys=True, separators=(",", ":"))
    assert canonical_json(version.data) == expected
    assert version.sha256 == hashlib.sha256(expected.encode()).hexdigest()
    shuffled = dict(version.data, activity=list(reversed(version.data["activity"])))
    assert canonical_json(shuffled) == expected


def test_a_lost_race_for_a_version_number_takes_the_next_one(boroughs, monkeypatch):
    """If another build stores the same number first, the unique constraint makes us retry."""
    meet(person("S1"), date(2024, 1, 15), "diverted")
    real_latest = services._latest
    calls = {"n": 0}

    def stale_then_real(week):
        calls["n"] += 1
        if calls["n"] == 1:
            # Someone else stores version 1 between our read and our insert.
            ReportVersion.objects.create(
                week=week,
                period_start=date(2024, 1, 15),
                period_end=date(2024, 1, 21),
                number=1,
                data={},
                sha256="0" * 64,
                built_at="2024-01-22T06:00:00Z",
            )
            return None
        return real_latest(week)

    monkeypatch.setattr(services, "_latest", stale_then_real)
    version, created = report_build(week=WEEK)
    assert created
    assert version.number == 2


def test_enqueue_refuses_a_week_that_does_not_exist(db, analyst):
    with pytest.raises(WeekError):
        report_build_enqueue(week="2021-W53", by=analyst)
    assert not ReportBuildJob.objects.exists()


def test_enqueued_job_runs_after_commit_and_ends_ready(
    boroughs, analyst, celery_eager, django_capture_on_commit_callbacks
):
    meet(person("S1"), date(2024, 1, 15), "diverted")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = report_build_enqueue(week=WEEK, by=analyst)
        assert ReportBuildJob.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.READY
    assert job.report.number == 1
    assert job.report.built_by == analyst
    assert job.started_at and job.finished_at


def test_job_that_fails_says_why(boroughs, monkeypatch):
    def broken(**kwargs):
        raise ValueError("no figures today")

    monkeypatch.setattr(services, "report_with_disproportionality", broken)
    job = ReportBuildJob.objects.create(week=WEEK)
    with pytest.raises(ValueError):
        report_build_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "The report could not be built: no figures today"
    assert job.report is None


def test_running_a_ready_job_again_changes_nothing(boroughs):
    job = ReportBuildJob.objects.create(week=WEEK)
    report_build_job_run(job_id=job.pk)
    job.refresh_from_db()
    finished = job.finished_at
    report_build_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.finished_at == finished
    assert ReportVersion.objects.filter(week=WEEK).count() == 1


def test_scheduled_build_is_for_the_week_just_ended(boroughs):
    job = report_build_scheduled(today=date(2024, 1, 22))  # a Monday
    assert job.status == JobStatus.READY
    assert job.by_schedule
    assert job.report.week == "2024-W03"
    assert job.report.built_by_schedule


def test_enqueued_job_that_fails_is_marked_failed_without_raising(
    boroughs, analyst, celery_eager, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise ValueError("no figures today")

    monkeypatch.setattr(services, "report_with_disproportionality", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = report_build_enqueue(week=WEEK, by=analyst)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "The report could not be built: no figures today"


def test_enqueue_records_a_broker_that_cannot_be_reached(
    db, analyst, monkeypatch, django_capture_on_commit_callbacks
):
    from reports.tasks import report_build_task

    def unreachable(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(report_build_task, "delay", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        job = report_build_enqueue(week=WEEK, by=analyst)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "The build could not be queued. Try again in a few minutes."
