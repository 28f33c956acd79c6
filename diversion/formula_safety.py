"""Keep spreadsheet programs from running text in exported files as formulas (OWASP CSV injection).

Every CSV and XLSX writer passes its cells through ``safe_cell``: text that a spreadsheet would
read as a formula (starting ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a
leading single quote, so it shows as the text it is. Numbers stay numbers, so a negative rate or
count is still a number. On the way in, references must be plain ASCII letters, digits and
hyphens (``diversion.validators.reference_problem``), so none can carry a formula at all.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

# One character each: the SQL export tests a cell's first character against the same tuple.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that is only a number ("-3", "-0.25", "-12.5%") is read as that number, not a formula.
# ASCII digits only, so Python and PostgreSQL regular expressions read it the same way.
PLAIN_NUMBER_PATTERN = r"-?[0-9]+(\.[0-9]+)?%?"
PLAIN_NUMBER = re.compile(PLAIN_NUMBER_PATTERN)


def safe_cell(value: Any) -> Any:
    """Return ``value`` with text that would start a formula prefixed by ``'``; others as given."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_sql(expression: str) -> tuple[str, list[Any]]:
    """Return PostgreSQL applying ``safe_cell`` to a text ``expression``, with its parameters.

    Built from ``FORMULA_STARTS`` and ``PLAIN_NUMBER_PATTERN``, so the database export follows
    the same rule as the Python writers. Empty text becomes NULL, which COPY writes as an empty
    cell (as ``csv.writer`` writes ``""``) rather than as a quoted ``""``.
    """
    sql = (
        f"NULLIF(CASE WHEN left({expression}, 1) = ANY(%s) AND {expression} !~ %s "
        f"THEN '''' || {expression} ELSE {expression} END, '')"
    )
    return sql, [list(FORMULA_STARTS), f"^({PLAIN_NUMBER_PATTERN})$"]


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Return a row with every text cell made safe."""
    return [safe_cell(value) for value in row]


class SafeCsvWriter:
    """A ``csv.writer`` whose rows are made formula-safe before they are written."""

    def __init__(self, stream: TextIO, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_workbook(book: Any) -> None:
    """Make every cell of an openpyxl workbook a value, never a formula, before it is saved.

    Cells appended as text that looks like a formula (openpyxl then marks them ``f``) are
    written back as quoted text of type ``s``.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = safe_cell(cell.value)
                    cell.data_type = "s"
