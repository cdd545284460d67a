"""Reading an action plan file (CSV or XLSX) into measures, or every problem it has.

One format (README, "The action plan"): a header row, then one row per measure or milestone. What
staff really produce is read: UTF-8 or Windows-1250, separated by semicolons, commas or tabs,
decimal comma or point, dates as 31.12.2026 (with or without the last dot) or 2026-12-31, and
Excel workbooks (a percentage cell is its per cent). A file is checked whole: a file with any
problem gives no measures at all.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from handlers.events import MAX_FILE_BYTES
from handlers.file_problems import FileProblemsError, Problem
from handlers.i18n import to_latin
from handlers.plan.config import NO_PLAN, PlanSection
from handlers.plan.model import plan_flaws
from handlers.texts import N_
from storage.plan import NewMeasure, NewMilestone

MAX_TEXT = 2000


class PlanFileError(FileProblemsError):
    """The file has problems; nothing of it may be stored."""


# Header names staff write (Serbian in either script, or English), folded to plain Latin.
COLUMNS: dict[str, tuple[str, ...]] = {
    "plan": ("plan", "akcioni plan"),
    "key": ("sifra", "oznaka", "broj", "key", "id"),
    "parent": ("nadredjena", "nadredjena mera", "pripada", "parent"),
    "kind": ("vrsta", "kind"),
    "title": ("naziv", "title", "name"),
    "description": ("opis", "description"),
    "responsible": ("nosilac", "odgovoran", "responsible"),
    "service": ("sluzba", "service"),
    "start": ("pocetak", "start", "starts on"),
    "end": ("rok", "kraj", "end", "ends on", "due"),
    "status": ("status", "stanje"),
    "progress": ("napredak", "realizacija", "progress"),
    "weight": ("tezina", "ponder", "weight"),
}
REQUIRED = ("key", "title")
KINDS = {"": "measure", "mera": "measure", "aktivnost": "measure", "measure": "measure",
         "korak": "milestone", "miljokaz": "milestone", "milestone": "milestone"}  # fmt: skip
STATUS_WORDS = {
    "": "not_started", "not started": "not_started", "not_started": "not_started",
    "nije pocelo": "not_started", "nije zapoceto": "not_started", "nije zapocela": "not_started",
    "in progress": "in_progress", "in_progress": "in_progress", "u toku": "in_progress",
    "u realizaciji": "in_progress",
    "done": "done", "zavrseno": "done", "zavrsena": "done", "realizovano": "done",
    "realizovana": "done",
    "late": "late", "kasni": "late", "u kasnjenju": "late",
    "dropped": "dropped", "odustato": "dropped", "obustavljeno": "dropped",
}  # fmt: skip
REACHED = {"da", "yes", "done", "zavrseno", "dostignuto", "x", "✓", "✔"}
NOT_REACHED = {"", "ne", "no", "nije", "not done"}


def fold(text: str) -> str:
    """Lower case plain Latin without diacritics: how header names and words are compared."""
    latin = unicodedata.normalize("NFKD", to_latin(text.strip().lower()).replace("đ", "dj"))
    return " ".join("".join(c for c in latin if not unicodedata.combining(c)).split())


Cell = str | Decimal | None


@dataclass(frozen=True, slots=True)
class Row:
    """A row as read: its line in the file and its cells."""

    number: int
    cells: tuple[Cell, ...]


def read_plan(
    file: str,
    content: bytes,
    services: set[str],
    plans: PlanSection = NO_PLAN,
    plan: str | None = None,
) -> list[NewMeasure]:
    """The checked measures of a plan file (parents first), each in its plan (``check_rows``).

    Raises:
        PlanFileError: with every problem found; nothing of the file is usable then.
    """
    return check_rows(file, read_rows(file, content), services, plans, plan)


def read_rows(file: str, content: bytes) -> list[Row]:
    """The rows of a plan file (CSV or XLSX), its header first: the slow part, unchecked.

    Raises:
        PlanFileError: the file is too large, not a table, or empty.
    """
    if len(content) > MAX_FILE_BYTES:
        raise PlanFileError(file, [Problem(0, "-", N_("the file is larger than 5 MB"))])
    try:
        rows = _xlsx_rows(content) if content.startswith(b"PK\x03\x04") else _csv_rows(content)
    except ValueError:
        problem = Problem(1, "-", N_("not a CSV file or an Excel workbook (XLSX)"))
        raise PlanFileError(file, [problem]) from None
    if not rows:
        raise PlanFileError(file, [Problem(1, "-", N_("the file has no header row and no lines"))])
    return rows


def check_rows(
    file: str,
    rows: list[Row],
    services: set[str],
    plans: PlanSection = NO_PLAN,
    plan: str | None = None,
) -> list[NewMeasure]:
    """The checked measures of a file's rows (``read_rows``), each in its plan.

    A row's plan is its ``plan`` column when filled, otherwise ``plan`` (the one the import was
    given), otherwise (None) the municipality's default plan; a named plan must be one of
    ``plans``. Every row has its plan before parents and milestones are looked up by plan and key.

    Raises:
        PlanFileError: with every problem found; nothing of the file is usable then.
    """
    checker = _Checker(rows[0], plans, plans.default if plan is None else plan)
    if not checker.problems:
        for row in rows[1:]:
            checker.add(row)
        checker.check_whole(services)
    if checker.problems:
        raise PlanFileError(file, sorted(checker.problems, key=_place))
    return checker.measures


def _place(p: Problem) -> tuple[int, int]:
    """Problems in the order of the file: by line, then by column."""
    number = p.column.split(" ")[0]
    return p.line, int(number) if number.isdigit() else 0


def _csv_rows(content: bytes) -> list[Row]:
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
    return [Row(reader.line_num, tuple(c)) for c in reader if any(x.strip() for x in c)]


def _xlsx_rows(content: bytes) -> list[Row]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise ValueError("not a workbook") from e
    try:
        rows = []
        for number, cells in enumerate(book.worksheets[0].iter_rows(), 1):
            values = tuple(_xlsx_cell(c.value, str(getattr(c, "number_format", ""))) for c in cells)
            if any(v not in (None, "") for v in values):
                rows.append(Row(number, values))
        return rows
    finally:
        book.close()


def _xlsx_cell(value: object, number_format: str) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        number = Decimal(str(value))
        # A cell formatted as a percentage holds 0.6 for 60%.
        return number * 100 if "%" in number_format else number
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parse_day(text: str) -> date:
    """A date written 31.12.2026, 31.12.2026. or 2026-12-31.

    Raises:
        ValueError: it is not one of those.
    """
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    return datetime.strptime(text.rstrip("."), "%d.%m.%Y").date()  # noqa: DTZ007 - a day


def parse_number(cell: Cell) -> Decimal:
    """A number with a decimal comma or point (``62,5``, ``62.5``, ``60%``).

    Raises:
        ValueError: it is not one.
    """
    if isinstance(cell, Decimal):
        return cell
    text = (cell or "").strip().removesuffix("%").strip().replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise ValueError(cell)
    return Decimal(text)


class _Checker:
    """Checks the rows one by one, collecting measures and problems; then the whole plan."""

    def __init__(self, header: Row, plans: PlanSection, plan: str) -> None:
        self.plans = plans
        self.plan = plan
        known = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}
        self.columns: dict[str, int] = {}
        for i, cell in enumerate(header.cells):
            key = known.get(fold(str(cell or "")))
            if key is not None and key not in self.columns:
                self.columns[key] = i
        self.names = {
            k: f"{i + 1} ({str(header.cells[i]).strip()})" for k, i in self.columns.items()
        }
        self.problems = [
            Problem(header.number, COLUMNS[key][0], N_("the header has no such column"))
            for key in REQUIRED
            if key not in self.columns
        ]
        self.measures: list[NewMeasure] = []
        self.lines: list[int] = []  # the line of each measure
        self.milestones: list[tuple[Row, str, tuple[str, str], NewMilestone]] = []

    def problem(self, row: Row, column: str, message: str, /, **params: Any) -> None:
        self.problems.append(Problem(row.number, self.names.get(column, column), message, params))

    def text(self, row: Row, key: str) -> str:
        i = self.columns.get(key)
        cell = row.cells[i] if i is not None and i < len(row.cells) else None
        if isinstance(cell, Decimal):
            return str(cell.normalize()) if cell == cell.to_integral_value() else str(cell)
        return (cell or "").strip()

    def cell(self, row: Row, key: str) -> Cell:
        i = self.columns.get(key)
        return row.cells[i] if i is not None and i < len(row.cells) else None

    def day(self, row: Row, key: str) -> date | None:
        raw = self.text(row, key)
        if not raw:
            return None
        try:
            return parse_day(raw)
        except ValueError:
            self.problem(row, key, N_("«{value}» is not a date (31.12.2026)"), value=raw[:30])
            return None

    def number(self, row: Row, key: str) -> Decimal | None:
        cell = self.cell(row, key)
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        try:
            return parse_number(cell)
        except (ValueError, InvalidOperation):
            self.problem(row, key, N_("«{value}» is not a number"), value=str(cell)[:30])
            return None

    def plan_of(self, row: Row) -> str:
        named = self.text(row, "plan")
        if not named:
            return self.plan
        if self.plans.get(named) is None:
            known = ", ".join(p.id for p in self.plans.plans)
            self.problem(row, "plan", N_("unknown plan «{value}»; the plans: {known}"),
                         value=named[:30], known=known)  # fmt: skip
        return named

    def add(self, row: Row) -> None:
        kind = KINDS.get(fold(self.text(row, "kind")))
        if kind is None:
            value = self.text(row, "kind")[:30]
            self.problem(row, "kind", N_("unknown kind of row «{value}»"), value=value)
        elif kind == "milestone":
            self.add_milestone(row)
        else:
            self.add_measure(row)

    def add_milestone(self, row: Row) -> None:
        # The milestone's measure: in the parent column, or in the key column as its own key.
        where = "parent" if self.text(row, "parent") else "key"
        parent = self.text(row, where)
        text = self.text(row, "title")
        if not parent:
            self.problem(row, "parent", N_("a milestone needs the key of its measure"))
        if not text:
            self.problem(row, "title", N_("the title is missing"))
        done = fold(self.text(row, "status"))
        if done not in REACHED | NOT_REACHED:
            self.problem(row, "status", N_("«{value}» does not say whether it was reached (da/ne)"),
                         value=self.text(row, "status")[:30])  # fmt: skip
        due = self.day(row, "end")
        milestone = NewMilestone(due, text[:MAX_TEXT], done in REACHED)
        self.milestones.append((row, where, (self.plan_of(row), parent), milestone))

    def add_measure(self, row: Row) -> None:
        # A row with problems is kept (with plain values) so that the rows after it are checked
        # against it: its milestones, its activities' weights. The file is refused anyway.
        raw_status = self.text(row, "status")
        status = STATUS_WORDS.get(fold(raw_status).replace("-", " "))
        if status is None:
            self.problem(row, "status", N_("unknown status «{value}»"), value=raw_status[:30])
        progress = self.number(row, "progress")
        if progress is not None and not 0 <= progress <= 100:
            self.problem(row, "progress", N_("the progress must be between 0 and 100"))
            progress = None
        weight = self.number(row, "weight")
        starts, ends = self.day(row, "start"), self.day(row, "end")
        self.lines.append(row.number)
        self.measures.append(
            NewMeasure(
                plan=self.plan_of(row),
                key=self.text(row, "key"),
                parent_key=self.text(row, "parent") or None,
                title=self.text(row, "title")[:MAX_TEXT],
                description=self.text(row, "description")[:MAX_TEXT],
                responsible=self.text(row, "responsible")[:MAX_TEXT],
                service=self.text(row, "service") or None,
                starts_on=starts,
                ends_on=ends,
                status=status or "not_started",
                progress=int((progress or Decimal(0)) + Decimal("0.5")),
                weight=float(weight) if weight is not None else None,
            )
        )

    def check_whole(self, services: set[str]) -> None:
        by_key = {(m.plan, m.key): i for i, m in enumerate(self.measures)}
        for row, where, parent, milestone in self.milestones:
            i = by_key.get(parent)
            if i is None:
                if parent[1]:
                    self.problem(row, where, N_("no measure has the key «{key}»"), key=parent[1])
                continue
            m = self.measures[i]
            self.measures[i] = replace(m, milestones=(*m.milestones, milestone))
        for flaw in plan_flaws(self.measures, services):
            line = Row(self.lines[flaw.index], ())
            self.problem(line, flaw.column, flaw.message, **flaw.params)
