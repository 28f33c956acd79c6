"""``build_report``: builds a version and writes one rendering."""

import csv
import io
import json
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from reports.models import ReportVersion
from tests.reports.factories import LEWISHAM, meet, person

WEEK = "2024-W03"

# `boroughs` (tests/reports/conftest.py): pilot Lewisham and Hackney, comparison Southwark.
SPEC_KEYS = {
    "week",
    "period_start",
    "period_end",
    "activity",
    "ineligibility_reasons",
    "referrals",
    "reoffending",
    "effects",
}


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("build_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_goes_to_stdout_with_exactly_the_spec_keys(boroughs):
    meet(person("B1"), date(2024, 1, 15), "diverted")
    out, err = run("--week", WEEK)
    data = json.loads(out)
    assert set(data) == SPEC_KEYS
    assert data["week"] == WEEK
    assert set(data["activity"][0]) == {
        "borough",
        "encounters",
        "diverted",
        "declined",
        "not_offered",
        "ineligible",
    }
    assert data["activity"][-1]["diverted"] == 1
    assert "Built 2024-W03 version 1" in err


def test_identical_rebuild_reuses_the_latest_version_and_says_so(boroughs, tmp_path):
    run("--week", WEEK)
    target = tmp_path / "report.json"
    _, err = run("--week", WEEK, "--format", "json", "--output", str(target))
    assert "so that version was reused" in err
    assert ReportVersion.objects.filter(week=WEEK).count() == 1
    assert set(json.loads(target.read_text())) == SPEC_KEYS


def test_csv_rendering_is_written_to_the_output_path(boroughs, tmp_path):
    meet(person("B1"), date(2024, 1, 15), "diverted")
    target = tmp_path / "report.csv"
    run("--week", WEEK, "--format", "csv", "--output", str(target))
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    # Lewisham's one encounter, a diversion, is suppressed; the other boroughs' zeros are not.
    assert ["Lewisham", "<5", "<5", "0", "0", "0"] in rows
    assert ["Hackney", "0", "0", "0", "0", "0"] in rows
    version = ReportVersion.objects.get(week=WEEK)
    lewisham = next(r for r in version.data["activity"] if r["borough"] == LEWISHAM)
    assert (lewisham["encounters"], lewisham["diverted"]) == (1, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--week", "2021-W53"), "2021 has weeks 01 to 52"),
        (("--week", "week 10"), "Enter the week as YYYY-Www"),
        (("--week", WEEK, "--format", "docx"), "--format must be json, csv, xlsx or pdf"),
    ],
)
def test_bad_arguments_fail_with_a_plain_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ReportVersion.objects.exists()


def test_bad_week_exits_non_zero_from_the_command_line():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "manage.py", "build_report", "--week", "2026-W99"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "2026 has weeks 01 to 53, so there is no week 99" in result.stderr


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_build_reads_its_figures_from_the_replica_and_stores_its_version_on_default(
    reference_data, boroughs, settings
):
    """The heavy reads take the replica; the version and its history are written to default."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from reports.measure import report_data
    from reports.services import report_build

    meet(person("B1"), date(2024, 1, 15), "diverted")
    meet(person("B2"), date(2023, 6, 1), "declined")
    default = CaptureQueriesContext(connections["default"])
    replica = CaptureQueriesContext(connections["replica"])

    with default, replica:
        version, created = report_build(week=WEEK)

    on_replica = [q["sql"] for q in replica]
    on_default = [q["sql"] for q in default]
    assert created
    assert any("per_index" in sql for sql in on_replica)  # the reoffending statement
    assert any('FROM "diversion_encounter"' in sql for sql in on_replica)  # activity, offers
    assert not any(sql.startswith(("INSERT", "UPDATE", "DELETE")) for sql in on_replica)
    assert not any("per_index" in sql or '"diversion_encounter"' in sql for sql in on_default)
    assert any(sql.startswith('INSERT INTO "reports_reportversion"') for sql in on_default)
    # The same figures as reading default.
    settings.REPORTING_DATABASE = "default"
    assert ReportVersion.objects.get(pk=version.pk).data == json.loads(
        json.dumps(report_data(week=WEEK))
    )
