"""Reading a budget file (CSV or XLSX) into checked lines, or every problem it has.

One format (README, "The budget"): a header row, then one row per spending or revenue line, and
optional total rows that the lines must add up to. What municipal staff really produce is read:
UTF-8 or Windows-1250, comma or semicolon separated, decimal comma or point, thousands separated
by points, commas or spaces, and Excel workbooks. A file is checked whole; a file with any problem
gives no lines at all.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from handlers.budget.programs import ACTIVITY_CODE, PROGRAMS, REVENUE_ACCOUNT, SPENDING_ACCOUNT
from handlers.events import MAX_FILE_BYTES
from handlers.file_problems import FileProblemsError, Problem
from handlers.i18n import to_latin
from handlers.texts import N_
from storage.budget import Line


class DocumentKind(StrEnum):
    """Which budget document a file is."""

    ADOPTED = "adopted"
    REBALANCE = "rebalance"
    EXECUTION = "execution"


class Side(StrEnum):
    """A line spends or brings in money."""

    SPENDING = "spending"
    REVENUE = "revenue"


class BudgetFileError(FileProblemsError):
    """The file has problems; nothing of it may be stored."""


# Header names staff write (Serbian in either script, or English), folded to plain Latin.
COLUMNS: dict[str, tuple[str, ...]] = {
    "kind": ("vrsta", "kind", "tip"),
    "program": ("program",),
    "activity": ("aktivnost", "aktivnost/projekat", "projekat", "pa/projekat", "activity"),
    "name": ("naziv", "opis", "name"),
    "function": ("funkcija", "funkcionalna klasifikacija", "function"),
    "account": ("konto", "ekonomska klasifikacija", "account"),
    "source": ("izvor", "izvor finansiranja", "source"),
    "planned": ("planirano", "plan", "planned"),
    "executed": ("izvrseno", "izvrsenje", "executed"),
}
REQUIRED = ("kind", "name", "account", "planned")
KINDS: dict[str, str] = {
    "rashod": "spending", "rashodi": "spending", "izdatak": "spending", "spending": "spending",
    "prihod": "revenue", "prihodi": "revenue", "primanja": "revenue", "revenue": "revenue",
    "ukupno rashodi": "total spending", "total spending": "total spending",
    "ukupno prihodi": "total revenue", "total revenue": "total revenue",
}  # fmt: skip
CODE_WIDTHS = {"program": 4, "function": 3, "source": 2}


def fold(text: str) -> str:
    """Lower case plain Latin without diacritics: how header names and kinds are compared."""
    latin = unicodedata.normalize("NFKD", to_latin(text.strip().lower()))
    return " ".join("".join(c for c in latin if not unicodedata.combining(c)).split())


Cell = str | Decimal | None


@dataclass(frozen=True, slots=True)
class Row:
    """A row as read: its line in the file and its cells."""

    number: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class ReadFile:
    """A file decoded and checked whole, for any kind of document: the chat reads it before the
    transaction (slow work), where the kind the admin chose (in the draft) is not known yet."""

    file: str
    lines: list[Line]
    problems: list[Problem]
    without_executed: Problem | None  # an execution report's problem: no executed column


def read_file(file: str, content: bytes) -> ReadFile:
    """Decode and check a budget file (every kind's checks but the execution report's column)."""
    if len(content) > MAX_FILE_BYTES:
        return ReadFile(file, [], [Problem(0, "-", N_("the file is larger than 5 MB"))], None)
    try:
        rows, default_mark = _rows(content)
    except ValueError:
        problem = Problem(1, "-", N_("not a CSV file or an Excel workbook (XLSX)"))
        return ReadFile(file, [], [problem], None)
    return _check(file, rows, default_mark)


def lines_for(read: ReadFile, kind: DocumentKind) -> list[Line]:
    """The checked lines of a file read as a document of ``kind``.

    Raises:
        BudgetFileError: with every problem found; nothing of the file is usable then.
    """
    if kind is DocumentKind.EXECUTION and read.without_executed is not None:
        raise BudgetFileError(read.file, [read.without_executed])
    if read.problems:
        raise BudgetFileError(read.file, read.problems)
    return read.lines


def read_budget(file: str, content: bytes, kind: DocumentKind) -> list[Line]:
    """The checked lines of a budget file.

    Raises:
        BudgetFileError: with every problem found; nothing of the file is usable then.
    """
    return lines_for(read_file(file, content), kind)


def _rows(content: bytes) -> tuple[list[Row], str]:
    """The file's non-empty rows and the decimal mark to assume when no amount shows it."""
    if content.startswith(b"PK\x03\x04"):
        return _xlsx_rows(content), ","
    return _csv_rows(content)


def _csv_rows(content: bytes) -> tuple[list[Row], str]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on a Serbian Windows saves CSV in Windows-1250 (ANSI).
        text = content.decode("cp1250")
    if "\x00" in text:
        raise ValueError("binary")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(";,\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    for cells in reader:
        if any(c.strip() for c in cells):
            rows.append(Row(reader.line_num, tuple(cells)))
    # Semicolon-separated files come from locales that write a decimal comma.
    return rows, "," if delimiter == ";" else "."


def _xlsx_rows(content: bytes) -> list[Row]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise ValueError("not a workbook") from e
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = tuple(_xlsx_cell(v) for v in values)
            if any(c not in (None, "") for c in cells):
                rows.append(Row(number, cells))
        return rows
    finally:
        book.close()


def _xlsx_cell(value: object) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _check(file: str, rows: list[Row], default_mark: str) -> ReadFile:
    if not rows:
        return ReadFile(file, [], [Problem(1, "-", N_("the file has no header row and no lines"))],
                        None)  # fmt: skip
    header, *body = rows
    columns, problems = _columns(header)
    if problems:
        return ReadFile(file, [], problems, None)
    without_executed = None
    if "executed" not in columns:
        wanted = COLUMNS["executed"][0]
        without_executed = Problem(
            header.number, wanted, N_("an execution report needs this column")
        )
    mark = _decimal_mark(body, columns, default_mark)
    checker = _Checker(columns, header, mark)
    for row in body:
        checker.add(row)
    checker.check_totals()
    return ReadFile(file, checker.lines, checker.problems, without_executed)


def _columns(header: Row) -> tuple[dict[str, int], list[Problem]]:
    known = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}
    columns: dict[str, int] = {}
    for i, cell in enumerate(header.cells):
        key = known.get(fold(str(cell or "")))
        if key is not None and key not in columns:
            columns[key] = i
    missing = [key for key in REQUIRED if key not in columns]
    problems = [
        Problem(header.number, COLUMNS[key][0], N_("the header has no such column"))
        for key in missing
    ]
    return columns, problems


_DIGITS_AFTER = re.compile(r"[.,](\d+)$")


def _decimal_mark(rows: list[Row], columns: dict[str, int], default: str) -> str:
    """The decimal mark the amounts show (the last mark of 1,234.56; the mark of 12,5)."""
    votes = {",": 0, ".": 0}
    for row in rows:
        for key in ("planned", "executed"):
            cell = _cell(row, columns, key)
            if not isinstance(cell, str):
                continue
            marks = [c for c in cell if c in ",."]
            if len(set(marks)) == 2:
                votes[marks[-1]] += 1
            elif len(marks) == 1 and (m := _DIGITS_AFTER.search(cell)) and len(m.group(1)) != 3:
                votes[marks[0]] += 1
    if votes[","] == votes["."]:
        return default
    return "," if votes[","] > votes["."] else "."


def _cell(row: Row, columns: dict[str, int], key: str) -> Cell:
    i = columns.get(key)
    return row.cells[i] if i is not None and i < len(row.cells) else None


_THOUSANDS_SPACES = (" ", "\u00a0", "\u202f", "'")


def parse_amount(cell: Cell, mark: str) -> Decimal:
    """An amount in dinars from a cell, with ``mark`` as its decimal mark.

    Raises:
        ValueError: the cell is not an amount (grouping that is not by thousands, letters...).
    """
    if isinstance(cell, Decimal):
        return cell
    text = (cell or "").strip()
    for space in _THOUSANDS_SPACES:
        text = text.replace(space, " ")
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    text = text.strip("-() ")
    whole, _sep, fraction = text.partition(mark)
    other = "." if mark == "," else ","
    grouped = re.fullmatch(rf"\d{{1,3}}([ {re.escape(other)}]\d{{3}})+", whole)
    if not (whole.isdigit() or grouped) or not re.fullmatch(r"\d{0,2}", fraction):
        raise ValueError(cell)
    value = Decimal(re.sub(r"\D", "", whole) + "." + (fraction or "0"))
    return -value if negative else value


def _para(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


class _Checker:
    """Checks the rows one by one, collecting lines and problems; then the totals."""

    def __init__(self, columns: dict[str, int], header: Row, mark: str) -> None:
        self.columns = columns
        self.names = {
            key: f"{i + 1} ({str(header.cells[i]).strip()})" for key, i in columns.items()
        }
        self.mark = mark
        self.lines: list[Line] = []
        self.problems: list[Problem] = []
        self.totals: list[tuple[Row, str, str | None, int | None, int | None]] = []
        self.seen: dict[tuple[Any, ...], int] = {}

    def problem(self, row: Row, key: str, message: str, **params: Any) -> None:
        self.problems.append(Problem(row.number, self.names.get(key, key), message, params))

    def text(self, row: Row, key: str) -> str:
        cell = _cell(row, self.columns, key)
        if isinstance(cell, Decimal):
            whole = str(cell.to_integral_value()) if cell == cell.to_integral_value() else str(cell)
            # Excel drops the leading zeros of codes typed as numbers (0701 becomes 701).
            return whole.zfill(CODE_WIDTHS.get(key, 0))
        return (cell or "").strip()

    def amount(self, row: Row, key: str, *, required: bool) -> int | None:
        cell = _cell(row, self.columns, key)
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            if required:
                self.problem(row, key, N_("the amount is missing"))
            return None if required else 0
        try:
            value = parse_amount(cell, self.mark)
        except (ValueError, InvalidOperation):
            self.problem(row, key, N_("«{value}» is not an amount"), value=str(cell)[:40])
            return None
        if value < 0:
            self.problem(row, key, N_("the amount is negative: {value}"), value=str(cell)[:40])
            return None
        return _para(value)

    def add(self, row: Row) -> None:
        raw_kind = self.text(row, "kind")
        side = KINDS.get(fold(raw_kind))
        if side is None:
            self.problem(row, "kind", N_("unknown kind of line «{value}»"), value=raw_kind[:40])
            return
        planned = self.amount(row, "planned", required=True)
        executed = self.amount(row, "executed", required=False)
        if side.startswith("total"):
            # A total row without an executed amount states only the plan.
            stated = executed if self.text(row, "executed") else None
            self.totals.append((row, side, self.text(row, "program") or None, planned, stated))
            return
        line = self.spending(row) if side == Side.SPENDING else self.revenue(row)
        if line is None or planned is None or executed is None:
            return
        key = (line.side, line.program, line.activity, line.function, line.account, line.source)
        if key in self.seen:
            self.problem(row, "account", N_("the same line as line {other}"), other=self.seen[key])
            return
        self.seen[key] = row.number
        self.lines.append(
            Line(row.number, line.side, line.program, line.activity, line.name, line.function,
                 line.account, line.source, planned, executed)
        )  # fmt: skip

    def common(self, row: Row, side: Side, account_pattern: re.Pattern[str]) -> Line | None:
        ok = True
        name = self.text(row, "name")
        if not name:
            self.problem(row, "name", N_("the name is missing"))
            ok = False
        account = self.text(row, "account")
        if not account_pattern.fullmatch(account):
            message = (
                N_("«{value}» is not a spending account (4xx, 5xx or 6xx)")
                if side is Side.SPENDING
                else N_("«{value}» is not a revenue account (7xx, 8xx or 9xx)")
            )
            self.problem(row, "account", message, value=account[:40])
            ok = False
        function = self.text(row, "function") or None
        if function is not None and not re.fullmatch(r"\d{3}", function):
            self.problem(
                row, "function", N_("«{value}» is not a functional class"), value=function[:40]
            )
            ok = False
        source = self.text(row, "source") or None
        if source is not None and not re.fullmatch(r"\d{2}", source):
            self.problem(
                row, "source", N_("«{value}» is not a source of funding"), value=source[:40]
            )
            ok = False
        if not ok:
            return None
        return Line(row.number, side, None, None, name[:300], function, account, source, 0, 0)

    def spending(self, row: Row) -> Line | None:
        program = self.text(row, "program")
        activity = self.text(row, "activity")
        ok = True
        if program not in PROGRAMS:
            self.problem(row, "program", N_("unknown program code «{value}»"), value=program[:40])
            ok = False
        match = ACTIVITY_CODE.fullmatch(activity)
        if match is None:
            self.problem(
                row,
                "activity",
                N_("«{value}» is not an activity or project code"),
                value=activity[:40],
            )
            ok = False
        elif ok and match.group(1) != program:
            self.problem(
                row, "activity", N_("the activity {activity} does not belong to program {program}"),
                activity=activity, program=program,
            )  # fmt: skip
            ok = False
        line = self.common(row, Side.SPENDING, SPENDING_ACCOUNT)
        if line is None or not ok:
            return None
        return Line(row.number, line.side, program, activity, line.name, line.function,
                    line.account, line.source, 0, 0)  # fmt: skip

    def revenue(self, row: Row) -> Line | None:
        return self.common(row, Side.REVENUE, REVENUE_ACCOUNT)

    def check_totals(self) -> None:
        for row, side, program, planned, executed in self.totals:
            lines = [
                line
                for line in self.lines
                if line.side == side.removeprefix("total ")
                and (program is None or line.program == program)
            ]
            if program is not None and program not in PROGRAMS:
                self.problem(row, "program", N_("unknown program code «{value}»"), value=program)
                continue
            for key, declared, actual in (
                ("planned", planned, sum(line.planned for line in lines)),
                ("executed", executed, sum(line.executed for line in lines)),
            ):
                if declared is not None and declared != actual:
                    self.problem(
                        row, key, N_("the lines add up to {actual}, not {declared}"),
                        actual=dinars(actual), declared=dinars(declared),
                    )  # fmt: skip


def dinars(para: int) -> str:
    """An amount in para written plainly in dinars (as a file would have it)."""
    whole, cents = divmod(para, 100)
    return f"{whole}.{cents:02d}" if cents else str(whole)
