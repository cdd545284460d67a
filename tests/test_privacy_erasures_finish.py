"""The last step of an erasure (the job `privacy-erasures`) deletes every emptied user row: what
stays of a user (a title they suggested, a librarian's answer) is handed to the anonymous user,
and one row that something still refers to never holds up the others."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.municipality import Municipality, StaffMember
from storage import privacy
from tests.conftest import Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.test_library_suggestions import suggest

LIBRARIAN = StaffMember("test", "vera", "Вера", "librarian", ())
ADMIN = StaffMember("test", "boss", "Шеф", "admin", ())
RESIDENTS = ("vera", "ana", "cara")


@pytest.fixture
async def bot(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    m = replace(municipality, staff=(ADMIN, LIBRARIAN))
    channel = CollectingChannel()
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        for user in (*RESIDENTS, "boss"):
            await bot.say(user, "/start")
            await bot.say(user, Press("lang:en"))
        yield bot


async def erase(bot: Bot, user: str) -> None:
    await bot.say(user, "/deleteme")
    told = await bot.say(user, Press("erase:yes"))
    assert "Your personal data is erased." in told[0].text, user


async def finish(bot: Bot) -> None:
    app = bot.app
    await app.sender.drain()  # the goodbye messages are sent
    await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "privacy-erasures"))


async def user_rows(bot: Bot) -> list[tuple[str, str]]:
    rows = await (
        await bot.app.db.reader.execute("SELECT channel, external_id FROM users")
    ).fetchall()
    return sorted((str(r[0]), str(r[1])) for r in rows)


async def test_a_suggester_and_a_librarian_are_erased_with_everyone_else(bot: Bot) -> None:
    assert "(#1)" in await suggest(bot, "ana", "Сеобе", "Милош Црњански", "-", "Класик")
    await bot.say("vera", "/library ordered 1")  # the librarian answers: answered_by
    for user in RESIDENTS:
        await erase(bot, user)
    await finish(bot)
    assert await user_rows(bot) == [("erased", "anonymous"), ("test", "boss")], (
        "an erased user's row is left (the job failed for everyone)"
    )
    reader = bot.app.db.reader
    kept = await (await reader.execute(
        "SELECT s.title, s.status, u.external_id, a.external_id FROM library_suggestions s"
        " JOIN users u ON u.id = s.user_id JOIN users a ON a.id = s.answered_by"
    )).fetchall()  # fmt: skip
    assert [tuple(r) for r in kept] == [("Сеобе", "ordered", "anonymous", "anonymous")]


async def test_one_row_still_referred_to_does_not_hold_up_the_others(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    # A later feature's column that the erasure does not know of yet points at one of them.
    async with bot.app.db.transaction() as conn:
        await conn.execute(
            "CREATE TABLE later_feature (user_id INTEGER NOT NULL REFERENCES users (id))"
        )
        await conn.execute(
            "INSERT INTO later_feature SELECT id FROM users WHERE external_id = 'ana'"
        )
    for user in RESIDENTS:
        await erase(bot, user)
    caplog.set_level(logging.DEBUG)
    await finish(bot)
    rows = await user_rows(bot)
    assert rows[:2] == [("erased", "anonymous"), ("erased", rows[1][1])]
    assert rows[2:] == [("test", "boss")]  # vera and cara are gone; ana's emptied row stays
    stuck = await (await bot.app.db.reader.execute(
        "SELECT first_name, chat_id FROM users WHERE external_id = ?", (rows[1][1],)
    )).fetchone()  # fmt: skip
    assert stuck is not None
    assert tuple(stuck) == ("", "")
    assert "still referred to" in caplog.text
    for personal in ("ana", "Ana"):
        assert personal not in caplog.text
    # Once the other feature lets go, the next run finishes it.
    async with bot.app.db.transaction() as conn:
        await conn.execute("DELETE FROM later_feature")
        assert await privacy.finish_erasures(conn, bot.clock.now()) == []
    assert await user_rows(bot) == [("erased", "anonymous"), ("test", "boss")]
