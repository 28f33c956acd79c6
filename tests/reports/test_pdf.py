"""The PDF: short, marked OFFICIAL-SENSITIVE on every page, one font family, suppressed, and
the full reoffending table only when asked for (``build_report --format pdf --full``)."""

import io
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from reports.models import ReportStatus, ReportVersion
from reports.renderings import render
from reports.renderings.pdf import (
    headline_sentences,
    print_html,
    render_pdf,
    reoffending_summary_table,
)
from reports.statistics import effect_estimates, round_figure, wilson_bounds
from reports.suppression import suppress_report
from tests.reports.factories import SAMPLE, make_version

pytestmark = pytest.mark.django_db

PILOTS = ["E09000005", "E09000012", "E09000022", "E09000023"]  # four pilots, as seed_demo
COMPARISONS = ["E09000008", "E09000014", "E09000025", "E09000028"]
# Cohort months reportable at 3, 6 and 12 months for a report at the end of November 2026.
COHORTS = [f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(6, 23)]
SHORT_PDF_PAGES = 7  # the PDF ran to 22 pages at demo size before the cover and summary


def _reoffending_row(cohort: str, group: str, borough: str, months: int, size: int) -> dict:
    reoffenders = size * (months + 6) // 50
    low, high = wilson_bounds(reoffenders, size)
    return {
        "cohort": cohort,
        "group": group,
        "borough": borough,
        "months": months,
        "cohort_size": size,
        "reoffenders": reoffenders,
        "reoffences": reoffenders + reoffenders // 3,
        "rate": round_figure(reoffenders / size),
        "ci_low": round_figure(low),
        "ci_high": round_figure(high),
    }


def _reoffending() -> list[dict]:
    rows = []
    for months, cohorts in ((3, COHORTS), (6, COHORTS[:-3]), (12, COHORTS[:-9])):
        for c, cohort in enumerate(cohorts):
            for group, boroughs in (("diverted", PILOTS), ("comparison", PILOTS + COMPARISONS)):
                sizes = [20 + 7 * ((b + c) % 5) for b in range(len(boroughs))]
                for borough, size in zip(boroughs, sizes, strict=True):
                    rows.append(_reoffending_row(cohort, group, borough, months, size))
                rows.append(_reoffending_row(cohort, group, "ALL", months, sum(sizes)))
    return rows


def _effects(reoffending: list[dict]) -> list[dict]:
    rows = []
    for months in (3, 6, 12):
        for borough in [*PILOTS, "ALL"]:
            pooled = {}
            for group in ("diverted", "comparison"):
                mine = [
                    r
                    for r in reoffending
                    if (r["months"], r["borough"], r["group"]) == (months, borough, group)
                ]
                pooled[group] = (
                    sum(r["cohort_size"] for r in mine),
                    sum(r["reoffenders"] for r in mine),
                )
            (n1, r1), (n0, r0) = pooled["diverted"], pooled["comparison"]
            rows.append(
                {
                    "borough": borough,
                    "months": months,
                    "diverted_size": n1,
                    "diverted_reoffenders": r1,
                    "comparison_size": n0,
                    "comparison_reoffenders": r0,
                    **effect_estimates(r1=r1, n1=n1, r0=r0, n0=n0),
                }
            )
    return rows


def demo_sized_data() -> dict:
    """A report shaped like seed_demo's default 20,000 encounters: 8 boroughs, ~500 cohort rows."""
    activity = [
        {
            "borough": code,
            "encounters": 30 + i,
            "diverted": 10 + i if code in PILOTS else 0,
            "declined": 5 if code in PILOTS else 0,
            "not_offered": 0 if code in PILOTS else 15 + i,
            "ineligible": 15 - (5 if code in PILOTS else 0) - (0 if code in PILOTS else i),
        }
        for i, code in enumerate(PILOTS + COMPARISONS)
    ]
    activity[0].update(encounters=23, diverted=3, declined=2, ineligible=18)  # small counts
    activity.append(
        {"borough": "ALL"} | {k: sum(r[k] for r in activity) for k in activity[0] if k != "borough"}
    )
    referrals = [
        {
            "borough": code,
            "referred": 1300 + i,
            "attended": 900,
            "completed": 820,
            "did_not_attend": 200,
            "withdrawn": 80,
            "open": 200 + i,
            "completion_rate": round_figure(820 / 1020),
        }
        for i, code in enumerate(PILOTS)
    ]
    referrals.append(
        {"borough": "ALL"}
        | {k: sum(r[k] for r in referrals) for k in referrals[0] if k != "borough"}
        | {"completion_rate": round_figure(820 / 1020)}
    )
    reoffending = _reoffending()
    return {
        **SAMPLE,
        "week": "2026-W47",
        "activity": activity,
        "referrals": referrals,
        "reoffending": reoffending,
        "effects": _effects(reoffending),
    }


@pytest.fixture
def demo_version() -> ReportVersion:
    return make_version(week="2026-W47", data=demo_sized_data())


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text, with runs of spaces and line breaks made one space."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _fonts(resources) -> set[str]:
    """Every font a page uses, in its text and inside its drawings (charts are XObjects)."""
    found = set()
    resources = resources.get_object() if resources is not None else {}
    for font in (resources.get("/Font") or {}).values():
        found.add(str(font.get_object()["/BaseFont"]))
    for xobject in (resources.get("/XObject") or {}).values():
        found |= _fonts(xobject.get_object().get("/Resources"))
    return found


def font_families(pdf: bytes) -> set[str]:
    """Font families, without the subset tag (ABCDEF+) or the style (Bold, Oblique)."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        names |= _fonts(page.get("/Resources"))
    return {
        re.sub(r"-(Bold|Oblique|BoldOblique|Italic|BoldItalic)$", "", n.split("+")[-1])
        for n in names
    }


def test_demo_sized_pdf_is_short_leads_with_the_answer_and_is_marked_on_every_page(
    demo_version,
):
    assert len(demo_version.data["reoffending"]) > 500
    texts = pages_text(render(demo_version, "pdf"))  # what the web download sends
    assert len(texts) <= SHORT_PDF_PAGES
    assert all("OFFICIAL-SENSITIVE" in text for text in texts)
    assert all("Weekly report 2026-W47, version 1: DRAFT" in text for text in texts)
    cover, whole = texts[0], " ".join(texts)
    assert "This week there were 261 encounters" in cover
    assert "a completion rate of 80.4%" in cover
    assert "390 of 1,095 people diverted and 779 of 2,176 people not diverted" in cover
    assert "(95% interval -3.6% to 3.3%, which includes no difference)" in cover
    assert "it is not proof that diversion caused the difference" in cover
    assert "12 35.6% 35.8% -0.2% -3.6% to 3.3% 0.99 0.90 to 1.10" in cover
    assert "Appendix" not in whole
    assert "CSV and Excel (XLSX) downloads" in whole
    assert "build_report --format pdf --full" in whole


def test_full_pdf_has_every_reoffending_row_marked_pages_and_one_font_family(demo_version):
    short = pages_text(render_pdf(demo_version))
    pdf = render_pdf(demo_version, full=True)
    full = pages_text(pdf)
    assert len(full) > len(short) + 5
    assert all("OFFICIAL-SENSITIVE" in text for text in full)
    assert all("version 1: DRAFT" in text for text in full)
    assert "Appendix: every reoffending figure" in " ".join(full[len(short) :])
    html = print_html(demo_version, full=True).split('id="appendix"', 1)[1]
    assert html.count("<tr") == len(demo_version.data["reoffending"]) + 1  # and the heading row
    # Text, table figures and chart labels (drawn as SVG) all in one family.
    assert 'role="img"' in print_html(demo_version)
    assert font_families(pdf) == {"DejaVu-Sans"}


def test_an_approved_pdf_is_marked_official_sensitive_but_not_draft():
    texts = pages_text(render_pdf(make_version(status=ReportStatus.APPROVED)))
    assert texts and all("OFFICIAL-SENSITIVE" in text for text in texts)
    assert not any("DRAFT" in text for text in texts)


def test_headline_never_says_what_the_tables_hide():
    shown = suppress_report(SAMPLE | {"effects": []})
    activity, completion, effect = headline_sentences(shown, period_end="8 March 2026")
    assert activity == (
        "This week there were 13 encounters in the pilot and comparison boroughs: <5 diverted, "
        "<5 declined diversion, <5 not offered it and 5 not eligible."
    )
    # Lewisham's 6 did-not-attend is hidden by secondary suppression, so ALL's is too.
    assert completion == (
        "Of all referrals up to 8 March 2026, 25 completed and [c] did not attend; the "
        "completion rate is withheld because a number it is made from is hidden."
    )
    assert "no 12-month comparison yet" in effect


def test_effect_with_a_small_count_is_withheld_in_the_headline_and_summary():
    effect = {
        "borough": "ALL",
        "months": 12,
        "diverted_size": 40,
        "diverted_reoffenders": 3,
        "comparison_size": 60,
        "comparison_reoffenders": 12,
        **effect_estimates(r1=3, n1=40, r0=12, n0=60),
    }
    shown = suppress_report({"effects": [effect]})
    sentence = headline_sentences(shown, period_end="1 March 2026")[2]
    assert "<5 of 40 people diverted" in sentence and "difference is withheld" in sentence
    assert "7.5" not in sentence and "%" not in sentence
    rows = {(r[0].text, r[1].text): r for r in reoffending_summary_table(shown).rows}
    assert [c.text for c in rows[("12", "Diverted")][2:]] == ["40", "<5"] + ["Withheld"] * 3
    assert [c.text for c in rows[("12", "Comparison")][2:5]] == ["60", "12", "20.0%"]


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("build_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_full_is_refused_with_any_format_but_pdf(boroughs, fmt):
    with pytest.raises(CommandError, match="--full only works with --format pdf"):
        run("--week", "2024-W03", "--format", fmt, "--full")
    assert not ReportVersion.objects.exists()


def test_full_is_refused_with_every_other_error_listed(boroughs):
    with pytest.raises(CommandError) as raised:
        run("--week", "2024-W99", "--format", "docx", "--full")
    message = str(raised.value)
    assert "2024 has weeks 01 to 52" in message
    assert "--format must be json, csv, xlsx or pdf" in message
    assert "--full only works with --format pdf" in message


def test_build_report_writes_the_full_pdf_when_asked(boroughs, tmp_path):
    short, full = tmp_path / "short.pdf", tmp_path / "full.pdf"
    run("--week", "2024-W03", "--format", "pdf", "--output", str(short))
    run("--week", "2024-W03", "--format", "pdf", "--full", "--output", str(full))
    assert "Appendix" not in " ".join(pages_text(short.read_bytes()))
    assert "Appendix: every reoffending figure" in " ".join(pages_text(full.read_bytes()))


def test_full_with_csv_exits_non_zero_from_the_command_line():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "manage.py", "build_report", "--week", "2026-W10", "--full"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "--full only works with --format pdf" in result.stderr
