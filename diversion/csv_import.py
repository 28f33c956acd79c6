"""The CSV machinery both importers share (SPEC §7): one error list, one way to read a file.

`import_encounters` and `import_reoffences` read a file the same way: the header is line 1, a
blank line is skipped but keeps its number, a malformed record is an error on the line it
starts on, every problem is listed as ``line N, column: message`` ordered by line and then by
the column's place in the file, and nothing is stored unless the whole file is good. The
readers here turn one cell into a value or a plain-English problem, so the two importers (and
the forms, through `diversion.validators`) can never disagree on what a date or a number is.

Files are read as a stream, record by record, so memory does not grow with the file: rows go
to a staging table (`diversion.staging`), not into a list.
"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

from django.core.exceptions import ValidationError

from diversion.csvfiles import Record, read_records
from diversion.error_lists import ErrorList, SortKey
from diversion.validators import iso_date_problem, parse_grams, parse_iso_date

__all__ = [
    "ErrorList",
    "Record",
    "column_order_key",
    "header_names",
    "read_date",
    "read_grams",
    "read_records",
    "utf8_problem_line",
]

CHUNK_BYTES = 1 << 20
BOM = codecs.BOM_UTF8


def column_order_key(columns: Sequence[str], *, unknown: int) -> SortKey:
    """Return the sort key of ``line N, column: message``: the line, then the column's place.

    A column the file does not define (``header``, ``file``, ``row``) sorts at ``unknown``.
    Called once per error, so it splits strings rather than running a regular expression.
    """
    order = {column: place for place, column in enumerate(columns)}

    def key(error: str) -> tuple[int, int]:
        head, _, rest = error.partition(", ")
        number = head.removeprefix("line ")
        if number == head or not number.isdecimal():
            return (0, 0)
        return int(number), order.get(rest.partition(":")[0], unknown)

    return key


def header_names(record: Record) -> list[str]:
    """Return the header's names as typed, less spaces and a byte order mark."""
    return [name.strip().lstrip("\ufeff") for name in record.cells]


def read_date(text: str, *, noun: str) -> tuple[date | None, str | None]:
    """Read a ``YYYY-MM-DD`` date: the date, or None and why it is not one ("" reads as None)."""
    if not text:
        return None, None
    try:
        return parse_iso_date(text), None
    except ValueError:
        return None, iso_date_problem(text, noun=noun)


def read_grams(text: str, *, noun: str) -> tuple[Decimal | None, str | None]:
    """Read a quantity in grams: the amount, or None and why it is not one ("" reads as None)."""
    if not text:
        return None, None
    try:
        return parse_grams(text, noun=noun), None
    except ValidationError as error:
        return None, error.messages[0]


def utf8_problem_line(path: Path) -> int | None:
    """Return the line of the first byte that is not UTF-8 text, or None if the file is.

    Read in chunks, so a large file is checked without being held in memory. The line is
    counted as the importers always have: newlines before the bad byte's place in the text
    after any byte order mark.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes of the text (after the byte order mark) given to the decoder so far
    with path.open("rb") as file:
        head = file.read(len(BOM))
        chunks = itertools.chain(
            [] if head == BOM else [head], iter(partial(file.read, CHUNK_BYTES), b"")
        )
        for chunk in chunks:
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return _newlines_before(path, offset - pending + exc.start) + 1
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return _newlines_before(path, offset - len(exc.object) + exc.start) + 1
    return None


def _newlines_before(path: Path, end: int) -> int:
    """Count the newlines in the file's first ``end`` bytes."""
    count = 0
    with path.open("rb") as file:
        while end > 0:
            chunk = file.read(min(CHUNK_BYTES, end))
            if not chunk:
                break
            count += chunk.count(b"\n")
            end -= len(chunk)
    return count


class LineErrors:
    """The errors of one import, each ``line N, column: message``, listed in file order.

    ``limit`` keeps only the first errors (a page cannot show millions); ``total`` counts all.
    """

    def __init__(self, columns: Sequence[str], *, unknown: int, limit: int | None = None) -> None:
        self._columns = tuple(columns)
        self._unknown = unknown
        self._limit = limit
        self.list = ErrorList(key=column_order_key(columns, unknown=unknown), limit=limit)

    def add(self, line: int, column: str, message: str) -> None:
        self.list.append(f"line {line}, {column}: {message}")

    def append(self, error: str) -> None:
        self.list.append(error)

    def merge(self, other: LineErrors) -> None:
        """Add every error another list kept, and count those it counted but did not keep."""
        kept = other.list.listed()
        self.list.extend(kept)
        self.list.total += other.total - len(kept)

    def fresh(self) -> LineErrors:
        """Return an empty list that sorts the same way."""
        return LineErrors(self._columns, unknown=self._unknown, limit=self._limit)

    @property
    def total(self) -> int:
        return self.list.total

    def listed(self) -> list[str]:
        return self.list.listed()

    def __bool__(self) -> bool:
        return bool(self.list)
