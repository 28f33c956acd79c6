"""``set_borough``: configures a borough exactly as SPEC §7 says, or fails with a plain message."""

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from boroughs.models import Borough

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("set_borough", *args, stdout=out)
    return out.getvalue()


def test_makes_a_pilot_with_start_and_end():
    output = run("E09000023", "--role", "pilot", "--start", "2026-01-05", "--end", "2026-12-31")
    borough = Borough.objects.get(gss_code="E09000023")
    assert (borough.role, borough.pilot_start, borough.pilot_end) == (
        "pilot",
        date(2026, 1, 5),
        date(2026, 12, 31),
    )
    assert "Lewisham (E09000023) is now pilot" in output


def test_makes_a_comparison_borough_and_clears_dates():
    run("E09000022", "--role", "pilot", "--start", "2026-01-05")
    run("E09000022", "--role", "comparison")
    borough = Borough.objects.get(gss_code="E09000022")
    assert (borough.role, borough.pilot_start, borough.pilot_end) == ("comparison", None, None)


def test_pilot_with_no_end_date_is_open_ended():
    run("E09000023", "--role", "pilot", "--start", "2026-01-05")
    borough = Borough.objects.get(gss_code="E09000023")
    assert borough.pilot_end is None
    assert borough.is_piloting_on(date(2030, 1, 1))
    assert not borough.is_piloting_on(date(2026, 1, 4))


def test_records_each_change_in_history():
    run("E09000023", "--role", "pilot", "--start", "2026-01-05")
    run("E09000023", "--role", "none")
    assert [h.role for h in Borough.objects.get(gss_code="E09000023").history.all()] == [
        "none",
        "pilot",
        "none",  # as shipped, recorded by the initial-history migration
    ]


def test_keeps_the_reason_given_and_none_when_none_is_given():
    run("E09000023", "--role", "pilot", "--start", "2026-01-05", "--reason", "Board approval")
    run("E09000023", "--role", "comparison")
    latest, first_change = Borough.objects.get(gss_code="E09000023").history.all()[:2]
    assert first_change.history_change_reason == "Board approval"
    assert latest.history_change_reason is None


@pytest.mark.parametrize(
    "args",
    [
        ["E09000022", "--role", "comparison", "--start", "2026-01-05"],
        ["E09000022", "--role", "comparison", "--end", "2026-02-01"],
        ["E09000022", "--role", "none", "--start", "2026-01-05", "--end", "2026-02-01"],
    ],
)
def test_refuses_dates_on_a_borough_that_is_not_a_pilot(args):
    run("E09000022", "--role", "pilot", "--start", "2025-06-01", "--end", "2025-12-31")
    with pytest.raises(CommandError, match="Only a pilot borough has pilot dates"):
        run(*args)
    borough = Borough.objects.get(gss_code="E09000022")
    assert (borough.role, borough.pilot_start, borough.pilot_end) == (
        "pilot",
        date(2025, 6, 1),
        date(2025, 12, 31),
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["E09000099", "--role", "pilot", "--start", "2026-01-01"], "no London borough"),
        (["XYZ", "--role", "none"], "no London borough"),
        (["E09000023", "--role", "pilot"], "needs a pilot start date"),
        (
            ["E09000023", "--role", "pilot", "--start", "2026-02-01", "--end", "2026-01-31"],
            "must be on or after its start date",
        ),
        (["E09000023", "--role", "trial", "--start", "2026-02-01"], "must be pilot, comparison"),
        (["E09000023", "--role", "pilot", "--start", "2026-02-30"], "real date"),
        (["E09000023", "--role", "pilot", "--start", "1/2/2026"], "real date"),
        (["E09000023", "--role", "comparison", "--end", "2026-02-01"], "Only a pilot borough"),
    ],
)
def test_refuses_bad_configuration_and_changes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not Borough.objects.exclude(role="none").exists()


def test_lists_every_error_at_once():
    with pytest.raises(CommandError) as caught:
        run("E09000099", "--role", "trial", "--start", "2026-13-01")
    text = str(caught.value)
    assert "no London borough" in text
    assert "must be pilot, comparison" in text
    assert "real date" in text


def test_exits_non_zero_from_the_command_line(capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "set_borough", "E09000099", "--role", "pilot"]).execute()
    assert exited.value.code != 0
    assert "no London borough" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"role": "pilot", "pilot_start": None}, "borough_pilot_has_start"),
        (
            {"role": "pilot", "pilot_start": date(2026, 2, 1), "pilot_end": date(2026, 1, 1)},
            "borough_pilot_end_not_before_start",
        ),
        # Each case breaks one constraint only, as databases check them in different orders.
        ({"role": "comparison", "pilot_start": date(2026, 1, 1)}, "borough_dates_only_for_pilot"),
        (
            {"role": "none", "pilot_start": date(2026, 1, 1), "pilot_end": date(2026, 2, 1)},
            "borough_dates_only_for_pilot",
        ),
    ],
)
def test_database_keeps_the_rules_even_past_the_service(fields, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Borough.objects.filter(gss_code="E09000023").update(**fields)
