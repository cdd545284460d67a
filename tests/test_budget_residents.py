"""Residents in chat: the budget's totals, revenue by source, spending by program, a program's
activities with plan, executed and per cent, in the resident's language and script."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image

from bot.charts import DPI, WIDTH_IN
from bot.settings import Settings
from handlers.budget import imports
from handlers.budget.importer import DocumentKind, read_budget
from tests.conftest import ROOT, Bot, Press

EXAMPLES = ROOT / "config" / "budget"
ADOPTED = EXAMPLES / "vlasotince-2026-adopted-EXAMPLE.csv"
JUNE = EXAMPLES / "vlasotince-2026-execution-06-30-EXAMPLE.csv"
SEPTEMBER = EXAMPLES / "vlasotince-2026-execution-09-30-EXAMPLE.xlsx"


CONTENTS = {path: path.read_bytes() for path in (ADOPTED, JUNE, SEPTEMBER)}


async def import_file(bot: Bot, path: Path, kind: DocumentKind, as_of: date, year: int) -> int:
    lines = read_budget(path.name, CONTENTS[path], kind)
    document = imports.Document(year, kind, as_of, path.name)
    async with bot.app.db.transaction() as conn:
        return await imports.store(conn, document, lines, imported_by=None, now=bot.clock.now())


async def test_no_budget_yet_is_said_plainly(bot: Bot) -> None:
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    await bot.play(
        "ana",
        [(Press("menu:budget"), ["has not published its budget here yet", "[💰 Budget]"])],
    )


async def test_a_resident_sees_the_latest_version_and_opens_a_program(bot: Bot) -> None:
    await import_file(bot, ADOPTED, DocumentKind.ADOPTED, date(2025, 12, 20), 2026)
    await import_file(bot, JUNE, DocumentKind.EXECUTION, date(2026, 6, 30), 2026)
    await bot.say("ana", "/start")
    menu = (await bot.say("ana", Press("lang:en")))[1]  # the topics offered once come after
    assert "💰 Budget" in [b.label for row in menu.buttons for b in row]
    overview = await bot.say("ana", Press("menu:budget"))
    text = overview[0].text
    assert "Budget of Vlasotince for 2026" in text
    assert "Execution report as of 30 Jun 2026\n" in text
    # 1,401.6 million for 29,893 residents: 46,887 dinars each.
    assert (
        "Of 1,401.6 million dinars planned, 634.1 million dinars (45%) was spent by 30 Jun 2026."
        in text
    )
    assert "That is 46,887 dinars per resident." in text
    assert "• Transport and roads: 159.8 million dinars (11%)" in text
    assert "• Transfers from other levels of government:" in text
    labels = [b.label for row in overview[0].buttons for b in row]
    assert len(labels) == 17 + 1
    assert "Transport and roads (52%)" in labels
    roads = next(
        b.data for row in overview[0].buttons for b in row if b.label.startswith("Transport")
    )
    await bot.play(
        "ana",
        [
            (
                Press(roads),
                [
                    "0701 Transport and roads (2026)",
                    "Of 159.8 million dinars planned, 83.7 million dinars (52%) was spent by"
                    " 30 Jun 2026.",
                    "• Rekonstrukcija Nemanjine ulice (0701-5001): 86.0 million dinars, spent",
                    "[↩️ The whole budget]",
                ],
            ),
            (Press("bud:" + roads.split(":")[1]), ["Budget of Vlasotince for 2026"]),
        ],
    )


async def test_the_budget_in_serbian_latin_and_the_year_before(bot: Bot) -> None:
    await import_file(bot, ADOPTED, DocumentKind.ADOPTED, date(2024, 12, 20), 2025)
    await import_file(bot, SEPTEMBER, DocumentKind.EXECUTION, date(2026, 9, 30), 2026)
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:sr-Latn"))
    overview = await bot.say("ana", Press("menu:budget"))
    text = overview[0].text
    assert "Budžet opštine Vlasotince za 2026. godinu" in text
    assert "U 2025. godini: 1.401,6 miliona dinara." in text
    assert "Saobraćaj i saobraćajna infrastruktura" in text
    roads = next(b.data for row in overview[0].buttons for b in row if b.label.startswith("Saobr"))
    program = (await bot.say("ana", Press(roads)))[0].text
    # The activities' names come from the file in Cyrillic; a Latin reader gets them in Latin.
    assert "Rekonstrukcija Nemanjine ulice (0701-5001)" in program
    assert "U 2025. godini: 159,8 miliona dinara." in program


async def test_buttons_of_versions_and_programs_that_do_not_exist_get_the_hint(bot: Bot) -> None:
    version = await import_file(bot, ADOPTED, DocumentKind.ADOPTED, date(2025, 12, 20), 2026)
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    for data in (f"budp:{version + 1}:0701", f"budp:{version}:9999", "bud:77", "budp:x:0701"):
        replies = await bot.say("ana", Press(data))
        assert replies[0].text == "Please choose one of the options below.", data


async def test_revenue_by_source_in_plain_words_with_what_came_in(bot: Bot) -> None:
    await import_file(bot, ADOPTED, DocumentKind.ADOPTED, date(2025, 12, 20), 2026)
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    adopted = (await bot.say("ana", Press("menu:budget")))[0].text
    # Accounts 711111 and 711120 are one source; 811151 (8xx) is a sale of property.
    assert "• Income taxes: 408.0 million dinars (29%)\n" in adopted
    assert "• Sales of non-financial assets: 5.0 million dinars (0%)\n" in adopted
    await import_file(bot, JUNE, DocumentKind.EXECUTION, date(2026, 6, 30), 2026)
    june = (await bot.say("ana", Press("menu:budget")))[0].text
    revenue = june.split("Revenue by source:\n")[1].split("\n\n")[0].splitlines()
    assert revenue[:2] == [
        "• Transfers from other levels of government: 786.6 million dinars (56%),"
        " collected 348.8 million dinars (44%)",
        "• Income taxes: 408.0 million dinars (29%), collected 127.0 million dinars (31%)",
    ]
    assert len(revenue) == 10
    assert (
        "• Sales of non-financial assets: 5.0 million dinars (0%), collected 2.8 million dinars"
        " (55%)" in revenue
    )


def last_payload(db: Path, chat: str) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT payload FROM outbox WHERE chat_id = ? ORDER BY id DESC LIMIT 1", (chat,)
        ).fetchone()
    finally:
        conn.close()
    payload: dict[str, Any] = json.loads(row[0])
    return payload


async def test_the_overview_and_a_program_are_sent_with_their_charts(
    bot: Bot, settings: Settings
) -> None:
    await import_file(bot, ADOPTED, DocumentKind.ADOPTED, date(2025, 12, 20), 2026)
    await import_file(bot, JUNE, DocumentKind.EXECUTION, date(2026, 6, 30), 2026)
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:sr-Latn"))
    overview = (await bot.say("ana", Press("menu:budget")))[0]
    assert settings.database.exists()
    chart = last_payload(settings.database, "ana")["chart"]
    assert chart["title"] == "Rashodi po programima, 2026. (30. 6. 2026.)"
    assert len(chart["labels"]) == 17
    roads = chart["labels"].index("Saobraćaj i saobraćajna infrastruktura")
    assert (chart["values"][roads], chart["reference"][roads]) == (83.748, 159.8)
    assert chart["value_labels"][roads] == "52%"
    assert chart["legend"] == ["izvršeno", "planirano"]
    # The sender drew it: a PNG sent first among the message's photos, its text still there.
    assert overview.photos[0].startswith("photos/charts/")
    with Image.open(settings.data_dir / overview.photos[0]) as picture:
        assert picture.format == "PNG"
        assert picture.size[0] == round(WIDTH_IN * DPI)
    assert "Saobraćaj i saobraćajna infrastruktura: 159,8 miliona dinara" in overview.text
    data = next(b.data for row in overview.buttons for b in row if b.label.startswith("Saobr"))
    program = (await bot.say("ana", Press(data)))[0]
    chart = last_payload(settings.database, "ana")["chart"]
    assert chart["labels"][0] == "Rekonstrukcija Nemanjine ulice"
    assert chart["value_labels"][0] == "55%"
    assert program.photos[0].startswith("photos/charts/")
