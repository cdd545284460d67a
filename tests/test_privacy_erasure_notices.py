"""/deleteme takes the resident's words out of the messages to staff too (the outbox keeps sent
rows for 90 days): the question to the Centre for Social Work, the contact request with the
household's answers and the first name, a comment on the action plan, and a librarian's list
that quotes the reason given for a suggested title."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.app import build_app
from bot.settings import Settings
from handlers.municipality import Municipality, StaffMember
from tests.conftest import Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.test_library_suggestions import suggest
from tests.test_plan import KATA, data_of, one_plan

RESIDENT = "radojka"
NAME = RESIDENT.title()
QUESTION = 'Moja majka (82) živi sama u Svođu: "može li kućna nega"?\nHvala'
COMMENT = "Kada će izveštaj za drugi kvartal biti objavljen na sajtu?"
REASON = "Moj unuk to čita za lektiru u osnovnoj školi u Lipovici"
HOUSEHOLD = "• Is anyone in the household 65 or older? Yes"


@pytest.fixture
async def bot(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    """The Centre's staff member, the plan's responsible operator and a librarian, in English;
    the resident writes in Serbian (Latin)."""
    assert municipality.social is not None
    guide = replace(municipality.social, centre_staff=(("test", "centre"),))
    staff = (
        StaffMember("test", "boss", "Шеф", "admin", ()),
        KATA,
        StaffMember("test", "vera", "Вера", "librarian", ()),
    )
    m = replace(one_plan(municipality), social=guide, staff=staff)
    channel = CollectingChannel()
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        for user in ("centre", "boss", "kata", "vera"):
            await bot.say(user, "/start")
            await bot.say(user, Press("lang:en"))
        await bot.say(RESIDENT, "/start")
        await bot.say(RESIDENT, Press("lang:sr-Latn"))
        yield bot


async def words_to_staff(bot: Bot) -> None:
    """Each of the resident's messages that reach staff, with what staff received."""
    await bot.say(RESIDENT, "/social")
    await bot.say(RESIDENT, Press(data_of(bot, RESIDENT, "Centar")))
    await bot.say(RESIDENT, QUESTION)
    assert QUESTION in bot.channel.to("centre")[-1].text

    await bot.say(RESIDENT, "/social")
    await bot.say(RESIDENT, Press(data_of(bot, RESIDENT, "Na šta bih")))
    for value in ("1", "yes", "low", "yes", "no"):
        await bot.say(RESIDENT, Press(f"socq:{value}"))
    await bot.say(RESIDENT, Press("socct:ask"))
    await bot.say(RESIDENT, Press("socct:yes"))
    request = bot.channel.to("centre")[-1].text
    assert f"{NAME} asks the Centre to contact them" in request
    assert HOUSEHOLD in request  # in the Centre's language, not as the resident's record

    await bot.say(RESIDENT, Press("menu:plan"))
    await bot.say(RESIDENT, Press(data_of(bot, RESIDENT, "1. ")))
    await bot.say(RESIDENT, Press(data_of(bot, RESIDENT, "1.3.")))
    await bot.say(RESIDENT, Press(data_of(bot, RESIDENT, "Komentar")))
    await bot.say(RESIDENT, COMMENT)
    assert COMMENT in bot.channel.to("kata")[-1].text

    await suggest(bot, RESIDENT, "Seobe", "Miloš Crnjanski", "-", REASON)
    (listed,) = await bot.say("vera", "/library suggestions")
    assert REASON in listed.text


async def outbox_payloads(bot: Bot) -> str:
    rows = await (await bot.app.db.reader.execute("SELECT payload FROM outbox")).fetchall()
    return "\n".join(str(r[0]) for r in rows)


async def test_deleteme_deletes_the_staff_messages_with_the_residents_words(bot: Bot) -> None:
    await words_to_staff(bot)
    await bot.app.sender.drain()  # all sent: the outbox keeps them as sent rows
    before = await outbox_payloads(bot)
    for token in ("Svođu", "Request #", COMMENT, REASON):
        assert token in before, f"{token!r} was never in the outbox: a blind search"
    await bot.say(RESIDENT, "/deleteme")
    told = await bot.say(RESIDENT, Press("erase:yes"))
    assert told
    after = await outbox_payloads(bot)
    for token in ("Svođu", "Request #", HOUSEHOLD, NAME, COMMENT, REASON):
        assert token not in after, f"{token!r} is still in a message to staff"
