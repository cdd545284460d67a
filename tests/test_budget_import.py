"""Budget files as staff produce them: every encoding, separator and decimal mark, XLSX; every
kind of problem named by file, line and column; nothing stored from a file with problems."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from handlers.budget.importer import (
    BudgetFileError,
    DocumentKind,
    parse_amount,
    read_budget,
)
from handlers.budget.programs import PROGRAMS
from handlers.i18n import translator
from storage.budget import Line
from tests.conftest import ROOT, VLASOTINCE, Bot, Press

EXAMPLES = ROOT / "config" / "budget"
ADOPTED = EXAMPLES / "vlasotince-2026-adopted-EXAMPLE.csv"
JUNE = EXAMPLES / "vlasotince-2026-execution-06-30-EXAMPLE.csv"
SEPTEMBER = EXAMPLES / "vlasotince-2026-execution-09-30-EXAMPLE.xlsx"
EN = translator("en")

HEADER = ["vrsta", "program", "aktivnost", "naziv", "funkcija", "konto", "izvor", "planirano",
          "izvršeno"]  # fmt: skip
ROWS = [
    ["rashod", "0701", "0701-0002", "Одржавање путева", "451", "425", "01", "48200000", "21700000"],
    ["rashod", "0701", "0701-5001", "Реконструкција улице", "451", "511", "01", "1234567.5", "0"],
    ["rashod", "1102", "1102-0001", "Јавно осветљење", "640", "421", "01", "38000000", "1000.25"],
    ["prihod", "", "", "Порез на зараде", "", "711111", "01", "87434567.75", "30000000"],
    ["ukupno rashodi", "0701", "", "", "", "", "", "49434567.5", "21700000"],
    ["ukupno rashodi", "", "", "", "", "", "", "87434567.5", "21701000.25"],
]  # fmt: skip


def amount(raw: str, mark: str, thousands: str) -> str:
    """``raw`` (plain, with a decimal point) written with ``mark`` and ``thousands``."""
    if not raw.replace(".", "").isdigit():
        return raw  # what is not an amount stays as it is
    value = Decimal(raw)
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    return text.replace(",", "\x00").replace(".", mark).replace("\x00", thousands)


def csv_file(
    delimiter: str, mark: str, thousands: str, encoding: str, rows: list[list[str]] = ROWS
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([*row[:7], *(amount(x, mark, thousands) if x else "" for x in row[7:])])
    text = out.getvalue()
    if encoding == "cp1250":  # Windows-1250 has no Cyrillic: staff write Latin there
        from handlers.i18n import to_latin

        text = to_latin(text)
    return text.encode(encoding)


def xlsx_file(rows: list[list[str]] = ROWS, *, numbers: bool = True) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        amounts = [float(x) if numbers and x else x for x in row[7:]]
        sheet.append([*row[:7], *amounts])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def amounts(lines: list[Line]) -> list[tuple[str, str, int, int]]:
    return [(x.side, x.account, x.planned, x.executed) for x in lines]


EXPECTED = [
    ("spending", "425", 4_820_000_000, 2_170_000_000),
    ("spending", "511", 123_456_750, 0),
    ("spending", "421", 3_800_000_000, 100_025),
    ("revenue", "711111", 8_743_456_775, 3_000_000_000),
]

FORMATS = {
    "utf8-semicolon-comma-points": csv_file(";", ",", ".", "utf-8"),
    "utf8-bom-semicolon-comma-plain": csv_file(";", ",", "", "utf-8-sig"),
    "cp1250-semicolon-comma-points": csv_file(";", ",", ".", "cp1250"),
    "cp1250-semicolon-comma-spaces": csv_file(";", ",", "\u00a0", "cp1250"),
    "utf8-comma-point-commas": csv_file(",", ".", ",", "utf-8"),
    "utf8-comma-point-plain": csv_file(",", ".", "", "utf-8"),
    "cp1250-comma-point-spaces": csv_file(",", ".", " ", "cp1250"),
    "utf8-tab-comma-points": csv_file("\t", ",", ".", "utf-8"),
    "xlsx-numbers": xlsx_file(),
    "xlsx-text-amounts": xlsx_file(
        [[*r[:7], *(amount(x, ",", ".") if x else "" for x in r[7:])] for r in ROWS],
        numbers=False,
    ),
}


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_staff_produce_reads_the_same_lines(name: str) -> None:
    lines = read_budget(f"{name}.csv", FORMATS[name], DocumentKind.EXECUTION)
    assert amounts(lines) == EXPECTED
    assert [x.number for x in lines] == [2, 3, 4, 5]
    roads = lines[0]
    assert (roads.program, roads.activity, roads.function, roads.source) == (
        "0701", "0701-0002", "451", "01",
    )  # fmt: skip
    assert roads.name in ("Одржавање путева", "Održavanje puteva")


def test_codes_that_excel_turned_into_numbers_get_their_zeros_back() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["rashod", 701, "0701-0002", "Путеви", 451, 425, 1, 100, 50])
    out = io.BytesIO()
    book.save(out)
    (line,) = read_budget("codes.xlsx", out.getvalue(), DocumentKind.EXECUTION)
    assert (line.program, line.account, line.source, line.planned) == ("0701", "425", "01", 10_000)


@pytest.mark.parametrize(
    ("raw", "mark", "value"),
    [
        ("1.234.567,89", ",", "1234567.89"),
        ("1,234,567.89", ".", "1234567.89"),
        ("1 234 567,89", ",", "1234567.89"),
        ("12,5", ",", "12.5"),
        ("1.234", ",", "1234"),
        ("1.234", ".", "1.234"),
        ("(15,00)", ",", "-15"),
        ("-3", ".", "-3"),
    ],
)
def test_amounts(raw: str, mark: str, value: str) -> None:
    try:
        parsed = parse_amount(raw, mark)
    except ValueError:
        parsed = None
    # "1.234" with a decimal point has three decimals: not an amount in dinars and para.
    assert parsed == (None if raw == "1.234" and mark == "." else Decimal(value))


@pytest.mark.parametrize("raw", ["12.34.5", "1.2345,00", "abc", "12,345,6", "1,23,456.00", "12,5x"])
def test_what_is_not_an_amount(raw: str) -> None:
    with pytest.raises(ValueError, match=r".*"):
        parse_amount(raw, "," if raw.count(",") < 2 else ".")


def problems_of(content: bytes, name: str = "budzet.csv") -> list[str]:
    with pytest.raises(BudgetFileError) as caught:
        read_budget(name, content, DocumentKind.EXECUTION)
    return caught.value.render(EN, limit=100)


def with_row(line: int, row: list[str]) -> list[list[str]]:
    """ROWS with ``row`` in place of the row on file line ``line`` (the header is line 1)."""
    rows = [list(r) for r in ROWS]
    rows[line - 2] = row
    return rows


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            with_row(3, ["rashod", "0799", "0799-0001", "Нешто", "451", "425", "01", "10", "0"]),
            "budzet.csv, line 3, column 2 (program): unknown program code «0799»",
        ),
        (
            with_row(3, ["rashod", "0701", "1102-0002", "Нешто", "451", "425", "01", "10", "0"]),
            "budzet.csv, line 3, column 3 (aktivnost): the activity 1102-0002 does not belong"
            " to program 0701",
        ),
        (
            with_row(3, ["rashod", "0701", "0701-0001", "Нешто", "451", "425", "01", "-10", "0"]),
            "budzet.csv, line 3, column 8 (planirano): the amount is negative",
        ),
        (
            with_row(
                4,
                [
                    "rashod",
                    "1102",
                    "1102-0001",
                    "Осветљење",
                    "640",
                    "421",
                    "01",
                    "38000000",
                    "много",
                ],
            ),
            "budzet.csv, line 4, column 9 (izvršeno): «много» is not an amount",
        ),
        (
            with_row(4, ROWS[0]),
            "budzet.csv, line 4, column 6 (konto): the same line as line 2",
        ),
        (
            with_row(6, ["ukupno rashodi", "0701", "", "", "", "", "", "49434567.5", "21000000"]),
            "budzet.csv, line 6, column 9 (izvršeno): the lines add up to 21700000, not 21000000",
        ),
        (
            with_row(3, ["rashod", "0701", "0701-5001", "Улица", "451", "711", "01", "10", "0"]),
            "budzet.csv, line 3, column 6 (konto): «711» is not a spending account",
        ),
        (
            with_row(3, ["трошак", "0701", "0701-5001", "Улица", "451", "511", "01", "10", "0"]),
            "budzet.csv, line 3, column 1 (vrsta): unknown kind of line «трошак»",
        ),
    ],
)
def test_each_problem_names_the_file_line_and_column(rows: list[list[str]], expected: str) -> None:
    found = problems_of(csv_file(";", ",", ".", "utf-8", rows))
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_of_a_file_is_told_at_once() -> None:
    rows = [list(r) for r in ROWS]
    rows[0][1] = "9999"
    rows[1][7] = "-5"
    rows[2][2] = "0701-0001"
    found = problems_of(csv_file(",", ".", ",", "utf-8", rows))
    assert [p.split(":")[0] for p in found[:3]] == [
        "budzet.csv, line 2, column 2 (program)",
        "budzet.csv, line 3, column 8 (planirano)",
        "budzet.csv, line 4, column 3 (aktivnost)",
    ]


def test_a_missing_column_and_a_file_that_is_no_table_are_told() -> None:
    no_plan = "vrsta;program;aktivnost;naziv;konto\nrashod;0701;0701-0002;Путеви;425\n"
    assert problems_of(no_plan.encode()) == [
        "budzet.csv, line 1, column planirano: the header has no such column"
    ]
    assert problems_of(b"PK\x03\x04garbage", "budzet.xlsx") == [
        "budzet.xlsx, line 1, column -: not a CSV file or an Excel workbook (XLSX)"
    ]
    without_executed = csv_file(";", ",", ".", "utf-8").replace("izvršeno".encode(), b"x")
    assert problems_of(without_executed) == [
        "budzet.csv, line 1, column izvrseno: an execution report needs this column"
    ]


def test_the_example_files_import() -> None:
    adopted = read_budget(ADOPTED.name, ADOPTED.read_bytes(), DocumentKind.ADOPTED)
    june = read_budget(JUNE.name, JUNE.read_bytes(), DocumentKind.EXECUTION)
    september = read_budget(SEPTEMBER.name, SEPTEMBER.read_bytes(), DocumentKind.EXECUTION)
    planned = [sum(x.planned for x in lines if x.side == "spending") for lines in
               (adopted, june, september)]  # fmt: skip
    assert planned == [140_160_000_000] * 3
    assert sum(x.executed for x in adopted) == 0
    assert sum(x.executed for x in june) < sum(x.executed for x in september)
    assert {x.program for x in adopted if x.program} == set(PROGRAMS)


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "BOT_CONFIG": str(VLASOTINCE)}
    exe = ROOT / ".venv" / "bin" / "moja-opstina"
    return subprocess.run(
        [str(exe), "budget", "import", *args], env=env, capture_output=True, text=True, check=False
    )


def versions(tmp_path: Path) -> list[tuple[int, str, str, int]]:
    conn = sqlite3.connect(tmp_path / "data" / "bot.db")
    try:
        return [
            (int(r[0]), str(r[1]), str(r[2]), int(r[3]))
            for r in conn.execute(
                "SELECT v.year, v.kind, v.as_of, COUNT(l.line) FROM budget_versions v"
                " LEFT JOIN budget_lines l ON l.version_id = v.id GROUP BY v.id ORDER BY v.id"
            )
        ]
    finally:
        conn.close()


def test_the_command_line_refuses_a_file_with_problems_and_stores_nothing(tmp_path: Path) -> None:
    good = cli(tmp_path, str(ADOPTED), "--kind", "adopted", "--as-of", "2025-12-20")
    assert good.returncode == 0, good.stderr
    bad = tmp_path / "losi.csv"
    rows = [list(r) for r in ROWS]
    rows[0][1] = "9999"
    bad.write_bytes(csv_file(";", ",", ".", "utf-8", rows))
    done = cli(tmp_path, str(bad), "--kind", "execution", "--as-of", "2026-06-30")
    assert done.returncode == 1
    assert "losi.csv" in done.stderr
    assert "9999" in done.stderr
    assert versions(tmp_path) == [(2025, "adopted", "2025-12-20", 68)]


def test_the_command_line_imports_versions_and_shows_the_differences(tmp_path: Path) -> None:
    first = cli(tmp_path, str(ADOPTED), "--kind", "adopted", "--as-of", "2025-12-20",
                "--year", "2026")  # fmt: skip
    assert first.returncode == 0, first.stderr
    second = cli(tmp_path, str(JUNE), "--kind", "execution", "--as-of", "2026-06-30")
    assert second.returncode == 0, second.stderr
    assert versions(tmp_path) == [(2026, "adopted", "2025-12-20", 68),
                                  (2026, "execution", "2026-06-30", 68)]  # fmt: skip
    # The staff's language is the municipality's first (Serbian): the preview says it so.
    assert "0701 " in second.stdout
    assert "20. 12. 2025." in second.stdout


async def test_the_command_line_tells_the_followers_like_the_chat_import(
    bot: Bot, tmp_path: Path
) -> None:
    adopted = await asyncio.to_thread(
        cli, tmp_path, str(ADOPTED), "--kind", "adopted", "--as-of", "2025-12-20", "--year", "2026"
    )
    assert adopted.returncode == 0, adopted.stderr
    assert "followers" not in adopted.stdout  # nobody follows yet
    for user in ("ana", "mila"):
        await bot.say(user, "/start")
        await bot.say(user, Press("lang:en"))
    await bot.say("mila", Press("menu:notify"))
    await bot.say("mila", Press("sub:budget"))
    overview = await bot.say("ana", Press("menu:budget"))
    roads = next(b.data for row in overview[0].buttons for b in row if b.label.startswith("Trans"))
    program = await bot.say("ana", Press(roads))
    follow = next(b.data for row in program[0].buttons for b in row if b.data.startswith("budf:"))
    await bot.say("ana", Press(follow))
    before = {user: len(bot.channel.to(user)) for user in ("ana", "mila")}

    june = await asyncio.to_thread(
        cli, tmp_path, str(JUNE), "--kind", "execution", "--as-of", "2026-06-30"
    )
    assert june.returncode == 0, june.stderr
    # The staff's language is the municipality's first (Serbian).
    assert june.stdout.splitlines()[-1] == "Пратиоци буџета којима иде обавештење: 2."
    # The running bot's outbox sender delivers what the command line queued.
    bot.clock.moment = datetime.now(UTC) + timedelta(minutes=1)
    await bot.app.sender.drain()
    news = {user: [r.text for r in bot.channel.to(user)[n:]] for user, n in before.items()}
    assert news == {
        "ana": [
            "💰 The budget of Vlasotince for 2026 was updated: execution report as of"
            " 30 Jun 2026.\nThe programs you follow:\n"
            "• Transport and roads: 83.7 million dinars of 159.8 million dinars spent (52%)"
        ],
        "mila": [
            "💰 The budget of Vlasotince for 2026 was updated: execution report as of"
            " 30 Jun 2026.\nSpent so far: 45% of the plan."
        ],
    }
