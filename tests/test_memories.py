"""The process's caches of encoded and decoded replies may quote a resident (a report's summary,
the staff's card of it): once /deleteme is committed nothing of the resident is in them, nor in
the dispatcher's memory of states, and a send pass that read the resident's rows before the
erasure does not put them back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.dispatcher import _payload_json
from bot.outbox import stored_reply
from handlers.events import Reply
from storage import outbox
from tests.conftest import Bot, Office, Press, leak_report

DESCRIPTION = "Water is gushing from a pipe on the corner"


def cached(memo: Callable[[Any], Any], key: object) -> bool:
    """Whether ``memo`` (an lru_cache) holds ``key``: a look-up that is a hit."""
    hits = memo.cache_info().hits  # type: ignore[attr-defined]
    memo(key)
    return bool(memo.cache_info().hits > hits)  # type: ignore[attr-defined]


def summary_of(bot: Bot, user: str) -> Reply:
    """The summary the resident was shown (it quotes their description)."""
    (summary,) = [r for r in bot.channel.to(user) if DESCRIPTION in r.text and r.buttons]
    return summary


async def test_deleteme_leaves_nothing_of_the_resident_in_the_caches_of_replies(bot: Bot) -> None:
    for item in leak_report():
        await bot.say("ana", item)
    summary = summary_of(bot, "ana")
    stored = outbox.encode_payload(summary.to_payload())
    assert cached(_payload_json, summary)  # both caches held it: the probe can tell
    assert cached(stored_reply, stored)
    assert ("test", "ana") in bot.app.dispatcher._states

    await bot.say("ana", "/deleteme")
    told = await bot.say("ana", Press("erase:yes"))
    assert "Your personal data is erased." in told[0].text
    assert not cached(_payload_json, summary)
    assert not cached(stored_reply, stored)
    assert ("test", "ana") not in bot.app.dispatcher._states


async def test_a_send_pass_that_read_the_rows_before_the_erasure_keeps_none_of_them(
    office: Office,
) -> None:
    """The staff's card quoting the description is read for sending; the resident is erased
    before it goes out: the card is not sent, and not kept decoded in memory."""
    app = office.bot.app
    for item in leak_report()[:-1]:
        await office.bot.say("ana", item)
    await app.dispatcher.dispatch(office.bot.event("ana", Press("sum:confirm")))
    read = await outbox.due(app.db.reader, list(app.sender._channels), app.deps.clock.now(), 100)
    cards = [row for row in read if DESCRIPTION in row.stored and row.chat_id != "ana"]
    assert cards, "the staff's card quoting the description waits to be sent"
    await app.dispatcher.dispatch(office.bot.event("ana", "/deleteme"))
    await app.dispatcher.dispatch(office.bot.event("ana", Press("erase:yes")))
    sent_before = len(office.staff_chats.sent) + len(office.mail.sent)
    for row in cards:
        assert not await app.sender._send_first(row)  # its row is gone: nothing goes out
    assert len(office.staff_chats.sent) + len(office.mail.sent) == sent_before
    assert not any(cached(stored_reply, row.stored) for row in cards)
