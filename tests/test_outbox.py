"""The outbox sender: retries, waits, blocked users, order per chat."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
import pytest

from bot.outbox import MAX_BACKOFF_S, OutboxSender, SendLimits
from bot.settings import Settings
from handlers.events import Button, Choices, Reply
from handlers.municipality import Municipality
from handlers.ports import PermanentError, RetryAfterError, TemporaryError, UnreachableError
from storage import outbox, users
from storage.clock import parse
from storage.outbox import NewMessage
from storage.sql import fetch_all
from tests.conftest import Bot, Office, Press, eventually, telegram_app
from tests.fakes.ports import FakeGeocoder

Work = Callable[[aiosqlite.Connection], Awaitable[None]]


async def pending(bot: Bot) -> list[tuple[int, str, int]]:
    async with bot.app.db.conn.execute(
        "SELECT id, status, attempts FROM outbox WHERE status != 'sent' ORDER BY id"
    ) as cur:
        return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def test_retry_after_waits_then_delivers(bot: Bot) -> None:
    bot.channel.failures = [RetryAfterError(7)]
    assert await bot.say("ana", "/start") == []
    assert (await pending(bot))[0][1] == "pending"
    bot.clock.advance(seconds=6)
    await bot.app.sender.drain()
    assert bot.channel.to("ana") == []
    bot.clock.advance(seconds=2)
    await bot.app.sender.drain()
    assert "Choose your language" in bot.channel.to("ana")[0].text
    assert await pending(bot) == []


async def test_network_errors_back_off_and_keep_the_order_of_a_chat(bot: Bot) -> None:
    await bot.say("ana", "/start")
    bot.channel.failures = [TemporaryError("connection reset")]
    assert await bot.say("ana", Press("lang:en")) == []  # two replies wait behind the failed one
    bot.clock.advance(seconds=3)
    await bot.app.sender.drain()
    texts = [r.text for r in bot.channel.to("ana")]
    assert texts[1].startswith("Language set")
    assert texts[2].startswith("Welcome")


async def test_a_blocked_user_is_marked_unreachable_and_nothing_more_is_sent(bot: Bot) -> None:
    await bot.say("ana", "/start")
    bot.channel.failures = [UnreachableError()]
    await bot.say("ana", Press("lang:en"))
    conversation = await users.load_conversation(bot.app.db.conn, "test", "ana")
    assert conversation is not None
    assert conversation.user.unreachable
    assert {status for _, status, _ in await pending(bot)} == {"unreachable"}
    assert conversation.user.language == "en"  # the data stays
    # Writing again means the user unblocked the bot: replies flow again.
    replies = await bot.say("ana", "/help")
    assert [r.text.split("\n")[0] for r in replies] == [
        "This bot lets you report communal problems in Vlasotince: potholes, street lights,"
        " garbage, leaks, stray animals and more. Describe the problem, add photos and the"
        " location, and you get a reference number. You will be told about every change.",
        "What would you like to do?",
    ]
    conversation = await users.load_conversation(bot.app.db.conn, "test", "ana")
    assert conversation is not None
    assert not conversation.user.unreachable


async def test_a_message_refused_for_good_does_not_block_the_next(bot: Bot) -> None:
    await bot.say("ana", "/start")
    bot.channel.failures = [PermanentError("message is too long")]
    replies = await bot.say("ana", Press("lang:en"))
    assert [r.text.split(":")[0] for r in replies] == [
        "Welcome to Moja opština, the bot of the municipality of Vlasotince.",
        "Would you like news from the municipality? Choose the topics you want to be told about;"
        " you can change them any time under Notifications.",
    ]
    assert [s for _, s, _ in await pending(bot)] == ["failed"]


async def test_temporary_failures_are_retried_until_they_pass(bot: Bot) -> None:
    bot.channel.failures = [TemporaryError("down")] * 30
    await bot.say("ana", "/start")
    for _ in range(29):
        bot.clock.advance(seconds=751)  # the back-off is capped at 600 s, jitter included 750
        await bot.app.sender.drain()
    assert [(s, a) for _, s, a in await pending(bot)] == [("pending", 30)]
    bot.clock.advance(seconds=751)
    await bot.app.sender.drain()
    assert "Choose your language" in bot.channel.to("ana")[0].text


class HandlerFailedError(Exception):
    """A handler's failure inside a group-commit batch."""


def enqueuing(
    bot: Bot, text: str, fault: str | None = None, passes: list[asyncio.Task[int]] | None = None
) -> Work:
    """A batch work that enqueues one message to ana; ``fault`` makes it fail after that.

    ``raise``: the work raises. ``commit``: it leaves a deferred foreign-key violation (a
    message to a user who does not exist), so the COMMIT of its transaction fails. With
    ``passes``, one pass of the sender runs after the enqueue, while the batch is open.
    """

    async def work(conn: aiosqlite.Connection) -> None:
        user_id = None
        if fault == "commit":
            await conn.execute("PRAGMA defer_foreign_keys = ON")
            user_id = 999_999
        message = NewMessage("test", "ana", user_id, Reply(text).to_payload())
        await outbox.enqueue(conn, [message], bot.clock.now())
        if passes is not None and not passes:  # once: works run again one by one on failure
            passes.append(asyncio.create_task(bot.app.sender.deliver_due()))
            # Reading committed rows only, the pass finds nothing and returns at once; a pass
            # that saw this batch's rows would wait for its marks, which wait for the batch.
            await asyncio.wait(passes, timeout=2)
        if fault == "raise":
            raise HandlerFailedError

    return work


@pytest.mark.parametrize("fault", ["raise", "commit"])
async def test_only_committed_messages_are_delivered_once_each(bot: Bot, fault: str) -> None:
    passes: list[asyncio.Task[int]] = []
    works = [
        enqueuing(bot, "first, committed"),
        enqueuing(bot, "rolled back", fault, passes),
        enqueuing(bot, "second, committed"),
    ]
    results = await asyncio.gather(*(bot.app.db.in_batch(w) for w in works), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], HandlerFailedError | aiosqlite.IntegrityError)
    assert results[2] is None
    await asyncio.gather(*passes)
    await bot.app.sender.drain()

    delivered = [r.text for r in bot.channel.to("ana")]
    assert sorted(delivered) == ["first, committed", "second, committed"]
    rows = await fetch_all(bot.app.db.conn, "SELECT payload, status FROM outbox ORDER BY id")
    assert [(json.loads(p)["text"], s) for p, s in rows] == [
        ("first, committed", "sent"),
        ("second, committed", "sent"),
    ]


async def enqueue_texts(bot: Bot, chat: str, texts: list[str]) -> None:
    messages = [NewMessage("test", chat, None, Reply(t).to_payload()) for t in texts]
    async with bot.app.db.transaction() as conn:
        await outbox.enqueue(conn, messages, bot.clock.now())


async def wait_until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait (at most 5 s) until ``condition`` holds."""
    async with asyncio.timeout(5):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.01)


async def test_a_chat_at_its_rate_limit_does_not_delay_the_others(bot: Bot) -> None:
    group = "-1001000000102"  # 20 messages a minute
    sender = OutboxSender(
        bot.app.db, {"test": bot.channel}, bot.clock, limits=SendLimits({"test": 1000})
    )
    await enqueue_texts(bot, group, [f"alert {i}" for i in range(21)])
    await sender.drain()  # 20 go at once; the 21st would wait for the group's rate
    await enqueue_texts(bot, "ana", ["your reply"])
    await sender.deliver_due()
    assert [r.text for r in bot.channel.to("ana")] == ["your reply"]
    assert len(bot.channel.to(group)) == 20
    (waiting,) = await fetch_all(
        bot.app.db.conn, "SELECT next_attempt_at FROM outbox WHERE status = 'pending'"
    )
    assert parse(waiting[0]) > bot.clock.now()  # put off, in the database


async def test_a_chat_waiting_for_a_retry_does_not_keep_the_sender_busy(bot: Bot) -> None:
    await enqueue_texts(bot, "ana", ["first", "second", "third"])
    bot.channel.failures = [RetryAfterError(20)]
    queries: list[str] = []
    await bot.app.db.reader.set_trace_callback(queries.append)
    task = asyncio.create_task(bot.app.sender.run())

    async def gone_to_sleep() -> bool:
        # After the retry the sender makes one more pass (other chats may be due), then asks
        # when the next row is due and sleeps: only that question ends its work.
        return any(q.startswith("SELECT MIN(next_attempt_at) FROM outbox") for q in queries)

    await wait_until(gone_to_sleep)
    rows = await fetch_all(bot.app.db.reader, "SELECT error FROM outbox WHERE id = 1")
    assert rows[0][0] == "retry_after 20"
    queries.clear()
    # While the loop is busy with 200 statements of ours, a sender that spins would query too.
    for _ in range(200):
        await fetch_all(bot.app.db.conn, "SELECT 1")
    seen = list(queries)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [q for q in seen if "outbox" in q] == []
    assert bot.channel.to("ana") == []


@pytest.mark.parametrize("turns", range(4))
async def test_a_sender_woken_as_it_is_cancelled_stops(bot: Bot, turns: int) -> None:
    # A wake-up that lands with the cancellation (a reply committed as the bot shuts down) must
    # not swallow it: the sender would sleep and pass for ever, and the shutdown wait with it.
    queries: list[str] = []
    await bot.app.db.reader.set_trace_callback(queries.append)
    task = asyncio.create_task(bot.app.sender.run())

    async def gone_to_sleep() -> bool:
        return any(q.startswith("SELECT MIN(next_attempt_at) FROM outbox") for q in queries)

    await wait_until(gone_to_sleep)
    await asyncio.sleep(0.05)  # into its wait for a wake-up
    bot.app.sender.wake()
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done == {task}, "the sender went on after it was cancelled"
    assert task.cancelled()


async def test_a_message_failing_past_the_cap_is_given_up_and_the_admins_are_told(
    office: Office,
) -> None:
    bot = office.bot
    bot.channel.failures_for["ana"] = [TemporaryError("down")] * 3
    await enqueue_texts(bot, "ana", ["first"])
    await bot.app.sender.drain()
    bot.clock.advance(hours=23)
    await enqueue_texts(bot, "ana", ["second"])  # it has not waited as long: it goes on
    await bot.app.sender.drain()  # failing for 23 h: tried again later
    assert bot.channel.to("ana") == []
    bot.clock.advance(hours=1, seconds=1)
    await bot.app.sender.drain()  # past 24 h: given up, and the chat goes on
    assert [r.text for r in bot.channel.to("ana")] == ["second"]
    (alert,) = bot.channel.to("boss")[-1:]
    assert "could not be sent for 24 hours and was given up" in alert.text
    assert "Last error: down" in alert.text
    assert [r.text for r in bot.channel.to("vesna")][-1:] != [alert.text]  # admins only
    rows = await fetch_all(
        bot.app.db.conn, "SELECT status FROM outbox WHERE chat_id = 'ana' ORDER BY id"
    )
    assert [r[0] for r in rows] == ["failed", "sent"]


async def test_a_chat_down_for_a_day_gives_up_what_waited_as_long_in_one_alert(
    office: Office,
) -> None:
    bot = office.bot
    bot.channel.failures_for["ana"] = [TemporaryError("down")] * 1000
    await enqueue_texts(bot, "ana", [f"notice {i}" for i in range(50)])
    await bot.app.sender.drain()
    bot.clock.advance(hours=23)
    await enqueue_texts(bot, "ana", ["fresh"])  # queued an hour before the give-up
    await bot.app.sender.drain()
    bot.clock.advance(hours=1, seconds=1)
    await bot.app.sender.drain()
    alerts = [r.text for r in bot.channel.to("boss") if "given up" in r.text]
    assert alerts == [
        "50 messages to chat ana (test) could not be sent for 24 hours and were given up;"
        " the chat's later messages go on. Last error: down"
    ]
    rows = await fetch_all(
        bot.app.db.conn, "SELECT status FROM outbox WHERE chat_id = 'ana' ORDER BY id"
    )
    assert [r[0] for r in rows] == ["failed"] * 50 + ["pending"]
    bot.channel.failures_for["ana"] = []
    bot.clock.advance(seconds=MAX_BACKOFF_S * 1.25)
    await bot.app.sender.drain()
    assert [r.text for r in bot.channel.to("ana")] == ["fresh"]  # the chat goes on


async def test_a_card_whose_photo_file_is_missing_goes_as_text_and_holds_nothing(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    async with telegram_app(settings, municipality, geocoder) as (fake, app, _):
        card = Reply("Card VLA-2026-00001", photos=("photos/ab/gone.jpg",))
        after = Reply("The next message")
        async with app.db.transaction() as conn:
            await outbox.enqueue(
                conn,
                [NewMessage("telegram", "1001", None, r.to_payload()) for r in (card, after)],
                app.deps.clock.now(),
            )
        await app.sender.drain()
        texts = [m.get("text") for m in fake.sent_messages(1001)]
        assert texts == ["Card VLA-2026-00001", "The next message"]
        assert fake.calls_of("sendPhoto") == []


async def test_a_message_claimed_in_the_batch_of_an_earlier_erasure_never_goes_out(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The claim shares the writer's batch with the dispatcher's events, and a batch runs its
    # works' first statements ahead of them all: the claim ran before the erasure queued ahead
    # of it, and the message went out after the resident's data was erased.
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    await bot.say("ana", "/deleteme")
    await enqueue_texts(bot, "ana", ["Your report was resolved."])  # committed, waiting
    db = bot.app.db
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(conn: aiosqlite.Connection) -> None:
        held.set()
        await release.wait()

    holding = asyncio.create_task(db.in_batch(hold))  # the writer's batch, running
    await held.wait()
    queued: list[object] = []
    real = db.in_batch_reading

    async def recorded(first: Any, work: Any) -> Any:
        queued.append(first)
        return await real(first, work)

    monkeypatch.setattr(db, "in_batch_reading", recorded)
    erasing = asyncio.create_task(bot.app.dispatcher.dispatch(bot.event("ana", Press("erase:yes"))))

    async def waiting(n: int) -> bool:
        return len(queued) == n

    await eventually(lambda: waiting(1), "the erasure waits for the next batch")
    sending = asyncio.create_task(bot.app.sender.deliver_due())
    await eventually(lambda: waiting(2), "the claim waits behind it, in the same batch")
    release.set()
    await asyncio.gather(holding, erasing, sending)
    await bot.app.sender.drain()
    texts = [r.text for r in bot.channel.to("ana")]
    assert "Your report was resolved." not in texts
    assert texts[-1].startswith("Your personal data is erased.")
    rows = await fetch_all(db.reader, "SELECT payload FROM outbox WHERE chat_id = 'ana'")
    kept = [json.loads(r[0])["text"].split(".")[0] for r in rows]
    assert kept == ["Your personal data is erased"]  # the goodbye, until the erasure ends


async def test_a_row_written_by_the_version_before_is_sent_the_same(bot: Bot) -> None:
    # Rows were written with every field, the defaults too; now only what differs is written.
    before = {
        "text": "Choose:", "buttons": [[["Yes", "y:1"], ["No", "y:0"]]], "photos": [],
        "subject": "", "key": "", "edit": False, "done_parts": 0,
    }  # fmt: skip
    reply = Reply("Choose:", Choices(((Button("Yes", "y:1"), Button("No", "y:0")),)))
    assert reply.to_payload() == {"text": "Choose:", "buttons": [[["Yes", "y:1"], ["No", "y:0"]]]}
    messages = [NewMessage("test", "ana", None, p) for p in (before, reply.to_payload())]
    async with bot.app.db.transaction() as conn:
        await outbox.enqueue(conn, messages, bot.clock.now())
    await bot.app.sender.drain()
    assert bot.channel.to("ana") == [reply, reply]
