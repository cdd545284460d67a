"""Titles residents miss: suggestions merged and supported, ranked for the librarian, answered to
everyone who asked, and told again when an ordered title arrives; the librarian's role, events and
weekly digest of new suggestions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.flow import Role
from handlers.library import importing
from handlers.municipality import Municipality, StaffMember
from storage.users import User
from tests.conftest import Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

LIBRARIAN = StaffMember("test", "vera", "Вера", "librarian", ())
ADMIN = StaffMember("test", "boss", "Шеф", "admin", ())


@pytest.fixture
async def library_bot(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    m = replace(municipality, staff=(ADMIN, LIBRARIAN))
    channel = CollectingChannel()
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        for user, language in (("vera", "en"), ("ana", "en"), ("ben", "sr-Latn"), ("cara", "en"),
                               ("dan", "en"), ("boss", "en")):  # fmt: skip
            await bot.say(user, "/start")
            await bot.say(user, Press(f"lang:{language}"))
        yield bot


async def run(bot: Bot, job: str) -> int:
    app = bot.app
    written = await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, job))
    await app.sender.drain()
    return written


def last(bot: Bot, user: str) -> str:
    return bot.channel.to(user)[-1].text


async def suggest(bot: Bot, user: str, title: str, author: str, isbn: str, why: str) -> str:
    await bot.say(user, Press("lib:suggest"))
    await bot.say(user, title)
    await bot.say(user, author)
    await bot.say(user, isbn)
    return "\n".join(r.text for r in await bot.say(user, why))


async def test_suggestions_are_merged_supported_and_ranked(library_bot: Bot) -> None:
    bot = library_bot
    await bot.play(
        "ana",
        [
            (Press("menu:library"), ["[💡 Suggest a missing title]"]),
            (Press("lib:suggest"), ["Which title is missing? Write its title."]),
            ("/subscribe", ["Please answer the question as a text message, or /cancel."]),
            ("Сеобе", ["Who wrote it?"]),
            ("Милош Црњански", ["Its ISBN, if you know it (or - to skip)."]),
            ("123", ["That is not a valid ISBN. Write it again, or - to skip."]),
            ("-", ["Why should the library have it? (or - to skip)"]),
            ("Класик који недостаје", ["Thank you! The library will see your suggestion (#1)."]),
        ],
    )
    merged = await suggest(bot, "ben", "Seobe", "Crnjanski, Miloš", "-", "-")
    assert "I drugi su tražili «Сеобе»: sada ga žele 2 građanina." in merged
    again = await suggest(bot, "ana", "Seobe", "Miloš Crnjanski", "-", "-")
    assert "Others asked for «Сеобе» too: 2 residents want it now." in again  # counted once
    assert "(#2)" in await suggest(bot, "dan", "Prokleta avlija", "Ivo Andrić", "-", "Лектира")

    await bot.play(
        "cara",
        [
            (Press("lib:search"), ["Write a title or an author"]),
            (
                "seobe",
                ["Suggested by residents:", "💡 Сеобе — Милош Црњански\n2 want it · suggested",
                 "[👍 I want «Сеобе» too]"],
            ),
            (Press("libsup:1"), ["Counted: 3 residents want «Сеобе»."]),
            (Press("libsup:1"), ["Counted: 3 residents want «Сеобе»."]),  # once each
            (Press("libsup:99"), ["Please write a title or an author as a text message."]),
        ],
    )  # fmt: skip

    refused = await bot.say("cara", "/library suggestions")
    assert refused[0].text == "This is for municipal staff only; nothing was changed."
    (ranked,) = await bot.say("vera", "/library suggestions")
    assert ranked.text.index("#1 Сеобе — Милош Црњански") < ranked.text.index("#2 Prokleta avlija")
    assert "👍 3 want it · suggested\n  “Класик који недостаје”" in ranked.text
    assert "“Лектира”" in ranked.text
    assert (await bot.say("boss", "/library suggestions"))[0].text == ranked.text  # admins too


async def test_answers_reach_everyone_who_asked_and_an_ordered_title_arriving_too(
    library_bot: Bot,
) -> None:
    bot = library_bot
    await suggest(bot, "ana", "Сеобе", "Милош Црњански", "-", "-")
    await suggest(bot, "ben", "Seobe", "Miloš Crnjanski", "-", "-")
    await bot.say("cara", Press("libsup:1"))
    await suggest(bot, "dan", "Prokleta avlija", "Ivo Andrić", "-", "-")

    assert [r.text for r in await bot.say("vera", "/library ordered 1")] == [
        "Answered; 3 residents are told."
    ]
    assert last(bot, "ana") == "The library has ordered «Сеобе»."
    assert last(bot, "ben") == "Biblioteka je naručila «Сеобе»."
    assert last(bot, "cara") == "The library has ordered «Сеобе»."
    assert (await bot.say("vera", "/library ordered 1"))[0].text == (
        "Suggestion #1 was answered already."
    )
    assert "Librarian's commands" in (await bot.say("vera", "/library notplanned 2"))[0].text
    await bot.say("vera", "/library notplanned 2 Нема новог издања")
    assert last(bot, "dan") == (
        "The library does not plan to acquire «Prokleta avlija»: Нема новог издања"
    )
    assert await run(bot, "library-arrivals") == 0  # not in the library yet

    async with bot.app.db.transaction() as conn:
        found = await importing.preview(
            conn, "nove.csv", "naslov;autor\nSeobe;Miloš Crnjanski\n".encode()
        )
        await importing.store(conn, found, bot.clock.now())
    assert await run(bot, "library-arrivals") == 3
    assert await run(bot, "library-arrivals") == 0
    assert last(bot, "ana").startswith("The title you asked for has arrived at the library:")
    assert "📖 Seobe\nMiloš Crnjanski" in last(bot, "cara")
    assert "Naslov koji ste tražili stigao je u biblioteku" in last(bot, "ben")
    assert "The library already has it:" in await suggest(
        bot, "dan", "Сеобе", "Црњански Милош", "-", "-"
    )


async def test_available_tells_everyone_who_asked_with_the_catalogues_link(
    library_bot: Bot,
) -> None:
    bot = library_bot
    await suggest(bot, "ana", "Сеобе", "Милош Црњански", "978-86-521-4023-7", "-")
    await bot.say("ben", Press("menu:library"))
    await bot.say("ben", Press("lib:search"))
    await bot.say("ben", "seobe")
    await bot.say("ben", Press("libsup:1"))
    await suggest(bot, "dan", "Prokleta avlija", "Ivo Andrić", "-", "-")
    await suggest(bot, "cara", "Roman o Londonu", "Miloš Crnjanski", "-", "-")

    told = await bot.say("vera", "/library available 1")
    assert [r.text for r in told] == ["Answered; 2 residents are told."]
    cobiss = "https://plus.cobiss.net/cobiss/sr/sr/bib/search?q=9788652140237"
    assert last(bot, "ana") == f"«Сеобе» is already in the library: {cobiss}"
    assert last(bot, "ben") == f"«Сеобе» već postoji u biblioteci: {cobiss}"
    # Without an ISBN: the catalogue's search for the title and author; or the librarian's link.
    await bot.say("vera", "/library available 2")
    search = (
        "https://plus.cobiss.net/cobiss/sr/sr/bib/search?q=Prokleta%20avlija%20Ivo%20Andri%C4%87"
    )
    assert last(bot, "dan") == f"«Prokleta avlija» is already in the library: {search}"
    await bot.say("vera", "/library available 3 https://biblioteka.example.org/london")
    assert last(bot, "cara") == (
        "«Roman o Londonu» is already in the library: https://biblioteka.example.org/london"
    )
    assert (await bot.say("vera", "/library available 1"))[0].text == (
        "Suggestion #1 was answered already."
    )


async def test_the_librarians_digest_of_new_suggestions_goes_once_a_week(library_bot: Bot) -> None:
    bot = library_bot
    bot.clock.moment = bot.clock.moment.replace(day=18, hour=6)  # Monday 08:00 in Belgrade
    await suggest(bot, "ana", "Сеобе", "Милош Црњански", "-", "-")
    assert await run(bot, "library-suggestions-digest") == 0  # before 09:00 on Monday
    bot.clock.advance(hours=2)
    assert await run(bot, "library-suggestions-digest") == 1
    assert last(bot, "vera").startswith("1 new suggestion this week:\n\n#1 Сеобе")
    await suggest(bot, "ben", "Nova", "Autorka", "-", "-")
    assert await run(bot, "library-suggestions-digest") == 0
    bot.clock.advance(days=7)
    assert await run(bot, "library-suggestions-digest") == 1
    assert "#2 Nova" in last(bot, "vera")


async def test_the_librarian_adds_events_residents_see_them(library_bot: Bot) -> None:
    bot = library_bot
    assert "staff only" in (await bot.say("ana", "/library event 01.06.2026 18:00 | X | Y"))[0].text
    assert (
        "Librarian's commands"
        in (await bot.say("vera", "/library event 01.06.2020 18:00 | X | Y"))[0].text
    )
    (done,) = await bot.say("vera", "/library event 01.06.2026 18:00 | Књижевно вече | Читаоница")
    assert done.text == "The event is in the library's list: Књижевно вече"
    replies = await bot.say("ana", Press("lib:events"))  # an English reader: in Latin script
    assert "🎭 Književno veče\n🕒 1 Jun 2026, 18:00, Čitaonica" in replies[0].text
    assert replies[0].text.index("Književno veče") < replies[0].text.index("Čitalački klub")


def user(role: str) -> User:
    return User(1, "test", "x", "x", "X", "en", role, unreachable=False)


def test_the_librarian_role_admits_librarians_and_admins_only() -> None:
    roles = ("resident", "operator", "librarian", "admin")
    assert [r for r in roles if Role.LIBRARIAN.admits(user(r))] == ["librarian", "admin"]
    assert not Role.OPERATOR.admits(user("librarian"))
    assert not Role.ADMIN.admits(user("librarian"))
