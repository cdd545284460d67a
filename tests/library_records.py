"""Small acquisitions built in the tests: UNIMARC records (pymarc), CSV and XLSX files."""

from __future__ import annotations

import io

import openpyxl
import pymarc
from pymarc import Field, Indicators, Subfield

BLANK = Indicators(" ", " ")


def unimarc(
    title: str,
    surname: str,
    forename: str,
    *,
    isbn: str | None = None,
    udc: str = "821.163.41-31",
    language: str = "srp",
    publisher: str = "Лагуна",
    year: str = "2026",
    coauthor: tuple[str, str] | None = None,
) -> pymarc.Record:
    """A record in the UNIMARC layout of COBISS (COMARC/B): the fields the import reads."""
    fields = []
    if isbn:
        fields.append(Field("010", BLANK, [Subfield("a", isbn)]))
    fields.append(Field("101", Indicators("0", " "), [Subfield("a", language)]))
    fields.append(
        Field(
            "200",
            Indicators("1", " "),
            [Subfield("a", title), Subfield("f", forename + " " + surname)],
        )
    )
    fields.append(
        Field(
            "210", BLANK, [Subfield("a", "Београд"), Subfield("c", publisher), Subfield("d", year)]
        )
    )
    fields.append(Field("675", BLANK, [Subfield("a", udc)]))
    fields.append(
        Field("700", Indicators(" ", "1"), [Subfield("a", surname), Subfield("b", forename)])
    )
    if coauthor:
        fields.append(
            Field(
                "701",
                Indicators(" ", "1"),
                [Subfield("a", coauthor[0]), Subfield("b", coauthor[1])],
            )
        )
    return pymarc.Record(leader="00000nam0 2200000   4500", force_utf8=True, fields=fields)


def iso2709(*records: pymarc.Record) -> bytes:
    """Records in ISO 2709, as a COBISS export writes them."""
    return b"".join(r.as_marc() for r in records)


def marcxml(*records: pymarc.Record) -> bytes:
    """Records as a MARCXML collection."""
    out = io.BytesIO()
    writer = pymarc.XMLWriter(out)
    for r in records:
        writer.write(r)
    writer.close(close_fh=False)
    return out.getvalue()


def xlsx(rows: list[list[object]]) -> bytes:
    """A workbook whose first sheet holds ``rows``."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
