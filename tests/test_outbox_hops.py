"""Calls to the writer's thread per message the outbox sender delivers: a call more fails here.

Each call of an aiosqlite connection is a hop to its thread (tests/test_dispatcher_hops.py). A
message is claimed (marked ``sending``, committed) before its request; its ``sent`` mark waits
for the next claim and goes ahead of it in the same hop, or is written on its own once nothing
more is due.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiosqlite
import pytest

from handlers.events import Reply
from handlers.ports import UnreachableError
from storage import message_refs, outbox
from storage.outbox import NewMessage
from storage.sql import fetch_all
from tests.conftest import Bot, eventually


def count_writer_calls(monkeypatch: pytest.MonkeyPatch, bot: Bot) -> Counter[str]:
    """Count the calls that go to the writer's and the reader's threads."""
    hops: Counter[str] = Counter()
    real = aiosqlite.Connection._execute
    writer = bot.app.db.conn

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops["writer" if self is writer else "reader"] += 1
        return await real(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return hops


async def enqueue(bot: Bot, chat: str, replies: list[Reply]) -> None:
    messages = [NewMessage("test", chat, None, r.to_payload()) for r in replies]
    async with bot.app.db.transaction() as conn:
        await outbox.enqueue(conn, messages, bot.clock.now())


async def statuses(bot: Bot) -> list[str]:
    rows = await fetch_all(bot.app.db.reader, "SELECT status FROM outbox ORDER BY id")
    return [str(r[0]) for r in rows]


async def test_a_message_costs_one_claim_and_its_commit_and_its_sent_mark_no_call(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One chat's messages go one a pass, in order: each pass claims one message. Alone in its
    # batch, the claim is one call (with the BEGIN and the previous message's sent mark) and
    # its COMMIT another; the last sent mark is written on its own (with its COMMIT: one call).
    await enqueue(bot, "ana", [Reply(f"message {i}") for i in range(5)])
    hops = count_writer_calls(monkeypatch, bot)
    await bot.app.sender.drain()
    assert [r.text for r in bot.channel.to("ana")] == [f"message {i}" for i in range(5)]
    assert hops["writer"] == 5 * 2 + 1  # marking sending, then sent, each with its COMMIT: 5 * 4
    assert await statuses(bot) == ["sent"] * 5


async def test_messages_of_several_chats_sent_together_are_claimed_in_one_call(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await enqueue(bot, "ana", [Reply("to ana")])
    await enqueue(bot, "ivan", [Reply("to ivan")])
    await enqueue(bot, "mara", [Reply("to mara")])
    hops = count_writer_calls(monkeypatch, bot)
    await bot.app.sender.drain()
    assert [r.text for _, r in bot.channel.sent] == ["to ana", "to ivan", "to mara"]
    assert hops["writer"] == 2 + 1
    assert await statuses(bot) == ["sent"] * 3


async def test_a_message_edited_in_the_next_pass_edits_the_one_whose_mark_waits(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first message's id is not committed when the second (which edits it) goes out: the
    # sender knows it meanwhile, and stores it with the mark.
    await enqueue(
        bot, "ana", [Reply("Card v1", key="card:1"), Reply("Card v2", key="card:1", edit=True)]
    )
    await bot.app.sender.drain()
    assert [(chat, message_id, r.text) for chat, message_id, r in bot.channel.edits] == [
        ("ana", 0, "Card v2")
    ]
    assert [r.text for r in bot.channel.to("ana")] == ["Card v2"]
    assert await message_refs.find(bot.app.db.reader, "test", "ana", "card:1") == "0"
    assert await statuses(bot) == ["sent", "sent"]


async def test_a_sent_mark_that_waits_is_written_by_close(bot: Bot) -> None:
    """A drain cut short at shutdown leaves marks waiting: ``close`` writes them."""
    await enqueue(bot, "ana", [Reply("one")])
    assert await bot.app.sender.deliver_due() == 1  # a pass; the next one would mark it
    assert await statuses(bot) == ["sending"]
    await bot.app.sender.close()
    assert await statuses(bot) == ["sent"]
    assert await bot.app.sender.recover() == 0  # nothing left to take as delivered


async def test_a_keyed_message_is_marked_at_once_while_the_pass_still_sends(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator's reply to the bot's question is matched to the question's message id in
    the database: it is there as soon as the question went out, not when the slowest send of
    its pass (a photo upload, a timeout) ends."""
    release = asyncio.Event()
    real = bot.channel.send

    async def send(chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        if chat_id == "ana":
            await release.wait()
        return await real(chat_id, reply, edit=edit)

    monkeypatch.setattr(bot.channel, "send", send)
    await enqueue(bot, "ana", [Reply("a slow upload")])
    await enqueue(bot, "-100", [Reply("Send a photo of the fix", key="ask:7")])
    drain = asyncio.create_task(bot.app.sender.drain())
    try:

        async def question_is_known() -> bool:
            found = await message_refs.find(bot.app.db.reader, "test", "-100", "ask:7")
            return found is not None

        await eventually(question_is_known, "the question's message id is committed")
    finally:
        release.set()
        await drain
    assert await statuses(bot) == ["sent", "sent"]


async def test_a_sent_mark_that_cannot_be_written_does_not_stop_the_sender(bot: Bot) -> None:
    """A mark that keeps failing is left (its row was delivered; the next start takes it as
    sent): it must not ride on every later claim and fail them all."""
    await bot.app.db.conn.execute(
        "CREATE TRIGGER broken_mark BEFORE UPDATE OF status ON outbox"
        " WHEN NEW.status = 'sent' AND OLD.id = 1 BEGIN SELECT RAISE(ABORT, 'disk'); END"
    )
    await bot.app.db.conn.commit()
    await enqueue(bot, "ana", [Reply(f"message {i}") for i in range(3)])
    await bot.app.sender.drain()
    assert [r.text for r in bot.channel.to("ana")] == ["message 0", "message 1", "message 2"]
    assert await statuses(bot) == ["sending", "sent", "sent"]


async def test_a_delivered_message_whose_mark_waits_is_not_taken_as_unreachable(bot: Bot) -> None:
    """The chat's next message finds the user blocked the bot: the one before it was delivered
    (its mark could not be written), and neither staff nor the metrics count it unreachable."""
    await bot.app.db.conn.execute(
        "CREATE TRIGGER broken_mark BEFORE UPDATE OF status ON outbox"
        " WHEN NEW.status = 'sent' AND OLD.id = 1 BEGIN SELECT RAISE(ABORT, 'disk'); END"
    )
    await bot.app.db.conn.commit()
    await enqueue(bot, "ana", [Reply("delivered"), Reply("refused")])
    assert await bot.app.sender.deliver_due() == 1  # its mark waits for the next claim
    bot.channel.failures = [UnreachableError()]
    await bot.app.sender.drain()
    assert [r.text for r in bot.channel.to("ana")] == ["delivered"]
    assert await statuses(bot) == ["sending", "unreachable"]
    await bot.app.db.conn.execute("DROP TRIGGER broken_mark")
    await bot.app.db.conn.commit()
    assert await bot.app.sender.recover() == 1  # the next start takes it as delivered
    assert await statuses(bot) == ["sent", "unreachable"]
