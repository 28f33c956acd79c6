"""Every rendering of a report version: JSON (unsuppressed), CSV, XLSX and PDF (suppressed).

``render(version, fmt)`` returns the file's bytes. Every rendering is made from the same
suppressed tables and charts (``tables``, ``figures``); the PDF's context is ``version_context``
and the web page's ``page.report_page_context``. Nothing here queries the database beyond what
``reports.selectors`` reads for it (the names of boroughs and reasons, earlier weeks' totals).
"""

import io
from typing import Any

from diversion.formula_safety import SafeCsvWriter, safe_workbook
from reports import selectors
from reports.models import ReportStatus, ReportVersion
from reports.renderings import figures
from reports.renderings.tables import Table, csv_value, report_tables
from reports.services import canonical_json
from reports.suppression import SUPPRESSION_NOTE, suppress_report

FORMATS: dict[str, tuple[str, str]] = {
    "json": ("application/json", "json"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}
NUMBER_FORMATS = {"rate": "0.0%", "ratio": "0.00"}  # how XLSX shows each kind of estimate


def filename(version: ReportVersion, fmt: str) -> str:
    """Return a download's file name, e.g. ``weekly-report-2026-W10-v2.pdf``."""
    return f"weekly-report-{version.week}-v{version.number}.{FORMATS[fmt][1]}"


def render(version: ReportVersion, fmt: str) -> bytes:
    """Return one rendering of a report version as bytes."""
    if fmt == "json":
        # The same canonical JSON the version's SHA-256 is taken of, so a download can be checked.
        return canonical_json(version.data).encode("utf-8")
    if fmt == "csv":
        return render_csv(version)
    if fmt == "xlsx":
        return render_xlsx(version)
    if fmt == "pdf":
        return render_pdf(version)
    raise ValueError(f"Unknown format {fmt!r}: choose json, csv, xlsx or pdf")


# --- Shared content ---------------------------------------------------------------------------


def cover_rows(version: ReportVersion) -> list[tuple[str, str]]:
    """Return the cover's facts as (label, value) pairs, for every rendering."""
    if version.built_by_schedule:
        built_by = "the weekly schedule"
    elif version.built_by:
        built_by = version.built_by.get_full_name() or version.built_by.get_username()
    else:
        # Only the build_report command builds without a signed-in person or the schedule.
        built_by = "the build_report command"
    rows = [
        ("Week", version.week),
        ("Period", f"{version.period_start:%-d %B %Y} to {version.period_end:%-d %B %Y}"),
        ("Version", str(version.number)),
        ("Status", version.get_status_display()),
        ("Built", f"{_local(version.built_at)} by {built_by}"),
        ("SHA-256 of the data", version.sha256),
    ]
    if version.submitted_at:
        rows.append(
            ("Submitted", f"{_local(version.submitted_at)} by {_name(version.submitted_by)}")
        )
    if version.decided_at:
        verb = "Approved" if version.status == ReportStatus.APPROVED else "Returned"
        rows.append((verb, f"{_local(version.decided_at)} by {_name(version.decided_by)}"))
    if version.approver_comment:
        rows.append(("Approver's comment", version.approver_comment))
    return rows


def _local(moment) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(moment):%-d %B %Y at %H:%M}"


def _name(user) -> str:
    if user is None:
        return "not recorded"
    return user.get_full_name() or user.get_username()


def version_context(version: ReportVersion, *, for_print: bool = False) -> dict[str, Any]:
    """Return the PDF's context: cover, tables and charts (the web page's is ``page``)."""
    labels = selectors.report_labels(version.data)
    tables = report_tables(version.data, version.extra, labels)
    by_key = {t.key: t for t in tables}
    trend_points = selectors.weekly_encounters(version)
    trend_chart = figures.trend_chart(trend_points)
    # Secondary suppression needs the whole report at once; the charts start from it.
    shown = suppress_report(version.data)
    reoffending_chart, reoffending_chart_table = figures.reoffending_chart(shown)
    return {
        "version": version,
        "shown": shown,
        "cover_rows": cover_rows(version),
        "suppression_note": SUPPRESSION_NOTE,
        "activity_table": by_key["activity"],
        "reasons_table": by_key["ineligibility_reasons"],
        "referrals_table": by_key["referrals"],
        "reoffending_table": by_key["reoffending"],
        "effects_table": by_key["effects"],
        "disproportionality_tables": [t for t in tables if t.key.startswith("disproportionality")],
        "has_disproportionality": bool((version.extra or {}).get("disproportionality")),
        "activity_chart": figures.activity_chart(shown, version.week, labels.boroughs),
        "trend_chart": trend_chart,
        "trend_table": figures.trend_table(trend_points) if trend_chart else None,
        "reoffending_chart": reoffending_chart,
        "reoffending_chart_table": reoffending_chart_table,
        "for_print": for_print,
        "watermark": version.status != ReportStatus.APPROVED,
    }


# --- Files ------------------------------------------------------------------------------------


def render_csv(version: ReportVersion) -> bytes:
    """Write every section one after another, each under a title row, suppressed."""
    out = io.StringIO()
    writer = SafeCsvWriter(out, lineterminator="\r\n")
    writer.writerow([f"Weekly report {version.week}, version {version.number}"])
    for label, value in cover_rows(version):
        writer.writerow([label, value])
    writer.writerow(["Suppression", SUPPRESSION_NOTE])
    labels = selectors.report_labels(version.data)
    for table in report_tables(version.data, version.extra, labels):
        writer.writerow([])
        writer.writerow([table.title])
        if table.caveat:
            writer.writerow([table.caveat])
        if not table.rows:
            writer.writerow([table.empty_text])
            continue
        writer.writerow([c.label for c in table.columns])
        for row in table.rows:
            writer.writerow([csv_value(cell) for cell in row])
    # A byte order mark lets spreadsheet programs read the UTF-8 correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_xlsx(version: ReportVersion) -> bytes:
    """Write a cover sheet, then one sheet per section, suppressed."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    cover = book.active
    cover.title = "Cover"
    cover.append([f"Weekly report {version.week}, version {version.number}"])
    cover["A1"].font = Font(bold=True, size=14)
    for label, value in cover_rows(version):
        cover.append([label, value])
    cover.append(["Suppression", SUPPRESSION_NOTE])
    cover.column_dimensions["A"].width = 24
    cover.column_dimensions["B"].width = 80
    labels = selectors.report_labels(version.data)
    for table in report_tables(version.data, version.extra, labels):
        _xlsx_sheet(book.create_sheet(_sheet_title(table)), table)
    safe_workbook(book)  # no text cell may be read as a formula (OWASP CSV injection)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_sheet(sheet: Any, table: Table) -> None:
    """Fill one section's sheet: title, caveat, then the table with its headings in bold."""
    from openpyxl.styles import Font

    bold = Font(bold=True)
    sheet.append([table.title])
    sheet["A1"].font = bold
    if table.caveat:
        sheet.append([table.caveat])
    if not table.rows:
        sheet.append([table.empty_text])
        return
    sheet.append([c.label for c in table.columns])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for row in table.rows:
        sheet.append([cell.value for cell in row])
        for column, cell in zip(table.columns, sheet[sheet.max_row], strict=True):
            if column.kind in NUMBER_FORMATS and isinstance(cell.value, float):
                cell.number_format = NUMBER_FORMATS[column.kind]
    for index, column in enumerate(table.columns, start=1):
        letter = sheet.cell(row=2, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.label) + 2)


def _sheet_title(table: Table) -> str:
    titles = {
        "activity": "Activity",
        "ineligibility_reasons": "Ineligibility reasons",
        "referrals": "Referrals",
        "reoffending": "Reoffending",
        "effects": "Diverted compared",
        "disproportionality_ethnicity_group": "By ethnic group",
        "disproportionality_gender": "By gender",
        "disproportionality_age_band": "By age band",
    }
    return titles.get(table.key, table.key[:31])


def print_html(version: ReportVersion, *, full: bool = False) -> str:
    """Return the HTML the PDF is made from (``reports.renderings.pdf``)."""
    from reports.renderings import pdf

    return pdf.print_html(version, full=full)


def render_pdf(version: ReportVersion, *, full: bool = False) -> bytes:
    """Print the report to PDF, watermarked DRAFT unless approved; ``full`` adds the appendix."""
    from reports.renderings import pdf

    return pdf.render_pdf(version, full=full)
