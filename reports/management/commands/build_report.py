"""``build_report --week YYYY-Www [--format json|csv|xlsx|pdf] [--suppressed] [--output PATH]``.

SPEC §6-7. ``--suppressed`` writes the JSON as every human rendering sees it (small numbers
hidden); the other formats are always suppressed, so with them it changes nothing. ``--full``
(this service's addition, PDF only) adds the whole reoffending table to the PDF as an appendix;
the PDF otherwise shows a summary and points to the CSV and XLSX, which always have every row.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import Action
from audit.services import audit_record, command_actor
from reports.models import ReportVersion
from reports.services import report_build
from reports.suppression import suppressed_json
from reports.weeks import WeekError, parse_week

FORMATS = ("json", "csv", "xlsx", "pdf")


def rendering(
    version: ReportVersion, fmt: str, *, suppressed: bool = False, full: bool = False
) -> bytes:
    """Return one rendering; JSON is the unsuppressed SPEC §6 data product unless suppressed."""
    if fmt == "json":
        data = suppressed_json(version.data) if suppressed else version.data
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if fmt == "pdf":
        from reports.renderings.pdf import render_pdf

        return render_pdf(version, full=full)
    # Imported here so the command still builds JSON if a rendering's library is missing.
    from reports.renderings import render

    return render(version, fmt)


def problems(
    *,
    week: str,
    fmt: str,
    given: str,
    suppressed: bool,
    output: str | None,
    full: bool = False,
) -> list[str]:
    """List every problem with the command's options, so all are reported at once."""
    errors: list[str] = []
    try:
        parse_week(week)
    except WeekError as exc:
        errors.append(f"--week: {exc}")
    if fmt not in FORMATS:
        errors.append(f"--format must be json, csv, xlsx or pdf, not {given!r}")
    if full and fmt != "pdf":
        # Nothing else would change: CSV, XLSX and JSON always have every reoffending row.
        errors.append(
            "--full only works with --format pdf: it adds the full reoffending table to the PDF "
            "(CSV, XLSX and JSON always have every row)"
        )
    if output:
        parent = Path(output).expanduser().resolve().parent
        if not parent.is_dir():
            errors.append(f"--output: there is no folder {parent}")
    return errors


class Command(BaseCommand):
    help = (
        "Build a new version of the weekly report for an ISO week and write one rendering "
        "(to standard output when no --output is given)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--week", required=True, help="ISO week, e.g. 2026-W10")
        parser.add_argument("--format", default="json", help="json (default), csv, xlsx or pdf")
        parser.add_argument("--output", help="file to write; standard output when absent")
        parser.add_argument(
            "--user", help="who is building, for the audit trail (default: the OS account)"
        )
        parser.add_argument(
            "--suppressed",
            action="store_true",
            help="with --format json: hide small numbers as every human rendering does",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="with --format pdf: add the full reoffending table as an appendix",
        )

    def handle(
        self,
        *args,
        week: str,
        format: str,
        output: str | None,
        suppressed: bool = False,
        full: bool = False,
        **options,
    ) -> None:
        fmt = (format or "").strip().lower()
        errors = problems(
            week=week, fmt=fmt, given=format, suppressed=suppressed, output=output, full=full
        )
        if errors:
            raise CommandError("\n".join(errors))

        version, created = report_build(week=week)
        if created:
            self.stderr.write(f"Built {version.week} version {version.number}.")
        else:
            self.stderr.write(
                f"Nothing had changed since {version.week} version {version.number}, "
                "so that version was reused."
            )
        content = rendering(version, fmt, suppressed=suppressed, full=full)
        audit_record(
            by=command_actor(username=options.get("user")),
            action=Action.REPORT_BUILD,
            target=f"report:{version.week}/v{version.number}",
            detail=f"format: {fmt}{'; full' if full else ''}; "
            f"new version: {'yes' if created else 'no'}",
            channel="command",
        )
        if output:
            Path(output).expanduser().write_bytes(content)
            self.stderr.write(f"Wrote the {fmt.upper()} to {output}.")
        elif self.stdout._out is sys.stdout:
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        elif fmt in ("json", "csv"):
            self.stdout.write(content.decode("utf-8"), ending="")
        else:
            buffer = getattr(self.stdout._out, "buffer", None)
            if buffer is None:
                raise CommandError("Use --output PATH to write an XLSX or PDF file")
            buffer.write(content)
