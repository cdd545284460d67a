"""Action plan files as staff produce them: encodings, separators, decimal commas, dates, XLSX;
every problem named by file, line and column; nothing stored from a file with problems; an
import's changes in the history and told to followers."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from bot.app import build_app
from bot.settings import Settings
from handlers.events import File
from handlers.i18n import to_latin, translator
from handlers.municipality import Municipality
from handlers.plan.importer import PlanFileError, read_plan
from handlers.plan.imports import import_plan
from storage import plan as store
from tests.conftest import ROOT, VLASOTINCE, Bot, OnScreen, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.test_plan import data_of, one_plan, plan_bot  # noqa: F401 - the fixture

EXAMPLE = ROOT / "config" / "plan" / "vlasotince-plan-2026-07-EXAMPLE.csv"
SERVICES = {"communal", "water"}
EN = translator("en")

HEADER = ["Шифра", "Надређена", "Врста", "Назив", "Носилац", "Служба", "Почетак", "Рок", "Статус",
          "Напредак", "Тежина"]  # fmt: skip
ROWS = [
    ["1", "", "", "Пријава проблема", "Одељење", "communal", "01.01.2026.", "31.12.2026.",
     "у току", "", ""],
    ["1.1", "1", "мера", "Чет-бот", "Одељење", "communal", "15.01.2026", "2026-04-30",
     "завршено", "100", "2,5"],
    ["1.1", "", "корак", "Пробни рад", "", "", "", "15.03.2026.", "да", "", ""],
    ["1.2", "1", "мера", "Обука", "Одељење", "", "01.02.2026.", "31.03.2026.", "у току",
     "62,5", "1"],
]  # fmt: skip


def csv_file(rows: list[list[str]], separator: str = ";", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    header = latin([HEADER])[0] if encoding == "cp1250" else HEADER
    csv.writer(out, delimiter=separator, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode(encoding)


def xlsx_file(rows: list[list[object]], percent_column: int | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    if percent_column is not None:
        for cells in sheet.iter_rows(min_row=2, min_col=percent_column, max_col=percent_column):
            cells[0].number_format = "0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def latin(rows: list[list[str]]) -> list[list[str]]:
    return [[to_latin(c) for c in row] for row in rows]


@pytest.mark.parametrize(
    "content",
    [
        csv_file(ROWS),
        csv_file(latin(ROWS), ",", "cp1250"),
        csv_file(latin(ROWS), "\t", "utf-8-sig"),
    ],
    ids=["utf8-semicolons-cyrillic", "cp1250-commas-latin", "bom-tabs"],
)
def test_every_format_staff_produce_reads_the_same_plan(content: bytes) -> None:
    measures = read_plan("plan.csv", content, SERVICES)
    assert [(m.key, m.parent_key, m.status, m.progress, m.weight) for m in measures] == [
        ("1", None, "in_progress", 0, None),
        ("1.1", "1", "done", 100, 2.5),
        ("1.2", "1", "in_progress", 63, 1.0),
    ]
    assert measures[1].starts_on == date(2026, 1, 15)
    assert measures[1].ends_on == date(2026, 4, 30)
    assert [(x.due_on, x.done) for x in measures[1].milestones] == [(date(2026, 3, 15), True)]


def test_an_excel_workbook_with_dates_and_percentages_reads_the_same() -> None:
    rows: list[list[object]] = [
        ["1", None, None, "Пријава проблема", "Одељење", "communal", date(2026, 1, 1),
         date(2026, 12, 31), "у току", None, None],
        [1.1, 1, "мера", "Чет-бот", None, None, None, date(2026, 4, 30), "done", 1, 2.5],
        ["1.2", "1", None, "Обука", None, None, None, None, "in progress", 0.625, 1],
    ]  # fmt: skip
    measures = read_plan("plan.xlsx", xlsx_file(rows, percent_column=10), SERVICES)
    assert [(m.key, m.parent_key, m.progress, m.weight) for m in measures] == [
        ("1", None, 0, None),
        ("1.1", "1", 100, 2.5),
        ("1.2", "1", 63, 1.0),
    ]
    assert measures[0].ends_on == date(2026, 12, 31)


def problems(rows: list[list[str]]) -> list[str]:
    with pytest.raises(PlanFileError) as e:
        read_plan("plan.csv", csv_file(rows), SERVICES)
    return e.value.render(EN)


def test_every_problem_is_told_at_once_by_line_and_column() -> None:
    rows = [list(r) for r in ROWS]
    rows[1][8] = "готово"  # line 3
    rows[1][9] = "пола"
    rows[2][7] = "15.13.2026"  # line 4
    rows[3][10] = ""  # line 5: 1.1 has a weight, 1.2 none
    rows.append(["2.1", "2", "", "Водич", "", "social", "", "", "", "", ""])  # line 6
    assert problems(rows) == [
        "plan.csv, line 3, column 9 (Статус): unknown status «готово»",
        "plan.csv, line 3, column 10 (Напредак): «пола» is not a number",
        "plan.csv, line 4, column 8 (Рок): «15.13.2026» is not a date (31.12.2026)",
        "plan.csv, line 5, column 11 (Тежина): the activities of «1» need a weight each, or none"
        " of them",
        "plan.csv, line 6, column 2 (Надређена): the parent «2» is not a measure above this one",
        "plan.csv, line 6, column 6 (Служба): unknown service «social»",
    ]


def test_a_milestone_of_no_measure_and_a_missing_column_are_told() -> None:
    rows = [*ROWS, ["9", "", "korak", "Нешто", "", "", "", "01.01.2027.", "", "", ""]]
    assert problems(rows) == [
        "plan.csv, line 6, column 1 (Шифра): no measure has the key «9»",
    ]
    with pytest.raises(PlanFileError) as e:
        read_plan("plan.csv", "Назив;Рок\nА;01.01.2026\n".encode(), SERVICES)
    assert e.value.render(EN) == ["plan.csv, line 1, column sifra: the header has no such column"]
    with pytest.raises(PlanFileError) as e:
        read_plan("plan.csv", b"\x00\x01\x02binary", SERVICES)
    assert "not a CSV file or an Excel workbook" in e.value.render(EN)[0]


def test_the_example_file_imports() -> None:
    measures = read_plan(EXAMPLE.name, EXAMPLE.read_bytes(), {"communal"})
    assert len(measures) == 13
    assert measures[9].progress == 88  # 87,5
    assert "čet-bota" in measures[1].title


# Storing: the history and the followers.


async def test_an_import_changes_the_plan_records_events_and_tells_followers(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> None:
    municipality = one_plan(municipality)
    channel = CollectingChannel()
    async with build_app(
        settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder
    ) as app:
        bot = Bot(app, channel, clock)
        await bot.say("ana", "/start")
        await bot.say("ana", Press("lang:en"))
        await bot.say("ana", Press("menu:plan"))
        first = next(
            b.data for row in channel.to("ana")[-1].buttons for b in row if "1." in b.label
        )
        await bot.say("ana", Press(first))
        follow = next(b.data for row in channel.to("ana")[-1].buttons for b in row
                      if "Follow" in b.label)  # fmt: skip
        await bot.say("ana", Press(follow))
        plans = municipality.plan
        measures = read_plan(EXAMPLE.name, EXAMPLE.read_bytes(), {"communal"}, plans)
        async with app.db.transaction() as conn:
            changed, out = await import_plan(conn, EXAMPLE.name, measures, clock.now(), plans)
        # The progress of 1.2 (60 -> 80), 1.3 (25 -> 50), 2.3 (40 -> 50) and 3.1 (70 -> 88).
        assert changed == 4
        assert len(out) == 2  # ana follows commitment 1: its activities 1.2 and 1.3
        assert "1.2. Obuka zaposlenih" in out[0].reply.text
        assert "Progress: 60% → 80%" in out[0].reply.text
        await bot.say("ana", Press(first))
        shown = await bot.say(
            "ana",
            Press(
                next(
                    b.data
                    for row in channel.to("ana")[-1].buttons
                    for b in row
                    if "1.3." in b.label
                )
            ),
        )
        assert "✅ 2. Izveštaj za drugi kvartal (due 15 Jul 2026)" in shown[0].text
        history = await bot.say(
            "ana",
            Press(
                next(
                    b.data
                    for row in channel.to("ana")[-1].buttons
                    for b in row
                    if "History" in b.label
                )
            ),
        )
        assert f"municipality: progress 25% → 50% — {EXAMPLE.name}" in history[0].text


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "BOT_CONFIG": str(VLASOTINCE)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "plan", "import", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip


def progress_of(tmp_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(tmp_path / "data" / "bot.db")
    try:
        return {str(k): int(p) for k, p in conn.execute("SELECT key, progress FROM plan_measures")}
    finally:
        conn.close()


def test_the_command_line_refuses_a_file_with_problems_and_stores_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "losi.csv"
    rows = [list(r) for r in ROWS]
    rows[3][9] = "120"
    bad.write_bytes(csv_file(rows))
    done = cli(tmp_path, str(bad))
    assert done.returncode == 1
    assert "losi.csv" in done.stderr
    assert "10 (Напредак)" in done.stderr
    assert not (tmp_path / "data" / "bot.db").exists()
    good = cli(tmp_path, str(EXAMPLE))
    assert good.returncode == 0, good.stderr
    assert "13" in good.stdout
    assert progress_of(tmp_path)["1.2"] == 80


# In chat: the admin sends the file, sees what it changes, confirms.


async def test_the_admin_imports_the_plan_by_sending_the_file_in_chat(
    plan_bot: Bot,  # noqa: F811 - the fixture
) -> None:
    bot = plan_bot
    await bot.say("ana", Press("menu:plan"))
    await bot.say("ana", Press(data_of(bot, "ana", "1.")))
    await bot.say("ana", Press(data_of(bot, "ana", "Follow")))
    count = len(read_plan(EXAMPLE.name, EXAMPLE.read_bytes(), {"communal"}))
    boss = bot.sender("boss")
    bad = csv_file([[*ROWS[0][:8], "можда", "", ""]])
    new = csv_file([["9", "", "", "Нова мера", "Одељење", "", "", "", "", "", ""]])
    await bot.play("kata", [("/plan import", ["This is for municipal staff only"])])
    await bot.play(
        "boss",
        [
            ("/plan import", ["Send the action plan file as a document"]),
            ("hello", ["Please send the file as a document, or /cancel."]),
            (File(boss, "document", name="los.csv", content=bad, size=len(bad)),
             ["Nothing was imported. Correct the file and send it again:\nlos.csv, line 2,"]),
            (File(boss, "document", name="x.csv", content=None, size=0),
             ["The file did not come through"]),
            (File(boss, "document", name=EXAMPLE.name, content=EXAMPLE.read_bytes(), size=1),
             [f"{EXAMPLE.name}: {count} measures read, 0 new, {count} already in the plan"
              " (updated).", "✏️ 1 ", "[✅ Import]"]),
            (OnScreen("planimp:ok"),
             [f"Imported: {count} measures; changed: 4; followers told: 2."]),
            ("/plan import", ["Send the action plan file"]),
            (File(boss, "document", name="nova.csv", content=new, size=len(new)),
             ["nova.csv: 1 measure read, 1 new, 0 already in the plan (updated).", "🆕 9 "]),
            (OnScreen("planimp:cancel"), ["Cancelled."]),
        ],
    )  # fmt: skip
    told = [r.text for r in bot.channel.to("ana") if "Progress: 60% → 80%" in r.text]
    assert len(told) == 1
    async with bot.app.db.transaction() as conn:
        (m,) = await store.by_key(conn, "1.3")
        assert m.progress == 50
        assert await store.by_key(conn, "9") == []  # cancelled: nothing stored
