"""Residents in the library: new this month by subject, search in either script, hours, events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.library import importing
from tests.conftest import Bot, Press
from tests.library_records import iso2709, unimarc

DRINA = unimarc("На Дрини ћуприја", "Андрић", "Иво", isbn="978-86-521-4023-7")
KIS = unimarc("Rani jadi", "Kiš", "Danilo", udc="821.163.41-93")
ZOMBOR = unimarc("Zombor története", "Kovács", "Anna", udc="908", language="hun")
OLD = unimarc("Стара књига", "Старић", "Стари", udc="821.163.41-31")


async def import_records(bot: Bot, content: bytes) -> None:
    """Import MARC records as the library would, at the bot's current time."""
    async with bot.app.db.transaction() as conn:
        found = await importing.preview(conn, "nove.mrc", content)
        await importing.store(conn, found, bot.clock.now())


async def start(bot: Bot, user: str, language: str = "en") -> None:
    await bot.say(user, "/start")
    await bot.say(user, Press(f"lang:{language}"))


async def test_new_this_month_by_subject_with_catalogue_links(bot: Bot) -> None:
    bot.clock.moment = bot.clock.moment.replace(month=4, day=20)
    await import_records(bot, iso2709(OLD))  # April: not new in May
    bot.clock.moment += timedelta(days=27)  # 17 May
    await import_records(bot, iso2709(DRINA, KIS, ZOMBOR))
    await start(bot, "ana")

    await bot.play(
        "ana",
        [
            (Press("menu:library"), ["📚 Narodna biblioteka Vlasotince", "[🆕 New this month]"]),
            (
                Press("lib:new"),
                [
                    "3 new titles this month. Choose a subject:",
                    "[Children's books (1)]", "[Fiction and poetry (1)]", "[Local history (1)]",
                ],
            ),
            (
                Press("libs:fiction"),
                [
                    "New this month: Fiction and poetry",
                    "📖 На Дрини ћуприја\nИво Андрић\nЛагуна, 2026\n"
                    "🔗 https://plus.cobiss.net/cobiss/sr/sr/bib/search?q=9788652140237",
                ],
            ),
            (
                Press("libs:local_history"),
                ["📖 Zombor története\nAnna Kovács", "Hungarian", "q=Zombor%20t"],
            ),
            (Press("libs:nonsense"), ["Please choose one of the library's options."]),
        ],
    )  # fmt: skip
    replies = await bot.say("ana", Press("libs:fiction"))
    assert "Стара књига" not in replies[0].text


async def test_search_finds_cyrillic_titles_from_latin_words_and_back(bot: Bot) -> None:
    await import_records(bot, iso2709(DRINA, KIS))
    await start(bot, "ana", "sr-Latn")

    await bot.play(
        "ana",
        [
            ("/library", ["📚 Narodna biblioteka Vlasotince"]),
            (Press("lib:search"), ["Napišite naslov ili autora"]),
            ("drini andric", ["Pronađeno:", "📖 На Дрини ћуприја"]),  # stays for the next search
            ("Киш", ["📖 Rani jadi\nDanilo Kiš"]),
            ("100%_", ["Ništa nije pronađeno za „100%_“"]),
            (Press("lib:home"), ["📚 Narodna biblioteka Vlasotince"]),
        ],
    )


async def test_hours_contacts_and_coming_events_from_the_file(bot: Bot) -> None:
    # The file is written in Cyrillic; an English reader gets its texts in Latin script.
    await start(bot, "ana")
    await bot.play(
        "ana",
        [
            (Press("menu:library"), ["📚"]),
            (
                Press("lib:info"),
                [
                    "Open: ponedeljak–petak 7–19, subota 8–13",
                    "📍 Trg oslobođenja 1, Vlasotince", "✉️ biblioteka@vlasotince.example.org",
                ],
            ),
            (
                Press("lib:events"),
                [
                    "Coming library events:\n\n🎭 Čitalački klub: „Na Drini ćuprija“\n"
                    "🕒 14 Jan 2027, 18:00, Čitaonica biblioteke",
                    "🎭 Dečja radionica: ilustrovana priča\n🕒 23 Jan 2027, 11:00, Dečje odeljenje",
                ],
            ),
        ],
    )  # fmt: skip
    bot.clock.moment = bot.clock.moment.replace(year=2027, month=1, day=20)
    replies = await bot.say("ana", Press("lib:events"))
    assert "Čitalački klub" not in replies[0].text
    assert "Dečja radionica" in replies[0].text


async def test_nothing_new_yet_says_so(bot: Bot) -> None:
    await start(bot, "ana", "sr-Cyrl")
    await bot.play(
        "ana",
        [
            (Press("menu:library"), ["📚"]),
            (Press("lib:new"), ["Овог месеца још нису стигли нови наслови."]),
        ],
    )


async def test_words_after_library_are_a_search_not_a_staff_command(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    # A resident who writes what they look for after /library gets the titles, is not told
    # "staff only", and what they wrote is not logged at any level.
    await import_records(bot, iso2709(DRINA, KIS))
    await start(bot, "ana", "sr-Latn")
    caplog.set_level("DEBUG", logger="handlers")
    caplog.set_level("DEBUG", logger="bot")

    await bot.play(
        "ana",
        [
            ("/library Andrić", ["Pronađeno:", "📖 На Дрини ћуприја"]),
            ("Киш", ["📖 Rani jadi\nDanilo Kiš"]),  # the search goes on
            ("/library suggestions", ["Ovo je samo za zaposlene u opštini; ništa nije izmenjeno."]),
            ("/library ?!", ["📚 Narodna biblioteka Vlasotince"]),  # no words: the library
        ],
    )
    assert "Andri" not in caplog.text
