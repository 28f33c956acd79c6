"""Read a CSV file record by record, turning every malformed record into a plain message.

Both importers read through `read_records`, so a broken quote, an over-long value or a NUL
byte is reported the same way, on the line where it is, and never stops the import with a
traceback.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

FIELD_LIMIT = csv.field_size_limit()


@dataclass(frozen=True)
class Record:
    """One CSV record: the line it starts on, and its cells or why they could not be read."""

    line: int
    cells: list[str]
    problem: str = ""


def _explain(error: csv.Error, start: int) -> str:
    """Say in plain English what is wrong with a record the csv module refused."""
    text = str(error)
    if "field larger than field limit" in text:
        return f"A value is longer than {FIELD_LIMIT:,} characters"
    if "unexpected end of data" in text:
        return (
            f"A quoted value that starts on line {start} is never closed: "
            "add the closing double quote"
        )
    return (
        "A value's quotes are not right: put double quotes around the whole value and double "
        'any quote inside it, like "a ""quoted"" word"'
    )


def read_records(stream: TextIO) -> Iterator[Record]:
    """Yield every record in ``stream`` with the line it starts on (the header is line 1).

    ``strict`` makes the csv module refuse a quote left open at the end of the file and a
    stray character after a closing quote, rather than quietly reading a different value.
    """
    reader = csv.reader(stream, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Record(line=start, cells=[], problem=_explain(error, start))
            continue
        yield Record(line=start, cells=cells)
