"""Reading a file of new acquisitions: MARC (ISO 2709, MARCXML), CSV or XLSX, all or nothing.

A file with errors is refused whole; each error names the file, the line (a record for MARC) and
the column, so the librarian can fix them all in one go.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlers.i18n import Translator, translator
from handlers.library.titles import InvalidIsbnError, NewTitle, isbn13, normalise
from handlers.texts import N_

if TYPE_CHECKING:
    import pymarc

MAX_ERRORS = 20  # a broken file names its first errors, not thousands
NOT_ISBN = N_("not a valid ISBN: {value}")


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong (a msgid) and where (a msgid naming the file, line or record, column)."""

    where: str
    what: str
    params: dict[str, object]

    def render(self, t: Translator) -> str:
        """The problem in the reader's language."""
        return t.gettext(self.where, **self.params) + ": " + t.gettext(self.what, **self.params)


class ImportRefusedError(Exception):
    """The file cannot be imported; each problem names the file, the line and the column."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems[:MAX_ERRORS])
        self.more = max(0, len(problems) - MAX_ERRORS)
        super().__init__("; ".join(self.render(translator("en"))))

    def render(self, t: Translator) -> list[str]:
        """Every problem shown (the first ``MAX_ERRORS``), in the reader's language."""
        lines = [p.render(t) for p in self.problems]
        if self.more:
            lines.append(t.ngettext("... and {n} more", "... and {n} more", self.more))
        return lines

    @property
    def errors(self) -> tuple[str, ...]:
        """The problems in English (the command line's language)."""
        return tuple(self.render(translator("en")))


# Where a problem is, and what it is: catalog messages, filled in when shown.
IN_FILE = N_("{file}")
IN_RECORD = N_("{file}, record {record}")
IN_FIELD = N_("{file}, record {record}, field {field}")
IN_LINE = N_("{file}, line {line}")
IN_CELL = N_("{file}, line {line}, column {column}")
IN_NAMED_CELL = N_("{file}, line {line}, column {column} ({name})")


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the spreadsheet format: its name and the names it is also known by."""

    name: str
    aliases: tuple[str, ...]
    required: bool = False


# The columns of a CSV or XLSX file (README, "The town library"); a header row names them.
COLUMNS = (
    Column("title", ("naslov",), required=True),
    Column("author", ("autor", "authors", "autori")),
    Column("isbn", ()),
    Column("publisher", ("izdavac",)),
    Column("year", ("godina",)),
    Column("udc", ("udk",)),
    Column("language", ("jezik",)),
)
# Header names are compared normalised: Наслов, NASLOV and naslov are the same column.
_BY_NAME = {alias: c.name for c in COLUMNS for alias in (c.name, *c.aliases)}


def file_format(content: bytes) -> str:
    """``xlsx``, ``marcxml``, ``iso2709`` or ``csv``, told by the content (not by the name)."""
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:64]
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"<"):
        return "marcxml"
    if re.match(rb"\d{5}", head) and b"\x1d" in content:
        return "iso2709"
    return "csv"


def read_titles(name: str, content: bytes) -> list[NewTitle]:
    """The titles of a file in any of the accepted formats.

    Raises:
        ImportRefusedError: when anything in the file is wrong (nothing is read then).
    """
    readers = {
        "xlsx": read_xlsx, "marcxml": read_marcxml, "iso2709": read_iso2709, "csv": read_csv,
    }  # fmt: skip
    return readers[file_format(content)](name, content)


# MARC records in the UNIMARC layout (COBISS's COMARC/B).


def read_iso2709(name: str, content: bytes) -> list[NewTitle]:
    """Titles from MARC records in ISO 2709 (UTF-8, as COBISS exports them)."""
    import pymarc  # here: only an import needs it, and the bot starts without it

    # permissive: a broken record is None (named in the errors) instead of ending the file.
    reader = pymarc.MARCReader(content, to_unicode=True, force_utf8=True, permissive=True)
    records: list[pymarc.Record | None] = []
    for record in reader:
        records.append(record)
    return _from_records(name, records)


def read_marcxml(name: str, content: bytes) -> list[NewTitle]:
    """Titles from MARCXML records."""
    import pymarc  # here: only an import needs it, and the bot starts without it

    try:
        parsed = pymarc.parse_xml_to_array(io.BytesIO(content))  # type: ignore[no-untyped-call]
        records: list[pymarc.Record | None] = list(parsed)
    except Exception as e:  # the XML parser's own errors are many kinds
        problem = Problem(IN_FILE, N_("not valid MARCXML ({value})"),
                          {"file": name, "value": type(e).__name__})  # fmt: skip
        raise ImportRefusedError([problem]) from None
    return _from_records(name, records)


def _from_records(name: str, records: list[pymarc.Record | None]) -> list[NewTitle]:
    titles, errors = [], []
    for number, record in enumerate(records, 1):
        where = {"file": name, "record": number}
        if record is None:
            errors.append(Problem(IN_RECORD, N_("not a valid MARC record"), where))
            continue
        try:
            titles.append(from_unimarc(record))
        except _FieldError as e:
            errors.append(Problem(IN_FIELD, e.problem, {**where, "field": e.field, **e.params}))
    if not records:
        errors.append(Problem(IN_FILE, N_("no MARC records"), {"file": name}))
    _refuse_if(errors)
    return titles


class _FieldError(Exception):
    def __init__(self, field: str, problem: str, **params: object) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.params = params


def _first(record: pymarc.Record, tag: str, code: str) -> str | None:
    for field in record.get_fields(tag):
        for value in field.get_subfields(code):
            if value.strip():
                return str(value).strip()
    return None


def from_unimarc(record: pymarc.Record) -> NewTitle:
    """One title from a UNIMARC record: 200$a title, 200$f responsibility, 700/701 authors,
    010$a ISBN, 210$c publisher, 210$d year, 675$a UDC, 101$a language."""
    title = _first(record, "200", "a")
    if title is None:
        raise _FieldError("200$a", N_("no title"))
    raw_isbn = _first(record, "010", "a")
    try:
        isbn = isbn13(raw_isbn) if raw_isbn else None
    except InvalidIsbnError:
        raise _FieldError("010$a", NOT_ISBN, value=raw_isbn) from None
    return NewTitle(
        title=_clean_title(title),
        authors=tuple(_author(f) for f in record.get_fields("700", "701") if _author(f)),
        isbn=isbn,
        publisher=_first(record, "210", "c"),
        year=_year(_first(record, "210", "d")),
        udc=_first(record, "675", "a"),
        language=(_first(record, "101", "a") or "").lower() or None,
        responsibility=_first(record, "200", "f"),
    )


def _author(field: pymarc.Field) -> str:
    """ "Forename Surname" from 700/701 $a (the entry element) and $b (the rest of the name)."""
    surname = " ".join(field.get_subfields("a")).strip().rstrip(",")
    forename = " ".join(field.get_subfields("b")).strip()
    return f"{forename} {surname}".strip()


def _clean_title(title: str) -> str:
    # UNIMARC marks the words that do not sort (an article) with NSB/NSE control characters.
    return re.sub(r"[\x88\x89\x98\x9c]", "", title).strip()


def _year(text: str | None) -> str | None:
    found = re.search(r"\d{4}", text or "")
    return found.group() if found else None


# Spreadsheets: CSV (UTF-8 or Windows-1250, comma, semicolon or tab) and XLSX.


def read_csv(name: str, content: bytes) -> list[NewTitle]:
    """Titles from a CSV file with a header row."""
    text = _decode(content)
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    return _from_rows(name, _csv_lines(reader), lambda i: str(i + 1))


def _csv_lines(reader: Any) -> list[tuple[int, list[str]]]:
    """Each row with the line of the file it starts on (a quoted cell may span several lines)."""
    rows = []
    start = 1
    for row in reader:
        rows.append((start, row))
        start = reader.line_num + 1
    return rows


def _decode(content: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1250 (Excel's in Serbia)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1250", errors="replace")


def read_xlsx(name: str, content: bytes) -> list[NewTitle]:
    """Titles from the first sheet of an XLSX workbook with a header row."""
    # Here: openpyxl brings numpy (0.5 s of processor at the bot's start) and only an import
    # needs it (as in the plan's and the budget's importers).
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        problem = Problem(IN_FILE, N_("not a readable XLSX workbook"), {"file": name})
        raise ImportRefusedError([problem]) from None
    try:
        sheet = book.worksheets[0]
        rows = [
            (number, [_cell(v) for v in row])
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1)
        ]
    finally:
        book.close()
    return _from_rows(name, rows, lambda i: openpyxl.utils.get_column_letter(i + 1))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps an ISBN or a year typed as a number as a float
    return str(value)


def _from_rows(name: str, lines: list[tuple[int, list[str]]], column_name: Any) -> list[NewTitle]:
    # Blank rows are skipped, but every other row keeps the line number the librarian sees.
    rows = [(line, row) for line, row in lines if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportRefusedError([Problem(IN_FILE, N_("the file is empty"), {"file": name})])
    header_line, header_row = rows[0]
    header, errors = _header(name, header_row, header_line, column_name)
    _refuse_if(errors)
    titles = []
    for line, row in rows[1:]:
        values = {key: row[i].strip() if i < len(row) else "" for key, i in header.items()}
        title, problems = _from_row(values)
        for key, problem, value in problems:
            where = {"file": name, "line": line, "column": column_name(header[key]), "name": key}
            errors.append(Problem(IN_NAMED_CELL, problem, {**where, "value": value}))
        if title is not None and not problems:
            titles.append(title)
    if not titles and not errors:
        errors.append(Problem(IN_FILE, N_("no titles under the header row"), {"file": name}))
    _refuse_if(errors)
    return titles


def _header(
    name: str, row: list[str], line: int, column_name: Any
) -> tuple[dict[str, int], list[Problem]]:
    found: dict[str, int] = {}
    errors = []
    for i, cell in enumerate(row):
        key = _BY_NAME.get(normalise(cell))
        if key is None and cell.strip():
            where = {"file": name, "line": line, "column": column_name(i), "value": cell}
            errors.append(Problem(IN_CELL, N_("unknown column '{value}'"), where))
        elif key is not None:
            found[key] = i
    for column in COLUMNS:
        if column.required and column.name not in found:
            where = {"file": name, "line": line, "value": column.name}
            errors.append(Problem(IN_LINE, N_("no column '{value}'"), where))
    return found, errors


def _from_row(values: dict[str, str]) -> tuple[NewTitle | None, list[tuple[str, str, str]]]:
    problems: list[tuple[str, str, str]] = []
    if not values.get("title"):
        problems.append(("title", N_("empty"), ""))
    isbn = None
    if values.get("isbn"):
        try:
            isbn = isbn13(values["isbn"])
        except InvalidIsbnError:
            problems.append(("isbn", NOT_ISBN, values["isbn"]))
    year = values.get("year") or None
    if year is not None and not re.fullmatch(r"\d{4}", year):
        problems.append(("year", N_("not a year: {value}"), year))
    language = (values.get("language") or "").lower() or None
    if language is not None and not re.fullmatch(r"[a-z]{3}", language):
        problems.append(
            ("language", N_("not a three-letter code (srp, hun, eng): {value}"), language)
        )
    if problems:
        return None, problems
    authors = tuple(a.strip() for a in (values.get("author") or "").split(";") if a.strip())
    return NewTitle(
        title=values["title"],
        authors=authors,
        isbn=isbn,
        publisher=values.get("publisher") or None,
        year=year,
        udc=values.get("udc") or None,
        language=language,
    ), []


def _refuse_if(errors: list[Problem]) -> None:
    if errors:
        raise ImportRefusedError(errors)
