"""The notification topics offered once to a new resident, right after the language."""

from __future__ import annotations

from storage import subscriptions
from storage.sql import fetch_one
from tests.conftest import Bot, Press

OFFER = "Would you like news from the municipality?"


async def offered(bot: Bot, user: str) -> list[str]:
    """Open the chat, choose English; the buttons under the last reply."""
    await bot.say(user, "/start")
    replies = await bot.say(user, Press("lang:en"))
    assert replies[0].text == "Language set: English."
    assert replies[1].text.startswith("Welcome to Moja opština")  # with the menu
    assert replies[-1].text.startswith(OFFER)
    return [b.data for row in replies[-1].buttons for b in row]


async def test_the_offer_lists_every_topic_all_and_not_now(bot: Bot) -> None:
    buttons = await offered(bot, "ana")
    assert buttons == [
        "sub:consultations", "sub:budget", "sub:library", "sub:communal", "sub:all", "menu:main",
    ]  # fmt: skip


async def test_a_topic_chosen_there_is_where_the_next_announcement_goes(bot: Bot) -> None:
    await offered(bot, "ana")
    chosen = await bot.say("ana", Press("sub:consultations"))
    assert "You will be told about: Public consultations." in chosen[0].text
    conn = bot.app.db.conn
    row = await fetch_one(conn, "SELECT id FROM users WHERE external_id = ?", ("ana",))
    assert row is not None
    assert await subscriptions.topics_of(conn, int(row[0])) == {"consultations"}
    assert await subscriptions.count_reachable(conn, "consultations") == 1


async def test_all_of_them_turns_every_topic_on(bot: Bot) -> None:
    await offered(bot, "ana")
    await bot.say("ana", Press("sub:all"))
    conn = bot.app.db.conn
    for topic in subscriptions.TOPICS:
        assert await subscriptions.count_reachable(conn, topic) == 1


async def test_not_now_subscribes_to_nothing_and_the_offer_never_comes_back(bot: Bot) -> None:
    await offered(bot, "ana")
    skipped = await bot.say("ana", Press("menu:main"))
    assert skipped[0].text == "What would you like to do?"
    later = [
        *await bot.say("ana", "/start"),
        *await bot.say("ana", "/language"),
        *await bot.say("ana", Press("lang:sr-Latn")),
        # Asked twice, the language question waits on nothing: the choice is a welcome again.
        *await bot.say("ana", "/language"),
        *await bot.say("ana", "/language"),
        *await bot.say("ana", Press("lang:en")),
        *await bot.say("ana", "/start"),
    ]
    assert not any("sub:" in b.data for r in later for row in r.buttons for b in row)
    assert not any(OFFER in r.text for r in later)
    assert await subscriptions.count_reachable(bot.app.db.conn, "consultations") == 0
