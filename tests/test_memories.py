"""The process's caches of encoded and decoded replies may quote a resident (a report's summary,
the staff's notice of it): /deleteme empties them, so that nothing of the resident outlives the
erasure in the running bot's memory either."""

from __future__ import annotations

from bot.dispatcher import _payload_json
from bot.outbox import stored_reply
from handlers import memories
from tests.conftest import Bot, Press, leak_report

DESCRIPTION = "Water is gushing from a pipe on the corner"


async def test_deleteme_empties_every_cache_of_replies(bot: Bot) -> None:
    for item in leak_report():
        await bot.say("ana", item)
    assert any(DESCRIPTION in r.text for r in bot.channel.to("ana"))
    # The summary quoting the resident went through both caches.
    assert _payload_json.cache_info().currsize > 0
    assert stored_reply.cache_info().currsize > 0
    left: list[tuple[int, int]] = []
    # Registered last, it runs after the bot's own forgetters: what is left in them then.
    probe = lambda: left.append(  # noqa: E731 - a probe, not a function of the bot
        (_payload_json.cache_info().currsize, stored_reply.cache_info().currsize)
    )
    memories.forget_on_erasure(probe)
    try:
        await bot.say("ana", "/deleteme")
        assert left == []  # asking is not erasing
        told = await bot.say("ana", Press("erase:yes"))
    finally:
        memories._FORGETTERS.remove(probe)
    assert "Your personal data is erased." in told[0].text
    assert left == [(0, 0)]
